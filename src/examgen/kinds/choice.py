"""Multiple choice: options, any number of them correct (or exactly one: ``single: true``);
the crosses are the solution, with a worked ``solution`` and each option's ``explanation``
beside them in the solution view.

Which options are correct may be computed: an option's ``correct: << a == b >>``, or an
entry of the part's ``correct`` list that is an expression giving an option number (or a
list of them). The render stage evaluates them, so a computed question's key is never
typed by hand; a single-choice part with other than one correct option is an error there,
so verify finds the seed that draws one.

How a reading of the boxes scores is the part's ``scoring`` rule (``SCORING``; the exam's
``scoring`` for parts without one, all-or-nothing without either), docs/format.md's worked
examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, TypeVar

from .. import shapes
from ..errors import ComputeError, ErrorGroup, ExamgenError, SourceError
from ..model.source import Expression, Option, Text
from ..model.tree import SourceList, SourceMap
from ..numbers import format_number
from .base import BaseAnswer, Choose
from .free import answer_space

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
    "explanation": shapes.text("Why the option is right or wrong (LaTeX): beside it in the solution view, "
                               "and the exports' feedback."),
}
OPTION_REQUIRED = ("text",)
ALL_OR_NOTHING, PARTIAL, NEGATIVE = "all-or-nothing", "partial", "negative"
SCORING = {  # how a reading of a part's boxes scores: the rule, and what it says
    ALL_OR_NOTHING: "the points if every box is right (the correct options crossed, no other), else 0",
    PARTIAL: "each box answered right (a correct option crossed, a wrong one left empty) earns the points "
             "divided by the number of options",
    NEGATIVE: "each correct option crossed earns the points divided by the number of correct ones, each wrong "
              "one crossed costs the points divided by the number of wrong ones; never below 0",
}
SCORING_SHAPE = shapes.choice("How a choice part's crosses score: " + "; ".join(
    f"{rule}: {meaning}" for rule, meaning in SCORING.items()) + ".", *SCORING)


def choice_score(rule: str, crossed: frozenset[int], key: frozenset[int], count: int, points: float) -> float:
    """The points a reading of ``count`` boxes earns against the key by ``rule`` (``SCORING``); a part
    with no correct option is all-or-nothing under every rule (its answer is to cross nothing)."""
    if rule == PARTIAL and key:
        score = points * (count - len(crossed ^ key)) / count
    elif rule == NEGATIVE and key:
        wrong = count - len(key)
        score = points * len(crossed & key) / len(key) - (points * len(crossed - key) / wrong if wrong else 0.0)
    else:
        score = points if crossed == key else 0.0
    return max(0.0, round(score, 9))


@dataclass(frozen=True)
class Choice(BaseAnswer[T]):
    options: tuple[Option[T], ...]
    computed: tuple[Expression, ...] = ()  # entries of the part's ``correct`` list still to compute
    shuffle: bool = False  # options shuffled per variant, the fixed ones staying in place
    order: tuple[int, ...] = ()  # once shuffled: the source's number of each option, in printed order
    solution: T | None = None  # the worked explanation, below the options in the solution view
    space: float | None = None  # the room below the options where the solution and explanations stand, in cm
    single: bool = False  # exactly one option is correct
    scoring: str | None = None  # a rule of SCORING; None: the exam's, else all-or-nothing
    generated: Expression | None = None  # options from a computed list, made when the values are known
    kind: ClassVar[str] = "choice"
    graded: ClassVar[bool] = False

    @property
    def correct(self) -> list[int]:
        """The correct options' numbers, 1-based."""
        return [i for i, option in enumerate(self.options, 1) if option.correct is True]

    @property
    def rule(self) -> str:
        return self.scoring or ALL_OR_NOTHING

    def for_student(self) -> Choice[T]:
        return replace(self, options=tuple(replace(option, correct=False, explanation=None) for option in self.options),
                       computed=(), solution=None)

    def public(self) -> tuple[T, ...]:
        return tuple(option.text for option in self.options)

    def secrets(self) -> tuple[T, ...]:
        explained = tuple(option.explanation for option in self.options if option.explanation is not None)
        return ((self.solution,) if self.solution is not None else ()) + explained

    def key(self) -> dict:
        return {"correct": self.correct, **({"order": list(self.order)} if self.order else {}),
                "single": self.single, "scoring": self.rule}

    def scored(self, crossed: frozenset[int], key: frozenset[int], points: float) -> float:
        return choice_score(self.rule, crossed, key, len(self.options), points)

    def scored_by(self, rule: str) -> Choice[T]:
        return self if self.scoring else replace(self, scoring=rule)

    def written_solution(self) -> T | None:
        return self.solution

    def space_cm(self) -> float | None:
        return self.space

    def explanations(self) -> tuple[T | None, ...]:
        return tuple(option.explanation for option in self.options)

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
        return bool(self.generated or self.computed
                    or any(isinstance(option.correct, Expression) for option in self.options))

    def places(self) -> tuple[bool, ...]:
        """A shuffle's fixed options stay out: no shuffle moves a correct option there."""
        return tuple(option.correct is True for option in self.options if not (self.shuffle and option.fixed))

    def sought(self) -> object:
        """The correct options' texts, not their places."""
        return sorted(str(option.text) for option in self.options if option.correct is True)

    def form(self) -> Choose:
        return Choose(tuple(self.correct), self.single, self.rule)


