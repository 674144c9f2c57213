"""`examgen verify` (docs/variants.md): what each of many variants of an exam shows, and what
is wrong with them, seed by seed and across all of them.

``see`` looks at one variant (run by the orchestrator's workers, a process per core): each
problem rendered as the sample solution shows it, unless a variant before it had the same
values and option order, then that one's findings stand. ``Verdict`` gathers every variant's:
the same failure of many seeds is one error naming the first of them; the correct options'
positions of a shuffled part go through a chi-square test; a part whose values vary while its
answer never does is a warning.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from .errors import Collector, ExamgenError, Loc, VerifyError, all_named
from .kinds.choice import Choice
from .model.computed import ComputedExam
from .model.source import Part, Problem, Text
from .stages.render import solution_problems
from .theme import Theme

P_VALUE = 1e-6  # a fair shuffle fails a part this rarely: once in a million exams
LEAST_EXPECTED = 5  # the chi-square test's rule of thumb: at least this many expected per position
SEEDS_SHOWN = 3  # of a failure many seeds share, the seeds named (and of its values, those named)
VALUE_AT_END = re.compile(r"(.*) \(([^()]*)\)", re.S)  # a failure's message and the values it ends with


@dataclass(frozen=True)
class Finding:
    """A failure in one variant, as plain data (workers hand it back)."""

    message: str
    loc: Loc | None
    context: str | None

    @classmethod
    def of(cls, error: ExamgenError) -> Finding:
        return cls(error.message, error.loc, error.context)

    @property
    def order(self) -> tuple[str, int, str]:
        """Source order, as a build lists its errors."""
        return (str(self.loc.file), self.loc.line or 0, self.message) if self.loc else ("", 0, self.message)


@dataclass(frozen=True)
class PartSeen:
    """One part in one variant: digests of the values it uses and of its answer; for a choice part
    that is shuffled or computes its correct options, their places (among those a shuffle moves)
    and how many places there are."""

    inputs: str
    answer: str
    correct: tuple[int, ...] = ()
    movable: int = 0
    right: tuple[int, ...] = ()  # a computed key: the options correct, by their numbers in the source
    echoes: tuple[int, ...] = ()  # options marked wrong by hand that print a number the problem answers with


@dataclass(frozen=True)
class ProblemSeen:
    parts: dict[str, PartSeen]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class VariantSeen:
    label: str
    problems: dict[int, str]  # problem number -> the digest of its values and option orders


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _finite(value: object) -> bool:
    """Whether a computed value holds no NaN or infinity (which reach the texts as 'nan', 'inf')."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return value not in ("nan", "inf", "-inf")
    if isinstance(value, list):
        return all(map(_finite, value))
    if isinstance(value, dict):
        return all(map(_finite, value.values()))
    return True


NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


def _numbers(latex: str) -> set[str]:
    """The numbers a text prints, as written (``num``'s thousands and decimal marks read back)."""
    return set(NUMBER.findall(latex.replace("{,}", ",").replace("\\,", "").replace("$", "")))


def answered(problem: Problem[str]) -> set[str]:
    """The numbers a problem answers with: its numeric answers and what its sample solutions print."""
    numbers: set[str] = set()
    for part in problem.parts:
        printed = part.answer.key().get("answer_printed")
        numbers |= {printed} if isinstance(printed, str) else set()
        numbers |= _numbers(str(part.answer.written_solution() or ""))
    return numbers


def _echoes(part: Part[str], source: Part[Text], answers: set[str]) -> tuple[int, ...]:
    """Options the source marks wrong by hand (``correct: false``) that print a number alone which
    the problem answers with: right, maybe, for these values."""
    answer, written = part.answer, source.answer  # both as the variant prints them (shuffled alike)
    if not isinstance(written, Choice) or written.computed:
        return ()
    numbers = answer.order or range(1, len(answer.boxes()) + 1)
    return tuple(sorted(number for number, box, option in zip(numbers, answer.boxes(), written.options)
                        if option.correct is False
                        and (text := " ".join(str(box).replace("$", "").split())) in answers
                        and NUMBER.fullmatch(text)))


