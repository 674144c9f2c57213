"""A Plom spec (TOML) for the student PDF (docs/exports.md): Plom 0.20/0.21 (``[[question]]`` tables).

A Plom question is a problem: its pages are those its parts landed on in the built student PDF
(the parts' ``/ExamgenPart`` marks, stages/check.part_pages), with the pages before its first
part that hold only its heading and intro; its mark is its credits. The cover is the ID page;
every other page (additional space, padding) is a do-not-mark page. Plom's marks are whole
numbers: an exam with a half credit anywhere is marked in half credits (every mark doubled,
said in the spec's comment and its long name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ExportError
from ..model.source import Exam
from ..numbers import MARKS_PER_POINT
from ..spreadsheet import safe_csv

ID_PAGE = 1  # the cover, with the name and registration number


@dataclass(frozen=True)
class Spec:
    """What the spec states, before it is written as TOML."""

    pages: int
    questions: tuple[tuple[str, tuple[int, ...], int], ...]  # label, pages, mark
    do_not_mark: tuple[int, ...]
    shared: bool
    scale: int  # marks per credit: 1, or 2 for an exam with half credits


def plan(exam: Exam, part_pages: dict[str, int], pages: int) -> Spec:
    """Each problem's pages from where its parts landed; every other page but the cover is not marked."""
    missing = [part.number for _, part in exam.parts() if part.number not in part_pages]
    if missing:
        raise ExportError(f"the student PDF does not mark where parts {', '.join(missing)} are: build it again "
                          "(examgen build --force)", exam.loc)
    scale = 1 if all(float(p.credits).is_integer() for p in exam.problems) else MARKS_PER_POINT
    questions, last, shared = [], ID_PAGE, False
    for problem in exam.problems:
        landed = [part_pages[part.number] for part in problem.parts]
        first = min(landed)
        shared = shared or first == last
        start = first if first <= last else last + 1  # pages between the last problem's parts and this one's
        questions.append((f"Problem {problem.number}", tuple(range(start, max(landed) + 1)),
                          round(problem.credits * scale)))
        last = max(landed)
    used = {page for _, spread, _ in questions for page in spread} | {ID_PAGE}
    return Spec(pages, tuple(questions), tuple(p for p in range(1, pages + 1) if p not in used), shared, scale)


def _array(values: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, values)) + "]"


def _string(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plom_toml(exam: Exam, spec: Spec, variants: tuple[str, ...] = ()) -> str:
    """The spec; with ``variants``, a Plom version per variant, in their order."""
    meta = exam.meta
    halves = spec.scale == 2
    long_name = f"{meta.course} {meta.kind} ({meta.code})" + (", marked in half credits" if halves else "")
    sources = [*(f"# (upload {label}/student.pdf as source version {number})." for number, label in
                 enumerate(variants, 1)), "# Plom 0.20 / 0.21."] if variants else [
        "# (upload that PDF as source version 1). Plom 0.20 / 0.21."]
    lines = [f"# Plom spec for examgen exam {exam.id}, from where its parts landed in student.pdf", *sources,
             *(["# Plom marks are whole numbers and this exam has half credits: every mark is doubled."] if halves
               else []),
             f"name = {_string(re.sub(r'[^A-Za-z0-9_-]', '-', exam.id))}",  # Plom wants a slug
             f"longName = {_string(long_name)}",
             f"numberOfVersions = {max(1, len(variants))}",
             f"numberOfPages = {spec.pages}",
             f"totalMarks = {round(exam.total_points * spec.scale)}",
             f"numberOfQuestions = {len(spec.questions)}",
             f"idPage = {ID_PAGE}",
             f"doNotMarkPages = {_array(spec.do_not_mark)}"]
    if spec.shared:
        lines.append("allowSharedPages = true")
    for label, pages, mark in spec.questions:
        lines += ["", "[[question]]", f"label = {_string(label)}", f"pages = {_array(pages)}", f"mark = {mark}"]
    return "\n".join(lines) + "\n"


def version_map(exam: Exam, variants: tuple[str, ...], entries: list[dict]) -> str:
    """Plom's question-version map (CSV) for the copies (manifest entries): a copy is a paper of the same
    number, every question of it in its variant's version (version 1 without variants)."""
    questions = len(exam.problems)
    rows: list[list[object]] = [["paper_number", *(f"q{number}.version" for number in range(1, questions + 1))]]
    for entry in entries:
        version = variants.index(entry["variant"]) + 1 if variants else 1
        rows.append([entry["copy"], *[version] * questions])
    return safe_csv(rows, "\n")
