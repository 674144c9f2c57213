"""Points per copy and part, totals and grades: a part with check boxes a scanner read is scored
by its kind against the copy's own key (a multiple-choice part: all boxes right, the part's
points, else 0); every other part has the points a grader entered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import Collector, SourceError
from ..kinds import Answer
from ..model.rendered import RenderedExam
from ..model.source import Part
from .scale import Scale
from .sheets import Crossed, Row

Key = Mapping[str, frozenset[int]]  # number of a part with check boxes -> the boxes its solution crosses


def _boxed(rendered: RenderedExam) -> list[Part]:
    """The parts with check boxes."""
    return [part for _, part in rendered.exam.parts() if part.answer.boxes()]


def _key(rendered: RenderedExam) -> Key:
    return {part.number: part.answer.crossed() for part in _boxed(rendered)}


def _answers(rendered: RenderedExam) -> dict[str, Answer]:
    """The parts with check boxes' answer records, which score a reading of them (their count of
    options may differ per variant: generated options)."""
    return {part.number: part.answer for part in _boxed(rendered)}


def _orders(rendered: RenderedExam) -> dict[str, tuple[int, ...]]:
    """A shuffled part's boxes as the source numbers them, in printed order."""
    return {part.number: part.answer.order for part in _boxed(rendered) if part.answer.order}


class Keys:
    """Each copy's key of its boxes (key.json's ``correct``): the exam's, or in an exam with
    variants its variant's (``variants`` by label; ``assigned``: copy code -> label, from the
    copies' manifest), here and nowhere else."""

    def __init__(self, rendered: RenderedExam, variants: Mapping[str, RenderedExam] | None = None,
                 assigned: Mapping[str, str | None] | None = None):
        self.exam_key: Key = _key(rendered)
        self.variant_keys = {label: _key(variant) for label, variant in (variants or {}).items()}
        self.exam_answers = _answers(rendered)
        self.variant_answers = {label: _answers(variant) for label, variant in (variants or {}).items()}
        self.assigned = assigned or {}
        self.orders: dict[str | None, dict[str, tuple[int, ...]]] = {
            label: _orders(variant) for label, variant in (variants or {}).items()}
        self.first = rendered.variant

    def of(self, code: str) -> Key:
        variant = self.assigned.get(code)
        return self.variant_keys[variant] if variant is not None else self.exam_key

    def answer(self, code: str, part: str) -> Answer:
        """The answer record of a copy's part, as its variant has it: it scores the copy's crosses."""
        variant = self.assigned.get(code)
        return (self.variant_answers[variant] if variant is not None else self.exam_answers)[part]

    def in_source(self, part: str, options: frozenset[int], code: str | None = None) -> frozenset[int]:
        """Options a copy's variant (without ``code``, the first variant) printed, numbered as the source
        numbers them, so that a shuffled part's options are counted together across variants."""
        order = self.orders.get(self.assigned.get(code) if code else self.first, {}).get(part)
        return frozenset(order[option - 1] for option in options) if order else options


@dataclass(frozen=True)
class Graded:
    """A copy with every part graded: its points per part (in exam order), total and grade."""

    row: Row
    points: tuple[float, ...]
    total: float
    grade: str


@dataclass(frozen=True)
class Results:
    parts: tuple[Part, ...]
    graded: tuple[Graded, ...]
    absent: tuple[Row, ...]  # rows without a single mark: copies of students who did not sit the exam
    crossed: tuple[Crossed, ...]
    keys: Keys
    scale: Scale

    @property
    def rows(self) -> tuple[Row, ...]:
        """Every copy of the marks sheet, in its order."""
        return tuple(sorted((*(g.row for g in self.graded), *self.absent), key=lambda row: row.loc.line or 0))


def score(parts: tuple[Part, ...], rows: tuple[Row, ...], crossed: tuple[Crossed, ...], keys: Keys, scale: Scale,
          out: Collector) -> Results:
    """Every copy's points; a copy graded in part only is an error at its row (its empty cells named)."""
    scanned = {(cross.code, cross.part): cross.options for cross in crossed}
    reported = {error.loc for error in out.errors}  # a row with a bad cell is not also "not graded"
    graded, absent = [], []
    for row in rows:
        key = keys.of(row.code)
        points: list[float | None] = []
        for part in parts:
            options = scanned.get((row.code, part.number))
            points.append(row.marks.get(part.number) if options is None
                          else keys.answer(row.code, part.number).scored(options, key[part.number], part.points))
        if all(given is None for given in points):
            absent.append(row)
            continue
        empty = [part.number for part, given in zip(parts, points) if given is None and part.number in row.marks]
        if empty and row.loc not in reported:
            out.error(SourceError(f"not graded: part{'s' if len(empty) > 1 else ''} {', '.join(empty)} (an empty "
                                  "cell; enter 0 for no points, or leave the whole row empty for an absent student)",
                                  row.loc, f"copy {row.code}"))
        given = [p for p in points if p is not None]
        if len(given) == len(parts):
            total = sum(given)
            graded.append(Graded(row, tuple(given), total, scale.grade(total)))
    if not graded and not out.errors:
        out.error(SourceError("no copy is graded: every row of the marks sheet is empty", rows[0].loc if rows
                              else None, "marks sheet"))
    return Results(parts, tuple(graded), tuple(absent), crossed, keys, scale)
