"""Stage 1: YAML with lines, includes, cycles."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from support import REPO, write_exam

from examgen.errors import ExamgenError, SourceError
from examgen.stages.load import load, read_yaml


def test_values_remember_their_lines(tmp_path):
    path = write_exam(tmp_path, """
        a: 1
        text: |
          first line
        times: ["08:15", 17:30]
    """)
    data = read_yaml(path)
    assert data.loc_of("a").line == 1
    assert data.loc_of("text").line == 3  # a block scalar's text starts below '|'
    assert data["times"] == ["08:15", "17:30"]  # no YAML 1.1 sexagesimal numbers


def test_duplicate_key_is_an_error(tmp_path):
    path = write_exam(tmp_path, "a: 1\nb: 2\na: 3\n")
    with pytest.raises(SourceError, match="key 'a' is given twice") as info:
        read_yaml(path)
    assert info.value.loc.line == 3


def test_syntax_error_names_the_line(tmp_path):
    path = write_exam(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(SourceError, match="YAML syntax") as info:
        read_yaml(path)
    assert info.value.loc.line in (2, 3)


def test_includes_splice_lists_and_keep_their_own_lines(tmp_path):
    write_exam(tmp_path, "- title: two\n- title: three\n", "more.yaml")
    write_exam(tmp_path, "title: one\n", "one.yaml")
    exam = write_exam(tmp_path, "problems:\n  - include: one.yaml\n  - include: more.yaml\n")
    source = load(exam)
    problems = source.root["problems"]
    assert [p["title"] for p in problems] == ["one", "two", "three"]
    assert problems[2].loc.file.name == "more.yaml" and problems[2].loc.line == 2
    assert {f.name for f in source.files} == {"exam.yaml", "one.yaml", "more.yaml"}


def test_include_cycle_and_missing_file_reported_together(tmp_path):
    write_exam(tmp_path, "- include: b.yaml\n", "a.yaml")
    write_exam(tmp_path, "- include: a.yaml\n", "b.yaml")
    exam = write_exam(tmp_path, "problems:\n  - include: a.yaml\n  - include: nowhere.yaml\n")
    with pytest.raises(ExamgenError) as info:
        load(exam)
    messages = [str(p) for p in info.value.problems]
    assert any("include cycle: exam.yaml -> a.yaml -> b.yaml -> a.yaml" in m for m in messages)
    assert any("exam.yaml:3" in m and "'nowhere.yaml' not found" in m for m in messages)


def test_files_in_exams_lib_may_be_included_also_through_a_symlink_in_the_exam_folder(tmp_path):
    lib = tmp_path / "exams" / "lib"
    write_exam(lib, "title: shared\n", "shared.yaml")
    write_exam(lib, "- title: linked\n", "linked.yaml")
    exam_folder = tmp_path / "exams" / "e"
    (exam_folder / "problems").mkdir(parents=True)
    (exam_folder / "problems" / "link.yaml").symlink_to(lib / "linked.yaml")
    exam = write_exam(exam_folder, "problems:\n  - include: ../lib/shared.yaml\n  - include: problems/link.yaml\n")
    source = load(exam)
    assert [p["title"] for p in source.root["problems"]] == ["shared", "linked"]
    assert source.folders == (exam_folder.resolve(), lib.resolve())
    assert source.files[1:] == ((lib / "shared.yaml").resolve(), (lib / "linked.yaml").resolve())


def test_anchors_are_fine_and_an_alias_is_refused_at_its_line(tmp_path):
    assert read_yaml(write_exam(tmp_path, "a: &first 1\nb: 2\n")) == {"a": 1, "b": 2}
    with pytest.raises(SourceError, match=r"the YAML alias '\*first' repeats a value") as info:
        read_yaml(write_exam(tmp_path, "a: &first 1\nb: 2\nc: *first\n"))
    assert info.value.loc.line == 3


def test_list_reports_the_good_exams_beside_invalid_ones(tmp_path):
    """An exam with points .nan and one with the billion laughs are listed as invalid, quickly,
    and the good exam is listed in full."""
    exams = tmp_path / "exams"
    shutil.copytree(REPO / "tests" / "roots" / "minimal", exams / "good")
    for bad in ("points-not-finite", "yaml-billion-laughs"):
        shutil.copytree(REPO / "tests" / "broken" / bad, exams / bad)
    done = subprocess.run([sys.executable, "-m", "examgen.cli", "list"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["good: Test Course (T100 quiz, Q0001, 2024-05-06) - 1 problem, 4 credits",
                         "  1. Arithmetic (4 credits, 3 parts)"]
    assert [line.split(" (")[0] for line in lines[2:]] == ["points-not-finite: invalid", "yaml-billion-laughs: invalid"]


@pytest.mark.parametrize("text, line, said", [
    ("a:\n  b: 1\n   c: 2\n", 3, "this line is indented more than its neighbours"),
    ("problems:\n  - title: x\n    parts:\n    - points: 1\n      prompt: a\n     solution: b\n", 6,
     "this line is indented differently from the keys of its mapping"),
    ("prompt: What is x: y?\n", 1, "the value of 'prompt' holds ': '"),
    ("a:\n\t- b\n", 2, "a tab: YAML indents with spaces only"),
    ("a: 1\nb\nc: 2\n", 2, "has no ': ': add the colon"),
    ("a: [1, 2\n", 1, "a quote or bracket opened here is never closed"),
    ('a: "x\n', 1, "a quote or bracket opened here is never closed"),
])
def test_yaml_mistakes_are_told_in_plain_words_at_their_line(tmp_path, text, line, said):
    path = tmp_path / "exam.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        read_yaml(path)
    assert info.value.loc.line == line and said in info.value.message, str(info.value)
