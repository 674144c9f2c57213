"""Stage 6: the checks that run on the finished PDFs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from support import HEADER, REPO, Built, pypdf_texts, squash, write_exam

from examgen.commands.build import build
from examgen.errors import CheckError, Collector, ExamgenError
from examgen.orchestrate import prepare
from examgen.project import Project
from examgen.stages.check import (
    PdfText,
    check,
    cover_claims,
    leaks,
    plain,
    read_view,
    tikz_texts,
    unstated,
    unwritable,
    words,
)
from examgen.stages.positions import Box, Mark
from examgen.theme import DEFAULT


def sample_rendered():
    return prepare(Project(REPO).resolve("sample"), Collector())


def sample_exam():
    return sample_rendered().exam


def with_part(exam, number: str, **changes):
    """The exam with part ``number`` changed: its answer's fields by ``changes``."""
    problems = []
    for problem in exam.problems:
        parts = tuple(dataclasses.replace(part, answer=dataclasses.replace(part.answer, **changes))
                      if part.number == number else part for part in problem.parts)
        problems.append(dataclasses.replace(problem, parts=parts))
    return dataclasses.replace(exam, problems=tuple(problems))


def with_prompt(exam, number: str, prompt: str):
    problems = [dataclasses.replace(problem, parts=tuple(dataclasses.replace(part, prompt=prompt)
                                                         if part.number == number else part
                                                         for part in problem.parts))
                for problem in exam.problems]
    return dataclasses.replace(exam, problems=tuple(problems))


def test_words_join_hyphenation_and_plain_drops_math():
    assert words("The recep-\ntive field, 28×28.") == ["the", "receptive", "field", "28", "28"]
    assert words(plain(r"\textbf{Early} stopping $x^2$ \[ y \] done")) == ["early", "stopping", "done"]


def test_cover_claims_are_read_from_the_marks_the_theme_wrote():
    stream = (b"BT (Diese Klausur umfasst) Tj ET /ExamgenClaim <</Name /pages /Value (24)>> BDC BT (24) Tj ET EMC "
              b"/ExamgenClaim <</Name /problems /Value (9)>> BDC EMC "
              b"/ExamgenClaim <</Name /credits /Value (90.5)>> BDC")
    assert cover_claims(stream) == {"pages": 24, "problems": 9, "credits": 90.5}


def pdf(text: str, stream: bytes = b"BT (x) Tj ET", metadata: str = "examgen student copy") -> PdfText:
    return PdfText([text], [stream], metadata)


def test_a_clean_student_text_has_no_leaks_and_the_same_text_with_a_solution_has_one():
    exam = sample_exam()
    public = " ".join(str(p.prompt) for _, p in exam.parts())
    assert leaks(exam, pdf(public)) == []
    leaked = public + " It enlarges the receptive field of later layers."
    assert leaks(exam, pdf(leaked)) == [
        "part 2.3: its solution text leaks into the student PDF ('it enlarges the receptive field')"]


def test_a_leaked_note_names_its_part():
    exam = sample_exam()
    leaked = "Any one reason with a short explanation earns both points."
    found = leaks(exam, pdf("Problem 2 ... " + leaked.replace("explanation", "expla-\nnation")))
    assert found == ["part 2.3: its solution text leaks into the student PDF ('any one reason with a')"]


def test_a_leak_in_the_metadata_alone_is_found():
    exam = sample_exam()
    found = leaks(exam, pdf("nothing", metadata="Title: It enlarges the receptive field of later layers"))
    assert found == ["part 2.3: its solution text leaks into the student PDF ('it enlarges the receptive field')"]


def test_math_only_solutions_leak_by_the_values_they_state():
    """`= 608` and `h = −0.11` as pdftotext reads them: no words to compare, the stated values give them away."""
    exam = sample_exam()
    assert leaks(exam, pdf("3 · 5 · 5 · 8 + 8 = 608.")) == [
        "part 2.2: its solution's math leaks into the student PDF ('= 608')"]
    assert leaks(exam, pdf("so h = αz = −0.11.")) == [
        "part 3.1: its solution's math leaks into the student PDF ('= 0.11')"]
    assert leaks(exam, pdf("nothing", metadata="w = −0.7956")) == [
        "part 3.2: its solution's math leaks into the student PDF ('= 0.7956')"]


