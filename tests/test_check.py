"""Stage 6: the checks that run on the finished PDFs."""

from __future__ import annotations

import dataclasses

from support import REPO

from examgen.orchestrate import prepare
from examgen.project import Project
from examgen.stages.check import PdfText, cover_claims, leaks, plain, words
from examgen.errors import Collector


def sample_exam():
    return prepare(Project(REPO).resolve("sample"), Collector()).exam


def test_words_join_hyphenation_and_plain_drops_math():
    assert words("The recep-\ntive field, 28×28.") == ["the", "receptive", "field", "28", "28"]
    assert words(plain(r"\textbf{Early} stopping $x^2$ \[ y \] done")) == ["early", "stopping", "done"]


def test_cover_claims_are_read_from_the_marks_the_theme_wrote():
    stream = (b"BT (Diese Klausur umfasst) Tj ET /ExamgenClaim <</Name /pages /Value (24)>> BDC BT (24) Tj ET EMC "
              b"/ExamgenClaim <</Name /problems /Value (9)>> BDC EMC /ExamgenClaim <</Name /credits /Value (90.5)>> BDC")
    assert cover_claims(stream) == {"pages": 24, "problems": 9, "credits": 90.5}


def pdf(text: str, stream: bytes = b"BT (x) Tj ET") -> PdfText:
    return PdfText([text], [stream], "examgen student copy")


def test_a_clean_student_text_has_no_leaks():
    exam = sample_exam()
    public = " ".join(str(p.prompt) for _, p in exam.parts())
    assert leaks(exam, pdf(public)) == []


def test_a_leaked_solution_names_its_part():
    exam = sample_exam()
    leaked = "Any one reason with a short explanation earns both points."
    found = leaks(exam, pdf("Problem 2 ... " + leaked.replace("explanation", "expla-\nnation")))
    assert found == ["part 2.3: its solution text leaks into the student PDF ('any one reason with a')"]


def test_solution_marks_in_content_streams_are_a_leak():
    exam = sample_exam()
    found = leaks(exam, pdf("nothing", b"/ExamgenSolution BMC (x) Tj EMC"))
    assert found and "marked content" in found[0]


def test_solution_words_that_the_question_itself_uses_are_not_leaks():
    exam = sample_exam()
    problem = exam.problems[2]
    part = problem.parts[0]
    answer = dataclasses.replace(part.answer, solution=part.prompt, notes=())
    exam = dataclasses.replace(exam, problems=(*exam.problems[:2], dataclasses.replace(
        problem, parts=(dataclasses.replace(part, answer=answer), *problem.parts[1:]))))
    assert leaks(exam, pdf(str(part.prompt))) == []


def test_check_rejects_swapped_views(built):
    """The solution PDF given as the student copy leaks; the student copy has no watermark."""
    import pytest

    from examgen.stages.check import check, read_view
    from examgen.errors import ExamgenError

    out = built("sample").out
    with pytest.raises(ExamgenError) as info:
        check(sample_exam(), read_view(out / "solution.pdf", False), read_view(out / "student.pdf", True), Collector())
    messages = [str(p) for p in info.value.problems]
    pages = len(built("sample").student.pages)
    assert f"solution PDF: pages without the 'Sample Solution' watermark: {', '.join(map(str, range(1, pages + 1)))}" \
        in messages
    assert "solution PDF: no solution content is marked in the solution PDF" in messages
    assert "student PDF: the student PDF contains solution content (marked content /ExamgenSolution)" in messages
    assert any(m.startswith("student PDF: part 2.3: its solution text leaks") for m in messages)
