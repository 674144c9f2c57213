"""Stage 5, compile: a LaTeX source to its PDF with pdflatex.

pdflatex runs again only while the page references change (the ``.aux`` file):
two passes from clean, since the cover states the page count, one after most
edits. examgen runs the passes itself rather than through latexmk: it already
knows every input of a document by hash, and latexmk's own bookkeeping (reading
the recorder file, hashing every TeX file after each pass) cost about 0.15 s
per document, 7 % of a small exam's LaTeX time.

TeX is contained twice (sandbox/tex.py). A failure is mapped back to the part
whose text caused it through the ``% examgen-source:`` markers in the source.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import Collector, CompileError, EnvironmentProblem, Loc
from ..sandbox.bubblewrap import sandbox_works
from ..sandbox.tex import contained, tex_environment

MARKER = "% examgen-source: "
TIMEOUT_SECONDS = 300  # for all passes of a document
MAX_PASSES = 5  # references that still change after this many passes never settle
RERUN = re.compile(r"^(?:LaTeX|Package \S+) Warning: .*Rerun", re.M)  # a package asking for a pass the .aux misses
PT_PER_CM = 72.27 / 2.54  # TeX points


@dataclass(frozen=True)
class Job:
    """One LaTeX document to compile in its own folder."""

    name: str
    folder: Path

    @property
    def tex(self) -> Path:
        return self.folder / f"{self.name}.tex"

    @property
    def pdf(self) -> Path:
        return self.folder / f"{self.name}.pdf"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def aux(self) -> Path:
        return self.folder / f"{self.name}.aux"


def pdflatex_command(job: Job) -> list[str]:
    return ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
            job.tex.name]


def source_of(tex_lines: list[str], line: int) -> tuple[str, Loc | None]:
    """The part (or other piece) that produced line ``line`` of a generated source."""
    for text in reversed(tex_lines[:line]):
        if text.startswith(MARKER):
            what, _, where = text[len(MARKER):].partition(" @ ")
            if where:
                file, _, number = where.rpartition(":")
                return what, Loc(Path(file), int(number))
            return what, None
    return "preamble", None


def _failure(job: Job, output: str) -> CompileError:
    log = job.log.read_text(encoding="utf-8", errors="replace") if job.log.exists() else output
    located = re.search(r"^(?:\./)?([^:\n]+):(\d+): (.*)$", log, re.M)
    bang = re.search(r"^! (.*)$", log, re.M)
    if located and located.group(1) == job.tex.name:
        line, message = int(located.group(2)), located.group(3)
        if message.startswith("Emergency stop") and bang:
            message = bang.group(1)  # the cause, e.g. a file TeX may not read
        message = message.removeprefix("LaTeX Error: ")
        tex_lines = job.tex.read_text(encoding="utf-8").splitlines()
        what, loc = source_of(tex_lines, line)
        offending = tex_lines[line - 1].strip() if line <= len(tex_lines) else ""
        return CompileError(f"LaTeX error: {message}\n    in the {job.name} view, line {line}: {offending}", loc, what)
    if located:
        return CompileError(f"LaTeX error in the {job.name} view: {located.group(3)} "
                            f"({located.group(1)}, line {located.group(2)})")
    if bang:
        return CompileError(f"LaTeX error in the {job.name} view: {bang.group(1)}")
    tail = "\n".join(output.strip().splitlines()[-5:])
    return CompileError(f"LaTeX failed ({job.name} view):\n{tail}")


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def compile_document(job: Job, out: Collector) -> str:
    """Run pdflatex until the ``.aux`` file stops changing; returns the last pass's log.

    TeX runs in its sandbox (sandbox/tex.py); where bubblewrap cannot make one, a warning
    says so and kpathsea's paranoid mode alone limits what TeX reads and writes.
    """
    if not shutil.which("pdflatex"):
        raise EnvironmentProblem("pdflatex not found: install TeX Live (`make build` installs it)")
    command = pdflatex_command(job)
    if sandbox_works():
        command = contained(command, job.folder)
    else:
        out.warn("TeX runs without its filesystem sandbox: bubblewrap (bwrap) is missing or may not create "
                 "namespaces here; only kpathsea's paranoid mode limits its file access")
    job.pdf.unlink(missing_ok=True)  # a pass that ships no page must not leave the last build's PDF looking new
    deadline = time.monotonic() + TIMEOUT_SECONDS
    for _ in range(MAX_PASSES):
        references = _read_bytes(job.aux)
        try:
            result = subprocess.run(command, cwd=job.folder, env=tex_environment(), stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, errors="replace",
                                    timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            raise CompileError(f"LaTeX did not finish within {TIMEOUT_SECONDS} s ({job.name} view)") from None
        if result.returncode != 0 or not job.pdf.exists():
            raise _failure(job, result.stdout + result.stderr)
        log = job.log.read_text(encoding="utf-8", errors="replace")
        if _read_bytes(job.aux) == references and not RERUN.search(log):
            return log
    raise CompileError(f"the page references of the {job.name} view did not settle after {MAX_PASSES} "
                       "LaTeX passes: something in the document changes with every pass")


def layout_reports(log: str, kind: str) -> list[tuple[str, float]]:
    """Parts the templates reported in the log (``examgen-overflow``: a solution taller than its
    answer space; ``examgen-tall``: a part taller than a page), with the height in cm."""
    return [(m.group(1), float(m.group(2)) / PT_PER_CM) for m in re.finditer(
        rf"^examgen-{kind}: part (\S+) (?:needs|is) ([0-9.]+)pt", log, re.M)]
