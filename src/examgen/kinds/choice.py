"""Multiple choice: options, any number of them correct; the crosses are the solution.

Which options are correct may be computed: an option's ``correct: << a == b >>``, or an
entry of the part's ``correct`` list that is an expression giving an option number (or a
list of them). The render stage evaluates them, so a computed question's key is never
typed by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, TypeVar

from .. import shapes
from ..errors import ComputeError, SourceError
from ..model.source import Expression, Option, Text
from ..model.tree import SourceList, SourceMap
from .base import BaseAnswer, Choose

if TYPE_CHECKING:
    from ..model.fields import Fields
    from ..sandbox.draws import Draws
    from . import Evaluate

T = TypeVar("T")
OPTION_KEYS: shapes.Keys = {
    "text": shapes.text("The option (LaTeX)."),
    "correct": shapes.either("true, false, or an expression computing which: << a == b >>.",
                             {"type": "boolean"}, {"type": "string"}),
    "fixed": shapes.flag("Keep the option in its place when the part's options are shuffled ('none of the "
                         "above')."),
}
OPTION_REQUIRED = ("text",)


@dataclass(frozen=True)
class Choice(BaseAnswer[T]):
    options: tuple[Option[T], ...]
    computed: tuple[Expression, ...] = ()  # entries of the part's ``correct`` list still to compute
    shuffle: bool = False  # options shuffled per variant, the fixed ones staying in place
    order: tuple[int, ...] = ()  # once shuffled: the source's number of each option, in printed order
    kind: ClassVar[str] = "choice"
    graded: ClassVar[bool] = False

    @property
    def correct(self) -> list[int]:
        """The correct options' numbers, 1-based."""
        return [i for i, option in enumerate(self.options, 1) if option.correct is True]

    def for_student(self) -> Choice[T]:
        return replace(self, options=tuple(replace(option, correct=False) for option in self.options), computed=())

    def public(self) -> tuple[T, ...]:
        return tuple(option.text for option in self.options)

    def secrets(self) -> tuple[T, ...]:
        return ()

    def key(self) -> dict:
        return {"correct": self.correct, **({"order": list(self.order)} if self.order else {})}

    def boxes(self) -> tuple[T, ...]:
        return self.public()

    def crossed(self) -> frozenset[int]:
        return frozenset(self.correct)

    def shuffled(self, draws: Callable[[], Draws]) -> Choice[T]:
        """The options in a variant's order: those not fixed shuffled among their places."""
        if not self.shuffle:
            return self
        movable = [number for number, option in enumerate(self.options, 1) if not option.fixed]
        moved = iter(draws().shuffled(movable))
        numbers = tuple(number if option.fixed else next(moved) for number, option in enumerate(self.options, 1))
        return replace(self, options=tuple(self.options[number - 1] for number in numbers), order=numbers)

    def key_computed(self) -> bool:
        return bool(self.computed or any(isinstance(option.correct, Expression) for option in self.options))

    def places(self) -> tuple[bool, ...]:
        """A shuffle's fixed options stay out: no shuffle moves a correct option there."""
        return tuple(option.correct is True for option in self.options if not (self.shuffle and option.fixed))

    def sought(self) -> object:
        """The correct options' texts, not their places."""
        return sorted(str(option.text) for option in self.options if option.correct is True)

    def form(self) -> Choose:
        return Choose(tuple(self.correct))


def _flag(fields: Fields, item: SourceMap) -> bool | Expression:
    """An option's ``correct``: true, false, or an expression computing which."""
    value = item.get("correct", False)
    if isinstance(value, str):
        return Expression.written(value, item.loc_of("correct"))
    if not isinstance(value, bool):
        fields.fail(f"an option's 'correct' must be true, false or an expression such as '<< a == b >>', "
                    f"not {value!r}", "correct")
        return False
    return value


