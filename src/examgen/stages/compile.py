r"""Stage 5, compile: a LaTeX source to its PDF with pdflatex (the copies' overlays: lualatex).

pdflatex runs again only while the page references change (the ``.aux`` file):
two passes from clean, since the cover states the page count, one after most
edits. examgen runs the passes itself rather than through latexmk: it already
knows every input of a document by hash, and latexmk's own bookkeeping (reading
the recorder file, hashing every TeX file after each pass) cost about 0.15 s
per document, 7 % of a small exam's LaTeX time.

TeX is contained twice (sandbox/tex.py). A failure is mapped back to the line of
the exam text that caused it through the markers before each piece of the document:
the template writes them before the cover, each problem and part
(``\message{[examgen-source: part 1.2]}% examgen-source: part 1.2 @ file:line``), and
every exam text it prints brings its own (model/rendered.py: ``... @ file:line +3``, the
text's three lines follow). The comment says where a line of the document came from;
the message tells what TeX was typesetting when it failed, which is what counts when it
runs an argument read earlier (a solution in its answer box), names no line at all (an
image it can't read) or runs out of time. TeX goes on past an error, so one run
reports every error (up to MAX_ERRORS); a reference it cannot resolve is an error too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .. import stopping
from ..errors import Collector, CompileError, EnvironmentProblem, ErrorGroup, ExamgenError, Loc, OutputProblem
from ..model.rendered import ANNOUNCEMENT, MARKER
from ..sandbox.bubblewrap import sandbox_works
from ..sandbox.tex import contained, tex_environment

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
LOCATED = re.compile(r"^(?:\./)?([^:\n]+):(\d+): (.*)$", re.M)  # -file-line-error's "file:line: message"
MARKED = re.compile(r"^(.*?)(?: @ (.*):(\d+))?(?: \+(\d+))?$")  # a marker's "WHAT @ FILE:LINE +LINES"
# errors TeX finds while reading a macro's argument, before anything in it runs: where it reads is where it is
READING = ("Runaway argument", "Paragraph ended before", "File ended while scanning")
UNDEFINED_REFERENCE = re.compile(r"^LaTeX Warning: Reference `([^']*)' on page \S+ undefined on input line (\d+)\.",
                                 re.M)
UNFINISHED_PATH = "Did you forget a semicolon?"
# pdfTeX's own write failures (its output file), and TeX's on a file it may write in the document's folder (a
# name with a folder or a leading dot is one kpathsea's paranoid mode refused: the source asked for it)
WRITE_FAILED = re.compile(r"^!\s*pdfTeX error: [^\n]*?\b((?:fwrite|fflush|fputc|putc|fclose)\(\) failed[^\n]*)"
                          r"|I can't write on file `([^./'\n][^/'\n]*)'", re.M)
MAX_ERRORS = 10  # LaTeX errors reported from one run; later ones are mostly the first ones' echoes


@dataclass(frozen=True)
class Job:
    """One LaTeX document to compile in its own folder."""

    name: str
    folder: Path
    kind: str = "view"  # as messages name it: "the student view", "the figures document"
    max_errors: int = MAX_ERRORS  # more where each error is a row of its own (copies' names): TeX stops at 100
    engine: str = "pdflatex"  # or "lualatex" (the copies' overlays: any script, in OpenType fonts)

    @property
    def shown(self) -> str:
        return f"the {self.name} {self.kind}"

    @property
    def view(self) -> str | None:
        """The view this document is, for errors that name it (none for a figures document)."""
        return self.name if self.kind == "view" else None

    @property
    def font_cache(self) -> Path | None:
        """Where luaotfload keeps its font tables (LuaTeX alone loads OpenType fonts)."""
        return self.folder / "texmf-var" if self.engine == "lualatex" else None

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


def latex_command(job: Job) -> list[str]:
    """LaTeX going on past an error, so one run reports them all (its PDF is not used then)."""
    return [job.engine, "-no-shell-escape", "-interaction=nonstopmode", "-file-line-error", job.tex.name]


@dataclass(frozen=True)
class Piece:
    """A marked piece of a generated document: what it is, where its source is, the line of
    its marker, and for an exam text the number of its lines that follow the marker."""

    what: str
    loc: Loc | None
    line: int
    lines: int = 0
    tag: str | None = None
    glued: bool = False  # the marker ends a line of the piece before, which that line still belongs to

    def at(self, line: int) -> Loc | None:
        """The source line of a line of the document: within a text, that line of the text."""
        offset = line - self.line - 1
        if self.loc and self.lines and 0 <= offset < self.lines:
            return self.loc.shifted(offset)
        return self.loc


def pieces(tex_lines: list[str]) -> list[Piece]:
    r"""The marked pieces of a document in order. A marker counts wherever it stands in a line,
    since a theme's block that ends without a newline glues the next marker to its last line
    (``\clearpage% examgen-source: problem 1``)."""
    found = []
    for number, text in enumerate(tex_lines, 1):
        at = text.find(MARKER)
        if at < 0:
            continue
        what, file, line, lines = MARKED.match(text[at + len(MARKER):]).groups()  # type: ignore[union-attr]
        announced = text.rfind(ANNOUNCEMENT, 0, at)
        tag = text[announced + len(ANNOUNCEMENT):at].removesuffix("]}") if announced >= 0 else None
        glued = bool(text[:announced if announced >= 0 else at].strip())
        found.append(Piece(what, Loc(Path(file), int(line)) if file else None, number, int(lines or 0), tag, glued))
    return found


PREAMBLE = Piece("preamble", None, 0)


def source_of(marked: list[Piece], line: int) -> Piece:
    """The piece that wrote line ``line`` of a document: the last marked before it (or on it,
    when the marker starts that line)."""
    return next((piece for piece in reversed(marked) if piece.line < line or (piece.line == line and not piece.glued)),
                PREAMBLE)


def _piece_reached(marked: list[Piece], output: str) -> Piece:
    """The piece TeX last reached, from the progress messages in its output."""
    reached = PROGRESS.findall(output)
    return next((piece for piece in marked if reached and piece.tag == reached[-1]), PREAMBLE)


def _line_in_text(piece: Piece, tex_lines: list[str], context: str) -> Loc | None:
    """The line of a text that holds what TeX's error context shows last (``<argument> ...the
    smallest prime &``): the tokens it had typeset of that text when it failed."""
    shown = re.match(r"<[^>\n]*> (?:\.\.\.)?(.*)", context)
    if not (shown and piece.loc and piece.lines):
        return None
    tail = " ".join(shown.group(1).split()[-4:])  # the last words TeX typeset
    text = "\n".join(tex_lines[piece.line:piece.line + piece.lines])
    flat = re.sub(r"\s+", " ", text)
    at = flat.rfind(tail) if tail else -1
    if at < 0:
        return None
    end = at + len(tail)  # the same characters in the text, counting its line breaks
    position, seen = 0, 0
    while seen < end and position < len(text):
        if not (text[position].isspace() and position and text[position - 1].isspace()):
            seen += 1
        position += 1
    return piece.loc.shifted(text.count("\n", 0, max(position - 1, 0)))


def _located(marked: list[Piece], tex_lines: list[str], line: int, before: str, message: str,
             context: str = "") -> tuple[Piece, Loc | None, int]:
    """The piece at fault for an error at ``line`` of the document, TeX having printed ``before``
    until then (and ``context`` after its message). Where TeX read is where the fault is, unless
    it was running an argument it had read earlier (a sample solution inside its answer box):
    then the last piece it announced, at the line its context shows. Also the line of the
    document to show: that text's line."""
    read = source_of(marked, line)
    reached = _piece_reached(marked, before)
    if reached is not PREAMBLE and reached.line <= read.line and not message.startswith(READING):
        if reached is read and not (context.startswith("<") and _line_in_text(reached, tex_lines, context)):
            return reached, reached.at(line), line  # TeX read the text as it ran it: its line is the line
        loc = _line_in_text(reached, tex_lines, context) or reached.loc
        offset = loc.line - reached.loc.line if loc and reached.loc and loc.line and reached.loc.line else 0
        return reached, loc, reached.line + 1 + offset
    return read, read.at(line), line


