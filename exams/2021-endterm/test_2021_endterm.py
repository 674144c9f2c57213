"""The 2021 endterm (exams/2021-endterm), built for real.

Checked against the seed exam (its text, 2021-endterm.txt): the crosses of problem 1,
the points of every part and problem, the cover's claims against the real PDFs, answers
that the compute blocks calculate, and that no sample solution or correction note reaches
the student copy.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from support import Built, squash

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
import dlcalc  # noqa: E402

pytestmark = pytest.mark.latex  # every test here reads a real build

EXAM = "2021-endterm"


@pytest.fixture(scope="module")
def exam(built) -> Built:
    return built(EXAM)


def test_cover_claims_match_the_real_pdfs(exam):
    cover = exam.cover(problems=5, credits=91)
    assert "allowed resources none" in cover
    assert "do not write with red or green colors" in cover
    assert "introduction to deep learning" in cover
    assert "in2346 endterm" in cover and "e0713" in cover
    assert "prof dr matthias nießner" in cover
    assert "tuesday 13th july 2021" in cover and "17 30 19 00" in cover
    assert "can be solved without results" not in cover  # no part is marked with *
    assert "additional space for solutions" in Built.flat(exam.student.pages[-1])


def test_computed_values_in_the_key(exam):
    values = {}
    for problem in exam.key["problems"]:
        for part in problem["parts"]:
            values.update(part["values"])
    assert values["bce_first"] == pytest.approx(math.log(2))
    assert values["c6_out"] == 10
    assert (values["c7_weights"], values["c7_total"]) == (240, 245)
    assert (values["m_weights"], values["m_biases"], values["m_total"]) == (705, 18, 723)
    assert (values["bn_per_feature"], values["bn_conv"]) == (2, 32)  # 2.13: 2n and 2 x 16
    assert (values["fc_in"], values["fc_out"]) == (1600, 640)
    assert values["fc_in_shape"] == [100, 4, 4] and values["fc_out_shape"] == [40, 4, 4]
    assert (values["rf_maxpool1"], values["rf_fc1"], values["rf_fc1_padded"]) == (6, 64, 74)
    assert values["skip_term"] == "w_1 x"  # not the seed's "w_3 x"
    assert (values["wj"], values["wk"], values["true_class"]) == (3, 1, 3)


@pytest.mark.parametrize("answer", [
    "− log(0.5) or log(2) (≈ 0.693)",                               # 2.2
    "(28 + 2 · 2 − 5)/3 + 1 = 10",                                  # 2.6
    "= 6 × 10 × 10 or 10 × 10 × 6",                                 # 2.6
    "(3 × (4 × 4)) × 5 for weights + 5 for bias = 240 + 5 = 245",   # 2.7
    "(8 × 8) × 10 + 10 × 5 + 5 × 3 = 705",                          # 2.8
    "Biases: 10 + 5 + 3 = 18",                                      # 2.8
    "Total: 705 + 18 = 723",                                        # 2.8
    "(a) 2n for a fully-connected layer of n neurons",              # 2.13, not the seed's "2"
    "2 × 16 = 32 for a convolutional layer",                        # 2.13
    "input: 100 × 4 × 4 = 1600",                                    # 3.1
    "output: 40 × 4 × 4 = 640",                                     # 3.1
    "weight matrix: 1600 × 640",                                    # 3.1
    "maxpool1: 6 × 6",                                              # 3.2
    "a 2 × 2 output comes from a 6 × 6 grid",                       # 3.2
    "whole image (64 × 64)",                                        # 3.2
    "(w3 w2 + 1) w1 x = w3 w2 w1 x + w1 x",                         # 4.4
    "(−ŷ3 ŷ1 ) · h3 = ŷ1 h3",                                        # 5.7
])
def test_computed_answers_only_in_the_solution(exam, answer):
    assert squash(answer) in squash(exam.solution_text)
    assert squash(answer) not in squash(exam.student_text)


def test_seed_slips_are_corrected(exam):
    solution = squash(exam.solution_text)
    assert "‘+w1x’" in solution and "‘+w3x’" not in solution       # 4.4: the seed's '+w3 x'
    assert "G(y)=w3σ(w2y)" in solution and "σ(w3y)" not in solution  # 4.4: the seed's σ(w3 y) w3
    assert "∂L∂w3,1" in solution and "w1,3" not in solution          # 5.7: the seed's w_{1,3}
    assert "TODO" not in solution and "doublecheck" not in solution.lower()  # 3.2


def test_the_notes_speak_to_a_grader_not_of_the_seeds_history(exam):
    """2.13's note said a bare "2" was "(the original key)": a grader has no original key."""
    notes = Built.flat(exam.solution_text)
    assert "original key" not in notes
    assert "a bare 2 earns the point only when the answer says it counts per neuron" in notes


