"""Links out of the project: the exam folder (as named, before links), ``exams/lib``, ``templates/`` and
every file of a theme must stay inside where they belong once links are followed, or the build refuses,
naming the link; a TeX work folder keeps no file of a theme a previous build used. Each layout is built
in a temporary project beside a folder of secrets, and no secret may reach a message or an output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import HEADER, write_exam
from test_broken import pdf_bytes

SECRET = "hunter2-creds-7f3a"
CLI = [sys.executable, "-m", "examgen.cli"]

EXAM = HEADER + """\
problems:
  - title: Arithmetic
    compute: |
      import os, sys
      found = [os.path.join(p, "key.txt") for p in sys.path if os.path.isfile(os.path.join(p, "key.txt"))]
      token = open(found[0]).read().strip() if found else "none"
    parts:
      - points: 1
        prompt: "The token is << token >>."
        space: 2cm
        solution: Read from a file.
"""
INCLUDE = "  - include: ../lib/creds.yml\n"  # a problem from the helpers' folder

CREDS = f"""\
- title: Credentials
  parts:
    - points: 1
      prompt: "{SECRET}"
      space: 2cm
      solution: none
"""

TEX_INPUT = HEADER + r"""problems:
  - title: Theme files
    parts:
      - points: 1
        prompt: 'The file says \input{leak.txt}.'
        space: 2cm
        solution: It says what it says.
"""


def secrets(folder: Path) -> Path:
    """A folder outside the project holding what a build must never show: a key, credentials as
    an includable file."""
    folder.mkdir()
    (folder / "key.txt").write_text(SECRET + "\n")
    (folder / "creds.yml").write_text(CREDS)
    return folder


def lib_links_out(project: Path, outside: Path) -> tuple[str, str]:
    write_exam(project / "exams" / "x", EXAM + INCLUDE)
    (project / "exams" / "lib").symlink_to(outside)
    return "x", "exams/lib: "


def lib_is_the_root(project: Path, outside: Path) -> tuple[str, str]:
    write_exam(project / "exams" / "x", EXAM)
    (project / "exams" / "lib").symlink_to("/")
    return "x", "exams/lib: "


def exam_file_links_into_a_folder_whose_lib_links_out(project: Path, outside: Path) -> tuple[str, str]:
    """exams/x/exam.yaml -> inner/exam.yaml: the exam folder is exams/x, its helpers exams/lib; the
    exams/x/lib beside inner/ is no exam's lib."""
    write_exam(project / "exams" / "x" / "inner", EXAM + INCLUDE)
    (project / "exams" / "x" / "exam.yaml").symlink_to("inner/exam.yaml")
    (project / "exams" / "x" / "lib").symlink_to(outside)
    return "x", "exams/x/inner/exam.yaml:"  # the include ../lib/creds.yml leads out: named, refused


def exam_folder_links_out(project: Path, outside: Path) -> tuple[str, str]:
    write_exam(outside / "x", EXAM + INCLUDE)
    secrets(outside / "lib")
    (project / "exams").mkdir()
    (project / "exams" / "x").symlink_to(outside / "x")
    return "x", "exams/x: "


def theme_file_links_out(project: Path, outside: Path) -> tuple[str, str]:
    write_exam(project / "exams" / "x", TEX_INPUT)
    (project / "templates").mkdir()
    (project / "templates" / "leak.txt").symlink_to(outside / "key.txt")
    return "x", "templates/leak.txt: "


def templates_link_out(project: Path, outside: Path) -> tuple[str, str]:
    write_exam(project / "exams" / "x", TEX_INPUT)
    (outside / "theme").mkdir()
    (outside / "theme" / "leak.txt").write_text(SECRET + "\n")
    (project / "templates").symlink_to(outside / "theme")
    return "x", "templates: "


LAYOUTS: list[Callable[[Path, Path], tuple[str, str]]] = [
    lib_links_out, lib_is_the_root, exam_file_links_into_a_folder_whose_lib_links_out, exam_folder_links_out,
    theme_file_links_out, templates_link_out]


def cli(project: Path, *args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=project, capture_output=True, text=True, errors="replace",
                          timeout=600, **options)


def assert_no_secret_in(*folders: Path) -> None:
    """No file under the folders holds the secret, in any of a PDF's streams either."""
    for folder in folders:
        for path in (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            assert SECRET.encode() not in pdf_bytes(path), path


@pytest.mark.latex  # before the refusal, these built (and showed the secret)
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.__name__)
def test_a_link_out_of_the_project_is_refused_naming_it(tmp_path, layout):
    project, out = tmp_path / "project", tmp_path / "out"
    project.mkdir()
    exam, named = layout(project, secrets(tmp_path / "secrets"))
    run = cli(project, "build", exam, "--out", str(out))
    assert run.returncode == 2, run.stderr
    assert named in run.stderr and ("link" in run.stderr or "outside" in run.stderr), run.stderr
    assert SECRET not in run.stderr + run.stdout and "Traceback" not in run.stderr
    assert_no_secret_in(project, tmp_path / "out")


def test_links_that_stay_inside_the_project_are_followed(tmp_path):
    """exams/lib and templates may be links to folders of the project, and the exam folder too."""
    project = tmp_path / "project"
    write_exam(project / "drafts" / "x", EXAM)
    secrets(project / "shared")
    (project / "exams").mkdir()
    (project / "exams" / "x").symlink_to("../drafts/x")
    (project / "exams" / "lib").symlink_to("../shared")
    (project / "faculty").mkdir()
    (project / "templates").symlink_to("faculty")
    run = cli(project, "check", "x")
    assert run.returncode == 0, run.stderr


def test_a_file_of_examgen_templates_that_links_out_of_it_is_refused(tmp_path):
    """$EXAMGEN_TEMPLATES may be anywhere (the operator chose it), but not its files' links."""
    project, theme = tmp_path / "project", tmp_path / "faculty"
    write_exam(project / "exams" / "x", TEX_INPUT)
    theme.mkdir()
    (theme / "leak.txt").symlink_to(secrets(tmp_path / "secrets") / "key.txt")
    run = cli(project, "check", "x", env={**os.environ, "EXAMGEN_TEMPLATES": str(theme)})
    assert run.returncode == 2 and "faculty/leak.txt: a link out of the theme folder" in run.stderr, run.stderr
    assert SECRET not in run.stderr


@pytest.mark.latex
def test_a_work_folder_keeps_no_file_of_a_theme_an_earlier_build_used(tmp_path):
    """A theme's file copied for one build is not there for a later build without that theme."""
    project = tmp_path / "project"
    write_exam(project / "exams" / "x", TEX_INPUT.replace(r"\input{leak.txt}", "nothing"))
    (project / "templates").mkdir()
    (project / "templates" / "leak.txt").write_text(SECRET + "\n")
    assert cli(project, "build", "x").returncode == 0
    (project / "templates" / "leak.txt").unlink()
    (project / "templates").rmdir()
    write_exam(project / "exams" / "x", TEX_INPUT)
    run = cli(project, "build", "x")
    assert run.returncode == 4 and "leak.txt" in run.stderr, run.stderr
    assert_no_secret_in(project / "build" / "x")
