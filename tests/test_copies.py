"""Per-student copies (`examgen copies`): codes, rosters, and the real thing read back: every page's
QR code decoded by zbar from a rendered page, positions in layout.json found in the pixels,
reproducible bytes, and --only against --split."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import string
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import REPO

from examgen.codes import check_character, copy_code, qr_payload
from examgen.commands.copies import CopiesRequest, make_copies
from examgen.errors import Collector, ExamgenError, Loc, OutputProblem, SourceError
from examgen.orchestrate import read_exam
from examgen.project import Project
from examgen.roster import MAX_FIELD, MAX_STUDENTS, read_roster
from examgen.writers.copies import find, plan

DATA = Path(__file__).parent / "data"
HOSTILE = ["O'Brien", "Müller & Söhne", "Dž", "#1 Student", "王小明", "山田 さくら", "김민준",
           r"100% $x_1$ {~\^} \textbf{not bold}"]
DPI = 150


# --- codes and rosters, no LaTeX ------------------------------------------------------------------


def test_a_check_character_catches_every_single_typo_and_neighbour_swap_but_zero_and_z():
    body = "E1119-0423"
    code = f"{body}-{check_character(body)}"
    alphabet = string.digits + string.ascii_uppercase
    positions = [i for i, c in enumerate(body) if c != "-"]
    for i in positions:
        for other in alphabet.replace(body[i], ""):
            typo = body[:i] + other + body[i + 1:]
            assert check_character(typo) != code[-1], typo
    for i, j in zip(positions, positions[1:]):
        swapped = list(body)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        if swapped != list(body) and {body[i], body[j]} != {"0", "Z"}:
            assert check_character("".join(swapped)) != code[-1], "".join(swapped)


def luhn_mod_36_valid(text: str) -> bool:
    """Luhn mod N's validation as published (Wikipedia, "Luhn mod N algorithm"), written apart from
    codes.py: from the right, every second value (the check character's neighbour first) doubled and
    its base-36 digits added; valid when the sum is a multiple of 36."""
    values = [int(char, 36) for char in text if char.isalnum()]
    total = 0
    for position, value in enumerate(reversed(values)):
        total += sum(divmod(value * (2 if position % 2 else 1), 36))
    return total % 36 == 0


@pytest.mark.parametrize("body, check", [
    ("E1119-0423", "6"),  # from the right 3,2,4,0,9,1,1,1,E: 6+2+8+0+18+1+2+1+28 = 66; 36 - 66 % 36 = 6
    ("E1119-0001", "K"),  # 2+0+0+0+18+1+2+1+28 = 52; 36 - 16 = 20, K
    ("Z-0001", "Z"),  # 2+0+0+0+(70: 1+34) = 37; 36 - 1 = 35, Z
    ("E1119-0423-67", "M"),  # docs/copies.md's QR example: copy E1119-0423-6, page 7; 86, 36 - 14 = 22, M
])
def test_check_characters_are_the_published_luhn_mod_36(body, check):
    assert check_character(body) == check
    assert luhn_mod_36_valid(f"{body}{check}")


def test_every_copy_code_and_qr_payload_passes_luhn_mod_36_validation():
    for number in (1, 2, 35, 423, 9999, 10000):
        code = copy_code("E1119", number)
        assert luhn_mod_36_valid(code), code
        for page in (1, 7, 24):
            check = qr_payload(code, page)[-1]
            assert qr_payload(code, page) == f"{code}/{page:02d}/{check}"
            assert luhn_mod_36_valid(f"{code}{page}{check}"), (code, page)  # over the code and the page's digits


def test_codes_are_numbered_checked_and_found_again(project):
    exam = Project(project).resolve("minimal")
    copies = plan(read_exam(exam, exam.project.theme(), Collector()), 12, None)
    assert [c.code[:10] for c in copies[:2]] == ["Q0001-0001", "Q0001-0002"]
    assert len({c.code for c in copies}) == 12
    assert find(copies, copies[4].code.lower()) == copies[4]
    typo = copies[4].code[:-1] + ("A" if copies[4].code[-1] != "A" else "B")
    with pytest.raises(SourceError, match="check character is wrong"):
        find(copies, typo)
    with pytest.raises(SourceError, match="no copy"):
        find(copies, "Q0001-0099-" + check_character("Q00010099"))
    assert qr_payload(copies[0].code, 7) == f"{copies[0].code}/07/{check_character(copies[0].code + '7')}"


def test_a_roster_keeps_hostile_names_as_plain_text():
    students = read_roster(DATA / "hostile-roster.csv")
    assert [s.name for s in students] == HOSTILE
    assert (students[0].registration, students[0].seat, students[0].room) == ("03712345", "A12", "MW 0001")
    assert (students[6].registration, students[6].seat, students[6].room) == ("03712351", r"A18\relax", "{}}")


def test_variants_by_seat_follow_the_seats_in_hall_order_not_the_rows(tmp_path):
    """Rows out of seat order: --variant-by seat hands variants A-D out along A1, A2, A3, A10, B1
    (numbers as numbers), --variant-by copy along the rows."""
    shutil.copytree(REPO / "tests" / "roots" / "variants", tmp_path / "exams" / "variants")
    target = Project(tmp_path).resolve("variants")
    exam = read_exam(target, target.project.theme(), Collector())
    roster = tmp_path / "roster.csv"
    roster.write_text("registration,name,seat\n1,Ada,A10\n2,Bo,A2\n3,Cy,A1\n4,Di,B1\n5,Ed,A3\n", encoding="utf-8")
    students = read_roster(roster)
    assert [copy.variant for copy in plan(exam, None, students, by_seat=True)] == ["D", "B", "A", "A", "C"]
    assert [copy.variant for copy in plan(exam, None, students)] == ["A", "B", "C", "D", "A"]
    in_hall = plan(exam, None, students, by_seat=True, in_seat_order=True)  # --order seat: numbered as handed out
    assert [(copy.number, copy.student.seat, copy.variant) for copy in in_hall] == [  # type: ignore[union-attr]
        (1, "A1", "A"), (2, "A2", "B"), (3, "A3", "C"), (4, "A10", "D"), (5, "B1", "A")]
    with pytest.raises(SourceError, match="--order seat needs a roster with a seat for every student"):
        plan(exam, 3, None, in_seat_order=True)


@pytest.mark.parametrize("roster, expected", [
    ("broken-roster.csv", ["broken-roster.csv:3: roster: empty name",
                           "broken-roster.csv:4: roster: registration number 03711111 is also on line 2",
                           "broken-roster.csv:5: roster: empty registration"]),
    ("latin1-roster.csv", ["latin1-roster.csv:2: roster: not UTF-8 (byte 0xfc)"]),
])
def test_every_bad_row_is_reported_with_its_line(roster, expected):
    with pytest.raises(ExamgenError) as caught:
        read_roster(DATA / roster)
    messages = [str(problem) for problem in caught.value.problems]
    assert len(messages) == len(expected)
    for message, start in zip(messages, expected):
        assert start in message


@pytest.mark.parametrize("args", [["--count", "2", "--roster", "r.csv"], []])
def test_the_command_wants_a_count_or_a_roster(project, args):
    run = subprocess.run([sys.executable, "-m", "examgen.cli", "copies", "minimal", *args], cwd=project,
                         capture_output=True, text=True)
    assert run.returncode == 2 and "give either --count N or --roster FILE" in run.stderr
    assert not (project / "build").exists()


def test_a_bad_roster_on_the_command_line_is_exit_2_with_every_row(project):
    run = subprocess.run([sys.executable, "-m", "examgen.cli", "copies", "minimal", "--roster",
                          str(DATA / "broken-roster.csv")], cwd=project, capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.count("broken-roster.csv:") == 3 and "Traceback" not in run.stderr
    assert not (project / "build").exists()


def test_a_roster_past_its_bounds_is_an_error_at_its_line(tmp_path):
    roster = tmp_path / "roster.csv"
    at = Loc(roster)  # as messages name it, wherever the clone lives
    roster.write_text("registration,name,notes\n" + "1,Ada,\n" + f"{'2' * 121},Bea,\n" + f"3,Cy,{'x' * 140_000}\n"
                      + "4,Di,\n", encoding="utf-8")
    with pytest.raises(ExamgenError) as caught:
        read_roster(roster)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{at}:3: roster: the registration is longer than {MAX_FIELD} characters",
        f"{at}:4: roster: cannot be read as CSV (field larger than field limit (131072); a field holds at most "
        "131,072 characters): a quote left open? The rows after it were not read"]
    roster.write_text("registration,name\n" + "".join(f"{n},Student {n}\n" for n in range(1, 100_001)),
                      encoding="utf-8")
    with pytest.raises(SourceError, match=f"{at}:{MAX_STUDENTS + 2}: roster: more than 9,999 students, the most "
                                          "one run makes copies for: split the roster"):
        read_roster(roster)


def copies_of(project: Path, roster: str) -> subprocess.Popen:
    """`examgen copies minimal --roster ROSTER`, its memory bounded: an unbounded read fails here
    rather than take the machine's memory."""
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30)); "
    return subprocess.Popen([sys.executable, "-c", limit + "from examgen.cli import main; main()", "copies",
                             "minimal", "--roster", roster], cwd=project, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_an_endless_roster_is_an_error_and_a_stop_ends_its_reading(project, tmp_path):
    with copies_of(project, "/dev/zero") as run:
        _, stderr = run.communicate(timeout=60)
    assert run.returncode == 2 and "/dev/zero: roster: longer than 64 MB, which no roster is" in stderr, stderr
    fifo = tmp_path / "roster.csv"
    os.mkfifo(fifo)
    with copies_of(project, str(fifo)) as run, open(fifo, "w") as writer:
        writer.write("registration,name\n")
        for n in range(20):  # a pipe that keeps coming, slowly (a stuck program's output)
            writer.write(f"{n},Student {n}\n")
            writer.flush()
            time.sleep(0.1)
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=30)
    assert run.returncode == 143 and "interrupted by SIGTERM" in stderr, stderr
    assert not (project / "build").exists()


