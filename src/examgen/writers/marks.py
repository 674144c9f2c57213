"""The marks sheet (marks.csv) graders fill in and ``examgen grade`` reads back (docs/exports.md).

A header row (``code,registration,name`` and every part's number, in exam order), a row of
maxima (``max``, two empty cells, every part's points as the key writes them), then one row
per copy of an ``examgen copies`` run, in its manifest's order, with an empty cell per part. A name or
registration number a spreadsheet would run as a formula is written as text, and so are a registration
number and a part number it would save as another number (``'03712345``, ``'2.10``; spreadsheet.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ExportError, Loc
from ..model.source import Exam
from ..numbers import format_number
from ..project import MANIFEST
from ..spreadsheet import safe_csv


def read_manifest(folder: Path, exam: Exam) -> list[dict]:
    """The copies of a run of this exam, from its manifest: each with its code and, with a roster, its student."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"no copies here ({MANIFEST} is missing): run `examgen copies` first, or give "
                          "--copies DIR with the folder of a run", Loc(folder)) from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read the copies' manifest: {exc}", Loc(path)) from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "code" in e for e in entries):
        raise ExportError("not a manifest of examgen copies (no entries with codes)", Loc(path))
    if data.get("exam") != exam.id:
        raise ExportError(f"these are copies of '{data.get('exam')}', not of '{exam.id}'", Loc(path))
    return entries


def marks_csv(exam: Exam, entries: list[dict]) -> str:
    """The sheet for the copies (manifest entries)."""
    parts = [part for _, part in exam.parts()]
    rows = [["code", "registration", "name", *(part.number for part in parts)],
            ["max", "", "", *(format_number(part.points) for part in parts)]]
    for entry in entries:
        student = entry.get("student") or {}
        rows.append([entry["code"], student.get("registration", ""), student.get("name", ""), *([""] * len(parts))])
    return safe_csv(rows, "\r\n", keep_text=True)
