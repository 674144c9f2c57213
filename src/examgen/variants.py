"""Variants (docs/variants.md): what tells them apart besides their compute blocks' draws, which
the compute stage makes (sandbox/draws.py): the order of shuffled options, and how messages
name a variant."""

from __future__ import annotations

import dataclasses
import random
import re

from .model.source import Exam, Part, Problem, Text
from .sandbox.draws import Draws, seed


def all_named(labels: list[str]) -> str:
    """Variants as messages name them: "variant A, seeds 4, 17" (a number is a seed: of `examgen verify`,
    or a copy's under ``per-copy``)."""
    seeds = [label for label in labels if label.isdigit()]
    names = [label for label in labels if not label.isdigit()]
    kinds = [(f"variant{'s' * (len(names) > 1)} ", names), (f"seed{'s' * (len(seeds) > 1)} ", seeds)]
    return ", ".join(kind + ", ".join(some) for kind, some in kinds if some)


def in_variant(context: str | None, label: str | None) -> str | None:
    """A message's context, with the variant it happened in."""
    if label is None:
        return context
    return f"{context} ({all_named([label])})" if context else all_named([label])


NAMED = re.compile(r"^(.*?) ?\(?(?:seed|variant) ([^()]+)\)?$")


def variant_of(context: str | None) -> tuple[str | None, str | None]:
    """A context that ``in_variant`` made, taken apart again: the context and the label."""
    found = NAMED.match(context or "")
    return (found.group(1) or None, found.group(2)) if found else (context, None)


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
