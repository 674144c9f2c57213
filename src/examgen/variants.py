"""Variants (docs/variants.md): what tells them apart besides their compute blocks' draws, which
the compute stage makes (sandbox/draws.py): the order of shuffled options; and whether the
variants a build prints are apart (no two alike) and balanced."""

from __future__ import annotations

import ast
import dataclasses
import json
import random
from collections import Counter
from collections.abc import Mapping

from .errors import Collector, ComputeError
from .model.rendered import RenderedExam
from .model.source import Code, Exam, Part, Problem, Text, says_none
from .sandbox.draws import VARIANT_NAMES, Draws, seed


def _shuffled_part(part: Part[Text], code: str, label: str, problem: Problem[Text]) -> Part[Text]:
    """The part as a variant prints it: its kind shuffles it (or not) with draws seeded from the
    code, the label, the problem and the part."""
    answer = part.answer.shuffled(lambda: Draws(random.Random(seed(code, label, problem.seed_name,
                                                                   part.id or part.number))))
    return part if answer is part.answer else dataclasses.replace(part, answer=answer)


def shuffled(exam: Exam[Text], label: str) -> Exam[Text]:
    """The exam as variant ``label`` prints it: every part with ``shuffle: true`` in its own order."""
    problems = tuple(dataclasses.replace(problem, parts=tuple(
        _shuffled_part(part, exam.meta.code, label, problem) for part in problem.parts)) for problem in exam.problems)
    return dataclasses.replace(exam, problems=problems)


def may_draw(code: Code | None) -> bool:
    """Whether a block may draw: it names ``rng``, ``variant`` or a helper. One that does not gives
    every variant the same values, and runs once for all of them."""
    if code is None:
        return False
    try:
        tree = ast.parse(code.source)
    except SyntaxError:
        return True  # it fails alike for every variant; reported once
    return any(isinstance(node, ast.Name) and node.id in VARIANT_NAMES for node in ast.walk(tree))


# --- the printed variants told apart and balanced (docs/variants.md, "Distinct and balanced") ---

def printed_apart(exam: Exam[Text], rendered: Mapping[str, RenderedExam], out: Collector) -> None:
    """The variants a build prints, side by side: two that give a problem whose values are drawn the
    same values are an error naming both (unless the problem ``may_repeat``); a shuffled part whose
    correct options stand at the same places in every variant, and a computed "none of the above"
    that is correct in all of them or in none, are warnings naming the part."""
    if len(rendered) < 2:
        return
    drawn = may_draw(exam.compute)
    for at, problem in enumerate(exam.problems):
        if not problem.may_repeat and (drawn or may_draw(problem.compute)):
            _same_values(problem, rendered, out)
        for index, part in enumerate(problem.parts):
            _balanced(part, [variant.exam.problems[at].parts[index] for variant in rendered.values()], out)


def _same_values(problem: Problem[Text], rendered: Mapping[str, RenderedExam], out: Collector) -> None:
    """Variants alike in the values the problem's texts use, each group once."""
    alike: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for label, variant in rendered.items():
        used = {part.number: dict(variant.values[part.number]) for part in problem.parts}
        if not any(used.values()):
            return  # its texts print nothing computed: it is the same by design
        key = json.dumps(used, sort_keys=True, default=repr)
        alike.setdefault(key, []).append(label)
        shown[key] = ", ".join(dict.fromkeys(f"{name} = {value!r}" for names in used.values()
                                             for name, value in names.items()))
    for key, labels in alike.items():
        if len(labels) > 1:
            out.error(ComputeError(
                f"the variants print the same values ({_cut(shown[key])}): give each printed variant its own, e.g. "
                "with deal(lo, hi) in the compute block, which deals the variants different values of a grid; "
                "or write 'may_repeat: true' on the problem if its variants may repeat",
                problem.compute.loc if problem.compute else problem.loc, problem.context, variants=tuple(labels)))


def _cut(text: str, most: int = 120) -> str:
    return text if len(text) <= most else text[:most].rsplit(", ", 1)[0] + ", ..."


def _balanced(part: Part[Text], printed: list[Part[str]], out: Collector) -> None:
    """A part's correct options across the printed variants (``printed``, one per variant)."""
    count = len(printed)
    places = {tuple(place for place, right in enumerate(p.answer.places()) if right) for p in printed}
    if part.answer.shuffle and len(printed[0].answer.places()) > 1 and len(places) == 1 and places != {()}:
        boxes = ", ".join(map(str, sorted(printed[0].answer.crossed())))
        out.warn(f"its correct options stand at the same places in all {count} variants (box {boxes}): a "
                 "neighbour's crosses are right in every variant; give the part another 'id', which seeds its "
                 "shuffle", part.loc, part.context)
    right = Counter(number for p in printed
                    for number in {p.answer.order[box - 1] if p.answer.order else box for box in p.answer.crossed()})
    for warning in none_given_away(part, right, count):
        out.warn(warning, part.loc, part.context)


def none_given_away(part: Part[Text], right: Counter[int], count: int) -> list[str]:
    """For a part whose key is computed: its "none of the above" options correct in none or all of
    ``count`` variants (``right``: how often each option, by its number in the source, was correct)."""
    if not part.answer.key_computed():
        return []
    return [f"option {number} ('{' '.join(text.source.split())}') is correct in "
            f"{'none' if right[number] == 0 else 'all'} of the {count} variants: make it correct in some and not in "
            "others (examgen verify counts how often over its seeds), so that the paper does not give the answer "
            "away" for number, text in enumerate(part.answer.boxes(), 1)
            if says_none(text.source) and right[number] in (0, count)]

