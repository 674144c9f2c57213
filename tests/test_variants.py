"""Variants (docs/variants.md): the seeding rule, shuffled options and their key, the variants'
outputs, and `examgen verify` passing on a variable copy of a problem of each endterm
(tests/roots/variants) and failing, with the seed named, on broken draws."""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
from pathlib import Path
from textwrap import dedent
from xml.etree import ElementTree as ET

import pytest
from support import HEADER, pypdf_texts, write_exam
from test_cli import assert_clear, cli

from examgen.errors import Collector, ComputeError, ExamgenError, Loc, SourceError, VerifyError
from examgen.kinds.choice import Choice
from examgen.model.rendered import RenderedExam
from examgen.model.source import Part
from examgen.orchestrate import read_exam, render_all
from examgen.project import Project
from examgen.sandbox.draws import Draws, seed, variant_names
from examgen.stages.check import PdfText, read_pdf, unstated
from examgen.verify import Finding, PartSeen, Verdict, p_value

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "tests" / "roots" / "variants"


def project_with(tmp_path: Path, name: str = "variants", source: Path = ROOT) -> Path:
    """A project holding a copy of an exam folder and the shared exams/lib its blocks import."""
    shutil.copytree(source, tmp_path / "exams" / name)
    shutil.copytree(REPO / "exams" / "lib", tmp_path / "exams" / "lib")
    return tmp_path


def rendered(project: Path, name: str = "variants") -> dict:
    target = Project(project).resolve(name)
    theme = target.project.theme()
    out = Collector()
    return dict(render_all(read_exam(target, theme, out), theme, out))


def test_the_seed_is_sha256_of_the_names_and_draws_repeat_on_every_machine():
    assert seed("V0001", "A", "parameters") == 7059649318170417536
    given = variant_names("V0001", "A", "parameters", 0)
    assert given["variant"] == "A"
    assert [given["draw"](1, 100) for _ in range(5)] == [88, 100, 32, 28, 68]
    assert given["distinct"](3, 0, 1, 0.1) == [0.9, 0.3, 0.7]  # rounded to the grid's decimals
    draws = Draws(random.Random(seed("V0001", "A", "parameters")))
    assert draws.shuffled([1, 2, 3, 4]) == [2, 1, 3, 4]
    with pytest.raises(ValueError, match="only 3 lie"):
        draws.distinct(4, 1, 3)


def test_a_problem_draws_from_its_own_seed(tmp_path):
    """The root's draws, fixed: another problem's change, or a machine, moves none of them."""
    variants = rendered(project_with(tmp_path))
    assert list(variants) == ["A", "B", "C", "D"]
    assert variants["A"].values["1.1"] == {"channels": 15, "params": 30, "shown": 32}
    assert variants["B"].values["2.3"]["channels"] == 16
    (tmp_path / "exams" / "variants" / "problems" / "multi-class.yaml").write_text(
        (ROOT / "problems" / "multi-class.yaml").read_text().replace("C = draw(5, 12)", "C = draw(6, 12)"))
    again = rendered(tmp_path)
    assert again["A"].values["1.1"] == variants["A"].values["1.1"]
    assert again["B"].values["2.3"] == variants["B"].values["2.3"]


def test_shuffle_keeps_a_fixed_option_in_place_and_the_key_follows(tmp_path):
    variants = rendered(project_with(tmp_path))
    orders = set()
    for variant in variants.values():
        part = variant.exam.problems[0].parts[0]
        key = part.answer.key()
        orders.add(tuple(key["order"]))
        assert key["order"][3] == 4 and str(part.answer.options[3].text) == "none of the above"
        values = variant.values["1.1"]
        right = 1 if values["shown"] == values["params"] else 4  # the source's number of the right option
        assert [key["order"][place - 1] for place in key["correct"]] == [right]
        assert str(part.answer.options[key["correct"][0] - 1].text) == (
            str(values["shown"]) if right == 1 else "none of the above")
    assert len(orders) > 1  # the variants differ in their order


def test_without_variants_a_block_sees_no_draws(tmp_path):
    write_exam(tmp_path / "exams" / "plain", HEADER + dedent("""
        problems:
          - title: T
            compute: x = draw(1, 9)
            parts:
              - {points: 1, prompt: "<< x >>", solution: s}
        """))
    target = Project(tmp_path).resolve("plain")
    with pytest.raises(ComputeError, match="name 'draw' is not defined"):
        render_all(read_exam(target, target.project.theme(), Collector()), target.project.theme(), Collector())


