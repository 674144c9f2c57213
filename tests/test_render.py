"""Stage 4: the number and escaping filters, expression errors with locations, the template sandbox;
and stage 5's locations of LaTeX errors (where the template's markers matter)."""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path

import pytest
from support import HEADER, write_exam

from examgen.errors import Collector, ComputeError, ExamgenError
from examgen.numbers import format_number
from examgen.project import Project
from examgen.stages.compute import compute
from examgen.stages.load import load
from examgen.stages.render import escape_tex, grade_label, percent_signs, render_texts, strings
from examgen.stages.validate import validate
from examgen.theme import Theme

THEME = Theme.stack(None)
BROKEN = Path(__file__).resolve().parent / "broken"


@pytest.mark.parametrize("value, args, shown", [
    (0.1 * 6.5, (), "0.65"), (2.0, (), "2"), (-0.65, (), "-0.65"), (1 / 3, (3,), "0.333"),
    (2097153, (), "2097153"), (2097153, (None, "{,}"), "2{,}097{,}153"), (1.5, (), "1.5"),
    (-0.5 - 0.1 * 1.5, (), "-0.65"), (1e-12, (), "0"), (12, (2,), "12"),
    # half away from zero on the decimal the float stands for, as a student rounds by hand
    (0.3525, (3,), "0.353"), (0.3524999999999997, (3,), "0.353"), (2.1500000000000004, (), "2.15"),
    (2.5, (0,), "3"), (-2.5, (0,), "-3"), (0.125, (2,), "0.13"), (-0.0001, (2,), "0"), (4640, (0, ","), "4,640"),
])
def test_format_number(value, args, shown):
    assert format_number(value, *args) == shown


@pytest.mark.parametrize("value, places, shown", [
    (6.7, 2, "6.70"), (12, 2, "12.00"), (0.125, 2, "0.13"), (-0.001, 1, "0.0"), (2.5, 0, "3")])
def test_format_number_with_fixed_decimals(value, places, shown):
    """``num(2, fixed=true)`` (issue 28): exactly ``places`` decimals, the trailing zeros kept."""
    assert format_number(value, places, fixed=True) == shown


def test_the_matrix_filter_prints_latex_matrices_and_vectors(tmp_path):
    """``<< A|matrix >>`` (issue 28): rows as a pmatrix, a list of numbers as a column vector, the numbers
    as num prints them (here in German, with the decimal comma)."""
    write_exam(tmp_path / "exams" / "m", HEADER + """
language: de
problems:
  - title: M
    compute: |
      A = [[1, 0.5], [-2, 1 / 3]]
      v = [6.7, 2]
    parts:
      - points: 1
        prompt: $A = << A|matrix(2) >>$, $v = << v|matrix(2, fixed=true, brackets='b') >>$
        solution: s
""")
    from examgen.orchestrate import prepare

    rendered = prepare(Project(tmp_path).resolve("m"), Collector())
    prompt = rendered.exam.problems[0].parts[0].prompt
    assert r"\begin{pmatrix} 1 & 0{,}5 \\ -2 & 0{,}33 \end{pmatrix}" in prompt
    assert r"\begin{bmatrix} 6{,}70 \\ 2{,}00 \end{bmatrix}" in prompt


def test_format_number_rejects_text():
    with pytest.raises(TypeError, match="num needs a number"):
        format_number("abc")


def test_escape_and_labels():
    assert escape_tex("50% #1 a&b x_y ~ ^ \\") == (r"50\% \#1 a\&b x\_y \textasciitilde{} \textasciicircum{} "
                                                  r"\textbackslash{}")
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


def test_an_answer_that_names_an_undefined_value_suggests_the_computed_one(tmp_path):
    with pytest.raises(ComputeError) as info:
        render(tmp_path, """
problems:
  - title: P
    compute: |
      mu = 1.5
    parts:
      - points: 1
        prompt: The mean?
        answer: mu_
""")
    assert str(info.value).endswith("exam.yaml:17: part 1.1: name 'mu_' is not defined; did you mean 'mu'?")


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
    assert str(info.value).endswith("exam.yaml:19: part 1.1: name 'w11' is not defined; did you mean 'w12'?")


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
        prompt: |
          See the figure.
          << figure('pic') >>
        solution: n = << n|num >>