@pytest.mark.parametrize("phrase", [
    "correction notes",
    "sample solution",
    "improve generalization by adding more data and preventing overfitting",   # 2.1
    "make training set larger",                                                # 2.1 note
    "0 5 for minus",                                                           # 2.2 note
    "constant 0 for negative values",                                          # 2.3
    "full points to formula drawing",                                          # 2.3 note
    "weights zero mean with mentioning gaussian",                              # 2.4 note
    "upon a gradient update",                                                  # 2.5
    "no formula just correct explanation",                                     # 2.5 note
    "correct formula and wrong calculation",                                   # 2.6 note
    "1pt for weights without correct bias",                                    # 2.7
    "wrong addition",                                                          # 2.7, 2.8 notes
    "gradient update will be the same for all neurons",                        # 2.9
    "constraints on the distribution of the bottleneck",                       # 2.10
    "no points for explanation of autoencoder",                                # 2.10 note
    "the input is a random noise vector",                                      # 2.11
    "random input is fine not mentioning fake is fine",                        # 2.11 note
    "highway for gradient improved gradient flow",                             # 2.12 note
    "normalized over each channel in a convolutional layer",                   # 2.13
    "0 5p for the first part and 0 5p for the second",                         # 2.13 note
    "2n for n neurons a γ and a β per neuron",                                 # 2.13 note
    "the size of the region in the input space",                               # 3.2
    "change the output channels of trconv4 to 30",                             # 3.3
    "no add 1 1 conv with 30 output channels",                                 # 3.3 note
    "pre train an autoencoder with the unlabelled all images",                 # 3.5
    "make it fully convolutional by replacing the fc layer",                   # 3.6
    "wrong explanation with rnns eigenvalues etc",                             # 3.6 note
    "rmsprop is an adaptive learning rate method",                             # 4.1
    "biases all the accumulated gradients down towards zero",                  # 4.2
    "saturated activations",                                                   # 4.3
    "backpropagation of the gradient flow",                                    # 4.4
    "it normalizes the logits scores to sum up to 1",                          # 5.1
    "immediate from saving the forward cache",                                 # 5.2
    "cross entropy loss softmax loss colloquial term",                         # 5.5
    "forget minus lose 0 5 pt",                                                # 5.5 note
    "first we write the chain rule",                                           # 5.6
    "for ce loss the loss only depends on the prediction",                     # 5.7
    "wrong sign lose 0 5 pt",                                                  # 5.7 note
])
def test_solutions_and_notes_only_in_the_solution_pdf(exam, phrase):
    assert phrase in Built.flat(exam.solution_text)
    assert phrase not in Built.flat(exam.student_text)


def test_prompts_are_in_both_views(exam):
    for pdf in (exam.student_text, exam.solution_text):
        flat = Built.flat(pdf)
        for phrase in ("which of the following models are unsupervised learning methods",
                       "for an input feature map of shape 28 28 28",
                       "number of input channels 3 number of filters 5 kernel size 4 stride 2 padding 1",
                       "what is the shape of the weight matrix of the fully connected layer fc1",
                       "performing a weight update for w0",
                       "compute the gradient for the weight w2 3 1",
                       "true class 3"):
            assert phrase in flat, phrase


def test_figures_show_the_computed_network_shapes(exam):
    # Problem 3's network, shapes after each operation, from the seed's text.
    shapes = ["3 × 64 × 64", "50 × 32 × 32", "50 × 16 × 16", "100 × 8 × 8", "100 × 4 × 4",
              "40 × 4 × 4", "30 × 8 × 8", "20 × 16 × 16", "10 × 32 × 32", "5 × 64 × 64"]
    for pdf in (exam.student_text, exam.solution_text):
        text = squash(pdf)
        for caption in ("Figure 3.1: The segmentation network", "Figure 4.1: A segment of a very deep network",
                        "Figure 5.1: The 2-layer fully-connected classifier"):
            assert squash(caption) in text
        for shape in shapes:
            assert squash(shape) in text, shape
        for op in ("conv1", "maxpool1", "conv2", "maxpool2", "fc1", "trconv1", "trconv2", "trconv3", "trconv4"):
            assert op in text


def test_the_2021_helpers():
    assert dlcalc.transposed_sizes_through(4, [(4, 2, 1)] * 4) == [4, 8, 16, 32, 64]
    probs = dlcalc.softmax([1.0, 2.0, 0.5])
    assert dlcalc.cross_entropy(probs, 1) == pytest.approx(-math.log(probs[1]))
    jac = dlcalc.softmax_jacobian(probs)
    assert jac[0][0] == pytest.approx(probs[0] * (1 - probs[0]))
    assert jac[0][2] == pytest.approx(-probs[0] * probs[2])
    assert dlcalc.numeric_derivative(lambda t: t ** 3, 2.0) == pytest.approx(12.0)


def test_formula_of_option_1_9a_stays_on_one_line(exam):
    lines = [line.strip() for line in exam.student.pages[2].splitlines()]
    assert "p(toss result = 1) = 0.7" in lines  # not broken at its "="


@pytest.mark.parametrize("view", ["student", "solution"])
def test_grown_answer_spaces_keep_5_3_to_5_5_on_one_page(exam, view):
    page = squash(getattr(exam, view).pages[13])
    for prompt in ("5.3Showexplicitly", "5.4Similarly,showexplicitly", "5.5UsingtheSoftmaxactivation"):
        assert prompt in page
