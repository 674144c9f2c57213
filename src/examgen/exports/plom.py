"""`--format plom`: a Plom spec whose questions carry the pages their parts landed on; `--format
plom-versions`: Plom's question-version map of the copies (writers/plom.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Collector, ExportError
from .exporter import Build, Exported

if TYPE_CHECKING:
    from ..model.source import Exam, Text


class PlomSpec:
    name = "plom"
    file = "plom.toml"
    counts = "Plom questions"
    reads_copies = False
    about = "a Plom spec: a question per problem, on the pages its parts landed on; a version per variant"

    def export(self, build: Build, out: Collector) -> Exported:
        from ..stages.check import part_pages, read_pdf
        from ..stages.render import strings
        from ..writers.plom import heading_label, plan, plom_toml

        exam, variants = build.exam, _versions(build.exam)
        sentence = strings(build.target.project.theme(), exam.meta.language)
        heading = lambda number: heading_label(sentence("problem", number=number))  # noqa: E731
        specs = {}
        for label in variants or (None,):  # a version per variant: Plom needs their questions on the same pages
            student = read_pdf(build.out_dir / (label or "") / "student.pdf")
            specs[label] = plan(exam, part_pages(student), student.pages, heading)
        spec = specs[next(iter(specs))]
        if any(other != spec for other in specs.values()):
            raise ExportError("the variants' problems land on different pages, and Plom needs every version of a "
                              "question on the same pages: give the parts room ('space', 'new_page') so that they "
                              "paginate alike", exam.loc)
        if spec.scale != 1:
            out.warn("Plom marks are whole numbers and the exam has half credits: the spec marks in half credits "
                     "(every mark doubled)", exam.loc)
        return Exported(plom_toml(exam, spec, variants).encode("utf-8"), len(spec.questions))


class PlomVersions:
    name = "plom-versions"
    file = "plom-versions.csv"
    counts = "copies"
    reads_copies = True
    about = "Plom's question-version map of the copies (CSV): every copy's questions in its variant's version"

    def export(self, build: Build, out: Collector) -> Exported:
        from ..writers.marks import read_manifest
        from ..writers.plom import version_map

        entries = read_manifest(build.copies, build.exam)
        return Exported(version_map(build.exam, _versions(build.exam), entries).encode("utf-8"), len(entries))


def _versions(exam: Exam[Text]) -> tuple[str, ...]:
    """The variants Plom has as versions (none without variants); a fresh one per copy it cannot have."""
    from ..orchestrate import built_variants

    if exam.variants is not None and exam.variants.per_copy:
        raise ExportError("Plom has a version per variant, and 'variants: per-copy' makes one per copy: export "
                          "an exam with named variants", exam.variants.loc)
    return built_variants(exam)


EXPORTER = PlomSpec()
VERSIONS = PlomVersions()