@pytest.mark.parametrize("solution, shown, leak", [
    ("The output comes from the weighted sum of the inputs.", "The output comes from the weighted sum of the inputs.",
     "its solution text leaks into the student PDF ('the output comes from the')"),
    ("$h = 0.25$", "h = 0.25", "its solution's math leaks into the student PDF ('= 0.25')"),
], ids=["words", "math"])
def test_what_the_question_itself_shows_is_no_leak_and_the_same_text_elsewhere_is(solution, shown, leak):
    """A solution that quotes its prompt: no leak while the prompt holds the text, a leak once the
    prompt says something else; so the solution is compared, and only public text excluded."""
    exam = with_part(sample_exam(), "3.1", solution=solution, notes=())
    assert leaks(with_prompt(exam, "3.1", f"Compute it. {solution}"), pdf(shown)) == []
    assert leaks(with_prompt(exam, "3.1", "Compute it."), pdf(shown)) == [f"part 3.1: {leak}"]


def test_text_a_figure_shows_is_public():
    """A solution quoting a TikZ node's text, which the student copy shows in the figure, is no leak."""
    tikz = r"""\begin{tikzpicture}[every node/.style={draw}]
      \node (in) at (0, 0) {input layer};
      \node[right=of in, label={above:three hidden units}] (h) {$h = 3$};
      \draw[->] (in) -- node[below] {weights are learned by gradient descent} (h);
    \end{tikzpicture}"""
    assert tikz_texts(tikz) == ["draw", "input layer", "$h = 3$", "above:three hidden units",
                                "weights are learned by gradient descent"]
    exam = with_part(sample_exam(), "2.3", solution="Weights are learned by gradient descent; $h = 3$.", notes=())
    shown = pdf("input layer three hidden units h = 3 weights are learned by gradient descent")
    assert leaks(exam, shown) == [
        "part 2.3: its solution text leaks into the student PDF ('weights are learned by gradient')"]
    problem = exam.problems[1]
    figure = dataclasses.replace(problem.figures[0], tikz=tikz)
    exam = dataclasses.replace(exam, problems=(exam.problems[0], dataclasses.replace(problem, figures=(figure,)),
                                               exam.problems[2]))
    assert leaks(exam, shown) == []


def test_solution_marks_and_crosses_in_content_streams_are_a_leak():
    exam = sample_exam()
    found = leaks(exam, pdf("nothing", b"/ExamgenSolution BMC (x) Tj EMC"))
    assert found == ["the student PDF contains solution content (marked content /ExamgenSolution)"]
    crosses = b"/ExamgenCross BMC q 1 0 0 1 0 0 cm Q EMC " * 2
    assert leaks(exam, pdf("nothing", crosses)) == [
        "the student PDF crosses 2 multiple-choice options (marked content /ExamgenCross)"]


@pytest.mark.latex
def test_check_passes_the_real_views_and_rejects_swapped_ones(built):
    """The real views pass; the solution PDF given as the student copy leaks (words, math, crosses)
    and the student copy, as solution, has no watermark and crosses nothing."""
    out = built("sample").views  # variant A's
    rendered = sample_rendered()
    student, solution = read_view(out / "student.pdf", False), read_view(out / "solution.pdf", True)
    check(rendered, student, solution, [], Collector())
    with pytest.raises(ExamgenError) as info:
        check(rendered, read_view(out / "solution.pdf", False), read_view(out / "student.pdf", True), [], Collector())
    messages = [str(p) for p in info.value.problems]
    pages = len(built("sample").student.pages)
    assert f"solution PDF: pages without the 'Sample Solution' watermark: {', '.join(map(str, range(1, pages + 1)))}" \
        in messages
    assert "solution PDF: no solution content is marked in the solution PDF" in messages
    correct = sum(len(part.get("correct", [])) for problem in built("sample").exam_key["problems"]
                  for part in problem["parts"])
    assert (f"solution PDF: the solution PDF crosses 0 options, the exam has {correct} correct ones (the theme "
            "crosses an option's box with \\egchoicebox, which marks it)") in messages
    assert "student PDF: the student PDF contains solution content (marked content /ExamgenSolution)" in messages
    assert f"student PDF: the student PDF crosses {correct} multiple-choice options (marked content /ExamgenCross)" \
        in messages
    for part in ("2.1", "2.2", "2.3", "3.1", "3.2"):  # every part with a sample solution
        assert any(m.startswith(f"student PDF: part {part}: its solution") for m in messages), part