""")
    part = exam.exam.problems[0].parts[0]
    assert dict(exam.values["1.1"]) == {"n": 3}
    figure = exam.exam.problems[0].figures[0]
    assert figure.tikz == "\\tikz \\node {3};"  # rendered with the values; the views include it compiled
    assert f"\\egpicture{{{figure.picture}}}" in part.prompt and "n is 3" in part.prompt
    assert exam.student.placed[1] == exam.solution.placed[1] == {"pic"}
    assert [w.split(": warning: ")[1] for w in out.warnings] == [  # each unused name, not only all of them
        "defines unused but neither a text of the problem nor the block uses it"]


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
    assert any("compute block of problem 1: warning: defines lonely but neither a text of the problem nor the "
               "block uses it" in w for w in out.warnings)


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


def test_the_sandbox_keeps_what_texts_and_themes_use(tmp_path):
    exam, _ = render(tmp_path, """
problems:
  - title: P
    compute: |
      xs = [0.5, 1.25, 2]
      name = "adam"
    parts:
      - points: 1
        prompt: >-
          << '%.2f' % xs[1] >>; << xs|map('num')|join(', ') >>; << name.upper() >> << name|tex >>;
          <% set t = namespace(sum=0) %><% for x in xs %><% set t.sum = t.sum + x %><% endfor %><< t.sum >>;
          << 2 ** 10 >> << 10**10**10 == 10**100 >> << [1, 2] * 2 >> << 'ab' ~ 3 >> << range(3)|list|length >>
          << missing|default('-') >>
        solution: s
""")
    expected = "1.25; 0.5, 1.25, 2; ADAM adam; 3.75; 1024 True [1, 2, 1, 2] ab3 3 -"
    assert exam.exam.problems[0].parts[0].prompt == expected


def test_an_endless_text_in_a_worker_thread_is_stopped_and_the_thread_renders_on(tmp_path):
    """The orchestrator renders in worker threads, where no signal reaches: the watchdog stops the
    text there, and the thread, once the text is left, gets no stray exception later."""
    from concurrent.futures import ThreadPoolExecutor

    from examgen.sandbox.jinja import REFIRE_SECONDS, SECONDS

    endless = """
problems:
  - title: P
    parts:
      - points: 1
        prompt: |
          first
          <% for i in range(100000) %><% for j in range(100000) %><% endfor %><% endfor %>
"""
    fine = "problems: [{title: P, parts: [{points: 1, prompt: '<< 6 * 7 >>'}]}]"
    with ThreadPoolExecutor(max_workers=1) as pool:
        start = time.monotonic()
        stopped = pool.submit(render, tmp_path / "endless", endless).exception()
        elapsed = time.monotonic() - start
        pool.submit(time.sleep, 3 * REFIRE_SECONDS).result()  # a shot meant for the text would land here
        exam, _ = pool.submit(render, tmp_path / "fine", fine).result()
    assert isinstance(stopped, ComputeError)
    assert str(stopped).endswith(f"exam.yaml:16: part 1.1: took longer than {SECONDS} s (an endless or very long "
                                 "loop?)")
    assert elapsed < SECONDS + 30
    assert exam.exam.problems[0].parts[0].prompt == "42"


def _peak_memory_mb(args: list[str], cwd: Path) -> tuple[int, float]:
    """Run an examgen command as its own process (its address space capped at 4 GB and its time
    at two minutes, so a failure of the sandbox can't take the machine); its exit code (-9 when
    killed) and its peak resident memory in MB."""
    import resource
    import subprocess
    import sys
    import threading

    cap = 4 * 1024**3
    with open(cwd / "output", "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "examgen.cli", *args], cwd=cwd, stdout=output,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))
        deadline = threading.Timer(120, process.kill)
        deadline.start()
        _, status, usage = os.wait4(process.pid, 0)
        deadline.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024


@pytest.mark.parametrize("case, most_mb", [
    ("jinja-string-huge", 300), ("jinja-power-huge", 300), ("jinja-one-step-blowups", 300),
    ("jinja-memory-growth", 1024),  # the limit (512 MB) and what piles up before the watchdog looks
])
def test_template_attacks_fail_without_taking_gigabytes(case, most_mb, tmp_path):
    code, peak = _peak_memory_mb(["check", str(BROKEN / case)], tmp_path)
    assert code == 3, (tmp_path / "output").read_text()
    assert peak < most_mb


def test_a_theme_template_past_a_limit_is_named_by_its_file_and_line(tmp_path):
    from examgen.stages.render import render_document

    templates = tmp_path / "templates"
    write_exam(templates, """
        <% extends "default/exam.tex.j2" %>
        <% block cover %>
        << 'x' * 10**9 >>
        <% endblock %>
    """, "exam.tex.j2")
    exam, _ = render(tmp_path / "exam", "problems: [{title: P, parts: [{points: 1, prompt: Q}]}]")
    with pytest.raises(ComputeError) as info:
        render_document(exam, Theme.stack(templates), solution=False)
    from examgen.errors import Loc

    assert info.value.loc == Loc(templates / "exam.tex.j2", 3) and info.value.context == "the theme"
    assert info.value.message.startswith("repeating a value 1,000,000,000 times")


def test_a_marker_glued_to_the_line_before_still_marks_the_lines_after():
    """A theme's block that ends without a newline glues the next marker to its last line."""
    from examgen.errors import Loc
    from examgen.stages.compile import pieces, source_of

    lines = [r"\message{[examgen-source: cover]}% examgen-source: cover @ /e/exam.yaml:2",
             r"\thispagestyle{empty}",
             r"\clearpage\message{[examgen-source: problem 1]}% examgen-source: problem 1 @ /e/exam.yaml:10",
             r"\egproblem{1}{Problem 1}{\oops}{(1 credit)}{0}"]
    cover, problem = ("cover", Loc(Path("/e/exam.yaml"), 2)), ("problem 1", Loc(Path("/e/exam.yaml"), 10))
    found = [source_of(pieces(lines), line) for line in (1, 2, 3, 4)]
    assert [(piece.what, piece.at(line)) for piece, line in zip(found, (1, 2, 3, 4))] == [cover, cover, cover, problem]