def _at_line(job: Job, tex_lines: list[str], line: int, message: str, before: str = "",
             context: str = "") -> CompileError:
    """An error at a line of the generated source, blamed on the piece that wrote the line."""
    if UNFINISHED_PATH in message and line > 1:
        line -= 1  # TikZ notices a path's missing ";" at the next line's command
    piece, loc, line = _located(pieces(tex_lines), tex_lines, line, before, message, context)
    offending = tex_lines[line - 1].strip() if line <= len(tex_lines) else ""
    message = _explained(message, context, offending)
    if len(offending) > SHOWN_LINE:
        offending = offending[:SHOWN_LINE] + " ..."
    return CompileError(f"{message}\n    in {job.shown}, line {line}: {offending}", loc, piece.what, view=job.view)


UNDEFINED_COMMAND = re.compile(r"(\\(?:[A-Za-z@]+|.))\s*$")  # the control sequence TeX's context ends with
# TeX's words for a character a text meant literally, and how to write it
LITERALLY = [("Misplaced alignment tab character &", "write \\& for an ampersand"),
             ("macro parameter character #", "write \\# for a hash sign")]


def _explained(message: str, context: str, offending: str) -> str:
    """TeX's message with what it means for a text: the command it did not know, by name (the last
    one its context shows); how to write a character that TeX reads as markup."""
    if message.endswith("Undefined control sequence."):
        command = UNDEFINED_COMMAND.search(context.split("\n", 1)[0])
        if command:
            return (f"{message.rstrip('.')} {command.group(1)}: a typo, or a command of a package the theme "
                    "does not load")
    for words, hint in LITERALLY:
        if words in message:
            return f"{message.rstrip('.')}: {hint}"
    if message.endswith("Missing $ inserted.") and re.search(r"(?<!\\)[_^]", offending):
        return (f"{message.rstrip('.')}: a _ or ^ outside math; write \\_ for an underscore, or put the formula "
                "in math ($x_1$)")
    return message


