"""A scan's pages gathered into copies: each printed page counted once (a page scanned twice is a
duplicate, listed, never counted again), each part's boxes turned into crossed options or points,
or into a flag for a person where they are unclear (flags.csv); a person's decisions (decisions.csv)
settle flags and place pages whose QR code could not be read. Then the files `examgen grade` reads:
crosses.csv and marks.csv (docs/grading.md), and pages.csv."""

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
from .read import READ, UNKNOWN, BoxReading, PageReading

DUPLICATE, ASSIGNED, SET_ASIDE = "duplicate", "assigned", "set aside"  # statuses a page gets here
DECISIONS_COLUMNS = ("code", "part", "decision", "bundle", "page")
PAGE_ROW = "page"  # the part column of a row that places an unknown page (decision: the copy's page, or none)
NO_COPY = "none"  # the decision of a page that belongs to no copy (a blank sheet, a note)


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
    placed: bool = False  # on a page a person placed: its boxes were not read, the whole page shows them


@dataclass(frozen=True)
class Decisions:
    """A person's decisions (decisions.csv): a flagged part's crossed options or points, and where a
    page whose QR code could not be read belongs (a copy's page, or None: to no copy)."""

    parts: Mapping[tuple[str, str], str]  # (code, part) -> the decision as written
    pages: Mapping[tuple[str, int], tuple[str, int] | None]  # (bundle digest, page) -> (code, copy page)


NO_DECISIONS = Decisions({}, {})


@dataclass(frozen=True)
class Gathered:
    """Everything the scan found, copy by copy."""

    pages: tuple[tuple[PageReading, str], ...]  # every scanned page with its status (read, duplicate, ...)
    crossed: Mapping[tuple[str, str], frozenset[int]]  # (code, choice part) -> options crossed
    points: Mapping[tuple[str, str], float]  # (code, graded part) -> the grader's points
    flags: tuple[Flag, ...]  # undecided
    settled: tuple[tuple[Flag, str], ...]  # flags a person's decision settled, with the decision
    placed: Mapping[tuple[str, int], tuple[str, int]]  # a page a person placed (bundle digest, page) -> (code, page)
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


def gather(readings: Sequence[PageReading], printed: Printed, parts: Sequence[ScannedPart], decisions: Decisions,
           placed_readings: Mapping[tuple[str, int], PageReading] | None = None) -> Gathered:
    """The scan's pages, in the order scanned, counted into copies. A page a person placed counts after
    every page read by its QR code (a later scan of the same page wins over the placing), read as
    ``placed_readings`` has it (bundle digest, page -> its reading as placed; no label: not placed)."""
    readings = list(readings)
    first: dict[tuple[str, int], PageReading] = {}
    statuses = [reading.status for reading in readings]
    flags: list[Flag] = []
    for index, reading in enumerate(readings):
        if reading.status != READ:
            continue
        assert reading.label is not None
        key = (reading.label.code, reading.label.page)
        if key in first:
            statuses[index] = DUPLICATE
            earlier = first[key]
            if [box.state.state for box in earlier.boxes] != [box.state.state for box in reading.boxes]:
                for part in dict.fromkeys(box.part for box in reading.boxes):
                    flags.append(Flag(key[0], part, f"page {key[1]} was scanned twice and read differently",
                                      _shown([b for b in reading.boxes if b.part == part]),
                                      (reading.bundle, reading.number)))
        else:
            first[key] = reading
    placed: dict[tuple[str, int], PageReading] = {}
    for index, reading in enumerate(readings):
        if reading.status != UNKNOWN or (reading.bundle, reading.number) not in decisions.pages:
            continue
        where = decisions.pages[reading.bundle, reading.number]
        if where is None:
            statuses[index] = SET_ASIDE
        elif where in first or where in placed:
            statuses[index] = DUPLICATE
        else:
            statuses[index] = ASSIGNED
            readings[index] = (placed_readings or {}).get((reading.bundle, reading.number), reading)
            placed[where] = readings[index]
    present = frozenset(code for code, _ in (*first, *placed))
    by_part: dict[tuple[str, str], list[tuple[BoxReading, PageReading]]] = {}
    for (code, _), reading in first.items():
        for box in reading.boxes:
            by_part.setdefault((code, box.part), []).append((box, reading))
    crossed: dict[tuple[str, str], frozenset[int]] = {}
    points: dict[tuple[str, str], float] = {}
    kinds = {part.number: part for part in parts}
    for (code, page), reading in placed.items():
        if reading.label is not None:
            for box in reading.boxes:
                by_part.setdefault((code, box.part), []).append((box, reading))
            continue
        sheet = printed.sheet(code, page)
        for number in dict.fromkeys(spot.part for spot in (*sheet.checkboxes, *sheet.grading_boxes)):
            by_part.pop((code, number), None)  # a part on two pages, one of them placed: decided as a whole
            flags.append(Flag(code, number, f"page {page} was placed by a person (its QR code could not be read), "
                              "but it could not be found on the printed page: its boxes are not read", "not read",
                              (reading.bundle, reading.number), placed=True))
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
    for (code, number), decision in decisions.parts.items():
        if code not in present:
            continue
        if kinds[number].choice:
            crossed[code, number] = frozenset(int(option) for option in decision.split())
        else:
            points[code, number] = float(decision.replace(",", "."))
    settled = tuple((flag, decisions.parts[flag.code, flag.part]) for flag in flags
                    if (flag.code, flag.part) in decisions.parts)
    flags = [flag for flag in flags if (flag.code, flag.part) not in decisions.parts]
    missing = {}
    for code in sorted(present, key=printed.codes.index):
        absent = tuple(page for page in range(1, printed.pages_per_copy + 1)
                       if (code, page) not in first and (code, page) not in placed)
        if absent:
            missing[code] = absent
    return Gathered(tuple(zip(readings, statuses)), crossed, points, tuple(flags), settled,
                    {(reading.bundle, reading.number): key for key, reading in placed.items()}, missing, present)


