"""`examgen grade`: marks and crosses in, results, grades and an item analysis out. The analysis
recovers a seeded model's part difficulties and flags its negatively discriminating part; bad
input is reported at its file:line, all at once, writing nothing; the report is looked at in
headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from simulate import parts_of, simulate, write_csv
from support import HEADER, REPO, write_exam

from examgen.codes import copy_code as code
from examgen.commands.copies import CopiesRequest, make_copies
from examgen.commands.export import ExportRequest, export
from examgen.commands.grade import GradeRequest, grade
from examgen.errors import Collector, ErrorGroup, ExamgenError, SourceError
from examgen.grading.analysis import EVERYBODY, NEGATIVE, NOBODY, analyse
from examgen.grading.scale import GERMAN, parse_thresholds, points_of, resolve
from examgen.model.source import Grading, Threshold
from examgen.orchestrate import prepare, read_exam, render_all
from examgen.project import Project
from examgen.roster import read_roster
from examgen.spreadsheet import cell_value, neutral_cell

MODEL_EXAM = HEADER + """\
problems:
  - title: Model
    parts:
      - points: 2
        prompt: Which are right?
        options: [a, b, c, d]
        correct: [1, 3]
      - {points: 4, prompt: Easy., space: 2cm, solution: An answer.}
      - {points: 4, prompt: Middle., space: 2cm, solution: An answer.}
      - {points: 4, prompt: Hard., space: 2cm, solution: An answer.}
      - {points: 4, prompt: Hardest., space: 2cm, solution: An answer.}
      - {points: 3, prompt: Misleading., space: 2cm, solution: An answer.}
"""
# (difficulty, discrimination) per part: 1.6 is answered better by weaker students
MODEL = {"1.1": (-1.0, 1.0), "1.2": (-2.0, 1.0), "1.3": (0.0, 1.0), "1.4": (1.0, 1.0), "1.5": (2.0, 1.0),
         "1.6": (-0.5, -1.0)}
EASIEST_FIRST = ["1.2", "1.1", "1.3", "1.6", "1.4", "1.5"]  # the model's expected share of points, largest first


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A project with the model exam, its rendered exam and 600 simulated students (10 absent)."""
    root = tmp_path_factory.mktemp("model")
    write_exam(root / "exams" / "model", MODEL_EXAM)
    target = Project(root).resolve("model")
    rendered = prepare(target, Collector())
    marks, crosses = simulate(parts_of(rendered.exam, MODEL), 600, "E1", root / "sheets", seed=7, absent=10)
    return target, rendered, marks, crosses


def analysed(rendered, marks: Path, crosses: Path | None = None):
    """The analysis of a marks sheet, by the pieces `examgen grade` runs."""
    from examgen.grading.score import Keys, score
    from examgen.grading.sheets import Codes, read_crosses, read_marks

    out, exam = Collector(), rendered.exam
    rows = read_marks(marks, exam, Codes(exam.meta.code, marks.parent / "no-manifest.json"), out)
    crossed = read_crosses(crosses, exam, {row.code for row in rows}, out) if crosses else ()
    results = score(tuple(p for _, p in exam.parts()), rows, crossed, Keys(rendered),
                    resolve(None, exam.total_points, out), out)
    assert not out.errors
    return analyse(results)


def test_the_analysis_recovers_the_models_difficulty_order_and_flags_the_misleading_part(model, tmp_path):
    target, rendered, marks, crosses = model
    analysis = analysed(rendered, marks, crosses)
    parts = {part.number: part for part in analysis.parts}
    assert sorted(parts, key=lambda number: parts[number].difficulty, reverse=True) == EASIEST_FIRST
    assert {number: part.flags for number, part in parts.items() if part.flags} == {"1.6": (NEGATIVE,)}
    assert parts["1.6"].discrimination < -0.1 and min(p.discrimination for p in parts.values() if not p.flags) > 0.2
    result = grade(target, GradeRequest(marks, crosses, out=tmp_path))
    assert (result.graded, result.absent, analysis.count) == (590, 10, 590)
    import numpy

    rows = rows_of(tmp_path / "results.csv")
    scores = numpy.array([[float(cell) for cell in row[3:-2]] for row in rows[1:] if row[-1]])  # graded copies
    k = scores.shape[1]
    alpha = k / (k - 1) * (1 - scores.var(axis=0).sum() / scores.sum(axis=1).var())  # Cronbach (1951)
    assert analysis.alpha == pytest.approx(alpha) and 0.2 < alpha < 0.8
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"<li>part 1.6: {NEGATIVE}</li>" in report and report.count(NEGATIVE) == 2  # the list and 1.6's row