def _options(fields: Fields) -> list[Option[Text]]:
    by_index = fields.data.get("correct")
    options = []
    for item, loc in fields.items("options"):
        if isinstance(item, SourceMap):
            f = fields.nested(item, OPTION_KEYS)
            f.require(*OPTION_REQUIRED)
            if by_index is not None and "correct" in item:
                f.fail("mark correct options either with the part's 'correct' list or on each option, not both",
                       "correct")
            options.append(Option(f.text("text") or Text("", loc), _flag(f, item), loc, f.boolean("fixed", False)))
        elif isinstance(item, SourceList):
            fields.out.error(SourceError("an option must be text or a mapping with 'text' and 'correct'", loc,
                                         fields.context))
        else:
            options.append(Option(fields.text_at(str(item), loc, "the option"), False, loc))
    return options


def _marked(fields: Fields, count: int) -> tuple[set[int], list[Expression]] | None:
    """The option numbers the part's own ``correct`` list marks and its entries to compute;
    None without one."""
    by_index = fields.data.get("correct")
    if by_index is None:
        return None
    if not count:
        fields.fail("'correct' is given but the part has no options", "correct")
        return set(), []
    entries = list(zip(by_index, by_index.item_locs)) if isinstance(by_index, SourceList) else \
        [(by_index, fields.loc("correct"))]
    marked, computed = set(), []
    for index, loc in entries:
        if isinstance(index, str):
            computed.append(Expression.written(index, loc))
        elif isinstance(index, bool) or not isinstance(index, int):
            fields.fail(f"'correct' lists option numbers (1, 2, ...) or expressions giving them, not {index!r}",
                        "correct")
        elif not 1 <= index <= count:
            fields.fail(f"'correct' marks option {index}, but the part has {count} options", "correct")
        else:
            marked.add(index)
    return marked, computed


def _numbers(value: object, expression: Expression, count: int) -> set[int]:
    """The option numbers a computed entry of ``correct`` gives (a number or a list of them)."""
    numbers = value if isinstance(value, (list, tuple)) else [value]
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int):
            raise ComputeError(f"'correct' entry '{expression.source}' is {value!r}: it must give an option "
                               "number (1, 2, ...) or a list of them", expression.loc)
        if not 1 <= number <= count:
            raise ComputeError(f"'correct' entry '{expression.source}' gives option {number}, but the part has "
                               f"{count} options", expression.loc)
    return set(numbers)


class ChoiceKind:
    name = "choice"
    title = "multiple-choice"
    hint = "its correct options are its solution"
    keys: shapes.Keys = {
        "options": shapes.items("The options: text, or {text, correct}.", shapes.either(
            "An option.", shapes.text("An option (LaTeX)."), shapes.mapping(OPTION_KEYS, OPTION_REQUIRED)),
            at_least=1),
        "correct": shapes.either("The correct options' numbers (1, 2, ...), or expressions giving them.",
                                 {"type": "integer", "minimum": 1}, {"type": "string"},
                                 {"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 1},
                                                                       {"type": "string"}]}}),
        "shuffle": shapes.flag("Shuffle the options per variant; an option with 'fixed: true' keeps its place."),
    }
    marker: str | None = "options"

    def claims(self, data: SourceMap) -> bool:
        return self.marker in data

    def validate(self, fields: Fields) -> Choice[Text]:
        options = _options(fields)
        if fields.has("options") and not options:
            fields.fail("the option list has no options", "options")
        marked = _marked(fields, len(options))
        shuffle = fields.boolean("shuffle", False)
        if marked is None:
            return Choice(tuple(options), shuffle=shuffle)
        numbers, computed = marked
        return Choice(tuple(replace(o, correct=i in numbers) for i, o in enumerate(options, 1)), tuple(computed),
                      shuffle)

    def finish(self, answer, evaluate: Evaluate):
        """Compute which options are correct where the source says so by an expression (whose option
        numbers are the source's, wherever a shuffle put the options)."""
        marked = set().union(*(_numbers(evaluate(e), e, len(answer.options)) for e in answer.computed))
        options = []
        for number, option in zip(answer.order or range(1, len(answer.options) + 1), answer.options):
            correct = option.correct
            if isinstance(correct, Expression):
                value = evaluate(correct)
                if not isinstance(value, bool):
                    raise ComputeError(f"'correct: {correct.source}' is {value!r}: it must be true or false "
                                       "(a comparison such as 'a == b')", correct.loc)
                correct = value
            options.append(replace(option, correct=correct or number in marked))
        return replace(answer, options=tuple(options), computed=())


KIND = ChoiceKind()