# --- real copies ---------------------------------------------------------------------------------


def decode(pdf: Path, page: int, folder: Path, crop_bottom: float | None = None) -> list[str]:
    """The QR codes zbar finds on a page rendered at 150 dpi (or in its bottom strip, a fraction of it)."""
    image = folder / f"page-{page}"
    command = ["pdftoppm", "-r", str(DPI), "-gray", "-singlefile", "-f", str(page), "-l", str(page)]
    if crop_bottom:
        height = round(297 / 25.4 * DPI)
        command += ["-y", str(round(height * (1 - crop_bottom))), "-H", str(round(height * crop_bottom)),
                    "-W", str(round(210 / 25.4 * DPI))]
    subprocess.run([*command, str(pdf), str(image)], check=True)
    found = subprocess.run(["zbarimg", "-q", "--raw", f"{image}.pgm"], capture_output=True, text=True)
    return found.stdout.split()


def pixels(pdf: Path, page: int, folder: Path) -> tuple[int, int, bytes]:
    """A page rendered at 150 dpi in grey: width, height, one byte per pixel."""
    image = folder / f"pixels-{page}"
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-singlefile", "-f", str(page), "-l", str(page),
                    str(pdf), str(image)], check=True)
    data = (image.with_suffix(".pgm")).read_bytes()
    _, size, _, raster = data.split(b"\n", 3)
    width, height = map(int, size.split())
    return width, height, raster


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