def _part(part: Part[str], source: Part[Text], used: dict[str, object], answers: set[str],
          out: Collector) -> PartSeen:
    """A part's digests, and its findings: values that are not finite, check boxes (options) that
    print alike (by their numbers in the source)."""
    for name, value in used.items():
        if not _finite(value):
            out.error(VerifyError(f"'{name}' is {value!r}, not a finite number", part.loc, part.context))
    answer = part.answer
    boxes = answer.boxes()
    numbers = answer.order or range(1, len(boxes) + 1)
    printed: dict[str, int] = {}
    for number, box in zip(numbers, boxes):
        text = " ".join(str(box).split())
        if text in printed:
            first, second = sorted((printed[text], number))
            out.error(VerifyError(f"options {first} and {second} print the same ('{text}')", part.loc, part.context))
        printed.setdefault(text, number)
    echoes = _echoes(part, source, answers)
    if not (answer.shuffle or source.answer.key_computed()):
        return PartSeen(_digest(used), _digest(answer.sought()), echoes=echoes)
    places = answer.places()
    correct = tuple(place for place, right in enumerate(places) if right)
    right = tuple(sorted(numbers[box - 1] for box in answer.crossed())) if source.answer.key_computed() else ()
    return PartSeen(_digest(used), _digest(answer.sought()), correct, len(places), right, echoes)


def see(computed: ComputedExam, theme: Theme, seen: dict[str, ProblemSeen]) -> VariantSeen:
    """One variant: each problem's digest, and what ``seen`` (problem digest -> what was found)
    does not hold yet, rendered and checked."""
    exam = computed.exam
    digests = {problem.number: _digest([problem.number, computed.scope(problem.number).values,
                                        [part.answer.order for part in problem.parts]])
               for problem in exam.problems}
    new = frozenset(number for number, digest in digests.items() if digest not in seen)
    sources = {problem.number: problem for problem in exam.problems}
    for number, (problem, used, errors) in solution_problems(computed, theme, new).items():
        out = Collector()
        answers = answered(problem)
        parts = {part.number: _part(part, source, used[part.number], answers, out)
                 for part, source in zip(problem.parts, sources[number].parts)}
        seen[digests[number]] = ProblemSeen(parts, tuple(map(Finding.of, [*errors, *out.errors])))
    assert computed.variant is not None
    return VariantSeen(computed.variant, digests)


