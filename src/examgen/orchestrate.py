"""The orchestrator: what several commands share. It runs the stages and the writers, and owns
every thread and worker process a command starts.

load -> validate -> compute (while the texts' templates compile) -> render -> the writers (the two
views, each rendered, compiled and read back, and the key, all at once). Each command (commands/)
puts these together: a build checks and installs what the writers made, copies stamp the built
student PDF, exports and grading start from the rendered exam.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import stopping
from .errors import Collector, CompileError, ErrorGroup, ExamgenError, StrictWarning
from .model.rendered import RenderedExam
from .model.source import Exam, Text
from .outputs import writing
from .project import Target
from .theme import Theme
from .writers import Context, Product, Rendered, Writer

if TYPE_CHECKING:
    from .figures import Placed

CORES = len(os.sched_getaffinity(0))  # the cores this process may run on: figure batches, workers, exams at once
WRITERS_AT_ONCE = 2 * CORES + 1  # the views' LaTeX runs, two per core (one waits on the disk), and the key
T = TypeVar("T")


def read_exam(target: Target, theme: Theme, out: Collector) -> Exam[Text]:
    """Load and validate: the exam's records, no Python run yet."""
    from .stages.load import load
    from .stages.validate import validate

    target.check_path()
    target.confine()
    return validate(load(target.exam_file), target.id, out, theme.languages())


def each_variant(labels: Iterable[str | None], work: Callable[[str | None, Collector], T],
                 out: Collector) -> dict[str | None, T]:
    """``work`` for each variant (or once, for None); its errors raised together after all ran, each
    once, naming the variants it happened in unless it happened in all (the theme's, say); its
    warnings, once each, into ``out``."""
    done: dict[str | None, T] = {}
    failed: list[tuple[ExamgenError, str | None]] = []
    labels = list(labels)
    for label in labels:
        own = Collector()
        try:
            done[label] = work(label, own)
        except ExamgenError as exc:
            failed += [(problem, label) for problem in exc.problems]
        out.noted(own.warnings)
    if failed:
        raise ErrorGroup.of(once_each(failed, labels))
    return done


def once_each(found: Iterable[tuple[ExamgenError, str | None]], labels: Sequence[str | None]) -> list[ExamgenError]:
    """Each problem once (errors alike but for their variant are one), naming the variants it happened
    in (``found``: each error with its variant's label) unless it happened in every one of ``labels``
    (the theme's, say, or a block that fails whatever it draws)."""
    where: dict[tuple, tuple[ExamgenError, dict[str | None, bool]]] = {}
    for problem, label in found:
        where.setdefault(problem.identity, (problem, {}))[1][label] = True
    for problem, seen in where.values():
        named = None not in seen and len(seen) < len(labels)
        problem.variants = tuple(label for label in seen if label is not None) if named else ()
    return [problem for problem, _ in where.values()]


def render_all(exam: Exam[Text], theme: Theme, out: Collector, labels: tuple[str, ...] = (),
               work: Path | None = None) -> Rendered:
    """The exam rendered (by None), or every variant it is built in, or those ``labels`` name (by label;
    docs/variants.md): their compute blocks run in one child while the texts' templates compile (that
    needs no values), then each variant's texts are rendered, and the variants a build prints held apart.
    A build passes its work folder: blocks whose inputs did not change don't run again, texts that did
    not change are not compiled again."""
    from .stages.compute import compute_variants
    from .stages.render import precompile, render_texts
    from .variants import printed_apart

    printed = not labels and exam.variants is not None and not exam.variants.per_copy
    labels = labels or built_variants(exam)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the compute child works while Jinja compiles
        computing = pool.submit(compute_variants, exam, labels, out, work / "compute.json" if work else None)
        precompile(exam, theme, work / "texts.marshal" if work else None)
        computed = {variant.variant: variant for variant in computing.result() if variant is not None}
    out.errors = once_each(((error, error.variants[0] if error.variants else None) for error in out.errors),
                           labels or (None,))
    out.raise_if_any()
    rendered = each_variant(computed, lambda label, own: render_texts(computed[label], theme, own), out)
    if printed:  # the variants a build prints: no two alike (docs/variants.md)
        printed_apart(exam, {str(label): variant for label, variant in rendered.items()}, out)
        out.raise_if_any()
    return rendered


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


def run_writers(rendered: Rendered, context: Context, failed: list[ExamgenError],
                chosen: tuple[Writer, ...]) -> dict[str, Product]:
    """The writers at once (with variants, two LaTeX runs per core and the key; a writer that starts
    from another's work once that one is done, if that one is among them); their failures are raised
    together with those before them (``failed``: the figures'), an error both views meet once."""
    names = {writer.name for writer in chosen}
    with ThreadPoolExecutor(max_workers=min(len(chosen), WRITERS_AT_ONCE)) as pool:
        futures = {writer.name: pool.submit(writer.write, rendered, context)
                   for writer in chosen if writer.after not in names}
        wait([futures[writer.after] for writer in chosen if writer.after in names])  # the writers they start from
        futures.update({writer.name: pool.submit(writer.write, rendered, context)
                        for writer in chosen if writer.after in names})
    products: dict[str, Product] = {}
    for name, future in futures.items():
        try:
            products[name] = future.result()
        except (CompileError, ErrorGroup) as exc:
            failed = [*failed, *exc.problems]
    errors: dict[tuple, ExamgenError] = {}
    for problem in failed:  # "... in the student view, line 80" and "... solution view, line 81"
        errors.setdefault(problem.identity, problem)
    if errors:
        raise ErrorGroup.of(list(errors.values()))
    return products


def fail_on_warnings(warnings: Sequence[str]) -> None:
    """Under --strict, the warnings as errors."""
    if warnings:
        raise ErrorGroup.of([StrictWarning(f"{warning} (an error under --strict)") for warning in warnings])


def worker_processes(count: int, initializer: Callable[..., object] | None = None,
                     initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """Worker processes forked from this one (they inherit what it holds and import nothing), once
    none of examgen's threads runs: a fork copies no running thread, so one that held a lock would
    hold it in the child for ever. Call it before starting threads of one's own."""
    from .sandbox.jinja import idle

    idle()
    return ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"), initializer=initializer,
                               initargs=initargs)


def worker_result(future: Future[T]) -> T:
    """A worker's result; a worker a stop ended is the stop (Interrupted), not a broken pool."""
    try:
        return future.result()
    except BrokenProcessPool:
        stopping.current().check()
        raise
