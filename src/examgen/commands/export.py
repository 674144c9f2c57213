"""`examgen export`: one export of an exam (docs/exports.md), from its build brought up to date first
(a no-op when it is); the format is an exporter of the registry (exports/)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Collector
from ..exports import EXPORTERS, Build
from ..outputs import replace_file, writing
from ..project import Target
from .build import build
from .copies import warn_if_changed


@dataclass(frozen=True)
class ExportRequest:
    """What `examgen export` asks for: a format, where to write it, and for marks the copies' folder."""

    format: str  # a key of EXPORTERS
    out: Path | None = None  # default course/<id>/<the exporter's file>
    copies: Path | None = None  # default course/<id>/copies
    build: Path | None = None  # the build's output folder (default build/<id>/), as `build --out` named it


@dataclass(frozen=True)
class ExportResult:
    path: Path
    items: int  # questions, or copies for the marks sheet
    warnings: list[str]


def export(target: Target, request: ExportRequest) -> ExportResult:
    """One export of an exam: the key and the texts as the PDFs have them, where the parts landed, its copies."""
    exporter = EXPORTERS[request.format]
    built = build(target, request.build)
    out = Collector()
    copies = request.copies or target.copies
    if exporter.reads_copies:
        warn_if_changed(copies, (built.out_dir / "key.json").read_bytes(),
                        f"the {exporter.name} export follows the exam as it is now", out)
    exported = exporter.export(Build(target, built.exam, built.out_dir, copies), out)
    path = request.out or target.course / exporter.file
    with writing("the export", path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, lambda staged: staged.write_bytes(exported.content))
    return ExportResult(path, exported.items, built.warnings + out.warnings)
