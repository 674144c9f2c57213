"""The feature sample, built for real: cover claims, both views, the key, its variants (problem 4
draws its numbers; its shuffled options keep "none of these" last)."""

from __future__ import annotations

import re

import pytest
from support import Built, pypdf_texts

pytestmark = pytest.mark.latex  # every test here reads a real build


def test_cover_claims_match_the_real_student_pdf(built):
    sample = built("sample")
    cover = Built.flat(sample.student.pages[0])
    assert f"consists of {len(sample.student.pages)} pages" in cover
    assert "total of 5 problems" in cover
    assert "this exam is 23 credits" in cover
    assert len(sample.solution.pages) == len(sample.student.pages)


def test_solutions_and_notes_only_in_the_solution_pdf(built):
    sample = built("sample")
    student, solution = Built.flat(sample.student_text), Built.flat(sample.solution_text)
    for phrase in ("enlarges the receptive field of later layers", "any one reason with a short explanation",
                   "chain rule through the leaky relu", "correction notes"):
        assert phrase in solution
        assert phrase not in student
    assert "sample solution" in Built.flat(sample.solution.pages[1])


def test_grading_boxes_and_half_steps(built):
    sample = built("sample")
    for pdf in (sample.student, sample.solution):
        text = "\n".join(pdf.pages)
        # part 2.1 has 1.5 points: boxes 0, ½, 1, 1½ (pypdf reads ½ as "1" over "2")
        assert re.search(r"0\s+1\s+2\s+1\s+1 1 2\s+2\.1\*", text)
        # part 2.2 has 2 points: boxes 0, 1, 2
        assert re.search(r"0\s+1\s+2\s+2\.2\*", text)


def test_key(built):
    key = built("sample").exam_key  # variant A's; problems 1 to 3 draw nothing, so B's are the same
    assert key["exam"] == "sample" and key["total_points"] == 23
    assert [p["points"] for p in key["problems"]] == [4, 5.5, 5.5, 2, 6]
    assert built("sample").key["variants"]["B"]["problems"][:3] == key["problems"][:3]
    assert (key["start"], key["end"], key["duration_minutes"]) == ("10:00", "11:30", 90)  # the end from the duration
    choice = key["problems"][0]["parts"]
    assert [c["correct"] for c in choice] == [[1, 4], []]
    conv = key["problems"][1]["parts"][0]
    assert conv["kind"] == "free" and conv["values"]["out_size"] == 32
    assert key["problems"][2]["id"] == "neuron" and "id" not in key["problems"][0]  # the source's problem id
    neuron = key["problems"][2]["parts"][0]
    assert neuron["id"] == "neuron-forward" and neuron["values"]["h"] == pytest.approx(-0.11)
    memory = key["problems"][2]["parts"][2]
    assert memory == {"number": "3.3", "points": 1, "kind": "numeric", "id": "neuron-memory", "answer": 12861.44,
                      "answer_printed": "12861.44", "tolerance": 128.6144, "relative_tolerance": 0.01, "unit": "kB",
                      "values": {"params": 3215360}, "values_printed": {"params": "3{,}215{,}360"}}
    computed = key["problems"][2]["parts"][3]  # its correct option computed: << z < 0 >>
    assert computed["kind"] == "choice" and computed["correct"] == [1] and computed["values"] == {"z": -1.1}


def test_a_numeric_answer_stands_in_its_box_in_the_solution_only(built):
    sample = built("sample")
    student, solution = sample.student.pages[3], sample.solution.pages[3]
    assert re.search(r"Answer:\s+12861\s+\(±129\)\s+kB", solution)  # to the tolerance's decimals, with its range
    assert re.search(r"Answer:\s+kB", student) and "12861" not in sample.student_text


def test_computed_numbers_reach_the_solution(built):
    solution = built("sample").solution_text
    assert "608" in solution  # 3*5*5*8 + 8 parameters
    assert "−0.7956" in solution or "-0.7956" in solution


def test_the_variants_draw_their_numbers_and_shuffle_with_none_of_these_last(built):
    sample = built("sample")
    variants = sample.key["variants"]
    assert list(variants) == ["A", "B"]
    drawn = {label: variant["problems"][3]["parts"] for label, variant in variants.items()}
    assert drawn["A"][0]["values"] != drawn["B"][0]["values"]
    for label, (choice, numeric) in drawn.items():
        values = choice["values"]
        assert choice["order"][3] == 4  # "none of these" stays last
        right = 1 if values["shown"] == values["params"] else 4  # the source's number of the right option
        assert [choice["order"][place - 1] for place in choice["correct"]] == [right]
        assert numeric["answer"] == values["params"] - 1
        pages = pypdf_texts(sample.out / label / "solution.pdf")
        assert f"Variant {label}" in pages[1] and f"over {values['channels']} input channels" in Built.flat(
            " ".join(pages))


def test_single_choice_with_explanations_generated_options_and_partial_credit(built):
    """Problem 5 (issue 28): its single-choice part's solution and explanations in the solution view
    only, in the room the student copy leaves blank; the generated options of each variant, rounded
    alike, the computed one crossed; the partial-credit part's rule in the key and beside the part."""
    sample = built("sample")
    for label, variant in sample.key["variants"].items():
        single, generated, partial = variant["problems"][4]["parts"]
        assert (single["single"], generated["single"], partial["scoring"]) == (True, True, "partial")
        assert single["correct"] == [1] and len(generated["correct"]) == 1
        t = single["values"]["t"]  # its solution prints t
        student = " ".join(pypdf_texts(sample.out / label / "student.pdf")[4:])
        solution = " ".join(pypdf_texts(sample.out / label / "solution.pdf")[4:])
        assert "it tests a variance, not a mean" in solution and "it tests a variance" not in student
        assert f"{abs(round(t, 2)):.2f}" in student  # the correct option among the generated ones
        assert len(re.findall(r"\d\.\d\d\b", student.split("What is the value")[1].split("Which of these")[0])) == 4
        assert "2 p, partial credit" in student
    assert pypdf_texts(sample.out / "A" / "student.pdf")[1].count("Please note") == 1  # the legend once
