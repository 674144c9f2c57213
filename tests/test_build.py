"""The whole pipeline: outputs, the cache, failed builds, concurrent builds."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from examgen import outputs as output_sets
from examgen.commands.build import build
from examgen.errors import CompileError, ComputeError, OutputProblem
from examgen.project import Project
from examgen.stages import compile as compile_stage
from examgen.theme import DEFAULT

pytestmark = pytest.mark.latex  # every test here builds with LaTeX

OUTPUTS = ("student.pdf", "solution.pdf", "key.json")


def outputs(project, folder: Path | None = None) -> dict[str, bytes]:
    """The outputs as one reader sees them: the set the output folder's link points at when read."""
    folder = Path(os.path.realpath(folder or project / "build" / "minimal"))
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def sets(out: Path) -> list[str]:
    """The output sets (and links to be) beside an output folder: what the next build cleans."""
    return sorted(p.name for p in out.parent.glob(f".{out.name}.examgen-*") if not p.name.endswith("-lock"))


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
        patch.setattr(compile_stage, "compile_document", no_latex)
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


def test_a_build_whose_check_fails_installs_nothing(project):
    """A project theme that crosses the options without the mark the check counts: LaTeX succeeds,
    the check finds the solution's crosses missing (exit 5), and the last good outputs stay as they
    were, byte for byte."""
    build(Project(project).resolve("minimal"))
    good, good_sets = outputs(project), sets(project / "build" / "minimal")
    (project / "templates").mkdir()
    blocks = (DEFAULT / "blocks.tex.j2").read_text(encoding="utf-8")
    (project / "templates" / "blocks.tex.j2").write_text(blocks.replace("\\egchoicebox[egsolution]",
                                                                        "\\egcheckbox[egsolution]"))
    failed = subprocess.run([sys.executable, "-m", "examgen.cli", "build", "minimal"], cwd=project,
                            capture_output=True, text=True, timeout=600)
    assert failed.returncode == 5, failed.stderr
    assert "the solution PDF crosses 0 options, the exam has 1 correct ones" in failed.stderr
    assert outputs(project) == good
    assert sets(project / "build" / "minimal") == good_sets


@pytest.mark.parametrize("elsewhere", [False, True], ids=["build-folder", "out-option"])
def test_readers_see_the_old_set_or_the_new_one_never_a_mix(project, monkeypatch, elsewhere):
    """Every rename of the build is watched: before and after each, the output folder holds one
    whole set, the last build's or the new one."""
    target = Project(project).resolve("minimal")
    out_dir = project / "elsewhere" / "out" if elsewhere else None
    folder = out_dir or target.out
    build(target, out_dir)
    old = outputs(project, folder)
    seen: list[dict[str, bytes]] = []
    real_replace = os.replace

    def watched(source, destination, *args, **kwargs):
        seen.append(outputs(project, folder))
        real_replace(source, destination, *args, **kwargs)
        seen.append(outputs(project, folder))

    edit(project, "a, b = 6, 7", "a, b = 6, 8")  # the prompt, the solution and the key all change
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", watched)
        build(target, out_dir)
    new = outputs(project, folder)
    assert all(old[name] != new[name] for name in OUTPUTS)
    assert seen and all(state in (old, new) for state in seen)


def test_the_next_build_removes_what_earlier_ones_left(project):
    """An older examgen's real output folder (with the temporary file of a killed install) becomes a
    set; a set a killed build half wrote and its link are removed by the next build, even one that
    has nothing to do; the set an install replaced stays for its readers until the next build."""
    target = Project(project).resolve("minimal")
    out = target.out
    out.mkdir(parents=True)
    (out / "student.pdf").write_bytes(b"an older build's")
    (out / ".solution.pdf.4242.tmp").write_bytes(b"half a PDF")
    build(target)
    assert out.is_symlink()
    current = os.readlink(out)
    assert len(sets(out)) == 2 and current in sets(out)  # the adopted old folder is the replaced set

    half = out.parent / ".minimal.examgen-0123456789abcdef"
    half.mkdir()
    (half / "student.pdf").write_bytes(b"half a PDF")
    os.symlink(half.name, out.parent / f"{half.name}.link")
    assert build(target).compiled == []
    assert sets(out) == [current]

    edit(project, "six sevens make forty-two", "six sevens make forty-two, always")
    build(target)
    assert sets(out) == sorted([current, os.readlink(out)])
    build(target)
    assert sets(out) == [os.readlink(out)]


