"""``examgen schema``: every exam of the repository validates against it, and the structural
mistakes of the broken corpus are rejected by it (the others need the validator's or the
build's knowledge: computed values, files, LaTeX)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from examgen.cli import main
from examgen.schema import SCHEMA_FILES, exam_schema, included_schema, schema_text
from examgen.stages.load import load, read_yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMS = sorted(p.parent for p in (ROOT / "exams").glob("*/exam.yaml"))
BROKEN = ROOT / "tests" / "broken"
STRUCTURAL = {  # the cases of tests/broken/ whose mistake is one of structure, with what the schema says
    # unknown keys
    "unknown-key-exam": "'instruction' was unexpected",
    "unknown-key-no-suggestion": "'difficulty' was unexpected",
    "unknown-key-part": "'solutoin' was unexpected",
    "unknown-key-problem": "'credit' was unexpected",
    "include-unknown-key": "'notse' was unexpected",
    "several-mistakes": "'spcae' was unexpected",
    # missing required keys
    "missing-exam-key": "'code' is a required property",
    "missing-required-key": "'prompt' is a required property",
    # wrong types
    "points-not-a-number": "'two' is not of type 'number'",
    "bad-date-words": "'next Monday' is not a 'date'",
    # values out of range
    "points-negative": "-1 is less than or equal to the minimum of 0",
    "points-not-half-step": "0.3 is not a multiple of 0.5",
    "points-huge": "1000000000 is greater than the maximum of 100",
    "bad-limits": "0 is less than or equal to the minimum of 0",
    "bad-time": "'25:00' does not match",
    "bad-date": "'2022-02-30' is not a 'date'",
    "source-extra-pages-huge": "1000000000 is greater than the maximum of 20",
    # empty lists
    "no-problems": "[] should be non-empty",
    "problem-without-parts": "[] should be non-empty",
    "options-empty": "[] is not valid under any of the given schemas",  # a list of options, or a computed list's name
    # a key of another kind of part (a multiple-choice part with a tolerance)
    "choice-with-tolerance": "False schema does not allow 0.5",
}


def _validator(schema: dict) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _mistakes(exam_folder: Path) -> list[str]:
    """What the schemas find in an exam's files: exam.yaml by the exam schema, each file it
    includes by the included file's, as an editor checks each file it opens."""
    exam_file = exam_folder / "exam.yaml"
    found = [f"{exam_file.name}: {e.message}" for e in _validator(exam_schema()).iter_errors(read_yaml(exam_file))]
    included = _validator(included_schema())
    for path in load(exam_file).files[1:]:
        found += [f"{path.name}: {e.message}" for e in included.iter_errors(read_yaml(path))]
    return found


def test_schema_is_a_valid_json_schema() -> None:
    for schema in (exam_schema(), included_schema()):
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("exam", EXAMS, ids=lambda p: p.name)
def test_every_exam_validates(exam: Path) -> None:
    assert _mistakes(exam) == []


@pytest.mark.parametrize("case", STRUCTURAL)
def test_structural_mistakes_are_rejected(case: str) -> None:
    assert any(STRUCTURAL[case] in mistake for mistake in _mistakes(BROKEN / case)), _mistakes(BROKEN / case)


def test_valid_corpus_cases_validate() -> None:
    valid = sorted(p for p in BROKEN.glob("valid-*") if (p / "exam.yaml").is_file())
    assert valid and {p.name: _mistakes(p) for p in valid} == {p.name: [] for p in valid}


def test_schema_command_prints_the_schemas() -> None:
    runner = CliRunner()
    assert json.loads(runner.invoke(main, ["schema"]).stdout) == exam_schema()
    assert json.loads(runner.invoke(main, ["schema", "--included"]).stdout) == included_schema()


@pytest.mark.parametrize("kind", SCHEMA_FILES)
def test_committed_schemas_are_current(kind: str) -> None:
    """exams/ holds the schemas the exams' editors use; they are examgen's own, unchanged."""
    assert (ROOT / "exams" / SCHEMA_FILES[kind]).read_text() == schema_text(included=kind == "included")
