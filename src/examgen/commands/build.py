"""`examgen build`: an exam's student PDF, sample-solution PDF and key, checked, then installed as one set.

Everything is validated and computed before anything is written. Outputs are made in
``build/.work/<id>/`` and installed only after every check passed (outputs.py), so a failed
build leaves the last good outputs untouched; a build whose inputs did not change runs no
Python and no LaTeX (cache.py). SIGINT and SIGTERM stop it at once (stopping.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import stopping
from ..cache import Record, source_digest
from ..errors import Collector, ExamgenError
from ..model.rendered import VIEWS, RenderedExam
from ..model.source import Exam, Text
from ..orchestrate import (
    CORES,
    built_variants,
    compile_figures,
    each_variant,
    fail_on_warnings,
    read_exam,
    render_all,
    run_writers,
)
from ..outputs import OutputFolder, writing
from ..project import COPIES, MANIFEST, Target
from ..writers import Context, Product, Rendered, output_names, writers

if TYPE_CHECKING:
    from ..stages.check import Overflow

EXAMS_AT_ONCE = CORES


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


def build(target: Target, out_dir: Path | None = None, force: bool = False, strict: bool = False,
          first: str | None = None, early: Callable[[dict[str, Path]], None] | None = None) -> BuildResult:
    """Build one exam's outputs; LaTeX runs only for documents whose inputs changed. Under
    ``strict``, a warning fails the build before anything is installed. With variants, the views of
    variant ``first`` compile before the others and ``early`` gets their PDFs (in the work folder,
    unchecked, not installed): what a preview shows while the rest compile."""
    stopping.current().check()
    out = Collector()
    theme = target.project.theme()
    exam = read_exam(target, theme, out)
    variants = built_variants(exam)
    output = OutputFolder(out_dir or target.out)
    output.refuse_foreign()  # before the build folder's lock: a refused --out leaves nothing behind
    outputs = {name: output.path / name for name in output_names(variants)}
    with writing("the build folder", target.work), stopping.locked(target.work / "lock"):
        if output.path == target.out:
            _adopt_older_copies(target, output)
        output.clean()
        record = Record(target.work / "examgen-inputs.json")
        inputs = source_digest(exam, theme, output.path)
        if not force and record.fresh(inputs, outputs):  # nothing changed: no Python, no LaTeX
            warnings = out.warnings + record.read().get("warnings", [])
            if strict:
                fail_on_warnings(warnings)
            return BuildResult(target, exam, output.path, [], [], warnings)
        stopping.current().check()
        rendered = render_all(exam, theme, out, work=target.work)
        stopping.current().check()
        figures, failed = compile_figures(rendered, target.project.build, theme, force, out)
        stopping.current().check()
        context = Context(theme, target.work, force, out, figures)
        products = _early(rendered, context, failed, variants, first, early) if first in variants and early else {}
        products.update(run_writers(rendered, context, failed,
                                    tuple(writer for writer in writers(variants) if writer.name not in products)))
        stopping.current().check()
        each_variant(rendered, lambda label, own: _check_views(rendered[label], products, own), out)
        if strict:
            fail_on_warnings(out.warnings)
        output.install({name: path for product in products.values() for name, path in product.files.items()})
        record.record(inputs, outputs, out.warnings)
    compiled = [name for name, product in products.items() if product.compiled]
    kept = [name for name, product in products.items() if product.pdf is not None and not product.compiled]
    return BuildResult(target, exam, output.path, compiled, kept, out.warnings)


def _early(rendered: Rendered, context: Context, failed: list[ExamgenError], variants: tuple[str, ...],
           first: str, early: Callable[[dict[str, Path]], None]) -> dict[str, Product]:
    """The views of variant ``first`` compiled, their PDFs handed to ``early``; none if a figure
    failed or they did (the whole build then reports it, with the other variants')."""
    if failed:
        return {}
    try:
        products = run_writers(rendered, context, [], tuple(writer for writer in writers(variants)
                                                                 if writer.name.startswith(f"{first}/")))
    except ExamgenError:
        return {}
    early({name: path for name, product in products.items() for file, path in product.files.items()
           if file.endswith(".pdf")})
    return products


def _adopt_older_copies(target: Target, output: OutputFolder) -> None:
    """Copies an older examgen made inside a set of outputs, which a build replaces and the next one
    removes, moved to the course's records first: the current set's as ``copies`` (unless the records
    hold copies already), any other's beside it, named after its set. Nothing else is moved."""
    for older in (folder / COPIES for folder in output.sets()):
        if (older / MANIFEST).is_file():
            moved = target.copies
            if moved.exists():
                moved = target.course / f"{COPIES}{older.parent.name.removeprefix(output.prefix.rstrip('-'))}"
            moved.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(older, moved)


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


def _check_views(rendered: RenderedExam, products: dict[str, Product], out: Collector) -> None:
    """The checks of one exam's (or variant's) two views (stages/check.py)."""
    from ..stages.check import check  # here: a build that finds nothing changed needs none of it
    from ..stages.positions import read_marks

    views = {view: products[f"{rendered.variant}/{view}" if rendered.variant else view] for view in VIEWS}
    overflows = _layout_warnings(rendered.exam, {view: product.log for view, product in views.items()}, out)
    student, solution = views["student"].pdf, views["solution"].pdf
    assert student is not None and solution is not None
    positions = next(path for name, path in views["student"].files.items() if name.endswith(".pdf"))
    check(rendered, student, solution, overflows, out, read_marks(positions.with_suffix(".pos")))


def _layout_warnings(exam: Exam[str], logs: dict[str, str], out: Collector) -> list[Overflow]:
    """What the templates reported in the LaTeX logs, as warnings naming the part; the
    solutions that overflow their answer space."""
    from ..stages.check import Overflow
    from ..stages.compile import layout_reports

    parts = {part.number: part for _, part in exam.parts()}
    overflows = [Overflow(parts[number], needed, parts[number].answer.space_cm() or 0)
                 for number, needed in layout_reports(logs.get("solution", ""), "overflow")]
    for overflow in overflows:
        out.warn(f"the sample solution does not fit its answer space (needs {overflow.needed_cm:.1f}cm, "
                 f"space is {overflow.space_cm:g}cm)", overflow.part.loc, overflow.part.context)
    for number, height in dict(layout_reports("".join(logs.values()), "tall")).items():
        part = parts[number]
        out.warn(f"the part is {height:.1f}cm tall, more than a page holds: make its answer space smaller",
                 part.loc, part.context)
    return overflows
