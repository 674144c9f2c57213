"""Stage 4: the number and escaping filters, and expression errors with locations."""

from __future__ import annotations

import datetime

import pytest
from support import HEADER, write_exam

from examgen.errors import Collector, ComputeError
from examgen.stages.compute import compute
from examgen.stages.load import load
from examgen.stages.render import escape_tex, format_number, grade_label, render_texts, strings
from examgen.stages.validate import validate
from examgen.theme import Theme

THEME = Theme.stack(None)


@pytest.mark.parametrize("value, args, shown", [
    (0.1 * 6.5, (), "0.65"), (2.0, (), "2"), (-0.65, (), "-0.65"), (1 / 3, (3,), "0.333"),
    (2097153, (), "2097153"), (2097153, (None, "{,}"), "2{,}097{,}153"), (1.5, (), "1.5"),
    (-0.5 - 0.1 * 1.5, (), "-0.65"), (1e-12, (), "0"), (12, (2,), "12"),
])
def test_format_number(value, args, shown):
    assert format_number(value, *args) == shown


def test_format_number_rejects_text():
    with pytest.raises(TypeError, match="num needs a number"):
        format_number("abc")


def test_escape_and_labels():
    assert escape_tex("50% #1 a&b x_y ~ ^ \\") == r"50\% \#1 a\&b x\_y \textasciitilde{} \textasciicircum{} \textbackslash{}"
    assert escape_tex("Nießner") == "Nießner"
    english, german = strings(THEME, "en"), strings(THEME, "de")
    assert english.date(datetime.date(2022, 8, 1)) == "Monday 1st August, 2022"
    assert english.date(datetime.date(2021, 7, 13)) == "Tuesday 13th July, 2021"
    assert german.date(datetime.date(2022, 8, 1)) == "Montag, 1. August 2022"
    assert [grade_label(g) for g in (0, 0.5, 1.5)] == ["{0}", r"{$\frac{1}{2}$}", r"{1$\frac{1}{2}$}"]


def render(tmp_path, body: str):
    out = Collector()
    exam = validate(load(write_exam(tmp_path, HEADER + body)), "t", out)
    return render_texts(compute(exam, out), THEME, out), out


def test_undefined_name_names_file_line_and_part(tmp_path):
    with pytest.raises(ComputeError) as info:
        render(tmp_path, """
problems:
  - title: P
    compute: |
      w12 = 1
    parts:
      - points: 1
        prompt: Update the weight.
        solution: |
          first line
          $w = << w11|num >>$
""")
    assert str(info.value).endswith("exam.yaml:19: part 1.1: name 'w11' is not defined")


def test_values_used_by_a_part_and_placed_figures(tmp_path):
    exam, out = render(tmp_path, """
problems:
  - title: P
    compute: |
      n = 3
      unused = 4
    figures:
      - id: pic
        caption: n is << n >>
        tikz: \\tikz \\node {<< n >>};
      - id: other
        tikz: \\tikz \\node {x};
    parts:
      - points: 1
        prompt: See << figure('pic') >>.
        solution: n = << n|num >>
""")
    part = exam.exam.problems[0].parts[0]
    assert dict(exam.values["1.1"]) == {"n": 3}
    assert "\\tikz \\node {3};" in part.prompt and "n is 3" in part.prompt
    assert exam.placed[1] == {"pic"}
    assert not out.warnings  # the block's names are used


def test_block_whose_names_no_text_uses_warns(tmp_path):
    _, out = render(tmp_path, """
problems:
  - title: P
    compute: |
      lonely = 4
    parts:
      - points: 1
        prompt: Q
        solution: A
""")
    assert any("compute block of problem 1: warning: defines lonely but no text" in w for w in out.warnings)


def test_a_name_used_only_as_table_data_counts_as_used(tmp_path):
    exam, out = render(tmp_path, """
problems:
  - title: P
    compute: |
      rows = [["a", 1.5], ["b", 2]]
    tables:
      - id: t
        data: rows
    parts:
      - points: 1
        prompt: Q
        solution: A
""")
    assert not out.warnings
    assert exam.exam.problems[0].tables[0].rows == (("a", "1.5"), ("b", "2"))


@pytest.mark.parametrize("source, found", [
    (r"\textbf{a} and \{ literal \} % comment {", None),
    ("first\n\\textbf{open", ("{", 1)),
    ("a }", ("}", 0)),
    ("<% set d = {'k': 1} %>\\emph{<< d.k >>}", None),
    ("line\\\\\n{x}", None),
])
def test_unbalanced_brace(source, found):
    from examgen.stages.render import unbalanced_brace

    assert unbalanced_brace(source) == found


def test_unbalanced_brace_is_reported_at_its_line_before_latex(tmp_path):
    from examgen.errors import SourceError

    with pytest.raises(SourceError) as info:
        render(tmp_path, """
problems:
  - title: P
    parts:
      - points: 1
        prompt: |
          Compute
          \\textbf{the value
        solution: s
""")
    assert str(info.value).endswith("exam.yaml:16: part 1.1: unbalanced braces: the '{' on this line is never closed")
