"""The machine-readable answer key (key.json) for graders and scanners."""

from __future__ import annotations

import json

from .model import Exam


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def answer_key(exam: Exam) -> dict:
    problems = []
    for problem in exam.problems:
        parts = []
        for part in problem.parts:
            entry = {"number": part.number, "points": _number(part.points), "kind": part.kind}
            if part.id:
                entry["id"] = part.id
            if part.kind == "choice":
                entry["correct"] = part.correct
            entry["values"] = dict(part.values)
            parts.append(entry)
        problems.append({"number": problem.number, "title": str(problem.title),
                         "points": _number(problem.credits), "parts": parts})
    return {"exam": exam.id, "code": exam.meta.code, "total_points": _number(exam.total_points), "problems": problems}


def key_json(exam: Exam) -> str:
    return json.dumps(answer_key(exam), indent=2, ensure_ascii=False) + "\n"
