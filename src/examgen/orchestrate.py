"""The orchestrator: runs the stages and the writers, and owns all concurrency.

load -> validate -> compute (while the texts' templates compile) -> render -> the
writers (the two views, each rendered, compiled and read back, and the key, all at
once) -> check -> install. Everything is validated and computed before anything is
written. Outputs are made in ``build/.work/<id>/`` and installed as one set only after
every check passed (outputs.py), so a failed build leaves the last good outputs
untouched. SIGINT and SIGTERM stop a run at once (stopping.py).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from . import stopping
from .cache import Record, source_digest
from .errors import (
    Collector,
    CompileError,
    ErrorGroup,
    ExamgenError,
    Loc,
    OutputProblem,
    SourceError,
    StrictWarning,
)
from .model.rendered import RenderedExam
from .model.source import Exam, Grading, Text, Threshold
from .outputs import OutputFolder, writing
from .project import Target
from .theme import Theme
from .writers import VIEWS, Context, Product, Rendered, Writer, output_names, writers

if TYPE_CHECKING:
    from .figures import Placed
    from .roster import Student
    from .stages.check import Overflow
    from .writers.copies import Copy, Stamp
    from .writers.html import Image

CORES = 2  # CI's: figure batches, exams built at once, processes that make copies' QR codes
EXAMS_AT_ONCE = CORES
WRITERS_AT_ONCE = 2 * CORES + 1  # the views' LaTeX runs, two per core (one waits on the disk), and the key
T = TypeVar("T")
VIEW_NAMES = re.compile(r"the (?:student|solution) view")
COPIES_PER_CHUNK = 20  # copies per task of a process: progress and order, little overhead


@dataclass(frozen=True)
class BuildResult:
    target: Target
    exam: Exam[Text]
    out_dir: Path
    compiled: list[str]  # the documents LaTeX ran for
    kept: list[str]  # the documents whose inputs did not change: their last PDF stands
    warnings: list[str]

    @property
    def state(self) -> str:
        """What the build did: which documents LaTeX compiled, which stand as they were."""
        if not self.compiled:
            return "up to date"
        unchanged = f"; {' and '.join(self.kept)} unchanged" if self.kept else ""
        return f"built (compiled {' and '.join(self.compiled)}{unchanged})"


def read_exam(target: Target, theme: Theme, out: Collector) -> Exam[Text]:
    """Load and validate: the exam's records, no Python run yet."""
    from .stages.load import load
    from .stages.validate import validate

    target.check_path()
    return validate(load(target.exam_file), target.id, out, theme.languages())


def _each_variant(labels: Iterable[str | None], work: Callable[[str | None, Collector], T],
                  out: Collector) -> dict[str | None, T]:
    """``work`` for each variant (or once, for None); its errors raised together after all ran, each
    once, naming the variants it happened in unless it happened in all (the theme's, say); its
    warnings, once each, into ``out``."""
    from .variants import all_named

    done: dict[str | None, T] = {}
    failed: dict[tuple, tuple[ExamgenError, dict]] = {}  # each error once, with the variants it happened in
    labels = list(labels)
    for label in labels:
        own = Collector()
        try:
            done[label] = work(label, own)
        except ExamgenError as exc:
            for problem in exc.problems:
                failed.setdefault((problem.loc, problem.context, problem.message), (problem, {}))[1][label] = True
        out.noted(own.warnings)
    errors = []
    for problem, where in failed.values():
        if None not in where and len(where) < len(labels):  # not every variant: name them
            shown = all_named(list(where))
            problem.context = f"{problem.context} ({shown})" if problem.context else shown
        errors.append(problem)
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorGroup(errors)
    return done


def render_all(exam: Exam[Text], theme: Theme, out: Collector, labels: tuple[str, ...] = (),
               work: Path | None = None) -> Rendered:
    """The exam rendered (by None), or every variant it is built in, or those ``labels`` name (by label;
    docs/variants.md): their compute blocks run in one child while the texts' templates compile (that
    needs no values), then each variant's texts are rendered. A build passes its work folder: blocks
    whose inputs did not change don't run again, texts that did not change are not compiled again."""
    from .stages.compute import compute_variants
    from .stages.render import precompile, render_texts

    with ThreadPoolExecutor(max_workers=1) as pool:  # the compute child works while Jinja compiles
        computing = pool.submit(compute_variants, exam, labels or built_variants(exam), out,
                                work / "compute.json" if work else None)
        precompile(exam, theme, work / "texts.marshal" if work else None)
        computed = {variant.variant: variant for variant in computing.result() if variant is not None}
    out.raise_if_any()
    return _each_variant(computed, lambda label, own: render_texts(computed[label], theme, own), out)


