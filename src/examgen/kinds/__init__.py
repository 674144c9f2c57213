"""Part kinds, one module each, found through this registry.

A kind says which keys of a part are its own, turns them into its answer record
(``validate``), finishes that record once the texts are rendered (``finish``, where a
kind computes what its texts alone cannot say) and describes its answer to the key.
Its look is one macro of the theme's ``blocks.tex.j2``, named like the kind. Adding a
kind is a module here, an entry in ``KINDS``, that macro and a section in docs/format.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from .. import shapes
from . import choice, free, numeric

if TYPE_CHECKING:
    from ..model.fields import Fields
    from ..model.source import Expression, Text
    from ..model.tree import SourceMap

T = TypeVar("T")


class Answer(Protocol[T]):  # type: ignore[misc]  # a record generic in its text type
    """What a part of some kind asks of the student, and its solution."""

    kind: ClassVar[str]
    graded: ClassVar[bool]  # graded by hand: grading boxes beside the part

    def public(self) -> tuple[T, ...]:
        """The texts the student copy shows (a solution may quote them without leaking)."""
        ...

    def secrets(self) -> tuple[T, ...]:
        """The texts only the solution view shows."""
        ...

    def key(self) -> dict:
        """The kind's own entries in key.json."""
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


__all__ = ["Answer", "Evaluate", "KINDS", "KIND_KEYS", "Kind", "by_name", "kind_of"]
