"""The 2022 endterm (exams/2022-endterm), built for real.

Checked against the seed exam (its text, 2022-endterm.txt): the crosses of problem 1,
the points of every part and problem, the cover's claims against the real PDFs, answers
that the compute blocks calculate (recomputed here by hand), the figures and the values
table, the corrected slips of the seed, and that no sample solution or correction note
reaches the student copy.
"""

from __future__ import annotations

import re

import pytest
from support import Built, squash

from examgen.stages.check import plain, words

pytestmark = pytest.mark.latex  # every test here reads a real build

EXAM = "2022-endterm"

FIGURES = [
    "1.1: A fully-connected network.", "1.2: Toy network", "2.1: Backpropagation of a fully-connected layer",
    "2.2: Low training error rate", "3.1: MNIST classification architecture",
    "4.1: Example images of the MNIST dataset.", "4.2: Sketch of the given architecture",
    "5.1: A Fully-Connected Autoencoder", "6.1: Simple network", "9.1: A Recurrent Neural Network",
    "9.2: Transformer Architecture",
]


def part(exam: Built, number: str) -> dict:
    problem = exam.key["problems"][int(number.split(".")[0]) - 1]
    return next(p for p in problem["parts"] if p["number"] == number)


@pytest.fixture(scope="module")
def exam(built) -> Built:
    return built(EXAM)


def test_half_point_parts_have_half_grading_boxes(exam):
    # pypdf reads the box label ½ as "1" over "2": 5.5 has 0, ½, 1, 1½; 5.9 has 0, ½
    text = exam.student_text
    assert re.search(r"0\s+1\s+2\s+1\s+1\s*1\s*2\s+5\.5\s", text)
    assert re.search(r"0\s+1\s+2\s+5\.9\s", text)


def test_cover_claims_match_the_real_pdfs(exam):
    cover = exam.cover(problems=9, credits=90)
    pages = len(exam.student.pages)
    for claim in ("introduction to deep learning", "exam in2346 endterm", "e1119",
                  "date monday 1st august 2022", "examiner prof leal taixé", "time 08 15 09 45",
                  "one non programmable pocket calculator", "one analog dictionary english native language",
                  "subproblems marked by can be solved without results of previous subproblems",
                  "answers are only accepted if the solution approach is documented give a reason for each answer",
                  "do not write with red or green colors nor use pencils",
                  "physically turn off all electronic devices put them into your bag and close the bag"):
        assert claim in cover, claim
    for number, text in enumerate(exam.student.pages[1:], 2):  # the cover has no footer
        assert f"page {number} {pages}" in Built.flat(text)
    # two pages of additional space close the exam
    assert all("additional space for solutions" in Built.flat(t) for t in exam.student.pages[-2:])


def test_build_has_no_warnings(exam):
    # in particular, every sample solution fits its answer space and no part is taller than a page
    assert list(exam.result.warnings) == []


def test_figures_and_the_values_table_are_there(exam):
    flat = Built.flat(exam.student_text)
    for caption in FIGURES:
        assert Built.flat(f"Figure {caption}") in flat, caption
    assert "table 6 1 values of the variables" in flat
    # numbers the figures take from the compute blocks
    text = squash(exam.student_text)
    for label in ("1@28×28", "32@28×28", "32@14×14", "64@14×14", "64@7×7",  # Figure 3.1
                  "Conv2d(2,8)", "Conv2d(8,16)", "MaxPool2d(2)", "Linear(k,n)",  # Figure 4.2
                  "2×28×28"):
        assert label in text, label


def test_values_table_is_the_computation_s_input(exam):
    # Table 6.1 lists the values that the forward pass of 6.1 used, in the seed's order
    values = part(exam, "6.1")["values"]
    flat = lambda m: [e for row in m for e in row]  # noqa: E731
    expected = (values["x"] + flat(values["w"]) + values["b"] + flat(values["v"]) + values["c"]
                + part(exam, "6.2")["values"]["y"])
    assert expected == [1.0, -2.0, -0.5, 1.0, 2.0, -1.0, 0.5, 1.5, 0.5, 0.0, -1.0, 1.0, -0.5, -0.5, 2.0,
                        -1.0, 1.0, -1.0, 2.0, 1.0, 1.0]
    row = "Value" + "".join(f"{v:.1f}".replace("-", "\u2212") for v in expected)
    assert row in squash(exam.student_text)


def test_computed_values_in_the_key(exam):
    # recomputed here by hand, independently of dlcalc
    assert part(exam, "1.3")["values"]["choices_13"][2] == 32 * 1 * 1 + 1 == 33
    assert part(exam, "1.3")["values"]["choices_13"] == [65, 2097153, 33, 17]
    assert part(exam, "4.2")["values"]["n"] == len({a + b for a in range(10) for b in range(10)}) == 19
    assert part(exam, "4.3")["values"]["spatial"] == [28, 28, 14, 14, 7]
    assert part(exam, "4.3")["values"]["k"] == 16 * 7 * 7
    assert part(exam, "4.5")["values"]["as_fc"] == {"filters": 100, "kernel": 28, "stride": 1, "padding": 0,
                                                    "out_size": 1}
    assert part(exam, "4.7")["values"]["rf"][:2] == [5, 5 + 1 * (2 - 1)]
    assert part(exam, "4.8")["values"]["rf_linear"] == 16 + (1 * 2 * 1 * 2) * (7 - 1) == 40
    assert part(exam, "4.10")["values"]["pairs_good"] == 7 and part(exam, "4.10")["values"]["pairs_bad"] == 1
    forward = part(exam, "6.1")["values"]
    assert forward["h_lin"] == [2, 0, -2] and forward["h_act"] == [2, 0, -1]
    assert part(exam, "6.2")["values"]["y_hat"] == [2, 0]
    assert part(exam, "6.2")["values"]["loss"] == pytest.approx(((2 - 1) ** 2 + (0 - 1) ** 2) / 2)
    backward = part(exam, "6.3")["values"]
    assert backward["grad_w11"] == pytest.approx(((2 - 1) * 1.0 + (0 - 1) * -0.5) * 1 * 1.0) == 1.5
    assert backward["w11_new"] == pytest.approx(-0.5 - 0.1 * 1.5) == -0.65
    assert part(exam, "7.3")["values"]["running"] == 2 * 3