def test_a_compute_error_is_told_once_naming_the_variants_it_happened_in_unless_all(tmp_path):
    write_exam(tmp_path / "exams" / "fails", HEADER + dedent("""
        variants: 4
        problems:
          - title: Everywhere
            compute: x = 1 / 0
            parts:
              - {points: 1, prompt: "<< x >>", solution: s}
          - title: In B only
            compute: |
              assert variant != "B", "B draws badly"
              y = 1
            parts:
              - {points: 1, prompt: "<< y >>", solution: s}
        """))
    target = Project(tmp_path).resolve("fails")
    with pytest.raises(Exception) as raised:
        render_all(read_exam(target, target.project.theme(), Collector()), target.project.theme(), Collector())
    told = [str(problem).split("exams/fails/")[1] for problem in raised.value.problems]
    assert len(told) == 2, told
    assert told[0].startswith("exam.yaml:13: compute block of problem 1: ZeroDivisionError"), told  # all four
    assert told[1] == "exam.yaml:18: compute block of problem 2 (variant B): assertion failed: B draws badly", told


@pytest.mark.parametrize(("value", "message"), [
    ("0", "'variants' must be a count from 1 to 26"),
    ("[A, A]", "a list of distinct labels"),
    ("per copy", "'per-copy'"),
])
def test_bad_variants_are_refused(tmp_path, value, message):
    write_exam(tmp_path / "exams" / "bad", HEADER + f"variants: {value}\n" + dedent("""
        problems:
          - title: T
            parts:
              - {points: 1, prompt: p, options: [a, b], shufle: true}
        """))
    target = Project(tmp_path).resolve("bad")
    with pytest.raises(Exception) as raised:
        read_exam(target, target.project.theme(), Collector())
    text = str(raised.value)
    assert message in text and "unknown key 'shufle'; did you mean 'shuffle'?" in text


def test_an_expectation_that_fails_names_the_variant_and_the_values(tmp_path):
    write_exam(tmp_path / "exams" / "expect", HEADER + dedent("""
        variants: 10
        problems:
          - title: T
            id: t
            compute: k = draw(1, 3)
            expect: k < 3
            parts:
              - {points: 1, prompt: "<< k >>", solution: s}
        """))
    with pytest.raises(ComputeError) as raised:  # once, naming the variants it happened in
        rendered(tmp_path, "expect")
    assert str(raised.value).split("exams/expect/")[1] == \
        "exam.yaml:15: problem 1 (variants E, J): expect 'k < 3' does not hold (k = 3)"


def test_the_chi_square_p_value():
    assert p_value([250, 250, 250, 250]) == 1.0
    assert p_value([10, 20, 30]) == pytest.approx(0.006737947)  # chi2 = 10, 2 degrees of freedom
    assert p_value([300, 200]) == pytest.approx(7.744216e-6)  # chi2 = 20, 1 degree of freedom
    assert p_value([20, 30, 25, 25]) == pytest.approx(0.5724067)  # chi2 = 2, 3 degrees of freedom


def test_a_number_missing_from_a_solution_pdf_is_found(tmp_path):
    variant: RenderedExam = rendered(project_with(tmp_path))["A"]
    everything = PdfText(["30 32 15 60 16 2 64 128 4"], [], "")
    assert not [m for part, m in unstated(variant, everything) if part.number == "2.3"]
    missing = unstated(variant, PdfText(["30 32 15 60"], [], ""))
    assert ("2.3", "the solution PDF does not show running = 4") in [(p.number, m) for p, m in missing]


@pytest.mark.latex
def test_variants_build_into_their_folders_with_one_key(tmp_path):
    project = project_with(tmp_path)
    run = cli(project, "build", "variants")
    assert run.returncode == 0, run.stderr
    out = project / "build" / "variants"
    key = json.loads((out / "key.json").read_text())
    assert list(key["variants"]) == ["A", "B", "C", "D"] and "problems" not in key
    texts = {}
    for label in key["variants"]:
        for view in ("student", "solution"):
            pages = pypdf_texts(out / label / f"{view}.pdf")
            assert f"Variant {label}" in pages[0] and f"Variant {label}" in pages[1]  # cover and header
        texts[label] = "\n".join(pages)
        running = key["variants"][label]["problems"][1]["parts"][2]["values_printed"]["running"]
        assert f"= {running}" in texts[label]
    assert len(set(texts.values())) == 4


