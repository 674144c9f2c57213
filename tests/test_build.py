"""The whole pipeline: outputs, the cache, failed builds, concurrent builds."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter

import pytest

from examgen.stages import compile as compile_stage
from examgen.writers import views
from examgen.orchestrate import build
from examgen.project import Project
from examgen.errors import CompileError, ComputeError


def outputs(project):
    folder = project / "build" / "minimal"
    return {name: (folder / name).read_bytes() for name in ("student.pdf", "solution.pdf", "key.json")}


def edit(project, old: str, new: str) -> None:
    path = project / "exams" / "minimal" / "exam.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_no_op_rebuild_runs_no_latex_and_edits_recompile_only_what_they_affect(project, monkeypatch):
    target = Project(project).resolve("minimal")
    assert sorted(build(target).compiled) == ["solution", "student"]
    first = outputs(project)

    def no_latex(job, out):
        raise AssertionError(f"LaTeX ran for {job.name}")

    with monkeypatch.context() as patch:
        patch.setattr(views, "compile_document", no_latex)
        assert build(target).compiled == []
    assert outputs(project) == first

    edit(project, "six sevens make forty-two", "six sevens make forty-two, always")
    assert build(target).compiled == ["solution"]
    assert outputs(project)["student.pdf"] == first["student.pdf"]

    edit(project, "Name a square number.", "Name any square number.")
    assert build(target).compiled == ["student", "solution"]
    assert build(target, force=True).compiled == ["student", "solution"]


def latex_passes(monkeypatch, target) -> dict[str, int]:
    """Build, counting the pdflatex runs per document."""
    counts = Counter()
    real_run = subprocess.run

    def counting_run(command, *args, **kwargs):
        if "pdflatex" in command:
            counts[command[-1]] += 1
        return real_run(command, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(compile_stage.subprocess, "run", counting_run)
        build(target)
    return dict(counts)


def test_latex_runs_only_the_passes_the_page_references_need(project, monkeypatch):
    """From clean, the cover's page count (the last page's reference) needs a second pass;
    an edit that keeps the pagination needs one."""
    target = Project(project).resolve("minimal")
    assert latex_passes(monkeypatch, target) == {"student.tex": 2, "solution.tex": 2}
    edit(project, "six sevens make forty-two", "six sevens make forty-two, always")
    assert latex_passes(monkeypatch, target) == {"solution.tex": 1}


def test_builds_are_reproducible_and_a_corrupt_cache_only_costs_time(project):
    target = Project(project).resolve("minimal")
    build(target)
    first = outputs(project)
    work = project / "build" / ".work" / "minimal"
    (work / "student" / "examgen-cache.json").write_text("{not json")
    assert build(target).compiled == []  # the sources did not change: nothing to do
    (work / "examgen-inputs.json").write_text("[]")
    assert build(target).compiled == ["student"]  # the student view's record is unreadable
    assert outputs(project) == first


def test_a_failed_build_leaves_the_last_good_outputs_untouched(project):
    target = Project(project).resolve("minimal")
    build(target)
    good = outputs(project)
    edit(project, "Name a square number.", r"Name a \undefinedmacro square number.")
    with pytest.raises(CompileError, match=r"part 1\.3: LaTeX error: Undefined control sequence"):
        build(target)
    assert outputs(project) == good
    edit(project, "product = a * b", "product = a / 0")
    with pytest.raises(ComputeError):
        build(target)
    assert outputs(project) == good


def test_key_json(project):
    build(Project(project).resolve("minimal"))
    key = json.loads(outputs(project)["key.json"])
    assert key == {
        "exam": "minimal", "code": "Q0001", "language": "en", "total_points": 4,
        "problems": [{"number": 1, "title": "Arithmetic", "points": 4, "parts": [
            {"number": "1.1", "points": 1, "kind": "choice", "correct": [1], "values": {}},
            {"number": "1.2", "points": 2, "kind": "free", "values": {"a": 6, "b": 7, "product": 42}},
            {"number": "1.3", "points": 1, "kind": "free", "values": {}},
        ]}],
    }


def test_two_builds_at_once_neither_corrupt_nor_mix(project):
    command = [sys.executable, "-m", "examgen.cli", "build", "minimal", "--force"]
    results = []

    def run():
        results.append(subprocess.run(command, cwd=project, capture_output=True, text=True))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    from pypdf import PdfReader

    folder = project / "build" / "minimal"
    assert len(PdfReader(folder / "student.pdf").pages) == len(PdfReader(folder / "solution.pdf").pages)
    assert not list(folder.glob(".*.tmp"))


def test_cli_build_check_list(project):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "examgen.cli", *args], cwd=project, capture_output=True, text=True)

    listed = cli("list")
    assert listed.returncode == 0
    assert "minimal: Test Course (T100 quiz, Q0001, 2024-05-06) - 1 problems, 4 credits" in listed.stdout
    checked = cli("check", "minimal")
    assert checked.returncode == 0 and "minimal: ok (1 problems, 3 parts, 4 credits)" in checked.stdout
    built = cli("build", "--all")
    assert built.returncode == 0 and "minimal: built" in built.stdout
    again = cli("build", "minimal")
    assert "minimal: up to date" in again.stdout
    for usage in (cli("build"), cli("build", "minimal", "minimal", "--out", "x")):
        assert usage.returncode == 2 and "Usage:" in usage.stderr and "internal error" not in usage.stderr
    missing = cli("build", "nosuch")
    assert missing.returncode == 2 and "no exam 'nosuch'" in missing.stderr and "Traceback" not in missing.stderr


def test_a_solution_too_long_for_its_space_is_a_warning_naming_the_part(project):
    long = "Sixteen is the square of four. " * 40
    edit(project, "solution: Sixteen is the square of four, as every square table shows.", f"solution: {long}")
    result = build(Project(project).resolve("minimal"))
    assert len(result.warnings) == 1
    assert "part 1.3: warning: the sample solution does not fit its answer space" in result.warnings[0]
    assert "space is 2cm" in result.warnings[0]
    assert build(Project(project).resolve("minimal")).warnings == result.warnings  # a no-op repeats them