@pytest.mark.latex
def test_every_page_carries_its_copy_and_page_and_runs_repeat_byte_for_byte(project, tmp_path):
    target = Project(project).resolve("minimal")
    out = tmp_path / "copies"
    result = make_copies(target, CopiesRequest(count=3, out=out, split=True))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    pages = result.pages
    assert pages % 2 == 0 and pdf_pages(out / "print.pdf") == 3 * pages
    for entry in manifest["entries"]:
        single = out / f"{entry['code']}.pdf"
        assert entry["last_page"] - entry["first_page"] + 1 == pages
        assert hashlib.sha256(single.read_bytes()).hexdigest() == entry["sha256"]
        for page in range(1, pages + 1):
            printed = entry["first_page"] + page - 1
            assert decode(out / "print.pdf", printed, tmp_path) == [qr_payload(entry["code"], page)], printed
    first = files(out)
    make_copies(target, CopiesRequest(count=3, out=out, split=True))
    assert files(out) == first
    code = manifest["entries"][1]["code"]
    alone = tmp_path / "alone"
    make_copies(target, CopiesRequest(count=3, out=alone, only=code))
    assert files(alone) == {f"{code}.pdf": first[f"{code}.pdf"]}


def dark(raster: bytes, width: int, x: float, y: float, page_height: float) -> bool:
    """Whether the pixel at (x, y) PDF points from the lower left corner, or one beside it, is dark."""
    column, row = round(x / 72 * DPI), round((page_height - y) / 72 * DPI)
    return any(raster[(row + dy) * width + column + dx] < 140 for dx in (-1, 0, 1) for dy in (-1, 0, 1))


