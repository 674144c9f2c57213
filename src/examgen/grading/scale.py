"""Grade thresholds: the source's ``grading:`` (or ``--thresholds``) as totals in points.

A threshold is ``GRADE=LEAST``: the grade, then the least total that earns it, in points
(``45``, ``45.5``) or as a percentage of the exam's total (``50%``), best grade first.
A percentage becomes points rounded up to the next half point: the least total a grader
can give (marks are multiples of 0.5) that reaches the percentage. Below the last
threshold the grade is the failing one (``fail``, 5.0 by default).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from .. import shapes
from ..errors import Collector, Loc, SourceError
from ..model.source import Grading, Threshold
from ..model.tree import SourceList, SourceMap
from ..numbers import format_number, marks_of
from ..shapes import Keys

if TYPE_CHECKING:
    from ..model.fields import Fields

THRESHOLD = re.compile(r"\s*([^=\s][^=,]*?)\s*=\s*(\d+(?:\.\d+)?)\s*(%?)\s*")
GRADING_KEYS: Keys = {
    "thresholds": shapes.items("Grade thresholds, best grade first: GRADE=POINTS or GRADE=PERCENT% (1.0=95%).",
                               shapes.pattern("A grade and the least it needs: 1.3=90% or 1.3=78.",
                                              f"^{THRESHOLD.pattern}$"),
                               at_least=1),
    "fail": shapes.either("The grade below the last threshold (default 5.0).", {"type": "string"},
                          {"type": "number"}),
}

# The German 1.0-5.0 scale: 4.0 (the pass mark) at 50 % of the total, every step above it 5 % more.
GERMAN = Grading(tuple(Threshold(grade, percent, True) for grade, percent in (
    ("1.0", 95), ("1.3", 90), ("1.7", 85), ("2.0", 80), ("2.3", 75),
    ("2.7", 70), ("3.0", 65), ("3.3", 60), ("3.7", 55), ("4.0", 50))), "5.0")


def parse_threshold(text: str, loc: Loc | None = None) -> Threshold:
    """``1.3=90%`` or ``4.0=45`` as a Threshold; ValueError with a message for people otherwise."""
    match = THRESHOLD.fullmatch(text)
    if not match:
        raise ValueError(f"a threshold is GRADE=POINTS or GRADE=PERCENT% (such as 4.0=45 or 4.0=50%), not {text!r}")
    return Threshold(match[1], float(match[2]), bool(match[3]), loc)


def parse_thresholds(text: str) -> tuple[Threshold, ...]:
    """The command line's ``--thresholds 1.0=95%,1.3=90%,...``."""
    return tuple(parse_threshold(item) for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class Cut:
    """A grade and the least total, in points, that earns it."""

    grade: str
    points: float


@dataclass(frozen=True)
class Scale:
    """The thresholds in points for an exam's total: best grade first, each needing fewer points."""

    cuts: tuple[Cut, ...]
    fail: str
    total: float

    def grade(self, total: float) -> str:
        return next((cut.grade for cut in self.cuts if total >= cut.points), self.fail)

    @property
    def grades(self) -> tuple[str, ...]:
        """Every grade, best first, the failing one last."""
        return (*(cut.grade for cut in self.cuts), self.fail)


def _exact(threshold: Threshold, total: float) -> Fraction:
    """A threshold in points before rounding."""
    least = Fraction(str(threshold.least))
    return least * Fraction(str(total)) / 100 if threshold.percent else least


def points_of(threshold: Threshold, total: float) -> float:
    """A threshold in points: a percentage of the total rounded up to the next half point."""
    if not threshold.percent:
        return threshold.least
    return marks_of(_exact(threshold, total))


def resolve(grading: Grading | None, total: float, out: Collector) -> Scale:
    """The scale in points (the default scale where the source gives none); its problems go to ``out``."""
    grading = grading or GERMAN
    cuts: list[Cut] = []
    seen: set[str] = set()
    previous: Threshold | None = None
    for threshold in grading.thresholds:
        problem = None
        points = points_of(threshold, total)
        written = f"{format_number(threshold.least)}% ({format_number(points)} points)" if threshold.percent \
            else f"{format_number(points)} points"
        if threshold.grade in seen or threshold.grade == grading.fail:
            problem = f"grade {threshold.grade} is given twice (the failing grade is {grading.fail})"
        elif (threshold.percent and threshold.least > 100) or points > total:
            problem = f"grade {threshold.grade} needs {written}, more than the exam's {format_number(total)} points"
        elif previous and points == cuts[-1].points and _exact(threshold, total) < _exact(previous, total):
            out.warn(f"grade {threshold.grade} needs {written}, as many as grade {cuts[-1].grade}: the exam's "
                     f"{format_number(total)} points are too few to tell them apart, so nobody gets {threshold.grade}",
                     threshold.loc, "grading")
        elif cuts and points >= cuts[-1].points:
            problem = (f"grade {threshold.grade} needs {written}, not fewer than grade {cuts[-1].grade} "
                       f"({format_number(cuts[-1].points)} points): list the best grade first, each needing fewer "
                       "points than the one before")
        if problem:
            out.error(SourceError(problem, threshold.loc, "grading"))
        seen.add(threshold.grade)
        cuts.append(Cut(threshold.grade, points))
        previous = threshold
    if not cuts:
        out.error(SourceError("the grading scale has no thresholds", grading.loc, "grading"))
    return Scale(tuple(cuts), grading.fail, total)


def read_grading(fields: Fields, total: float) -> Grading | None:
    """The source's ``grading:`` (validate calls this), checked against the exam's total; None without one."""
    data = fields.data.get("grading")
    if data is None:
        return None
    if not isinstance(data, SourceMap):
        fields.fail("'grading' must be a mapping with 'thresholds' (GRADE=LEAST, best first) and/or 'fail'",
                    "grading")
        return None
    nested = fields.nested(data, GRADING_KEYS)
    thresholds = []
    for item, loc in nested.items("thresholds"):
        try:
            if isinstance(item, (SourceMap, SourceList)):
                raise ValueError("a threshold is text GRADE=POINTS or GRADE=PERCENT% (such as 4.0=50%)")
            thresholds.append(parse_threshold(str(item), loc))
        except ValueError as exc:
            fields.out.error(SourceError(str(exc), loc, "grading"))
    grading = Grading(tuple(thresholds) or GERMAN.thresholds, nested.string("fail", GERMAN.fail), data.loc)
    resolve(grading, total, fields.out)
    return grading
