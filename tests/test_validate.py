"""Stage 2: typed records, every problem of a source in one run."""

from __future__ import annotations

import pytest
from support import HEADER, write_exam

from examgen.errors import Collector, ExamgenError, SourceError
from examgen.stages.load import load
from examgen.stages.validate import validate


def check(tmp_path, body: str):
    out = Collector()
    exam = validate(load(write_exam(tmp_path, HEADER + body)), "t", out)
    return exam, out


def test_records_numbering_and_points(tmp_path):
    exam, out = check(tmp_path, """
problems:
  - title: P
    credits: 3.5
    parts:
      - points: 1.5
        prompt: a
        solution: s
      - points: 2
        prompt: b
        options: [x, y, z]
        correct: [1, 3]
""")
    problem = exam.problems[0]
    assert [p.number for p in problem.parts] == ["1.1", "1.2"]
    assert problem.credits == 3.5
    assert problem.parts[0].grades == [0, 0.5, 1, 1.5]
    assert problem.parts[1].answer.correct == [1, 3] and problem.parts[1].kind == "choice"
    assert problem.parts[0].answer.space == 4.0 and not out.warnings


def test_all_problems_reported_in_one_run(tmp_path):
    with pytest.raises(ExamgenError) as info:
        check(tmp_path, """
problems:
  - title: P
    credits: 5
    parts:
      - pionts: 1
        prompt: a
      - points: 0.3
        prompt: b
        options: [x]
        correct: [2]
""")
    messages = [str(p) for p in info.value.problems]
    assert any("exam.yaml:14: part 1.1: unknown key 'pionts'; did you mean 'points'?" in m for m in messages)
    assert any("part 1.1: missing required key 'points'" in m for m in messages)
    assert any("exam.yaml:16: part 1.2: 'points' must be a positive multiple of 0.5" in m for m in messages)
    assert any("exam.yaml:19: part 1.2: 'correct' marks option 2, but the part has 1 options" in m for m in messages)
    assert not any("credits" in m for m in messages)  # no follow-up error from the invalid points
    assert len(messages) == 4


def test_stated_credits_must_match(tmp_path):
    with pytest.raises(SourceError, match=r"'credits' says 5 but the parts' points add up to 2") as info:
        check(tmp_path, """
problems:
  - title: P
    credits: 5
    parts:
      - points: 2
        prompt: a
        solution: s
""")
    assert info.value.loc.line == 12


def test_choice_part_takes_no_correction_notes(tmp_path):
    with pytest.raises(SourceError, match="multiple-choice part takes no 'notes'"):
        check(tmp_path, """
problems:
  - title: P
    parts:
      - points: 2
        prompt: a
        options: [x, y]
        notes: [n]
""")


def test_spaces_a_hand_cannot_write_in_are_refused_at_their_lines(tmp_path):
    with pytest.raises(ExamgenError) as info:
        check(tmp_path, """
problems:
  - title: P
    parts:
      - points: 2
        prompt: a
        space: 0.8cm
      - points: 1
        prompt: b
        answer: 2
        box: 2cm
      - points: 1
        prompt: c
        answer: 2
        space: 5mm
""")
    assert [str(problem).split("exam.yaml:")[1] for problem in info.value.problems] == [
        "15: part 1.1: 'space' must be at least 1cm: a hand writes two lines of the grid in it",
        "19: part 1.2: 'box' must be at least 3cm wide: a hand writes a number in it",
        "23: part 1.3: 'space' must be at least 1cm: a hand writes two lines of the grid in it",
    ]


def test_missing_solution_is_a_warning(tmp_path):
    _, out = check(tmp_path, """
problems:
  - title: P
    parts:
      - points: 2
        prompt: a
""")
    assert len(out.warnings) == 1
    assert out.warnings[0].endswith("exam.yaml:13: part 1.1: warning: no sample solution")


def test_duplicate_figure_ids_name_the_first(tmp_path):
    with pytest.raises(SourceError, match=r"problem 1: figure id 'net' is already used by the figure at line 13"):
        check(tmp_path, """
problems:
  - title: P
    figures:
      - id: net
        tikz: a
      - id: net
        tikz: b
    parts:
      - points: 1
        prompt: a
        solution: s
""")


def test_an_image_over_the_size_limit_is_refused_without_reading_it(tmp_path):
    with open(tmp_path / "huge.png", "wb") as image:  # a sparse file: 3 GB that take no disk space
        image.truncate(3 * 2**30)
    with pytest.raises(SourceError, match=r"image file 'huge.png' has 3072 MB, more than the 50 MB an image may have"):
        check(tmp_path, """
problems:
  - title: P
    figures:
      - id: photo
        image: huge.png
    parts:
      - points: 1
        prompt: a
        solution: s
""")


def test_plain_text_holds_only_what_pdflatex_prints(tmp_path):
    """The cover's and the numeric unit's plain text: accents and German letters print, Cyrillic does not."""
    def with_unit(unit: str) -> str:
        return f"""
problems:
  - title: P
    parts:
      - points: 1
        prompt: a
        answer: 2
        unit: {unit}
"""

    exam, _ = check(tmp_path, with_unit("Grüße – ½ µm"))
    assert exam.problems[0].parts[0].answer.unit == "Grüße – ½ µm"
    cyrillic = r"exam.yaml:16: part 1.1: 'unit' holds 'м' \(U\+043C CYRILLIC SMALL LETTER EM\), which pdflatex"
    with pytest.raises(SourceError, match=cyrillic):
        check(tmp_path, with_unit("м"))


def test_numbers_that_are_not_finite_are_source_errors(tmp_path):
    with pytest.raises(ExamgenError) as info:
        check(tmp_path, """
problems:
  - title: P
    credits: .inf
    parts:
      - points: 1
        prompt: a
        answer: .nan
      - points: 1
        prompt: b
        answer: 2
        tolerance: .inf
""")
    assert [str(p).split(": ", 1)[1] for p in info.value.problems] == [
        "problem 1: 'credits' must be a finite number, not inf",
        "part 1.1: 'answer' must be a number or an expression over computed values, such as 'a * b'",
        "part 1.2: 'tolerance' must be a number >= 0 or a percentage such as '1%', not inf",
    ]
