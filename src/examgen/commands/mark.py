"""`examgen mark`: what the marking server (markserver/) works on, the graders' accounts, and the
marks sheet for `examgen grade` with the marks given on paper and on screen merged (docs/marking.md).

The parts marked on screen are those graders mark (not the multiple-choice parts, which `scan`
reads); each comes with its sample solution and correction notes as the exam words them, turned
into HTML, and the scan's answers (answers/<code>/<part>[-N].jpg) are the answers to mark."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..errors import Collector, Loc, MarkingError
from ..grading.sheets import manifest_entries
from ..marking.store import STORE, Store, open_store, part_marks
from ..numbers import format_number, mark_step
from ..outputs import replace_file, writing
from ..project import MANIFEST, Target
from ..spreadsheet import cell_value, safe_csv
from .scan import ANSWERS, SCANS

if TYPE_CHECKING:
    from ..writers.html import Image

ANSWER_IMAGE = re.compile(r"(?P<part>\d+(?:\.\d+)*)(?:-(?P<space>\d+))?\.jpg")
GRADER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class RubricNote:
    """A correction note as a rubric button: its points (None: a remark without points)."""

    points: float | None
    html: str
    text: str  # as the exam's source words it (stripped), stored with a mark that applies it: the key
    # `examgen return` finds the note's points by, and LaTeX its typesetting reads


@dataclass(frozen=True)
class MarkedPart:
    """A part graders mark on screen, with what they mark it by."""

    number: str
    points: float
    step: float  # points are given in multiples of it (numbers.mark_step)
    title: str  # its problem's title
    prompt: str  # HTML
    solution: str  # HTML, "" for none
    notes: tuple[RubricNote, ...]


@dataclass(frozen=True)
class MarkedExam:
    """The exam as graders see it: its title, each variant's parts to mark, their figures by name."""

    title: str
    variants: dict[str | None, dict[str, MarkedPart]]
    figures: dict[str, Image]


@dataclass(frozen=True)
class Marking:
    """What `examgen mark` serves: the exam's parts to mark and the store beside the scan."""

    exam: str  # the exam's id
    title: str
    parts: dict[str, MarkedPart]  # as the first variant has them: their numbers and points are every variant's
    variants: dict[str | None, dict[str, MarkedPart]]  # each variant's parts (None: an exam without variants)
    variant_of: dict[str, str | None]  # copy code -> its variant, from the copies' manifest
    figures: dict[str, Image]  # the figures the parts' texts show, by name (their address: /figure/NAME)
    scan: Path
    store: Store

    def part_of(self, code: str, number: str) -> MarkedPart:
        """A part as the copy's variant words it (the first variant's where the copies' manifest does
        not name the copy's)."""
        return self.variants.get(self.variant_of.get(code), self.parts)[number]

    def variant_unknown(self, code: str) -> bool:
        """Whether the copy's variant is not at hand (the copies' manifest does not name it): its
        part is then shown as the first variant words it, which the screen says."""
        return self.variant_of.get(code) not in self.variants

    def image(self, code: str, part: str, space: int) -> Path:
        """An answer space's image, as `scan` cut it out."""
        return self.scan / ANSWERS / code / f"{part}{'' if space == 0 else f'-{space + 1}'}.jpg"


@dataclass(frozen=True)
class MarksExport:
    path: Path
    copies: int
    screen: int  # parts whose points come from the screen
    conflicts: list[str]  # paper and screen disagree: the cell is left empty, each listed
    flagged: list[str]  # flagged for the examiner without points


def scan_folder(target: Target, scan: Path | None) -> Path:
    """The scan's folder, which must hold `examgen scan`'s answers."""
    folder = scan or target.course / SCANS
    if not (folder / ANSWERS).is_dir():
        raise MarkingError(f"holds no scanned answers ({ANSWERS}/): run `examgen scan {target.id} BUNDLES` first, or "
                           "give --scan DIR with the scan's folder", Loc(folder))
    return folder


def scanned_answers(folder: Path, parts: dict[str, MarkedPart]) -> list[tuple[str, str, int]]:
    """Every answer of a part marked on screen the scan cut out: (code, part, its number of spaces)."""
    spaces: dict[tuple[str, str], int] = {}
    for copy in sorted((folder / ANSWERS).iterdir()):
        for image in copy.iterdir():
            match = ANSWER_IMAGE.fullmatch(image.name)
            if match and match["part"] in parts:
                key = (copy.name, match["part"])
                spaces[key] = max(spaces.get(key, 1), int(match["space"] or 1))
    return [(code, part, count) for (code, part), count in sorted(spaces.items())]