@pytest.mark.latex
def test_layout_positions_are_where_the_boxes_are_drawn(project, tmp_path):
    target = Project(project).resolve("minimal")
    out = tmp_path / "copies"
    make_copies(target, CopiesRequest(count=1, out=out))
    layout = json.loads((out / "layout.json").read_text(encoding="utf-8"))
    height = layout["page_size"]["height"]
    seen = {"checkboxes": 0, "grading_boxes": 0, "answer_spaces": 0}
    for entry in layout["pages"]:
        width, _, raster = pixels(out / "print.pdf", entry["page"], tmp_path)
        boxes = [item["box"] for kind in seen for item in entry.get(kind, [])]
        for kind in seen:
            seen[kind] += len(entry.get(kind, []))
        for box in boxes:  # each edge drawn where the box says, its inside blank a little way in
            x0, y0, x1, y1 = box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]
            for x, y in ((x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2), ((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1)):
                assert dark(raster, width, x, y, height), (entry["page"], box, x, y)
            assert not dark(raster, width, x0 + 2.5, y0 + 2.5, height), (entry["page"], box)
        qr = entry["qr"]
        assert dark(raster, width, qr["x"] + 1, qr["y"] + qr["height"] - 1, height)  # a finder pattern's corner
        assert not dark(raster, width, qr["x"] - 4, qr["y"] + qr["height"] / 2, height)  # the quiet zone
    assert seen == {"checkboxes": 2, "grading_boxes": 3 + 2, "answer_spaces": 2}
    first = layout["pages"][1]
    assert {(c["problem"], c["part"], c["option"]) for c in first["checkboxes"]} == {(1, "1.1", 1), (1, "1.1", 2)}
    assert [g["value"] for g in first["grading_boxes"] if g["part"] == "1.2"] == [0, 1, 2]


@pytest.mark.latex
def test_a_roster_names_each_cover_and_hostile_names_print_as_written(project, tmp_path):
    target = Project(project).resolve("minimal")
    out = tmp_path / "copies"
    result = make_copies(target, CopiesRequest(roster=DATA / "hostile-roster.csv", out=out))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["student"]["name"] for entry in manifest["entries"]] == HOSTILE
    squashed = lambda text: "".join(text.replace("'", "’").split())  # noqa: E731  (pdftotext's quote, no spaces)
    for index, student in enumerate(read_roster(DATA / "hostile-roster.csv")):
        cover = subprocess.run(["pdftotext", "-f", str(index * result.pages + 1), "-l", str(index * result.pages + 1),
                                str(out / "print.pdf"), "-"], capture_output=True, text=True).stdout
        assert squashed(student.name) in squashed(cover), (student.name, cover)
        for label, value in [("Registration number:", student.registration), ("Seat:", student.seat),
                             ("Room:", student.room)]:
            assert squashed(f"{label} {value}") in squashed(cover), (value, cover)


@pytest.mark.latex
def test_a_bad_roster_writes_nothing(project, tmp_path):
    target = Project(project).resolve("minimal")
    with pytest.raises(ExamgenError) as caught:
        make_copies(target, CopiesRequest(roster=DATA / "broken-roster.csv", out=tmp_path / "copies"))
    assert len(caught.value.problems) == 3
    assert not (tmp_path / "copies").exists() and not (project / "build").exists()