def p_value(counts: list[int]) -> float:
    """Chi-square goodness of fit of counts against equal chances: the probability that a fair
    draw spreads at least this unevenly. Its survival function for k - 1 degrees of freedom in
    closed form (even: a Poisson sum; odd: erfc and a sum of half-integer powers)."""
    total, k = sum(counts), len(counts)
    expected = total / k
    y = sum((count - expected) ** 2 / expected for count in counts) / 2
    dof = k - 1
    if dof % 2 == 0:
        return math.exp(-y) * sum(y ** i / math.factorial(i) for i in range(dof // 2))
    tail = sum(y ** (i + 0.5) / math.gamma(i + 1.5) for i in range(dof // 2))
    return math.erfc(math.sqrt(y)) + math.exp(-y) * tail


@dataclass
class Verdict:
    """Every variant's findings, gathered: failures (each once, with the seeds it happened for),
    warnings, and the distinct variants of each problem."""

    labels: list[str] = field(default_factory=list)
    failed: dict[Finding, list[str]] = field(default_factory=dict)
    distinct: dict[int, set[str]] = field(default_factory=dict)
    parts: dict[str, list[PartSeen]] = field(default_factory=dict)
    echoed: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (part, option) -> its seeds

    def fail(self, finding: Finding, label: str) -> None:
        self.failed.setdefault(finding, []).append(label)

    def add(self, variant: VariantSeen, seen: dict[str, ProblemSeen]) -> None:
        self.labels.append(variant.label)
        for number, digest in variant.problems.items():
            self.distinct.setdefault(number, set()).add(digest)
            problem = seen[digest]
            for finding in problem.findings:
                self.fail(finding, variant.label)
            for part, summary in problem.parts.items():
                self.parts.setdefault(part, []).append(summary)
                for option in summary.echoes:
                    self.echoed.setdefault((part, option), []).append(variant.label)

    def seeds(self, labels: list[str]) -> str:
        """The first seeds (or variants) of many, and how many more: "seeds 2, 9 and 281 more of 1002"."""
        more = f" and {len(labels) - SEEDS_SHOWN} more" if len(labels) > SEEDS_SHOWN else ""
        return f"{all_named(labels[:SEEDS_SHOWN])}{more} of {len(self.labels)}"

    def errors(self) -> list[ExamgenError]:
        """Each failure once, naming the first seeds it happened for: failures alike but for the values
        they end with ("print the same ('12')", "does not hold (k = 3)") are one, listing those values."""
        bugs: dict[tuple, tuple[list[str], list[str]]] = {}
        for finding, labels in sorted(self.failed.items(), key=lambda item: item[0].order):
            ending = VALUE_AT_END.fullmatch(finding.message)
            head, value = ending.groups() if ending else (finding.message, "")
            values, seeds = bugs.setdefault((finding.loc, finding.context, head), ([], []))
            values.append(value)
            seeds += labels
        errors: list[ExamgenError] = []
        order = {label: at for at, label in enumerate(self.labels)}
        for (loc, context, head), (values, labels) in bugs.items():
            shown = self.seeds(sorted(set(labels), key=lambda label: order.get(label, len(order))))
            some = values[:SEEDS_SHOWN] + ([f"{len(values) - SEEDS_SHOWN} more"] if len(values) > SEEDS_SHOWN else [])
            message = f"{head} ({'; '.join(some)})" if any(values) else head
            errors.append(VerifyError(message, loc, f"{context} ({shown})" if context else shown))
        return errors

    def right(self, part: Part) -> Counter[int]:
        """How often each option (by its number in the source) was correct, for a part whose key is computed."""
        return Counter(option for summary in self.parts.get(part.number, []) for option in summary.right)

    def how_often_right(self, part: Part) -> str | None:
        """For a part whose key is computed: how often each option was correct over the variants."""
        summaries = self.parts.get(part.number, [])
        if not summaries or not part.answer.key_computed():
            return None
        right = self.right(part)
        counts = [f"option {number} in {right.get(number, 0)}" for number in range(1, len(part.answer.boxes()) + 1)]
        return f"{part.context}: correct of {len(summaries)} variants: {', '.join(counts)}"

    def echoes(self, part: Part) -> list[str]:
        """Warnings for options marked wrong by hand that print the problem's answer in some variants
        but not in all (in all: by design, as a distractor that is the intermediate result)."""
        seen = len(self.parts.get(part.number, []))
        return [f"option {option} is marked wrong ('correct: false') but prints a number the problem answers with "
                f"({self.seeds(labels)}): there it may be right; compute its 'correct' (<< shown == answer >>) or "
                "keep the values apart with an 'expect'"
                for (number, option), labels in sorted(self.echoed.items())
                if number == part.number and len(labels) < seen]

    def skewed(self, part: Part) -> ExamgenError | str | None:
        """A shuffled or computed choice part whose correct options' places fail the chi-square test
        (an error), or a note that there are too few variants to tell."""
        summaries = self.parts.get(part.number, [])
        places = Counter(place for summary in summaries for place in summary.correct)
        movable = summaries[0].movable if summaries else 0
        if not places or movable < 2 or len({(s.inputs, s.correct) for s in summaries}) == 1:
            return None  # nothing to test; or the part is the same in every variant
        counts = [places.get(place, 0) for place in range(movable)]
        if sum(counts) / movable < LEAST_EXPECTED:
            return f"too few variants to test where its correct options land ({sum(counts)} over {movable} places)"
        p = p_value(counts)
        if p >= P_VALUE:
            return None
        return VerifyError(f"its correct options land unevenly over its places (times at each place: "
                           f"{', '.join(map(str, counts))}; chi-square p = {p:.1e} < {P_VALUE:g})",
                           part.loc, part.context)

    def constant(self, part: Part) -> str | None:
        """A warning for a part whose values vary across the variants while its answer never does."""
        summaries = self.parts.get(part.number, [])
        if len({s.inputs for s in summaries}) > 1 and len({s.answer for s in summaries}) == 1:
            return f"its answer is the same in all {len(self.labels)} variants although the values it uses vary"
        return None


_WORK: dict = {}  # in a worker process: the variants it was forked with, the theme, what it has seen


def adopt(computed: list[ComputedExam], theme: Theme) -> None:
    """A worker's start: it inherits the computed variants from its fork, unpickled."""
    _WORK.update(computed=computed, theme=theme, seen={})


def see_some(start: int, stop: int) -> tuple[list[VariantSeen], dict[str, ProblemSeen]]:
    """Variants start to stop - 1 of those adopted, and the problems first seen among them."""
    seen: dict[str, ProblemSeen] = _WORK["seen"]
    before = set(seen)
    variants = [see(computed, _WORK["theme"], seen) for computed in _WORK["computed"][start:stop]]
    return variants, {digest: problem for digest, problem in seen.items() if digest not in before}
