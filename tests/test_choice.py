"""Choice parts beyond all-or-nothing (issue 28): single choice, a solution and per-option
explanations, the scoring rules with docs/format.md's worked examples, from the source tree
tests/roots/choices built with LaTeX and exported to Moodle XML and QTI."""

from __future__ import annotations

import json
import random
import shutil
import statistics
import zipfile
from xml.etree import ElementTree as ET

import pytest
from support import HEADER, REPO, pypdf_texts, squash, write_exam
from test_cli import cli
from test_exports import QTI, moodle_imports

from examgen.commands.build import build
from examgen.commands.export import ExportRequest, export
from examgen.kinds.choice import ALL_OR_NOTHING, NEGATIVE, PARTIAL, choice_score
from examgen.project import Project
from examgen.sandbox.draws import Draws, seed, variant_names

# docs/format.md, "Scoring rules": a part of 2 points, options 1-4, options 1 and 3 correct
WORKED = [  # crossed, all-or-nothing, partial, negative
    ({1, 3}, 2, 2, 2),
    ({1}, 0, 1.5, 1),
    ({1, 2}, 0, 1, 0),
    ({2}, 0, 0.5, 0),
    (set(), 0, 1, 0),
    ({1, 2, 3, 4}, 0, 1, 0),
]


@pytest.mark.parametrize("crossed, whole, partial, negative", WORKED)
def test_the_scoring_rules_score_the_docs_worked_examples(crossed, whole, partial, negative):
    key = frozenset({1, 3})
    scores = [choice_score(rule, frozenset(crossed), key, 4, 2.0) for rule in (ALL_OR_NOTHING, PARTIAL, NEGATIVE)]
    assert scores == [whole, partial, negative]


def test_a_part_without_correct_options_and_single_choice_under_negative_marking():
    """Nothing correct: cross nothing, under every rule; single choice of 4 options, 1 point, negative:
    a wrong cross costs a third, never below 0 (docs/format.md)."""
    for rule in (ALL_OR_NOTHING, PARTIAL, NEGATIVE):
        assert choice_score(rule, frozenset(), frozenset(), 3, 1.0) == 1
        assert choice_score(rule, frozenset({2}), frozenset(), 3, 1.0) == 0
    assert choice_score(NEGATIVE, frozenset({2}), frozenset({2}), 4, 1.0) == 1
    assert choice_score(NEGATIVE, frozenset({2, 3}), frozenset({2}), 4, 3.0) == 2
    assert choice_score(NEGATIVE, frozenset({1}), frozenset({2}), 4, 3.0) == 0


@pytest.fixture(scope="module")
def choices(tmp_path_factory):
    root = tmp_path_factory.mktemp("choices")
    shutil.copytree(REPO / "tests" / "roots" / "choices", root / "exams" / "choices")
    target = Project(root).resolve("choices")
    result = build(target)
    return root, target, result


def _views(root):
    views = root / "build" / "choices"
    return [" ".join(" ".join(page.split()) for page in pypdf_texts(views / f"{view}.pdf"))
            for view in ("student", "solution")]


@pytest.mark.latex
def test_solution_and_explanations_stand_in_the_room_the_student_copy_leaves_blank(choices):
    root, _, _ = choices
    student, solution = _views(root)
    for secret in ("is odd, so its outputs centre on 0", "its outputs lie in", "Only an odd function is centred"):
        assert secret in solution and secret not in student
    assert "a+b=7" in solution.replace(" ", "")
    # the legend once, before the first choice part; its rules as the parts have them, each part naming its own
    for view in (student, solution):
        assert view.count("Please note") == 1
        assert "exactly one correct answer" in view
        assert "(2 p, partial credit)" in view and "(1 p, negative marking)" in view
        assert "For each question marked partial credit, every box answered correctly" in view
        assert "no question scores below 0" in view
    key = json.loads((root / "build" / "choices" / "key.json").read_text())
    parts = [part for problem in key["problems"] for part in problem["parts"]]
    assert [(p["single"], p["scoring"]) for p in parts] == [
        (True, ALL_OR_NOTHING), (False, PARTIAL), (False, NEGATIVE), (False, ALL_OR_NOTHING)]


