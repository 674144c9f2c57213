"""The validated exam: what the validate stage hands on, every record remembering its source.

The records are generic in the type of their texts: ``Exam[Text]`` holds the texts as the
examiner wrote them (with their template expressions and locations), ``Exam[str]`` the same
exam once the render stage has expanded every text to LaTeX. Both are frozen; a later stage
makes new records instead of filling in old ones.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from ..errors import Loc
from ..numbers import mark_step

if TYPE_CHECKING:
    from ..kinds import Answer

T = TypeVar("T")


@dataclass(frozen=True)
class Text:
    """A LaTeX text as written in the source, with template expressions and its location."""

    source: str
    loc: Loc


@dataclass(frozen=True)
class Expression:
    """A value the source computes rather than states (a numeric answer ``a * b``, which
    option is correct ``<< k == 2 >>``): an expression over the part's computed values,
    evaluated by the render stage."""

    source: str
    loc: Loc

    @classmethod
    def written(cls, value: str, loc: Loc) -> Expression:
        """The expression as written, bare (``a * b``) or in a text's delimiters (``<< a * b >>``)."""
        text = value.strip()
        if text.startswith("<<") and text.endswith(">>"):
            text = text[2:-2].strip()
        return cls(text, loc)


@dataclass(frozen=True)
class Code:
    """A compute block: Python source and the location of its first line."""

    source: str
    loc: Loc
    label: str


NONE_OF_THE_ABOVE = re.compile(r"(none|keine)( (of|der|dieser|davon)\b.*)?", re.I)  # English or German


def says_none(text: str) -> bool:
    """Whether an option's plain text is "none of the above" (or "none of these", "keine davon")."""
    return bool(NONE_OF_THE_ABOVE.fullmatch(" ".join(text.split()).rstrip(".!")))


@dataclass(frozen=True)
class Option(Generic[T]):
    text: T
    correct: bool | Expression  # an expression until the render stage computes it
    loc: Loc
    fixed: bool = False  # keeps its place when the part's options are shuffled


@dataclass(frozen=True)
class Note(Generic[T]):
    """A rubric line of the correction notes, with optional points."""

    text: T
    points: float | None
    loc: Loc


@dataclass(frozen=True)
class Figure(Generic[T]):
    """A TikZ picture or an image file, numbered per problem."""

    id: str
    problem: int
    caption: T | None
    tikz: T | None
    image: Path | None
    width: str
    loc: Loc

    @property
    def label(self) -> str:
        """Its LaTeX label, which ``ref('id')`` in a text refers to."""
        return f"eg-{self.problem}-{self.id}"

    @property
    def picture(self) -> str | None:
        """A TikZ picture's key in the figure cache (figures.py): the hash of its code."""
        return hashlib.sha256(str(self.tikz).encode()).hexdigest()[:24] if self.tikz is not None else None

    @property
    def asset(self) -> str | None:
        """The image's file name in the build folder, unique within the exam."""
        return f"p{self.problem}-{self.id}{self.image.suffix}" if self.image else None


@dataclass(frozen=True)
class Table(Generic[T]):
    """A table given cell by cell, or taken from a computed list of rows (``data``)."""

    id: str
    problem: int
    caption: T | None
    header: tuple[T, ...]
    rows: tuple[tuple[T, ...], ...]
    data: str | None
    align: T | None  # a LaTeX column spec; may use computed values
    places: int | None  # how a data table prints its numbers, as num(places, sep) does
    sep: str
    loc: Loc
    header_data: str | None = None  # the name of a computed list of header cells (instead of ``header``)

    @property
    def label(self) -> str:
        return f"eg-{self.problem}-{self.id}"


@dataclass(frozen=True)
class Part(Generic[T]):
    """A numbered part; what a student answers and how is its kind's ``answer`` record."""

    number: str
    id: str | None
    points: float
    lead: T | None
    prompt: T
    answer: Answer[T]
    independent: bool
    loc: Loc
    expect: tuple[Expression, ...] = ()  # conditions every variant's values must meet (docs/variants.md)

    @property
    def kind(self) -> str:
        return self.answer.kind

    @property
    def context(self) -> str:
        return f"part {self.number}"

    @property
    def grades(self) -> list[float]:
        """The grading-box labels 0 … points, in half steps where the points need them."""
        step = mark_step(self.points)
        return [i * step for i in range(int(self.points / step) + 1)]


@dataclass(frozen=True)
class Problem(Generic[T]):
    number: int
    id: str | None
    title: T
    intro: T | None
    compute: Code | None
    figures: tuple[Figure[T], ...]
    tables: tuple[Table[T], ...]
    parts: tuple[Part[T], ...]
    new_page: bool
    loc: Loc
    expect: tuple[Expression, ...] = ()  # conditions every variant's values must meet (docs/variants.md)
    may_repeat: bool = False  # printed variants may share its values (docs/variants.md)

    @property
    def seed_name(self) -> str:
        """What seeds its draws besides the exam and the variant: its id, else its number."""
        return self.id or str(self.number)

    @property
    def credits(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def has_choices(self) -> bool:
        """Whether a part has check boxes to cross: the problem states the multiple-choice rules."""
        return any(p.answer.boxes() for p in self.parts)

    @property
    def choice_points(self) -> list[float]:
        return sorted({p.points for p in self.parts if p.answer.boxes()})

    @property
    def context(self) -> str:
        return f"problem {self.number}"


@dataclass(frozen=True)
class Limits:
    """Resource limits of the compute blocks (per block)."""

    seconds: float = 10.0
    memory_mb: int = 2048


@dataclass(frozen=True)
class Meta(Generic[T]):
    course: str
    course_number: str
    kind: str
    code: str
    date: datetime.date
    start: str
    end: str
    duration: int | None  # minutes, from the source or from start and end
    examiner: str
    language: str
    resources: tuple[T, ...]
    instructions: tuple[T, ...]
    extra_pages: int
    pages_multiple_of: int  # extra pages fill up the count to a multiple of this (2: duplex printing)
    star_note: bool  # show the note on subproblems marked with *


@dataclass(frozen=True)
class Threshold:
    """A grade and the least total that earns it: points, or a percentage of the exam's total."""

    grade: str
    least: float
    percent: bool
    loc: Loc | None = None  # None: the default scale, or the command line's


@dataclass(frozen=True)
class Grading:
    """The source's ``grading:``: thresholds best grade first; below the last, the failing grade."""

    thresholds: tuple[Threshold, ...]
    fail: str
    loc: Loc | None = None


@dataclass(frozen=True)
class Variants:
    """The source's ``variants``: the labels an exam is built in, or a fresh variant per copy
    (``per_copy``: then the labels are copy numbers, given when the copies are made)."""

    labels: tuple[str, ...]
    per_copy: bool
    loc: Loc


@dataclass(frozen=True)
class Exam(Generic[T]):
    id: str
    dir: Path  # the exam folder and the shared helpers' folder, links followed (inside the project)
    lib: Path
    meta: Meta[T]
    compute: Code | None
    problems: tuple[Problem[T], ...]
    limits: Limits
    files: tuple[Path, ...]
    loc: Loc
    grading: Grading | None = None  # None: the source says nothing, examgen grade uses its default scale
    variants: Variants | None = None  # None: one exam, as without variants

    @property
    def total_points(self) -> float:
        return sum(p.credits for p in self.problems)

    def parts(self) -> Iterator[tuple[Problem[T], Part[T]]]:
        for problem in self.problems:
            yield from ((problem, part) for part in problem.parts)
