"""Stage 1: YAML with lines, includes, cycles."""

from __future__ import annotations

import pytest
from support import write_exam

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
