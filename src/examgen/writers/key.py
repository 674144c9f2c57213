"""The machine-readable answer key (key.json) for graders, scanners and exports."""

from __future__ import annotations

import hashlib
import json

from ..model.rendered import RenderedExam
from ..numbers import key_number
from .protocol import Context, Product, Rendered


def problem_keys(rendered: RenderedExam) -> list[dict]:
    """Every problem's and part's key entries, as this (variant of the) exam has them."""
    exam = rendered.exam
    problems = []
    for problem in exam.problems:
        parts = []
        for part in problem.parts:
            entry: dict = {"number": part.number, "points": key_number(part.points), "kind": part.kind}
            if part.id:
                entry["id"] = part.id
            entry.update(part.answer.key())
            entry["values"] = dict(rendered.values[part.number])  # as computed
            entry["values_printed"] = dict(rendered.printed[part.number])  # the same numbers as the PDFs show them
            parts.append(entry)
        problem_entry: dict = {"number": problem.number, "title": problem.title}
        if problem.id:
            problem_entry["id"] = problem.id
        problems.append({**problem_entry, "points": key_number(problem.credits), "parts": parts})
    return problems


def answer_key(rendered: Rendered) -> dict:
    """The key of the exam; with variants, each variant's problems under ``variants``, by label."""
    first = next(iter(rendered.values()))
    exam, meta = first.exam, first.exam.meta
    schedule = {"date": meta.date.isoformat(), "start": meta.start, "end": meta.end, "duration_minutes": meta.duration}
    head = {"exam": exam.id, "code": meta.code, "language": meta.language, **schedule,
            "total_points": key_number(exam.total_points)}
    if first.variant is None:
        return {**head, "problems": problem_keys(first)}
    return {**head, "variants": {label: {"problems": problem_keys(variant)} for label, variant in rendered.items()}}


def key_json(rendered: Rendered) -> str:
    return json.dumps(answer_key(rendered), indent=2, ensure_ascii=False) + "\n"


def key_digest(key: bytes) -> str:
    """What the copies record of the key they were made with (key.json's SHA-256)."""
    return hashlib.sha256(key).hexdigest()


class KeyWriter:
    name = "key"
    outputs: tuple[str, ...] = ("key.json",)
    after: str | None = None

    def write(self, rendered: Rendered, context: Context) -> Product:
        folder = context.work / self.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "key.json"
        path.write_text(key_json(rendered), encoding="utf-8")
        return Product({"key.json": path})