def cover_text(pdf: Path, page: int) -> str:
    """A page's text as pdftotext reads it, without spaces and the marks it puts around right-to-left text."""
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                          text=True).stdout
    return "".join(char for char in text if not char.isspace() and char not in "\u202a\u202b\u202c\u202d\u202e")


@pytest.mark.latex
def test_names_of_every_script_print_and_read_back_and_named_covers_have_no_sticker_notes(project, tmp_path):
    """Vietnamese, Polish, Turkish, Icelandic, Greek, Cyrillic, Arabic and Hebrew (right to left),
    Devanagari, Thai, Han, kana and Hangul: each cover reads back its name; the sticker's notes are
    on a cover without a name only."""
    target = Project(project).resolve("minimal")
    roster = DATA / "scripts-roster.csv"
    result = make_copies(target, CopiesRequest(roster=roster, out=tmp_path / "copies"))
    for index, student in enumerate(read_roster(roster)):
        cover = cover_text(result.out_dir / "print.pdf", index * result.pages + 1)
        assert "".join(student.name.split()) in cover, (student.name, cover)
        assert "attendancecheck" not in cover and "Note:" not in cover
    counted = make_copies(target, CopiesRequest(count=1, out=tmp_path / "counted"))
    assert "Duringtheattendancecheckasticker" in cover_text(counted.out_dir / "print.pdf", 1)


