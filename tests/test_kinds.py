"""A toy part kind, true-or-false, registered for these tests only, goes through every stage:
each either handles it through the kinds' protocol (validation, the schema, rendering with a
theme macro, key.json, the cover's multiple-choice instructions, the solution's crosses, the
layout's check boxes, scanning and scoring, item analysis, shuffling, verify) or refuses it
naming the part (a theme without its macro, Moodle and QTI)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, TypeVar

import pytest
from support import HEADER, write_exam

from examgen import kinds, schema, shapes
from examgen.codes import copy_code as code
from examgen.commands.build import build
from examgen.commands.export import ExportRequest, export
from examgen.errors import Collector, ExamgenError, ExportError
from examgen.kinds.base import BaseAnswer
from examgen.model.source import Text
from examgen.model.tree import SourceMap
from examgen.orchestrate import prepare
from examgen.project import Project
from examgen.stages import validate
from examgen.theme import DEFAULT

T = TypeVar("T")


@dataclass(frozen=True)
class Verdict(BaseAnswer[T]):
    """True or false: two boxes, the solution crosses the right one."""

    labels: tuple[T, ...]  # the boxes' texts, "true" and "false"
    true: bool | None  # None in the student view, which knows no answer
    kind: ClassVar[str] = "truefalse"
    graded: ClassVar[bool] = False

    def public(self) -> tuple[T, ...]:
        return self.labels

    def secrets(self) -> tuple[T, ...]:
        return ()

    def key(self) -> dict:
        return {"verdict": self.true}

    def boxes(self) -> tuple[T, ...]:
        return self.labels

    def crossed(self) -> frozenset[int]:
        return frozenset() if self.true is None else frozenset({1 if self.true else 2})

    def for_student(self) -> Verdict[T]:
        return replace(self, true=None)


class TrueFalseKind:
    name = "truefalse"
    title = "true-or-false"
    hint = "its answer is true or false"
    keys: shapes.Keys = {"verdict": shapes.flag("Whether the prompt is true.")}
    marker = "verdict"

    def claims(self, data: SourceMap) -> bool:
        return self.marker in data

    def validate(self, fields) -> Verdict[Text]:
        loc = fields.loc("verdict")
        return Verdict((Text("true", loc), Text("false", loc)), fields.boolean("verdict", False))

    def finish(self, answer, evaluate):
        return answer


TOY = TrueFalseKind()
EXAM = HEADER + """\
problems:
  - title: Logic
    parts:
      - points: 1
        prompt: Every prime is odd.
        verdict: false
      - points: 2
        prompt: Why?
        space: 2cm
        solution: Two is a prime, and even.
