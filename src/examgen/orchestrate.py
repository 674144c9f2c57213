"""The orchestrator: runs the stages and the writers, and owns all concurrency.

load -> validate -> compute (while the texts' templates compile) -> render -> the
writers (the two views, each rendered, compiled and read back, and the key, all at
once) -> check -> install. Everything is validated and computed before anything is
written. Outputs are made in ``build/.work/<id>/`` and installed as one set only after
every check passed (outputs.py), so a failed build leaves the last good outputs
untouched. SIGINT and SIGTERM stop a run at once (stopping.py).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import stopping
from .cache import Record, source_digest
from .errors import Collector, CompileError, ErrorGroup, ExamgenError, StrictWarning
from .model.rendered import RenderedExam
from .model.source import Exam, Text
from .outputs import OutputFolder, writing
from .project import Target
from .theme import Theme
from .writers import Context, Product, output_names, writers

if TYPE_CHECKING:
    from .stages.check import Overflow

EXAMS_AT_ONCE = 2  # CI's two cores
VIEW_NAMES = re.compile(r"the (?:student|solution) view")


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


def render(exam: Exam[Text], theme: Theme, out: Collector) -> RenderedExam:
    """Compute (the texts' templates compile meanwhile: that needs no values), then render."""
    from .stages.compute import compute
    from .stages.render import precompile, render_texts

    with ThreadPoolExecutor(max_workers=1) as pool:  # the compute child works while Jinja compiles
        computing = pool.submit(compute, exam, out)
        precompile(exam, theme)
        computed = computing.result()
    return render_texts(computed, theme, out)


def prepare(target: Target, out: Collector) -> RenderedExam:
    """Everything that needs no LaTeX: load, validate, compute, render the texts."""
    theme = target.project.theme()
    return render(read_exam(target, theme, out), theme, out)


def check_source(target: Target, out: Collector, strict: bool = False) -> Exam[str]:
    """``examgen check``: everything up to LaTeX; under ``strict`` a warning is an error."""
    rendered = prepare(target, out).exam
    if strict:
        _strict(out.warnings)
    return rendered


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


def _run_writers(rendered: RenderedExam, context: Context) -> dict[str, Product]:
    """Every writer at once; their failures are raised together, an error both views meet once."""
    chosen = writers()
    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        futures = {writer.name: pool.submit(writer.write, rendered, context) for writer in chosen}
    products: dict[str, Product] = {}
    errors: dict[tuple, ExamgenError] = {}
    for name, future in futures.items():
        try:
            products[name] = future.result()
        except (CompileError, ErrorGroup) as exc:
            for problem in exc.problems:  # "... in the student view, line 80" and "... solution view, line 81"
                same = VIEW_NAMES.sub("the view", problem.message.split("\n")[0])
                errors.setdefault((problem.loc, problem.context, same), problem)
    if errors:
        found = list(errors.values())
        raise found[0] if len(found) == 1 else ErrorGroup(found)
    return products


def _strict(warnings: list[str]) -> None:
    """Under --strict, the warnings as errors."""
    if warnings:
        problems: list[ExamgenError] = [StrictWarning(f"{warning} (an error under --strict)") for warning in warnings]
        raise problems[0] if len(problems) == 1 else ErrorGroup(problems)


def build(target: Target, out_dir: Path | None = None, force: bool = False, strict: bool = False) -> BuildResult:
    """Build one exam's outputs; LaTeX runs only for documents whose inputs changed. Under
    ``strict``, a warning fails the build before anything is installed."""
    from .stages.check import check

    stopping.current().check()
    out = Collector()
    theme = target.project.theme()
    exam = read_exam(target, theme, out)
    output = OutputFolder(out_dir or target.out)
    outputs = {name: output.path / name for name in output_names()}
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
        rendered = render(exam, theme, out)
        stopping.current().check()
        products = _run_writers(rendered, Context(theme, target.work, force, out))
        overflows = _layout_warnings(rendered.exam, {name: p.log for name, p in products.items() if p.log}, out)
        student, solution = products["student"].pdf, products["solution"].pdf
        assert student is not None and solution is not None
        stopping.current().check()
        check(rendered, student, solution, overflows, out)
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