@pytest.mark.latex
def test_latex_errors_after_a_glued_marker_name_their_problem(tmp_path):
    from examgen.commands.build import build
    from examgen.errors import CompileError
    from examgen.project import Project

    write_exam(tmp_path / "templates", """
        <% extends "default/exam.tex.j2" %>
        <% block cover %>\\thispagestyle{empty}
        << self.instructions() >>
        \\clearpage<% endblock %>
    """, "exam.tex.j2")
    write_exam(tmp_path / "exams" / "glued", HEADER + """
problems:
  - title: Macros \\undefinedmacro
    parts:
      - points: 1
        prompt: Name a prime number.
        solution: Two.
""")
    with pytest.raises(CompileError) as info:
        build(Project(tmp_path).resolve("glued"), out_dir=tmp_path / "out")
    assert "exam.yaml:11: problem 1: LaTeX error: Undefined control sequence \\undefinedmacro:" in str(info.value)


@pytest.mark.latex
def test_a_latex_timeout_names_the_part_tex_was_in(tmp_path, monkeypatch):
    from examgen.commands.build import build
    from examgen.errors import CompileError
    from examgen.project import Project
    from examgen.stages import compile as compile_stage

    monkeypatch.setattr(compile_stage, "TIMEOUT_SECONDS", 12)  # TeX reaches part 1.2 in a second or two
    write_exam(tmp_path / "exams" / "forever", HEADER + """
problems:
  - title: P
    parts:
      - points: 1
        prompt: Name a prime number.
        solution: Two.
      - points: 1
        prompt: \\def\\forever{\\forever}\\forever
        solution: Never typeset.
""")
    with pytest.raises(CompileError) as info:
        build(Project(tmp_path).resolve("forever"), out_dir=tmp_path / "out")
    assert str(info.value).endswith("exam.yaml:17: part 1.2: LaTeX did not finish within 12 s in the student view: "
                                    "it was still at part 1.2 (a macro that never ends?)")


def test_a_percent_typed_in_a_text_is_a_percent_sign():
    assert percent_signs("99% and 50\\% and a line break\\\\% then") == (
        "99\\% and 50\\% and a line break\\\\\\% then")
    assert percent_signs("<< a % b >>% of <% if c %>it<% endif %>") == "<< a % b >>\\% of <% if c %>it<% endif %>"


def test_a_text_can_tell_the_views_apart_and_is_expanded_once_where_it_does_not(tmp_path):
    exam, _ = render(tmp_path, """
problems:
  - title: P
    parts:
      - points: 1
        lead: Primes are whole numbers.
        prompt: Name a prime<% if solution %> (the key says 2)<% endif %>.
        solution: Two.
""")
    solution, student = (view.exam.problems[0].parts[0] for view in (exam.solution, exam.student))
    assert (solution.prompt, student.prompt) == ("Name a prime (the key says 2).", "Name a prime.")
    assert solution.lead is student.lead  # the same expansion serves both views
    assert solution.answer.solution == "Two." and student.answer.solution is None  # the student view knows none