CROSSED_OPTION = re.compile(rb"/ExamgenCross BMC.*?EMC.*?\[(.*?)\]TJ", re.S)  # a crossed box, then its option


def crossed_options(pdf: Path) -> list[str]:
    """The options a solution PDF crosses, by the text it prints after each crossed box (plain words:
    the pieces of the first text-showing operator, kerning left out)."""
    return [b"".join(re.findall(rb"\((.*?)\)", shown)).decode()
            for stream in read_pdf(pdf, texts=None).streams for shown in CROSSED_OPTION.findall(stream)]


@pytest.mark.latex
def test_a_shuffled_key_computed_as_option_numbers_is_read_back_from_the_solution_crosses(tmp_path):
    """The numbers a computed ``correct`` gives are the source's, wherever a variant prints the options."""
    write_exam(tmp_path / "exams" / "numbered", HEADER + dedent("""
        variants: 4
        problems:
          - title: Numbered
            compute: k = draw(1, 4)
            parts:
              - points: 1
                prompt: Which is option << k >> of the source?
                shuffle: true
                options: [alpha, bravo, charlie, delta]
                correct: ["<< k >>"]
        """))
    run = cli(tmp_path, "build", "numbered")
    assert run.returncode == 0, run.stderr
    out = tmp_path / "build" / "numbered"
    source = ["alpha", "bravo", "charlie", "delta"]
    moved = 0
    for label, variant in json.loads((out / "key.json").read_text())["variants"].items():
        part = variant["problems"][0]["parts"][0]
        k, order = part["values"]["k"], part["order"]
        assert crossed_options(out / label / "solution.pdf") == [source[k - 1]], label
        assert [order[place - 1] for place in part["correct"]] == [k], label
        moved += order[k - 1] != k  # printed there is another option than the source's k-th
    assert moved


@pytest.mark.latex
def test_verify_passes_on_a_variable_copy_of_each_endterm(tmp_path):
    project = project_with(tmp_path)
    run = cli(project, "verify", "variants", "--seeds", "1000")
    assert_clear(run)
    assert run.returncode == 0, run.stderr
    assert "1004 variants verified" in run.stdout and "built and checked A, B, C, D" in run.stdout
    assert "; laid out seeds 1, 54, 106, 159, 211, 264, …, 1000 (20 in all)" in run.stdout
    assert "problem 3: 1004" in run.stdout  # every draw of the multi-class problem differs


BROKEN = HEADER + dedent("""
    variants: 2
    problems:
      - title: Broken
        id: broken
        compute: |
          a = draw(0, 9)
          {line}
        parts:
          - points: 1
            prompt: Which?
            options: ["<< a % 4 >>", "<< 1 >>", "<< 2 >>"]
            correct: [1]
    """)


def first_seed(name: str, test) -> int:
    """The first seed whose draw of ``a`` (from 0 to 9, problem 'broken' of exam E1) passes ``test``."""
    return next(n for n in range(1, 1000) if test(variant_names("E1", str(n), "broken", n - 1)["draw"](0, 9)))


@pytest.mark.parametrize(("line", "bad", "message"), [
    ("q = 10 / a", lambda a: a == 0, "ZeroDivisionError: division by zero"),
    ("q = a", lambda a: a % 4 in (1, 2), "print the same"),
])
def test_verify_fails_on_broken_draws_naming_the_seed(tmp_path, line, bad, message):
    write_exam(tmp_path / "exams" / "broken", BROKEN.format(line=line))
    run = cli(tmp_path, "verify", "broken", "--seeds", "300")
    assert_clear(run)
    assert run.returncode == 9, run.stderr
    assert message in run.stderr
    assert f"seeds {first_seed('broken', bad)}," in run.stderr or f"seed {first_seed('broken', bad)} " in run.stderr


def test_verify_fails_on_correct_options_in_one_place(tmp_path):
    write_exam(tmp_path / "exams" / "skewed", HEADER + dedent("""
        variants: 2
        problems:
          - title: Skewed
            compute: z = draw(1, 9)
            parts:
              - points: 1
                prompt: Is << z >> positive?
                options: [positive, negative]
                correct: ["<< 1 if z > 0 else 2 >>"]
        """))
    run = cli(tmp_path, "verify", "skewed", "--seeds", "200")
    assert run.returncode == 9, run.stderr
    assert "part 1.1: its correct options land unevenly over its places (times at each place: 202, 0" in run.stderr


