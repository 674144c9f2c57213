"""Reading what comes back after the exam: the graders' marks sheet (marks.csv, as
`examgen export --format marks` writes it) and a scanner's crosses (crosses.csv), both
checked against the exam and the copies' manifest. Every problem of both files is
collected, each at its file:line, before anything is scored or written."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..codes import CODE, mistyped
from ..errors import Collector, Loc, SourceError, printable
from ..model.source import Exam, Part
from ..numbers import format_number, is_mark
from ..roster import csv_rows
from ..spreadsheet import cell_value, renumbered, saved_number

STUDENT_COLUMNS = ("code", "registration", "name")
MAXIMA = "max"  # the first cell of the marks sheet's second row
CROSSES_COLUMNS = ("code", "part", "crossed")
POINTS = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
OPTION_NUMBER = re.compile(r"[0-9]{1,4}")  # ASCII digits ("²" is a digit to str.isdigit, not to int)


@dataclass(frozen=True)
class Row:
    """One copy's row of the marks sheet: who, and the points a grader entered per part (None: not graded)."""

    code: str
    registration: str
    name: str
    marks: Mapping[str, float | None]  # part number -> points, for the parts the sheet has a column for
    loc: Loc


@dataclass(frozen=True)
class Crossed:
    """The options a scanner read as crossed on one copy's multiple-choice part."""

    code: str
    part: str
    options: frozenset[int]  # 1-based, as key.json's ``correct``
    loc: Loc


def manifest_entries(path: Path) -> dict[str, dict] | None:
    """The copies of an `examgen copies` run (its manifest.json) by code; None where there is no manifest."""
    if not path.is_file():
        return None
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["entries"]
        return {entry["code"]: entry for entry in entries}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SourceError(f"not a manifest of `examgen copies` ({exc}): make the copies again", Loc(path)) from None


class Codes:
    """Which copy codes belong to the exam: those of its manifest, or without one any well-formed
    code with the exam's code and a check character that agrees; and, where its copies were made
    from a roster, each copy's registration number."""

    def __init__(self, exam_code: str, manifest: Path):
        self.exam_code, self.manifest = exam_code, manifest
        entries = manifest_entries(manifest)
        self.variants: dict[str, str | None] | None = None if entries is None else {
            code: entry.get("variant") for code, entry in entries.items()}
        self.registrations: dict[str, str] = {
            code: str(entry["student"]["registration"]) for code, entry in (entries or {}).items()
            if isinstance(entry.get("student"), dict) and entry["student"].get("registration")}
        self.known = None if self.variants is None else frozenset(self.variants)

    def problem(self, code: str) -> str | None:
        """What is wrong with a code, or None."""
        shown = printable(code)
        match = CODE.fullmatch(code)
        if not match:
            return f"'{shown}' is not a copy code (such as {self.exam_code}-0001-X)"
        if mistyped(code):
            return f"copy code '{shown}' has a wrong check character: a typo?"
        if match[1] != self.exam_code:
            return f"copy code '{shown}' is of exam {match[1]}, not of this exam ({self.exam_code})"
        if self.known is not None and code not in self.known:
            return f"no copy '{shown}' in {Loc(self.manifest)} (an unknown copy code)"
        return None


def _columns(header: list[str], wanted: tuple[str, ...], loc: Loc, out: Collector, what: str) -> dict[str, int]:
    """Where each column is (by its name, in any order); a missing, doubled or unknown column is an error."""
    names = [cell.strip().lower() for cell in header]
    saved_as = {saved_number(name): name for name in wanted if renumbered(name)}
    for name in sorted({name for name in names if names.count(name) > 1}):
        why = (f": a spreadsheet saved column {saved_as[name]} as the number {name} (export the sheet again; "
               f"examgen writes it '{saved_as[name]}, which spreadsheets keep)" if name in saved_as else "")
        out.error(SourceError(f"column '{printable(name)}' is given twice{why}", loc, what))
    for name in names:
        if name not in wanted:
            out.error(SourceError(f"column '{printable(name)}' is not one of the {what}'s (it has "
                                  f"{', '.join(wanted)})", loc, what))
    for name in wanted:
        if name not in names:
            out.error(SourceError(f"the header row has no column '{name}'", loc, what))
    return {name: names.index(name) for name in wanted if name in names}


def _points(cell: str, part: Part, loc: Loc, out: Collector) -> float | None:
    """A grader's points: empty (not graded), or a multiple of 0.5 from 0 to the part's points,
    written with a decimal point or comma."""
    text = cell.strip().replace(",", ".")
    if not text:
        return None
    problem = None
    value = float(text) if POINTS.fullmatch(text) else None
    if value is None:
        problem = f"'{printable(cell.strip())}' is not a number of points"
    elif value < 0:
        problem = f"{cell.strip()} points: marks are never negative"
    elif value > part.points:
        problem = f"{cell.strip()} points is above the part's maximum, {format_number(part.points)}"
    elif not is_mark(value):
        problem = f"{cell.strip()} points is not a multiple of 0.5"
    if problem:
        out.error(SourceError(problem, loc, part.context))
        return None
    return value


def _rows(path: Path, what: str, out: Collector) -> Iterator[tuple[int, list[str]]]:
    """The file's CSV records (roster.csv_rows), each cell's value as examgen's CSV writer neutralised
    it (``'=cmd`` is ``=cmd``, spreadsheet.py)."""
    for line, row in csv_rows(path, what, out):
        yield line, [cell_value(cell) for cell in row]


