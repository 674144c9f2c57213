"""What both endterms share with their seeds: problem 1's crosses and every point.

Data, one entry per exam (read off the seed exams' texts, <id>.txt); the checks are the
same for both. Each exam's own tests (exams/<id>/test_<id>.py) check its computed
answers, figures, cover and corrected slips.
"""

from __future__ import annotations

import pytest
from support import Built

pytestmark = pytest.mark.latex  # every test here reads a real build

SEEDS = {
    # 2021: the seed's grading boxes; 3.1, 3.5, 4.4, 5.3, 5.4 and 5.7 lost theirs and were chosen.
    # 2022: the seed's grading boxes and "(Xp)" lines; 5.5 has 1.5 points and 5.9 has 0.5;
    # 1.6 has no correct option.
    "2021-endterm": dict(
        seed_crosses=[[1, 3], [1, 4], [2, 3], [1, 2], [2], [2, 4], [1, 3], [3], [2, 3]],
        part_points=[
            [2] * 9,
            [3, 2, 2, 2, 3, 2, 2, 2, 2, 2, 2, 2, 3],
            [3, 3, 1, 1, 3, 2],
            [3, 2, 3, 5],
            [2, 1, 3, 3, 3, 2, 4],
        ],
        credits=[18, 29, 13, 13, 18],
        titles=["Multiple Choice", "Short Questions", "Convolutions", "Optimization", "Multi-Class Classification"],
        total=91,
        code="E0713",  # the seed shows none: chosen
    ),
    "2022-endterm": dict(
        seed_crosses=[[3, 4], [2], [3], [1, 2, 3, 4], [4], [], [1, 4], [1], [3]],
        part_points=[
            [2] * 9,
            [2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2],
            [1, 1, 1, 1],
            [2, 1, 1, 1, 2, 1, 1, 1, 2, 2, 2],
            [1, 1, 1, 2, 1.5, 1, 1, 1, 0.5, 1],
            [2, 1, 3],
            [1, 2, 1, 2],
            [1, 2, 1, 1, 1, 2, 1, 1],
            [1, 1, 1, 1, 1],
        ],
        credits=[18, 14, 4, 16, 11, 6, 6, 10, 5],
        titles=["Multiple Choice", "Unsorted Questions", "Data Augmentation", "An application", "Autoencoder",
                "Backpropagation", "Batch Normalization", "Optimization", "Advanced Topics"],
        total=90,
        code="E1119",
    ),
}


@pytest.mark.parametrize("exam_id", sorted(SEEDS))
def test_multiple_choice_crosses_are_the_seeds(built, exam_id):
    parts = built(exam_id).key["problems"][0]["parts"]
    assert [p["kind"] for p in parts] == ["choice"] * 9
    assert [p["correct"] for p in parts] == SEEDS[exam_id]["seed_crosses"]


@pytest.mark.parametrize("exam_id", sorted(SEEDS))
def test_points_per_part_and_problem_and_total(built, exam_id):
    seed, exam = SEEDS[exam_id], built(exam_id)
    problems = exam.key["problems"]
    assert [p["title"] for p in problems] == seed["titles"]
    assert [[part["points"] for part in p["parts"]] for p in problems] == seed["part_points"]
    assert [p["points"] for p in problems] == seed["credits"] == [sum(points) for points in seed["part_points"]]
    assert exam.key["total_points"] == seed["total"] == sum(seed["credits"])
    assert exam.key["code"] == seed["code"]
    for pdf in (exam.student_text, exam.solution_text):
        flat = Built.flat(pdf)
        for number, (title, credits) in enumerate(zip(seed["titles"], seed["credits"]), 1):
            assert f"problem {number} {Built.flat(title)} {credits} credits" in flat