@pytest.mark.latex
@pytest.mark.parametrize("claim", ["pages", "problems", "credits"])
def test_check_rejects_a_cover_whose_claim_is_wrong_or_missing(built, claim):
    sample = built("sample")
    rendered = sample_rendered()
    student, solution = read_view(sample.views / "student.pdf", False), read_view(sample.views / "solution.pdf", True)
    real = {"pages": len(student.streams), "problems": 5, "credits": 23}[claim]
    mark = rb"/ExamgenClaim <</Name /" + claim.encode() + rb" /Value \(([^)]*)\)>> BDC"
    assert re.search(mark, student.streams[0])
    for cover, message in (
            (re.sub(mark, lambda m: m[0].replace(b"(" + m[1] + b")", b"(99)"), student.streams[0]),
             f"student PDF: the cover says 99 {claim}, the exam has {real}"),
            (re.sub(mark, b"", student.streams[0]),
             f"student PDF: the cover does not state the number of {claim} (the theme marks it with "
             f"\\egclaim{{{claim}}}{{...}})")):
        wrong = dataclasses.replace(student, streams=[cover, *student.streams[1:]])
        with pytest.raises(CheckError) as info:
            check(rendered, wrong, solution, [], Collector())
        assert str(info.value) == message


def theme_project(folder: Path, exam: str, blocks: tuple[str, str]) -> Project:
    """A project with one exam and a theme whose blocks.tex.j2 is the default's with one change."""
    write_exam(folder / "exams" / "t", exam)
    default = (DEFAULT / "blocks.tex.j2").read_text(encoding="utf-8")
    assert blocks[0] in default
    (folder / "templates").mkdir()
    (folder / "templates" / "blocks.tex.j2").write_text(default.replace(*blocks), encoding="utf-8")
    return Project(folder)


CHOICE = (REPO / "tests" / "roots" / "minimal" / "exam.yaml").read_text(encoding="utf-8")
CROSS = "<< 1 if solution and option.correct else 0 >>"


@pytest.mark.latex
@pytest.mark.parametrize("blocks, message", [
    ((CROSS, "<< 1 >>"),  # its records know no correct option: a theme can only cross them all
     "student PDF: the student PDF crosses 2 multiple-choice options (marked content /ExamgenCross)"),
    (("\\egchoicebox[egsolution]", "\\egcheckbox[egsolution]"),
     "solution PDF: the solution PDF crosses 0 options, the exam has 1 correct ones"),
], ids=["crosses-in-the-student-view", "crosses-without-the-mark"])
def test_a_theme_that_crosses_wrongly_fails_the_build(tmp_path, blocks, message):
    project = theme_project(tmp_path, CHOICE, blocks)
    with pytest.raises(ExamgenError) as info:
        build(project.resolve("t"), out_dir=tmp_path / "out")
    assert info.value.exit_code == 5
    assert any(str(p).startswith(message) for p in info.value.problems), str(info.value)
    assert not (tmp_path / "out" / "student.pdf").exists()


MATH_ONLY = HEADER + """\
problems:
  - title: Arithmetic
    compute: |
      a, b, h = 6, 7, -0.11
    parts:
      - points: 2
        prompt: What is $<< a >> \\cdot << b >>$?
        space: 3cm
        solution: $= << a * b >>$
      - points: 1
        prompt: What is the output $h$ of the neuron?
        space: 2cm
        solution: $h = << h|num >>$
"""


@pytest.mark.latex
def test_a_theme_that_shows_solutions_to_students_finds_none_to_show(tmp_path):
    """A theme that prints the solutions unmarked in the student view too: the student view's records
    hold none, so the build passes and its student PDF states neither value (the leak check, which
    would catch them by their stated values, stays a second line: tested on PDFs above)."""
    shown = ("<% if solution %>\n", "<% if not solution and answer.solution %><< answer.solution >><% endif %>\n"
                                     "<% if solution %>\n")
    project = theme_project(tmp_path, MATH_ONLY, shown)
    build(project.resolve("t"), out_dir=tmp_path / "out")
    student = "\n".join(pypdf_texts(tmp_path / "out" / "student.pdf"))
    assert "42" not in student and "0.11" not in student



WRITABLE = HEADER + """\
problems:
  - title: Room to write
    parts:
      - points: 1
        prompt: Which numbers are prime?
        options:
          - text: "2"
            correct: true
          - "4"
      - points: 2
        prompt: What is 6 times 7?
        answer: 42
      - points: 1
        prompt: Name a square number.
        space: %s
"""


