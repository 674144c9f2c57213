"""The command line in the user's environment: signals, output folders it cannot use, a reader that
leaves early, exam folder names that cannot be shown; each with its own message and exit code."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_build import OUTPUTS, edit, outputs, sets

from examgen.commands.build import build
from examgen.project import Project

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "examgen.cli"]


def cli(cwd: Path, *args: str, **options) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, errors="replace", timeout=600,
                          **options)


def assert_clear(run: subprocess.CompletedProcess) -> None:
    """A message for a person: no traceback, no blame on examgen."""
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr


def descendants(pid: int) -> dict[int, bytes]:
    """The processes below pid, with their command lines, read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue  # ended meanwhile
        parents.setdefault(int(stat.rpartition(b")")[2].split()[1]), []).append(int(entry.name))
    found: dict[int, bytes] = {}
    below = [pid]
    while below:
        for child in parents.get(below.pop(), []):
            try:
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                found[child] = b""
            below.append(child)
    return found


def running(pid: int) -> bool:
    """Whether pid is a live process (a zombie has ended: only its exit status waits for a parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0] != b"Z"
    except OSError:
        return False


SLOW = {  # what makes a stage take minutes, and the process that shows it is running
    "compute": ([("extra_pages: 1", "extra_pages: 1\nlimits: {seconds: 120}"),
                 ("a, b = 6, 7", "import time\n      time.sleep(300)\n      a, b = 6, 7")], b"python"),
    "latex": ([("Name a square number.",
                r"Name a square number.\count255=0 \loop\ifnum\count255<2000000000 \advance\count255 by 1 \repeat")],
              b"pdflatex"),
}


@pytest.mark.latex
@pytest.mark.parametrize("stage, signum", [("compute", signal.SIGINT), ("latex", signal.SIGTERM)])
def test_a_signal_stops_a_build_at_once_and_installs_nothing(project, stage, signum):
    build(Project(project).resolve("minimal"))
    good, good_sets = outputs(project), sets(project / "build" / "minimal")
    edits, shows_it = SLOW[stage]
    for old, new in edits:
        edit(project, old, new)
    # SIGINT as a terminal sends it, even when this suite runs as a background job (which ignores it)
    process = subprocess.Popen([*CLI, "build", "minimal"], cwd=project, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        while not any(shows_it in command for command in descendants(process.pid).values()):
            assert process.poll() is None and time.monotonic() < deadline, f"the {stage} stage never started"
            time.sleep(0.1)
        children = descendants(process.pid)
        sent = time.monotonic()
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
        took = time.monotonic() - sent
    finally:
        for pid in [*descendants(process.pid), process.pid]:  # whatever a failing build left
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == 128 + signum, stderr
    assert f"interrupted by {signum.name}" in stderr and "Traceback" not in stderr
    assert took < 10
    assert outputs(project) == good and sets(project / "build" / "minimal") == good_sets
    assert not [children[pid] for pid in children if running(pid)]


def test_output_folders_that_cannot_be_used_are_refused_each_with_its_message(project):
    """Each refusal leaves nothing behind, not even the lock beside the folder (``--out /`` wrote one into /)."""
    (project / "a-file").write_text("not a folder")
    (project / "notes").mkdir()
    (project / "notes" / "README").write_text("the examiner's own")
    (project / "linked").symlink_to("notes")
    before, root_before = sorted(os.listdir(project)), set(os.listdir("/"))
    for out, code, message in [
        ("a-file", 2, "Invalid value for '--out': Directory 'a-file' is a file"),
        ("", 2, "Invalid value for '--out': names no folder"),
        ("notes", 73, "notes: cannot write the outputs here: the folder holds other files (README)"),
        ("linked", 73, "linked: cannot write the outputs here: a link examgen did not make"),
        ("/", 73, "/: cannot write the outputs here: the folder holds other files"),
        ("/proc", 73, "/proc: cannot write the outputs here: the folder holds other files"),
        ("/proc/examgen/out", 73, "/proc/examgen/out: cannot write the outputs: No such file or directory"),
    ]:
        refused = cli(project, "build", "minimal", "--out", out)
        assert refused.returncode == code and message in refused.stderr, (out, refused.stderr)
        assert_clear(refused)
        if "here:" in message:  # refused as it is, before anything was written
            assert sorted(os.listdir(project)) == before and not set(os.listdir("/")) - root_before, out
    assert (project / "a-file").read_text() == "not a folder"
    assert os.listdir(project / "notes") == ["README"]


def in_own_mounts(script: str) -> subprocess.CompletedProcess:
    """Run a shell script in a mount namespace of its own (as root of a user namespace), where it may
    mount a small or read-only file system; skip where the system does not allow that."""
    command = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c"]
    if not shutil.which("unshare") or subprocess.run([*command, "true"], capture_output=True).returncode:
        pytest.skip("no mount namespace here (unshare --user --mount is not allowed)")
    return subprocess.run([*command, script], capture_output=True, text=True, timeout=600)


def digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in OUTPUTS}


@pytest.mark.latex
@pytest.mark.parametrize("problem", ["full", "read-only"])
def test_a_full_or_read_only_output_disk_keeps_the_last_set_and_leaves_no_partial_file(project, tmp_path, problem):
    """--out on a tmpfs that holds one set of outputs but not two, or that turns read-only: the next
    build fails with exit 73 naming the folder and the cause, and the last set is all the disk holds."""
    build(Project(project).resolve("minimal"))  # LaTeX runs here once; the builds below reuse its PDFs
    pages = sum(-(-len(data) // 4096) for data in outputs(project).values())
    disk, report = tmp_path / "disk", tmp_path / "report"
    disk.mkdir()
    report.mkdir()
    size = f"size={pages * 3 // 2 * 4}k" if problem == "full" else "size=4m"
    then = "mount -o remount,ro $disk" if problem == "read-only" else "true"
    result = in_own_mounts(f"""
        set -e
        disk={disk}; report={report}; cd {project}
        mount -t tmpfs -o {size} tmpfs $disk
        {sys.executable} -m examgen.cli build minimal --out $disk/out
        cp -L $disk/out/* $report/ && ls -A $disk > $report/before
        {then}
        rm build/.work/minimal/examgen-inputs.json  # the next build installs again, without LaTeX
        set +e
        {sys.executable} -m examgen.cli build minimal --out $disk/out 2> $report/stderr
        echo $? > $report/exit
        ls -A $disk > $report/after
        for name in {' '.join(OUTPUTS)}; do sha256sum < $disk/out/$name > $report/$name.after; done
    """)
    assert result.returncode == 0, result.stderr
    stderr = (report / "stderr").read_text()
    assert (report / "exit").read_text().strip() == "73", stderr
    cause = "No space left on device" if problem == "full" else "Read-only file system"
    assert f"{os.path.relpath(disk, project)}/out: cannot write the outputs: {cause}" in stderr
    assert "Traceback" not in stderr
    assert (report / "after").read_text() == (report / "before").read_text()  # the set, its link, the lock
    for name, digest in digests(report).items():
        assert (report / f"{name}.after").read_text().split()[0] == digest


@pytest.mark.latex
def test_build_on_a_disk_that_fills_up_while_pdftex_writes_is_exit_73_naming_the_folder(project, tmp_path):
    """build/ on a real tmpfs that holds the documents' sources but not their PDFs: pdfTeX's own
    write failure (`fflush() failed`, `fwrite() failed`) is the folder's problem, not a LaTeX error
    of whatever part TeX was typesetting."""
    report = tmp_path / "report"
    report.mkdir()
    result = in_own_mounts(f"""
        cd {project} && mkdir build && mount -t tmpfs -o size=120k tmpfs build
        {sys.executable} -m examgen.cli build minimal 2> {report}/stderr
        echo $? > {report}/exit
    """)
    assert result.returncode == 0, result.stderr
    stderr = (report / "stderr").read_text()
    assert (report / "exit").read_text().strip() == "73", stderr
    assert "build/.work/minimal/" in stderr and "is the disk full or read-only?" in stderr, stderr
    assert "pdfTeX's f" in stderr and "LaTeX" not in stderr and "additional pages" not in stderr, stderr


def test_a_missing_examgen_templates_folder_is_the_environment(project, tmp_path):
    for command in (["list"], ["build", "minimal"]):
        run = cli(project, *command, env={**os.environ, "EXAMGEN_TEMPLATES": str(tmp_path / "faculty-theme")})
        assert run.returncode == 6
        assert f"error: EXAMGEN_TEMPLATES names '{tmp_path / 'faculty-theme'}', which is not a folder" in run.stderr
        assert_clear(run)


def test_a_reader_that_leaves_early_ends_the_output_quietly(project):
    """`examgen list | head -1`: the pipe's reader is gone before examgen writes."""
    reading, writing = os.pipe()
    os.close(reading)
    try:
        run = subprocess.run([*CLI, "list"], cwd=project, stdout=writing, stderr=subprocess.PIPE, text=True,
                             timeout=600)
    finally:
        os.close(writing)
    assert run.returncode == 141 and run.stderr == ""


def test_exam_folder_names_that_a_terminal_or_latex_cannot_take_are_refused(tmp_path):
    """A byte that is not UTF-8 or a newline in an exam's folder name: `list` shows the exam as
    invalid, escaped, beside the good one; `check` and `build` refuse it before anything runs (a
    newline would end a LaTeX comment that names the source)."""
    for name in ("good", os.fsdecode(b"bad\xff"), "two\nlines"):
        shutil.copytree(REPO / "tests" / "roots" / "minimal", tmp_path / "exams" / name)
    listed = cli(tmp_path, "list")
    assert listed.returncode == 0
    assert "good: Test Course" in listed.stdout
    assert "bad\\xff: invalid (1 problem" in listed.stdout and "two\\nlines: invalid (1 problem" in listed.stdout
    for command, name, what in [("check", os.fsdecode(b"bad\xff"), "a byte that is not UTF-8 (\\xff)"),
                                ("build", "two\nlines", "a control character (\\n)")]:
        refused = cli(tmp_path, command, f"exams/{name}")
        shown = name.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace").replace("\n", "\\n")
        assert refused.returncode == 2
        assert f"error: exams/{shown}/exam.yaml: the exam's path holds {what}: rename the folder" in refused.stderr
        assert_clear(refused)
    assert not (tmp_path / "build").exists()


@pytest.mark.latex
def test_strict_makes_warnings_errors_and_installs_nothing(project):
    """For CI: --strict fails on a warning (exit 7), and a build installs nothing."""
    from test_build import edit

    edit(project, "      product = a * b\n", "      product = a * b\n      spare = 1\n")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "examgen.cli", *args], cwd=project, capture_output=True, text=True)

    checked = cli("check", "--strict", "minimal")
    assert checked.returncode == 7
    assert "warning: defines spare but neither a text of the problem nor the block uses it (an error under " \
           "--strict)" in checked.stderr
    built = cli("build", "--strict", "minimal")
    assert built.returncode == 7 and not (project / "build" / "minimal").exists()
    lenient = cli("build", "minimal")
    assert lenient.returncode == 0 and "warning: defines spare" in lenient.stderr
