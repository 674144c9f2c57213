"""`examgen verify` (docs/variants.md): an exam's variants over many seeds, computed and checked,
then the exam's own variants built and each solution PDF read back for its key's numbers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import stopping
from ..errors import Collector, ErrorGroup, ExamgenError, SourceError
from ..model.source import Exam, Text
from ..orchestrate import CORES, built_variants, read_exam, render_all, worker_processes, worker_result
from ..project import Target
from ..theme import Theme
from .build import BuildResult, build
from .copies import Progress

VARIANTS_PER_TASK = 50  # variants a worker checks per task: progress, little overhead



@dataclass(frozen=True)
class VerifyResult:
    seeds: int  # variants checked: the exam's own and the seeds
    distinct: dict[int, int]  # problem number -> its distinct variants among them
    built: tuple[str, ...]  # the exam's variants built in full, whose solution PDFs state their keys
    warnings: list[str]
    right: list[str]  # for each part whose key is computed, how often each option was correct


def verify(target: Target, seeds: int, progress: Progress | None = None) -> VerifyResult:
    """`examgen verify` (docs/variants.md): the exam's variants and seeds 1 to ``seeds`` computed (a
    child per core, each running its share of the variants) and checked (a process per core, forked
    with the computed variants); then the exam's own variants built, each solution PDF read for its
    key's numbers. Every failure is reported once with the seeds it happened for (exit 9)."""

    from ..stages.compute import compute_variants
    from ..variants import none_given_away
    from ..verify import Finding, Verdict, adopt, see_some

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
        verdict.fail(Finding(error.message, error.loc, error.context), error.variants[0] if error.variants else "")
    stopping.current().check()
    with worker_processes(CORES, adopt, (computed, theme)) as pool:
        tasks = [pool.submit(see_some, at, at + VARIANTS_PER_TASK)
                 for at in range(0, len(computed), VARIANTS_PER_TASK)]
        seen: dict = {}
        for task in tasks:
            variants, problems = worker_result(task)
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
        for echo in verdict.echoes(part):
            out.warn(echo, part.loc, part.context)
        for warning in none_given_away(part, verdict.right(part), len(verdict.parts.get(part.number, []))):
            out.warn(warning, part.loc, part.context)
    if errors:
        raise ErrorGroup.of(errors)
    built = build(target)
    missing = _unstated(exam, built, theme, out)
    if missing:
        raise ErrorGroup.of(missing)
    distinct = {number: len(digests) for number, digests in sorted(verdict.distinct.items())}
    right = [line for _, part in exam.parts() if (line := verdict.how_often_right(part))]
    return VerifyResult(len(labels), distinct, built_variants(exam), list(dict.fromkeys(built.warnings + out.warnings)),
                        right)


def _unstated(exam: Exam[Text], built: BuildResult, theme: Theme, out: Collector) -> list[ExamgenError]:
    """Each built variant's solution PDF against its key: every number the key states must show."""
    from ..errors import VerifyError
    from ..stages.check import read_pdf, unstated

    missing: list[ExamgenError] = []
    for label, rendered in render_all(exam, theme, out).items():
        assert label is not None
        pdf = read_pdf(built.out_dir / label / "solution.pdf")
        missing += [VerifyError(message, part.loc, part.context, variants=(label,))
                    for part, message in unstated(rendered, pdf)]
    return missing