def test_which_option_is_correct_can_be_computed(tmp_path):
    exam, _ = render(tmp_path, """
problems:
  - title: P
    compute: |
      n = 3
    parts:
      - points: 1
        prompt: Which is n?
        options:
          - text: two
            correct: << n == 2 >>
          - text: three
            correct: << n == 3 >>
      - points: 1
        prompt: Which are at most n?
        options: [two, three, four, five]
        correct:
          - << [1, n - 1] >>
          - 4
""")
    first, second = exam.exam.problems[0].parts
    assert first.answer.correct == [2] and second.answer.correct == [1, 2, 4]


def test_a_data_table_prints_its_numbers_as_its_num_options_say(tmp_path):
    exam, _ = render(tmp_path, """
problems:
  - title: P
    compute: |
      rows = [["conv", 4640, 0.3525]]
    tables:
      - id: t
        data: rows
        num: {places: 3, sep: "{,}"}
    parts:
      - points: 1
        prompt: Read << table('t') >>.
        solution: It lists one layer.
""")
    assert exam.exam.problems[0].tables[0].rows == (("conv", "4{,}640", "0.353"),)


def test_ref_names_a_figure_or_table_by_its_number_in_any_problem(tmp_path):
    exam, _ = render(tmp_path, """
problems:
  - title: P
    tables:
      - id: layers
        caption: The layers
        rows: [[conv, 3]]
    parts:
      - points: 1
        prompt: See << ref('layers') >>.
        solution: One layer.
  - title: Q
    parts:
      - points: 1
        prompt: As << ref('layers') >> showed.
        solution: One layer.
""")
    prompts = [problem.parts[0].prompt for problem in exam.exam.problems]
    assert prompts == ["See Table~\\ref{eg-1-layers}.", "As Table~\\ref{eg-1-layers} showed."]


def test_a_syntax_error_in_a_theme_template_is_at_its_line_and_column_with_the_line_shown(tmp_path):
    from examgen.errors import SourceError
    from examgen.orchestrate import prepare
    from examgen.project import Project

    write_exam(tmp_path / "templates", """
        <% extends "default/exam.tex.j2" %>
        <% block cover %>\\thispagestyle{empty}
        <% if solution %>
        \\clearpage<% endblock %>
    """, "exam.tex.j2")
    write_exam(tmp_path / "exams" / "themed", HEADER + """
problems:
  - title: T
    parts:
      - points: 1
        prompt: Name a prime number.
        solution: Two.
""")
    with pytest.raises(SourceError) as info:  # not an internal error (exit 70)
        prepare(Project(tmp_path).resolve("themed"), Collector())
    assert str(info.value.loc) == f"{tmp_path / 'templates' / 'exam.tex.j2'}:4:14"
    assert str(info.value).startswith(f"{info.value.loc}: theme: template syntax: Encountered unknown tag 'endblock'")
    assert str(info.value).endswith("\n    \\clearpage<% endblock %>")


def test_a_table_header_may_be_computed(tmp_path):
    exam, out = render(tmp_path, """
problems:
  - title: P
    compute: |
      sizes = [32, 64]
      columns = ["layer"] + [f"${size}^2$" for size in sizes]
      rows = [["conv", 4640, 18560]]
    tables:
      - id: t
        header: columns
        data: rows
    parts:
      - points: 1
        prompt: << table('t') >>
        solution: It lists one layer.
""")
    table = exam.exam.problems[0].tables[0]
    assert (table.header, table.rows) == (("layer", "$32^2$", "$64^2$"), (("conv", "4640", "18560"),))
    assert out.warnings == []  # 'columns' counts as used
    with pytest.raises(ComputeError, match="table 't': 'header: rows' must name a computed list of header cells"):
        render(tmp_path, """
problems:
  - title: P
    compute: |
      rows = [["conv", 4640]]
    tables:
      - {id: t, header: rows, data: rows}
    parts:
      - {points: 1, prompt: "Read << table('t') >>.", solution: s}
""")