def test_the_analysis_object_agrees_with_the_files_and_flags_parts_nobody_or_everybody_solved(model, tmp_path):
    target, rendered, _, _ = model
    parts = parts_of(rendered.exam)
    marks = tmp_path / "marks.csv"
    sheet = [["code", "registration", "name", *(p.number for p in parts)],
             ["max", "", "", "2", "4", "4", "4", "4", "3"]]
    sheet += [[code("E1", n), f"r{n}", f"S {n}", "2", "0", "4", str(n % 5), "1,5", "3"] for n in range(1, 6)]
    write_csv(marks, sheet)
    flags = {part.number: part.flags for part in analysed(rendered, marks).parts}
    assert flags["1.2"] == (NOBODY,) and flags["1.1"] == flags["1.3"] == flags["1.6"] == (EVERYBODY,)
    assert flags["1.4"] == flags["1.5"] == ()  # 1.5 varies nowhere but is neither 0 nor full: no flag


def test_mc_parts_are_scored_from_the_crosses_against_the_key_overriding_the_sheet(model, tmp_path):
    target, _, _, _ = model
    marks = tmp_path / "marks.csv"
    header = ["code", "registration", "name", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6"]
    write_csv(marks, [header, ["max", "", "", "2", "4", "4", "4", "4", "3"],
                      *([code("E1", n), f"r{n}", "", "0", "1", "1", "1", "1", "1"] for n in (1, 2, 3))])
    crosses = tmp_path / "crosses.csv"
    write_csv(crosses, [["code", "part", "crossed"], [code("E1", 1), "1.1", "3 1"], [code("E1", 2), "1.1", "1"]])
    grade(target, GradeRequest(marks, crosses, out=tmp_path / "out"))
    results = rows_of(tmp_path / "out" / "results.csv")
    assert [row[3] for row in results[1:]] == ["2", "0", "0"]  # all boxes right; one missing; no scan: the sheet's
    assert rows_of(tmp_path / "out" / "grades.csv") == [["registration", "grade"], ["r1", "5.0"], ["r2", "5.0"],
                                                        ["r3", "5.0"]]


MISTYPED = code("E1", 2)[:-1] + ("Y" if code("E1", 2)[-1] != "Y" else "Z")
BAD_MARKS = [
    ["code", "registration", "name", "1.1", "1.2", "1.3", "1.4", "1.5", "extra"],  # 1: no 1.6, an unknown column
    ["max", "", "", "2", "4", "4", "4", "4", ""],
    [code("E1", 1), "r1", "A", "2", "4", "4", "4", "4"],
    [code("E1", 1), "r2", "B", "2", "4", "4", "4", "4"],  # 4: a duplicated copy
    [MISTYPED, "r3", "C", "2", "4", "4", "4", "4"],  # 5: a mistyped code
    [code("E2", 3), "r4", "D", "2", "4", "4", "4", "4"],  # 6: another exam's copy
    [code("E1", 4), "r5", "E", "2", "4.5", "1.3", "x", "-1"],  # 7: above the maximum, not a half, not a number, < 0
    [code("E1", 5), "r6", "F", "2", "4", "", "4", "4"],  # 8: graded in part
    [code("E1", 9), "r7", "G", "2", "4", "4", "4", "4"],  # 9: not in the manifest
]
BAD_CROSSES = [
    ["code", "part", "crossed"],
    [code("E1", 1), "1.2", "1"],  # 2: not multiple choice
    [code("E1", 1), "7.1", "1"],  # 3: no such part
    [code("E1", 8), "1.1", "1"],  # 4: not on the marks sheet
    [code("E1", 1), "1.1", "1 5"],  # 5: no option 5
    [code("E1", 4), "1.1", "\u00b2"],  # 6: a digit to str.isdigit, not to int
    [code("E1", 5), "1.1", "1" * 5000],  # 7: more digits than int() reads
]
EXPECTED = [
    "marks.csv:1: marks sheet: column 'extra' is not one of the marks sheet's",
    "marks.csv:1: marks sheet: the header row has no column '1.6'",
    f"marks.csv:4: marks sheet: copy {code('E1', 1)} is also on line 3 (a duplicated copy)",
    "marks.csv:5: marks sheet: copy code '", "has a wrong check character: a typo?",
    f"marks.csv:6: marks sheet: copy code '{code('E2', 3)}' is of exam E2, not of this exam (E1)",
    "marks.csv:7: part 1.2: 4.5 points is above the part's maximum, 4",
    "marks.csv:7: part 1.3: 1.3 points is not a multiple of 0.5",
    "marks.csv:7: part 1.4: 'x' is not a number of points",
    "marks.csv:7: part 1.5: -1 points: marks are never negative",
    f"marks.csv:8: copy {code('E1', 5)}: not graded: part 1.3 (an empty cell",
    f"marks.csv:9: marks sheet: no copy '{code('E1', 9)}' in ", "manifest.json (an unknown copy code)",
    "crosses.csv:2: crosses file: part 1.2 is not a multiple-choice part",
    "crosses.csv:3: crosses file: the exam has no part '7.1'",
    f"crosses.csv:4: crosses file: copy '{code('E1', 8)}' is not on the marks sheet",
    "crosses.csv:5: crosses file: '1 5' is not a list of distinct option numbers of part 1.1 (1 to 4",
    "crosses.csv:6: crosses file: '\u00b2' is not a list of distinct option numbers",
    "crosses.csv:7: crosses file: '1111",
]


def test_bad_input_is_every_problem_at_its_line_at_once_and_nothing_is_written(model, tmp_path):
    target, _, _, _ = model
    write_csv(tmp_path / "marks.csv", BAD_MARKS)
    write_csv(tmp_path / "crosses.csv", BAD_CROSSES)
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "manifest.json").write_text(json.dumps({"entries": [{"code": code("E1", n)} for n in range(1, 9)]}))
    run = subprocess.run([sys.executable, "-m", "examgen.cli", "grade", str(target.exam_file), "marks.csv",
                          "--crosses", "crosses.csv", "--copies", "copies", "--out", "out"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    for expected in EXPECTED:
        assert expected in run.stderr, expected
    # each problem once, one line each: "error: file:line: ..."
    lines = run.stderr.strip().splitlines()
    assert len(lines) == len(BAD_CROSSES) - 1 + 11 and all(line.startswith("error: ") for line in lines), run.stderr
    assert not (tmp_path / "out").exists()


EVALUATED = ("=", "+", "-", "@", "\t", "\r")  # a cell a spreadsheet runs as a formula starts with one (OWASP)


@pytest.mark.parametrize("value", ["=cmd", "+1", "-1", "@SUM(A1)", "\tx", "\r=x", "'t Hooft", "'", "''=x",
                                   "Ada", "", "'x", "03712345", "'03712345", "2.10", "1.1", "12", "1.5", "1.",
                                   "1234567890123456"])
def test_a_neutral_cell_is_never_a_formula_and_reads_back_as_its_value(value):
    for keep_text in (False, True):
        written = neutral_cell(value, keep_text)
        assert not written.startswith(EVALUATED)
        assert cell_value(written) == value
    renumbered = value in ("03712345", "2.10", "1.", "1234567890123456")  # a spreadsheet saves another number
    assert neutral_cell(value, keep_text=True) == ("'" if renumbered else "") + neutral_cell(value)


@pytest.mark.latex
def test_formulas_in_a_roster_reach_no_csv_as_formulas_and_read_back_intact(project, tmp_path):
    """A roster of names and registration numbers a spreadsheet would run, through copies, the marks
    sheet (filled and saved again as a grader's spreadsheet does) and grading: no cell of marks.csv,
    results.csv or grades.csv starts a formula, and every name and number reads back as the roster
    gave it; a mark a spreadsheet saved as text ('-1) is still refused as negative."""
    target = Project(project).resolve("minimal")
    roster = REPO / "tests" / "data" / "formula-roster.csv"
    students = read_roster(roster)
    copies, marks = tmp_path / "copies", tmp_path / "marks.csv"
    make_copies(target, CopiesRequest(roster=roster, out=copies))
    export(target, ExportRequest("marks", marks, copies))
    header, maxima, *rows = rows_of(marks)
    write_csv(marks, [header, maxima, *(row[:3] + maxima[3:] for row in rows)])
    result = grade(target, GradeRequest(marks, copies=copies, out=tmp_path / "grading"))
    sheets = {name: rows_of(path) for name, path in [("marks", marks), ("results", result.out_dir / "results.csv"),
                                                     ("grades", result.out_dir / "grades.csv")]}
    for name, sheet in sheets.items():
        assert not [cell for row in sheet for cell in row if cell.startswith(EVALUATED)], name
    expected = [(student.registration, student.name) for student in students]
    for name in ("marks", "results"):
        assert [(cell_value(row[1]), cell_value(row[2])) for row in sheets[name][1:] if row[0] != "max"] == expected
    assert [cell_value(row[0]) for row in sheets["grades"][1:]] == [registration for registration, _ in expected]
    write_csv(marks, [header, maxima, [*rows[0][:3], "'-1", *maxima[4:]]])
    with pytest.raises(ExamgenError, match="-1 points: marks are never negative"):
        grade(target, GradeRequest(marks, copies=copies, out=tmp_path / "again"))
def test_a_cell_longer_than_the_csv_reader_takes_is_an_error_at_its_line(model, tmp_path):
    target, _, _, _ = model
    write_csv(tmp_path / "marks.csv", [BAD_MARKS[0][:-1] + ["1.6"], BAD_MARKS[1][:-1] + ["2"],
                                       [code("E1", 1), "r1", "A" * 200_000, "2", "4", "4", "4", "4", "2"]])
    run = subprocess.run([sys.executable, "-m", "examgen.cli", "grade", str(target.exam_file), "marks.csv",
                          "--out", "out"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert ("marks.csv:3: marks sheet: cannot be read as CSV (field larger than field limit (131072); a field holds "
            "at most 131,072 characters): a quote left open?") in run.stderr
    assert not (tmp_path / "out").exists()


def test_the_grading_scale_from_the_source_the_default_and_the_command_line(tmp_path):
    assert [points_of(t, 87) for t in GERMAN.thresholds][-2:] == [48.0, 43.5]  # 55 % of 87 is 47.85 -> 48
    default = resolve(None, 90, Collector())
    assert [cut.points for cut in default.cuts] == [85.5, 81, 76.5, 72, 67.5, 63, 58.5, 54, 49.5, 45]
    grades = (default.grade(45), default.grade(44.5), default.grade(90), default.grade(85))
    assert grades == ("4.0", "5.0", "1.0", "1.3")
    out = Collector()
    small = resolve(None, 3, out)  # a 3-point quiz: 95 %, 90 % and 85 % all need 3 points
    assert [cut.points for cut in small.cuts][:3] == [3, 3, 3] and small.grade(3) == "1.0" and small.grade(1) == "5.0"
    assert out.warnings[0] == ("grading: warning: grade 1.3 needs 90% (3 points), as many as grade 1.0: the exam's "
                               "3 points are too few to tell them apart, so nobody gets 1.3")
    scale = resolve(Grading(parse_thresholds("A=50%, B = 30.5, C=10"), "F"), 90, Collector())
    assert [(cut.grade, cut.points) for cut in scale.cuts] == [("A", 45), ("B", 30.5), ("C", 10)] and scale.fail == "F"
    with pytest.raises(ValueError, match="a threshold is GRADE=POINTS"):
        parse_thresholds("1.0:95%")
    write_exam(tmp_path / "exams" / "scale", MODEL_EXAM + """\
grading:
  thresholds: [good=20, fine=20, bad=50%, worse=30, worst=120%, odd=x]
  fail: bad
""")
    with pytest.raises(ErrorGroup) as raised:
        prepare(Project(tmp_path).resolve("scale"), Collector())
    found = [str(problem) for problem in raised.value.problems]
    assert all(isinstance(p, SourceError) and p.loc and p.loc.line == 22 for p in raised.value.problems)
    assert [message.split(": ", 2)[2] for message in found] == [
        "a threshold is GRADE=POINTS or GRADE=PERCENT% (such as 4.0=45 or 4.0=50%), not 'odd=x'",
        "grade fine needs 20 points, not fewer than grade good (20 points): list the best grade first, each "
        "needing fewer points than the one before",
        "grade bad is given twice (the failing grade is bad)",
        "grade worse needs 30 points, more than the exam's 21 points",
        "grade worst needs 120% (25.5 points), more than the exam's 21 points"]
    assert Threshold("1.0", 95, True) == GERMAN.thresholds[0]


def test_thresholds_on_the_command_line_replace_the_sources_and_the_outputs_repeat_byte_for_byte(model, tmp_path):
    target, _, marks, crosses = model
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder in (first, second):
        grade(target, GradeRequest(marks, crosses, out=folder))
    for name in ("results.csv", "grades.csv", "report.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    grade(target, GradeRequest(marks, crosses, parse_thresholds("pass=1"), out=other))
    assert {row[1] for row in rows_of(other / "grades.csv")[1:]} == {"pass"}
    assert {row[1] for row in rows_of(first / "grades.csv")[1:]} > {"1.7", "4.0", "5.0"}


@pytest.mark.parametrize("exam_id", ["2021-endterm", "2022-endterm"])
def test_the_endterms_grade_a_hundred_simulated_students(exam_id, tmp_path):
    target = Project(REPO).resolve(exam_id)
    rendered = prepare(target, Collector())
    parts = parts_of(rendered.exam)
    exam_code = rendered.exam.meta.code
    marks, crosses = simulate(parts, 100, exam_code, tmp_path, seed=3)
    (tmp_path / "manifest.json").write_text(json.dumps({"entries": [{"code": code(exam_code, n)}
                                                                    for n in range(1, 101)]}))
    result = grade(target, GradeRequest(marks, crosses, copies=tmp_path, out=tmp_path / "out"))
    assert (result.graded, result.warnings) == (100, [])
    rows = rows_of(tmp_path / "out" / "results.csv")
    assert rows[0] == ["code", "registration", "name", *(p.number for p in parts), "total", "grade"]
    read = {(row[0], row[1]): set(map(int, row[2].split())) for row in rows_of(crosses)[1:]}
    for row in rows[1:]:
        for index, part in enumerate(parts, 3):
            if part.options:
                assert float(row[index]) == (part.points if read[row[0], part.number] == part.correct else 0)
        assert float(row[-2]) == sum(float(cell) for cell in row[3:-2])
    assert len(rows_of(tmp_path / "out" / "grades.csv")) == 101


@pytest.mark.browser
def test_the_report_renders_in_headless_chromium(model, tmp_path):
    target, _, marks, crosses = model
    grade(target, GradeRequest(marks, crosses, out=tmp_path))
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: `make chromium` installs Debian's"
    screenshot = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={screenshot}",
                    "--window-size=1200,2000", (tmp_path / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    import numpy
    from PIL import Image

    pixels = numpy.asarray(Image.open(screenshot).convert("RGB"), dtype=float) / 255
    assert pixels.shape[:2] == (2000, 1200)
    ink = (pixels.min(axis=2) < 0.9).mean()  # anything but white and the lightest greys
    blue = ((pixels[..., 2] > 0.5) & (pixels[..., 0] < 0.4)).mean()  # the plots' bars
    red = ((pixels[..., 0] > 0.6) & (pixels[..., 1] < 0.4)).mean()  # the failing grade's bar, the flags
    assert ink > 0.05 and blue > 0.01 and red > 0.0005, (ink, blue, red)


def test_thresholds_to_try_others_never_replace_the_official_results(model):
    """`grade --thresholds` without --out writes its what-if outputs beside the official ones."""
    target, _, marks, crosses = model
    official = grade(target, GradeRequest(marks, crosses))
    kept = {name: (official.out_dir / name).read_bytes() for name in official.files}
    trial = grade(target, GradeRequest(marks, crosses, parse_thresholds("pass=1")))
    assert official.out_dir == target.course / "grading" and trial.out_dir == target.course / "grading-what-if"
    assert {name: (official.out_dir / name).read_bytes() for name in official.files} == kept
    assert {row[1] for row in rows_of(trial.out_dir / "grades.csv")[1:]} == {"pass"}


TEN_PARTS = HEADER + """\
problems:
  - title: Ten parts
    parts:
""" + "".join(f"      - {{points: 1, prompt: Part {n}., space: 1cm, solution: An answer.}}\n" for n in range(1, 11))
REGISTRATIONS = ["03712345", "03712346", "13712347"]


def _ten_parts(tmp_path: Path):
    """A project with an exam whose parts 1.1 and 1.10 a spreadsheet reads as the same number, and the
    manifest of three copies made from a roster whose registration numbers start with 0 but one."""
    from examgen.writers.marks import marks_csv

    write_exam(tmp_path / "exams" / "ten", TEN_PARTS)
    target = Project(tmp_path).resolve("ten")
    entries = [{"copy": n, "code": code("E1", n), "student": {"registration": registration, "name": f"Müller {n}"}}
               for n, registration in enumerate(REGISTRATIONS, 1)]
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "manifest.json").write_text(json.dumps({"exam": "ten", "entries": entries}), encoding="utf-8")
    return target, copies, marks_csv(prepare(target, Collector()).exam, entries)


def _spreadsheet_saved(sheet: Path, out: Path) -> Path:
    """The sheet as LibreOffice Calc opens and saves it (UTF-8, comma-separated, its default column types)."""
    soffice = shutil.which("soffice")
    assert soffice, "soffice is missing: `make test` installs Debian's libreoffice-calc-nogui"
    out.mkdir()
    subprocess.run([soffice, f"-env:UserInstallation={(out / 'profile').as_uri()}", "--headless",
                    "--infilter=CSV:44,34,76", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                    "--outdir", str(out), str(sheet)], capture_output=True, timeout=180, check=True)
    return out / sheet.name


@pytest.mark.spreadsheet
def test_the_marks_sheet_survives_a_round_trip_through_libreoffice(tmp_path):
    """Filled in and saved by LibreOffice, the sheet keeps part 1.10's column and the registration
    numbers' leading zeros, and grades.csv has every student's number as the roster gave it."""
    target, copies, text = _ten_parts(tmp_path)
    header, maxima, *rows = list(csv.reader(io.StringIO(text)))
    assert header[-1] == "'1.10" and [row[1] for row in rows] == ["'03712345", "'03712346", "13712347"]
    assert text.count("'") == 3  # nothing else changed: 1.1, the maxima, the codes as they were
    filled = tmp_path / "marks.csv"
    write_csv(filled, [header, maxima, *(row[:3] + ["1"] * 9 + [str(n % 2)] for n, row in enumerate(rows))])
    saved = _spreadsheet_saved(filled, tmp_path / "saved")
    assert "1.1,1.2" in saved.read_text(encoding="utf-8")  # LibreOffice did read and write it
    result = grade(target, GradeRequest(saved, copies=copies, out=tmp_path / "grading"))
    assert result.warnings == []
    assert rows_of(result.out_dir / "grades.csv")[1:] == [[r, g] for r, g in zip(REGISTRATIONS, ["1.3", "1.0", "1.3"])]
    assert [row[:3] for row in rows_of(result.out_dir / "results.csv")[1:]] == [
        [code("E1", n), registration, f"Müller {n}"] for n, registration in enumerate(REGISTRATIONS, 1)]

    plain = tmp_path / "plain.csv"  # as examgen wrote it before: 1.10 becomes 1.1, 03712345 becomes 3712345
    write_csv(plain, [[cell_value(cell) for cell in row] for row in list(csv.reader(filled.open(encoding="utf-8")))])
    unzeroed = _spreadsheet_saved(plain, tmp_path / "plain")
    assert rows_of(unzeroed)[0][-1] == "1.1" and rows_of(unzeroed)[2][1] == "3712345"
    with pytest.raises(ExamgenError, match=r"column '1.1' is given twice: a spreadsheet saved column 1.10 as the "
                                           r"number 1.1 \(export the sheet again"):
        grade(target, GradeRequest(unzeroed, copies=copies, out=tmp_path / "again"))
    sheet = rows_of(unzeroed)
    sheet[0][-1] = "1.10"
    write_csv(unzeroed, sheet)
    result = grade(target, GradeRequest(unzeroed, copies=copies, out=tmp_path / "again"))
    assert result.warnings == [f"{unzeroed}: marks sheet: warning: 2 registration numbers lost their leading zeros (a "
                               "spreadsheet saved them as numbers; the first on line 3): results.csv and grades.csv "
                               "have them as the copies' manifest gives them"]
    assert [row[0] for row in rows_of(result.out_dir / "grades.csv")[1:]] == REGISTRATIONS


def test_a_registration_number_that_is_not_the_copys_is_refused(tmp_path):
    """The copy code says whose copy a row is; a registration number the manifest does not give that
    copy is an error at its line (an empty one is the manifest's)."""
    target, copies, text = _ten_parts(tmp_path)
    header, maxima, *rows = list(csv.reader(io.StringIO(text)))
    rows[0][1], rows[1][1] = "03712399", ""
    write_csv(tmp_path / "marks.csv", [header, maxima, *(row[:3] + ["1"] * 10 for row in rows)])
    with pytest.raises(ExamgenError) as raised:
        grade(target, GradeRequest(tmp_path / "marks.csv", copies=copies, out=tmp_path / "grading"))
    assert [str(problem).split("marks.csv:", 1)[1] for problem in getattr(raised.value, "problems", [raised.value])] \
        == [f"3: marks sheet: registration number '03712399' is not that of copy {code('E1', 1)}, '03712345' in "
            f"{copies / 'manifest.json'}: the grade goes to the copy's student; enter the manifest's number, or check "
            "the copy code"]
    assert not (tmp_path / "grading").exists()


def test_option_counts_mark_each_variants_own_key_where_variants_compute_it(tmp_path):
    """Part 1.1 of tests/roots/variants is correct as shown in some variants and "none of the above" in
    others, its shown value computed. Every copy crosses its own variant's key: each row of the option counts
    has ✓ exactly on the options every copy of it crossed, a row per variant (the options say different things
    in each), named."""
    from examgen.writers.marks import marks_csv

    shutil.copytree(REPO / "tests" / "roots" / "variants", tmp_path / "exams" / "variants")
    shutil.copytree(REPO / "exams" / "lib", tmp_path / "exams" / "lib")
    target = Project(tmp_path).resolve("variants")
    theme, out = target.project.theme(), Collector()
    variants = render_all(read_exam(target, theme, out), theme, out)
    part = {label: next(p for _, p in rendered.exam.parts() if p.number == "1.1")
            for label, rendered in variants.items()}
    in_source = {label: {p.answer.order[o - 1] for o in p.answer.crossed()} for label, p in part.items()}
    assert len({frozenset(key) for key in in_source.values()}) > 1  # the key differs between variants
    entries = [{"copy": n, "code": code("V0001", n), "variant": "ABCD"[(n - 1) % 4]} for n in range(1, 9)]
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "manifest.json").write_text(json.dumps({"exam": "variants", "entries": entries}), encoding="utf-8")
    header, maxima, *rows = list(csv.reader(io.StringIO(marks_csv(variants["A"].exam, entries))))
    write_csv(tmp_path / "marks.csv", [header, maxima, *(row[:3] + ["0"] * (len(header) - 3) for row in rows)])
    write_csv(tmp_path / "crosses.csv", [["code", "part", "crossed"], *(
        [entry["code"], "1.1", " ".join(map(str, sorted(part[entry["variant"]].answer.crossed())))]
        for entry in entries)])
    grade(target, GradeRequest(tmp_path / "marks.csv", tmp_path / "crosses.csv", copies=copies, out=tmp_path / "out"))
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    options = report.split("how often each option was crossed</h2>")[1]
    counted = [row for row in options.split("<tr>")[2:] if row.startswith("<td class=\"l\">1.1</td>")]
    assert len(counted) == 4
    for row in counted:
        cells = re.findall(r"<td>((?:<span class=ok>✓</span> )?[\d.]+%)", row)[1:]  # the options, "all right" aside
        assert cells and all(("✓" in cell) == cell.endswith("100%") for cell in cells if cell), row
    labels = [re.search(r'<td class="l">([A-D, ]+)</td>', row)[1] for row in counted]
    assert labels == ["A", "B", "C", "D"]


def _generated_graded(tmp_path) -> tuple[dict, str]:
    """tests/roots/generated graded from 9 copies (3 per variant), each crossing its own key of part 1.1 (the
    t statistic, whose five numbers differ per variant) and option 1 of part 1.2; the parts and the report."""
    from examgen.writers.marks import marks_csv

    shutil.copytree(REPO / "tests" / "roots" / "generated", tmp_path / "exams" / "generated")
    target = Project(tmp_path).resolve("generated")
    theme, collected = target.project.theme(), Collector()
    variants = render_all(read_exam(target, theme, collected), theme, collected)
    part = {label: {p.number: p for _, p in rendered.exam.parts()} for label, rendered in variants.items()}
    entries = [{"copy": n, "code": code("G1", n), "variant": "ABC"[(n - 1) % 3]} for n in range(1, 10)]
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "manifest.json").write_text(json.dumps({"exam": "generated", "entries": entries}), encoding="utf-8")
    header, maxima, *rows = list(csv.reader(io.StringIO(marks_csv(variants["A"].exam, entries))))
    write_csv(tmp_path / "marks.csv", [header, maxima, *(row[:3] + ["0"] * (len(header) - 3) for row in rows)])
    write_csv(tmp_path / "crosses.csv", [["code", "part", "crossed"], *(
        row for entry in entries for row in (
            [entry["code"], "1.1", " ".join(map(str, sorted(part[entry["variant"]]["1.1"].answer.crossed())))],
            [entry["code"], "1.2", "1"]))])
    grade(target, GradeRequest(tmp_path / "marks.csv", tmp_path / "crosses.csv", copies=copies, out=tmp_path / "out"))
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    return part, report.split("how often each option was crossed</h2>")[1]


def test_generated_options_are_counted_per_variant_with_what_they_say(tmp_path):
    """Option 2 of a generated part is a different number in each variant: the counts are a row per variant,
    each cell with what the option says there, ✓ on that variant's key (crossed by all its copies)."""
    part, options = _generated_graded(tmp_path)
    rows = [row for row in options.split("<tr>")[2:] if row.startswith('<td class="l">1.1</td>')]
    assert [re.search(r'<td class="l">([A-C])</td>', row)[1] for row in rows] == ["A", "B", "C"]
    for label, row in zip("ABC", rows):
        answer = part[label]["1.1"].answer
        cells = re.findall(r"<td>((?:<span class=ok>✓</span> )?[\d.]+%) <span class=said>([^<]*)</span></td>", row)
        assert [said for _, said in cells] == [str(text).replace("$", "") for text in answer.boxes()]
        assert [cell for cell, _ in cells] == [
            "<span class=ok>✓</span> 100%" if number in answer.crossed() else "0%"
            for number in range(1, len(answer.boxes()) + 1)]


def test_a_per_copy_exam_is_graded_against_every_copys_own_key(tmp_path):
    """``per-copy``: each of 12 copies is its own variant, whose computed key grade computes again from the
    manifest's labels. Every copy crossed its own key but copy 1, which crossed the other option: it alone
    scores 0. The options say different things in each (the number), in more variants than a table's rows:
    the report counts them by role."""
    from examgen.writers.marks import marks_csv

    write_exam(tmp_path / "exams" / "pc", HEADER + """variants: per-copy
problems:
  - title: P
    id: parity
    compute: k = draw(100, 999)
    parts:
      - points: 2
        prompt: Is << k >> even or odd?
        single: true
        options:
          - text: << k >> is even
            correct: << k % 2 == 0 >>
          - text: << k >> is odd
            correct: << k % 2 == 1 >>
""")
    target = Project(tmp_path).resolve("pc")
    theme, collected = target.project.theme(), Collector()
    labels = tuple(str(n) for n in range(1, 13))
    variants = render_all(read_exam(target, theme, collected), theme, collected, labels)
    key = {label: next(p for _, p in variants[label].exam.parts()).answer.crossed() for label in labels}
    assert len(set(key.values())) == 2  # both parities were drawn
    entries = [{"copy": n, "code": code("E1", n), "variant": str(n)} for n in range(1, 13)]
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "manifest.json").write_text(json.dumps({"exam": "pc", "entries": entries}), encoding="utf-8")
    header, maxima, *rows = list(csv.reader(io.StringIO(marks_csv(variants["1"].exam, entries))))
    write_csv(tmp_path / "marks.csv", [header, maxima, *(row[:3] + [""] * (len(header) - 3) for row in rows)])
    crossed = {entry["code"]: set(key[entry["variant"]]) ^ ({1, 2} if entry["copy"] == 1 else set())
               for entry in entries}
    write_csv(tmp_path / "crosses.csv", [["code", "part", "crossed"], *(
        [copy, "1.1", " ".join(map(str, sorted(options)))] for copy, options in crossed.items())])
    grade(target, GradeRequest(tmp_path / "marks.csv", tmp_path / "crosses.csv", copies=copies, out=tmp_path / "out"))
    results = rows_of(tmp_path / "out" / "results.csv")
    points = results[0].index("1.1")
    assert [row[points] for row in results[1:]] == ["0", *["2"] * 11]
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert ('<td class="l">1.1</td><td class="l">12 variants</td><td>12</td><td>91.7%</td><td>91.7%</td>'
            "<td>8.3%</td></tr>") in report
