"""Free answer: a grid to write in; the sample solution and correction notes stand in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from .. import shapes
from ..errors import SourceError
from ..model.source import Note, Text
from ..model.tree import SourceList, SourceMap

if TYPE_CHECKING:
    from ..model.fields import Fields

T = TypeVar("T")
DEFAULT_SPACE_CM = 4.0
NOTE_KEYS: shapes.Keys = {
    "text": shapes.text("The note (LaTeX), in the sample solution only."),
    "points": shapes.points("What it earns (or deducts, negative).", deduction=True),
}
NOTE_REQUIRED = ("text",)
WORKED_KEYS: shapes.Keys = {  # a worked answer's: free and numeric parts
    "space": shapes.length("Answer space height: 6cm, 35mm, 2in, 100pt (default 4cm)."),
    "solution": shapes.text("The sample solution (LaTeX), typeset in the answer space."),
    "notes": shapes.items("Correction notes: text, or {text, points}.", shapes.either(
        "A note.", shapes.text("A note (LaTeX)."), shapes.mapping(NOTE_KEYS, NOTE_REQUIRED))),
}


@dataclass(frozen=True)
class Free(Generic[T]):
    space: float  # height of the answer grid in cm
    solution: T | None
    notes: tuple[Note[T], ...]
    kind: ClassVar[str] = "free"
    graded: ClassVar[bool] = True

    def public(self) -> tuple[T, ...]:
        return ()

    def secrets(self) -> tuple[T, ...]:
        return worked_secrets(self.solution, self.notes)

    def key(self) -> dict:
        return {}


def worked_secrets(solution: T | None, notes: tuple[Note[T], ...]) -> tuple[T, ...]:
    """A worked answer's solution-only texts: the sample solution and every note."""
    return ((solution,) if solution is not None else ()) + tuple(note.text for note in notes)


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
            result.append(Note(Text(str(item), loc), None, loc))
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
        space = fields.length_cm("space") if fields.has("space") else DEFAULT_SPACE_CM
        if not fields.has("solution"):
            fields.warn("no sample solution")
        return Free(space or DEFAULT_SPACE_CM, fields.text("solution"), notes(fields))

    def finish(self, answer, evaluate):
        return answer


KIND = FreeKind()
