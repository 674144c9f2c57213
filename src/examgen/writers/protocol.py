"""What a writer is: what it gets (the rendered exam, a Context) and what it hands back (a Product)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import Collector
from ..theme import Theme

if TYPE_CHECKING:
    from ..figures import Placed
    from ..model.rendered import RenderedExam
    from ..stages.check import PdfText


@dataclass(frozen=True)
class Context:
    """What a writer needs besides the exam."""

    theme: Theme
    work: Path  # the exam's work folder; each writer keeps to its own part of it
    force: bool  # redo the work even if its inputs did not change
    out: Collector  # warnings
    figures: Mapping[str, Placed] = field(default_factory=dict)  # compiled TikZ pictures by key (figures.py)


@dataclass(frozen=True)
class Product:
    """What a writer made: its output files (name -> file in the work folder) and, for a
    document, the PDF as the checks read it and the LaTeX log (empty when LaTeX did not run)."""

    files: dict[str, Path]
    compiled: bool = False
    pdf: PdfText | None = None
    log: str = ""


# the rendered exam by variant label; None: the exam without variants, its only entry
Rendered = Mapping["str | None", "RenderedExam"]


class Writer(Protocol):
    name: str
    outputs: tuple[str, ...]  # the file names it makes
    after: str | None  # a writer whose work this one starts from: it runs once that one is done

    def write(self, rendered: Rendered, context: Context) -> Product: ...