def _too_long(job: Job, tex_lines: list[str], buffer: int) -> CompileError:
    """TeX's "Unable to read an entire line": the first line its buffer can't hold (less the
    little the buffer holds besides it), or else the longest."""
    lengths = [len(text.encode("utf-8")) for text in tex_lines]
    line = next((n for n, length in enumerate(lengths, 1) if length >= buffer - BUFFER_SLACK),
                max(range(1, len(lengths) + 1), key=lambda n: lengths[n - 1]))
    return _at_line(job, tex_lines, line, f"LaTeX error: a line of this text is {lengths[line - 1]:,} bytes long, "
                    f"too long for TeX's line buffer ({buffer:,} bytes): break it into shorter lines")


def _one(errors: list[ExamgenError], most: int = MAX_ERRORS) -> ExamgenError:
    """The errors of a run, the same one reported once (as TeX repeats an error of a text the
    document typesets twice), at most ``most``."""
    unique = list({str(error): error for error in errors}.values())[:most]
    return ErrorGroup.of(unique)


def _located_errors(job: Job, log: str, tex_lines: list[str]) -> list[ExamgenError]:
    """Every error TeX located in the document, each blamed on its piece."""
    bangs = [m.group(1) for m in re.finditer(r"^! (.*)$", log, re.M)]
    errors: list[ExamgenError] = []
    for match in LOCATED.finditer(log):
        file, line, message = match.groups()
        if file != job.tex.name:
            continue
        if message.strip().startswith(("Emergency stop", "==> Fatal error")):
            if errors:
                continue  # TeX giving up after the errors above
            message = bangs[-1] if bangs else message  # the cause, e.g. a file TeX may not read
        context = log[match.end():match.end() + 1000].lstrip("\n").split("\n", 1)[0]
        errors.append(_at_line(job, tex_lines, int(line), f"LaTeX error: {message.removeprefix('LaTeX Error: ')}",
                               log[:match.start()], context))
    return errors


def _failure(job: Job, output: str) -> ExamgenError:
    """What went wrong, from TeX's log and its output, named after the pieces of the exam at fault; a file
    TeX could not write (a full or read-only disk) is the folder's problem, whatever TeX was typesetting."""
    log = job.log.read_text(encoding="utf-8", errors="replace") if job.log.exists() else output
    everything = f"{log}\n{output}"
    unwritten = WRITE_FAILED.search(everything)
    if unwritten:
        failed, file = unwritten.groups()
        cause = f"pdfTeX's {failed}" if failed else f"TeX could not open {file}"
        return OutputProblem(f"cannot write {job.shown} here: {cause}; is the disk full or read-only?",
                             Loc(job.folder))
    tex_lines = job.tex.read_text(encoding="utf-8").splitlines()
    too_long = TOO_LONG.search(everything)
    if too_long:
        return _too_long(job, tex_lines, int(too_long.group(1)))
    errors = _located_errors(job, log, tex_lines)
    if errors:
        return _one(errors, job.max_errors)
    reached = _piece_reached(pieces(tex_lines), everything)  # TeX names no line of the source: where it had got to
    what, loc = reached.what, reached.loc
    image = UNREADABLE_IMAGE.search(everything)
    if image:
        name, reason = image.groups()
        detail = IMAGE_LIBRARY_ERROR.search(everything)
        reason += f"; {detail.group(0)}" if detail else ""
        message = (f"LaTeX error: pdfTeX can't read the image {name} ({reason}): is the file really the kind of "
                   "image its name says (PNG, JPEG, PDF)?")
        line = next((n for n, text in enumerate(tex_lines, 1) if f"{{{name}}}" in text), None)
        return _at_line(job, tex_lines, line, message) if line else CompileError(message, loc, what)
    located = LOCATED.search(log)
    if located:
        return CompileError(f"LaTeX error in {job.shown}: {located.group(3)} "
                            f"({located.group(1)}, line {located.group(2)})", loc, what, view=job.view)
    bang = re.search(r"^! (.*)$", log, re.M)
    if bang:
        return CompileError(f"LaTeX error in {job.shown}: {bang.group(1)}", loc, what, view=job.view)
    tail = "\n".join(output.strip().splitlines()[-5:])
    return CompileError(f"LaTeX failed ({job.shown}):\n{tail}", loc, what, view=job.view)


