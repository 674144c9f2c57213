"""`examgen return` from data: copies made for a roster (a name in Arabic script among them), scanned as a
scanner would (tests/scansim.py: turned, skewed, a page left out), read by `examgen scan`, graded by
`examgen grade`, some parts marked on screen with notes, a comment and annotations. The returned PDFs are
read back (pages, text by pdftotext), rendered (pdftoppm) to find the annotations where the grader put them
and the scan straightened onto the printed page, and made twice to the same bytes."""

from __future__ import annotations

import csv
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import scansim
from PIL import Image
from support import quiz_header, write_exam

from examgen.commands.copies import CopiesRequest, make_copies
from examgen.commands.grade import GradeRequest, grade
from examgen.commands.returned import ReturnRequest, return_copies
from examgen.commands.scan import ScanRequest, scan
from examgen.marking.records import Annotation, PartMark
from examgen.marking.returned import ScannedPage, answer_spaces
from examgen.project import Project
from examgen.scanning.printed import read_printed
from examgen.writers.returned import COLUMN, stacked

EXAM = quiz_header("Q0003") + """\
problems:
  - title: Choices
    parts:
      - points: 1
        prompt: Which numbers are prime?
        options: [{text: "2", correct: true}, "4", {text: "5", correct: true}, "9"]
  - title: Working
    parts:
      - points: 2
        prompt: What is 6 times 7?
        space: 4cm
        solution: Forty-two, as six sevens make.
        notes:
          - text: the product
            points: 1
          - text: a sign error
            points: -0.5
      - points: 3
        prompt: Name a prime and say why it is one.
        space: 4cm
        solution: Seven is a prime number.
"""
ROSTER = """registration,name
03720001,Ada Lovelace
03720002,فاطمة الزهراء
03720003,Björn Ærøskøbing
03720004,Absent Person
"""
DPI = 100


@pytest.fixture(scope="module")
def returned(tmp_path_factory):
    """The course through copies, scan (the third copy's second page left out), grade and return."""
    root = tmp_path_factory.mktemp("return")
    write_exam(root / "exams" / "rq", EXAM)
    (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
    target = Project(root).resolve("rq")
    make_copies(target, CopiesRequest(roster=root / "roster.csv"))
    printed = read_printed(target.copies, "rq")
    rng = random.Random(5)
    truth = scansim.plan_marks(printed, rng, ambiguous_share=0, grader_slips=0)
    left_out = (printed.codes[2], 2)
    pages = [scansim.scan_copy_page(printed, truth, code, page, rng, 200, turn=(code, page) == (printed.codes[0], 2))
             for code in printed.codes[:3] for page in range(1, printed.pages_per_copy + 1) if (code, page) != left_out]
    rng.shuffle(pages)
    bundle = scansim.write_pdf(pages, root / "bundle.pdf", 200)
    scans = target.course / "scans"
    scan(target, ScanRequest((bundle,)))
    marks_sheet, crosses = scansim.truth_sheets(truth, printed, root / "truth", [("1.1", 1.0), ("2.1", 2.0),
                                                                                ("2.2", 3.0)])
    absent = printed.codes[3]  # did not sit the exam: no pages, an empty row
    for sheet in (marks_sheet, crosses):
        rows = [row for row in sheet.read_text(encoding="utf-8").splitlines() if not row.startswith(absent)]
        sheet.write_text("\n".join(rows + ([absent + ",,,,,"] if sheet == marks_sheet else [])) + "\n",
                         encoding="utf-8")
    grade(target, GradeRequest(marks_sheet, crosses))
    first = printed.codes[0]
    marks = [PartMark(first, "2.1", truth.points[first, "2.1"], ("the product", "a sign error"),
                      "Check the last line again. \U0001F44D",
                      (Annotation("tick", 0.25, 0.5), Annotation("cross", 0.75, 0.5),
                       Annotation("text", 0.4, 0.2, "not quite")), "grader1"),
             PartMark(printed.codes[1], "2.2", truth.points[printed.codes[1], "2.2"], (), "جيد جدا", (), "grader2"),
             PartMark(printed.codes[2], "2.1", 0.5 + truth.points[printed.codes[2], "2.1"], (), "", (), "grader2")]
    result = return_copies(target, ReturnRequest(), marks)
    again = return_copies(target, ReturnRequest(out=root / "again"), marks)
    return target, printed, truth, result, again, marks, scans


def _text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def _render(pdf: Path, page: int, folder: Path) -> np.ndarray:
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(folder / "page")], check=True)
    return np.array(Image.open(folder / "page.png").convert("RGB")).astype(int)