def test_verify_names_options_that_print_alike_by_their_source_numbers_and_finds_decimal_infinity(tmp_path):
    """In a shuffled part the alike options are 1 and 3 of the source wherever a variant prints them
    (one error, not one per printed pair); a Decimal infinity reaches the texts as 'inf' and fails."""
    write_exam(tmp_path / "exams" / "alike", HEADER + dedent("""
        variants: 2
        problems:
          - title: Alike
            compute: a = draw(0, 8)
            parts:
              - points: 1
                prompt: Which?
                shuffle: true
                options: ["<< a % 3 >>", "seven", "<< 1 >>", "eight"]
                correct: [2]
          - title: Infinite
            compute: |
              from decimal import Decimal
              a = draw(0, 8)
              x = Decimal("Infinity") if a == 3 else Decimal(a)
            parts:
              - {points: 1, prompt: "Is << x >> finite?", solution: "It is << x >>."}
        """))
    run = cli(tmp_path, "verify", "alike", "--seeds", "30")
    assert_clear(run)
    assert run.returncode == 9, run.stderr
    alike = [line for line in run.stderr.splitlines() if "print the same" in line]
    assert len(alike) == 1 and alike[0].endswith("options 1 and 3 print the same ('1')"), alike
    assert "part 2.1 (seeds 2, 29 of 32): 'x' is inf, not a finite number" in run.stderr


def test_too_few_variants_for_the_chi_square_test_are_told_by_the_count_expected_per_place():
    part: Part[str] = Part("1.1", None, 1, None, "Which?", Choice((), shuffle=True), False, Loc(Path("exam.yaml"), 9))
    spread = [PartSeen(str(i), "same", (i % 4,), 4) for i in range(19)]
    assert Verdict(parts={"1.1": spread}).skewed(part) == \
        "too few variants to test where its correct options land (19 over 4 places)"  # 4.75 expected per place
    even = [PartSeen(str(i), "same", (i % 4,), 4) for i in range(20)]
    assert Verdict(parts={"1.1": even}).skewed(part) is None
    one_place = [PartSeen(str(i), "same", (0,), 4) for i in range(20)]
    assert isinstance(Verdict(parts={"1.1": one_place}).skewed(part), VerifyError)


def test_verify_needs_variants(tmp_path):
    write_exam(tmp_path / "exams" / "plain", HEADER + dedent("""
        problems:
          - title: T
            parts:
              - {points: 1, prompt: p, solution: s}
        """))
    run = cli(tmp_path, "verify", "plain")
    assert run.returncode == SourceError.exit_code and "has no 'variants'" in run.stderr


@pytest.mark.latex
def test_copies_get_variants_round_robin_and_are_graded_against_their_own_key(tmp_path):
    project = project_with(tmp_path)
    made = cli(project, "copies", "variants", "--count", "6")
    assert made.returncode == 0, made.stderr
    copies = project / "course" / "variants" / "copies"
    entries = json.loads((copies / "manifest.json").read_text())["entries"]
    assert [entry["variant"] for entry in entries] == ["A", "B", "C", "D", "A", "B"]
    pages = pypdf_texts(copies / "print.pdf")
    per_copy = len(pages) // 6
    assert all(f"Variant {entry['variant']}" in pages[index * per_copy] for index, entry in enumerate(entries))
    layout = json.loads((copies / "layout.json").read_text())
    assert list(layout["variants"]) == ["A", "B", "C", "D"]

    key = json.loads((project / "build" / "variants" / "key.json").read_text())["variants"]
    correct = {label: key[label]["problems"][0]["parts"][0]["correct"] for label in key}
    assert correct["A"] != correct["D"]  # a cross right for one variant is wrong for the other
    exported = cli(project, "export", "variants", "--format", "marks", "--out", str(tmp_path / "marks.csv"))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader((tmp_path / "marks.csv").read_text().splitlines()))
    parts = len(rows[0]) - 3
    rows = rows[:2] + [row[:3] + ["0"] * parts for row in rows[2:]]  # the graders' zeros; the crosses score 1.1
    (tmp_path / "marks.csv").write_text("\n".join(",".join(row) for row in rows) + "\n")
    crosses = ["code,part,crossed"] + [  # every copy crosses variant A's key
        f"{entry['code']},1.1,{' '.join(map(str, correct['A']))}" for entry in entries]
    (tmp_path / "crosses.csv").write_text("\n".join(crosses) + "\n")
    graded = cli(project, "grade", "variants", str(tmp_path / "marks.csv"), "--crosses", str(tmp_path / "crosses.csv"),
                 "--out", str(tmp_path / "grading"))
    assert graded.returncode == 0, graded.stderr
    results = {row["code"]: row for row in csv.DictReader((tmp_path / "grading" / "results.csv").open())}
    assert [float(results[entry["code"]]["1.1"]) for entry in entries] == [
        2.0 if correct[entry["variant"]] == correct["A"] else 0.0 for entry in entries]
    report = (tmp_path / "grading" / "report.html").read_text()
    assert "<h2>Difficulty per variant</h2>" in report
    assert all(f"<th>variant {label}</th>" in report for label in "ABCD")


