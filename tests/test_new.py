"""``examgen new``: a commented minimal exam that builds at once, in a folder with nothing else,
and that its editor's schema accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from examgen.schema import SCHEMA_FILES, exam_schema, schema_text
from examgen.stages.load import read_yaml

EXAMGEN = [sys.executable, "-m", "examgen.cli"]


def _examgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXAMGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.latex
@pytest.mark.parametrize("language", ["en", "de"])
def test_a_new_exam_builds_at_once(tmp_path: Path, language: str) -> None:
    made = _examgen("new", "demo", "--language", language, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    exam_file = tmp_path / "exams" / "demo" / "exam.yaml"
    assert exam_file.read_text().startswith("# yaml-language-server: $schema=../examgen.schema.json\n")
    built = _examgen("build", "demo", "--strict", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "1 problem, 3 credits" in built.stdout
    key = json.loads((tmp_path / "build" / "demo" / "key.json").read_text())
    parts = {part["number"]: part for problem in key["problems"] for part in problem["parts"]}
    assert parts["1.1"]["correct"] == [1] and abs(parts["1.2"]["answer"] - 18 ** 0.5) < 1e-9
    cover = subprocess.run(["pdftotext", "-l", "1", str(tmp_path / "build" / "demo" / "student.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert ("Hinweise zur Bearbeitung" if language == "de" else "Working instructions") in cover


def test_a_new_exam_and_its_schemas(tmp_path: Path) -> None:
    assert _examgen("new", "demo", cwd=tmp_path).returncode == 0
    for kind, name in SCHEMA_FILES.items():
        assert (tmp_path / "exams" / name).read_text() == schema_text(included=kind == "included")
    jsonschema.validate(read_yaml(tmp_path / "exams" / "demo" / "exam.yaml"), exam_schema())


@pytest.mark.parametrize(("exam_id", "message"), [
    ("demo", "already exists: choose another id"),
    ("lib", "'lib' cannot name an exam"),
    ("../up", "'../up' cannot name an exam"),
    ("a" * 300, "an exam id of 300 characters is too long: use at most 64"),
    ("abc2\n", "'abc2\\n' cannot name an exam"),  # a newline the id's pattern let through at its end
])
def test_new_refuses_an_id_it_cannot_use(tmp_path: Path, exam_id: str, message: str) -> None:
    assert _examgen("new", "demo", cwd=tmp_path).returncode == 0
    refused = _examgen("new", exam_id, cwd=tmp_path)
    assert refused.returncode == 2 and message in refused.stderr


def test_new_refuses_a_language_the_theme_lacks(tmp_path: Path) -> None:
    refused = _examgen("new", "demo", "--language", "fr", cwd=tmp_path)
    assert refused.returncode == 2 and "no strings for language 'fr'" in refused.stderr
    assert not (tmp_path / "exams" / "demo").exists()