def scoring_rule(fields: Fields) -> str | None:
    """The ``scoring`` key's rule, None without one."""
    rule = fields.string("scoring")
    if rule is not None and rule not in SCORING:
        fields.fail(f"'scoring' must be one of {', '.join(SCORING)}, not {rule!r}", "scoring")
        return None
    return rule


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
            options.append(Option(f.text("text") or Text("", loc), _flag(f, item), loc, f.boolean("fixed", False),
                                  f.text("explanation")))
        elif isinstance(item, SourceList):
            fields.out.error(SourceError("an option must be text or a mapping with 'text' and 'correct'", loc,
                                         fields.context))
        else:
            options.append(Option(fields.text_at(str(item), loc, "the option"), False, loc))
    return options


def _marked(fields: Fields, count: int | None) -> tuple[set[int], list[Expression]] | None:
    """The option numbers the part's own ``correct`` list marks and its entries to compute (``count``:
    how many options there are, None when they are generated: then every entry is checked once they
    are); None without one."""
    by_index = fields.data.get("correct")
    if by_index is None:
        return None
    if count is None:
        return set(), [Expression.written(str(entry), loc) for entry, loc in (
            zip(by_index, by_index.item_locs) if isinstance(by_index, SourceList) else
            [(by_index, fields.loc("correct"))])]
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


def _generated(expression: Expression, evaluate: Evaluate) -> tuple[Option[str], ...]:
    """The options a computed list gives: each a number (printed as ``num`` prints it, in math, all
    numbers with as many decimals as the longest has: rounded alike, -0.80 beside -1.18), a LaTeX
    text, or a pair (text or number, whether it is correct)."""
    items = evaluate(expression)
    where = f"'options: {expression.source}'"
    if not isinstance(items, (list, tuple)) or not items:
        raise ComputeError(f"{where} is {items!r}: it must be a non-empty list of options (numbers or texts, or "
                           "pairs [option, correct])", expression.loc)
    values = []
    for index, item in enumerate(items):
        pair = isinstance(item, (list, tuple))
        if pair and not (len(item) == 2 and isinstance(item[1], bool)):
            raise ComputeError(f"{where}: option {index + 1} is {item!r}; a pair is [option, true or false]",
                               expression.loc)
        value = item[0] if pair else item
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ComputeError(f"{where}: option {index + 1} is {value!r}, not a number or a text", expression.loc)
        values.append((f"({expression.source})[{index}]" + ("[0]" if pair else ""), value, bool(pair and item[1])))
    places = max((len(format_number(value).partition(".")[2]) for _, value, _ in values if not isinstance(value, str)),
                 default=0)
    form = f"num({places}, fixed=true)" if places else "num"

    def text(path: str, value: object) -> str:
        return value if isinstance(value, str) else f"${evaluate(Expression(f'{path}|{form}', expression.loc))}$"

    return tuple(Option(text(path, value), correct, expression.loc) for path, value, correct in values)


