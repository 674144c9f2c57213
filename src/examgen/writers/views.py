"""The two views of one computed exam: the student copy and the sample solution, rendered
through the same template and compiled by LaTeX; a view whose inputs did not change keeps
its last PDF. The stages it runs are imported when it writes: a build that finds nothing
changed asks the writers only for their outputs' names."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from ..cache import Record, document_digest, images
from ..outputs import remove
from .protocol import Context, Product, Rendered

if TYPE_CHECKING:
    from ..model.rendered import RenderedExam
    from ..stages.compile import Job


class ViewWriter:
    """One view of the exam, or of one of its variants (into ``<variant>/``, of the work folder too).
    A variant's view compiled for the first time starts from the page references of the same view
    of the first variant (``like``), which it shares where the variants paginate alike: LaTeX then
    settles in one pass instead of two (and reruns where they differ, as ever)."""

    def __init__(self, view: str, variant: str | None = None, like: str | None = None):
        self.view, self.variant = view, variant
        self.name = f"{variant}/{view}" if variant else view
        self.after = f"{like}/{view}" if like else None
        self.outputs: tuple[str, ...] = (f"{self.name}.pdf",)

    @property
    def solution(self) -> bool:
        return self.view == "solution"

    def write(self, renders: Rendered, context: Context) -> Product:
        from ..figures import mapping
        from ..stages.check import read_view
        from ..stages.compile import Job, compile_document
        from ..stages.render import render_document

        rendered = renders[self.variant]
        tex = render_document(rendered, context.theme, self.solution)
        pictures, batches = mapping(context.figures)
        job = Job(self.view, context.work / self.name)
        digest = document_digest(tex + pictures, rendered.exam, context.theme)
        record = Record(job.folder / "examgen-cache.json")
        compiled = context.force or not record.fresh(digest, {"pdf": job.pdf})
        log = ""
        if compiled:
            self._prepare(job, tex, pictures, batches, rendered, context)
            references = Job(self.view, context.work / self.after).aux if self.after else None
            if references and references.is_file() and not job.aux.exists():
                shutil.copyfile(references, job.aux)
            log = compile_document(job, context.out)
            record.record(digest, {"pdf": job.pdf})
        return Product({self.outputs[0]: job.pdf}, compiled, read_view(job.pdf, self.solution), log)

    @staticmethod
    def _prepare(job: Job, tex: str, pictures: str, batches: dict[str, Path], rendered: RenderedExam,
                 context: Context) -> None:
        """The document's folder: its source, the theme's files for TeX, the exam's images and the
        compiled pictures with the file that maps them to their pages. Nothing an earlier build put
        there stays but TeX's page references (which let it settle in one pass): no file of a theme
        since dropped is there for ``\\input`` to find."""
        if job.folder.is_dir():
            for entry in os.scandir(job.folder):
                if entry.path != str(job.aux):
                    remove(entry)
        job.folder.mkdir(parents=True, exist_ok=True)
        files = {**context.theme.tex_files(), **batches}
        files.update({figure.asset: figure.image for figure in images(rendered.exam)})  # type: ignore[misc]
        for name, path in files.items():
            (job.folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, job.folder / name)
        (job.folder / "examgen-figures.tex").write_text(pictures, encoding="utf-8")
        job.tex.write_text(tex, encoding="utf-8")
