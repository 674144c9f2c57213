"""What an exporter is: what it starts from (a Build) and what it hands back (Exported)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..errors import Collector
    from ..model.source import Exam, Text
    from ..project import Target


@dataclass(frozen=True)
class Build:
    """What an exporter starts from: the exam, its built outputs and the copies' folder."""

    target: Target
    exam: Exam[Text]
    out_dir: Path  # the build's output folder
    copies: Path  # the folder of an `examgen copies` run


@dataclass(frozen=True)
class Exported:
    content: bytes
    items: int  # what the file holds, counted as the exporter's ``counts`` names it


class Exporter(Protocol):
    name: str  # the --format
    file: str  # the file's name in the course's records (course/<id>/), unless --out names one
    counts: str  # what ``Exported.items`` counts: "questions", "copies"
    reads_copies: bool  # it reads an `examgen copies` run (--copies)
    about: str  # one line for --help and the docs

    def export(self, build: Build, out: Collector) -> Exported: ...