@pytest.mark.latex
def test_every_space_a_hand_writes_in_is_large_enough_or_the_build_fails_naming_its_part(tmp_path):
    """The check of writable areas measures what TeX placed (the marks of student.pos): the default
    theme's check boxes, grading boxes, numeric box and answer spaces pass; a theme that draws the
    numeric box 2 cm wide and an answer space of one row fails the build, each space named by its
    part (a source cannot ask for less than 1cm of space: test_validate)."""
    write_exam(tmp_path / "good" / "exams" / "t", WRITABLE % "2cm")
    build(Project(tmp_path / "good").resolve("t"), out_dir=tmp_path / "good-out")
    narrow = ("\\egnumeric[<< answer.box >>cm]", "\\egnumeric[2cm]")
    shrunk = theme_project(tmp_path / "bad", WRITABLE % "2cm", narrow)
    blocks = shrunk.root / "templates" / "blocks.tex.j2"
    blocks.write_text(blocks.read_text(encoding="utf-8").replace("\\eganswer{<< part.answer.space >>}",
                                                                 "\\eganswer{0.6}"), encoding="utf-8")
    with pytest.raises(ExamgenError) as info:
        build(shrunk.resolve("t"), out_dir=tmp_path / "bad-out")
    assert info.value.exit_code == 5
    assert sorted(str(problem).split(": ", 1)[1] for problem in info.value.problems) == [
        "part 1.2: its numeric answer box is 20.0 mm × 10.0 mm on page 2 of the student PDF, smaller than a hand "
        "writes in (at least 30 mm × 8 mm): give it more room ('space', 'box') or a theme that draws it larger",
        "part 1.3: its answer space is 160.0 mm × 5.0 mm on page 2 of the student PDF, smaller than a hand writes "
        "in (at least 50 mm × 10 mm): give it more room ('space', 'box') or a theme that draws it larger"]


@pytest.mark.parametrize("kind, key, size, named", [
    ("checkbox", ("1", "1.1", "2"), (2.0, 2.0), "part 1.1: its check box is 2.0 mm × 2.0 mm"),
    ("grade", ("1.2", "1"), (4.2, 2.5), "part 1.2: its grading box is 4.2 mm × 2.5 mm"),
    ("numeric", ("1.2",), (29.0, 10.0), "part 1.2: its numeric answer box is 29.0 mm × 10.0 mm"),
    ("answer", ("1.3",), (160.0, 9.0), "part 1.3: its answer space is 160.0 mm × 9.0 mm"),
    ("checkbox", ("1", "1.1", "1"), (3.4, 3.4), None),
    ("answer", ("1.3",), (50.0, 10.0), None),
    ("qr", (), (1.0, 1.0), None),  # not a space anyone writes in
])
def test_each_kind_of_space_has_its_least_size(tmp_path, kind, key, size, named):
    write_exam(tmp_path / "exams" / "t", WRITABLE % "2cm")
    exam = prepare(Project(tmp_path).resolve("t"), Collector()).exam
    box = Box(100.0, 100.0, size[0] / 25.4 * 72, size[1] / 25.4 * 72)
    found = [str(problem) for problem in unwritable(exam, [Mark(2, kind, key, box)])]
    assert found == [] if named is None else (len(found) == 1 and named in found[0]), found


NUMERIC = HEADER + """\
problems:
  - title: Numbers
    parts:
      - points: 1
        prompt: A third?
        answer: 1 / 3
        tolerance: 0.005
      - points: 1
        prompt: How many kB?
        answer: 12861.44
        tolerance: 1%
        unit: kB
      - points: 1
        prompt: Six sevens?
        answer: 42
"""


@pytest.mark.latex
def test_the_solution_states_a_numeric_answer_to_the_decimals_its_tolerance_needs_with_its_range(tmp_path):
    write_exam(tmp_path / "exams" / "t", NUMERIC)
    build(Project(tmp_path).resolve("t"), out_dir=tmp_path / "out")
    solution, student = (squash("\n".join(pypdf_texts(tmp_path / "out" / f"{view}.pdf")))
                         for view in ("solution", "student"))
    for shown in ("0.333(±0.005)", "12861(±129)kB", "Answer:42"):
        assert shown in solution, solution
    assert "0.333" not in student and "12861" not in student and "±" not in student


