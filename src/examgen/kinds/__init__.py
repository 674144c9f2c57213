"""Part kinds, one module each, found through this registry.

A kind says which keys of a part are its own, turns them into its answer record
(``validate``) and finishes that record once the texts are rendered (``finish``, where a
kind computes what its texts alone cannot say). The record (``Answer``) carries everything
the kind means to the other stages: its key.json entries, its check boxes (which the
scanner reads, the solution crosses and the exam's multiple-choice instructions cover) and
how a reading of them scores, how a variant shuffles it, what verify compares, its written
solution, notes and answer space, and the form an online platform asks it in (an export
refuses a kind without one, naming the part). ``base.BaseAnswer`` holds the defaults of a
kind without boxes. Its look is one macro of the theme's ``blocks.tex.j2``, named like the
kind. Adding a kind is a module here, an entry in ``KINDS``, that macro and a section in
docs/format.md (docs/architecture.md, "A new part kind").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from .. import shapes
from . import choice, free, numeric
from .choice import SCORING, SCORING_SHAPE, scoring_rule

if TYPE_CHECKING:
    from typing import Self

    from ..model.fields import Fields
    from ..model.source import Expression, Note, Text
    from ..model.tree import SourceMap
    from ..sandbox.draws import Draws
    from .base import Form

T = TypeVar("T")


class Answer(Protocol[T]):  # a record generic in its text type
    """What a part of some kind asks of the student, and its solution."""

    kind: ClassVar[str]
    graded: ClassVar[bool]  # graded by hand: grading boxes beside the part
    @property
    def single(self) -> bool:
        """Exactly one box is right: the student crosses one."""
        ...

    @property
    def rule(self) -> str:
        """How a reading of its boxes scores (``choice.SCORING``), as the legend states it."""
        ...

    def public(self) -> tuple[T, ...]:
        """The texts the student copy shows (a solution may quote them without leaking)."""
        ...

    def secrets(self) -> tuple[T, ...]:
        """The texts only the solution view shows."""
        ...

    def key(self) -> dict:
        """The kind's own entries in key.json."""
        ...

    @property
    def order(self) -> tuple[int, ...]:
        """Once shuffled: the source's number of each box, in printed order; else empty."""
        ...

    @property
    def shuffle(self) -> bool:
        """Whether a variant may print its boxes in another order."""
        ...

    def boxes(self) -> tuple[T, ...]:
        """The texts beside its check boxes, in printed order (none: no boxes)."""
        ...

    def crossed(self) -> frozenset[int]:
        """The boxes the solution crosses, by printed number."""
        ...

    def scored(self, crossed: frozenset[int], key: frozenset[int], points: float) -> float:
        """The points of a scanner's reading of its boxes, against a copy's key (its ``crossed()``)."""
        ...

    def scored_by(self, rule: str) -> Self:
        """The answer scored by the exam's rule (``scoring``) where it states none of its own."""
        ...

    def explanations(self) -> tuple[T | None, ...]:
        """Why each box's text is right or wrong, in printed order (None where not explained)."""
        ...

    def shuffled(self, draws: Callable[[], Draws]) -> Self:
        """The answer as a variant prints it, shuffled by the part's own draws where it shuffles."""
        ...

    def key_computed(self) -> bool:
        """Whether which boxes are right is computed."""
        ...

    def places(self) -> tuple[bool, ...]:
        """Whether each place that a shuffle or a computed key moves right boxes over holds one."""
        ...

    def sought(self) -> object:
        """What a student must find, the same wherever a shuffle put it."""
        ...

    def for_student(self) -> Self:
        """The record without the answers it holds (the student view is rendered from it)."""
        ...

    def written_solution(self) -> T | None: ...

    def rubric(self) -> tuple[Note[T], ...]: ...

    def space_cm(self) -> float | None:
        """The height of its answer space, None without one."""
        ...

    def form(self) -> Form | None:
        """How an online platform asks it; None: none can."""
        ...


Evaluate = Callable[["Expression"], object]  # an expression of the source -> its value in the part's scope


class Kind(Protocol):
    name: str
    title: str  # as messages name it: "a multiple-choice part"
    hint: str  # why a key of another kind does not fit this one
    keys: shapes.Keys  # the part keys this kind reads, with what each holds
    marker: str | None  # the key that makes a part of this kind; None: any part no other kind claims

    def claims(self, data: SourceMap) -> bool:
        """Whether a part with these keys is of this kind."""
        ...

    def validate(self, fields: Fields) -> Answer[Text]: ...

    def finish(self, answer: Answer[str], evaluate: Evaluate) -> Answer[str]:
        """The rendered answer completed with what only the computed values tell."""
        ...


KINDS: tuple[Kind, ...] = (choice.KIND, numeric.KIND, free.KIND)  # the first that claims a part; free claims any
KIND_KEYS: shapes.Keys = {key: shape for kind in KINDS for key, shape in kind.keys.items()}


def kind_of(data: SourceMap) -> Kind:
    return next(kind for kind in KINDS if kind.claims(data))


def by_name(name: str) -> Kind:
    return next(kind for kind in KINDS if kind.name == name)


__all__ = ["Answer", "Evaluate", "KINDS", "KIND_KEYS", "Kind", "SCORING", "SCORING_SHAPE", "by_name", "kind_of",
           "scoring_rule"]
