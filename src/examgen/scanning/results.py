"""A scan's pages gathered into copies: each printed page counted once (a page scanned twice is a
duplicate, listed, never counted again), each part's boxes turned into crossed options or points,
or into a flag for a person where they are unclear (flags.csv); a person's decisions (decisions.csv)
settle flags. Then the files `examgen grade` reads: crosses.csv and marks.csv
(docs/grading.md), and pages.csv."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Collector, Loc, ScanError, printable
from ..numbers import format_number, is_mark
from ..spreadsheet import cell_value, safe_csv
from .marks import CROSSED, FILLED, UNCLEAR
from .printed import Printed
from .read import READ, BoxReading, PageReading

DUPLICATE = "duplicate"
DECISIONS_COLUMNS = ("code", "part", "decision")


@dataclass(frozen=True)
class ScannedPart:
    """A part of the exam as the scan reads it: its number, points and whether students cross its
    options (a multiple-choice part) or graders cross its points."""

    number: str
    points: float
    options: int  # its check boxes (0: a part graders mark)

    @property
    def choice(self) -> bool:
        return self.options > 0


@dataclass(frozen=True)
class Flag:
    """A part of a copy a person must decide, with what was read and where it was seen."""

    code: str
    part: str
    why: str
    read: str  # what the boxes showed, as a person reads it: "1 crossed, 3 unclear (a faint mark)"
    at: tuple[str, int] | None  # the page (bundle digest, page number) whose cut-out shows it


@dataclass(frozen=True)
class Gathered:
    """Everything the scan found, copy by copy."""

    pages: tuple[tuple[PageReading, str], ...]  # every scanned page with its status (read, duplicate, ...)
    crossed: Mapping[tuple[str, str], frozenset[int]]  # (code, choice part) -> options crossed
    points: Mapping[tuple[str, str], float]  # (code, graded part) -> the grader's points
    flags: tuple[Flag, ...]  # undecided
    decided: int  # flags a person's decision settled
    missing: Mapping[str, tuple[int, ...]]  # code -> pages of a copy that was scanned in part
    present: frozenset[str]  # copies with a page scanned


def _shown(boxes: Sequence[BoxReading]) -> str:
    """What a part's boxes hold, for a person: the crossed and filled ones and the unclear ones with why."""
    words = []
    for box in boxes:
        name = format_number(box.value) + (" pt" if box.grading else "")
        if box.state.state == UNCLEAR:
            words.append(f"{name} unclear ({box.state.why})")
        elif box.state.state in (CROSSED, FILLED):
            words.append(f"{name} {box.state.state}")
    return ", ".join(words) or "nothing marked"


def gather(readings: Sequence[PageReading], printed: Printed, parts: Sequence[ScannedPart],
           decisions: Mapping[tuple[str, str], str]) -> Gathered:
    """The scan's pages, in the order scanned, counted into copies."""
    first: dict[tuple[str, int], PageReading] = {}
    statuses = []
    flags: list[Flag] = []
    for reading in readings:
        status = reading.status
        if status == READ:
            assert reading.label is not None
            key = (reading.label.code, reading.label.page)
            if key in first:
                status = DUPLICATE
                earlier = first[key]
                if [box.state.state for box in earlier.boxes] != [box.state.state for box in reading.boxes]:
                    for part in dict.fromkeys(box.part for box in reading.boxes):
                        flags.append(Flag(key[0], part, f"page {key[1]} was scanned twice and read differently",
                                          _shown([b for b in reading.boxes if b.part == part]),
                                          (reading.bundle, reading.number)))
            else:
                first[key] = reading
        statuses.append((reading, status))
    present = frozenset(code for code, _ in first)
    by_part: dict[tuple[str, str], list[tuple[BoxReading, PageReading]]] = {}
    for (code, _), reading in first.items():
        for box in reading.boxes:
            by_part.setdefault((code, box.part), []).append((box, reading))
    crossed: dict[tuple[str, str], frozenset[int]] = {}
    points: dict[tuple[str, str], float] = {}
    kinds = {part.number: part for part in parts}
    for (code, number), found in by_part.items():
        boxes = [box for box, _ in found]
        at = (found[0][1].bundle, found[0][1].number)
        unclear = [box for box in boxes if box.state.state == UNCLEAR]
        marked = [box for box in boxes if box.state.state == CROSSED]
        if kinds[number].choice:
            if unclear:
                flags.append(Flag(code, number, "a box is unclear", _shown(boxes), at))
            else:
                crossed[code, number] = frozenset(int(box.value) for box in marked)
        elif unclear:
            flags.append(Flag(code, number, "a grading box is unclear", _shown(boxes), at))
        elif len(marked) != 1:
            flags.append(Flag(code, number, "no grading box crossed" if not marked else
                              f"{len(marked)} grading boxes crossed", _shown(boxes), at))
        else:
            points[code, number] = marked[0].value
    decided = 0
    for (code, number), decision in decisions.items():
        if code not in present:
            continue
        if kinds[number].choice:
            crossed[code, number] = frozenset(int(option) for option in decision.split())
        else:
            points[code, number] = float(decision)
        decided += any(flag.code == code and flag.part == number for flag in flags)
    flags = [flag for flag in flags if (flag.code, flag.part) not in decisions]
    missing = {}
    for code in sorted(present, key=printed.codes.index):
        absent = tuple(page for page in range(1, printed.pages_per_copy + 1) if (code, page) not in first)
        if absent:
            missing[code] = absent
    return Gathered(tuple(statuses), crossed, points, tuple(flags), decided, missing, present)


