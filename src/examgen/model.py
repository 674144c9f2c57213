"""The typed, immutable records the stages pass on; each remembers its source."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .errors import Loc

EMPTY: Mapping = MappingProxyType({})


@dataclass(frozen=True)
class Text:
    """A LaTeX text with template expressions; ``latex`` is its rendered form."""

    source: str
    loc: Loc
    latex: str | None = None

    def __str__(self) -> str:
        if self.latex is None:
            raise RuntimeError(f"{self.loc}: text used before it was rendered")
        return self.latex


@dataclass(frozen=True)
class Code:
    """A compute block: Python source and the location of its first line."""

    source: str
    loc: Loc
    label: str


@dataclass(frozen=True)
class Option:
    text: Text
    correct: bool
    loc: Loc


@dataclass(frozen=True)
class Note:
    """A rubric line of the correction notes, with optional points."""

    text: Text
    points: float | None
    loc: Loc


@dataclass(frozen=True)
class Figure:
    """A TikZ picture or an image file, numbered per problem."""

    id: str
    problem: int
    caption: Text | None
    tikz: Text | None
    image: Path | None
    width: str
    loc: Loc

    @property
    def asset(self) -> str | None:
        """The image's file name in the build folder, unique within the exam."""
        return f"p{self.problem}-{self.id}{self.image.suffix}" if self.image else None


@dataclass(frozen=True)
class Table:
    """A table given cell by cell, or taken from a computed list of rows (``data``)."""

    id: str
    caption: Text | None
    header: tuple[Text, ...]
    rows: tuple[tuple[Text, ...], ...]
    data: str | None
    align: Text | None  # a LaTeX column spec; may use computed values
    loc: Loc


@dataclass(frozen=True)
class Part:
    number: str
    id: str | None
    points: float
    lead: Text | None
    prompt: Text
    options: tuple[Option, ...]
    space: float | None  # height of the answer space in cm; None for choice parts
    solution: Text | None
    notes: tuple[Note, ...]
    independent: bool
    loc: Loc
    values: Mapping = field(default_factory=lambda: EMPTY)  # the computed names the part's texts use, set by render

    @property
    def kind(self) -> str:
        return "choice" if self.options else "text"

    @property
    def context(self) -> str:
        return f"part {self.number}"

    @property
    def correct(self) -> list[int]:
        return [i for i, option in enumerate(self.options, 1) if option.correct]

    @property
    def grades(self) -> list[float]:
        """The grading-box labels 0 … points, in half steps where the points need them."""
        step = 1.0 if float(self.points).is_integer() else 0.5
        return [i * step for i in range(int(self.points / step) + 1)]


@dataclass(frozen=True)
class Problem:
    number: int
    id: str | None
    title: Text
    intro: Text | None
    compute: Code | None
    figures: tuple[Figure, ...]
    tables: tuple[Table, ...]
    parts: tuple[Part, ...]
    new_page: bool
    loc: Loc
    placed: frozenset = frozenset()  # ids of figures/tables a text places itself, set by render

    @property
    def credits(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def has_choices(self) -> bool:
        return any(p.kind == "choice" for p in self.parts)

    @property
    def choice_points(self) -> list[float]:
        return sorted({p.points for p in self.parts if p.kind == "choice"})

    @property
    def context(self) -> str:
        return f"problem {self.number}"


@dataclass(frozen=True)
class Scope:
    """The computed values a text can use, and the names its own block defined."""

    values: Mapping
    defined: tuple[str, ...] = ()
    code: Code | None = None


@dataclass(frozen=True)
class Limits:
    """Resource limits of the compute blocks (per block)."""

    seconds: float = 10.0
    memory_mb: int = 2048


@dataclass(frozen=True)
class Meta:
    course: str
    course_number: str
    kind: str
    code: str
    date: datetime.date
    start: str
    end: str
    examiner: str
    resources: tuple[Text, ...]
    instructions: tuple[Text, ...]
    extra_pages: int
    star_note: bool  # show the note on subproblems marked with *


@dataclass(frozen=True)
class Exam:
    id: str
    dir: Path
    meta: Meta
    compute: Code | None
    problems: tuple[Problem, ...]
    limits: Limits
    files: tuple[Path, ...]
    loc: Loc
    scopes: Mapping = field(default_factory=lambda: EMPTY)  # 0 (exam) or a problem number -> Scope, set by compute

    @property
    def total_points(self) -> float:
        return sum(p.credits for p in self.problems)

    def parts(self):
        for problem in self.problems:
            yield from ((problem, part) for part in problem.parts)
