"""Themes and languages: the packaged default, a project's own templates layered over it, the
example theme of docs/, and the German strings; the build's checks pass in any of them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import REPO, Built, pypdf_texts

from examgen.commands.build import build
from examgen.errors import Collector, SourceError
from examgen.orchestrate import prepare
from examgen.project import Project
from examgen.stages.check import page_texts
from examgen.stages.render import render_document
from examgen.theme import DEFAULT, Theme


def sample_project(folder: Path, language: str | None = None, templates: Path | None = None) -> Project:
    """A project holding a copy of the sample exam and the shared helpers, in ``language``,
    with ``templates`` as its own theme folder."""
    shutil.copytree(REPO / "exams" / "sample", folder / "exams" / "sample")
    shutil.copytree(REPO / "exams" / "lib", folder / "exams" / "lib")
    if language:
        exam = folder / "exams" / "sample" / "exam.yaml"
        exam.write_text(exam.read_text(encoding="utf-8").replace("kind: sample exam\n",
                                                                 f"kind: sample exam\nlanguage: {language}\n"))
    if templates:
        shutil.copytree(templates, folder / "templates")
    return Project(folder)


def document(project: Project, solution: bool = False) -> str:
    rendered = prepare(project.resolve("sample"), Collector())
    return render_document(rendered, project.theme(), solution)


def test_a_project_theme_overrides_one_file_and_extends_the_default(tmp_path):
    theme = tmp_path / "theme"
    (theme / "strings").mkdir(parents=True)
    (theme / "strings" / "en.yaml").write_text("no_detaching: Keep the staple in place.\n")
    (theme / "exam.tex.j2").write_text('<% extends "default/exam.tex.j2" %>\n'
                                       "<% block cover_foot %>\\vfill Good luck!<% endblock %>\n")
    (theme / "seal.pdf").write_bytes(b"%PDF-1.4 not read by this test")
    project = sample_project(tmp_path / "p", templates=theme)
    tex = document(project)
    assert "Keep the staple in place." in tex and "Detaching pages" not in tex
    assert "Good luck!" in tex and "Left room from" not in tex
    assert "Working instructions" in tex  # everything else is the default's
    tex_files = project.theme().tex_files()
    assert tex_files["seal.pdf"] == project.root / "templates" / "seal.pdf"
    assert tex_files["examgen.sty"] == DEFAULT / "examgen.sty"
    assert not any(name.endswith((".j2", ".yaml")) for name in tex_files)


def test_examgen_templates_sits_between_the_project_and_the_default(tmp_path, monkeypatch):
    faculty = tmp_path / "faculty"
    (faculty / "strings").mkdir(parents=True)
    (faculty / "strings" / "en.yaml").write_text("no_detaching: Faculty rule.\ncomplete_copy: Check your copy.\n")
    own = tmp_path / "own"
    (own / "strings").mkdir(parents=True)
    (own / "strings" / "en.yaml").write_text("no_detaching: Project rule.\n")
    monkeypatch.setenv("EXAMGEN_TEMPLATES", str(faculty))
    tex = document(sample_project(tmp_path / "p", templates=own))
    assert "Project rule." in tex and "Check your copy." in tex and "Faculty rule." not in tex


def test_a_theme_edit_gives_the_figure_cache_a_new_folder(tmp_path):
    """The compiled pictures are typeset with the theme's style files: an edit of one (not only a new
    name) must compile them again, in a folder of their own."""
    from examgen.figures import FigureCache

    templates = tmp_path / "templates"
    templates.mkdir()
    style = templates / "examgen.sty"
    style.write_text((DEFAULT / "examgen.sty").read_text(encoding="utf-8"), encoding="utf-8")
    folder = lambda: FigureCache(tmp_path / "build", Theme.stack(templates), "preamble").folder  # noqa: E731
    before = folder()
    assert folder() == before
    style.write_text(style.read_text(encoding="utf-8") + "\\definecolor{egframe}{gray}{0.3}\n", encoding="utf-8")
    assert folder() != before


def test_a_language_without_strings_is_a_source_error(tmp_path):
    project = sample_project(tmp_path, language="fr")
    message = r"exam\.yaml:5: no strings for language 'fr' in the theme \(it has: de, en\)"
    with pytest.raises(SourceError, match=message):
        prepare(project.resolve("sample"), Collector())


def test_a_theme_language_missing_sentences_names_them(tmp_path):
    theme = tmp_path / "theme"
    (theme / "strings").mkdir(parents=True)
    (theme / "strings" / "en.yaml").write_text("motto: Think first.\n")  # a sentence German lacks
    project = sample_project(tmp_path / "p", language="de", templates=theme)
    with pytest.raises(SourceError, match="the theme's 'de' strings lack motto"):
        document(project)


@pytest.mark.latex
def test_the_sample_in_german(tmp_path):
    project = sample_project(tmp_path, language="de")
    result = build(project.resolve("sample"))
    student = pypdf_texts(result.out_dir / "A" / "student.pdf")
    solution = pypdf_texts(result.out_dir / "A" / "solution.pdf")
    cover = Built.flat(student[0])
    assert f"diese klausur umfasst {len(student)} seiten mit insgesamt 5 aufgaben" in cover
    assert "hinweise zur bearbeitung" in cover and "in dieser klausur können sie insgesamt 23 punkte" in cover
    assert "Variante A" in student[0] and "Variante A" in solution[1]
    assert "dienstag 10 februar 2026" in cover and "working instructions" not in cover
    assert "Convolutions (5,5 Punkte)" in student[1]
    assert "musterlösung" in Built.flat(solution[0]) and f"Seite 2 / {len(student)}" in solution[1]
    assert "korrekturhinweise" in Built.flat(" ".join(solution)) and "sample solution" not in " ".join(solution)


@pytest.mark.latex
def test_a_german_exam_hyphenates_in_german_and_writes_every_number_with_a_decimal_comma(tmp_path):
    """English patterns broke the cover's "geklebt" as "gek-lebt"; the cover's table said "P 1"; the
    texts' numbers, a table's and the notes' points were English. The key keeps decimal points."""
    project = sample_project(tmp_path, language="de")
    result = build(project.resolve("sample"), out_dir=tmp_path / "out")
    student, solution = (page_texts(result.out_dir / "A" / f"{view}.pdf") for view in ("student", "solution"))
    cover = subprocess.run(["pdftotext", "-layout", "-l", "1", result.out_dir / "A" / "student.pdf", "-"],
                           capture_output=True, text=True, check=True).stdout  # as printed: its hyphens kept
    assert "gek-" not in cover and "geklebt" in student[0]
    assert re.search(r"A ?1\s+A ?2\s+A ?3\s+A ?4", cover) and not re.search(r"P ?1", cover)  # Aufgabe, not Problem
    text = "\n".join(solution)
    for shown in ("−0,7956", "0,0121", "−0,044", "(0,5 P.): result", "3.215.360"):
        assert shown in text, shown
    assert not re.search(r"\d\.\d{2,}", text.replace("3.215.360", "")), re.findall(r".*\d\.\d{2,}.*", text)
    assert "Tabelle 3.1" in text and re.search(r"-0,8\s+0,5\s+0,1", text)  # the table's cells
    key = json.loads((result.out_dir / "key.json").read_text(encoding="utf-8"))
    assert key["variants"]["A"]["problems"][2]["parts"][1]["values_printed"]["w_new"] == "-0.7956"


