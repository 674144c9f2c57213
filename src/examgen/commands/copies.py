"""`examgen copies`: per-student copies of the built student PDF (docs/copies.md).

The roster is read first (a bad row writes nothing), the build brought up to date, then the
copies' overlays (codes, names) compile in one LaTeX run while a process per core makes the
pages' QR codes (writers/copies.py); the copies folder is written aside and switched in.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .. import stopping
from ..errors import Collector, Loc, OutputProblem
from ..model.source import Exam, Text
from ..orchestrate import (
    CORES,
    built_variants,
    compile_figures,
    each_variant,
    render_all,
    run_writers,
    worker_processes,
    worker_result,
)
from ..outputs import replace_file, writing
from ..project import MANIFEST, Target
from ..writers import Context
from .build import BuildResult, build

if TYPE_CHECKING:
    from ..roster import Student
    from ..writers.copies import Copy, Stamp

COPIES_PER_CHUNK = 20  # copies per task of a process: progress and order, little overhead


@dataclass(frozen=True)
class CopiesRequest:
    """What `examgen copies` asks for: a count or a roster, where to, and one copy or all."""

    count: int | None = None
    roster: Path | None = None
    out: Path | None = None
    only: str | None = None  # a copy's code: write that copy alone
    split: bool = False  # also one PDF per copy
    by_seat: bool = False  # variants round-robin in the roster's seat order, not the copies' order
    in_seat_order: bool = False  # the copies numbered (and printed) room by room, seat by seat


@dataclass(frozen=True)
class CopiesResult:
    out_dir: Path
    files: list[str]
    copies: int
    pages: int  # per copy
    warnings: list[str]


Progress = Callable[[int, int], None]  # copies done, copies in all


def warn_if_changed(copies: Path, key: bytes, consequence: str, out: Collector) -> None:
    """A warning when the exam's key is no longer the one its copies (``copies``: their folder)
    were made with: the exam changed after printing. A manifest of an older examgen records none."""
    from ..writers.key import key_digest

    with contextlib.suppress(OSError, ValueError, AttributeError):
        made_with = json.loads((copies / MANIFEST).read_text(encoding="utf-8")).get("key_sha256")
        if made_with and made_with != key_digest(key):
            out.warn(f"the exam changed since its copies were made ({Loc(copies)}): {consequence}")


def make_copies(target: Target, request: CopiesRequest, progress: Progress | None = None) -> CopiesResult:
    """Per-student copies of an exam (writers/copies.py): the roster is read first (a bad row
    writes nothing), the build brought up to date (a no-op when it is), then the copies' overlays
    compile in one LaTeX run while the pages' QR codes are made."""
    from ..roster import read_roster

    students = read_roster(request.roster) if request.roster else None
    built = build(target)
    with stopping.locked(target.work / "copies-lock"):  # another run's overlays use the same folder
        return _write_copies(target, request, students, built, progress)


def _write_copies(target: Target, request: CopiesRequest, students: tuple[Student, ...] | None, built: BuildResult,
                  progress: Progress | None) -> CopiesResult:
    from pypdf import PdfReader

    from ..stages.positions import read_layout
    from ..stages.render import strings
    from ..writers import copies as writer
    from ..writers.key import key_digest
    from ..writers.layout import layout_json

    exam, out = built.exam, Collector()
    copies = writer.plan(exam, request.count, students, request.by_seat, request.in_seat_order)
    writer.check_printable(copies)
    chosen = (writer.find(copies, request.only),) if request.only else copies
    if exam.variants and exam.variants.per_copy:
        student_pdfs = _copies_views(target, exam, tuple(str(copy.number) for copy in copies), out)
    else:
        used = {copy.variant for copy in copies}
        shown: list[str | None] = [label for label in built_variants(exam) if label in used] or [None]
        student_pdfs = {label: built.out_dir / (label or "") / "student.pdf" for label in shown}
    variants = list(student_pdfs)
    readers = {label: PdfReader(path) for label, path in student_pdfs.items()}
    first = readers[variants[0]]
    page_size = (float(first.pages[0].mediabox.width), float(first.pages[0].mediabox.height))
    layouts = {label: read_layout(target.work / (label or "") / "student" / "student.pos", len(reader.pages))
               for label, reader in readers.items()}
    stamp = writer.Stamp.measure(layouts, page_size, copies)
    text = strings(target.project.theme(), exam.meta.language)
    labels = {key: text(key) for key in ("name_label", "registration_label", "seat_label", "room_label")}
    stopping.current().check()
    contents, overlays_pdf = _stamp_and_typeset(
        chosen, stamp, partial(writer.typeset_overlays, copies, stamp, labels, target.work / "copies", out), progress)
    stopping.current().check()
    pdf = writer.CopiesPdf(student_pdfs, overlays_pdf, copies, stamp,
                           writer.info_object(exam, os.environ.get("SOURCE_DATE_EPOCH")))
    folder = request.out or target.copies
    warnings = list(dict.fromkeys(built.warnings + out.warnings))  # a copy's variant may warn as the build did
    if request.only:
        copy = chosen[0]
        single = pdf.single(copy.number - 1, contents[0])
        with writing("the copy", folder):
            folder.mkdir(parents=True, exist_ok=True)
            replace_file(folder / f"{copy.code}.pdf", partial(pdf.file.write, written=single))
        return CopiesResult(folder, [f"{copy.code}.pdf"], 1, stamp.pages, warnings)
    singles = [pdf.single(index, content) for index, content in enumerate(contents)]
    files: dict[str, Callable[[Path], object]] = {
        "print.pdf": lambda path: pdf.file.write(path, pdf.print_file(iter(contents))),
        "manifest.json": lambda path: path.write_text(
            writer.manifest_json(exam, copies, stamp.pages, [s.sha256 for s in singles],
                                 key_digest((built.out_dir / "key.json").read_bytes())), encoding="utf-8"),
        "layout.json": lambda path: path.write_text(layout_json(layouts, exam, page_size, stamp.pages),
                                                    encoding="utf-8"),
    }
    if request.split:
        files.update({f"{copy.code}.pdf": partial(pdf.file.write, written=single)
                      for copy, single in zip(copies, singles)})
    _install_copies(folder, files)
    return CopiesResult(folder, list(files), len(copies), stamp.pages, warnings)