def test_a_pdf_viewer_watching_the_output_path_sees_each_rebuild(project):
    """What an auto-reloading viewer does: an inotify watch on build/<id>/student.pdf and on its folder
    (taken through the link, on the set it led to then). A rebuild that installs a new set renames the
    new PDFs into that set too: both watches see the change and read the new PDF; the next rebuild's
    removal of that set is seen as well (a viewer then looks the path up again)."""
    import watchfiles

    target = Project(project).resolve("minimal")
    build(target)
    out = target.out
    opened = Path(os.path.realpath(out))
    changes = watchfiles.watch(out / "student.pdf", out, rust_timeout=5000, yield_on_timeout=True, debounce=200,
                               step=20)
    assert next(changes) == set()  # the watches stand; nothing changed yet
    before = (opened / "student.pdf").read_bytes()
    edit(project, "Name a square number.", "Name a square number, please.")
    build(target)
    seen = next(changes)
    assert {Path(path).name for _, path in seen} >= {"student.pdf", "solution.pdf"}, seen
    assert (opened / "student.pdf").read_bytes() == (out / "student.pdf").read_bytes() != before
    edit(project, "Name a square number, please.", "Name a square number.")
    build(target)
    assert next(changes), "the next rebuild is seen too"
    changes.close()


def test_a_full_disk_while_installing_keeps_the_last_set_and_leaves_no_partial_file(project, monkeypatch):
    """The disk fills up while the new set is written (an OSError injected at the copy of its
    second file): the build fails with exit 73's error, the last set stays, nothing half-written stays."""
    target = Project(project).resolve("minimal")
    build(target)
    good, good_sets = outputs(project), sets(target.out)
    real_copy = output_sets._copy_synced

    def filling_up(source: Path, destination: Path) -> None:
        if destination.name == "solution.pdf":
            destination.write_bytes(source.read_bytes()[:1000])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(destination))
        real_copy(source, destination)

    (target.work / "examgen-inputs.json").unlink()  # a rebuild that installs, without LaTeX
    with monkeypatch.context() as patch:
        patch.setattr(output_sets, "_copy_synced", filling_up)
        with pytest.raises(OutputProblem, match="build/minimal: cannot write the outputs: No space left on device"):
            build(target)
    assert outputs(project) == good
    assert sets(target.out) == good_sets


LIB_HELPER = """\
import json
from pathlib import Path

FACTORS = json.loads((Path(__file__).parent / "factors.json").read_text())


def factors():
    return FACTORS["a"], FACTORS["b"]
"""


def test_editing_a_helper_or_its_data_in_exams_lib_rebuilds_with_the_new_values(project):
    lib = project / "exams" / "lib"
    lib.mkdir()
    (lib / "factors.py").write_text(LIB_HELPER)
    (lib / "factors.json").write_text('{"a": 6, "b": 7}')
    edit(project, "a, b = 6, 7", "from factors import factors\n      a, b = factors()")
    target = Project(project).resolve("minimal")

    def product() -> int:
        key = json.loads(outputs(project)["key.json"])
        return key["problems"][0]["parts"][1]["values"]["product"]

    build(target)
    assert product() == 42
    (lib / "factors.json").write_text('{"a": 6, "b": 8}')
    assert build(target).compiled
    assert product() == 48
    (lib / "factors.py").write_text(LIB_HELPER.replace('FACTORS["a"],', 'FACTORS["a"] + 1,'))
    assert build(target).compiled
    assert product() == 56


