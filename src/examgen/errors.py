"""One error hierarchy, with messages that point at the place to fix.

Every message reads ``file:line: context: what is wrong``; the CLI prints it
and exits with the class's exit code (documented in the README).
"""

from __future__ import annotations

import os
import signal
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

UNFIT_IN_NAMES = ("Cc", "Cs")  # control characters; surrogates: the bytes of a file name that are not UTF-8


def printable(text: str) -> str:
    """Text fit for a terminal line: a file name's bytes that are not UTF-8 (held as surrogates)
    shown as ``\\xff``, control characters (a newline) as their escapes."""

    def shown(char: str) -> str:
        if unicodedata.category(char) not in UNFIT_IN_NAMES:
            return char
        if 0xDC80 <= ord(char) <= 0xDCFF:  # os.fsdecode's stand-in for an undecodable byte
            return f"\\x{ord(char) - 0xDC00:02x}"
        return repr(char)[1:-1]

    return "".join(map(shown, text))


@dataclass(frozen=True)
class Loc:
    """Where a record came from: a source file and a 1-based line (and column, where known)."""

    file: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        try:
            shown = os.path.relpath(self.file)
        except ValueError:
            shown = str(self.file)
        if shown.startswith(".." + os.sep + ".."):
            shown = str(self.file)
        shown = printable(shown)
        if self.line and self.column:
            return f"{shown}:{self.line}:{self.column}"
        return f"{shown}:{self.line}" if self.line else shown

    def shifted(self, lines: int) -> Loc:
        """The location ``lines`` further down the same file."""
        return Loc(self.file, (self.line or 1) + lines)


def describe(message: str, loc: Loc | None = None, context: str | None = None) -> str:
    return ": ".join(str(p) for p in (loc, context, message) if p)


NAMED_AT_MOST = 8  # a list of variants, documents or files longer than this is shown by its ends and its count


def briefly(names: Sequence[str], joiner: str = ", ") -> str:
    """Names as a line shows them: all of a few; of many, the first ones, the last and how many (a
    build of 100 variants names 200 views)."""
    if len(names) <= NAMED_AT_MOST:
        return joiner.join(names)
    return f"{joiner.join(names[:NAMED_AT_MOST - 2])}{joiner}…{joiner}{names[-1]} ({len(names)} in all)"


def all_named(labels: Sequence[str]) -> str:
    """Variants as messages name them: "variant A, seeds 4, 17" (a number is a seed: of `examgen verify`,
    or a copy's under ``per-copy``)."""
    seeds = [label for label in labels if label.isdigit()]
    names = [label for label in labels if not label.isdigit()]
    kinds = [(f"variant{'s' * (len(names) > 1)} ", names), (f"seed{'s' * (len(seeds) > 1)} ", seeds)]
    return ", ".join(kind + briefly(some) for kind, some in kinds if some)


def in_variants(context: str | None, labels: Sequence[str]) -> str | None:
    """A message's context, with the variants it happened in."""
    if not labels:
        return context
    return f"{context} ({all_named(labels)})" if context else all_named(labels)


class ExamgenError(Exception):
    """Base of every error examgen reports to a person."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, loc: Loc | None = None, context: str | None = None, *,
                 variants: tuple[str, ...] = (), view: str | None = None):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.context = context
        self.variants = variants  # the variants (or seeds) it happened in; none: every variant, or no variants
        self.view = view  # the view (student, solution) whose document it happened in, which the message names

    def __str__(self) -> str:
        return describe(self.message, self.loc, in_variants(self.context, self.variants))

    @property
    def problems(self) -> list[ExamgenError]:
        return [self]

    @property
    def identity(self) -> tuple:
        """What makes two errors the same problem: one that both views meet, or both variants, is one."""
        first = self.message.split("\n")[0]  # the lines below say where in the generated document
        if self.view:
            first = first.replace(f"the {self.view} view", "the view")
        return type(self), self.loc, self.context, first


class SourceError(ExamgenError):
    """The YAML sources are unreadable or invalid."""

    exit_code = 2


class ComputeError(ExamgenError):
    """A compute block or a template expression failed."""

    exit_code = 3


class CompileError(ExamgenError):
    """LaTeX failed to turn the generated source into a PDF."""

    exit_code = 4


class CheckError(ExamgenError):
    """The PDFs were produced but contradict the exam (page count, leaks)."""

    exit_code = 5


class EnvironmentProblem(ExamgenError):
    """A tool examgen needs (pdflatex, latexmk) is missing, or ``$EXAMGEN_TEMPLATES`` names no folder."""

    exit_code = 6


class ExportError(ExamgenError):
    """The exam cannot be exported to a format as it is: a text the HTML converter cannot read, a
    part the platform cannot grade, a build whose copies are missing."""

    exit_code = 8


class VerifyError(ExamgenError):
    """`examgen verify` found variants that must not be printed: a failing or degenerate draw,
    options that print alike, correct options that land unevenly, a solution PDF without its key's
    numbers (docs/variants.md)."""

    exit_code = 9


class ScanError(ExamgenError):
    """`examgen scan` cannot read its inputs as they are: a file that is not a PDF or an image, an
    encrypted PDF, a scan of another exam, a copies folder the scan does not match
    (docs/scanning.md). The place is the file and, where it is one page's, ``page N``."""

    exit_code = 10


class MarkingError(ExamgenError):
    """`examgen mark` cannot start or export as asked: no scan to mark, a store it cannot open, no
    account where one is needed, a host or port it cannot serve on (docs/marking.md)."""

    exit_code = 11


class StrictWarning(ExamgenError):
    """A warning, which ``--strict`` (for CI) makes an error: nothing is installed."""

    exit_code = 7


class OutputProblem(ExamgenError):
    """The outputs or the build folder cannot be written where they go (read-only, full, not a
    folder examgen may use); sysexits' EX_CANTCREAT."""

    exit_code = 73


class Interrupted(ExamgenError):
    """SIGINT or SIGTERM stopped the run: its exit code is the shell's for that signal (130, 143)."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}: stopped at once, installing nothing more")
        self.exit_code = 128 + signum


class ErrorGroup(ExamgenError):
    """Several problems found in one run, reported together."""

    def __init__(self, errors: list[ExamgenError]):
        super().__init__(f"{len(errors)} problems")
        self.errors = errors
        self.exit_code = errors[0].exit_code

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)

    @property
    def problems(self) -> list[ExamgenError]:
        return list(self.errors)

    @staticmethod
    def of(errors: Sequence[ExamgenError]) -> ExamgenError:
        """The errors as one to raise: the error itself when there is one."""
        return errors[0] if len(errors) == 1 else ErrorGroup(list(errors))


class Collector:
    """Gathers errors and warnings of a stage so one run reports them all."""

    def __init__(self) -> None:
        self.errors: list[ExamgenError] = []
        self.warnings: list[str] = []

    def error(self, error: ExamgenError) -> None:
        self.errors.append(error)

    def warn(self, message: str, loc: Loc | None = None, context: str | None = None) -> None:
        """Note a warning once, however many stages or documents meet it."""
        self.noted([describe(f"warning: {message}", loc, context)])

    def noted(self, warnings: Iterable[str]) -> None:
        """Warnings another collector (or a cache) holds already written out, each noted once."""
        for warning in warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)

    def raise_if_any(self) -> None:
        """Raise what was collected, in source order."""
        self.errors.sort(key=lambda e: (str(e.loc.file), e.loc.line or 0) if e.loc else ("", 0))
        if self.errors:
            raise ErrorGroup.of(self.errors)