def built_variants(exam: Exam[Text]) -> tuple[str, ...]:
    """The variants a build makes: the source's labels; for ``per-copy``, the first copy's (its copies
    get theirs from `examgen copies`)."""
    if exam.variants is None:
        return ()
    return ("1",) if exam.variants.per_copy else exam.variants.labels


def prepare(target: Target, out: Collector) -> RenderedExam:
    """Everything that needs no LaTeX: load, validate, compute, render the texts (with variants,
    of the first variant a build makes; prepare_all gives them all)."""
    return next(iter(prepare_all(target, out).values()))


def prepare_all(target: Target, out: Collector) -> Rendered:
    """prepare for every variant a build makes (by None without variants)."""
    theme = target.project.theme()
    return render_all(read_exam(target, theme, out), theme, out)


def check_source(target: Target, out: Collector, strict: bool = False) -> Exam[str]:
    """``examgen check``: everything up to LaTeX; under ``strict`` a warning is an error."""
    rendered = prepare(target, out).exam  # every variant is rendered, and checked so
    if strict:
        _strict(out.warnings)
    return rendered


def compile_figures(rendered: Rendered, build_folder: Path, theme: Theme, force: bool,
                    out: Collector) -> tuple[dict[str, Placed], list[ExamgenError]]:
    """Every TikZ picture of the exam (of all its variants: a picture they share is one) compiled
    (the missing ones in one batch per core, at once), by key: the views include them. A batch that
    fails gives its errors back, so the views still run and report theirs in the same run (a failed
    picture is a gap in them)."""
    from .figures import FigureCache, batches, pictures
    from .stages.render import preamble

    cache = FigureCache(build_folder, theme, preamble(next(iter(rendered.values())), theme))
    wanted = {key: code for variant in rendered.values() for key, code in pictures(variant).items()}
    missing = batches(cache.missing(wanted, force), CORES)
    failed: list[ExamgenError] = []
    if missing:
        with writing("the figure cache", cache.folder.parent), ThreadPoolExecutor(max_workers=CORES) as pool:
            for done in [pool.submit(cache.compile, batch, out) for batch in missing]:
                try:
                    done.result()
                except (CompileError, ErrorGroup) as exc:
                    failed.extend(exc.problems)
    placed = {key: cache.placed(key) for key in wanted}
    lost = [key for key, where in placed.items() if where is None]
    if lost and not failed:
        raise CompileError(f"{len(lost)} compiled pictures vanished from the figure cache ({cache.folder}) "
                           "while the build ran: build again")
    return {key: where for key, where in placed.items() if where is not None}, failed


def _layout_warnings(exam: Exam[str], logs: dict[str, str], out: Collector) -> list[Overflow]:
    """What the templates reported in the LaTeX logs, as warnings naming the part; the
    solutions that overflow their answer space."""
    from .stages.check import Overflow
    from .stages.compile import layout_reports

    parts = {part.number: part for _, part in exam.parts()}
    overflows = [Overflow(parts[number], needed, getattr(parts[number].answer, "space", 0) or 0)
                 for number, needed in layout_reports(logs.get("solution", ""), "overflow")]
    for overflow in overflows:
        out.warn(f"the sample solution does not fit its answer space (needs {overflow.needed_cm:.1f}cm, "
                 f"space is {overflow.space_cm:g}cm)", overflow.part.loc, overflow.part.context)
    for number, height in dict(layout_reports("".join(logs.values()), "tall")).items():
        part = parts[number]
        out.warn(f"the part is {height:.1f}cm tall, more than a page holds: make its answer space smaller",
                 part.loc, part.context)
    return overflows


