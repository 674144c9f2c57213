"""`examgen return`: every graded student's marked copy as a PDF of its own, from the scan (its bundles and
readings), the grading's results and the marks given on screen (marking/returned.py, writers/returned.py,
docs/marking.md), and publish.html, the examiner's list of which file goes to which student."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Collector, Loc, ScanError, SourceError, printable
from ..marking.records import PartMark
from ..marking.returned import Graded, ReturnedCopy, ReturnedPage, ScannedPage
from ..orchestrate import read_exam
from ..outputs import replace_file, writing
from ..project import Target
from ..scanning.inputs import PageImage
from ..scanning.printed import Printed
from ..spreadsheet import cell_value
from .grade import GRADING
from .scan import BUNDLES, BUNDLES_FILE, CACHE, SCANS

RETURNED = "returned"  # the returned copies' folder in the course's records
PUBLISH = "publish.html"
if TYPE_CHECKING:
    import pypdfium2 as pdfium

    from ..stages.render import Strings



@dataclass(frozen=True)
class ReturnRequest:
    """Where `examgen return` reads and writes; by default the course's records."""

    copies: Path | None = None  # the printed copies (course/<id>/copies/)
    scan: Path | None = None  # the scan's folder (course/<id>/scans/)
    grading: Path | None = None  # the folder of results.csv (course/<id>/grading/)
    out: Path | None = None  # course/<id>/returned/


@dataclass(frozen=True)
class ReturnResult:
    out_dir: Path
    returned: int  # students with a returned copy
    pages: int
    incomplete: int  # returned copies with pages not scanned
    not_returned: int  # copies of the results without points (absent)
    on_screen: int  # parts marked on screen
    warnings: list[str]


def return_copies(target: Target, request: ReturnRequest, on_screen: Sequence[PartMark] | None = None) -> ReturnResult:
    """Write every graded copy's returned PDF and publish.html. ``on_screen``: the marks given on screen;
    by default those of the scan's marking store, where there is one (none: points only)."""
    from ..marking.returned import returned_copies
    from ..scanning.printed import read_printed
    from ..stages.render import strings
    from ..writers.returned import ReturnedPdf, typeset

    out = Collector()
    exam = read_exam(target, target.project.theme(), out)
    out.raise_if_any()
    printed = read_printed(request.copies or target.copies, exam.id)
    if printed.exam_code != exam.meta.code:
        raise ScanError(f"these copies carry exam code {printed.exam_code}, the exam is {exam.meta.code}: give "
                        "--copies DIR with the copies of this exam", Loc(printed.folder))
    parts = [(part.number, part.points) for _, part in exam.parts()]
    rubric = {part.number: {note.text.source.strip(): note.points for note in part.answer.rubric()}
              for _, part in exam.parts()}
    scans = request.scan or target.course / SCANS
    results = (request.grading or target.course / GRADING) / "results.csv"
    graded, absent = read_results(results, printed, [number for number, _ in parts])
    scanned = scanned_pages(scans, printed)
    if on_screen is None:
        from ..marking.store import STORE, part_marks

        on_screen = part_marks(scans / STORE)  # none without a store: points only
    copies, warnings = returned_copies(printed, parts, graded, scanned, on_screen, rubric)
    own = Collector()  # the return's own warnings, which publish.html lists too (not the exam source's)
    for warning in warnings:
        own.warn(warning)
    heading = f"{exam.meta.course}: {exam.meta.kind}, {exam.meta.date.isoformat()}"
    words = strings(target.project.theme(), exam.meta.language)
    folder = request.out or target.course / RETURNED
    overlays = typeset(copies, heading, words, printed.page_size[0], target.work / RETURNED, own)
    out.noted(own.warnings)
    pdf = ReturnedPdf(overlays, copies, printed.page_size)
    with writing("the returned copies", folder), BundlePages() as bundles:
        folder.mkdir(parents=True, exist_ok=True)
        for index, copy in enumerate(copies):
            written = pdf.copy_file(index, bundles.image)
            replace_file(folder / f"{copy.code}.pdf", partial(pdf.file.write, written=written))
        names = {code: student.name for code, student in printed.students.items() if student}
        page = publish_html(heading, words, copies,
                            [f"{code} ({names[code]})" if code in names else code for code in absent], own.warnings)
        replace_file(folder / PUBLISH, partial(Path.write_text, data=page, encoding="utf-8"))
    return ReturnResult(folder, len(copies), sum(len(copy.pages) for copy in copies),
                        sum(bool(copy.missing) for copy in copies), len(absent), len(on_screen), out.warnings)


def read_results(path: Path, printed: Printed, parts: list[str]) -> tuple[list[Graded], list[str]]:
    """The graded copies of `examgen grade`'s results.csv, and the codes of the absent ones (no points). The
    student's name is the copies' manifest's where it has one."""
    if not path.is_file():
        raise SourceError("no results here: grade the exam first (`examgen grade`), or give --grading DIR with the "
                          "folder of its results.csv", Loc(path))
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = [cell_value(cell) for cell in rows[0]] if rows else []
    if header != ["code", "registration", "name", *parts, "total", "grade"]:
        raise SourceError("not the results of this exam as it is now (its parts differ): grade it again",
                          Loc(path, 1))
    graded, absent = [], []
    problems = Collector()
    for line, row in enumerate(rows[1:], 2):
        cells = [cell_value(cell) for cell in row]
        code, registration, name = cells[:3]
        if code not in printed.variants:
            problems.error(SourceError(f"copy {printable(code)} is not in {Loc(printed.folder)}'s manifest: give "
                                       "--copies DIR with the copies that were graded", Loc(path, line)))
            continue
        if not cells[-1]:
            absent.append(code)
            continue
        student = printed.students.get(code)
        try:
            points = {number: float(value) for number, value in zip(parts, cells[3:3 + len(parts)])}
            total = float(cells[-2])
        except ValueError:
            problems.error(SourceError("a number of points is not a number: grade the exam again", Loc(path, line)))
            continue
        graded.append(Graded(code, student.registration if student else registration,
                             student.name if student else name, points, total, cells[-1]))
    problems.raise_if_any()
    return graded, absent


