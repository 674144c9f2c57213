r"""The figure cache: every TikZ picture is compiled once, and every view includes its page.

TikZ is most of a view's LaTeX time (the 2022 endterm: 22 pictures, about 60 % of a pass),
and each view typesets every picture on each of its passes. Here the pictures a build
needs and the cache lacks are typeset together, one page per picture cropped to it
(``preview``), in one pdflatex pass per batch (two batches on two cores), with the theme's
own preamble, so fonts and sizes are the views'. A picture is known by the hash of its
code as rendered (values and all) under a cache folder that is itself keyed by the theme's
files, the engine and examgen's version: an edited picture is compiled alone, a text edit
compiles none. The views include ``\egpicture{hash}``, which a small file beside each view
maps to its page of a batch PDF; pdfTeX copies a batch's fonts into a view once, however
many of its pages the view shows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from . import __version__
from .cache import engine, sha
from .errors import Collector
from .model.rendered import Latex, RenderedExam
from .outputs import replace_file
from .stages.compile import Job, compile_document
from .theme import Theme

PAGE_SUFFIX = ".page"  # per picture: "<batch file> <page>"
PREVIEW = "\\usepackage[active,tightpage]{preview}\n\\setlength\\PreviewBorder{0pt}\n"


@dataclass(frozen=True)
class Placed:
    """Where a compiled picture is: a page of a batch PDF in the cache."""

    pdf: Path
    page: int


def pictures(rendered: RenderedExam) -> dict[str, str]:
    """Every TikZ picture of both views, by key (a picture that uses ``solution`` may differ)."""
    found: dict[str, str] = {}
    for view in (rendered.student, rendered.solution):
        for problem in view.exam.problems:
            found.update({f.picture: f.tikz for f in problem.figures if f.tikz and f.picture})
    return found


class FigureCache:
    """The compiled pictures of a project under one theme (``build/.figures/<digest>/``)."""

    def __init__(self, build: Path, theme: Theme, preamble: str):
        digest = hashlib.sha256(f"examgen {__version__}\n{engine()}\n{preamble}\n".encode())
        for name, path in sorted(theme.tex_files().items()):
            digest.update(f"{name}\n{sha(path)}\n".encode())
        self.folder = build / ".figures" / digest.hexdigest()[:16]
        self.theme, self.preamble = theme, preamble

    def placed(self, key: str) -> Placed | None:
        try:
            name, page = (self.folder / f"{key}{PAGE_SUFFIX}").read_text().split()
        except (OSError, ValueError):
            return None
        pdf = self.folder / name
        return Placed(pdf, int(page)) if pdf.is_file() else None

    def missing(self, wanted: dict[str, str], force: bool = False) -> dict[str, str]:
        return {key: code for key, code in wanted.items() if force or self.placed(key) is None}

    def compile(self, batch: dict[str, str], out: Collector) -> None:
        """Typeset a batch of pictures, one page each, in one pdflatex pass; then note each page."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"batch-{hashlib.sha256(' '.join(sorted(batch)).encode()).hexdigest()[:24]}"
        with tempfile.TemporaryDirectory(dir=self.folder) as scratch:
            job = Job("figures", Path(scratch), "document")
            for file, path in self.theme.tex_files().items():
                (job.folder / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, job.folder / file)
            body = "".join(f"\\begin{{preview}}\\ignorespaces\n{_marked(code)}\\unskip\\end{{preview}}\n"
                           for code in batch.values())  # the picture's box alone, as a view typesets it
            job.tex.write_text(f"{self.preamble}{PREVIEW}\\begin{{document}}\n{body}\\end{{document}}\n",
                               encoding="utf-8")
            compile_document(job, out, settle=False)
            os.replace(job.pdf, self.folder / f"{name}.pdf")
        for page, key in enumerate(batch, 1):
            replace_file(self.folder / f"{key}{PAGE_SUFFIX}", partial(Path.write_text, data=f"{name}.pdf {page}\n"))


def png(pdf: Path, page: int, dpi: int = 150) -> bytes:
    """A page of a PDF (a compiled picture, an image figure) as PNG, by poppler's pdftoppm: for the
    platforms that show images, not PDFs (exports)."""
    from .errors import EnvironmentProblem, ExportError, Loc

    with tempfile.TemporaryDirectory() as scratch:
        try:
            subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                            str(pdf), f"{scratch}/page"], capture_output=True, check=True)
        except FileNotFoundError:
            raise EnvironmentProblem("pdftoppm not found: install poppler-utils (`make build` installs it)") from None
        except subprocess.CalledProcessError as exc:
            raise ExportError(f"pdftoppm cannot render page {page}: {exc.stderr.decode(errors='replace').strip()}",
                              Loc(pdf)) from None
        return Path(scratch, "page.png").read_bytes()


def _marked(code: str) -> str:
    """A picture's code after its source marker, so TeX's errors in it name its lines."""
    return code.marked() if isinstance(code, Latex) else code


def batches(missing: dict[str, str], count: int) -> list[dict[str, str]]:
    """The missing pictures in at most ``count`` batches of about equal code length (one per core)."""
    parts: list[dict[str, str]] = [{} for _ in range(min(count, len(missing)))]
    sizes = [0] * len(parts)
    for key, code in sorted(missing.items(), key=lambda item: -len(item[1])):
        smallest = sizes.index(min(sizes))
        parts[smallest][key] = code
        sizes[smallest] += len(code)
    return parts


def mapping(placed: Mapping[str, Placed]) -> tuple[str, dict[str, Path]]:
    r"""The file a view inputs to find its pictures (``\egfigure{key}{file}{page}``), and the
    batch PDFs to copy beside it (name in the view's folder -> cache file)."""
    lines, files = [], {}
    for key, where in sorted(placed.items()):
        name = f"figures/{where.pdf.name}"
        files[name] = where.pdf
        lines.append(f"\\egfigure{{{key}}}{{{name}}}{{{where.page}}}\n")
    return "".join(lines), files
