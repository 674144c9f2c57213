"""Shared fixtures and helpers: real builds, done once per test session, inspected with pypdf;
small exam sources written on the fly."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from examgen.commands.build import BuildResult, build
from examgen.orchestrate import built_variants
from examgen.project import Project
from examgen.stages.check import PdfText, read_pdf, words

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Built:
    """One exam built into a temporary folder, with its outputs read back: with variants, the first
    variant's views (``views``: their folder)."""

    result: BuildResult
    out: Path
    student: PdfText
    solution: PdfText
    key: dict
    views: Path

    @property
    def exam_key(self) -> dict:
        """key.json as an exam without variants has it; with variants, with the first variant's problems."""
        variants = self.key.get("variants")
        if variants is None:
            return self.key
        first = next(iter(variants.values()))
        return {**{k: v for k, v in self.key.items() if k != "variants"}, "problems": first["problems"]}

    @property
    def student_text(self) -> str:
        return "\n".join(self.student.pages)

    @property
    def solution_text(self) -> str:
        return "\n".join(self.solution.pages)

    @staticmethod
    def flat(text: str) -> str:
        """Whitespace-insensitive form of extracted PDF text, for `in` checks."""
        return " ".join(words(text))

    def cover(self, problems: int, credits: int) -> str:
        """The student cover's flat text, once both views are seen to paginate alike and the
        cover to state the real page count and the given numbers of problems and credits."""
        pages = len(self.student.pages)
        assert len(self.solution.pages) == pages
        cover = self.flat(self.student.pages[0])
        assert f"this exam consists of {pages} pages with a total of {problems} problems" in cover
        assert f"achievable credits in this exam is {credits} credits" in cover
        return cover


def squash(text: str) -> str:
    """Extracted text without whitespace, for comparing typeset math (its spaces vary); an
    accent read as its own character (ˆy) is put back on its letter (ŷ)."""
    text = re.sub(r"\u02c6\s*(\w)", lambda m: unicodedata.normalize("NFC", m.group(1) + "\u0302"), text)
    return "".join(text.split())


def pypdf_texts(path: Path) -> list[str]:
    """Page texts by pypdf: the tests read the PDFs independently of the build's own check."""
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def build_into(name: str | Path, out: Path, **options) -> Built:
    result = build(Project(REPO).resolve(str(name)), out_dir=out, **options)
    views = out / next(iter(built_variants(result.exam)), "")
    read = lambda view: read_pdf(views / f"{view}.pdf", texts=pypdf_texts)  # noqa: E731
    return Built(result, out, read("student"), read("solution"),
                 json.loads((out / "key.json").read_text(encoding="utf-8")), views)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``built("sample")`` builds an exam of exams/ once per session and returns a Built."""
    cache: dict[str, Built] = {}

    def get(exam_id: str) -> Built:
        if exam_id not in cache:
            cache[exam_id] = build_into(exam_id, tmp_path_factory.mktemp(exam_id))
        return cache[exam_id]

    return get


def write_exam(folder: Path, text: str, name: str = "exam.yaml") -> Path:
    """Write an exam source (dedented) into folder; returns the file."""
    import textwrap

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def quiz_header(code: str) -> str:
    """The header of the small quizzes that the scan, mark and return tests print, scan and grade."""
    return f"""\
course: Test Course
course_number: T100
kind: quiz
code: {code}
date: 2024-05-06
start: "09:00"
end: "09:30"
examiner: Dr. Test
"""


HEADER = """\
course: C
course_number: X1
kind: endterm
code: E1
date: 2022-01-01
start: "08:00"
end: "09:00"
examiner: E
"""


@pytest.fixture
def project(tmp_path):
    """A fresh project folder holding a copy of tests/roots/minimal as exams/minimal."""
    import shutil

    shutil.copytree(REPO / "tests" / "roots" / "minimal", tmp_path / "exams" / "minimal")
    return tmp_path