def test_key_json(project):
    build(Project(project).resolve("minimal"))
    key = json.loads(outputs(project)["key.json"])
    assert key == {
        "exam": "minimal", "code": "Q0001", "language": "en", "date": "2024-05-06", "start": "09:00",
        "end": "09:30", "duration_minutes": 30, "total_points": 4,
        "problems": [{"number": 1, "title": "Arithmetic", "points": 4, "parts": [
            {"number": "1.1", "points": 1, "kind": "choice", "correct": [1], "values": {}, "values_printed": {}},
            {"number": "1.2", "points": 2, "kind": "free", "values": {"a": 6, "b": 7, "product": 42},
             "values_printed": {"a": "6", "b": "7", "product": "42"}},
            {"number": "1.3", "points": 1, "kind": "free", "values": {}, "values_printed": {}},
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
    assert "minimal: Test Course (T100 quiz, Q0001, 2024-05-06) - 1 problem, 4 credits" in listed.stdout
    checked = cli("check", "minimal")
    assert checked.returncode == 0 and "minimal: ok (1 problem, 3 parts, 4 credits)" in checked.stdout
    built = cli("build", "--all")
    assert built.returncode == 0 and "minimal: built" in built.stdout
    again = cli("build", "minimal")
    assert "minimal: up to date" in again.stdout
    edit(project, "six sevens make forty-two", "six sevens make forty-two, always")
    edited = cli("build", "minimal")
    assert "minimal: built (compiled solution; student unchanged)" in edited.stdout
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


@pytest.mark.latex
@pytest.mark.parametrize("multiple", [2, 4])
def test_extra_pages_fill_the_page_count_up_to_a_multiple(project, multiple):
    """Duplex printing (2) or booklets (4): a copy never shares a sheet with the next one."""
    from pypdf import PdfReader

    edit(project, "extra_pages: 1\n", f"extra_pages: 1\npages_multiple_of: {multiple}\n")
    build(Project(project).resolve("minimal"))
    folder = project / "build" / "minimal"
    student, solution = PdfReader(folder / "student.pdf"), PdfReader(folder / "solution.pdf")
    assert len(student.pages) % multiple == 0 and len(solution.pages) == len(student.pages)
    assert "Additional space for solutions" in student.pages[-1].extract_text()


FIGURES = """    figures:
      - id: left
        caption: A line to the left
        tikz: \\begin{tikzpicture}\\draw (0,0) -- (-1,0) node[left] {west};\\end{tikzpicture}
      - id: right
        caption: A line to the right
        tikz: \\begin{tikzpicture}\\draw (0,0) -- (<< a >>,0) node[right] {east};\\end{tikzpicture}
    parts:
"""


@pytest.mark.latex
def test_each_figure_is_compiled_once_and_again_only_when_it_changes(project, monkeypatch):
    """A figure edit compiles that figure alone (and the views, which include it); a text edit
    compiles no figure; a figure's text stays in the PDFs."""
    from examgen import figures

    compiled: list[list[str]] = []
    real_compile = figures.FigureCache.compile

    def counting(cache, batch, out):
        compiled.append(sorted(code.split("node")[1] for code in batch.values()))
        return real_compile(cache, batch, out)

    monkeypatch.setattr(figures.FigureCache, "compile", counting)
    edit(project, "    parts:\n", FIGURES)
    target = Project(project).resolve("minimal")
    assert sorted(build(target).compiled) == ["solution", "student"]
    assert sorted(name for batch in compiled for name in batch) == ["[left] {west};\\end{tikzpicture}",
                                                                   "[right] {east};\\end{tikzpicture}"]
    from examgen.stages.check import page_texts

    assert "west" in "".join(page_texts(project / "build" / "minimal" / "student.pdf"))

    compiled.clear()
    edit(project, "{east}", "{east, edited}")
    assert sorted(build(target).compiled) == ["solution", "student"]
    assert compiled == [["[right] {east, edited};\\end{tikzpicture}"]]

    compiled.clear()
    edit(project, "six sevens make forty-two", "six sevens make forty-two, still")
    assert build(target).compiled == ["solution"] and compiled == []


def test_a_text_edit_runs_no_python_and_a_block_edit_does(project, monkeypatch):
    """The compute blocks' results are kept in the work folder: an edit of a text, or one that
    moves a block to another line, runs no block; an edit of a block runs them again."""
    from examgen.stages import compute

    runs: list[int] = []
    real_run = compute._run

    def counting(blocks, *args):
        runs.append(len(blocks))
        return real_run(blocks, *args)

    monkeypatch.setattr(compute, "_run", counting)
    target = Project(project).resolve("minimal")
    build(target)
    assert runs == [1]
    edit(project, "six sevens make forty-two", "six sevens make forty-two, again")
    edit(project, "problems:\n", "problems:\n# the block moves a line down\n")
    assert build(target).compiled and runs == [1]
    edit(project, "a, b = 6, 7", "a, b = 6, 8")
    build(target)
    assert runs == [1, 1]
    assert json.loads(outputs(project)["key.json"])["problems"][0]["parts"][1]["values"]["product"] == 48
    monkeypatch.setattr(compute, "sandbox_works", lambda: False)  # outside it a block may read any file
    edit(project, "a, b = 6, 8", "a, b = 6, 9")
    build(target)
    edit(project, "forty-two, again", "forty-two, once more")
    build(target)
    assert runs == [1, 1, 1, 1]


def test_a_build_in_a_new_process_compiles_only_the_texts_that_changed(project, monkeypatch):
    """The texts' compiled templates are kept in the work folder beside the compute results."""
    from examgen.stages import render

    target = Project(project).resolve("minimal")
    monkeypatch.setattr(render, "_KNOWN", {})
    build(target)
    parsed: list[str] = []
    real_parse = render.TemplateSandbox.parse
    monkeypatch.setattr(render.TemplateSandbox, "parse",
                        lambda env, source, *args: parsed.append(source.strip()) or real_parse(env, source, *args))
    monkeypatch.setattr(render, "_KNOWN", {})  # as in a new process: nothing compiled in memory
    edit(project, "six sevens make forty-two", "six sevens make forty-two, again")
    assert build(target).compiled == ["solution"]
    assert parsed == ["The product is << product >> because six sevens make forty-two, again."]
