"""Numeric: a computed value with a tolerance and a unit, written in a box; graders and
LMS exports check it from the key. Working space, a solution and notes are optional."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, TypeVar

from .. import shapes
from ..errors import ComputeError
from ..model.source import Expression, Note, Text
from ..model.tree import SourceMap
from ..numbers import format_number
from .base import Number
from .free import WORKED_KEYS, WorkedAnswer, answer_space, notes

if TYPE_CHECKING:
    from ..model.fields import Fields

T = TypeVar("T")
RELATIVE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*%\s*$")
DEFAULT_BOX_CM = 5.0  # the answer box's width: a number, its sign and a unit in a hand's size
LEAST_BOX_CM = 3.0  # what the build's check of writable areas requires (stages/check.py)


@dataclass(frozen=True)
class Numeric(WorkedAnswer[T]):
    value: Expression | float  # the expression until the render stage computes it
    tolerance: float  # absolute, or a fraction of the value when ``relative``
    relative: bool
    unit: str | None  # plain text
    space: float | None  # working grid in cm, None for the answer box alone
    solution: T | None
    notes: tuple[Note[T], ...]
    box: float = DEFAULT_BOX_CM  # the answer box's width in cm
    kind: ClassVar[str] = "numeric"
    graded: ClassVar[bool] = True

    @property
    def number(self) -> float:
        if not isinstance(self.value, (int, float)):
            raise TypeError(f"{self.value.loc}: the answer is used before it is computed")
        return self.value

    @property
    def absolute_tolerance(self) -> float:
        return abs(self.number) * self.tolerance if self.relative else self.tolerance

    @property
    def decimals(self) -> int | None:
        """The decimals a grader needs to see the answer against its tolerance: down to the
        tolerance's first significant digit (none for an exact answer: as ``num`` prints it)."""
        tolerance = self.absolute_tolerance
        return max(0, -math.floor(math.log10(tolerance))) if tolerance > 0 else None

    def for_student(self) -> Numeric[T]:
        return replace(self, value=math.nan, tolerance=math.nan, solution=None, notes=())

    def key(self) -> dict:
        entry: dict = {"answer": self.number, "answer_printed": format_number(self.number),
                       "tolerance": float(f"{self.absolute_tolerance:.12g}")}
        if self.relative:
            entry["relative_tolerance"] = self.tolerance
        if self.unit:
            entry["unit"] = self.unit
        return entry

    def form(self) -> Number:
        return Number(self.number, self.absolute_tolerance, self.unit)


class NumericKind:
    name = "numeric"
    title = "numeric"
    hint = "its answer is a number"
    keys: shapes.Keys = {
        "answer": shapes.either("The answer: a number or an expression over computed values ('a * b').",
                                {"type": "number"}, {"type": "string"}),
        "tolerance": shapes.either("Accepted deviation: a number >= 0 or a percentage ('1%').",
                                   {"type": "number", "minimum": 0},
                                   {"type": "string", "pattern": RELATIVE.pattern}),
        "unit": shapes.plain("The answer's unit (plain text)."),
        "box": shapes.length(f"The answer box's width: 6cm, 45mm (default {DEFAULT_BOX_CM:g}cm, at least "
                             f"{LEAST_BOX_CM:g}cm)."),
        **WORKED_KEYS,
    }
    marker: str | None = "answer"

    def claims(self, data: SourceMap) -> bool:
        return self.marker in data

    def validate(self, fields: Fields) -> Numeric[Text]:
        value = fields.data.get("answer")
        finite = not isinstance(value, float) or math.isfinite(value)
        if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)) or not finite:
            fields.fail("'answer' must be a number or an expression over computed values, such as 'a * b'",
                        "answer")
            value = 0
        tolerance, relative = self._tolerance(fields)
        space = answer_space(fields)
        if space is None and (fields.has("solution") or fields.has("notes")):
            fields.fail("a numeric part's solution and notes stand in its working space: give it a 'space'")
        answer = Expression.written(str(value), fields.loc("answer"))
        box = fields.length_cm("box") if fields.has("box") else DEFAULT_BOX_CM
        if box is not None and box < LEAST_BOX_CM:
            fields.fail(f"'box' must be at least {LEAST_BOX_CM:g}cm wide: a hand writes a number in it", "box")
        return Numeric(answer, tolerance, relative, fields.plain("unit"), space, fields.text("solution"),
                       notes(fields), box or DEFAULT_BOX_CM)

    @staticmethod
    def _tolerance(fields: Fields) -> tuple[float, bool]:
        value = fields.data.get("tolerance", 0)
        match = RELATIVE.match(value) if isinstance(value, str) else None
        if match:
            return float(match.group(1)) / 100, True
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            fields.fail(f"'tolerance' must be a number >= 0 or a percentage such as '1%', not {value!r}",
                        "tolerance")
            return 0.0, False
        return float(value), False

    def finish(self, answer, evaluate):
        expression = answer.value
        value = evaluate(expression)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ComputeError(f"the answer '{expression.source}' is {value!r}, not a finite number",
                               expression.loc)
        return replace(answer, value=value)


KIND = NumericKind()