@pytest.mark.latex
def test_the_example_theme_puts_its_logo_on_the_cover(tmp_path):
    from pypdf import PdfReader

    project = sample_project(tmp_path, templates=REPO / "docs" / "example-theme" / "templates")
    result = build(project.resolve("sample"))
    student = PdfReader(result.out_dir / "A" / "student.pdf")
    cover = student.pages[0]
    assert "Example University of Technology" in cover.extract_text()
    assert images(cover) == [(240, 120)]  # logo.png, only on the cover
    assert images(student.pages[1]) == [(28, 28)]  # the sample's own image of problem 1


def images(page) -> list[tuple[int, int]]:
    """The sizes of the images a page draws (its image XObjects, forms aside)."""
    objects = page["/Resources"].get("/XObject", {})
    found = [objects[name].get_object() for name in objects]
    return [(o["/Width"], o["/Height"]) for o in found if o["/Subtype"] == "/Image"]


@pytest.mark.parametrize("language, one, half, total", [
    ("en", "(1 credit)", "(0.5 credits)", "is 1 credit."), ("de", "(1 Punkt)", "(0,5 Punkte)", "insgesamt 1 Punkt")])
def test_sentences_with_a_number_agree_with_it(language, one, half, total):
    from examgen.stages.render import strings
    from examgen.theme import Theme

    sentence = strings(Theme.stack(None), language)
    assert sentence("problem_credits", credits=sentence.number(1), count=1) == one
    assert sentence("problem_credits", credits=sentence.number(0.5), count=0.5) == half
    assert total in sentence("credits", credits="1", count=1)


def test_a_theme_that_prints_answers_in_every_view_finds_none_in_the_student_view(tmp_path):
    """The student view is rendered from records that know no answers: a theme that crosses the correct
    options, sets them in bold and prints the sample solutions without asking which view it is
    typesets none of them in the student copy, and all of them in the sample solution."""
    theme = tmp_path / "theme"
    theme.mkdir()
    blocks = (DEFAULT / "blocks.tex.j2").read_text(encoding="utf-8")
    marked = "\\egchoicebox[egsolution]{<< 1 if solution and option.correct else 0 >>}}] << option.text >>"
    assert marked in blocks and "<% if solution %>\n<% if answer.solution %>" in blocks
    bold = "<% if option.correct %>\\textbf{<< option.text >>}<% else %><< option.text >><% endif %>"
    blocks = blocks.replace(marked, "\\egchoicebox[egsolution]{<< 1 if option.correct else 0 >>}}] " + bold)
    blocks = blocks.replace("<% if solution %>\n<% if answer.solution %>", "<% if true %>\n<% if answer.solution %>")
    (theme / "blocks.tex.j2").write_text(blocks, encoding="utf-8")
    project = sample_project(tmp_path / "p", templates=theme)
    solution_tex, student_tex = document(project, solution=True), document(project)
    assert "\\egchoicebox[egsolution]{1}" in solution_tex and "\\textbf{" in solution_tex
    assert "\\egsolution{" in solution_tex
    assert "\\egchoicebox[egsolution]{1}" not in student_tex
    assert "\\egsolution{" not in student_tex
    rendered = prepare(project.resolve("sample"), Collector())
    for _, part in rendered.student.exam.parts():
        assert not part.answer.secrets() and not part.answer.crossed() and not part.answer.written_solution()