def test_a_display_block_inside_a_sentence_is_a_warning_at_its_line(tmp_path):
    _, out = render(tmp_path, """
problems:
  - title: P
    tables:
      - {id: t, rows: [[a, b]]}
    parts:
      - points: 1
        prompt: |
          The values were
          tested (<< table('t') >>).
        solution: |
          Alone on its line it is a block:
          << table('t') >>
""")
    assert [w.split("exam.yaml:")[1] for w in out.warnings] == [
        "18: part 1.1: warning: table('t') is a block of its own (the text breaks before and after it), but it "
        "stands inside a sentence here: put << table('t') >> on a line of its own"]


def test_a_block_a_text_never_closes_is_at_the_line_that_opens_it(tmp_path):
    with pytest.raises(ComputeError) as info:
        render(tmp_path, """
problems:
  - title: P
    compute: x = 3
    parts:
      - points: 1
        prompt: Is it big?
        solution: |
          One.
          Two <% if x > 2 %> big
          Three.
""")
    told = str(info.value).split("exam.yaml:")[1]
    assert told.startswith("18:15: part 1.1: template syntax: Unexpected end of template"), told  # "Two <% if ..."
    assert str(info.value).endswith("The '<% if %>' on this line is never closed.\n    Two <% if x > 2 %> big")


def test_a_template_syntax_error_is_at_the_line_and_column_of_the_yaml_file(tmp_path):
    """Jinja names a line of the text (its lexer an offset): the message names the file's line and column, through
    a block's indentation, a folded text's joined lines, quotes and escapes, and shows the line."""
    with pytest.raises(ExamgenError) as info:
        render(tmp_path, r"""
problems:
  - title: P
    compute: x = 3
    parts:
      - points: 1
        prompt: |
          One.
            Two << x + >> and << x >>.
      - points: 1
        prompt: >
          A folded text
          runs on << x ! 2 >> here.
      - points: 1
        prompt: "a \"quoted\" text\t<< x | >>"
      - points: 1
        prompt: 'it''s << (x >>'
      - points: 1
        prompt: A plain text
          over two lines << x. >>
      - points: 1
        prompt: One <% if x %> open
""")
    told = [str(problem).split("exam.yaml:")[1] for problem in info.value.problems]
    assert told == [
        "17:17: part 1.1: template syntax: unexpected 'end of print statement'\n    Two << x + >> and << x >>.",
        "21:24: part 1.2: template syntax: unexpected char '!'\n    runs on << x ! 2 >> here.",
        "23:37: part 1.3: template syntax: expected token 'name', got 'end of print statement'\n"
        '    prompt: "a \\"quoted\\" text\\t<< x | >>"',
        "25:30: part 1.4: template syntax: unexpected '>'\n    prompt: 'it''s << (x >>'",
        "28:26: part 1.5: template syntax: expected name or number\n    over two lines << x. >>",
        "30:21: part 1.6: template syntax: Unexpected end of template. Jinja was looking for the following tags: "
        "'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'. The '<% if %>' on "
        "this line is never closed.\n    prompt: One <% if x %> open",
    ]


def test_a_misspelt_name_in_any_expression_field_gets_a_did_you_mean(tmp_path):
    """An option's text and its ``correct``, every one of them (not the first only), a part's ``correct``, a
    table's computed ``header`` and ``data``: each misspelt name is told with the computed name it is close to."""
    with pytest.raises(ExamgenError) as info:
        render(tmp_path, """
problems:
  - title: P
    compute: |
      total = 3
      heads = ["a", "b"]
      cells = [[1, 2]]
    tables:
      - id: t
        header: headz
        data: cell
    parts:
      - points: 1
        prompt: Pick.
        options:
          - text: << totl >>
            correct: << totl == 3 >>
          - text: two
            correct: << totall > 2 >>
      - points: 1
        prompt: Pick.
        options: [one, two]
        correct: << [totl] >>
""")
    told = [str(problem).split("exam.yaml:")[1] for problem in info.value.problems]
    assert told == [
        "17: problem 1: table 't': 'header: headz' names no computed value; did you mean 'heads'?",
        "17: problem 1: table 't': 'data: cell' names no computed value; did you mean 'cells'?",
        "24: part 1.1: name 'totl' is not defined; did you mean 'total'?",
        "25: part 1.1: name 'totl' is not defined; did you mean 'total'?",
        "27: part 1.1: name 'totall' is not defined; did you mean 'total'?",
        "31: part 1.2: name 'totl' is not defined; did you mean 'total'?",
    ]