def marked_parts(target: Target, copies_variants: tuple[str, ...] = ()) -> MarkedExam:
    """The parts graders mark, per variant (None without variants; under ``per-copy``, every copy's
    variant ``copies_variants`` names, from the copies' manifest), their texts in HTML with the
    figures as the build's images; what cannot be shown is said where it would be."""
    from ..exports.questions import figure_images, printed_labels
    from ..orchestrate import compile_figures, read_exam, render_all
    from ..stages.render import strings
    from ..writers.html import Converter, questions

    theme = target.project.theme()
    exam = read_exam(target, theme, Collector())
    sources = {part.number: [note.text.source.strip() for note in part.answer.rubric()] for _, part in exam.parts()}
    per_copy = exam.variants is not None and exam.variants.per_copy
    variants = render_all(exam, theme, Collector(), copies_variants if per_copy else ())
    placed, _ = compile_figures(variants, target.project.build, theme, False, Collector())  # a failed one: said
    images = figure_images(variants, placed)
    first = next(iter(variants.values()))
    words = strings(theme, first.exam.meta.language)

    def instead(why: str) -> str:
        return f'<strong class="unshown">Not shown here ({escape(why)}): see the solution PDF.</strong>'

    found: dict[str | None, dict[str, MarkedPart]] = {}
    for label, rendered in variants.items():
        parts = found.setdefault(label, {})
        converter = Converter(images, printed_labels(target.work / (label or "") / "student" / "student.aux"),
                              {"figure": words("figure"), "table": words("table")}, _figure_address,
                              _math, instead)
        for question in questions(rendered, converter, Collector()):
            part = question.part
            if part.answer.boxes():
                continue
            notes = tuple(RubricNote(note.points, shown.text.text, source)
                          for shown, note, source in zip(question.notes, part.answer.rubric(), sources[part.number]))
            parts[part.number] = MarkedPart(part.number, part.points, mark_step(part.points), question.title,
                                            question.body(collapsed=True).text,
                                            question.solution.text if question.solution else "", notes)
    meta = first.exam.meta
    return MarkedExam(f"{meta.course} ({meta.course_number}), {meta.kind} {meta.date.isoformat()}", found,
                      {image.name: image for image in images.values()})


def _figure_address(name: str) -> str:
    """Where the marking server serves a figure's image."""
    return "/figure/" + quote(name)


def _math(tex: str, display: bool) -> str | None:
    """A formula as MathML a browser shows in HTML (the QTI export's, without its namespace prefix)."""
    from ..writers.qti import mathml

    xml = mathml(tex, display)
    return None if xml is None else re.sub(r"<(/?)m:", r"<\1", xml).replace("xmlns:m=", "xmlns=")


def open_marking(target: Target, scan: Path | None, copies: Path | None = None) -> Marking:
    """The exam's parts and the store, the scan's answers added to it; each copy's variant from the
    copies' manifest (default course/<id>/copies/), so a grader sees the copy's own solution."""
    folder = scan_folder(target, scan)
    entries = manifest_entries((copies or target.copies) / MANIFEST) or {}
    variant_of = {code: entry.get("variant") for code, entry in entries.items()}
    exam = marked_parts(target, tuple(dict.fromkeys(str(label) for label in variant_of.values() if label)))
    parts = next(iter(exam.variants.values()))
    store = open_store(folder / STORE, scanned_answers(folder, parts))
    return Marking(target.id, exam.title, parts, exam.variants, variant_of, exam.figures, folder, store)


def add_grader(target: Target, scan: Path | None, name: str, password: str, examiner: bool) -> Path:
    """Add an account (or give it a new password); where the store is."""
    if not GRADER_NAME.fullmatch(name):
        raise MarkingError(f"'{name}' is not a grader's name: letters, digits, '.', '_', '-', at most 40")
    if len(password) < MIN_PASSWORD:
        raise MarkingError(f"the password is shorter than {MIN_PASSWORD} characters: choose a longer one")
    folder = scan_folder(target, scan)
    store = open_store(folder / STORE)
    try:
        store.add_grader(name, password, examiner)
    finally:
        store.close()
    return folder / STORE


def remove_grader(target: Target, scan: Path | None, name: str) -> Path:
    """Remove an account and its sessions (its marks stay, under its name); where the store is."""
    folder = scan_folder(target, scan)
    store = open_store(folder / STORE)
    try:
        if not store.remove_grader(name):
            known = ", ".join(grader.name for grader in store.graders()) or "none"
            raise MarkingError(f"there is no account '{name}' (there are: {known})", Loc(folder / STORE))
    finally:
        store.close()
    return folder / STORE


def export_marks(target: Target, scan: Path | None, path: Path) -> MarksExport:
    """The marks sheet `examgen grade` reads: the scan's marks.csv (points read from the paper's boxes)
    with the points given on screen added; where both give a part points and they differ, the cell is
    left empty and the conflict listed."""
    folder = scan_folder(target, scan)
    paper = folder / "marks.csv"
    if not paper.is_file():
        raise MarkingError("holds no marks.csv: run `examgen scan` again to write it", Loc(folder))
    rows = [[cell_value(cell) for cell in row]
            for row in csv.reader(io.StringIO(paper.read_text(encoding="utf-8"), newline=""))]
    header = rows[0]
    screen = {(mark.code, mark.part): mark for mark in part_marks(folder / STORE)}
    conflicts, used = [], 0
    for row in rows[2:]:
        for column, part in enumerate(header[3:], start=3):
            mark = screen.get((row[0], part))
            if mark is None:
                continue
            given = format_number(mark.points)
            if row[column] and float(row[column]) != mark.points:
                conflicts.append(f"copy {row[0]}, part {part}: {row[column]} points on paper, {given} on screen "
                                 f"(by {mark.grader})")
                row[column] = ""
            else:
                row[column], used = given, used + 1
    store = open_store(folder / STORE)
    try:
        flagged = [f"copy {answer.code}, part {answer.part}: {answer.flag}"
                   for answer in store.answers(flagged_only=True) if answer.points is None]
    finally:
        store.close()
    with writing("the marks sheet", path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, lambda staged: staged.write_text(safe_csv(rows, "\r\n"), encoding="utf-8"))
    return MarksExport(path, len(rows) - 2, used, conflicts, flagged)
