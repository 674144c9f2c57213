"""The machine-readable answer key (key.json) for graders, scanners and exports."""

from __future__ import annotations

import json

from ..model.rendered import RenderedExam
from . import Context, Product


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def answer_key(rendered: RenderedExam) -> dict:
    exam = rendered.exam
    problems = []
    for problem in exam.problems:
        parts = []
        for part in problem.parts:
            entry: dict = {"number": part.number, "points": _number(part.points), "kind": part.kind}
            if part.id:
                entry["id"] = part.id
            entry.update(part.answer.key())
            entry["values"] = dict(rendered.values[part.number])
            parts.append(entry)
        problems.append({"number": problem.number, "title": problem.title,
                         "points": _number(problem.credits), "parts": parts})
    return {"exam": exam.id, "code": exam.meta.code, "language": exam.meta.language,
            "total_points": _number(exam.total_points), "problems": problems}


def key_json(rendered: RenderedExam) -> str:
    return json.dumps(answer_key(rendered), indent=2, ensure_ascii=False) + "\n"


class KeyWriter:
    name = "key"
    outputs: tuple[str, ...] = ("key.json",)

    def write(self, rendered: RenderedExam, context: Context) -> Product:
        folder = context.work / self.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "key.json"
        path.write_text(key_json(rendered), encoding="utf-8")
        return Product({"key.json": path})
