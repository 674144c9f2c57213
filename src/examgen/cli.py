"""The command line: a thin layer over the orchestrator. Exit codes are in the README."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

INTERNAL_ERROR = 70


def _run(ctx: click.Context, action) -> None:
    """Run an action; errors become one clear message and an exit code (tracebacks under --debug)."""
    from .errors import ExamgenError

    try:
        action()
    except ExamgenError as exc:
        if ctx.obj["debug"]:
            traceback.print_exc()
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        ctx.exit(exc.exit_code)
    except (KeyboardInterrupt, click.ClickException, click.exceptions.Exit):
        raise  # click reports usage mistakes itself (exit 2)
    except Exception as exc:  # noqa: BLE001 - a bug in examgen, reported without a traceback
        if ctx.obj["debug"]:
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        ctx.exit(INTERNAL_ERROR)


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
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default build/<id>/).")
@click.option("--force", is_flag=True, help="Compile even if nothing changed.")
@click.pass_context
def build(ctx: click.Context, exams: tuple[str, ...], build_all: bool, out: Path | None, force: bool) -> None:
    """Build student.pdf, solution.pdf and key.json for EXAMS (ids or paths)."""

    def action() -> None:
        from .errors import ErrorGroup, ExamgenError
        from .orchestrate import build_many, output_names
        from .project import Project

        project = Project(Path.cwd())
        targets = project.targets() if build_all else [project.resolve(name) for name in exams]
        if not targets:
            raise click.UsageError("name an exam (or several), or use --all")
        if out and len(targets) > 1:
            raise click.UsageError("--out takes a single exam")
        failures: list[ExamgenError] = []
        for result in build_many(targets, out, force):
            if isinstance(result, ExamgenError):
                failures.extend(result.problems)
                continue
            _warn(result.warnings)
            exam = result.exam
            state = "built" if result.compiled else "up to date"
            files = ", ".join(output_names())
            click.echo(f"{result.target.id}: {state} -> {os.path.relpath(result.out_dir)}/ ({files}; "
                       f"{len(exam.problems)} problems, {exam.total_points:g} credits)")
        if failures:
            raise ErrorGroup(failures) if len(failures) > 1 else failures[0]

    _run(ctx, action)


@main.command()
@click.argument("exam")
@click.pass_context
def check(ctx: click.Context, exam: str) -> None:
    """Load, validate and compute EXAM without LaTeX."""

    def action() -> None:
        from .errors import Collector
        from .orchestrate import prepare
        from .project import Project

        out = Collector()
        result = prepare(Project(Path.cwd()).resolve(exam), out).exam
        _warn(out.warnings)
        parts = sum(len(p.parts) for p in result.problems)
        click.echo(f"{result.id}: ok ({len(result.problems)} problems, {parts} parts, {result.total_points:g} credits)")

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
        for target in project.targets():
            try:
                exam = read_exam(target, project.theme(), Collector())
            except ExamgenError as exc:
                click.echo(f"{target.id}: invalid ({len(exc.problems)} problems; run `examgen check {target.id}`)")
                continue
            meta = exam.meta
            click.echo(f"{target.id}: {meta.course} ({meta.course_number} {meta.kind}, {meta.code}, {meta.date}) "
                       f"- {len(exam.problems)} problems, {exam.total_points:g} credits")
            for problem in exam.problems:
                click.echo(f"  {problem.number}. {problem.title.source} ({problem.credits:g} credits, "
                           f"{len(problem.parts)} parts)")

    _run(ctx, action)


if __name__ == "__main__":
    sys.exit(main())
