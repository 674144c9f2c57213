"""A course's roster for named copies: a UTF-8 CSV with a header row naming at least the
columns ``registration`` and ``name`` (any case, any order); ``seat``, ``room`` and
``print_name`` (the name as the cover prints it, where it differs) are optional, other columns
are ignored. Every bad row is reported at once, as file:line, before anything is written. A
roster (or a marks sheet, read alike) is bounded: at most MAX_BYTES, read in chunks that a stop
(SIGTERM) ends, so ``--roster /dev/zero`` or an endless pipe is an error, not a process that
reads until the kernel kills it."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import stopping
from .errors import UNFIT_IN_NAMES, Collector, Loc, SourceError, printable

REQUIRED = ("registration", "name")
OPTIONAL = ("seat", "room", "print_name")
MAX_FIELD = 120  # characters of each column a cover prints: a line, not a paragraph
MAX_STUDENTS = 9_999  # copy numbers of four digits; a larger course is split by room, a run each
MAX_BYTES = 64 * 2**20  # a roster or marks sheet of 99,999 rows with many columns is a few MB
CHUNK_BYTES = 2**20


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


def _read_bounded(path: Path, what: str) -> bytes:
    """The file's bytes, read in chunks (a device or a pipe may never end) with a look for a stop
    between them; past MAX_BYTES an error."""
    chunks, size = [], 0
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            stopping.current().check()
            size += len(chunk)
            if size > MAX_BYTES:
                raise SourceError(f"longer than {MAX_BYTES // 2**20} MB, which no {what} is (a device or an endless "
                                  f"pipe?): give the {what}'s CSV file", Loc(path), what)
            chunks.append(chunk)
    return b"".join(chunks)


def csv_text(path: Path, what: str) -> str:
    """A CSV file (a roster, a marks sheet) as text; a byte that is not UTF-8 is an error naming its
    line, a file that cannot be read or is too long one naming the file."""
    try:
        data = _read_bounded(path, what)
    except OSError as exc:
        raise SourceError(f"cannot read the {what}: {exc.strerror or exc}", Loc(path), what) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SourceError(f"not UTF-8 (byte 0x{data[exc.start]:02x}): save the {what} as UTF-8 CSV",
                          Loc(path, line), what) from None


def csv_rows(path: Path, what: str, out: Collector) -> Iterator[tuple[int, list[str]]]:
    """The file's CSV records with their line numbers, blank lines left out. A record the CSV reader
    refuses (a field over its 131,072 characters: a quote left open?) is an error in ``out`` that
    ends the reading, as what follows can no longer be told apart."""
    reader = csv.reader(io.StringIO(csv_text(path, what), newline=""))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            out.error(SourceError(f"cannot be read as CSV ({exc}; a field holds at most {csv.field_size_limit():,} "
                                  "characters): a quote left open? The rows after it were not read",
                                  Loc(path, reader.line_num), what))
            return
        if any(cell.strip() for cell in row):
            yield reader.line_num, row


def _unfit(value: str) -> str | None:
    """The first control character in a value (a line break inside a quoted field, a tab), if any."""
    return next((char for char in value if unicodedata.category(char) in UNFIT_IN_NAMES), None)


def read_roster(path: Path) -> tuple[Student, ...]:
    """The students of a roster in its order, or every problem of its rows at once."""
    out, students = Collector(), []
    rows = csv_rows(path, "roster", out)
    line, header = next(rows, (1, []))
    header = [column.strip().lower() for column in header]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        out.raise_if_any()  # the header row unreadable as CSV
        raise SourceError(f"the header row has no column {' or '.join(repr(c) for c in missing)} (it needs "
                          f"{', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)})", Loc(path, line), "roster")
    index = {column: header.index(column) for column in (*REQUIRED, *OPTIONAL) if column in header}
    seen: dict[str, int] = {}  # registration number -> its line
    for count, (line, row) in enumerate(rows, start=1):
        loc = Loc(path, line)
        if count > MAX_STUDENTS:
            out.error(SourceError(f"more than {MAX_STUDENTS:,} students, the most one run makes copies for: split the "
                                  "roster (by room, say) and make the copies of each part on its own", loc, "roster"))
            break
        values = {column: (row[at].strip() if at < len(row) else "") for column, at in index.items()}
        problems = [f"empty {column}" for column in REQUIRED if not values[column]]
        problems += [f"the {column} holds a control character ({printable(char)})"
                     for column, value in values.items() if (char := _unfit(value))]
        problems += [f"the {column} is longer than {MAX_FIELD} characters"
                     for column, value in values.items() if len(value) > MAX_FIELD]
        registration = values["registration"]
        if registration and registration in seen:
            problems.append(f"registration number {printable(registration)} is also on line {seen[registration]}")
        seen.setdefault(registration, line)
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
