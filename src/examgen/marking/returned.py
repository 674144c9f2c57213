"""What each student gets back (`examgen return`): their scanned pages, each placed on its printed page,
with every part's points, the correction notes applied and the grader's comment beside the part, the
graders' annotations where they were put, and a first page with the points per part, total and grade.

Plain records from the scan's pages, the grading's results and the marks given on screen; the PDFs are
writers/returned.py's. Points come from the results (what the grade was computed from); a mark given on
screen adds its notes, comment and annotations. Marks given only on paper (the grading boxes) give points
alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..numbers import format_number
from ..scanning.printed import Printed
from ..stages.positions import Box
from .records import PartMark


@dataclass(frozen=True)
class ScannedPage:
    """A copy's page as the scan has it: the bundle page that shows it, and where the printed page lies in
    that image (the scan's placement: printed points, y down from the top left, to pixels; 2 x 3 by rows)."""

    code: str
    page: int  # of the copy, from 1
    bundle: str  # the bundle's file in the scan's folder
    number: int  # its page in the bundle, from 1
    placement: tuple[float, ...]


@dataclass(frozen=True)
class Graded:
    """A graded copy as the grading's results.csv has it."""

    code: str
    registration: str
    name: str
    points: Mapping[str, float]  # part -> points
    total: float
    grade: str


@dataclass(frozen=True)
class Note:
    """A correction note applied to a part, with its points where the rubric gives it some."""

    text: str
    points: float | None


@dataclass(frozen=True)
class PartFeedback:
    number: str
    points: float
    maximum: float
    notes: tuple[Note, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Drawn:
    """A grader's annotation on a page: a tick, a cross or a text, at page points (y down from the top)."""

    kind: str
    x: float
    y: float
    text: str = ""


@dataclass(frozen=True)
class ReturnedPage:
    """A scanned page as returned: the parts whose feedback stands beside it, each at the height (points from
    the page's top) where the part begins on it, and the annotations on it."""

    scan: ScannedPage
    parts: tuple[tuple[str, float], ...]
    drawn: tuple[Drawn, ...]


@dataclass(frozen=True)
class ReturnedCopy:
    code: str
    registration: str
    name: str
    parts: tuple[PartFeedback, ...]  # every part of the exam, in its order
    total: float
    maximum: float
    grade: str
    pages: tuple[ReturnedPage, ...]  # in the copy's order
    missing: tuple[int, ...]  # pages of the copy that were not scanned

    def part(self, number: str) -> PartFeedback:
        return next(part for part in self.parts if part.number == number)


def _top(box: Box, page_height: float) -> float:
    return page_height - box.y - box.height


def _home_page(printed: Printed, code: str, part: str) -> tuple[int, float] | None:
    """The page a part's feedback stands beside (the page of its grading boxes, else of its check boxes,
    else its first answer space) and the height its elements there begin at."""
    height = printed.page_size[1]
    sheets = [printed.sheet(code, page) for page in range(1, printed.pages_per_copy + 1)]
    for boxes in ([spot.box for spot in sheet.grading_boxes if spot.part == part] for sheet in sheets), \
            ([spot.box for spot in sheet.checkboxes if spot.part == part] for sheet in sheets), \
            ([box for number, box in sheet.answer_spaces if number == part] for sheet in sheets):
        for sheet, found in zip(sheets, boxes):
            if found:
                everything = [*found, *(box for number, box in sheet.answer_spaces if number == part)]
                return sheet.page, min(_top(box, height) for box in everything)
    return None


def answer_spaces(printed: Printed, scanned: Sequence[ScannedPage]) -> dict[tuple[str, str, int], tuple[int, Box]]:
    """(code, part, index) -> the copy page and printed box of the part's answer space ``index`` on a scanned
    page, numbered as the scan names its cut-outs (answers/<code>/<part>[-N].jpg, `Printed.answer_names`:
    in the copy's page order), which is how a mark given on screen names the space it was put on."""
    spaces: dict[tuple[str, str, int], tuple[int, Box]] = {}
    on_scan = {(page.code, page.page) for page in scanned}
    for code in dict.fromkeys(page.code for page in scanned):
        counted: dict[str, int] = {}
        for number in range(1, printed.pages_per_copy + 1):
            for part, box in printed.sheet(code, number).answer_spaces:
                index = counted.get(part, 0)
                counted[part] = index + 1
                if (code, number) in on_scan:
                    spaces[code, part, index] = (number, box)
    return spaces


def returned_copies(printed: Printed, parts: Sequence[tuple[str, float]], graded: Sequence[Graded],
                    scanned: Sequence[ScannedPage], marks: Sequence[PartMark],
                    rubric: Mapping[str, Mapping[str, float | None]]) -> tuple[tuple[ReturnedCopy, ...], list[str]]:
    """Every graded copy as returned, in the results' order, and what a person should know (a mark given on
    screen that the results do not hold, an annotation on a page that was not scanned). ``parts``: the exam's
    parts and their points; ``scanned``: the copies' pages in the scan's order; ``rubric``: part -> each
    correction note's text -> its points."""
    warnings: list[str] = []
    known = {part for part, _ in parts}
    by_copy: dict[str, dict[str, PartMark]] = {}
    for mark in marks:
        if mark.part not in known:
            warnings.append(f"copy {mark.code}: the marks given on screen name part {mark.part}, which the exam does "
                            "not have: left out")
        else:
            by_copy.setdefault(mark.code, {})[mark.part] = mark
    pages_of: dict[str, dict[int, ScannedPage]] = {}
    for page in scanned:
        pages_of.setdefault(page.code, {}).setdefault(page.page, page)
    spaces = answer_spaces(printed, scanned)
    height = printed.page_size[1]
    graded_codes = {row.code for row in graded}
    for code in sorted(set(by_copy) - graded_codes):
        warnings.append(f"copy {code} has marks given on screen but no result: grade it (`examgen grade`) to "
                        "return it")
    copies = []
    for row in graded:
        on_screen = by_copy.get(row.code, {})
        feedback = []
        for number, maximum in parts:
            points = row.points[number]
            given = on_screen.get(number)
            if given is None:
                feedback.append(PartFeedback(number, points, maximum))
                continue
            if given.points != points:
                warnings.append(f"copy {row.code}, part {number}: {format_number(given.points)} points on screen, "
                                f"{format_number(points)} in the results: the returned copy shows the results' (export "
                                "the marks and grade again if the screen's are right)")
            notes = tuple(Note(text, rubric.get(number, {}).get(text.strip())) for text in given.notes)
            feedback.append(PartFeedback(number, points, maximum, notes, given.comment))
        present = pages_of.get(row.code, {})
        beside: dict[int, list[tuple[str, float]]] = {}
        for number, _ in parts:
            home = _home_page(printed, row.code, number)
            if home is not None and home[0] in present:
                beside.setdefault(home[0], []).append((number, home[1]))
        drawn: dict[int, list[Drawn]] = {}
        for mark in on_screen.values():
            for annotation in mark.annotations:
                where = spaces.get((row.code, mark.part, annotation.space))
                if where is None:
                    warnings.append(f"copy {row.code}, part {mark.part}: an annotation on answer space "
                                    f"{annotation.space + 1}, which the scan does not have: left out")
                    continue
                on_page, box = where
                drawn.setdefault(on_page, []).append(Drawn(annotation.kind, box.x + annotation.x * box.width,
                                                        _top(box, height) + annotation.y * box.height,
                                                        annotation.text))
        pages = tuple(ReturnedPage(present[number], tuple(sorted(beside.get(number, ()), key=lambda item: item[1])),
                                   tuple(drawn.get(number, ())))
                      for number in sorted(present))
        missing = tuple(page for page in range(1, printed.pages_per_copy + 1) if page not in present)
        copies.append(ReturnedCopy(row.code, row.registration, row.name, tuple(feedback), row.total,
                                   sum(maximum for _, maximum in parts), row.grade, pages, missing))
    return tuple(copies), warnings