"""
MACRO = r"""
<% macro truefalse(part) %>
<< prompt(part, caller()) >>
\begin{itemize}[label={},leftmargin=9mm]
<% for box in part.answer.boxes() %>
\item[{\egchoicebox[egsolution]{<< 1 if solution and loop.index in part.answer.crossed() else 0 >>}}] << box >>
<% endfor %>
\end{itemize}
\end{egprompt}
<% endmacro %>
"""


@pytest.fixture
def toy(monkeypatch):
    """The toy kind in the registry (before free, which claims any part), its keys known to parts."""
    monkeypatch.setattr(kinds, "KINDS", (*kinds.KINDS[:-1], TOY, kinds.KINDS[-1]))
    monkeypatch.setattr(kinds, "KIND_KEYS", {**kinds.KIND_KEYS, **TOY.keys})
    monkeypatch.setitem(validate.PART_KEYS, "verdict", TOY.keys["verdict"])


def project(folder: Path, macro: bool = True) -> Project:
    """A project with the toy exam; ``macro``: its theme's blocks.tex.j2 has the kind's macro."""
    write_exam(folder / "exams" / "toy", EXAM)
    if macro:
        (folder / "templates").mkdir()
        default = (DEFAULT / "blocks.tex.j2").read_text(encoding="utf-8")
        (folder / "templates" / "blocks.tex.j2").write_text(default + MACRO, encoding="utf-8")
    return Project(folder)


def test_validate_and_the_schema_know_the_toy_kind(toy, tmp_path):
    exam = validate_exam(tmp_path, EXAM)
    part = exam.problems[0].parts[0]
    assert (part.kind, part.answer.true, [box.source for box in part.answer.boxes()]) == \
        ("truefalse", False, ["true", "false"])
    assert "verdict" in json.dumps(schema.exam_schema())
    with pytest.raises(ExamgenError, match=r"part 1\.1.*a multiple-choice part takes no 'verdict'"):
        validate_exam(tmp_path, EXAM.replace("verdict: false", "verdict: false\n        options: [a, b]"))


def validate_exam(folder: Path, text: str):
    from examgen.orchestrate import read_exam

    write_exam(folder / "exams" / "v", text)
    target = Project(folder).resolve("v")
    out = Collector()
    exam = read_exam(target, target.project.theme(), out)
    out.raise_if_any()
    return exam


@pytest.mark.latex
def test_a_theme_without_the_kinds_macro_names_it(toy, tmp_path):
    with pytest.raises(ExamgenError, match="truefalse") as raised:
        build(project(tmp_path, macro=False).resolve("toy"), out_dir=tmp_path / "out")
    assert "part 1.1" in str(raised.value)


@pytest.fixture
def built(toy, tmp_path):
    target = project(tmp_path).resolve("toy")
    result = build(target, out_dir=tmp_path / "out")
    return target, result, tmp_path / "out"


@pytest.mark.latex
def test_every_stage_handles_the_toy_kind_or_refuses_it_by_name(built, tmp_path):
    from examgen.grading.analysis import analyse
    from examgen.grading.scale import resolve
    from examgen.grading.score import Keys, score
    from examgen.grading.sheets import Codes, read_crosses, read_marks
    from examgen.stages.check import read_pdf, words
    from examgen.stages.positions import read_layout
    from examgen.variants import shuffled
    from examgen.verify import _part

    target, result, out = built
    # key.json: the kind's own entries; the solution crosses its right box (the build's check counts the
    # crosses the kinds' records say, and passed)
    key = json.loads((out / "key.json").read_text(encoding="utf-8"))
    assert key["problems"][0]["parts"][0] | {"values": {}, "values_printed": {}} == \
        {"number": "1.1", "points": 1, "kind": "truefalse", "verdict": False, "values": {}, "values_printed": {}}
    # the problem states the multiple-choice rules, as for any part with boxes to cross
    student = read_pdf(out / "student.pdf")
    assert "mark correct answers with a cross" in " ".join(words("\n".join(student.pages)))
    # the layout has its two check boxes
    layout = read_layout(target.work / "student" / "student.pos", len(student.pages))
    assert sorted(mark.key for mark in layout.marks if mark.kind == "checkbox") == \
        [("1", "1.1", "1"), ("1", "1.1", "2")]
    # a scanner's crosses are read and scored against the key: the right box earns the point
    rendered = prepare(target, Collector())
    exam = rendered.exam
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    codes = [code(exam.meta.code, number) for number in (1, 2)]
    (sheets / "marks.csv").write_text("code,registration,name,1.1,1.2\nmax,,,1,2\n" +
                                      "".join(f"{code},,,,1\n" for code in codes), encoding="utf-8")
    (sheets / "crosses.csv").write_text(f"code,part,crossed\n{codes[0]},1.1,2\n{codes[1]},1.1,1\n"
                                        f"{codes[0]},1.2,1\n", encoding="utf-8")
    grading = Collector()
    rows = read_marks(sheets / "marks.csv", exam, Codes(exam.meta.code, sheets / "no-manifest.json"), grading)
    crossed = read_crosses(sheets / "crosses.csv", exam, {row.code for row in rows}, grading)
    assert [error.message for error in grading.errors] == ["part 1.2 is not a multiple-choice part"]
    results = score(tuple(part for _, part in exam.parts()), rows, crossed, Keys(rendered),
                    resolve(None, exam.total_points, grading), grading)
    assert [graded.points for graded in results.graded] == [(1.0, 1.0), (0.0, 1.0)]
    assert analyse(results).options[0].crossed == (1, 1)
    # variants leave it as it is (it does not shuffle); verify compares what it asks for, and finds boxes
    # that print alike
    assert shuffled(exam, "A").problems[0].parts[0].answer == exam.problems[0].parts[0].answer
    part = exam.problems[0].parts[0]
    same = dataclasses.replace(part, answer=dataclasses.replace(part.answer, labels=("yes", "yes")))
    found = Collector()
    seen = _part(same, part, {}, set(), found)
    assert (seen.correct, [error.message for error in found.errors]) == \
        ((), ["options 1 and 2 print the same ('yes')"])
    # Moodle and QTI cannot ask it: an error naming the part, never an essay in its place
    for form in ("moodle", "qti"):
        with pytest.raises(ExportError, match=r"cannot ask a truefalse part") as raised:
            export(target, ExportRequest(form, tmp_path / f"export.{form}", build=out))
        assert raised.value.context == "part 1.1"