def test_computed_answers_in_the_solution_pdf(exam):
    text = squash(exam.solution_text)
    for answer in (
        "(k=3,s=1,p=1)",                                          # 4.1
        "N×2×28×28", "N×19",                                      # 4.2
        "28→28→14→14→7", "k=16·7·7=784",                          # 4.3
        "padding0,stride1",                                       # 4.5
        "r1=f1=5(Conv1)→r2=r1+s1·(f2−1)=5+1·(2−1)=6→(6×6)",       # 4.7
        "r5=16+4·(7−1)=40≥28",                                    # 4.8
        "7sumto12butonly1sumsto18",                               # 4.10
        "h1=w11·x1+w21·x2+b1=(−0.5)·1+(−1)·(−2)+0.5=2",           # 6.1
        "h6=max(0.5·h3,h3)=max(0.5·(−2),−2)=−1",
        "ŷ1=v11·h4+v21·h5+v31·h6+b4=1·2+(−0.5)·0+(−1)·(−1)+(−1)=2",
        "ŷ2=v12·h4+v22·h5+v32·h6+b5=(−0.5)·2+2·0+1·(−1)+2=0",
        "(0−1)2=1",                                               # 6.2
        "((2−1)·1+(0−1)·(−0.5))·1·1=1.5",                         # 6.3
        "=−0.5−0.1·1.5=−0.65",
        "2·3=6",                                                  # 7.3
    ):
        assert answer in text, answer


def test_the_seed_slips_are_corrected(exam):
    text = squash(exam.solution_text)
    assert "r1=3" not in text             # 4.7: a kernel of 5 gives r1 = 5
    assert "s1·s2·(f2" not in text        # 4.7: the quoted formula multiplies s1 only
    assert "stride=0" not in text and "stride0" not in text  # 4.5
    assert "X=16·7·7" not in text         # 4.3: the value asked for is k
    assert "(1p):MSE=1nk" in text         # 6.2: the mean over n * k outputs
    student, solution = Built.flat(exam.student_text), Built.flat(exam.solution_text)
    assert "validation error" not in student  # Figure 2.2: the validation set was merged: training curve only
    assert "maxpool layers are defined as maxpool2d kernel size" in student  # not <input channels>
    assert "random initialization" not in solution and "of the of" not in solution  # 8.6: zero init
    assert "zero initialization of m0 and v0" in solution
    assert "f(x,w)=wx" not in squash(exam.student_text)  # 8.7: f'' = 0 for wx, no Newton step
    assert "fixed sized matrices" not in solution  # 9.5: W_Q, W_K, W_V do not depend on the length
    assert "positional encodings" in solution and "quadratic" in solution


def test_imbalance_of_the_digit_sums_is_computed(exam):
    # 4.10: 3+9 ... 9+3 sum to 12, only 9+9 to 18: recomputed here by hand
    values = part(exam, "4.10")["values"]
    assert values["n_digit_pairs"] == 10 * 10 and values["bad_pairs"] == ["9 + 9"]
    assert values["rarity"] == len([a for a in range(10) if 0 <= 12 - a <= 9]) / 1 == 7
    assert "of the 10 · 10 = 100 digit pairs, 7 sum to 12 but only 1 sums to 18 (9 + 9), so class 18 is 7 times rarer" \
        in " ".join(exam.solution_text.split())


def test_solutions_and_notes_only_in_the_solution_pdf(exam):
    student, solution = Built.flat(exam.student_text), Built.flat(exam.solution_text)
    assert "correction notes" in solution and "correction notes" not in student
    assert "sample solution" in Built.flat(exam.solution.pages[1])
    assert "sample solution" not in student
    for phrase in ("data augmentation is a regularization technique", "linear regression is a convex function",
                   "mixes train and test set", "semantic segmentation is the task of classification",
                   "it has a closed form solution", "early stopping", "transfer learning",
                   "the shared weights are multiplied continuously by themselves",
                   "the spatial size decreases"):
        assert phrase in solution, phrase
        assert phrase not in student, phrase
    # every run of 6 words of every solution and note that the solution PDF shows is absent
    # from the student PDF
    checked = 0
    for _, p in exam.result.exam.parts():
        for text in p.answer.secrets():
            ws = words(plain(text.source))
            for i in range(len(ws) - 5):
                window = " ".join(ws[i:i + 6])
                if f" {window} " in f" {solution} ":
                    checked += 1
                    assert f" {window} " not in f" {student} ", (p.number, window)
    assert checked > 300