def scanned_pages(folder: Path, printed: Printed) -> list[ScannedPage]:
    """Every copy page the scan read, in the scan's order (a page scanned twice counted where it was read
    first, as the scan counts it), with the bundle page that shows it and where the printed page lies in it."""
    from ..scanning import store
    from ..scanning.read import READ

    listing = folder / BUNDLES_FILE
    if not listing.is_file():
        raise ScanError("no scan here: scan the copies first (`examgen scan`), or give --scan DIR", Loc(folder))
    copies = store.copies_digest(printed.folder)
    pages: dict[tuple[str, int], ScannedPage] = {}
    for stored, given in list(csv.reader(io.StringIO(listing.read_text(encoding="utf-8"), newline="")))[1:]:
        readings = store.load(folder / CACHE / store.entry_name(Path(stored).stem, copies))
        if readings is None or any(reading.status == READ and not reading.placement for reading in readings):
            raise ScanError(f"the scan's readings of {given} are not in its cache (or are those of an older examgen, "
                            "or of other copies): run `examgen scan` once more (no files needed), which reads them "
                            "anew", Loc(folder / CACHE))
        for reading in readings:
            if reading.status == READ and reading.label is not None:
                key = (reading.label.code, reading.label.page)
                pages.setdefault(key, ScannedPage(*key, str(folder / BUNDLES / stored), reading.number,
                                                  reading.placement))
    return list(pages.values())


class BundlePages:
    """The scanned pages' images, from the scan's bundles (a PDF opened once, its pages taken as needed)."""

    def __init__(self) -> None:
        self.documents: dict[str, pdfium.PdfDocument] = {}

    def __enter__(self) -> BundlePages:
        return self

    def __exit__(self, *_: object) -> None:
        for document in self.documents.values():
            document.close()

    def image(self, page: ReturnedPage) -> PageImage:
        path, number = Path(page.scan.bundle), page.scan.number
        with path.open("rb") as file:
            head = file.read(8)
        if head.startswith(b"%PDF-"):
            import pypdfium2 as pdfium

            from ..scanning.inputs import pdf_page_image

            document = self.documents.get(str(path))
            if document is None:
                document = self.documents[str(path)] = pdfium.PdfDocument(path)
            return pdf_page_image("", document, number - 1)
        if number == 1 and not head.startswith((b"II*\x00", b"MM\x00*")):
            return PageImage("", 1, encoded=path.read_bytes())
        from PIL import Image

        with Image.open(path) as image:
            image.seek(number - 1)
            gray = image.convert("L")
            return PageImage("", number, pixels=gray.tobytes(), width=gray.width)


STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222 }
table { border-collapse: collapse; margin: .5em 0 } td, th { padding: .15em .6em; text-align: left }
th { background: #f0f0f0 } tr:nth-child(even) td { background: #fafafa } td.n { text-align: right }
.note { background: #fff4d6; padding: .6em 1em; border-left: 4px solid #e0a800 }
"""


def publish_html(heading: str, words: Strings, copies: Sequence[ReturnedCopy], absent: Sequence[str],
                 warnings: Sequence[str]) -> str:
    """What to publish where, in the exam's language (``words``: the theme's plain-text sentences):
    each returned file and the one student it goes to; the copies with none (``absent``: each named as
    the page shows it)."""

    def said(key: str, **values: object) -> str:
        return html.escape(words(key, **values))

    rows = "".join(
        f"<tr><td>{html.escape(copy.name)}</td><td>{html.escape(copy.registration)}</td><td>{copy.code}</td>"
        f'<td><a href="{copy.code}.pdf">{copy.code}.pdf</a></td><td class="n">{words.number(copy.total)}</td>'
        f"<td>{html.escape(copy.grade)}</td><td class=\"n\">{len(copy.pages) + 1}</td>"
        f"<td>{', '.join(map(str, copy.missing)) or ''}</td></tr>" for copy in copies)
    absent_list = (f"<h2>{said('publish_absent_title')}</h2><p>{said('publish_absent', codes=', '.join(absent))}</p>"
                   if absent else "")
    notes = (f"<h2>{said('publish_warnings')}</h2><ul>"
             + "".join(f"<li>{html.escape(warning)}</li>" for warning in warnings) + "</ul>" if warnings else "")
    columns = "".join(f"<th>{html.escape(column)}</th>" for column in words.items("publish_columns"))
    return f"""<!DOCTYPE html>
<html lang="{html.escape(words.language)}"><head><meta charset="utf-8">
<title>{said('publish_title')}: {html.escape(heading)}</title>
<style>{STYLE}</style></head><body>
<h1>{said('publish_title')}</h1>
<p>{said('publish_summary', heading=heading, count=len(copies))}</p>
<p class="note">{said('publish_note')}</p>
<table><tr>{columns}</tr>{rows}</table>
{absent_list}{notes}
</body></html>
"""