BOX = "\\begin{tikzpicture}\\draw (0,0) rectangle (4,%s);\\end{tikzpicture}"
BEHIND = HEADER + f"""\
problems:
  - title: A full page
    parts:
      - points: 1
        prompt: Write.
        space: 21cm
  - title: A figure and its parts
    new_page: true
    figures:
      - id: box
        caption: A box.
        tikz: '{BOX % 2}'
    parts:
      - points: 1
        prompt: Describe the box.
        space: 12cm
      - points: 1
        prompt: Draw it again.
        space: 12cm
  - title: Elsewhere
    parts:
      - points: 1
        prompt: See << ref('box') >> once more.
        space: 3cm
      - points: 1
        prompt: Nothing to see.
        space: 20cm
"""


@pytest.mark.latex
def test_a_part_on_the_back_of_the_sheet_with_its_figure_is_a_warning_naming_it(tmp_path):
    """Pages 2k and 2k+1 face each other in a stapled duplex copy: 2.1 faces nothing it lacks (its
    figure is on its page), 2.2 and 3.1 (which refers to the figure) are on page 4, the back of page 3
    that holds it, and 3.2 is on page 5, another sheet."""
    write_exam(tmp_path / "exams" / "t", BEHIND)
    result = build(Project(tmp_path).resolve("t"), out_dir=tmp_path / "out")
    behind = [warning for warning in result.warnings if "turn the sheet" in warning]
    assert [re.search(r"part \d\.\d", warning).group() for warning in behind] == ["part 2.2", "part 3.1"], behind
    assert "exam.yaml:25: part 2.2: warning: it is on page 4, the other side of the sheet with figure 'box' " \
           "(page 3)" in behind[0]
    assert "'new_page: true'" in behind[0] and "<< figure('id') >>" in behind[0]


STRANDED = HEADER + f"""\
problems:
  - title: Most of a page
    parts:
      - points: 1
        prompt: Write.
        space: 17cm
  - title: A figure at the bottom
    intro: Look at the box.
    figures:
      - id: box
        caption: A box.
        tikz: '{BOX % 2.5}'
    parts:
      - points: 1
        prompt: Describe the box.
        space: 8cm
"""


@pytest.mark.latex
def test_a_problems_heading_intro_and_figure_go_to_the_page_of_its_first_part(tmp_path):
    write_exam(tmp_path / "exams" / "t", STRANDED)
    build(Project(tmp_path).resolve("t"), out_dir=tmp_path / "out")
    pages = [Built.flat(page) for page in pypdf_texts(tmp_path / "out" / "student.pdf")]
    with_figure = next(page for page in pages if "figure 2 1 a box" in page)
    assert "problem 2 a figure at the bottom" in with_figure and "look at the box" in with_figure
    assert "2 1 describe the box" in with_figure, pages[1:3]


@pytest.mark.latex
def test_a_german_solution_writes_the_numeric_answer_with_a_decimal_comma(tmp_path):
    write_exam(tmp_path / "exams" / "t", NUMERIC.replace("examiner: E\n", "examiner: E\nlanguage: de\n"))
    build(Project(tmp_path).resolve("t"), out_dir=tmp_path / "out")
    solution = squash("\n".join(pypdf_texts(tmp_path / "out" / "solution.pdf")))
    for shown in ("0,333(±0,005)", "12861(±129)kB", "Antwort:42"):
        assert shown in solution, solution
    assert "0.333" not in solution


def test_verify_finds_the_keys_numbers_in_a_german_solution_by_their_decimal_comma(tmp_path):
    """The key writes 0.5 in every language; the German texts print 0{,}5, the PDF shows 0,5."""
    write_exam(tmp_path / "exams" / "t", HEADER + "language: de\n" + """\
problems:
  - title: Halves
    compute: |
      half = 0.5
    parts:
      - points: 1
        prompt: Halve one.
        solution: $<< half|num >>$
""")
    rendered = prepare(Project(tmp_path).resolve("t"), Collector())
    assert dict(rendered.printed["1.1"]) == {"half": "0.5"}
    assert "$0{,}5$" in str(rendered.exam.problems[0].parts[0].answer.solution)
    assert unstated(rendered, PdfText(["1.1 Halve one. 0,5"], [], "")) == []
    assert [m for _, m in unstated(rendered, PdfText(["1.1 Halve one."], [], ""))] == [
        "the solution PDF does not show half = 0.5"]
