"""A Plom spec (TOML) for the student PDF (docs/exports.md): Plom 0.20/0.21 (``[[question]]`` tables).

A Plom question is a problem: its pages are those its parts landed on in the built student PDF
(the parts' ``/ExamgenPart`` marks, stages/check.part_pages), from the page its heading stands on
(a line of the page's text that starts with it, as the theme's ``problem`` sentence prints it), so
that its intro and figures are its pages too, also on the last page of the problem before it; its
mark is its credits. The cover is the ID page; every other page (a cover's second page, additional
space, padding) is a do-not-mark page. Each version (variant) is planned from its own PDF. Plom's marks are whole
numbers: an exam with a half credit anywhere is marked in half credits (every mark doubled,
said in the spec's comment and its long name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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


def plan(exam: Exam, part_pages: dict[str, int], texts: Sequence[str], heading: Callable[[int], str]) -> Spec:
    """Each problem's pages, from its heading's page (``heading``: the line that starts a problem's heading,
    looked for in the page ``texts``) to the page its last part landed on; every other page but the cover
    is not marked."""
    missing = [part.number for _, part in exam.parts() if part.number not in part_pages]
    if missing:
        raise ExportError(f"the student PDF does not mark where parts {', '.join(missing)} are: build it again "
                          "(examgen build --force)", exam.loc)
    scale = 1 if all(float(p.credits).is_integer() for p in exam.problems) else MARKS_PER_POINT
    questions, last = [], ID_PAGE
    for problem in exam.problems:
        landed = [part_pages[part.number] for part in problem.parts]
        first = min(landed)
        start = _heading_page(texts, heading(problem.number), max(last, ID_PAGE + 1), first)
        if start is None:  # a theme's heading that does not start a line with the sentence
            start = first if first <= last else last + 1  # the pages after the last problem's parts
        questions.append((f"Problem {problem.number}", tuple(range(start, max(landed) + 1)),
                          round(problem.credits * scale)))
        last = max(landed)
    spreads = [set(spread) for _, spread, _ in questions]
    shared = any(a & b for a, b in zip(spreads, spreads[1:]))
    used = set().union(*spreads, {ID_PAGE})
    pages = len(texts)
    return Spec(pages, tuple(questions), tuple(p for p in range(1, pages + 1) if p not in used), shared, scale)


def _heading_page(texts: Sequence[str], label: str, since: int, until: int) -> int | None:
    """The first page from ``since`` to ``until`` with a line that starts with ``label`` ("Problem 2",
    not "Problem 21")."""
    line = re.compile(r"^[ \t]*" + r"\s+".join(map(re.escape, label.split())) + "(?![0-9])", re.M)
    return next((page for page in range(since, until + 1) if page <= len(texts) and line.search(texts[page - 1])),
                None)


def heading_label(sentence: str) -> str:
    """A problem's heading as pdftotext reads it: the theme's sentence without its LaTeX commands."""
    return " ".join(re.sub(r"\\[A-Za-z@]+\*?|[{}~]", " ", sentence).split())


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
