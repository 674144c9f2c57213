"""CSV cells a spreadsheet shows as text and never evaluates (OWASP's rule against CSV injection).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (some also after a tab or a
carriage return) as a formula: a roster name ``=HYPERLINK(...)`` would run when a grader opens
marks.csv. Every CSV examgen writes puts a ``'`` before such a cell, which spreadsheets show as
text. A cell that starts with ``'`` itself gets one more, so that reading strips exactly one and
every value comes back as it was: ``=cmd`` is written ``'=cmd`` and reads back as ``=cmd``;
``'t Hooft`` is written ``''t Hooft`` and reads back as ``'t Hooft``. A ``'`` before anything else
(``'x``, typed by hand) is not ours and reads as it stands.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

QUOTE = "'"
EVALUATED = ("=", "+", "-", "@", "\t", "\r", QUOTE)  # the first characters that get a quote


def neutral_cell(value: object) -> str:
    """A cell's text as written: with a quote before a first character a spreadsheet would act on."""
    text = "" if value is None else str(value)
    return QUOTE + text if text.startswith(EVALUATED) else text


def cell_value(cell: str) -> str:
    """A cell as read back: the value neutral_cell wrote it for."""
    return cell[1:] if cell.startswith(QUOTE) and cell[1:].startswith(EVALUATED) else cell


def safe_csv(rows: Iterable[Iterable[object]], line_end: str) -> str:
    """CSV text of rows, every cell neutral; the one CSV writer of examgen's outputs."""
    text = io.StringIO()
    csv.writer(text, lineterminator=line_end).writerows([neutral_cell(value) for value in row] for row in rows)
    return text.getvalue()
