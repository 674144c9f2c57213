"""Free answer: a grid to write in; the sample solution and correction notes stand in it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, TypeVar

from .. import shapes
from ..errors import SourceError
from ..model.source import Note, Text
from ..model.tree import SourceList, SourceMap
from .base import BaseAnswer, Essay

if TYPE_CHECKING:
    from ..model.fields import Fields

T = TypeVar("T")
DEFAULT_SPACE_CM = 4.0
LEAST_SPACE_CM = 1.0
NOTE_KEYS: shapes.Keys = {
    "text": shapes.text("The note (LaTeX), in the sample solution only."),
    "points": shapes.points("What it earns (or deducts, negative).", deduction=True),
}
NOTE_REQUIRED = ("text",)
WORKED_KEYS: shapes.Keys = {  # a worked answer's: free and numeric parts
    "space": shapes.length("Answer space height: 6cm, 35mm, 2in, 100pt (default 4cm, at least 1cm)."),
    "solution": shapes.text("The sample solution (LaTeX), typeset in the answer space."),
    "notes": shapes.items("Correction notes: text, or {text, points}.", shapes.either(
        "A note.", shapes.text("A note (LaTeX)."), shapes.mapping(NOTE_KEYS, NOTE_REQUIRED))),
}


class WorkedAnswer(BaseAnswer[T]):
    """A worked answer's (free and numeric parts'): a sample solution and correction notes, the
    solution view's only texts, in an answer space."""

    space: float | None  # height of the answer grid in cm
    solution: T | None
    notes: tuple[Note[T], ...]

    def public(self) -> tuple[T, ...]:
        return ()

    def secrets(self) -> tuple[T, ...]:
        return ((self.solution,) if self.solution is not None else ()) + tuple(note.text for note in self.notes)

    def written_solution(self) -> T | None:
        return self.solution

    def rubric(self) -> tuple[Note[T], ...]:
        return self.notes

    def space_cm(self) -> float | None:
        return self.space


@dataclass(frozen=True)
class Free(WorkedAnswer[T]):
    space: float
    solution: T | None
    notes: tuple[Note[T], ...]
    kind: ClassVar[str] = "free"
    graded: ClassVar[bool] = True

    def key(self) -> dict:
        return {}

    def for_student(self) -> Free[T]:
        return replace(self, solution=None, notes=())

    def form(self) -> Essay:
        return Essay()


def answer_space(fields: Fields) -> float | None:
    """The answer space's height in cm (None if not given): at least two rows of the grid, which the
    build's check of writable areas requires too."""
    space = fields.length_cm("space") if fields.has("space") else None
    if space is not None and space < LEAST_SPACE_CM:
        fields.fail(f"'space' must be at least {LEAST_SPACE_CM:g}cm: a hand writes two lines of the grid in it",
                    "space")
    return space


def notes(fields: Fields) -> tuple[Note[Text], ...]:
    result = []
    for item, loc in fields.items("notes"):
        if isinstance(item, SourceMap):
            f = fields.nested(item, NOTE_KEYS)
            f.require(*NOTE_REQUIRED)
            result.append(Note(f.text("text") or Text("", loc), f.points("points", deduction=True), loc))
        elif isinstance(item, SourceList):
            fields.out.error(SourceError("a note must be text or a mapping with 'text' and 'points'", loc,
                                         fields.context))
        else:
            result.append(Note(fields.text_at(str(item), loc, "the note"), None, loc))
    return tuple(result)


class FreeKind:
    name = "free"
    title = "free-answer"
    hint = ""
    keys: shapes.Keys = WORKED_KEYS
    marker: str | None = None  # any part no other kind claims

    def claims(self, data: SourceMap) -> bool:
        return True

    def validate(self, fields: Fields) -> Free[Text]:
        space = answer_space(fields) or DEFAULT_SPACE_CM
        if not fields.has("solution"):
            fields.warn("no sample solution")
        return Free(space or DEFAULT_SPACE_CM, fields.text("solution"), notes(fields))

    def finish(self, answer, evaluate):
        return answer


KIND = FreeKind()