def _red(pixels: np.ndarray) -> np.ndarray:
    return (pixels[..., 0] > 150) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)


@pytest.mark.latex
def test_every_graded_student_gets_a_pdf_with_points_total_and_grade(returned):
    target, printed, truth, result, _, _, _ = returned
    folder = target.course / "returned"
    assert result.returned == 3 and result.incomplete == 1 and result.on_screen == 3 and result.not_returned == 1
    differs = f"copy {printed.codes[2]}, part 2.1: {truth.points[printed.codes[2], '2.1'] + 0.5:g} points on screen"
    assert sum(differs in warning for warning in result.warnings) == 1
    assert any("no 👍 (U+1F44D): printed as '?'" in warning for warning in result.warnings)  # no font has it
    assert sorted(path.name for path in folder.iterdir()) == sorted([*(f"{code}.pdf" for code in printed.codes[:3]),
                                                                     "publish.html"])
    results = {row["code"]: row for row in csv.DictReader(open(target.course / "grading" / "results.csv",
                                                               encoding="utf-8"))}
    from pypdf import PdfReader

    for code, name in zip(printed.codes, ("Ada Lovelace", "فاطمة الزهراء", "Björn Ærøskøbing")):
        pdf = folder / f"{code}.pdf"
        expected_pages = 1 + printed.pages_per_copy - (code == printed.codes[2])
        assert len(PdfReader(pdf).pages) == expected_pages
        cover = _text(pdf, 1)
        assert name in cover or name in _text(pdf, 1).replace(" ", ""), cover  # a right-to-left name reads whole
        assert f"Total: {results[code]['total']} of 6 points" in cover and f"Grade: {results[code]['grade']}" in cover
        assert code in cover and results[code]["registration"].lstrip("'") in cover
    missing = _text(folder / f"{printed.codes[2]}.pdf", 1)
    assert "Page 2 of your copy is not in the scan" in missing
    publish = (folder / "publish.html").read_text(encoding="utf-8")
    assert all(f'href="{code}.pdf"' in publish for code in printed.codes[:3]) and "فاطمة الزهراء" in publish
    assert f"Absent (no points in the results): {printed.codes[3]} (Absent Person)." in publish
    assert differs in publish and "exam.yaml" not in publish  # the return's own warnings, not the source's


@pytest.mark.latex
def test_the_same_inputs_give_the_same_bytes(returned):
    target, printed, _, _, again, _, _ = returned
    for name in [*(f"{code}.pdf" for code in printed.codes[:3]), "publish.html"]:
        assert (target.course / "returned" / name).read_bytes() == (again.out_dir / name).read_bytes()


@pytest.mark.latex
def test_points_notes_and_comments_stand_beside_their_parts(returned):
    target, printed, truth, _, _, _, _ = returned
    first, second = (target.course / "returned" / f"{code}.pdf" for code in printed.codes[:2])
    pages = "\n".join(_text(first, page) for page in range(2, 2 + printed.pages_per_copy))
    points = truth.points[printed.codes[0], "2.1"]
    assert f"2.1 {points:g} of 2" in " ".join(pages.split())
    assert "the product (+1)" in pages and "a sign error (-0.5)" in pages and "Check the last line again." in pages
    beside = " ".join("".join(_text(second, page) for page in range(2, 2 + printed.pages_per_copy)).split())
    assert "جيد" in beside
    # a part marked on paper alone (its grading boxes): its points, no notes
    assert f"2.1 {truth.points[printed.codes[1], '2.1']:g} of 2 points 2.2" in beside and "•" not in beside