def _undefined_references(job: Job, log: str) -> None:
    """A reference LaTeX could not resolve prints "??": an error, named after its part."""
    tex_lines = job.tex.read_text(encoding="utf-8").splitlines()
    errors: list[ExamgenError] = [
        _at_line(job, tex_lines, int(match.group(2)),
                 f"LaTeX error: the reference '{match.group(1)}' is undefined, it would print as '??' "
                 "(refer to a figure or table with a caption as << ref('its-id') >>)", log[:match.start()])
        for match in UNDEFINED_REFERENCE.finditer(log)]
    if errors:
        raise _one(errors)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def compile_document(job: Job, out: Collector, settle: bool = True) -> str:
    """Run pdflatex until the ``.aux`` file stops changing (once, unless ``settle``: a document
    without page references); returns the last pass's log.

    TeX runs in its sandbox (sandbox/tex.py); where bubblewrap cannot make one, a warning
    says so and kpathsea's paranoid mode alone limits what TeX reads and writes.
    """
    if not shutil.which(job.engine):
        raise EnvironmentProblem(f"{job.engine} not found: install TeX Live (`make build` installs it)")
    command = latex_command(job)
    if sandbox_works():
        command = contained(command, job.folder)
    else:
        out.warn("TeX runs without its filesystem sandbox: bubblewrap (bwrap) is missing or may not create "
                 "namespaces here; only kpathsea's paranoid mode limits its file access")
    job.pdf.unlink(missing_ok=True)  # a pass that ships no page must not leave the last build's PDF looking new
    deadline = time.monotonic() + TIMEOUT_SECONDS
    for _ in range(MAX_PASSES):
        stopping.current().check()  # a stop ends the document here: no pass starts after it
        references = _read_bytes(job.aux)
        try:
            result = subprocess.run(command, cwd=job.folder, env=tex_environment(job.font_cache),
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                                    timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired as timeout:
            printed = timeout.stdout or b""  # what TeX printed until then (bytes, whatever ``text`` says)
            reached = _piece_reached(pieces(job.tex.read_text(encoding="utf-8").splitlines()),
                                     printed.decode(errors="replace") if isinstance(printed, bytes) else printed)
            raise CompileError(f"LaTeX did not finish within {TIMEOUT_SECONDS} s in {job.shown}: it was "
                               f"still at {reached.what} (a macro that never ends?)", reached.loc,
                               reached.what, view=job.view) from None
        if result.returncode != 0 or not job.pdf.exists():
            raise _failure(job, result.stdout + result.stderr)
        log = job.log.read_text(encoding="utf-8", errors="replace")
        if not settle:
            return log
        if _read_bytes(job.aux) == references and not RERUN.search(log):
            _undefined_references(job, log)
            return log
    raise CompileError(f"the page references of {job.shown} did not settle after {MAX_PASSES} "
                       "LaTeX passes: something in the document changes with every pass", view=job.view)


def layout_reports(log: str, kind: str) -> list[tuple[str, float]]:
    """Parts the templates reported in the log (``examgen-overflow``: a solution taller than its
    answer space; ``examgen-tall``: a part taller than a page), with the height in cm."""
    return [(m.group(1), float(m.group(2)) / PT_PER_CM) for m in re.finditer(
        rf"^examgen-{kind}: part (\S+) (?:needs|is) ([0-9.]+)pt", log, re.M)]