@pytest.mark.latex
def test_a_character_no_font_has_is_one_error_at_its_row_and_print_name_prints_instead(project, tmp_path):
    """Linear B and Egyptian hieroglyphs: one error per row, naming the characters and print_name; a
    print_name is what the cover prints, the manifest keeps the name."""
    roster = tmp_path / "roster.csv"
    at = Loc(roster)  # as messages name it, wherever the clone lives
    roster.write_text("registration,name,print_name\n1,Ada\n2,Ra \U00013080 Lovelace\n3,\U00010000\U00010001 Knossos\n"
                      "4,Bo,\U00010002\n", encoding="utf-8")
    target = Project(project).resolve("minimal")
    with pytest.raises(ExamgenError) as caught:
        make_copies(target, CopiesRequest(roster=roster, out=tmp_path / "copies"))
    assert [str(problem) for problem in caught.value.problems] == [
        f"{at}:3: roster row: Ra \U00013080 Lovelace: the cover's fonts have no \U00013080 (U+13080) for the name: "
        "give the name as the cover should print it in a 'print_name' column (the manifest keeps the name)",
        f"{at}:4: roster row: \U00010000\U00010001 Knossos: the cover's fonts have no \U00010000 (U+10000), "
        "\U00010001 (U+10001) for the name: give the name as the cover should print it in a 'print_name' column (the "
        "manifest keeps the name)",
        f"{at}:5: roster row: \U00010002: the cover's fonts have no \U00010002 (U+10002) for the print_name: write "
        "the print_name in other characters"]
    assert not (tmp_path / "copies").exists()
    roster.write_text("registration,name,print_name\n1,\U00010000\U00010001 Knossos,Knossos\n", encoding="utf-8")
    result = make_copies(target, CopiesRequest(roster=roster, out=tmp_path / "copies"))
    assert "Knossos" in cover_text(result.out_dir / "print.pdf", 1)
    manifest = json.loads((result.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["entries"][0]["student"]["name"] == "\U00010000\U00010001 Knossos"


@pytest.mark.latex
def test_a_name_block_that_does_not_fit_the_cover_is_an_error_at_its_row_and_a_long_name_shrinks(project, tmp_path):
    """An unbroken name, registration number, seat or room wider than the sticker box would be clipped:
    an error at its row naming the student. A name of 120 characters with spaces (the roster's most)
    fits in a smaller size."""
    roster = tmp_path / "roster.csv"
    at = Loc(roster)  # as messages name it, wherever the clone lives
    spaced = " ".join(["Maximiliana"] * 11)[:120]
    roster.write_text("registration,name,seat,room\n"
                      f"1,{spaced},A1,R1\n"
                      "2,Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft,A2,R1\n"
                      f"{'3' * 60},Ada,A3,R1\n"
                      f"4,Bo,{'S' * 60},R1\n"
                      f"5,Cy,A5,{'Hörsaal' * 10}\n"
                      "6,Di,A6,R1\n", encoding="utf-8")
    with pytest.raises(ExamgenError) as caught:
        make_copies(Project(project).resolve("minimal"), CopiesRequest(roster=roster, out=tmp_path / "copies"))
    assert all(isinstance(problem, SourceError) for problem in caught.value.problems)
    messages = [str(problem) for problem in caught.value.problems]
    assert [message.split(" pt too ")[0].rsplit(" ", 1)[0] for message in messages] == [
        f"{at}:3: roster row: Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft: the name block is",
        f"{at}:4: roster row: Ada: the name block is", f"{at}:5: roster row: Bo: the name block is",
        f"{at}:6: roster row: Cy: the name block is"], messages
    assert all("too wide for the cover's sticker box" in message for message in messages)
    assert not (tmp_path / "copies").exists()
    long = "Karl-Theodor Maria Nikolaus Johann Jacob Philipp Franz Joseph Sylvester Freiherr von und zu Guttenberg"
    roster.write_text(f"registration,name\n1,{spaced}\n2,{long}\n3,Ada 王小明\n", encoding="utf-8")
    result = make_copies(Project(project).resolve("minimal"), CopiesRequest(roster=roster, out=tmp_path / "copies"))
    assert "".join(spaced.split()) in cover_text(result.out_dir / "print.pdf", 1)
    lines = name_lines(result.out_dir / "print.pdf", result.pages + 1, long)
    assert lines == ["Karl-Theodor Maria Nikolaus", "Johann Jacob Philipp Franz", "Joseph Sylvester Freiherr von",
                     "und zu Guttenberg"], lines  # every line holds all of the name that fits: no "von" alone
    fonts = subprocess.run(["pdffonts", "-f", str(2 * result.pages + 1), "-l", str(2 * result.pages + 1),
                            str(result.out_dir / "print.pdf")], capture_output=True, text=True).stdout
    assert "NotoSans-Bold" in fonts and "NotoSansCJKsc-Bold" in fonts, fonts  # one weight in every script


def name_lines(pdf: Path, page: int, name: str) -> list[str]:
    """The lines of a cover that hold the words of ``name``, as pdftotext lays them out."""
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                          text=True).stdout
    words = set(name.split())
    return [line.strip() for line in text.splitlines() if line.split() and set(line.split()) <= words]



@pytest.mark.latex
def test_endterm_copies_carry_qr_and_code_on_every_page(tmp_path):
    """The 2022 endterm in a project of its own: five copies, every page's QR code read back from
    its footer strip, and from the whole page for one of each kind (cover, multiple choice,
    free answers, additional page, the blank that pads the copy); a second run gives the same
    bytes, and --only the bytes --split wrote."""
    for folder in ("2022-endterm", "lib"):
        shutil.copytree(REPO / "exams" / folder, tmp_path / "exams" / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "test_*.py"))
    target = Project(tmp_path).resolve("2022-endterm")
    result = make_copies(target, CopiesRequest(count=5, split=True))
    out = result.out_dir
    assert out == tmp_path / "course" / "2022-endterm" / "copies"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert result.pages == 24 and pdf_pages(out / "print.pdf") == 5 * 24
    for entry in manifest["entries"]:
        for page in range(1, 25):
            printed = entry["first_page"] + page - 1
            whole = entry["copy"] == 5 and page in (1, 2, 12, 22, 24)
            assert decode(out / "print.pdf", printed, tmp_path, None if whole else 0.12) == \
                [qr_payload(entry["code"], page)], printed
    footer = subprocess.run(["pdftotext", "-f", "30", "-l", "30", str(out / "print.pdf"), "-"],
                            capture_output=True, text=True).stdout
    assert manifest["entries"][1]["code"] in footer
    first = files(out)
    make_copies(target, CopiesRequest(count=5, split=True))
    assert files(out) == first
    code = manifest["entries"][2]["code"]
    make_copies(target, CopiesRequest(count=5, only=code, out=tmp_path / "appeal"))
    assert files(tmp_path / "appeal") == {f"{code}.pdf": first[f"{code}.pdf"]}


