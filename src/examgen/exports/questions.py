"""The parts as questions for the platforms that show HTML (Moodle, QTI): the rendered texts of
every variant as HTML (writers/html.py), the figures as images, each part's variants together."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Collector, ErrorGroup, ExamgenError
from ..orchestrate import CORES, compile_figures, prepare_all
from .exporter import Build

if TYPE_CHECKING:
    from ..figures import Placed
    from ..model.source import Meta
    from ..writers import Rendered
    from ..writers.html import Image, Question


@dataclass(frozen=True)
class Questions:
    """What a platform's file is made of: the exam's id, title and language, its questions (each part
    once per variant, in exam order, a part's variants together) and their images by name."""

    id: str
    title: str
    meta: Meta
    questions: list[Question]
    images: dict[str, Image]


def questions(build: Build, out: Collector, source: Callable[[str], str],
              math: Callable[[str, bool], str | None] | None = None) -> Questions:
    """The exam's questions, their texts converted for the platform: ``source``, an image's address
    there; ``math``, a formula as its XHTML (None: TeX for MathJax)."""
    from ..stages.render import strings
    from ..writers.html import Converter, questions

    target = build.target
    theme = target.project.theme()
    variants = prepare_all(target, Collector(), _copies_variants(build, out))  # its warnings are the build's
    placed, failed = compile_figures(variants, target.project.build, theme, False, out)
    if failed:
        raise ErrorGroup.of(failed)
    images = figure_images(variants, placed)
    rendered = next(iter(variants.values()))
    words = strings(theme, rendered.exam.meta.language)
    found: list[tuple[int, Question]] = []
    for label, variant in variants.items():  # with variants, each part once per variant
        converter = Converter(images, printed_labels(target.work / (label or "") / "student" / "student.aux"),
                              {"figure": words("figure"), "table": words("table")}, source, math)
        found += enumerate(questions(variant, converter, out))
    found.sort(key=lambda numbered: numbered[0])  # stable: the parts in exam order, each one's variants together
    meta = rendered.exam.meta
    title = f"{meta.course} ({meta.course_number}), {meta.kind} {meta.date.isoformat()}"
    return Questions(rendered.id, title, meta, [question for _, question in found],
                     {image.name: image for image in images.values()})


def _copies_variants(build: Build, out: Collector) -> tuple[str, ...]:
    """For ``variants: per-copy``, every copy's variant, from the copies' manifest (none: the build's,
    copy 1's, with a warning); else none (the build's variants)."""
    from ..writers.marks import read_manifest

    if build.exam.variants is None or not build.exam.variants.per_copy:
        return ()
    try:
        entries = read_manifest(build.copies, build.exam)
    except ExamgenError as exc:
        out.warn(f"the export asks copy 1's variant only: {exc.message}", exc.loc)
        return ()
    return tuple(dict.fromkeys(str(entry.get("variant")) for entry in entries if entry.get("variant")))


def printed_labels(aux: Path) -> dict[str, str]:
    r"""Every ``\label`` of the student PDF with the number it printed (its ``.aux``)."""
    text = aux.read_text(encoding="utf-8", errors="replace") if aux.is_file() else ""
    return dict(re.findall(r"\\newlabel\{([^}]*)\}\{\{([^}]*)\}", text))


def figure_images(rendered: Rendered, placed: dict[str, Placed]) -> dict[str, Image]:
    """Every figure of both views as an image, by its key (writers/html.figure_key): a compiled
    picture's page and a PDF image as PNG (pdftoppm, a process per core), a PNG or JPEG as it is; a
    picture not in ``placed`` (it failed to compile) has none."""
    from ..figures import png
    from ..writers.html import Image, figure_key

    wanted: dict[str, tuple[str, Path, int]] = {}  # key -> image name, PDF or image file, page
    for view in (view for variant in rendered.values() for view in (variant.student, variant.solution)):
        for problem in view.exam.problems:
            for figure in problem.figures:
                key = figure_key(figure)
                if key is None or key in wanted:
                    continue
                if figure.picture in placed:
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
