# Quick start: `make build EXAM=<id>` and `make test` (ruff, mypy, the suite); both install what is missing.
VENV     := .venv
BIN      := $(VENV)/bin
EXAM     ?=
# TeX Live from Debian: the engine, the LaTeX packages the templates use, latexmk (the benchmark's floor
# runs it; builds run pdflatex themselves); poppler-utils
# (pdftotext for the build's checks, pdftoppm to look at pages); bubblewrap, TeX's sandbox; LuaLaTeX
# (texlive-luatex: luaotfload) with the Noto fonts for the names on named covers (`examgen copies --roster`,
# the overlays alone): Noto Sans for Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari and Thai
# (fonts-noto-core), Noto Sans CJK for Han, kana and Hangul (fonts-noto-cjk); babel's German with the
# German hyphenation patterns (`language: de`; English ones come with texlive-latex-base).
TEX_DEBS := texlive-latex-base texlive-latex-recommended texlive-latex-extra \
            texlive-pictures texlive-fonts-recommended lmodern latexmk poppler-utils bubblewrap \
            texlive-luatex fonts-noto-core fonts-noto-cjk texlive-lang-german
# One file per package the templates load: if kpsewhich finds them all, TeX is complete.
TEX_PROBE := lmodern.sty tikz.sty lastpage.sty adjustbox.sty needspace.sty enumitem.sty helvet.sty \
             preview.sty fontspec.sty luaotfload.sty babel.sty english.ldf ngerman.ldf loadhyph-de-1996.tex
# The overlays' fonts (writers/copies.py: FONTS), one file per package.
FONT_PROBE := /usr/share/fonts/truetype/noto/NotoSans-Bold.ttf /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc
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
	@if ! command -v pdflatex >/dev/null || ! command -v lualatex >/dev/null || ! command -v latexmk >/dev/null \
	    || ! command -v pdftoppm >/dev/null || ! command -v bwrap >/dev/null \
	    || ! kpsewhich $(TEX_PROBE) >/dev/null 2>&1 || ! ls $(FONT_PROBE) >/dev/null 2>&1; then \
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
