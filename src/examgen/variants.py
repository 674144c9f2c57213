"""Variants (docs/variants.md): what tells them apart besides their compute blocks' draws, which
the compute stage makes (sandbox/draws.py): the order of shuffled options."""

from __future__ import annotations

import dataclasses
import random

from .model.source import Exam, Part, Problem, Text
from .sandbox.draws import Draws, seed


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
