"""The rendered exam: what the render stage hands the writers, every text expanded to LaTeX."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .source import Exam, Text


@dataclass(frozen=True)
class RenderedExam:
    source: Exam[Text]  # as validated: the writers that need the texts as written
    exam: Exam[str]  # the same exam with every text as LaTeX
    values: Mapping[str, Mapping[str, object]]  # part number -> the computed names its texts use
    placed: Mapping[int, frozenset[str]]  # problem number -> ids of figures and tables a text placed itself

    @property
    def id(self) -> str:
        return self.exam.id
