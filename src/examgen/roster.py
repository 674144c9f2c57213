"""A course's roster for named copies: a UTF-8 CSV with a header row naming at least the
columns ``registration`` and ``name`` (any case, any order); ``seat``, ``room`` and
``print_name`` (the name as the cover prints it, where it differs) are optional, other columns
are ignored. Every bad row is reported at once, as file:line, before anything is written."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import UNFIT_IN_NAMES, Collector, Loc, SourceError, printable

REQUIRED = ("registration", "name")
OPTIONAL = ("seat", "room", "print_name")
MAX_NAME = 120  # characters: a cover line, not a paragraph


@dataclass(frozen=True)
class Student:
    """One row of a roster: who gets a copy, and where that row is."""

    registration: str
    name: str
    seat: str
    room: str
    loc: Loc
    print_name: str = ""  # the name as the cover prints it, where the fonts cannot print the name

    @property
    def printed_name(self) -> str:
        return self.print_name or self.name


def csv_text(path: Path, what: str) -> str:
    """A CSV file (a roster, a marks sheet) as text; a byte that is not UTF-8 is an error naming its
    line, a file that cannot be read one naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the {what}: {exc.strerror or exc}", Loc(path), what) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SourceError(f"not UTF-8 (byte 0x{data[exc.start]:02x}): save the {what} as UTF-8 CSV",
                          Loc(path, line), what) from None


def _unfit(value: str) -> str | None:
    """The first control character in a value (a line break inside a quoted field, a tab), if any."""
    return next((char for char in value if unicodedata.category(char) in UNFIT_IN_NAMES), None)


def read_roster(path: Path) -> tuple[Student, ...]:
    """The students of a roster in its order, or every problem of its rows at once."""
    text = csv_text(path, "roster")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip().lower() for column in next(reader, [])]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise SourceError(f"the header row has no column {' or '.join(repr(c) for c in missing)} (it needs "
                          f"{', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)})", Loc(path, 1), "roster")
    index = {column: header.index(column) for column in (*REQUIRED, *OPTIONAL) if column in header}
    out, students = Collector(), []
    seen: dict[str, int] = {}  # registration number -> its line
    for row in reader:
        loc = Loc(path, reader.line_num)
        if not any(field.strip() for field in row):
            continue  # a blank line
        values = {column: (row[at].strip() if at < len(row) else "") for column, at in index.items()}
        problems = [f"empty {column}" for column in REQUIRED if not values[column]]
        problems += [f"the {column} holds a control character ({printable(char)})"
                     for column, value in values.items() if (char := _unfit(value))]
        problems += [f"the {column} is longer than {MAX_NAME} characters"
                     for column in ("name", "print_name") if len(values.get(column, "")) > MAX_NAME]
        registration = values["registration"]
        if registration and registration in seen:
            problems.append(f"registration number {printable(registration)} is also on line {seen[registration]}")
        seen.setdefault(registration, reader.line_num)
        for problem in problems:
            out.error(SourceError(problem, loc, "roster"))
        if not problems:
            students.append(Student(registration, unicodedata.normalize("NFC", values["name"]),
                                    values.get("seat", ""), values.get("room", ""), loc,
                                    unicodedata.normalize("NFC", values.get("print_name", ""))))
    out.raise_if_any()
    if not students:
        raise SourceError("the roster names no student", Loc(path), "roster")
    return tuple(students)