def _run_writers(rendered: Rendered, context: Context, failed: list[ExamgenError],
                 chosen: tuple[Writer, ...]) -> dict[str, Product]:
    """The writers at once (with variants, two LaTeX runs per core and the key; a writer that starts
    from another's work once that one is done); their failures are raised together with those before
    them (``failed``: the figures'), an error both views meet once."""
    with ThreadPoolExecutor(max_workers=min(len(chosen), WRITERS_AT_ONCE)) as pool:
        futures = {writer.name: pool.submit(writer.write, rendered, context) for writer in chosen if not writer.after}
        wait([futures[writer.after] for writer in chosen if writer.after])  # the writers they start from
        futures.update({writer.name: pool.submit(writer.write, rendered, context) for writer in chosen if writer.after})
    products: dict[str, Product] = {}
    errors: dict[tuple, ExamgenError] = {}
    for name, future in futures.items():
        try:
            products[name] = future.result()
        except (CompileError, ErrorGroup) as exc:
            failed = [*failed, *exc.problems]
    for problem in failed:  # "... in the student view, line 80" and "... solution view, line 81"
        same = VIEW_NAMES.sub("the view", problem.message.split("\n")[0])
        errors.setdefault((problem.loc, problem.context, same), problem)
    if errors:
        found = list(errors.values())
        raise found[0] if len(found) == 1 else ErrorGroup(found)
    return products


def _check_views(rendered: RenderedExam, products: dict[str, Product], out: Collector) -> None:
    """The checks of one exam's (or variant's) two views (stages/check.py)."""
    from .stages.check import check  # here: a build that finds nothing changed needs none of it

    views = {view: products[f"{rendered.variant}/{view}" if rendered.variant else view] for view in VIEWS}
    overflows = _layout_warnings(rendered.exam, {view: product.log for view, product in views.items()}, out)
    student, solution = views["student"].pdf, views["solution"].pdf
    assert student is not None and solution is not None
    check(rendered, student, solution, overflows, out)


def _strict(warnings: list[str]) -> None:
    """Under --strict, the warnings as errors."""
    if warnings:
        problems: list[ExamgenError] = [StrictWarning(f"{warning} (an error under --strict)") for warning in warnings]
        raise problems[0] if len(problems) == 1 else ErrorGroup(problems)


def build(target: Target, out_dir: Path | None = None, force: bool = False, strict: bool = False) -> BuildResult:
    """Build one exam's outputs; LaTeX runs only for documents whose inputs changed. Under
    ``strict``, a warning fails the build before anything is installed."""
    stopping.current().check()
    out = Collector()
    theme = target.project.theme()
    exam = read_exam(target, theme, out)
    variants = built_variants(exam)
    output = OutputFolder(out_dir or target.out)
    outputs = {name: output.path / name for name in output_names(variants)}
    with writing("the build folder", target.work), stopping.locked(target.work / "lock"):
        output.clean()
        record = Record(target.work / "examgen-inputs.json")
        inputs = source_digest(exam, target.project.lib, theme, output.path)
        if not force and record.fresh(inputs, outputs):  # nothing changed: no Python, no LaTeX
            warnings = out.warnings + record.read().get("warnings", [])
            if strict:
                _strict(warnings)
            return BuildResult(target, exam, output.path, [], [], warnings)
        stopping.current().check()
        rendered = render_all(exam, theme, out, work=target.work)
        stopping.current().check()
        figures, failed = compile_figures(rendered, target.project.build, theme, force, out)
        stopping.current().check()
        products = _run_writers(rendered, Context(theme, target.work, force, out, figures), failed,
                                writers(variants))
        stopping.current().check()
        _each_variant(rendered, lambda label, own: _check_views(rendered[label], products, own), out)
        if strict:
            _strict(out.warnings)
        output.install({name: path for product in products.values() for name, path in product.files.items()})
        record.record(inputs, outputs, out.warnings)
    compiled = [name for name, product in products.items() if product.compiled]
    kept = [name for name, product in products.items() if product.pdf is not None and not product.compiled]
    return BuildResult(target, exam, output.path, compiled, kept, out.warnings)


