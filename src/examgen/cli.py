"""The command line: parses, calls a command's module (commands/) and prints; exit codes are in the README."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

import click

from .exports import EXPORTERS

INTERNAL_ERROR = 70
BROKEN_PIPE = 128 + signal.SIGPIPE  # what a shell reports for a tool whose reader left
READING_COPIES = [name for name, exporter in EXPORTERS.items() if exporter.reads_copies]


def _run(ctx: click.Context, action) -> None:
    """Run an action (SIGINT and SIGTERM stop it); errors become one clear message and an exit code
    (tracebacks under --debug)."""
    from .errors import ExamgenError
    from .stopping import stop_on_signals

    try:
        with stop_on_signals():
            action()
    except ExamgenError as exc:
        if ctx.obj["debug"]:
            traceback.print_exc()
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        ctx.exit(exc.exit_code)
    except BrokenPipeError:  # `examgen list | head -1`: the reader has what it wanted; stop quietly, as `ls` does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        ctx.exit(BROKEN_PIPE)
    except (KeyboardInterrupt, click.ClickException, click.exceptions.Exit):
        raise  # click reports usage mistakes itself (exit 2)
    except Exception as exc:  # noqa: BLE001 - a bug in examgen, reported without a traceback
        if ctx.obj["debug"]:
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        ctx.exit(INTERNAL_ERROR)


def _output_folder(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """--out names a folder: an empty name would be the current folder, which no one means."""
    if value == "":
        raise click.BadParameter("names no folder (an empty path)", ctx, param)
    return None if value is None else Path(value)


def _counted(number: float, noun: str, plural: str | None = None) -> str:
    """``1 problem``, ``2 problems``, ``0.5 credits``, ``3 copies``."""
    return f"{number:g} {noun if number == 1 else plural or noun + 's'}"


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(warning, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks with errors.")
@click.version_option(package_name="examgen")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """examgen: exams from YAML sources to student and sample-solution PDFs."""
    ctx.obj = {"debug": debug}


@main.command()
@click.argument("exams", nargs=-1)
@click.option("--all", "build_all", is_flag=True, help="Build every exam under exams/.")
@click.option("--out", type=click.Path(file_okay=False), callback=_output_folder,
              help="Output folder (default build/<id>/), made a link to the latest outputs.")
@click.option("--force", is_flag=True, help="Compile even if nothing changed.")
@click.option("--strict", is_flag=True, help="Fail on warnings, installing nothing (for CI).")
@click.pass_context
def build(ctx: click.Context, exams: tuple[str, ...], build_all: bool, out: Path | None, force: bool,
          strict: bool) -> None:
    """Build student.pdf, solution.pdf and key.json for EXAMS (ids or paths)."""

    def action() -> None:
        from .commands.build import build_many
        from .errors import ErrorGroup, ExamgenError, briefly
        from .orchestrate import built_variants
        from .project import Project
        from .writers import output_names

        project = Project(Path.cwd())
        targets = project.targets() if build_all else [project.resolve(name) for name in exams]
        if not targets:
            raise click.UsageError("name an exam (or several), or use --all")
        if out and len(targets) > 1:
            raise click.UsageError("--out takes a single exam")
        failures: list[ExamgenError] = []
        for result in build_many(targets, out, force, strict):
            if isinstance(result, ExamgenError):
                failures.extend(result.problems)
                continue
            _warn(result.warnings)
            exam = result.exam
            files = briefly(output_names(built_variants(exam)))
            click.echo(f"{result.target.id}: {result.state} -> {os.path.relpath(result.out_dir)}/ ({files}; "
                       f"{_counted(len(exam.problems), 'problem')}, {_counted(exam.total_points, 'credit')})")
        if failures:
            raise ErrorGroup.of(failures)

    _run(ctx, action)


class _Progress:
    """Things done (copies, variants), rate and time left, redrawn on one terminal line; made only
    for a terminal (CI logs get none)."""

    def __init__(self, things: str) -> None:
        import time

        self.things = things
        self.clock = time.monotonic
        self.start = self.clock()
        self.shown = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.shown < 0.2 and done < total:
            return
        self.shown = now
        rate = done / max(now - self.start, 1e-9)
        click.echo(f"\r  {self.things} {done}/{total}, {rate:.0f}/s, {(total - done) / rate:.0f} s left ",
                   err=True, nl=done == total)


@main.command()
@click.argument("exam")
@click.option("--count", type=click.IntRange(1, 99999), help="Make N copies, with the sticker box on the cover.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path),
              help="Make one named copy per student of a CSV roster (registration, name[, seat, room]).")
@click.option("--out", type=click.Path(file_okay=False), callback=_output_folder,
              help="Folder for the copies (default course/<id>/copies/).")
@click.option("--only", metavar="CODE", help="Write only the copy with this code (byte-identical to --split's).")
@click.option("--split", is_flag=True, help="Also write one PDF per copy.")
@click.option("--solutions", is_flag=True, help="Also write each copy's sample solution, <code>-solution.pdf (with "
              "--only: that copy's).")
@click.option("--variant-by", type=click.Choice(["copy", "seat"]), default="copy", show_default=True,
              help="Variants round-robin in copy order, or in the roster's seat order (neighbours differ).")
@click.option("--order", type=click.Choice(["roster", "seat"]), default="roster", show_default=True,
              help="Number and print the copies in the roster's order, or room by room in seat order.")
@click.pass_context
def copies(ctx: click.Context, exam: str, count: int | None, roster: Path | None, out: Path | None,
           only: str | None, split: bool, solutions: bool, variant_by: str, order: str) -> None:
    """Per-student copies of EXAM: print.pdf, manifest.json, layout.json (docs/copies.md)."""
    if (count is None) == (roster is None):
        raise click.UsageError("give either --count N or --roster FILE")

    def action() -> None:
        from .commands.copies import CopiesRequest, make_copies
        from .project import Project

        target = Project(Path.cwd()).resolve(exam)
        progress = _Progress("copies") if sys.stderr.isatty() else None
        result = make_copies(target, CopiesRequest(count, roster, out, only, split, variant_by == "seat",
                                                         order == "seat", solutions), progress)
        _warn(result.warnings)
        shown = ", ".join(result.files[:3]) + (f" and {len(result.files) - 3} more" if len(result.files) > 3 else "")
        click.echo(f"{target.id}: {_counted(result.copies, 'copy', 'copies')} of {_counted(result.pages, 'page')} "
                   f"-> {os.path.relpath(result.out_dir)}/ ({shown})")

    _run(ctx, action)


@main.command()
@click.argument("exam")
@click.option("--seeds", type=click.IntRange(1, 100000), default=1000, show_default=True,
              help="Check this many seeds besides the exam's own variants.")
@click.option("--layouts", type=click.IntRange(0, 1000), default=20, show_default=True,
              help="Compile both views of this many seeds, spread over all, and check their layout as a build "
                   "does (0: none).")
@click.pass_context
def verify(ctx: click.Context, exam: str, seeds: int, layouts: int) -> None:
    """Check EXAM's variants across many seeds, then build its own (docs/variants.md); exit 9 on a failure."""

    def action() -> None:
        from .commands.verify import verify as verify_exam
        from .errors import briefly
        from .project import Project

        target = Project(Path.cwd()).resolve(exam)
        result = verify_exam(target, seeds, _Progress("variants") if sys.stderr.isatty() else None, layouts)
        _warn(result.warnings)
        distinct = ", ".join(f"problem {number}: {count}" for number, count in result.distinct.items())
        laid_out = f"; laid out seeds {briefly(result.laid_out)}" if result.laid_out else ""
        click.echo(f"{target.id}: {result.seeds} variants verified (distinct per problem: {distinct}); built and "
                   f"checked {', '.join(result.built)}{laid_out}")
        for line in result.right:
            click.echo(f"  {line}")

    _run(ctx, action)


