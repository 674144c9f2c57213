"""The item analysis of classical test theory over the graded copies (docs/grading.md has the
formulas and references): per part its mean, difficulty (mean / maximum) and discrimination
(the corrected item-total correlation: the part against the total of the other parts), for
multiple choice how often each option was crossed, and the exam's Cronbach's alpha."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .score import Results

NEGATIVE = "discriminates negatively"
NOBODY = "nobody scored"
EVERYBODY = "everybody got full points"


def variance(values: Sequence[float]) -> float:
    """The population variance (over n), in floats: statistics.pvariance's exact fractions cost a
    hundred times as much, for digits no report shows."""
    mean = math.fsum(values) / len(values)
    return math.fsum((value - mean) ** 2 for value in values) / len(values)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None where either side does not vary (the correlation is undefined)."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    sxx, syy = sum(d * d for d in dx), sum(d * d for d in dy)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sum(a * b for a, b in zip(dx, dy)) / math.sqrt(sxx * syy)


@dataclass(frozen=True)
class PartStats:
    number: str
    kind: str
    points: float  # its maximum
    mean: float
    sd: float
    difficulty: float  # mean / maximum: 1 is easy, 0 hard (the "difficulty index" p)
    discrimination: float | None  # corrected item-total correlation; None where it is undefined
    flags: tuple[str, ...]


@dataclass(frozen=True)
class OptionStats:
    """How often each option of a multiple-choice part was crossed, among the copies a scanner read
    that share one key: in an exam whose variants compute the key, one per key (its variants named)."""

    number: str
    scanned: int  # copies with a reading of this part
    crossed: tuple[int, ...]  # per option, from option 1 (as the source numbers them)
    correct: frozenset[int]  # these copies' key, as the source numbers the options
    right: int  # copies whose crosses were exactly their key
    variants: tuple[str, ...] = ()  # the variants of these copies, where the part's key differs between variants
    said: tuple[str, ...] = ()  # where the options say different things per variant: what each says in this one
    roles: tuple[float | None, float | None] | None = None  # counted by role instead: the shares crossed of the
    # correct options and of the distractors the copies were given (None: none given)


@dataclass(frozen=True)
class VariantStats:
    """The copies of one variant: how many were graded, each part's difficulty among them."""

    label: str
    count: int
    difficulty: tuple[float, ...]  # per part, in exam order


@dataclass(frozen=True)
class Analysis:
    count: int
    mean: float
    median: float
    sd: float
    alpha: float | None  # Cronbach's alpha; None for fewer than two parts or totals that do not vary
    parts: tuple[PartStats, ...]
    options: tuple[OptionStats, ...]
    grades: tuple[tuple[str, int], ...]  # every grade of the scale, best first, with how many got it
    variants: tuple[VariantStats, ...] = ()  # in an exam with variants, per variant in the source's order


def _part(results: Results, index: int, totals: list[float]) -> PartStats:
    part = results.parts[index]
    scores = [graded.points[index] for graded in results.graded]
    mean = statistics.fmean(scores)
    discrimination = pearson(scores, [total - score for total, score in zip(totals, scores)])
    flags = [flag for flag, applies in ((NEGATIVE, discrimination is not None and discrimination < 0),
                                        (NOBODY, max(scores) == 0),
                                        (EVERYBODY, min(scores) == part.points)) if applies]
    return PartStats(part.number, part.kind, part.points, mean, math.sqrt(variance(scores)), mean / part.points,
                     discrimination, tuple(flags))


MOST_VARIANT_ROWS = 8  # a part whose options differ per variant gets a row per variant up to this many, else by role


def said_in_source_order(answer) -> tuple[str, ...]:
    """What a part's options say, in the source's order (a shuffled part's printed order undone)."""
    boxes = answer.boxes()
    order = getattr(answer, "order", ()) or range(1, len(boxes) + 1)
    return tuple(" ".join(str(text).split()) for _, text in sorted(zip(order, boxes)))