def build_many(targets: list[Target], out_dir: Path | None = None, force: bool = False,
               strict: bool = False) -> list[BuildResult | ExamgenError]:
    """Build several exams, two at a time; each result is its build's or its error."""

    def one(target: Target) -> BuildResult | ExamgenError:
        try:
            return build(target, out_dir, force, strict)
        except ExamgenError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=EXAMS_AT_ONCE) as pool:
        return list(pool.map(one, targets))


@dataclass(frozen=True)
class CopiesRequest:
    """What `examgen copies` asks for: a count or a roster, where to, and one copy or all."""

    count: int | None = None
    roster: Path | None = None
    out: Path | None = None
    only: str | None = None  # a copy's code: write that copy alone
    split: bool = False  # also one PDF per copy
    by_seat: bool = False  # variants round-robin in the roster's seat order, not the copies' order


@dataclass(frozen=True)
class CopiesResult:
    out_dir: Path
    files: list[str]
    copies: int
    pages: int  # per copy
    warnings: list[str]


Progress = Callable[[int, int], None]  # copies done, copies in all


def _install_copies(folder: Path, files: dict[str, Callable[[Path], object]]) -> None:
    """The files (name -> how to write it) as the copies folder, written aside and switched in by
    renames: a failed run leaves the last copies as they were. An existing folder is replaced only
    if it holds nothing but what a run of copies writes."""
    from .outputs import writing
    from .writers.copies import COPIES_FILE

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
        shutil.rmtree(old, ignore_errors=True)


def _result(future: Future[T]) -> T:
    """A worker's result; a worker a stop ended is the stop (Interrupted), not a broken pool."""
    try:
        return future.result()
    except BrokenProcessPool:
        stopping.current().check()
        raise


def _stamp_and_typeset(copies: tuple[Copy, ...], stamp: Stamp, typeset: Callable[[], Path],
                       progress: Progress | None) -> tuple[list[list[bytes]], Path]:
    """Every copy's page contents, in order, while LaTeX typesets the overlays (``typeset``). The QR
    codes are CPU work: beyond one chunk of copies they are shared out to a process per core, forked
    before the LaTeX thread starts (a fork copies no running thread, and the workers need no imports)."""
    from .writers.copies import contents_of

    chunks = [copies[at:at + COPIES_PER_CHUNK] for at in range(0, len(copies), COPIES_PER_CHUNK)]
    with ExitStack() as stack:
        made: Iterator[list[list[bytes]]]
        if len(chunks) > 1:
            pool = stack.enter_context(ProcessPoolExecutor(min(CORES, len(chunks)),
                                                           mp_context=multiprocessing.get_context("fork")))
            futures = [pool.submit(contents_of, chunk, stamp) for chunk in chunks]
            made = (_result(future) for future in futures)
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


def make_copies(target: Target, request: CopiesRequest, progress: Progress | None = None) -> CopiesResult:
    """Per-student copies of an exam (writers/copies.py): the roster is read first (a bad row
    writes nothing), the build brought up to date (a no-op when it is), then the copies' overlays
    compile in one LaTeX run while the pages' QR codes are made."""
    from .roster import read_roster

    students = read_roster(request.roster) if request.roster else None
    built = build(target)
    with stopping.locked(target.work / "copies-lock"):  # another run's overlays use the same folder
        return _write_copies(target, request, students, built, progress)


def _copies_views(target: Target, exam: Exam[Text], labels: tuple[str, ...], out: Collector) -> dict[str | None, Path]:
    """For ``variants: per-copy``: each copy's student view, compiled as a build compiles it (each
    starting from copy 1's page references; a view whose inputs did not change keeps its PDF) and
    checked as a student view alone (its solution view is not made: the key comes from its texts)."""
    from .stages.check import check_student
    from .writers.views import ViewWriter

    theme = target.project.theme()
    with writing("the build folder", target.work), stopping.locked(target.work / "lock"):
        rendered = render_all(exam, theme, out, labels)
        stopping.current().check()
        figures, failed = compile_figures(rendered, target.project.build, theme, False, out)
        views = tuple(ViewWriter("student", label, labels[0] if label != labels[0] else None) for label in labels)
        products = _run_writers(rendered, Context(theme, target.work, False, out, figures), failed, views)
    stopping.current().check()

    def checked(label: str | None, own: Collector) -> Path:
        product = products[f"{label}/student"]
        assert product.pdf is not None
        check_student(rendered[label], product.pdf, own)
        return product.files[f"{label}/student.pdf"]

    return _each_variant(labels, checked, out)


