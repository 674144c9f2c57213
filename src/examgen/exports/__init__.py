"""Exports: one module per format, each an ``Exporter`` in ``EXPORTERS``; the CLI's ``--format``
choices and the table in docs/exports.md come from this registry.

An exporter gets the exam's build, brought up to date by `examgen export` (commands/export.py),
and returns the file's bytes; the command writes them. A new format is a module here with an
exporter object and its entry in ``EXPORTERS``; a part kind it cannot express is an ExportError
naming the part, never a silent stand-in.
"""

from __future__ import annotations

from .exporter import Build, Exported, Exporter

__all__ = ["EXPORTERS", "Build", "Exported", "Exporter", "table"]


def _registry() -> dict[str, Exporter]:
    from . import marks, moodle, plom, qti

    found: list[Exporter] = [moodle.EXPORTER, moodle.MULTICHOICESET, qti.EXPORTER, plom.EXPORTER, plom.VERSIONS,
                             marks.EXPORTER]
    return {exporter.name: exporter for exporter in found}


EXPORTERS = _registry()


def table() -> str:
    """The formats as docs/exports.md lists them (a test keeps the doc so)."""
    rows = [f"| `{e.name}` | `{e.file}` | {e.about} |" for e in EXPORTERS.values()]
    return "\n".join(["| --format | file | what |", "| --- | --- | --- |", *rows])
