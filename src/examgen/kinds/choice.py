"""Multiple choice: options, any number of them correct; the crosses are the solution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from ..errors import SourceError
from ..model.source import Option, Text
from ..stages.load import SourceList, SourceMap

if TYPE_CHECKING:
    from ..stages.validate import Fields

T = TypeVar("T")
OPTION_KEYS = {"text", "correct"}


@dataclass(frozen=True)
class Choice(Generic[T]):
    options: tuple[Option[T], ...]
    kind: ClassVar[str] = "choice"
    graded: ClassVar[bool] = False

    @property
    def correct(self) -> list[int]:
        """The correct options' numbers, 1-based."""
        return [i for i, option in enumerate(self.options, 1) if option.correct]

    def public(self) -> tuple[T, ...]:
        return tuple(option.text for option in self.options)

    def secrets(self) -> tuple[T, ...]:
        return ()

    def key(self) -> dict:
        return {"correct": self.correct}


def _options(fields: Fields) -> list[Option[Text]]:
    by_index = fields.data.get("correct")
    options = []
    for item, loc in fields.items("options"):
        if isinstance(item, SourceMap):
            f = fields.nested(item, OPTION_KEYS)
            f.require("text")
            if by_index is not None and "correct" in item:
                f.fail("mark correct options either with the part's 'correct' list or on each option, not both",
                       "correct")
            options.append(Option(f.text("text") or Text("", loc), f.boolean("correct", False), loc))
        elif isinstance(item, SourceList):
            fields.out.error(SourceError("an option must be text or a mapping with 'text' and 'correct'", loc,
                                         fields.context))
        else:
            options.append(Option(Text(str(item), loc), False, loc))
    return options


def _marked(fields: Fields, count: int) -> set[int] | None:
    """The option numbers the part's own ``correct`` list marks, None without one."""
    by_index = fields.data.get("correct")
    if by_index is None:
        return None
    if not count:
        fields.fail("'correct' is given but the part has no options", "correct")
        return set()
    marked = set()
    for index in list(by_index) if isinstance(by_index, SourceList) else [by_index]:
        if isinstance(index, bool) or not isinstance(index, int):
            fields.fail(f"'correct' lists option numbers (1, 2, ...), not {index!r}", "correct")
        elif not 1 <= index <= count:
            fields.fail(f"'correct' marks option {index}, but the part has {count} options", "correct")
        else:
            marked.add(index)
    return marked


class ChoiceKind:
    name = "choice"
    title = "multiple-choice"
    hint = "its correct options are its solution"
    keys = frozenset({"options", "correct"})

    def claims(self, data: SourceMap) -> bool:
        return "options" in data

    def validate(self, fields: Fields) -> Choice[Text]:
        options = _options(fields)
        if fields.has("options") and not options:
            fields.fail("the option list has no options", "options")
        marked = _marked(fields, len(options))
        if marked is not None:
            options = [Option(o.text, i in marked, o.loc) for i, o in enumerate(options, 1)]
        return Choice(tuple(options))

    def finish(self, answer, evaluate):
        return answer


KIND = ChoiceKind()