@pytest.mark.latex
def test_copies_replace_only_a_folder_of_copies(project, tmp_path):
    target = Project(project).resolve("minimal")
    out = tmp_path / "copies"
    single = make_copies(target, CopiesRequest(count=2, out=out, only=plan_codes(target)[1])).files[0]
    assert sorted(files(out)) == [single]
    make_copies(target, CopiesRequest(count=2, out=out))  # a folder --only wrote is a folder of copies
    assert sorted(files(out)) == ["layout.json", "manifest.json", "print.pdf"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputProblem, match="files examgen copies did not write"):
        make_copies(target, CopiesRequest(count=2, out=foreign))
    assert files(foreign) == {"notes.txt": b"mine"}


def plan_codes(target) -> list[str]:
    return [copy.code for copy in plan(read_exam(target, target.project.theme(), Collector()), 2, None)]


def _rebuild_with(target, old: str, new: str) -> None:
    """An examiner's edit of the source, then a build."""
    from examgen.commands.build import build

    source = target.exam_file.read_text(encoding="utf-8")
    assert old in source
    target.exam_file.write_text(source.replace(old, new), encoding="utf-8")
    assert build(target).compiled


@pytest.mark.latex
def test_printed_copies_outlive_every_rebuild_and_their_marks_sheet_and_grades_find_them(project):
    """Copies live in the course's records, apart from the build: three rebuilds with edits later
    (the last one changes a part's points), the copies are as they were, the marks sheet and the
    grading find them, and both say that the exam changed since the copies were made."""
    from examgen.commands.export import ExportRequest, export
    from examgen.commands.grade import GradeRequest, grade

    target = Project(project).resolve("minimal")
    made = make_copies(target, CopiesRequest(count=3, split=True))
    assert made.out_dir == project / "course" / "minimal" / "copies"
    printed = files(made.out_dir)
    _rebuild_with(target, "Which numbers are prime?", "Which of these numbers are prime?")
    _rebuild_with(target, "Name a square number.", "Name a square number above one.")
    _rebuild_with(target, "      - points: 1\n        prompt: Name", "      - points: 2\n        prompt: Name")
    assert files(made.out_dir) == printed
    sheet = export(target, ExportRequest("marks"))
    assert sheet.path == project / "course" / "minimal" / "marks.csv" and sheet.items == 3
    assert any("the exam changed since its copies were made" in warning for warning in sheet.warnings)
    rows = sheet.path.read_text(encoding="utf-8").splitlines()
    marks = project / "marks.csv"
    marks.write_text("\n".join(rows[:2] + [f"{row.split(',')[0]},,,1,2,2" for row in rows[2:]]) + "\n",
                     encoding="utf-8")
    graded = grade(target, GradeRequest(marks))
    assert graded.out_dir == project / "course" / "minimal" / "grading" and graded.graded == 3
    assert not any("no manifest of copies" in warning for warning in graded.warnings)
    assert any("the exam changed since its copies were made" in warning for warning in graded.warnings)


@pytest.mark.latex
def test_copies_of_another_run_are_kept_and_those_an_older_examgen_left_in_the_build_are_moved_out(project):
    target = Project(project).resolve("minimal")
    first = make_copies(target, CopiesRequest(count=2))
    kept = files(first.out_dir)
    make_copies(target, CopiesRequest(count=2))  # the same copies again: nothing to keep
    assert not (first.out_dir.parent / "copies.replaced-1").exists()
    make_copies(target, CopiesRequest(count=3))
    assert files(first.out_dir.parent / "copies.replaced-1") == kept
    shutil.rmtree(project / "course")
    older = project / "build" / "minimal" / "copies"  # where an older examgen wrote them: in the set
    older.mkdir()
    for name, data in kept.items():
        (older / name).write_bytes(data)
    _rebuild_with(target, "Which numbers are prime?", "Which of these numbers are prime?")
    _rebuild_with(target, "Name a square number.", "Name a square number above one.")
    assert files(project / "course" / "minimal" / "copies") == kept