def _copies_views(target: Target, exam: Exam[Text], labels: tuple[str, ...], out: Collector) -> dict[str | None, Path]:
    """For ``variants: per-copy``: each copy's student view, compiled as a build compiles it (each
    starting from copy 1's page references; a view whose inputs did not change keeps its PDF) and
    checked as a student view alone (its solution view is not made: the key comes from its texts)."""
    from ..stages.check import check_student
    from ..stages.positions import read_marks
    from ..writers.views import ViewWriter

    theme = target.project.theme()
    with writing("the build folder", target.work), stopping.locked(target.work / "lock"):
        rendered = render_all(exam, theme, out, labels)
        stopping.current().check()
        figures, failed = compile_figures(rendered, target.project.build, theme, False, out)
        views = tuple(ViewWriter("student", label, labels[0] if label != labels[0] else None) for label in labels)
        products = run_writers(rendered, Context(theme, target.work, False, out, figures), failed, views)
    stopping.current().check()

    def checked(label: str | None, own: Collector) -> Path:
        product = products[f"{label}/student"]
        assert product.pdf is not None
        pdf = product.files[f"{label}/student.pdf"]
        check_student(rendered[label], product.pdf, read_marks(pdf.with_suffix(".pos")), own)
        return product.files[f"{label}/student.pdf"]

    return each_variant(labels, checked, out)


def _stamp_and_typeset(copies: tuple[Copy, ...], stamp: Stamp, typeset: Callable[[], Path],
                       progress: Progress | None) -> tuple[list[list[bytes]], Path]:
    """Every copy's page contents, in order, while LaTeX typesets the overlays (``typeset``). The QR
    codes are CPU work: beyond one chunk of copies they are shared out to a process per core, forked
    before the LaTeX thread starts (a fork copies no running thread, and the workers need no imports)."""
    from ..writers.copies import contents_of

    chunks = [copies[at:at + COPIES_PER_CHUNK] for at in range(0, len(copies), COPIES_PER_CHUNK)]
    with ExitStack() as stack:
        made: Iterator[list[list[bytes]]]
        if len(chunks) > 1:
            pool = stack.enter_context(worker_processes(min(CORES, len(chunks))))
            futures = [pool.submit(contents_of, chunk, stamp) for chunk in chunks]
            made = (worker_result(future) for future in futures)
        else:
            made = (contents_of(chunk, stamp) for chunk in chunks)
        typesetting = stack.enter_context(ThreadPoolExecutor(max_workers=1)).submit(typeset)
        contents: list[list[bytes]] = []
        for chunk in made:
            stopping.current().check()
            contents += chunk
            if progress:
                progress(len(contents), len(copies))
        return contents, typesetting.result()


def _install_copies(folder: Path, files: dict[str, Callable[[Path], object]]) -> None:
    """The files (name -> how to write it) as the copies folder, written aside and switched in by
    renames: a failed run leaves the last copies as they were. An existing folder is replaced only
    if it holds nothing but what a run of copies writes; copies of another run (another manifest:
    copies that may have been printed) are kept beside it as ``copies.replaced-N``, never removed."""
    from ..writers.copies import COPIES_FILE

    staged, old = folder.with_name(f".{folder.name}.examgen-new"), folder.with_name(f".{folder.name}.examgen-old")
    with writing("the copies", folder.parent):
        if folder.exists() and (not folder.is_dir() or not all(COPIES_FILE.fullmatch(name)
                                                                for name in os.listdir(folder))):
            raise OutputProblem("cannot write the copies here: it holds files examgen copies did not write; "
                                "name another folder", Loc(folder))
        folder.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (staged, old):
            shutil.rmtree(leftover, ignore_errors=True)
        staged.mkdir()
        for name, write in files.items():
            write(staged / name)
        stopping.current().check()
        if folder.exists():
            os.rename(folder, old)
        os.rename(staged, folder)
        if _content(old / MANIFEST) not in (None, _content(folder / MANIFEST)):
            os.rename(old, next(kept for number in itertools.count(1)
                                if not (kept := folder.with_name(f"{folder.name}.replaced-{number}")).exists()))
        shutil.rmtree(old, ignore_errors=True)


def _content(path: Path) -> bytes | None:
    """A file's bytes, None where there is no such file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