@pytest.mark.latex
def test_moodle_and_qti_carry_single_choice_scoring_and_explanations(choices, tmp_path):
    _, target, _ = choices
    exported = export(target, ExportRequest("moodle", tmp_path / "moodle.xml"))
    assert [w.split(": ", 2)[1:] for w in exported.warnings if "'partial'" in w] == [[
        "part 1.2", "warning: it scores 'partial' on paper (each box right earns its share), which Moodle cannot "
        "grade: Moodle scores it as 'negative' (a wrong cross costs its share)"]]
    quiz = ET.parse(exported.path).getroot()
    moodle_imports(quiz)
    asked = [q for q in quiz if q.get("type") != "category"]
    single = asked[0]
    assert single.findtext("single") == "true"
    assert [a.get("fraction") for a in single.findall("answer")] == ["100", "0", "0"]  # no "none of these"
    assert "is odd" in single.findtext("answer/feedback/text")
    assert "Only an odd function" in single.findtext("generalfeedback/text")
    assert [a.get("fraction") for a in asked[2].findall("answer")] == ["100", "-100", "-100"]  # negative: 1 wrong
    package = zipfile.ZipFile(export(target, ExportRequest("qti", tmp_path / "qti.zip")).path)
    items = [ET.fromstring(package.read(f"item-{number}.xml")) for number in ("1.1", "1.2", "1.3")]
    assert items[0].find(f"{QTI}responseDeclaration").get("cardinality") == "single"
    assert items[0].find(f".//{QTI}choiceInteraction").get("maxChoices") == "1"
    assert items[0].find(f".//{QTI}feedbackInline[@identifier='option-1']") is not None
    # the mapping QTI scores by, against the rule: every reading of 1.2 (partial) and 1.3 (negative)
    for item, rule, points, correct in ((items[1], PARTIAL, 2.0, {1, 3}), (items[2], NEGATIVE, 1.0, {1})):
        count = len(item.findall(f".//{QTI}simpleChoice")) - 1  # the added "none of these"
        for reading in range(1, 2 ** count):
            crossed = frozenset(n for n in range(1, count + 1) if reading >> (n - 1) & 1)
            assert _qti_score(item, crossed) == pytest.approx(choice_score(rule, crossed, frozenset(correct), count,
                                                                           points))


def _qti_score(item: ET.Element, crossed: frozenset[int]) -> float:
    """A QTI item's SCORE for a non-empty response, as its mapped sum: the base value plus each
    crossed option's mapped value, floored at the mapping's lowerBound."""
    mapping = item.find(f"{QTI}responseDeclaration/{QTI}mapping")
    values = {entry.get("mapKey"): float(entry.get("mappedValue")) for entry in mapping}
    mapped = sum(values[f"option-{n}"] for n in crossed)
    if mapping.get("lowerBound") is not None:
        mapped = max(float(mapping.get("lowerBound")), mapped)
    base = float(item.find(f".//{QTI}sum/{QTI}baseValue").text)
    return base + mapped


# --- draw helpers and generated options ------------------------------------------------------------


def _draws(label: str = "A") -> Draws:
    return Draws(random.Random(seed("G1", label, "t-test")))


def test_normal_and_uniform_draws_have_their_moments_and_repeat_for_a_seed():
    normal = _many(lambda d: d.normal(100, 15))
    assert abs(statistics.mean(normal) - 100) < 1 and abs(statistics.stdev(normal) - 15) < 1
    uniform = _many(lambda d: d.uniform(2, 4))
    assert 2 <= min(uniform) and max(uniform) < 4 and abs(statistics.mean(uniform) - 3) < 0.05
    assert _draws().normal() == _draws().normal()  # the same seed, the same value (Box-Muller on rng.random())


def _many(draw, count: int = 4000) -> list[float]:
    draws = _draws()
    return [draw(draws) for _ in range(count)]


def test_sampling_with_and_without_replacement_and_weights():
    draws = _draws()
    for _ in range(200):
        chosen = draws.sample(range(10), 10)
        assert sorted(chosen) == list(range(10))  # without replacement: each once
        weighted = draws.sample("abcd", 3, weights=[0, 1, 1, 1])
        assert "a" not in weighted and len(set(weighted)) == 3
    with_replacement = draws.sample([1, 2], 50, replace=True)
    assert set(with_replacement) == {1, 2}
    picks = [draws.weighted("xyz", [1, 0, 3]) for _ in range(2000)]
    assert "y" not in picks and 0.7 < picks.count("z") / len(picks) < 0.8
    with pytest.raises(ValueError, match="3 items wanted without replacement"):
        draws.sample([1, 2], 3)
    with pytest.raises(ValueError, match="not all 0"):
        draws.weighted("ab", [0, 0])


