"""A seeded model of students sitting an exam, for `examgen grade`'s tests and the benchmark: each
student has an ability, each part a difficulty and a discrimination (a two-parameter logistic
model: a student solves each half point of a part with probability 1 / (1 + exp(-a (ability - b)))).
It writes marks.csv as `examgen export --format marks` does and a graders would fill it in,
and a scanner's crosses.csv for the multiple-choice parts."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

from examgen.codes import copy_code
from examgen.numbers import format_number


@dataclass(frozen=True)
class SimPart:
    number: str
    points: float
    options: int  # 0: graded by hand
    correct: frozenset[int]
    difficulty: float = 0.0  # b: the ability at which half the half points are solved
    discrimination: float = 1.0  # a: below 0, better students do worse


def parts_of(exam, model: dict[str, tuple[float, float]] | None = None) -> list[SimPart]:
    """The parts of a rendered exam (``Exam[str]``), each with the model's (difficulty, discrimination)
    for its number (``{"1.2": (0.5, -1.0)}``), else spread from easy to hard in exam order."""
    found = [part for _, part in exam.parts()]
    spread = lambda i: -1.5 + 3 * i / max(1, len(found) - 1)  # noqa: E731
    return [SimPart(part.number, part.points, len(part.answer.boxes()), part.answer.crossed(),
                    *(model or {}).get(part.number, (spread(i), 1.0)))
            for i, part in enumerate(found)]


def simulate(parts: list[SimPart], students: int, exam_code: str, folder: Path, seed: int = 1,
             scanned: bool = True, absent: int = 0) -> tuple[Path, Path | None]:
    """marks.csv (and, if ``scanned``, crosses.csv: the multiple-choice cells left empty) for that
    many students with registration numbers; the last ``absent`` rows stay empty."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    marks_rows = [["code", "registration", "name", *(p.number for p in parts)],
                  ["max", "", "", *(format_number(p.points) for p in parts)]]
    crosses_rows = [["code", "part", "crossed"]]
    for number in range(1, students + 1):
        copy = copy_code(exam_code, number)
        row = [copy, f"0371{number:04d}", f"Student {number}"]
        if number > students - absent:
            marks_rows.append(row + [""] * len(parts))
            continue
        ability = rng.gauss(0, 1)
        for part in parts:
            chance = 1 / (1 + math.exp(-part.discrimination * (ability - part.difficulty)))
            if part.options and scanned:
                crossed = set(part.correct) if rng.random() < chance else \
                    set(part.correct) ^ {rng.randint(1, part.options)}
                crosses_rows.append([copy, part.number, " ".join(map(str, sorted(crossed)))])
                row.append("")
            elif part.options:
                row.append(format_number(part.points if rng.random() < chance else 0))
            else:
                half_points = sum(rng.random() < chance for _ in range(int(part.points * 2)))
                row.append(format_number(half_points / 2).replace(".", ","))  # graders' decimal comma
        marks_rows.append(row)
    marks = folder / "marks.csv"
    write_csv(marks, marks_rows)
    if not scanned:
        return marks, None
    crosses = folder / "crosses.csv"
    write_csv(crosses, crosses_rows)
    return marks, crosses


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
