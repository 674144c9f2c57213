"""The computed exam: what the compute stage hands on, the validated exam with the values
its Python blocks computed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .source import Code, Exam, Text

EXAM_SCOPE = 0  # key of the exam block's namespace; problems use their number


@dataclass(frozen=True)
class Scope:
    """The computed values a text can use, and the names its own block defined."""

    values: Mapping[str, object]
    defined: tuple[str, ...] = ()
    code: Code | None = None
    # names a block defined that are not data (a function, a set), with what they are and the
    # block's label: a text that uses one is told why it cannot
    unusable: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ComputedExam:
    exam: Exam[Text]
    scopes: Mapping[int, Scope]  # EXAM_SCOPE or a problem's number -> its scope
    variant: str | None = None  # its label, with variants (docs/variants.md)

    def scope(self, problem: int) -> Scope:
        return self.scopes[problem]