@pytest.mark.latex
def test_a_german_exam_is_returned_in_german(returned, tmp_path):
    target, printed, truth, _, _, marks, _ = returned
    root = tmp_path / "de"
    shutil.copytree(target.project.root, root)
    exam = root / "exams" / "rq" / "exam.yaml"
    source = exam.read_text(encoding="utf-8")
    exam.write_text(source.replace("examiner: Dr. Test\n", "examiner: Dr. Test\nlanguage: de\n"), encoding="utf-8")
    german = Project(root).resolve("rq")
    return_copies(german, ReturnRequest(), marks)
    folder = german.course / "returned"
    results = {row["code"]: row for row in csv.DictReader(open(german.course / "grading" / "results.csv",
                                                               encoding="utf-8"))}
    first = printed.codes[0]
    cover = " ".join(_text(folder / f"{first}.pdf", 1).split())
    total = results[first]["total"].replace(".", ",")
    assert f"Gesamt: {total} von 6 Punkten" in cover and f"Note: {results[first]['grade']}" in cover
    assert f"Exemplar {first}" in cover and "Matrikelnummer" in cover and "Teilaufgabe Punkte von" in cover
    assert "Die folgenden Seiten sind Ihre Klausur" in cover and "Total" not in cover
    assert "Seite 2 Ihrer Klausur fehlt im Scan" in _text(folder / f"{printed.codes[2]}.pdf", 1)
    beside = " ".join("".join(_text(folder / f"{first}.pdf", page)
                              for page in range(2, 2 + printed.pages_per_copy)).split())
    points = f"{truth.points[first, '2.1']:g}".replace(".", ",")
    assert f"2.1 {points} von 2 Punkten" in beside and "a sign error (-0,5)" in beside and " of " not in beside
    publish = (folder / "publish.html").read_text(encoding="utf-8")
    assert '<html lang="de">' in publish and "<h1>Zurückgegebene Klausuren</h1>" in publish
    assert "<th>Matrikelnummer</th>" in publish and "Abwesend (keine Punkte in den Ergebnissen)" in publish
    assert "Returned copies" not in publish and "Student" not in publish


@pytest.mark.latex
def test_annotations_are_drawn_where_the_grader_put_them(returned, tmp_path):
    target, printed, _, _, _, marks, scans = returned
    code = printed.codes[0]
    every_page = [ScannedPage(code, page, "", 0, ()) for page in range(1, printed.pages_per_copy + 1)]
    spaces = answer_spaces(printed, every_page)
    page, box = spaces[code, "2.1", 0]
    pixels = _render(target.course / "returned" / f"{code}.pdf", 1 + page, tmp_path)
    height = printed.page_size[1]
    assert pixels.shape[1] == round((printed.page_size[0] + COLUMN) * DPI / 72)
    scale = DPI / 72
    red = _red(pixels)
    for annotation in marks[0].annotations[:2]:
        x = (box.x + annotation.x * box.width) * scale
        y = (height - box.y - box.height + annotation.y * box.height) * scale
        near = red[round(y - 8):round(y + 8), round(x - 8):round(x + 8)]
        assert near.mean() > 0.05, (annotation, near.mean())
    text = marks[0].annotations[2]
    x, y = (box.x + text.x * box.width) * scale, (height - box.y - box.height + text.y * box.height) * scale
    assert red[round(y - 6):round(y + 6), round(x):round(x + 40)].any()
    printed_area = red[:, :round(printed.page_size[0] * scale)]
    assert printed_area.sum() < 0.002 * printed_area.size  # no red but the grader's marks on the page itself
    cover = _red(_render(target.course / "returned" / f"{printed.codes[1]}.pdf", 1, tmp_path))
    assert 0 < cover.sum() < 0.001 * cover.size  # the word "red" alone: no colour runs on from another piece


