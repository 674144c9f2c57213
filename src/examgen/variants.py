"""Variants (docs/variants.md): what tells them apart besides their compute blocks' draws, which
the compute stage makes (sandbox/draws.py): the order of shuffled options."""

from __future__ import annotations

import dataclasses
import random

from .kinds.choice import Choice
from .model.source import Exam, Part, Problem, Text
from .sandbox.draws import Draws, seed


def order(part: Part[Text], code: str, label: str, problem: Problem[Text]) -> tuple[int, ...]:
    """The source's option numbers in the order a variant prints them: the options that are not
    fixed shuffled among their places, seeded from the code, the label, the problem and the part."""
    assert isinstance(part.answer, Choice)
    options = part.answer.options
    movable = [number for number, option in enumerate(options, 1) if not option.fixed]
    draws = Draws(random.Random(seed(code, label, problem.seed_name, part.id or part.number)))
    moved = iter(draws.shuffled(movable))
    return tuple(number if option.fixed else next(moved) for number, option in enumerate(options, 1))


def _shuffled_part(part: Part[Text], code: str, label: str, problem: Problem[Text]) -> Part[Text]:
    if not (isinstance(part.answer, Choice) and part.answer.shuffle):
        return part
    numbers = order(part, code, label, problem)
    options = tuple(part.answer.options[number - 1] for number in numbers)
    return dataclasses.replace(part, answer=dataclasses.replace(part.answer, options=options, order=numbers))


def shuffled(exam: Exam[Text], label: str) -> Exam[Text]:
    """The exam as variant ``label`` prints it: every part with ``shuffle: true`` in its own order."""
    problems = tuple(dataclasses.replace(problem, parts=tuple(
        _shuffled_part(part, exam.meta.code, label, problem) for part in problem.parts)) for problem in exam.problems)
    return dataclasses.replace(exam, problems=problems)
