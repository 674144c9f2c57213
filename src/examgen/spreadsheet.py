"""CSV cells a spreadsheet shows as text and never evaluates (OWASP's rule against CSV injection).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (some also after a tab or a
carriage return) as a formula: a roster name ``=HYPERLINK(...)`` would run when a grader opens
marks.csv. Every CSV examgen writes puts a ``'`` before such a cell, which spreadsheets show as
text. A cell that starts with ``'`` itself gets one more, so that reading strips exactly one and
every value comes back as it was: ``=cmd`` is written ``'=cmd`` and reads back as ``=cmd``;
``'t Hooft`` is written ``''t Hooft`` and reads back as ``'t Hooft``. A ``'`` before anything else
(``'x``, typed by hand) is not ours and reads as it stands.

The marks sheet also keeps its texts that look like numbers: a spreadsheet opening a CSV reads
``03712345`` (a registration number) and ``2.10`` (a part number) as numbers and saves them as
``3712345`` and ``2.1``; a ``'`` before them keeps them text through the round trip (LibreOffice
keeps it, and so is the value read back). A number a spreadsheet writes back as it stands (``1.5``,
``12``) keeps its bytes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal

QUOTE = "'"
EVALUATED = ("=", "+", "-", "@", "\t", "\r", QUOTE)  # the first characters that get a quote
NUMBER_LIKE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")  # what a spreadsheet reads as a number
PRECISION = 15  # the significant digits a spreadsheet's number keeps (a double's)


def renumbered(text: str) -> bool:
    """Whether a spreadsheet would read the text as a number and save it otherwise: leading zeros
    (``03712345``), trailing decimal zeros (``2.10``), more digits than it keeps."""
    if not NUMBER_LIKE.fullmatch(text):
        return False
    return saved_number(text) != text or len(text.replace(".", "").lstrip("0")) > PRECISION


def saved_number(text: str) -> str:
    """How a spreadsheet saves a text it read as a number (``2.10`` as ``2.1``)."""
    return format(Decimal(text).normalize(), "f")


def neutral_cell(value: object, keep_text: bool = False) -> str:
    """A cell's text as written: with a quote before a first character a spreadsheet would act on (with
    ``keep_text``, also before a text it would save as another number)."""
    text = "" if value is None else str(value)
    return QUOTE + text if text.startswith(EVALUATED) or keep_text and renumbered(text) else text


def cell_value(cell: str) -> str:
    """A cell as read back: the value neutral_cell wrote it for."""
    rest = cell[1:]
    return rest if cell.startswith(QUOTE) and (rest.startswith(EVALUATED) or renumbered(rest)) else cell


def safe_csv(rows: Iterable[Iterable[object]], line_end: str, keep_text: bool = False) -> str:
    """CSV text of rows, every cell neutral (``keep_text``: and texts like numbers kept as text, for a sheet
    that comes back from a spreadsheet); the one CSV writer of examgen's outputs."""
    text = io.StringIO()
    csv.writer(text, lineterminator=line_end).writerows([neutral_cell(value, keep_text) for value in row]
                                                        for row in rows)
    return text.getvalue()