@pytest.mark.latex
def test_the_scan_is_shown_straightened_onto_the_printed_page_as_scanned(returned, tmp_path):
    """The first copy's page 2 was scanned upside down and skewed: returned, it lies on the printed page's
    grid (its QR code where print.pdf has it), and its image is the scanner's JPEG, byte for byte."""
    target, printed, _, _, _, _, scans = returned
    import cv2
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    code = printed.codes[0]
    returned_page = _render(target.course / "returned" / f"{code}.pdf", 3, tmp_path).mean(axis=2)
    original = scansim.render(printed.folder / "print.pdf", 1, DPI).astype(float)
    shown = returned_page[:original.shape[0], :original.shape[1]]
    blurred = [cv2.GaussianBlur(image, (0, 0), 2)[20:-20, 20:-20] for image in (shown, original)]

    def likeness(dx: int, dy: int) -> float:
        """How alike the returned page and the printed one are, the returned one moved by (dx, dy) pixels."""
        moved = np.roll(blurred[0], (dy, dx), axis=(0, 1))[10:-10, 10:-10]
        return float(np.corrcoef(moved.ravel(), blurred[1][10:-10, 10:-10].ravel())[0, 1])

    shifts = [(dx, dy) for dx in range(-4, 5) for dy in range(-4, 5)]
    best = max(shifts, key=lambda shift: likeness(*shift))
    assert likeness(*best) > 0.85 and max(map(abs, best)) <= 1, (best, likeness(*best))  # within 0.25 mm
    image = PdfReader(target.course / "returned" / f"{code}.pdf").pages[2]["/Resources"]["/XObject"]["/S"]
    assert image["/Filter"] == "/DCTDecode"
    bundle = next((scans / "bundles").iterdir())
    document = pdfium.PdfDocument(bundle)
    jpegs = {bytes(obj.get_data(decode_simple=False)) for page in document for obj in page.get_objects()}
    assert image.get_object()._data in jpegs


def test_blocks_in_the_column_keep_their_order_and_stay_on_the_page():
    tops, height = stacked([100.0, 105.0, 800.0], [40.0, 30.0, 60.0], 842.0)
    assert tops[0] == 100.0 and tops[1] >= 146.0 and tops[2] + 60.0 <= 842.0 and height == 842.0
    tops, height = stacked([10.0] * 5, [300.0] * 5, 842.0)  # more than fits: the page grows
    assert all(later >= earlier + 300 for earlier, later in zip(tops, tops[1:])) and height > 842.0


@pytest.mark.latex
def test_without_results_or_a_scan_it_says_what_to_run_first(returned, tmp_path):
    from examgen.errors import ScanError, SourceError

    target = returned[0]
    with pytest.raises(SourceError, match=r"results.csv: no results here: grade the exam first"):
        return_copies(target, ReturnRequest(grading=tmp_path, out=tmp_path / "out"), ())
    with pytest.raises(ScanError, match=r"no scan here: scan the copies first"):
        return_copies(target, ReturnRequest(scan=tmp_path, out=tmp_path / "out"), ())
    stale = tmp_path / "stale"
    shutil.copytree(returned[6], stale)
    for readings in stale.glob("cache/*/readings.json"):  # an older examgen's readings: no placement
        readings.write_text(readings.read_text(encoding="utf-8").replace('"placement"', '"old"'), encoding="utf-8")
    with pytest.raises(ScanError, match=r"run `examgen scan` once more"):
        return_copies(target, ReturnRequest(scan=stale, out=tmp_path / "out"), ())
    assert not (tmp_path / "out").exists()