class ChoiceKind:
    name = "choice"
    title = "multiple-choice"
    hint = "its correct options are its solution"
    keys: shapes.Keys = {
        "options": shapes.either(
            "The options: a list of texts or {text, correct}, or the name of a computed list (generated options).",
            shapes.items("The options.", shapes.either(
                "An option.", shapes.text("An option (LaTeX)."), shapes.mapping(OPTION_KEYS, OPTION_REQUIRED)),
                at_least=1),
            {"type": "string"}),
        "correct": shapes.either("The correct options' numbers (1, 2, ...), or expressions giving them.",
                                 {"type": "integer", "minimum": 1}, {"type": "string"},
                                 {"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 1},
                                                                       {"type": "string"}]}}),
        "shuffle": shapes.flag("Shuffle the options per variant; an option with 'fixed: true' keeps its place."),
        "single": shapes.flag("Exactly one option is correct (single choice): the student crosses one."),
        "scoring": SCORING_SHAPE,
        "solution": shapes.text("The worked solution (LaTeX), below the options in the solution view."),
        "space": shapes.length("The room below the options for the solution and the options' explanations: "
                               "3cm, 25mm (blank in the student copy, so that both views paginate alike)."),
    }
    marker: str | None = "options"

    def claims(self, data: SourceMap) -> bool:
        return self.marker in data

    def validate(self, fields: Fields) -> Choice[Text]:
        written = fields.data.get("options")
        generated = Expression.written(written, fields.loc("options")) if isinstance(written, str) else None
        options = [] if generated else _options(fields)
        if fields.has("options") and not options and not generated:
            fields.fail("the option list has no options", "options")
        marked = _marked(fields, None if generated else len(options))
        shuffle, single = fields.boolean("shuffle", False), fields.boolean("single", False)
        if generated and shuffle:
            fields.fail("generated options come in the order their list has: draw it in that order (the helpers "
                        "numbers_near and statements shuffle), without 'shuffle'", "shuffle")
        scoring = scoring_rule(fields)
        if single and scoring == PARTIAL:
            fields.fail("a single-choice part cannot score 'partial' (each box right or wrong): it is "
                        f"'{ALL_OR_NOTHING}' or '{NEGATIVE}'", "scoring")
        computed: list[Expression] = []
        if marked is not None:
            numbers, computed = marked
            options = [replace(o, correct=i in numbers) for i, o in enumerate(options, 1)]
        solution = fields.text("solution")
        space = answer_space(fields)
        if space is None and (solution is not None or any(option.explanation for option in options)):
            fields.fail("a multiple-choice part's solution and explanations stand in a room below its options, "
                        "blank in the student copy: give it a 'space' (3cm, say; the build tells what they need)")
        answer = Choice(tuple(options), tuple(computed), shuffle, solution=solution, space=space, single=single,
                        scoring=scoring, generated=generated)
        if single and len(options) < 2 and not generated:
            fields.fail("a single-choice part needs at least two options", "single")
        elif single and not answer.key_computed() and len(answer.correct) != 1:
            fields.fail(f"a single-choice part has exactly one correct option, this one {len(answer.correct)}: "
                        "mark one, or drop 'single: true'", "single")
        return answer

    def finish(self, answer, evaluate: Evaluate):
        """Make generated options; compute which options are correct where the source says so by an
        expression (whose option numbers are the source's, wherever a shuffle put the options)."""
        if answer.generated is not None:
            answer = replace(answer, options=_generated(answer.generated, evaluate), generated=None)
        marked = set().union(*(_numbers(evaluate(e), e, len(answer.options)) for e in answer.computed))
        options, failed = [], list[ExamgenError]()  # every option's failing 'correct' reported, not the first
        for number, option in zip(answer.order or range(1, len(answer.options) + 1), answer.options):
            correct = option.correct
            if isinstance(correct, Expression):
                try:
                    value = evaluate(correct)
                except ExamgenError as exc:
                    failed.append(exc)
                    continue
                if not isinstance(value, bool):
                    failed.append(ComputeError(f"'correct: {correct.source}' is {value!r}: it must be true or false "
                                               "(a comparison such as 'a == b')", correct.loc))
                    continue
                correct = value
            options.append(replace(option, correct=correct or number in marked))
        if failed:
            raise ErrorGroup.of(failed)
        written = [*answer.computed, *(o.correct for o in answer.options if isinstance(o.correct, Expression))]
        where = written[0] if written else None
        answer = replace(answer, options=tuple(options), computed=())
        if answer.single and len(answer.correct) != 1:
            numbers = sorted(answer.order[n - 1] if answer.order else n for n in answer.correct)
            which = f" (options {', '.join(map(str, numbers))})" if numbers else ""
            raise ComputeError(f"a single-choice part has exactly one correct option, but these values make "
                               f"{len(numbers)} correct{which}: change the computation or its 'correct'",
                               where.loc if where else None)
        return answer


KIND = ChoiceKind()