def _thresholds(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple:
    """--thresholds 1.0=95%,1.3=90%,...,4.0=50%: read here, so a typo is a usage error."""
    from .grading.scale import parse_thresholds

    try:
        return parse_thresholds(value) if value else ()
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@main.command()
@click.argument("exam")
@click.argument("marks", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--crosses", type=click.Path(dir_okay=False, path_type=Path),
              help="A scanner's crosses (code,part,crossed) for the multiple-choice parts.")
@click.option("--thresholds", callback=_thresholds, metavar="GRADE=LEAST,...",
              help="Grade thresholds instead of the exam's, best grade first; LEAST in points or as N%.")
@click.option("--copies", type=click.Path(file_okay=False, path_type=Path),
              help="The copies' folder with manifest.json (default course/<id>/copies/).")
@click.option("--out", type=click.Path(file_okay=False), callback=_output_folder,
              help="Folder for results.csv, grades.csv, report.html (default course/<id>/grading/; with "
                   "--thresholds, course/<id>/grading-what-if/).")
@click.pass_context
def grade(ctx: click.Context, exam: str, marks: Path, crosses: Path | None, thresholds: tuple, copies: Path | None,
          out: Path | None) -> None:
    """Grade EXAM from a filled-in MARKS sheet: results, grades and an item analysis (docs/grading.md)."""

    def action() -> None:
        from .commands.grade import GradeRequest
        from .commands.grade import grade as grade_exam
        from .project import Project

        target = Project(Path.cwd()).resolve(exam)
        result = grade_exam(target, GradeRequest(marks, crosses, thresholds, copies, out))
        _warn(result.warnings)
        click.echo(f"{target.id}: {_counted(result.graded, 'copy', 'copies')} graded ({result.absent} absent), mean "
                   f"{result.mean:.1f} of {result.total:g} points, {result.failed} failed "
                   f"-> {os.path.relpath(result.out_dir)}/ ({', '.join(result.files)})")

    _run(ctx, action)


@main.command()
@click.argument("exam")
@click.argument("scans", nargs=-1, type=click.Path(path_type=Path))
@click.option("--copies", type=click.Path(file_okay=False, path_type=Path),
              help="The printed copies' folder (default course/<id>/copies/).")
@click.option("--out", type=click.Path(file_okay=False), callback=_output_folder,
              help="The scan's folder, which keeps every bundle given to it (default course/<id>/scans/).")
@click.option("--students", type=click.Path(dir_okay=False, path_type=Path),
              help="A CSV of code,registration (and name): who wrote the copies made with --count.")
@click.option("--review", is_flag=True,
              help="Then serve the review page on 127.0.0.1, each decision saved to decisions.csv at once.")
@click.option("--port", default=8766, show_default=True, type=click.IntRange(0, 65535),
              help="The review's port on 127.0.0.1 (0: any free one).")
@click.pass_context
def scan(ctx: click.Context, exam: str, scans: tuple[Path, ...], copies: Path | None, out: Path | None,
         students: Path | None, review: bool, port: int) -> None:
    """Read scanned copies of EXAM (PDFs or images; added to the earlier ones): crosses.csv and marks.csv for
    `examgen grade`, pages.csv, flags.csv, the answers cut out and review.html (docs/scanning.md)."""

    def action() -> None:
        from .commands.scan import ScanRequest
        from .commands.scan import scan as scan_copies
        from .project import Project

        target = Project(Path.cwd()).resolve(exam)
        progress = _Progress("pages") if sys.stderr.isatty() else None
        result = scan_copies(target, ScanRequest(scans, copies, out, students), progress)
        _warn(result.warnings)
        shown = os.path.relpath(result.out_dir)
        click.echo(f"{target.id}: {_counted(result.pages, 'page')} in {_counted(result.bundles, 'bundle')} "
                   f"({result.pages_read_now} read now), {_counted(result.copies, 'copy', 'copies')}; "
                   f"{result.unknown} unknown, {result.duplicates} duplicates, {result.foreign} foreign, "
                   f"{result.incomplete} copies with pages missing; {_counted(result.flags, 'part')} to review"
                   f"{f' ({result.decided} decided)' if result.decided else ''} -> {shown}/ "
                   f"({', '.join(result.files)})")
        if not review and (result.flags or result.unknown):
            click.echo(f"  review: `examgen scan {target.id} --review` (or open {shown}/review.html); the next "
                       f"`examgen scan {target.id}` applies the decisions")
        if review:
            import time

            from .serve.review import serve_review

            def rescan():
                return scan_copies(target, ScanRequest((), copies, out, students)).review

            def until_stopped() -> None:
                while True:
                    time.sleep(3600)

            announce = lambda url: click.echo(f"{target.id}: review at {url} (Ctrl-C stops)")
            _until_stopped(lambda: serve_review(result.review, rescan, port, announce, until_stopped))

    _run(ctx, action)


@main.command("return")
@click.argument("exam")
@click.option("--copies", type=click.Path(file_okay=False, path_type=Path),
              help="The printed copies' folder (default course/<id>/copies/).")
@click.option("--scan", "scan_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The scan's folder (default course/<id>/scans/).")
@click.option("--grading", type=click.Path(file_okay=False, path_type=Path),
              help="The folder of `examgen grade`'s results.csv (default course/<id>/grading/).")
@click.option("--out", type=click.Path(file_okay=False), callback=_output_folder,
              help="Folder for the returned copies and publish.html (default course/<id>/returned/).")
@click.pass_context
def return_(ctx: click.Context, exam: str, copies: Path | None, scan_dir: Path | None, grading: Path | None,
            out: Path | None) -> None:
    """Every graded student's marked copy of EXAM as a PDF: the scanned pages with points, notes and the
    graders' annotations, and a first page with points, total and grade (docs/marking.md)."""

    def action() -> None:
        from .commands.returned import PUBLISH, ReturnRequest, return_copies
        from .project import Project

        target = Project(Path.cwd()).resolve(exam)
        result = return_copies(target, ReturnRequest(copies, scan_dir, grading, out))
        _warn(result.warnings)
        click.echo(f"{target.id}: {_counted(result.returned, 'copy', 'copies')} returned "
                   f"({_counted(result.pages, 'scanned page')}, {result.incomplete} with pages not scanned, "
                   f"{_counted(result.on_screen, 'part')} marked on screen; {result.not_returned} absent) -> "
                   f"{os.path.relpath(result.out_dir)}/ (one PDF per copy; {PUBLISH} says which goes to whom)")

    _run(ctx, action)


@main.command()
@click.argument("exam")
@click.option("--scan", "scan_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The scan's folder (default course/<id>/scans/); the store is its marking.sqlite.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address graders' browsers use (a lab network's); requests for any other are refused.")
@click.option("--port", default=8766, show_default=True, type=click.IntRange(0, 65535),
              help="The port (0: any free one).")
@click.option("--add-grader", metavar="NAME", help="Add an account (or set its password), the password read "
              "from standard input, or asked for twice on a terminal; then stop.")
@click.option("--examiner", is_flag=True, help="With --add-grader: the account is the examiner's.")
@click.option("--remove-grader", metavar="NAME", help="Remove an account (its marks stay, under its name); then stop.")
@click.option("--export", "export_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the marks sheet `examgen grade` reads (paper and screen marks merged); then stop.")
@click.pass_context
def mark(ctx: click.Context, exam: str, scan_dir: Path | None, host: str, port: int, add_grader: str | None,
         examiner: bool, remove_grader: str | None, export_file: Path | None) -> None:
    """Mark EXAM's scanned answers on screen, a team of graders at once (docs/marking.md)."""
    if examiner and not add_grader:
        raise click.UsageError("--examiner goes with --add-grader NAME")
    if sum(map(bool, (add_grader, remove_grader, export_file))) > 1:
        raise click.UsageError("--add-grader, --remove-grader and --export are separate runs")

    def action() -> None:
        from .commands import mark as marking
        from .project import Project

        target = Project(Path.cwd()).resolve(exam)
        if add_grader:
            password = _new_password()
            store = marking.add_grader(target, scan_dir, add_grader, password, examiner)
            click.echo(f"{target.id}: {'examiner' if examiner else 'grader'} {add_grader} -> {os.path.relpath(store)}")
        elif remove_grader:
            store = marking.remove_grader(target, scan_dir, remove_grader)
            click.echo(f"{target.id}: {remove_grader} removed from {os.path.relpath(store)}")
        elif export_file:
            result = marking.export_marks(target, scan_dir, export_file)
            for conflict in result.conflicts:
                click.echo(f"warning: conflict: {conflict}: the cell is left empty; mark it again on screen or "
                           "correct the paper's boxes", err=True)
            for flag in result.flagged:
                click.echo(f"warning: flagged without points: {flag}", err=True)
            click.echo(f"{target.id}: marks of {_counted(result.copies, 'copy', 'copies')}, "
                       f"{_counted(result.screen, 'part')} from the screen, {len(result.conflicts)} conflicts -> "
                       f"{os.path.relpath(result.path)}")
        else:
            from .markserver.server import serve as run

            opened = marking.open_marking(target, scan_dir)
            announce = lambda url: click.echo(f"{target.id}: marking at {url} (Ctrl-C stops)", nl=True)
            _until_stopped(lambda: run(opened, host, port, announce))

    _run(ctx, action)


def _new_password() -> str:
    """A password from standard input (its first line), or typed twice on a terminal."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@main.command()
@click.argument("exam")
@click.option("--format", "format_", required=True, type=click.Choice(list(EXPORTERS)),
              help="; ".join(f"{exporter.name}: {exporter.about}" for exporter in EXPORTERS.values()) + ".")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (default course/<id>/" + ", ".join(e.file for e in EXPORTERS.values()) + ").")
@click.option("--copies", "copies_dir", type=click.Path(file_okay=False, path_type=Path),
              help=", ".join(READING_COPIES) + ": the folder of an `examgen copies` run (default course/<id>/copies/).")
@click.pass_context
def export(ctx: click.Context, exam: str, format_: str, out: Path | None, copies_dir: Path | None) -> None:
    """Export EXAM, built first if needed, for another platform (docs/exports.md)."""
    if copies_dir is not None and format_ not in READING_COPIES:
        raise click.UsageError(f"--copies is for --format {' and '.join(READING_COPIES)}")

    def action() -> None:
        from .commands.export import ExportRequest, export
        from .project import Project

        target = Project(Path.cwd()).resolve(exam)
        result = export(target, ExportRequest(format_, out, copies_dir))
        _warn(result.warnings)
        click.echo(f"{target.id}: {format_} ({result.items} {EXPORTERS[format_].counts}) "
                   f"-> {os.path.relpath(result.path)}")

    _run(ctx, action)


@main.command()
@click.argument("exam")
@click.option("--strict", is_flag=True, help="Fail on warnings (for CI).")
@click.pass_context
def check(ctx: click.Context, exam: str, strict: bool) -> None:
    """Load, validate and compute EXAM without LaTeX: every problem of the source, and its warnings."""

    def action() -> None:
        from .commands.check import check_source
        from .errors import Collector
        from .project import Project

        out = Collector()
        result = check_source(Project(Path.cwd()).resolve(exam), out, strict)
        _warn(out.warnings)
        parts = sum(len(p.parts) for p in result.problems)
        click.echo(f"{result.id}: ok ({_counted(len(result.problems), 'problem')}, {_counted(parts, 'part')}, "
                   f"{_counted(result.total_points, 'credit')})")

    _run(ctx, action)


@main.command(name="list")
@click.pass_context
def list_exams(ctx: click.Context) -> None:
    """List the exams with their problems and credits."""

    def action() -> None:
        from .errors import Collector, ExamgenError
        from .orchestrate import read_exam
        from .project import Project

        project = Project(Path.cwd())
        theme = project.theme()  # a theme examgen cannot use is no exam's fault
        for target in project.targets():
            try:
                exam = read_exam(target, theme, Collector())
            except ExamgenError as exc:
                click.echo(f"{target.shown_id}: invalid ({_counted(len(exc.problems), 'problem')}; "
                           f"run `examgen check {target.shown_id}`)")
                continue
            meta = exam.meta
            click.echo(f"{target.id}: {meta.course} ({meta.course_number} {meta.kind}, {meta.code}, {meta.date}) "
                       f"- {_counted(len(exam.problems), 'problem')}, {_counted(exam.total_points, 'credit')}")
            for problem in exam.problems:
                click.echo(f"  {problem.number}. {problem.title.source} ({_counted(problem.credits, 'credit')}, "
                           f"{_counted(len(problem.parts), 'part')})")

    _run(ctx, action)


def _reporters(exam_id: str):
    """What the watch loop tells the terminal: which files changed, how each build went."""
    from .serve.loop import Outcome

    def building(changed: list[Path]) -> None:
        if changed:
            names = ", ".join(os.path.relpath(path) for path in changed[:3]) + (", ..." if len(changed) > 3 else "")
            click.echo(f"{exam_id}: {names} changed, building")

    def built(outcome: Outcome) -> None:
        if outcome.result is None:
            for error in outcome.errors:
                click.echo(f"error: {error}", err=True)
            click.echo(f"{exam_id}: failed after {outcome.seconds:.1f} s; the outputs are the last good ones")
            return
        _warn(outcome.result.warnings)
        click.echo(f"{exam_id}: {outcome.result.state} in {outcome.seconds:.1f} s -> "
                   f"{os.path.relpath(outcome.result.out_dir)}/")

    return building, built


def _until_stopped(loop) -> None:
    """Run a loop that ends only by Ctrl-C (or SIGTERM): that is its normal end, exit 0."""
    from .errors import Interrupted

    try:
        loop()
    except (KeyboardInterrupt, Interrupted):
        click.echo("stopped")


@main.command()
@click.argument("exam")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="The port on 127.0.0.1 (0: any free one).")
@click.pass_context
def serve(ctx: click.Context, exam: str, port: int) -> None:
    """Show EXAM's pages in a browser, student and solution side by side, rebuilt on every save."""

    def action() -> None:
        from .project import Project
        from .serve.server import serve as run

        target = Project(Path.cwd()).resolve(exam)
        announce = lambda url: click.echo(f"{target.id}: preview at {url} (Ctrl-C stops)")
        _until_stopped(lambda: run(target, port, announce, *_reporters(target.id)))

    _run(ctx, action)


@main.command()
@click.argument("exam")
@click.pass_context
def watch(ctx: click.Context, exam: str) -> None:
    """Rebuild EXAM on every save (the PDFs are replaced at once: a PDF viewer may keep them open)."""

    def action() -> None:
        from .project import Project
        from .serve.loop import rebuild_on_change

        target = Project(Path.cwd()).resolve(exam)
        click.echo(f"{target.id}: watching its sources, helper modules and templates (Ctrl-C stops)")
        _until_stopped(lambda: rebuild_on_change(target, *_reporters(target.id)))

    _run(ctx, action)


@main.command()
@click.option("--included", is_flag=True, help="The schema of an included file (a problem, a part, a list).")
@click.pass_context
def schema(ctx: click.Context, included: bool) -> None:
    """Print the JSON Schema of exam.yaml (or of an included file), for editors."""

    def action() -> None:
        from .schema import schema_text

        click.echo(schema_text(included), nl=False)

    _run(ctx, action)


@main.command()
@click.argument("exam_id")
@click.option("--language", default="en", show_default=True, help="The theme's language for the exam.")
@click.pass_context
def new(ctx: click.Context, exam_id: str, language: str) -> None:
    """Start exams/EXAM_ID/exam.yaml: a commented minimal exam that builds at once."""

    def action() -> None:
        from .new import new_exam
        from .project import Project

        exam_file = new_exam(Project(Path.cwd()), exam_id, language)
        click.echo(f"{exam_id}: created {os.path.relpath(exam_file)}; `examgen serve {exam_id}` shows its pages "
                   f"as you edit, `examgen build {exam_id}` writes the PDFs")

    _run(ctx, action)


if __name__ == "__main__":
    sys.exit(main())
