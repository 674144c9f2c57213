"""``layout.json``: where a scanner finds the QR code, every check box, grading box, numeric box
and answer space on each page of a copy, from the positions TeX measured (stages/positions.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..model.source import Exam
from ..stages.positions import Layout


def _grade_value(exam: Exam, part: str, index: str) -> float:
    grades = next(p.grades for _, p in exam.parts() if p.number == part)
    value = grades[int(index) - 1]
    return int(value) if value.is_integer() else value


def layout_json(layouts: Mapping[str | None, Layout], exam: Exam, page_size: tuple[float, float],
                pages_per_copy: int) -> str:
    """layout.json: the positions on every page of a copy (all copies share them; docs/copies.md); with
    variants, each variant's pages under ``variants``, by label."""
    data = {"exam": exam.id, "code": exam.meta.code, "units": "PDF points (1/72 in) from the page's lower left corner",
            "page_size": {"width": round(page_size[0], 2), "height": round(page_size[1], 2)},
            "pages_per_copy": pages_per_copy}
    if None in layouts:
        data["pages"] = _pages(layouts[None], exam, pages_per_copy)
    else:
        data["variants"] = {label: {"pages": _pages(layout, exam, pages_per_copy)} for label, layout in layouts.items()}
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def _pages(layout: Layout, exam: Exam, pages_per_copy: int) -> list[dict]:
    """Every page of a copy: where its QR code, code, check boxes, grading boxes, answer spaces, numeric
    answer boxes and additional pages' spaces are."""
    pages = []
    for page in range(1, pages_per_copy + 1):
        entry: dict = {"page": page, "qr": layout.one("qr", min(page, layout.pages)).json(),
                       "code": layout.one("code", min(page, layout.pages)).json()}
        if page <= layout.pages:
            entry["checkboxes"] = [{"problem": int(m.key[0]), "part": m.key[1], "option": int(m.key[2]),
                                    "box": m.box.json()} for m in layout.on(page, "checkbox")]
            entry["grading_boxes"] = [{"part": m.key[0], "value": _grade_value(exam, *m.key), "box": m.box.json()}
                                      for m in layout.on(page, "grade")]
            entry["answer_spaces"] = [{"part": m.key[0], "box": m.box.json()} for m in layout.on(page, "answer")]
            entry["numeric_boxes"] = [{"part": m.key[0], "box": m.box.json()} for m in layout.on(page, "numeric")]
            entry["additional_spaces"] = [{"box": m.box.json()} for m in layout.on(page, "extra")]
        else:
            entry["blank"] = True  # the page that pads a copy to an even count
        pages.append(entry)
    return pages
