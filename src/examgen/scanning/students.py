"""Who wrote the copies made with ``--count``: a CSV of copy code -> registration number (and, if
given, name), as noted at the attendance check. The scan's marks sheet then carries them, as it
carries a named cover's student; every bad row is an error at its line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import Collector, Loc, SourceError, printable
from ..roster import csv_rows
from .printed import Printed, Student

WHAT = "students"
COLUMNS = ("code", "registration")  # required; "name" is optional


def with_students(printed: Printed, path: Path) -> Printed:
    """The copies with the students of ``path`` (columns code, registration, optional name)."""
    out = Collector()
    rows = csv_rows(path, WHAT, out)
    line, header = next(rows, (1, []))
    header = [column.strip().lower() for column in header]
    if any(column not in header for column in COLUMNS):
        out.raise_if_any()
        raise SourceError("the header row must name the columns code and registration (and, if you like, name): "
                          "a copy's code and its student's registration number, as noted at the attendance check",
                          Loc(path, line), WHAT)
    at = {column: header.index(column) for column in (*COLUMNS, "name") if column in header}
    students = dict(printed.students)
    codes: dict[str, int] = {}
    registrations: dict[str, int] = {}
    for line, row in rows:
        code, registration, name = ((row[at[column]].strip() if column in at and at[column] < len(row) else "")
                                    for column in (*COLUMNS, "name"))
        loc = Loc(path, line)
        named = printed.students.get(code)
        if code not in printed.variants:
            problem = f"no copy '{printable(code)}' in the copies' manifest (a code mistyped?)"
        elif not registration:
            problem = f"no registration number for copy {code}"
        elif code in codes:
            problem = f"copy {code} is also on line {codes[code]}"
        elif registration in registrations:
            problem = f"registration number {printable(registration)} is also on line {registrations[registration]}"
        elif named and named.registration != registration:
            problem = (f"copy {code} was printed for {printable(named.name)} ({printable(named.registration)}), "
                       f"not {printable(registration)}: leave named copies out")
        else:
            problem = None
        codes.setdefault(code, line)
        registrations.setdefault(registration, line)
        if problem:
            out.error(SourceError(problem, loc, WHAT))
        else:
            students[code] = named or Student(registration, name)
    out.raise_if_any()
    return replace(printed, students=students)