def _options(results: Results) -> tuple[OptionStats, ...]:
    """Per part, the crossed options counted so that each count is of one thing: where every variant's options
    say the same (written out; shuffled or not), by the source's numbers among the copies of each key, marked
    correct or not as those copies' key has it; where they differ (generated options, computed texts), per
    variant, or by role (correct or distractor) when the variants are more than a table's rows."""
    graded = {graded.row.code for graded in results.graded}
    keys = results.keys
    order = {label: index for index, label in enumerate(keys.variant_keys)}
    stats: list[OptionStats] = []
    for part in results.parts:
        readings = [(c.code, c.options) for c in results.crossed if c.part == part.number and c.code in graded]
        said = {label: said_in_source_order(answers[part.number])
                for label, answers in keys.variant_answers.items() if part.number in answers}
        if len(set(said.values())) > 1:
            stats.extend(_per_variant(results, part.number, readings, said))
            continue
        by_key: dict[frozenset[int], list[tuple[str, frozenset[int]]]] = {}
        for code, options in readings:
            by_key.setdefault(keys.in_source(part.number, keys.of(code)[part.number], code), []).append((code, options))
        for correct, some in by_key.items():
            labels = {label for code, _ in some if (label := keys.assigned.get(code)) is not None}
            stats.append(_counted(results, part.number, some, correct,
                                  tuple(sorted(labels, key=order.__getitem__)) if len(by_key) > 1 else ()))
    return tuple(stats)


def _counted(results: Results, part: str, some: list[tuple[str, frozenset[int]]], correct: frozenset[int],
             variants: tuple[str, ...], said: tuple[str, ...] = ()) -> OptionStats:
    """One row of counts: the copies ``some`` (code, crossed options) counted by the source's option numbers."""
    keys = results.keys
    count = max(len(keys.answer(code, part).boxes()) for code, _ in some)
    crossed = Counter(option for code, options in some for option in keys.in_source(part, options, code))
    right = sum(options == keys.of(code)[part] for code, options in some)
    return OptionStats(part, len(some), tuple(crossed[o] for o in range(1, count + 1)), correct, right, variants, said)


def _per_variant(results: Results, part: str, readings: list[tuple[str, frozenset[int]]],
                 said: dict[str, tuple[str, ...]]) -> list[OptionStats]:
    """A part whose options say different things per variant: a row per variant with what its options say, or
    (more variants than rows: ``per-copy``) one row of the shares of correct options and distractors crossed."""
    keys = results.keys
    order = {label: index for index, label in enumerate(keys.variant_keys)}
    by_variant: dict[str, list[tuple[str, frozenset[int]]]] = {}
    for code, options in readings:
        by_variant.setdefault(keys.assigned.get(code) or "", []).append((code, options))
    if len(by_variant) <= MOST_VARIANT_ROWS:
        return [_counted(results, part, some, keys.in_source(part, keys.of(some[0][0])[part], some[0][0]),
                         (label,), said.get(label, ())) for label, some in
                sorted(by_variant.items(), key=lambda item: order.get(item[0], len(order)))]
    given = [0, 0]  # correct options, distractors
    crossed = [0, 0]
    for code, options in readings:
        key, boxes = keys.of(code)[part], len(keys.answer(code, part).boxes())
        given[0], given[1] = given[0] + len(key), given[1] + boxes - len(key)
        crossed[0], crossed[1] = crossed[0] + len(options & key), crossed[1] + len(options - key)
    shares = tuple(done / offered if offered else None for done, offered in zip(crossed, given))
    right = sum(options == keys.of(code)[part] for code, options in readings)
    return [OptionStats(part, len(readings), (), frozenset(), right, tuple(by_variant), roles=(shares[0], shares[1]))]


def _variants(results: Results) -> tuple[VariantStats, ...]:
    """Each part's difficulty among the graded copies of each variant (none without variants)."""
    copies: dict[str, list] = {label: [] for label in results.keys.variant_keys}
    for graded in results.graded:
        label = results.keys.assigned.get(graded.row.code)
        if label is not None:
            copies[label].append(graded)
    return tuple(VariantStats(label, len(some), tuple(statistics.fmean(c.points[index] for c in some) / part.points
                                                      for index, part in enumerate(results.parts)))
                 for label, some in copies.items() if some)


def cronbach_alpha(items: Sequence[Sequence[float]], totals: Sequence[float]) -> float | None:
    """k/(k-1) * (1 - sum of the items' variances / the totals' variance)."""
    k = len(items)
    total_variance = variance(totals)
    if k < 2 or total_variance < 1e-12:
        return None
    return k / (k - 1) * (1 - sum(variance(item) for item in items) / total_variance)


def analyse(results: Results) -> Analysis:
    totals = [graded.total for graded in results.graded]
    columns = [[graded.points[index] for graded in results.graded] for index in range(len(results.parts))]
    grades = Counter(graded.grade for graded in results.graded)
    return Analysis(
        count=len(totals), mean=statistics.fmean(totals), median=statistics.median(totals),
        sd=math.sqrt(variance(totals)), alpha=cronbach_alpha(columns, totals),
        parts=tuple(_part(results, index, totals) for index in range(len(results.parts))),
        options=_options(results), grades=tuple((grade, grades[grade]) for grade in results.scale.grades),
        variants=_variants(results),
    )
