r"""Stage 5, compile: a LaTeX source to its PDF with pdflatex.

pdflatex runs again only while the page references change (the ``.aux`` file):
two passes from clean, since the cover states the page count, one after most
edits. examgen runs the passes itself rather than through latexmk: it already
knows every input of a document by hash, and latexmk's own bookkeeping (reading
the recorder file, hashing every TeX file after each pass) cost about 0.15 s
per document, 7 % of a small exam's LaTeX time.

TeX is contained twice (sandbox/tex.py). A failure is mapped back to the part
whose text caused it through the markers the template writes before each piece
(cover, problem, part): ``\message{[examgen-source: part 1.2]}% examgen-source:
part 1.2 @ file:line``. The comment says where a line of the source came from; the
message tells where TeX was when it failed without naming a line (an image it can't
read, a line too long for its buffer) or ran out of time.
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
ANNOUNCEMENT = "\\message{[examgen-source: "  # how a marker line starts: TeX prints where it is
PROGRESS = re.compile(r"\[examgen-source: ([^\]]+)\]")  # ... as "[examgen-source: part 1.2]"
TOO_LONG = re.compile(r"! Unable to read an entire line---bufsize=(\d+)")  # web2c's words, on stderr
UNREADABLE_IMAGE = re.compile(r"!\s*pdfTeX error: [^(\n]*\(file (?:\./)?([^)\n]+)\): (.*)")
IMAGE_LIBRARY_ERROR = re.compile(r"^(?:libpng|jpeg|pdf) error: .*$", re.M | re.I)  # the image library's own
TIMEOUT_SECONDS = 300  # for all passes of a document
MAX_PASSES = 5  # references that still change after this many passes never settle
RERUN = re.compile(r"^(?:LaTeX|Package \S+) Warning: .*Rerun", re.M)  # a package asking for a pass the .aux misses
PT_PER_CM = 72.27 / 2.54  # TeX points
BUFFER_SLACK = 100  # what TeX's line buffer holds besides the line it reads (the command line)
SHOWN_LINE = 160  # characters of an offending line shown in a message


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


def _marker(text: str) -> tuple[str, Loc | None]:
    """The piece a marker comment names, and where it comes from."""
    what, _, where = text.partition(" @ ")
    file, _, number = where.rpartition(":")
    return what, Loc(Path(file), int(number)) if where and number.isdigit() else None


def source_of(tex_lines: list[str], line: int) -> tuple[str, Loc | None]:
    r"""The part (or other piece) that produced line ``line`` of a generated source. A marker
    counts wherever it stands in a line, since a theme's block that ends without a newline
    glues the next marker to its last line (``\clearpage% examgen-source: problem 1``); what
    stands before it on its own line is still the piece before."""
    for number in range(min(line, len(tex_lines)), 0, -1):
        text = tex_lines[number - 1]
        at = text.find(MARKER)
        if at >= 0 and (number < line or text.startswith(ANNOUNCEMENT) or not text[:at].strip()):
            return _marker(text[at + len(MARKER):])
    return "preamble", None


def _piece_reached(tex_lines: list[str], output: str) -> tuple[str, Loc | None]:
    """The piece TeX last reached, from the progress messages in its output."""
    reached = PROGRESS.findall(output)
    for text in tex_lines if reached else []:
        at = text.find(MARKER)
        if at >= 0 and _marker(text[at + len(MARKER):])[0] == reached[-1]:
            return _marker(text[at + len(MARKER):])
    return "preamble", None


def _at_line(job: Job, tex_lines: list[str], line: int, message: str) -> CompileError:
    """An error at a line of the generated source, blamed on the piece that wrote the line."""
    what, loc = source_of(tex_lines, line)
    offending = tex_lines[line - 1].strip() if line <= len(tex_lines) else ""
    if len(offending) > SHOWN_LINE:
        offending = offending[:SHOWN_LINE] + " ..."
    return CompileError(f"{message}\n    in the {job.name} view, line {line}: {offending}", loc, what)


def _too_long(job: Job, tex_lines: list[str], buffer: int) -> CompileError:
    """TeX's "Unable to read an entire line": the first line its buffer can't hold (less the
    little the buffer holds besides it), or else the longest."""
    lengths = [len(text.encode("utf-8")) for text in tex_lines]
    line = next((n for n, length in enumerate(lengths, 1) if length >= buffer - BUFFER_SLACK),
                max(range(1, len(lengths) + 1), key=lambda n: lengths[n - 1]))
    return _at_line(job, tex_lines, line, f"LaTeX error: a line of this text is {lengths[line - 1]:,} bytes long, "
                    f"too long for TeX's line buffer ({buffer:,} bytes): break it into shorter lines")


def _failure(job: Job, output: str) -> CompileError:
    """What went wrong, from TeX's log and its output, named after the piece of the exam at fault."""
    log = job.log.read_text(encoding="utf-8", errors="replace") if job.log.exists() else output
    everything = f"{log}\n{output}"
    tex_lines = job.tex.read_text(encoding="utf-8").splitlines()
    located = re.search(r"^(?:\./)?([^:\n]+):(\d+): (.*)$", log, re.M)
    bang = re.search(r"^! (.*)$", log, re.M)
    if located and located.group(1) == job.tex.name:
        message = located.group(3)
        if message.startswith("Emergency stop") and bang:
            message = bang.group(1)  # the cause, e.g. a file TeX may not read
        return _at_line(job, tex_lines, int(located.group(2)), f"LaTeX error: {message.removeprefix('LaTeX Error: ')}")
    too_long = TOO_LONG.search(everything)
    if too_long:
        return _too_long(job, tex_lines, int(too_long.group(1)))
    what, loc = _piece_reached(tex_lines, everything)  # TeX names no line of the source: where it had got to
    image = UNREADABLE_IMAGE.search(everything)
    if image:
        name, reason = image.groups()
        detail = IMAGE_LIBRARY_ERROR.search(everything)
        reason += f"; {detail.group(0)}" if detail else ""
        message = (f"LaTeX error: pdfTeX can't read the image {name} ({reason}): is the file really the kind of "
                   "image its name says (PNG, JPEG, PDF)?")
        line = next((n for n, text in enumerate(tex_lines, 1) if f"{{{name}}}" in text), None)
        return _at_line(job, tex_lines, line, message) if line else CompileError(message, loc, what)
    if located:
        return CompileError(f"LaTeX error in the {job.name} view: {located.group(3)} "
                            f"({located.group(1)}, line {located.group(2)})", loc, what)
    if bang:
        return CompileError(f"LaTeX error in the {job.name} view: {bang.group(1)}", loc, what)
    tail = "\n".join(output.strip().splitlines()[-5:])
    return CompileError(f"LaTeX failed ({job.name} view):\n{tail}", loc, what)


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
        except subprocess.TimeoutExpired as timeout:
            printed = timeout.stdout or b""  # what TeX printed until then (bytes, whatever ``text`` says)
            what, loc = _piece_reached(job.tex.read_text(encoding="utf-8").splitlines(),
                                       printed.decode(errors="replace") if isinstance(printed, bytes) else printed)
            raise CompileError(f"LaTeX did not finish within {TIMEOUT_SECONDS} s in the {job.name} view: it was "
                               f"still at {what} (a macro that never ends?)", loc, what) from None
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
