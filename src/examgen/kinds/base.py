"""What an answer record has unless its kind says otherwise, so that every stage asks the record
(``kinds.Answer``) instead of probing for a kind: no check boxes, no shuffle, no written solution,
no form an online platform asks it in. And those forms: how an export may ask a part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from typing import Self

    from ..model.source import Note
    from ..sandbox.draws import Draws
    from . import Answer

T = TypeVar("T")


@dataclass(frozen=True)
class Choose:
    """Cross any of the part's boxes (its options; ``single``: one of them); right: exactly these, by
    their printed numbers, scored by ``scoring`` (a rule of ``kinds.choice.SCORING``)."""

    correct: tuple[int, ...]
    single: bool = False
    scoring: str = "all-or-nothing"


@dataclass(frozen=True)
class Number:
    """Type a number; right within an absolute tolerance. The unit is printed, not graded."""

    value: float
    tolerance: float
    unit: str | None


@dataclass(frozen=True)
class Essay:
    """Write an answer out, graded by hand."""


Form = Choose | Number | Essay


class BaseAnswer(Generic[T]):
    """The defaults of ``kinds.Answer`` for a kind without check boxes."""

    order: tuple[int, ...] = ()  # once shuffled: the source's number of each box, in printed order
    shuffle: bool = False  # a variant may print its boxes in another order
    single: bool = False  # exactly one box is right: the student crosses one

    @property
    def rule(self) -> str:
        """How a reading of its boxes scores (kinds.choice.SCORING), as ``scored`` does."""
        return "all-or-nothing"

    def boxes(self) -> tuple[T, ...]:
        """The texts beside its check boxes, in printed order: a scanner reads their crosses, and the
        problem's multiple-choice instructions cover the part."""
        return ()

    def crossed(self) -> frozenset[int]:
        """The boxes the solution crosses, by printed number."""
        return frozenset()

    def scored(self, crossed: frozenset[int], key: frozenset[int], points: float) -> float:
        """A scanner's reading of its boxes against a copy's key: all boxes right earn the points,
        anything else none (the rule the exam's instructions state)."""
        return points if crossed == key else 0.0

    def scored_by(self, rule: str) -> Self:
        """The answer scored by the exam's ``scoring`` rule where it has none of its own; a kind
        without boxes has no rule to take."""
        return self

    def explanations(self) -> tuple[T | None, ...]:
        """Why each box's text is right or wrong, in printed order (None: not explained; none: no boxes)."""
        return ()

    def shuffled(self, draws: Callable[[], Draws]) -> Self:
        """The answer as a variant prints it; ``draws``, the part's own seeded draws, are asked for
        only by a kind that shuffles."""
        return self

    def key_computed(self) -> bool:
        """Whether which boxes are right is computed (so the right ones may land anywhere)."""
        return False

    def places(self) -> tuple[bool, ...]:
        """Whether each place that a shuffle or a computed key moves right boxes over holds one;
        verify tests that they land evenly."""
        return tuple(number in self.crossed() for number in range(1, len(self.boxes()) + 1))

    def sought(self: Answer[T]) -> object:
        """What a student must find, the same wherever a shuffle put it: verify tells variants apart by it."""
        return [self.key(), [str(text) for text in self.secrets()]]

    def for_student(self) -> Self:
        """The record as the student view holds it, knowing no answer: no key, no solution, no notes,
        so no template can print one. A kind whose record holds answers returns a copy without them."""
        return self

    def written_solution(self) -> T | None:
        """The sample solution typeset in its answer space."""
        return None

    def rubric(self) -> tuple[Note[T], ...]:
        """The correction notes, for graders."""
        return ()

    def space_cm(self) -> float | None:
        """The height of its answer space, None without one."""
        return None

    def form(self) -> Form | None:
        """How an online platform asks it (docs/exports.md); None: none can, and an export refuses it."""
        return None
