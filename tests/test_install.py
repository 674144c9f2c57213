"""examgen as a user installs it: `pip install .` (not editable) into a fresh virtual environment,
then a build from a folder that holds nothing but an exams/ tree: the theme ships in the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from support import REPO

SHIPPED = ("pyproject.toml", "README.md", "src")  # what `pip install .` reads of a clone


@pytest.mark.latex
@pytest.mark.install
def test_a_wheel_install_builds_an_exam_from_a_folder_with_only_exams(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in SHIPPED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, clone / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, clone / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                                str(clone)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    shutil.rmtree(clone)  # the installed package must not need the sources

    project = tmp_path / "course"
    shutil.copytree(REPO / "exams" / "sample", project / "exams" / "sample",
                    ignore=shutil.ignore_patterns("test_*.py", "__pycache__"))
    shutil.copytree(REPO / "exams" / "lib", project / "exams" / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([str(venv / "bin" / "examgen"), "build", "sample"], cwd=project,
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert "sample: built (compiled A/student and A/solution and B/student and B/solution) -> build/sample/" \
        in built.stdout
    for name in ("A/student.pdf", "A/solution.pdf", "B/student.pdf", "B/solution.pdf", "key.json"):
        assert (project / "build" / "sample" / name).stat().st_size > 1000
    assert sorted(p.name for p in project.iterdir()) == ["build", "exams"]

    started = subprocess.run(f"{venv}/bin/examgen new demo && {venv}/bin/examgen build demo", shell=True,
                             cwd=project, capture_output=True, text=True)  # the new exam ships in the package
    assert started.returncode == 0, started.stderr
    page = subprocess.run([str(venv / "bin" / "python"), "-c", "from importlib.resources import files; "
                           "print(files('examgen.serve').joinpath('page.html').read_text()[:15])"],
                          capture_output=True, text=True)
    assert page.stdout == "<!DOCTYPE html>\n", page.stderr  # the preview's page too
