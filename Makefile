# Quick start: `make build EXAM=<id>` and `make test` (ruff, mypy, the suite); both install what is missing.
VENV     := .venv
BIN      := $(VENV)/bin
EXAM     ?=
# TeX Live from Debian: the engine, the LaTeX packages the templates use, latexmk (the benchmark's floor
# runs it; builds run pdflatex themselves); poppler-utils
# (pdftotext for the build's checks, pdftoppm to look at pages); bubblewrap, TeX's sandbox; CJK for pdflatex
# with the Arphic GB Song font (Chinese and Japanese names on named covers, `examgen copies --roster`)
# and TeX Live's Korean fonts (Nanum Gothic in Type 1, for Hangul names).
TEX_DEBS := texlive-latex-base texlive-latex-recommended texlive-latex-extra \
            texlive-pictures texlive-fonts-recommended lmodern latexmk poppler-utils bubblewrap \
            latex-cjk-common latex-cjk-chinese-arphic-gbsn00lp texlive-lang-korean
# One file per package the templates load: if kpsewhich finds them all, TeX is complete.
TEX_PROBE := lmodern.sty tikz.sty lastpage.sty adjustbox.sty needspace.sty enumitem.sty helvet.sty \
             CJKutf8.sty c70gbsn.fd c70nanumgt.fd preview.sty
# What the tests use to look at what examgen makes: zbarimg (a QR decoder) reads every copy's QR codes
# back from rendered pages; Debian's chromium loads `examgen serve`'s page (and HTML reports) headless;
# LibreOffice's spreadsheet without a display (soffice, 271 MB installed) opens and saves the marks sheet
# as a grader's spreadsheet does.
TEST_DEBS := zbar-tools chromium libreoffice-calc-nogui

.PHONY: build test bench tex tools venv clean

build: venv tex
	$(BIN)/examgen build $(if $(EXAM),$(EXAM),--all) $(ARGS)

test: venv tex tools
	$(BIN)/ruff check src tests bench exams
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv tex tools
	$(BIN)/python bench/run.py

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null \
	  && python3 -m venv $(VENV); }
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

tex:
	@if ! command -v pdflatex >/dev/null || ! command -v latexmk >/dev/null \
	    || ! command -v pdftoppm >/dev/null || ! command -v bwrap >/dev/null \
	    || ! kpsewhich $(TEX_PROBE) >/dev/null 2>&1; then \
	  echo "Installing TeX Live from Debian packages..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $(TEX_DEBS) >/dev/null; \
	fi

tools:
	@if ! command -v zbarimg >/dev/null || ! command -v chromium >/dev/null || ! command -v soffice >/dev/null; then \
	  echo "Installing zbar-tools, Chromium and LibreOffice Calc from Debian packages..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $(TEST_DEBS) >/dev/null; \
	fi

clean:
	rm -rf build