@dataclass(frozen=True)
class BundleNames:
    """The scan's bundles' names, by digest: as given (pages.csv, flags.csv) and as stored in bundles/."""

    given: Mapping[str, str]
    stored: Mapping[str, str]

    def for_decisions(self, digest: str) -> str:
        """How decisions.csv names a bundle: as given, unless another bundle was given that name too."""
        name = self.given[digest]
        return name if list(self.given.values()).count(name) == 1 else self.stored[digest]

    def digests(self) -> dict[str, str]:
        """Every name decisions.csv may give a bundle -> its digest."""
        return {**{stored: digest for digest, stored in self.stored.items()},
                **{self.for_decisions(digest): digest for digest in self.given}}


def decision_problem(code: str, number: str, decision: str, printed: Printed, kinds: Mapping[str, ScannedPart],
                     page: tuple[str, int] | None = None) -> str | None:
    """What is wrong with one decision, or None: a part's (``page`` None) or a scanned page's placing."""
    if page is not None:
        if decision == NO_COPY:
            return None if not code else f"a page of no copy names no copy: leave the code out, not '{printable(code)}'"
        if code not in printed.variants:
            return f"no copy '{printable(code)}' in the copies' manifest"
        if not decision.isdigit() or not 1 <= int(decision) <= printed.pages_per_copy:
            return (f"'{printable(decision)}' is not a page of a copy (1 to {printed.pages_per_copy}), nor "
                    f"'{NO_COPY}' for a page of no copy")
        return None
    part = kinds.get(number)
    if code not in printed.variants:
        return f"no copy '{printable(code)}' in the copies' manifest"
    if part is None:
        return f"the exam has no part '{printable(number)}' with boxes the scan reads"
    if part.choice:
        options = decision.split()
        if (not all(option.isdigit() and 1 <= int(option) <= part.options for option in options)
                or len(set(options)) < len(options)):
            return (f"'{printable(decision)}' is not a list of distinct option numbers of part {number} "
                    f"(1 to {part.options}, separated by spaces; empty for none)")
        return None
    try:
        value = float(decision.replace(",", "."))
    except ValueError:
        value = -1.0
    if not (0 <= value <= part.points and is_mark(value)):
        return (f"'{printable(decision)}' is not a number of points of part {number} (0 to "
                f"{format_number(part.points)}, in half points)")
    return None


def read_decisions(path: Path, printed: Printed, parts: Sequence[ScannedPart], names: BundleNames) -> Decisions:
    """A person's decisions: a flagged part's crossed options (``code,part,decision``: separated by spaces,
    for a multiple-choice part) or points (a graded one); a page whose QR code could not be read placed
    (``code,page,<copy page>,bundle,page``, or ``,page,none,bundle,page`` for a page of no copy). Every bad
    row is an error at its line."""
    if not path.is_file():
        return NO_DECISIONS
    kinds = {part.number: part for part in parts}
    bundles = names.digests()
    out = Collector()
    decided: dict[tuple[str, str], str] = {}
    placed: dict[tuple[str, int], tuple[str, int] | None] = {}
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header not in (list(DECISIONS_COLUMNS), list(DECISIONS_COLUMNS[:3])):
        raise ScanError(f"the header row must be {','.join(DECISIONS_COLUMNS)} (a person's decision per flagged part "
                        "or unknown page)", Loc(path, 1))
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        loc = Loc(path, reader.line_num)
        code, number, decision, bundle, page = (cell_value(cell).strip() for cell in (*row, "", "", "", "")[:5])
        scanned = None
        if number == PAGE_ROW:
            if bundle not in bundles or not page.isdigit():
                out.error(ScanError(f"'{printable(bundle)}' page '{printable(page)}' is not a scanned page of this "
                                    "scan (bundle: its name as given, or as stored in bundles/)", loc, "decisions"))
                continue
            scanned = (bundles[bundle], int(page))
        problem = decision_problem(code, number, decision, printed, kinds, scanned)
        if problem:
            out.error(ScanError(problem, loc, "decisions"))
        elif scanned is not None:
            placed[scanned] = None if decision == NO_COPY else (code, int(decision))
        else:
            decided[code, number] = decision
    out.raise_if_any()
    return Decisions(decided, placed)


def decisions_csv(decisions: Decisions, names: BundleNames) -> str:
    """decisions.csv of ``decisions``: the parts first, then the pages, in a stable order."""
    rows: list[list[object]] = [list(DECISIONS_COLUMNS)]
    rows += [[code, number, decision, "", ""] for (code, number), decision in sorted(decisions.parts.items())]
    for (digest, page), where in sorted(decisions.pages.items(), key=lambda item: (names.given[item[0][0]],
                                                                                    item[0][1])):
        rows.append([where[0] if where else "", PAGE_ROW, str(where[1]) if where else NO_COPY,
                     names.for_decisions(digest), page])
    return safe_csv(rows, "\r\n", keep_text=True)


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
        code, page = (label.code, label.page) if label else gathered.placed.get((reading.bundle, reading.number),
                                                                                ("", ""))
        rows.append([names[reading.bundle], reading.number, code, page,
                     "" if reading.rotation is None else reading.rotation, status])
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