def _write_copies(target: Target, request: CopiesRequest, students: tuple[Student, ...] | None, built: BuildResult,
                  progress: Progress | None) -> CopiesResult:
    from pypdf import PdfReader

    from .stages.render import strings
    from .writers import copies as writer
    from .writers.layout import layout_json, read_layout

    exam, out = built.exam, Collector()
    copies = writer.plan(exam, request.count, students, request.by_seat)
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
    folder = request.out or built.out_dir / "copies"
    warnings = list(dict.fromkeys(built.warnings + out.warnings))  # a copy's variant may warn as the build did
    if request.only:
        copy = chosen[0]
        single = pdf.single(copy.number - 1, contents[0])
        with writing("the copy", folder):
            folder.mkdir(parents=True, exist_ok=True)
            pdf.file.write(folder / f".{copy.code}.pdf.new", single)
            os.replace(folder / f".{copy.code}.pdf.new", folder / f"{copy.code}.pdf")
        return CopiesResult(folder, [f"{copy.code}.pdf"], 1, stamp.pages, warnings)
    singles = [pdf.single(index, content) for index, content in enumerate(contents)]
    files: dict[str, Callable[[Path], object]] = {
        "print.pdf": lambda path: pdf.file.write(path, pdf.print_file(iter(contents))),
        "manifest.json": lambda path: path.write_text(
            writer.manifest_json(exam, copies, stamp.pages, [s.sha256 for s in singles]), encoding="utf-8"),
        "layout.json": lambda path: path.write_text(layout_json(layouts, exam, page_size, stamp.pages),
                                                    encoding="utf-8"),
    }
    if request.split:
        files.update({f"{copy.code}.pdf": partial(pdf.file.write, written=single)
                      for copy, single in zip(copies, singles)})
    _install_copies(folder, files)
    return CopiesResult(folder, list(files), len(copies), stamp.pages, warnings)


EXPORTS = {"moodle": "moodle.xml", "qti": "qti.zip", "plom": "plom.toml", "plom-versions": "plom-versions.csv",
           "marks": "marks.csv"}


@dataclass(frozen=True)
class ExportRequest:
    """What `examgen export` asks for: a format, where to write it, and for marks the copies' folder."""

    format: str  # a key of EXPORTS
    out: Path | None = None  # default build/<id>/<EXPORTS[format]>
    copies: Path | None = None  # default build/<id>/copies
    build: Path | None = None  # the build's output folder (default build/<id>/), as `build --out` named it


@dataclass(frozen=True)
class ExportResult:
    path: Path
    items: int  # questions, or copies for the marks sheet
    warnings: list[str]