def read_decisions(path: Path, printed: Printed, parts: Sequence[ScannedPart]) -> dict[tuple[str, str], str]:
    """A person's decisions on flagged parts (``code,part,decision``: the crossed options, separated by
    spaces, for a multiple-choice part; the points for a graded one); every bad row an error at its line."""
    if not path.is_file():
        return {}
    kinds = {part.number: part for part in parts}
    out = Collector()
    decisions: dict[tuple[str, str], str] = {}
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    header = next(reader, [])
    if [cell.strip().lower() for cell in header] != list(DECISIONS_COLUMNS):
        raise ScanError(f"the header row must be {','.join(DECISIONS_COLUMNS)} (a person's decision per flagged part)",
                        Loc(path, 1))
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        loc = Loc(path, reader.line_num)
        code, number, decision = (cell_value(cell).strip() for cell in (*row, "", "")[:3])
        part = kinds.get(number)
        problem = None
        if code not in printed.variants:
            problem = f"no copy '{printable(code)}' in the copies' manifest"
        elif part is None:
            problem = f"the exam has no part '{printable(number)}' with boxes the scan reads"
        elif part.choice:
            options = decision.split()
            if (not all(option.isdigit() and 1 <= int(option) <= part.options for option in options)
                    or len(set(options)) < len(options)):
                problem = (f"'{printable(decision)}' is not a list of distinct option numbers of part {number} "
                           f"(1 to {part.options}, separated by spaces; empty for none)")
        else:
            text = decision.replace(",", ".")
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not (0 <= value <= part.points and is_mark(value)):
                problem = (f"'{printable(decision)}' is not a number of points of part {number} (0 to "
                           f"{format_number(part.points)}, in half points)")
        if problem:
            out.error(ScanError(problem, loc, "decisions"))
        else:
            decisions[code, number] = decision
    out.raise_if_any()
    return decisions


def crosses_csv(gathered: Gathered, printed: Printed, parts: Sequence[ScannedPart]) -> str:
    """crosses.csv as `examgen grade --crosses` reads it: one row per scanned copy and choice part read."""
    rows: list[list[object]] = [["code", "part", "crossed"]]
    for code in printed.codes:
        for part in parts:
            if part.choice and (code, part.number) in gathered.crossed:
                rows.append([code, part.number, " ".join(map(str, sorted(gathered.crossed[code, part.number])))])
    return safe_csv(rows, "\r\n")


def marks_csv(gathered: Gathered, printed: Printed, all_parts: Sequence[tuple[str, float]]) -> str:
    """marks.csv as `examgen grade` reads it: every copy of the manifest, the graders' points read from
    the grading boxes; choice parts (scored from crosses.csv) and parts not read stay empty, and a copy
    of which no page was scanned stays empty (absent)."""
    rows: list[list[object]] = [["code", "registration", "name", *(number for number, _ in all_parts)],
                                ["max", "", "", *(format_number(points) for _, points in all_parts)]]
    for code in printed.codes:
        student = printed.students.get(code)
        cells = [format_number(gathered.points[code, number]) if (code, number) in gathered.points else ""
                 for number, _ in all_parts]
        rows.append([code, student.registration if student else "", student.name if student else "", *cells])
    return safe_csv(rows, "\r\n")


def pages_csv(gathered: Gathered, names: Mapping[str, str]) -> str:
    """pages.csv: every scanned page (``names``: bundle digest -> its file's name as given)."""
    rows: list[list[object]] = [["bundle", "page", "code", "copy_page", "rotation", "status"]]
    for reading, status in gathered.pages:
        label = reading.label
        rows.append([names[reading.bundle], reading.number, label.code if label else "",
                     label.page if label else "", "" if reading.rotation is None else reading.rotation, status])
    return safe_csv(rows, "\r\n")


def flags_csv(gathered: Gathered, names: Mapping[str, str], image_of: Callable[[Flag], str]) -> str:
    """flags.csv: every part of a copy a person must still decide, why, what the boxes showed, the scanned
    page that shows it (``names``: bundle digest -> its file's name as given) and the cut-out of the part's
    boxes (``image_of``, a path in the scan's folder)."""
    rows: list[list[object]] = [["code", "part", "why", "read", "bundle", "page", "image"]]
    for flag in gathered.flags:
        bundle, page = flag.at if flag.at else ("", "")
        rows.append([flag.code, flag.part, flag.why, flag.read, names.get(str(bundle), ""), page, image_of(flag)])
    return safe_csv(rows, "\r\n")