@pytest.mark.parametrize("label", [str(n) for n in range(1, 101)])
def test_numbers_near_gives_distinct_rounded_options_with_the_correct_one_among_them(label):
    draws = _draws(label)
    correct = draws.normal(0, 3)
    options, right = draws.numbers_near(correct, count=5, distance=0.3, places=2, positive=False)
    assert len(options) == 5 and options[right - 1] == round(correct, 2)
    assert all(abs(a - b) >= 0.3 - 0.005 for i, a in enumerate(options) for b in options[i + 1:])
    assert all(option == round(option, 2) for option in options)
    positive, _ = draws.numbers_near(12.5, count=4, distance=0.1, relative=True, places=1)
    assert all(value > 0 for value in positive) and len({f"{v:.1f}" for v in positive}) == 4


def test_numbers_near_refuses_a_distance_below_the_rounding_and_too_little_room():
    with pytest.raises(ValueError, match="less than the rounding's step"):
        _draws().numbers_near(1.0, distance=0.001, places=2)
    with pytest.raises(ValueError, match="no 5 options"):
        _draws().numbers_near(1.0, count=5, distance=1, places=0, spread=1)


def test_statements_keep_each_fact_with_its_truth():
    facts = [("a", True), ("b", False), ("c", True)]
    texts, holding = _draws().statements(facts)
    assert sorted(texts) == ["a", "b", "c"]
    assert {texts[n - 1] for n in holding} == {"a", "c"}


@pytest.mark.latex
def test_generated_options_are_made_per_variant_keyed_and_verified(tmp_path):
    """tests/roots/generated: the options of every variant are the computed list's, printed as num
    prints them, the key the computed one; verify over 100 seeds finds nothing wrong."""
    shutil.copytree(REPO / "tests" / "roots" / "generated", tmp_path / "exams" / "generated")
    target = Project(tmp_path).resolve("generated")
    build(target)
    key = json.loads((tmp_path / "build" / "generated" / "key.json").read_text())
    for label in "ABC":
        names = variant_names("G1", label, "t-test", "ABC".index(label))
        exec(compile(_compute(), "block", "exec"), names)  # the block again, with this variant's draws
        options, right = names["options"], names["right"]
        student = squash(" ".join(pypdf_texts(tmp_path / "build" / "generated" / label / "student.pdf")))
        assert all(f"{abs(value):.2f}" in student for value in options)  # the sign is math's minus
        parts = key["variants"][label]["problems"][0]["parts"]
        assert parts[0]["correct"] == [right] and parts[0]["single"]
        assert parts[1]["correct"] == names["holding"] and parts[1]["scoring"] == PARTIAL
    verified = cli(tmp_path, "verify", "generated", "--seeds", "100")
    assert verified.returncode == 0, verified.stderr


def _compute() -> str:
    import yaml

    return yaml.safe_load((REPO / "tests" / "roots" / "generated" / "exam.yaml").read_text())["problems"][0]["compute"]


def test_grade_scores_each_part_by_its_rule_against_the_copys_key(tmp_path):
    """tests/roots/choices graded from a scanner's crosses (grading/score.py): the single-choice part
    all or nothing, 1.2 partial (2 points, 4 options, 1 and 3 correct: the docs' worked example), 1.3
    negative (1 point, 1 of 2 correct), 2.1 all or nothing; the exam's total and grade follow."""
    from examgen.errors import Collector, Loc
    from examgen.grading.scale import resolve
    from examgen.grading.score import Keys, score
    from examgen.grading.sheets import Crossed, Row
    from examgen.orchestrate import prepare

    shutil.copytree(REPO / "tests" / "roots" / "choices", tmp_path / "exams" / "choices")
    rendered = prepare(Project(tmp_path).resolve("choices"), Collector())
    parts = tuple(part for _, part in rendered.exam.parts())
    loc = Loc(tmp_path / "crosses.csv", 2)
    readings = {"A": {"1.1": {1}, "1.2": {1}, "1.3": {1, 2}, "2.1": {1}},
                "B": {"1.1": {2}, "1.2": {1, 2}, "1.3": {1}, "2.1": set()}}
    crossed = tuple(Crossed(code, part, frozenset(options), loc) for code, marks in readings.items()
                    for part, options in marks.items())
    rows = tuple(Row(code, "", "", {part.number: None for part in parts}, loc) for code in readings)
    out = Collector()
    results = score(parts, rows, crossed, Keys(rendered), resolve(None, rendered.exam.total_points, out), out)
    assert [graded.points for graded in results.graded] == [(2, 1.5, 0, 1), (0, 1, 1, 0)]
    assert [graded.total for graded in results.graded] == [4.5, 2]