@pytest.mark.latex
def test_copies_of_variants_of_different_lengths_are_as_long_as_the_longest(tmp_path):
    """Variant B's picture pushes the part's answer space onto a page of its own: every copy has B's
    pages, A's end blank (with their QR codes and code, as layout.json says)."""
    write_exam(tmp_path / "exams" / "lengths", HEADER + dedent(r"""
        variants: [A, B]
        extra_pages: 0
        pages_multiple_of: 1
        problems:
          - title: Tall
            compute: height = 1 if variant == "A" else 16
            figures:
              - id: bar
                caption: A bar << height >> cm tall.
                tikz: \begin{tikzpicture}\fill (0,0) rectangle (1,<< height >>);\end{tikzpicture}
            intro: << figure('bar') >>
            parts:
              - {points: 1, prompt: "How tall is the bar?", space: 12cm, solution: "<< height >> cm"}
        """))
    made = cli(tmp_path, "copies", "lengths", "--count", "2")
    assert made.returncode == 0, made.stderr
    built = {label: pypdf_texts(tmp_path / "build" / "lengths" / label / "student.pdf") for label in "AB"}
    assert len(built["A"]) < len(built["B"])
    copies = tmp_path / "course" / "lengths" / "copies"
    manifest = json.loads((copies / "manifest.json").read_text())
    pages = manifest["pages_per_copy"]
    assert pages == len(built["B"]) + len(built["B"]) % 2
    assert [(entry["variant"], entry["first_page"]) for entry in manifest["entries"]] == [("A", 1), ("B", pages + 1)]
    printed = pypdf_texts(copies / "print.pdf")
    assert len(printed) == 2 * pages
    assert "A bar 1 cm tall" in "".join(printed[:len(built["A"])])
    assert all("Figure" not in page and "How tall" not in page for page in printed[len(built["A"]):pages])
    assert all(entry["code"] in page for entry, first in zip(manifest["entries"], (0, pages))
               for page in printed[first:first + pages])  # the code on every page, blank ones too
    layout = json.loads((copies / "layout.json").read_text())["variants"]
    assert [page.get("blank", False) for page in layout["A"]["pages"]] == [
        number > len(built["A"]) for number in range(1, pages + 1)]


@pytest.mark.latex
def test_per_copy_draws_a_fresh_variant_for_every_copy(tmp_path):
    write_exam(tmp_path / "exams" / "fresh", HEADER + dedent("""
        variants: per-copy
        extra_pages: 0
        problems:
          - title: Fresh
            id: fresh
            compute: k = draw(100, 999)
            parts:
              - {points: 1, prompt: "What is << k >> + 1?", answer: k + 1}
        """))
    made = cli(tmp_path, "copies", "fresh", "--count", "4")
    assert made.returncode == 0, made.stderr
    copies = tmp_path / "course" / "fresh" / "copies"
    entries = json.loads((copies / "manifest.json").read_text())["entries"]
    assert [entry["variant"] for entry in entries] == ["1", "2", "3", "4"]
    pages = pypdf_texts(copies / "print.pdf")
    per_copy = len(pages) // 4
    key = json.loads((copies / "key.json").read_text())["variants"]  # every copy's key (issue 28)
    assert list(key) == ["1", "2", "3", "4"]
    for index, entry in enumerate(entries):
        k = variant_names("E1", entry["variant"], "fresh", 0)["draw"](100, 999)  # copy n is seed n
        assert f"What is {k} + 1?" in "\n".join(pages[index * per_copy:(index + 1) * per_copy])
        assert key[entry["variant"]]["problems"][0]["parts"][0]["answer"] == k + 1
    third = entries[2]
    solved = cli(tmp_path, "copies", "fresh", "--count", "4", "--only", third["code"], "--solutions")
    assert solved.returncode == 0, solved.stderr
    k = variant_names("E1", "3", "fresh", 2)["draw"](100, 999)
    solution = "\n".join(pypdf_texts(copies / f"{third['code']}-solution.pdf"))
    assert f"What is {k} + 1?" in solution and str(k + 1) in solution and "Sample Solution" in solution
    assert cli(tmp_path, "export", "fresh", "--format", "moodle").returncode == 0  # every copy's variant asked
    quiz = ET.parse(tmp_path / "course" / "fresh" / "moodle.xml").getroot()
    answers = [float(q.findtext("answer/text")) for q in quiz if q.get("type") == "numerical"]
    assert answers == [key[label]["problems"][0]["parts"][0]["answer"] for label in "1234"]
    refused = cli(tmp_path, "export", "fresh", "--format", "plom")  # a Plom version per copy: none it can have
    assert refused.returncode == 8 and "'variants: per-copy' makes one per copy" in refused.stderr, refused.stderr


