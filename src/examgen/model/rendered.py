"""The rendered exam: what the render stage hands the writers, every text expanded to LaTeX."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import Loc
from .source import Exam, Text

VIEWS = ("student", "solution")  # the two PDFs of an exam (of each variant)
MARKER = "% examgen-source: "  # a comment: where the line after it comes from (WHAT @ FILE:LINE [+LINES])
ANNOUNCEMENT = "\\message{[examgen-source: "  # what TeX prints when it reaches a marked piece


def source_marker(tag: str, what: str, where: Loc | None = None, lines: int | None = None) -> str:
    r"""The marker line before a piece of a document: ``\message{[examgen-source: TAG]}`` (TeX prints
    the tag when it gets there, even inside an argument read earlier) and a comment naming the
    piece, where it comes from and, for a text, how many lines of it follow."""
    place = f" @ {where.file}:{where.line}" if where else ""
    extent = f" +{lines}" if lines else ""
    return f"{ANNOUNCEMENT}{tag}]}}{MARKER}{what}{place}{extent}"


EXPORTED = "% examgen-export: "  # before the comment lines of a placed figure's or table's markup for the exports
DRAWN = "% examgen-export: as the theme draws it\n"
DRAWN_END = "% examgen-export: end\n"
MARKER_LINE = re.compile(re.escape(ANNOUNCEMENT) + r"[^\n]*\n")


def drawn_beside(kind: str, ident: str, drawn: str, markup: str) -> str:
    r"""A figure or table a text placed, where the theme draws it otherwise than the default
    theme: the default's markup (``\egpicture``, ``\egcaption``, ``tabular``) in comment lines,
    which TeX skips and the exports convert to HTML (writers/html.py), then the theme's drawing.
    The markup's source markers are left out: in a comment they would mislead TeX's messages."""
    lines = MARKER_LINE.sub("", markup).splitlines()
    commented = "".join(f"%{line}\n" for line in lines)
    return f"{EXPORTED}{kind} {ident}\n{commented}{DRAWN}{drawn}{DRAWN_END}"


class Latex(str):
    """A rendered text: LaTeX that remembers where in the source it was written, so a document
    marks it for TeX's messages (``<< part.prompt >>`` prints its marker line, then the text;
    ``<< part.prompt|string >>`` the text alone)."""

    loc: Loc
    context: str

    def __new__(cls, text: str, loc: Loc, context: str) -> Latex:
        latex = super().__new__(cls, text)
        latex.loc, latex.context = loc, context
        return latex

    def __reduce__(self):
        return Latex, (str(self), self.loc, self.context)

    def marked(self) -> str:
        """The text after its marker; the tag is the same for texts of one source line (which
        are then one place to fix), and free of the characters TeX would act on."""
        if not self:
            return ""
        tag = f"{zlib.crc32(str(self.loc.file).encode()):08x}:{self.loc.line}"
        return f"{source_marker(tag, self.context, self.loc, self.count(chr(10)) + 1)}\n{self}"


@dataclass(frozen=True)
class View:
    """The exam as one PDF shows it: texts may differ between views where they use ``solution``."""

    exam: Exam[str]  # every text as LaTeX
    placed: Mapping[int, frozenset[str]]  # problem number -> ids of figures and tables a text placed itself


@dataclass(frozen=True)
class RenderedExam:
    source: Exam[Text]  # as validated: the writers that need the texts as written
    solution: View  # what the sample solution shows; the key and the checks' secrets come from it
    student: View  # what the student copy shows
    values: Mapping[str, Mapping[str, object]]  # part number -> the computed names its texts use
    printed: Mapping[str, Mapping[str, str]]  # part number -> those names' numbers as the texts print them
    variant: str | None = None  # its label, with variants (docs/variants.md)

    @property
    def exam(self) -> Exam[str]:
        """The exam with the solution view's texts: everything the key and exports state."""
        return self.solution.exam

    @property
    def id(self) -> str:
        return self.exam.id

    def view(self, solution: bool) -> View:
        return self.solution if solution else self.student