def export(target: Target, request: ExportRequest) -> ExportResult:
    """One export of an exam (docs/exports.md), from its build brought up to date first (a no-op when
    it is): the key and the texts as the PDFs have them, where the parts landed, its copies."""
    built = build(target, request.build)
    out = Collector()
    content, items = _EXPORTERS[request.format](target, built, request, out)
    path = request.out or built.out_dir / EXPORTS[request.format]
    with writing("the export", path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.examgen-new")
        staged.write_bytes(content)
        os.replace(staged, path)
    return ExportResult(path, items, built.warnings + out.warnings)


def _export_marks(target: Target, built: BuildResult, request: ExportRequest, out: Collector) -> tuple[bytes, int]:
    from .writers.marks import marks_csv, read_manifest

    entries = read_manifest(request.copies or built.out_dir / "copies", built.exam)
    return marks_csv(built.exam, entries).encode("utf-8"), len(entries)


def _export_plom(target: Target, built: BuildResult, request: ExportRequest, out: Collector) -> tuple[bytes, int]:
    from .errors import ExportError
    from .stages.check import part_pages, read_pdf
    from .writers.plom import plan, plom_toml

    exam, variants = built.exam, _plom_versions(built.exam)
    specs = {}
    for label in variants or (None,):  # a version per variant: Plom needs their questions on the same pages
        student = read_pdf(built.out_dir / (label or "") / "student.pdf", texts=None)
        specs[label] = plan(exam, part_pages(student), len(student.streams))
    spec = specs[next(iter(specs))]
    if any(other != spec for other in specs.values()):
        raise ExportError("the variants' problems land on different pages, and Plom needs every version of a "
                          "question on the same pages: give the parts room ('space', 'new_page') so that they "
                          "paginate alike", exam.loc)
    if spec.scale != 1:
        out.warn("Plom marks are whole numbers and the exam has half credits: the spec marks in half credits "
                 "(every mark doubled)", exam.loc)
    return plom_toml(exam, spec, variants).encode("utf-8"), len(spec.questions)


def _plom_versions(exam: Exam[Text]) -> tuple[str, ...]:
    """The variants Plom has as versions (none without variants); a fresh one per copy it cannot have."""
    from .errors import ExportError

    if exam.variants is not None and exam.variants.per_copy:
        raise ExportError("Plom has a version per variant, and 'variants: per-copy' makes one per copy: export "
                          "an exam with named variants", exam.variants.loc)
    return built_variants(exam)


def _export_plom_versions(target: Target, built: BuildResult, request: ExportRequest,
                          out: Collector) -> tuple[bytes, int]:
    """Plom's question-version map for the copies: every copy's questions in its variant's version."""
    from .writers.marks import read_manifest
    from .writers.plom import version_map

    entries = read_manifest(request.copies or built.out_dir / "copies", built.exam)
    return version_map(built.exam, _plom_versions(built.exam), entries).encode("utf-8"), len(entries)


def _export_questions(target: Target, built: BuildResult, request: ExportRequest,
                      out: Collector) -> tuple[bytes, int]:
    """Moodle XML or a QTI package: the rendered texts as HTML, the figures as PNG images."""
    from .stages.render import strings
    from .writers import moodle, qti
    from .writers.html import Converter, questions

    theme = target.project.theme()
    variants = prepare_all(target, Collector())  # its warnings are the build's, already in built.warnings
    placed, failed = compile_figures(variants, target.project.build, theme, False, out)
    if failed:
        raise failed[0] if len(failed) == 1 else ErrorGroup(failed)
    images = _figure_images(variants, placed)
    rendered = next(iter(variants.values()))
    words = strings(theme, rendered.exam.meta.language)
    platform = moodle if request.format == "moodle" else qti
    found = []
    for label, variant in variants.items():  # with variants, each part once per variant
        converter = Converter(images, _labels(target.work / (label or "") / "student" / "student.aux"),
                              {"figure": words("figure"), "table": words("table")}, platform.source)
        found += questions(variant, converter)
    found.sort(key=lambda question: question.problem.number)  # a problem's questions together, in its category
    meta = rendered.exam.meta
    title = f"{meta.course} ({meta.course_number}), {meta.kind} {meta.date.isoformat()}"
    by_name = {image.name: image for image in images.values()}
    if request.format == "moodle":
        return moodle.moodle_xml(rendered.id, title, meta.language, found, by_name), len(found)
    return qti.qti_zip(rendered.id, title, found, by_name), len(found)


_EXPORTERS = {"marks": _export_marks, "plom": _export_plom, "plom-versions": _export_plom_versions,
              "moodle": _export_questions, "qti": _export_questions}


def _labels(aux: Path) -> dict[str, str]:
    r"""Every ``\label`` of the student PDF with the number it printed (its ``.aux``)."""
    text = aux.read_text(encoding="utf-8", errors="replace") if aux.is_file() else ""
    return dict(re.findall(r"\\newlabel\{([^}]*)\}\{\{([^}]*)\}", text))


def _figure_images(rendered: Rendered, placed: dict[str, Placed]) -> dict[str, Image]:
    """Every figure of both views as an image, by its key (writers/html.figure_key): a compiled
    picture's page and a PDF image as PNG (pdftoppm, a process per core), a PNG or JPEG as it is."""
    from .figures import png
    from .writers.html import Image, figure_key

    wanted: dict[str, tuple[str, Path, int]] = {}  # key -> image name, PDF or image file, page
    for view in (view for variant in rendered.values() for view in (variant.student, variant.solution)):
        for problem in view.exam.problems:
            for figure in problem.figures:
                key = figure_key(figure)
                if key is None or key in wanted:
                    continue
                if figure.picture:
                    where = placed[figure.picture]
                    wanted[key] = (f"p{problem.number}-{figure.id}-{key[:8]}.png", where.pdf, where.page)
                elif figure.image:
                    name = key if figure.image.suffix.lower() != ".pdf" else f"{Path(key).stem}.png"  # its asset
                    wanted[key] = (name, figure.image, 1)

    def image(name: str, file: Path, page: int) -> Image:
        return Image(name, png(file, page) if file.suffix.lower() == ".pdf" else file.read_bytes())

    with ThreadPoolExecutor(max_workers=CORES) as pool:
        made = {key: pool.submit(image, *how) for key, how in wanted.items()}
        return {key: future.result() for key, future in made.items()}


@dataclass(frozen=True)
class GradeRequest:
    """What `examgen grade` reads, and where its outputs go."""

    marks: Path  # the marks sheet
    crosses: Path | None = None  # a scanner's crosses for the multiple-choice parts
    thresholds: tuple[Threshold, ...] = ()  # --thresholds: instead of the source's scale
    copies: Path | None = None  # the copies' folder (its manifest.json); default build/<id>/copies/
    out: Path | None = None  # default build/<id>-grading/


@dataclass(frozen=True)
class GradeResult:
    out_dir: Path
    files: list[str]
    graded: int
    absent: int
    mean: float
    total: float
    failed: int
    warnings: list[str]


def grade(target: Target, request: GradeRequest) -> GradeResult:
    """Marks (and crosses) in, results.csv, grades.csv and report.html out (grading/). Every problem
    of the inputs is reported at once, and then nothing is written."""
    from .grading.analysis import analyse
    from .grading.report import grades_csv, report_html, results_csv
    from .grading.scale import GERMAN, resolve
    from .grading.score import Keys, score
    from .grading.sheets import Codes, read_crosses, read_marks

    out = Collector()
    theme = target.project.theme()
    source = read_exam(target, theme, out)
    codes = Codes(source.meta.code, (request.copies or target.out / "copies") / "manifest.json")
    if codes.known is None:
        out.warn(f"no manifest of copies at {Loc(codes.manifest)}: the copy codes were checked for their form, "
                 "exam code and check character only (give --copies DIR)")
    if source.variants is not None and codes.variants is None:
        raise SourceError("an exam with variants is graded against each copy's variant, which its copies' manifest "
                          f"names: there is none at {Loc(codes.manifest)} (give --copies DIR)", source.loc)
    per_copy = source.variants is not None and source.variants.per_copy  # the copies' variants, not a build's
    labels = tuple(dict.fromkeys(label for label in (codes.variants or {}).values() if label)) if per_copy else ()
    variants = render_all(source, theme, out, labels)
    rendered = next(iter(variants.values()))
    exam = rendered.exam
    grading = Grading(request.thresholds, (exam.grading or GERMAN).fail) if request.thresholds else exam.grading
    problems = Collector()
    scale = resolve(grading, exam.total_points, problems)
    rows = read_marks(request.marks, exam, codes, problems)
    crossed = read_crosses(request.crosses, exam, {row.code for row in rows}, problems) if request.crosses else ()
    keys = Keys(rendered, {label: variant for label, variant in variants.items() if label is not None},
                codes.variants)
    results = score(tuple(part for _, part in exam.parts()), rows, crossed, keys, scale, problems)
    problems.raise_if_any()
    out.noted(problems.warnings)  # the scale's
    unregistered = sum(not graded.row.registration for graded in results.graded)
    if unregistered:
        out.warn(f"{unregistered} graded copies have no registration number: grades.csv leaves them out")
    analysis = analyse(results)
    texts = {"results.csv": results_csv(results), "grades.csv": grades_csv(results),
             "report.html": report_html(exam, results, analysis)}
    folder = request.out or target.project.build / f"{target.id}-grading"
    with writing("the grading outputs", folder):
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (folder / f".{name}.new").write_text(text, encoding="utf-8")
            os.replace(folder / f".{name}.new", folder / name)
    failed = dict(analysis.grades)[scale.fail]
    return GradeResult(folder, list(texts), analysis.count, len(results.absent), analysis.mean, scale.total, failed,
                       out.warnings)


@dataclass(frozen=True)
class VerifyResult:
    seeds: int  # variants checked: the exam's own and the seeds
    distinct: dict[int, int]  # problem number -> its distinct variants among them
    built: tuple[str, ...]  # the exam's variants built in full, whose solution PDFs state their keys
    warnings: list[str]


VARIANTS_PER_TASK = 50  # variants a worker checks per task: progress, little overhead


def verify(target: Target, seeds: int, progress: Progress | None = None) -> VerifyResult:
    """`examgen verify` (docs/variants.md): the exam's variants and seeds 1 to ``seeds`` computed (a
    child per core, each running its share of the variants) and checked (a process per core, forked
    with the computed variants); then the exam's own variants built, each solution PDF read for its
    key's numbers. Every failure is reported once with the seeds it happened for (exit 9)."""

    from .stages.compute import compute_variants
    from .variants import variant_of
    from .verify import Finding, Verdict, adopt, see_some

    out = Collector()
    theme = target.project.theme()
    exam = read_exam(target, theme, out)
    if exam.variants is None:
        raise SourceError("the exam has no 'variants': every build is the same exam, which `examgen check` "
                          "checks (docs/variants.md)", exam.loc)
    labels = tuple(dict.fromkeys((*exam.variants.labels, *map(str, range(1, seeds + 1)))))
    size = -(-len(labels) // CORES)
    shares = [labels[at:at + size] for at in range(0, len(labels), size)]
    collectors = [Collector() for _ in shares]
    with ThreadPoolExecutor(max_workers=CORES) as threads:
        computed = [variant for share in threads.map(compute_variants, [exam] * len(shares), shares, collectors)
                    for variant in share if variant is not None]
    verdict = Verdict()
    for error in (error for collector in collectors for error in collector.errors):
        context, label = variant_of(error.context)
        verdict.fail(Finding(error.message, error.loc, context), label or "")
    stopping.current().check()
    with ProcessPoolExecutor(CORES, mp_context=multiprocessing.get_context("fork"), initializer=adopt,
                             initargs=(computed, theme)) as pool:
        tasks = [pool.submit(see_some, at, at + VARIANTS_PER_TASK)
                 for at in range(0, len(computed), VARIANTS_PER_TASK)]
        seen: dict = {}
        for task in tasks:
            variants, problems = _result(task)
            seen.update(problems)
            for variant in variants:
                verdict.add(variant, seen)
            stopping.current().check()
            if progress:
                progress(len(verdict.labels), len(computed))
    verdict.labels = list(labels)
    errors = verdict.errors()
    for _, part in exam.parts():
        skewed = verdict.skewed(part)
        if isinstance(skewed, ExamgenError):
            errors.append(skewed)
        elif skewed:
            out.warn(skewed, part.loc, part.context)
        if constant := verdict.constant(part):
            out.warn(constant, part.loc, part.context)
    if errors:
        raise errors[0] if len(errors) == 1 else ErrorGroup(errors)
    built = build(target)
    missing = _unstated(exam, built, theme, out)
    if missing:
        raise missing[0] if len(missing) == 1 else ErrorGroup(missing)
    distinct = {number: len(digests) for number, digests in sorted(verdict.distinct.items())}
    return VerifyResult(len(labels), distinct, built_variants(exam), list(dict.fromkeys(built.warnings + out.warnings)))


def _unstated(exam: Exam[Text], built: BuildResult, theme: Theme, out: Collector) -> list[ExamgenError]:
    """Each built variant's solution PDF against its key: every number the key states must show."""
    from .errors import VerifyError
    from .stages.check import read_pdf, unstated
    from .variants import in_variant

    missing: list[ExamgenError] = []
    for label, rendered in render_all(exam, theme, out).items():
        assert label is not None
        pdf = read_pdf(built.out_dir / label / "solution.pdf")
        missing += [VerifyError(message, part.loc, in_variant(part.context, label))
                    for part, message in unstated(rendered, pdf)]
    return missing