def test_a_picture_that_draws_nothing_is_one_for_all_variants():
    from examgen.figures import pictures
    from examgen.orchestrate import prepare_all

    variants = prepare_all(Project(REPO).resolve("sample"), Collector())
    keys = [set(pictures(variant)) for variant in variants.values()]
    assert len(variants) == 2 and keys[0] and keys[0] == keys[1]  # the figure cache compiles each once


def test_the_example_computes_where_it_lies(tmp_path):
    """tests/roots/variants needs no exams/lib: an exam outside a project's exams/ builds as it is."""
    shutil.copytree(ROOT, tmp_path / "variants")
    target = Project(tmp_path).resolve(str(tmp_path / "variants"))
    theme = target.project.theme()
    out = Collector()
    assert list(render_all(read_exam(target, theme, out), theme, out)) == ["A", "B", "C", "D"]


DRAWN_TWICE = HEADER + dedent("""
    variants: 4
    problems:
      - title: Few values
        compute: k = draw(1, 2)
        parts:
          - {points: 1, prompt: "<< k >>", solution: s}
      - title: Text only
        parts:
          - {points: 1, prompt: "No values", solution: s}
    """)


def test_printed_variants_with_the_same_values_are_an_error_naming_them(tmp_path):
    write_exam(tmp_path / "exams" / "twice", DRAWN_TWICE)
    with pytest.raises(ExamgenError) as raised:
        rendered(tmp_path, "twice")
    told = sorted(str(problem).split("exams/twice/")[1] for problem in raised.value.problems)
    assert len(told) == 2, told  # A and C draw 1, B and D 2: each pair once; problem 2 never
    assert all(re.match(r"exam\.yaml:13: problem 1 \(variants [A-D], [A-D]\): the variants print the same "
                        r"values \(k = [12]\): .*deal\(lo, hi\).*'may_repeat: true'", line) for line in told), told


def test_a_problem_that_may_repeat_and_dealt_values_pass(tmp_path):
    write_exam(tmp_path / "exams" / "may", DRAWN_TWICE.replace("compute: k = draw(1, 2)\n",
                                                              "compute: k = draw(1, 2)\n    may_repeat: true\n"))
    assert len(rendered(tmp_path, "may")) == 4
    write_exam(tmp_path / "exams" / "dealt", DRAWN_TWICE.replace("k = draw(1, 2)", "k = deal(1, 4)"))
    assert sorted(variant.values["1.1"]["k"] for variant in rendered(tmp_path, "dealt").values()) == [1, 2, 3, 4]


def test_deal_gives_the_first_variants_different_values_and_then_deals_anew():
    def dealt(position: int, *grid) -> object:
        return variant_names("V0001", "any", "p", position)["deal"](*grid)

    assert sorted(dealt(position, 10, 40, 10) for position in range(4)) == [10, 20, 30, 40]
    assert sorted(dealt(position, 10, 40, 10) for position in range(4, 8)) == [10, 20, 30, 40]
    assert sorted(dealt(position, [(1, 2), (3, 4), (5, 6)]) for position in range(3)) == [(1, 2), (3, 4), (5, 6)]
    assert [dealt(position, 1, 9) for position in range(9)] != [dealt(position, 1, 9) for position in range(9, 18)]
    twice = variant_names("V0001", "A", "p", 0)["deal"]
    assert [twice(1, 1000) for _ in range(3)] != [twice(1, 1000)] * 3  # each call its own pack
    with pytest.raises(ValueError, match="nothing to deal"):
        dealt(0, [])