def read_marks(path: Path, exam: Exam, codes: Codes, out: Collector) -> tuple[Row, ...]:
    """The copies' rows of a marks sheet; its problems go to ``out``."""
    parts = {part.number: part for _, part in exam.parts()}
    rows = _rows(path, "marks sheet", out)
    line, header = next(rows, (1, []))
    columns = _columns(header, (*STUDENT_COLUMNS, *parts), Loc(path, line), out, "marks sheet")
    if "code" not in columns:
        return ()
    line, maxima = next(rows, (2, []))
    cell = lambda row, column: row[columns[column]] if columns.get(column, len(row)) < len(row) else ""  # noqa: E731
    if cell(maxima, "code").strip() != MAXIMA:
        out.error(SourceError(f"the second row must be the parts' maxima ('{MAXIMA}' in the code column), as "
                              "`examgen export --format marks` writes it", Loc(path, line), "marks sheet"))
    else:
        for number, part in parts.items():
            stated = cell(maxima, number).strip().replace(",", ".")
            if number in columns and (not POINTS.fullmatch(stated) or float(stated) != part.points):
                out.error(SourceError(f"the sheet's maximum is '{printable(stated)}', the exam gives "
                                      f"{format_number(part.points)} points: is the sheet of another version of "
                                      "the exam?", Loc(path, line), part.context))
    found: list[Row] = []
    valid: dict[tuple[str, float], float | None] = {}  # (a cell's text, the part's points) -> its points
    seen: dict[str, int] = {}  # code -> its line
    registered: dict[str, int] = {}  # registration number -> its line
    unzeroed: list[int] = []  # the lines whose registration number lost its leading zeros
    for line, row in rows:
        loc = Loc(path, line)
        if len(row) > len(header):
            out.error(SourceError(f"the row has {len(row)} cells, the header {len(header)} columns", loc))
        code = cell(row, "code").strip().upper()
        registration = cell(row, "registration").strip()
        problem = codes.problem(code) if code else "no copy code"
        rostered = codes.registrations.get(code)
        if not problem and rostered is not None:
            if registration and registration != rostered:
                if registration == rostered.lstrip("0"):
                    unzeroed.append(line)
                else:
                    problem = (f"registration number '{printable(registration)}' is not that of copy {code}, "
                               f"'{printable(rostered)}' in {Loc(codes.manifest)}: the grade goes to the copy's "
                               "student; enter the manifest's number, or check the copy code")
            registration = rostered  # the copy's student, as its code says
        if not problem and code in seen:
            problem = f"copy {code} is also on line {seen[code]} (a duplicated copy)"
        if not problem and registration and registration in registered:
            problem = f"registration number {printable(registration)} is also on line {registered[registration]}"
        if problem:
            out.error(SourceError(problem, loc, "marks sheet"))
        seen.setdefault(code, line)
        if registration:
            registered.setdefault(registration, line)
        marks = {}
        for number, part in parts.items():
            if number in columns:
                text = cell(row, number)
                if (text, part.points) not in valid:  # a sheet repeats a few values: each is read once
                    value = _points(text, part, loc, out)
                    if value is None and text.strip():
                        continue  # an error, reported at this line
                    valid[text, part.points] = value
                marks[number] = valid[text, part.points]
        found.append(Row(code, registration, cell(row, "name").strip(), marks, loc))
    if unzeroed:
        out.warn(f"{len(unzeroed)} registration numbers lost their leading zeros (a spreadsheet saved them as "
                 f"numbers; the first on line {unzeroed[0]}): results.csv and grades.csv have them as the copies' "
                 "manifest gives them", Loc(path), "marks sheet")
    return tuple(found)


def read_crosses(path: Path, exam: Exam, copies: set[str], out: Collector) -> tuple[Crossed, ...]:
    """A scanner's crosses for copies of the marks sheet; its problems go to ``out``."""
    parts = {part.number: part for _, part in exam.parts()}
    rows = _rows(path, "crosses file", out)
    line, header = next(rows, (1, []))
    columns = _columns(header, CROSSES_COLUMNS, Loc(path, line), out, "crosses file")
    if len(columns) < len(CROSSES_COLUMNS):
        return ()
    found: list[Crossed] = []
    seen: dict[tuple[str, str], int] = {}  # (code, part) -> its line
    for line, row in rows:
        loc = Loc(path, line)
        code, number, crossed = (row[columns[c]].strip() if columns[c] < len(row) else "" for c in CROSSES_COLUMNS)
        code = code.upper()
        part = parts.get(number)
        problems = []
        if code not in copies:
            problems.append(f"copy '{printable(code)}' is not on the marks sheet (an unknown copy code)")
        if part is None:
            problems.append(f"the exam has no part '{printable(number)}'")
        elif not part.answer.boxes():
            problems.append(f"part {number} is not a multiple-choice part")
        elif (code, number) in seen:
            problems.append(f"copy {code}, part {number} is also on line {seen[code, number]}")
        count = len(part.answer.boxes()) if part else 0
        options = {int(option) for option in crossed.split()
                   if OPTION_NUMBER.fullmatch(option) and 1 <= int(option) <= count}
        if count and len(options) < len(crossed.split()):
            problems.append(f"'{printable(crossed)}' is not a list of distinct option numbers of part {number} "
                            f"(1 to {count}, separated by spaces)")
        for problem in problems:
            out.error(SourceError(problem, loc, "crosses file"))
        seen.setdefault((code, number), line)
        if not problems:
            found.append(Crossed(code, number, frozenset(options), loc))
    return tuple(found)