def test_a_copy_is_scored_by_its_variants_own_count_of_generated_options(tmp_path):
    """Partial credit counts the boxes a copy's variant printed: generated options may number 3 in one
    variant and 5 in another (grading/score.py, Keys.answer)."""
    from examgen.errors import Collector, Loc
    from examgen.grading.scale import resolve
    from examgen.grading.score import Keys, score
    from examgen.grading.sheets import Crossed, Row
    from examgen.orchestrate import read_exam, render_all

    (tmp_path / "exams" / "count").mkdir(parents=True)
    (tmp_path / "exams" / "count" / "exam.yaml").write_text(HEADER + """variants: [A, B]
problems:
  - title: Count
    compute: |
      count = 3 if variant == "A" else 5
      options = [[n, n == 1] for n in range(1, count + 1)]
    parts:
      - {points: 3, prompt: Which is 1?, scoring: partial, options: options}
""")
    target = Project(tmp_path).resolve("count")
    out = Collector()
    variants = render_all(read_exam(target, target.project.theme(), out), target.project.theme(), out)
    first = variants["A"]
    loc = Loc(tmp_path / "crosses.csv", 2)
    crossed = tuple(Crossed(code, "1.1", frozenset({1}), loc) for code in ("a", "b"))
    rows = tuple(Row(code, "", "", {"1.1": None}, loc) for code in ("a", "b"))
    keys = Keys(first, variants, {"a": "A", "b": "B"})
    parts = tuple(part for _, part in first.exam.parts())
    results = score(parts, rows, crossed, keys, resolve(None, 3, out), out)
    assert [graded.points for graded in results.graded] == [(3,), (3,)]  # every box right, of 3 and of 5
    crossed = tuple(Crossed(code, "1.1", frozenset({1, 2}), loc) for code in ("a", "b"))
    results = score(parts, rows, crossed, keys, resolve(None, 3, out), out)
    assert [graded.points for graded in results.graded] == [(2,), (2.4,)]  # one box wrong: of 3, of 5
    from examgen.grading.analysis import analyse

    # the report's option counts: a row per variant (their options differ), each of its own boxes
    assert [(stats.variants, stats.crossed) for stats in analyse(results).options] == [
        (("A",), (1, 1, 0)), (("B",), (1, 1, 0, 0, 0))]


def test_verify_finds_the_seeds_whose_computed_key_makes_a_single_choice_part_other_than_single(tmp_path):
    """A single-choice part whose key is computed per option: both options hold where the draw is 18 to 20,
    about one seed in seven; verify names those seeds, once, before any LaTeX runs."""
    from examgen.commands.verify import verify
    from examgen.errors import ExamgenError

    write_exam(tmp_path / "exams" / "sc", HEADER + """variants: 2
problems:
  - title: P
    compute: x = draw(0, 20)
    parts:
      - points: 1
        prompt: Which holds for $<< x >>$?
        single: true
        options:
          - text: at most 18
            correct: << x <= 18 >>
          - text: above 17
            correct: << x > 17 >>
""")
    with pytest.raises(ExamgenError) as raised:
        verify(Project(tmp_path).resolve("sc"), seeds=100, layouts=0)
    found = [str(problem) for problem in raised.value.problems if "single-choice" in str(problem)]
    assert len(found) == 1 and "seeds " in found[0], found
    assert found[0].endswith("a single-choice part has exactly one correct option, but these values make 2 "
                             "correct (options 1, 2): change the computation or its 'correct'")