BALANCE = HEADER + dedent("""
    variants: [A, B, C]
    problems:
      - title: Shown right or wrong
        compute: |
          value = deal(10, 40, 10)
          shown = value + SHIFT
        parts:
          - points: 1
            prompt: "Is << shown >> the value?"
            SHUFFLE
            options:
              - text: "<< shown >>"
                correct: << shown == value >>
              - "<< value + 5 >>"
              - text: None of the above.
                fixed: true
                correct: << shown != value >>
    """)


def test_a_computed_none_of_the_above_correct_in_every_printed_variant_or_none_is_a_warning(tmp_path):
    for name, shift, how in [("none", "0", "none"), ("all", "1", "all")]:
        write_exam(tmp_path / "exams" / name, BALANCE.replace("SHIFT", shift).replace("SHUFFLE", "shuffle: false"))
        target = Project(tmp_path).resolve(name)
        out = Collector()
        render_all(read_exam(target, target.project.theme(), out), target.project.theme(), out)
        assert [w.split(f"exams/{name}/")[1] for w in out.warnings] == [
            f"exam.yaml:17: part 1.1: warning: option 3 ('None of the above.') is correct in {how} of the 3 "
            "variants: make it correct in some and not in others (examgen verify counts how often over its "
            "seeds), so that the paper does not give the answer away"]
    some = BALANCE.replace("SHIFT", "(variant == 'B')").replace("SHUFFLE", "shuffle: false")
    write_exam(tmp_path / "exams" / "some", some)
    out = Collector()
    target = Project(tmp_path).resolve("some")
    render_all(read_exam(target, target.project.theme(), out), target.project.theme(), out)
    assert out.warnings == []


def test_a_shuffled_part_whose_correct_option_stands_alike_in_every_printed_variant_is_a_warning(tmp_path):
    """With the part's id the shuffle's seed changes: some ids land the correct option alike in A, B and
    C, others do not; the warning names only the first."""
    said = {}
    for ident in ("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"):
        source = BALANCE.replace("SHIFT", "0").replace("SHUFFLE", f"id: {ident}\n        shuffle: true")
        source = source.replace("None of the above.", "Nothing")
        write_exam(tmp_path / "exams" / ident, source)
        target = Project(tmp_path).resolve(ident)
        out = Collector()
        variants = render_all(read_exam(target, target.project.theme(), out), target.project.theme(), out)
        places = {tuple(v.exam.problems[0].parts[0].answer.crossed()) for v in variants.values()}
        said[ident] = (len(places) == 1, [w.split(f"exams/{ident}/")[1] for w in out.warnings])
    alike = [ident for ident, (same, _) in said.items() if same]
    assert alike and len(alike) < len(said), said
    for same, warnings in said.values():
        assert warnings == ([f"exam.yaml:17: part 1.1: warning: its correct options stand at the same places in all 3 "
                             f"variants (box {warnings[0].split('(box ')[1][0]}): a neighbour's crosses are right "
                             "in every variant; give the part another 'id', which seeds its shuffle"] if same else [])


@pytest.mark.latex
def test_verify_counts_each_computed_correct_and_warns_of_a_wrong_option_that_prints_the_answer(tmp_path):
    """The lecturer's slip: an option marked wrong by hand that prints the problem's answer for about
    half the seeds is a warning naming them, without an expect; a computed key's options are counted."""
    write_exam(tmp_path / "exams" / "slip", HEADER + dedent("""
        variants: 2
        problems:
          - title: Parameters
            compute: |
              channels = deal(2, 16)
              params = 2 * channels
              shown = params + pick([0, 2])
              off = deal([0, 2])
            parts:
              - points: 1
                prompt: How many parameters has a BatchNorm2d layer over << channels >> channels?
                answer: params
              - points: 1
                prompt: Has it << shown >>?
                options:
                  - "<< shown >>"
                  - text: none of the above
                    correct: true
              - points: 1
                prompt: Has it << params + off >>?
                options:
                  - text: "<< params + off >>"
                    correct: << off == 0 >>
                  - text: none of the above
                    correct: << off != 0 >>
              - points: 1
                prompt: Has it << params >>?
                shuffle: true
                options:
                  - text: "<< params >>"
                    correct: << params > 0 >>
                  - "<< params + 1 >>"
                  - text: none of the above
                    fixed: true
                    correct: << params <= 0 >>
        """))
    run = cli(tmp_path, "verify", "slip", "--seeds", "200")
    assert_clear(run)
    assert run.returncode == 0, run.stderr
    slipped = [line for line in run.stderr.splitlines() if "marked wrong" in line]
    assert len(slipped) == 1 and re.search(
        r"exam\.yaml:22: part 1\.2: warning: option 1 is marked wrong \('correct: false'\) but prints a number "
        r"the problem answers with \((variant [AB], )?seeds [\d, ]+ and \d+ more of 202\): there it may be right",
        slipped[0]), run.stderr
    assert "  part 1.3: correct of 202 variants: option 1 in 101, option 2 in 101" in run.stdout, run.stdout
    assert "part 1.4: warning: option 3 ('none of the above') is correct in none of the 202 variants" in run.stderr


