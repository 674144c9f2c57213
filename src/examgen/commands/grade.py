"""`examgen grade`: the graders' marks (and a scanner's crosses) in; results.csv, grades.csv and
report.html out (grading/, docs/grading.md). No LaTeX runs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ..errors import Collector, Loc, SourceError
from ..model.source import Grading, Threshold
from ..orchestrate import read_exam, render_all
from ..outputs import replace_file, writing
from ..project import MANIFEST, Target
from .copies import warn_if_changed

GRADING = "grading"  # the grading outputs' folder in the course's records
WHAT_IF = "grading-what-if"  # --thresholds' outputs without --out: beside the real ones, never over them


@dataclass(frozen=True)
class GradeRequest:
    """What `examgen grade` reads, and where its outputs go."""

    marks: Path  # the marks sheet
    crosses: Path | None = None  # a scanner's crosses for the multiple-choice parts
    thresholds: tuple[Threshold, ...] = ()  # --thresholds: instead of the source's scale
    copies: Path | None = None  # the copies' folder (its manifest.json); default course/<id>/copies/
    out: Path | None = None  # default course/<id>/grading/ (with thresholds, course/<id>/grading-what-if/)


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
    from ..grading.analysis import analyse
    from ..grading.report import grades_csv, report_html, results_csv
    from ..grading.scale import GERMAN, resolve
    from ..grading.score import Keys, score
    from ..grading.sheets import Codes, read_crosses, read_marks
    from ..writers.key import key_json

    out = Collector()
    theme = target.project.theme()
    source = read_exam(target, theme, out)
    copies = request.copies or target.copies
    codes = Codes(source.meta.code, copies / MANIFEST)
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
    if not per_copy:  # a per-copy exam's key holds the copies' own variants, no build's
        warn_if_changed(copies, key_json(variants).encode("utf-8"), "it is graded against the key of the exam as "
                        "it is now", out)
    grading = Grading(request.thresholds, (exam.grading or GERMAN).fail) if request.thresholds else exam.grading
    problems = Collector()
    scale = resolve(grading, exam.total_points, problems)
    rows = read_marks(request.marks, exam, codes, problems)
    crossed = read_crosses(request.crosses, exam, {row.code for row in rows}, problems) if request.crosses else ()
    keys = Keys(rendered, {label: variant for label, variant in variants.items() if label is not None},
                codes.variants)
    results = score(tuple(part for _, part in exam.parts()), rows, crossed, keys, scale, problems)
    problems.raise_if_any()
    out.noted(problems.warnings)  # the scale's, the marks sheet's
    unregistered = sum(not graded.row.registration for graded in results.graded)
    if unregistered:
        out.warn(f"{unregistered} graded copies have no registration number: grades.csv leaves them out")
    analysis = analyse(results)
    texts = {"results.csv": results_csv(results), "grades.csv": grades_csv(results),
             "report.html": report_html(exam, results, analysis)}
    folder = request.out or target.course / (WHAT_IF if request.thresholds else GRADING)
    with writing("the grading outputs", folder):
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            replace_file(folder / name, partial(Path.write_text, data=text, encoding="utf-8"))
    failed = dict(analysis.grades)[scale.fail]
    return GradeResult(folder, list(texts), analysis.count, len(results.absent), analysis.mean, scale.total, failed,
                       out.warnings)