def test_verify_tells_one_bug_once_listing_the_values_it_printed():
    verdict = Verdict(labels=[str(n) for n in range(1, 11)])
    loc = Loc(Path("exam.yaml"), 20)
    for label, value in [("1", "'1'"), ("2", "'2'"), ("4", "'1'"), ("5", "'3'"), ("9", "'4'")]:
        verdict.fail(Finding(f"options 1 and 2 print the same ({value})", loc, "part 1.1"), label)
    verdict.fail(Finding("options 1 and 3 print the same ('2')", loc, "part 1.1"), "3")
    assert [str(error) for error in verdict.errors()] == [
        "exam.yaml:20: part 1.1 (seeds 1, 2, 4 and 2 more of 10): options 1 and 2 print the same ('1'; '2'; '3'; "
        "1 more)",
        "exam.yaml:20: part 1.1 (seed 3 of 10): options 1 and 3 print the same ('2')"]


def test_a_line_about_many_variants_names_their_ends_and_count():
    """A build of 100 named variants compiled 200 views: its summary line and a message naming the
    variants it happened in stay short (issue 28)."""
    from examgen.commands.build import BuildResult
    from examgen.errors import all_named

    labels = [f"V{number}" for number in range(1, 101)]
    views = [f"{label}/{view}" for label in labels for view in ("student", "solution")]
    state = BuildResult(None, None, Path("build"), views, [], []).state  # type: ignore[arg-type]
    assert state.startswith("built (compiled V1/student and V1/solution and ") and len(state) < 200
    assert state.endswith("… and V100/solution (200 in all))")
    assert all_named(labels[:99]).endswith("…, V99 (99 in all)") and all_named(labels[:3]) == "variants V1, V2, V3"


@pytest.mark.latex
def test_verify_compiles_a_spread_of_seeds_and_finds_a_layout_some_draws_break(tmp_path):
    """The issue 28 case: a text only the solution view shows, as long as a draw makes it, pushes the
    next part to another page for some seeds; no named variant shows it, so the build passes, but
    verify compiles both views of 20 seeds spread over all and names the seeds it breaks (exit 9)."""
    from examgen.commands.verify import spread

    write_exam(tmp_path / "exams" / "pushed", HEADER + dedent("""
        variants: 2
        extra_pages: 0
        problems:
          - title: Pushed
            id: pushed
            may_repeat: true  # the named variants draw alike; the seeds differ
            compute: |
              lines = 60 if variant.isdigit() and int(variant) % 7 == 0 else 1
            parts:
              - points: 1
                prompt: |
                  Explain.<% if solution %><% for i in range(lines) %> Line << i >>.\\par<% endfor %><% endif %>
                space: 12cm
                solution: s
              - {points: 1, prompt: And then?, space: 6cm, solution: t}
        """))
    assert cli(tmp_path, "build", "pushed").returncode == 0
    run = cli(tmp_path, "verify", "pushed", "--seeds", "40")
    broken = [seed for seed in spread(40) if int(seed) % 7 == 0]
    assert run.returncode == VerifyError.exit_code, run.stderr
    assert broken == ["7", "28"]
    assert "solution PDF (seeds 7, 28): part 1.1 is on page 3 of the solution, page 2 of the student copy: a " \
        "solution must not change the pagination" in run.stderr
    assert spread(40)[0] == "1" and spread(40)[-1] == "40" and len(spread(40)) == 20 and spread(5) == tuple("12345")
