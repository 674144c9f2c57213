"""Stage 3: compute blocks in a contained child process.

Tests that take the ``sandbox`` fixture run twice: in bubblewrap, and as on a machine where
bubblewrap is missing (not on PATH), where the limits must hold all the same.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import HEADER, write_exam

from examgen.errors import Collector, ComputeError, EnvironmentProblem, ExamgenError
from examgen.sandbox.bubblewrap import sandbox_works
from examgen.stages.compute import compute
from examgen.stages.load import load
from examgen.stages.validate import validate


def run(folder: Path, body: str, out: Collector | None = None):
    out = out or Collector()
    return compute(validate(load(write_exam(folder, HEADER + body)), "t", out), out)


@pytest.fixture(params=["bubblewrap", "no bubblewrap"])
def sandbox(request, monkeypatch):
    if request.param == "no bubblewrap":
        monkeypatch.setenv("PATH", str(Path(sys.executable).parent))  # the venv's bin: no bwrap there
    elif not sandbox_works():
        pytest.skip("bubblewrap can't make a sandbox here")
    sandbox_works.cache_clear()
    yield request.param
    sandbox_works.cache_clear()


def processes() -> dict[int, tuple[int, str, str]]:
    """Every process of the machine: pid -> (parent's pid, state, start time)."""
    table = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:  # it ended meanwhile
            continue
        if stat:
            fields = stat[stat.rindex(")") + 2:].split()
            table[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return table


def descendants(pid: int) -> set[tuple[int, str]]:
    """The processes below ``pid``, each with its start time, so that a reused pid isn't taken
    for one of them."""
    table, found, parents = processes(), set(), [pid]
    while parents:
        parent = parents.pop()
        for child, (ppid, _, start) in table.items():
            if ppid == parent:
                found.add((child, start))
                parents.append(child)
    return found


def alive(seen: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """Those of ``seen`` that still run (a zombie has ended: it only waits to be reaped)."""
    table = processes()
    return {(pid, start) for pid, start in seen if pid in table and table[pid][2] == start and table[pid][1] != "Z"}


@contextmanager
def watched(pid: int) -> Iterator[set[tuple[int, str]]]:
    """Every process seen below ``pid`` while the block runs, whatever its name or session (those
    that ran before, say of an earlier test in this process, are not the block's)."""
    seen: set[tuple[int, str]] = set()
    before = descendants(pid)
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.update(descendants(pid) - before)
            stop.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield seen
    finally:
        stop.set()
        watcher.join()


def problem(code: str, limits: str = "") -> str:
    indented = "\n".join("      " + line for line in code.strip().splitlines())
    return f"""{limits}
problems:
  - title: P
    compute: |
{indented}
    parts:
      - points: 1
        prompt: <<x>>
        solution: s
"""


def test_exam_values_reach_problems_and_only_data_crosses(tmp_path):
    exam = run(tmp_path, "compute: |\n  base = 2\n  def helper(v):\n    return v * 10\n"
               + problem("import math\nx = helper(base)\nratio = 0.1 * 6.5\nf = math.sqrt"))
    values = exam.scopes[1].values
    assert values["x"] == 20 and values["base"] == 2 and values["ratio"] == pytest.approx(0.65)
    assert "helper" not in values and "math" not in values and "f" not in values
    assert exam.scopes[1].defined == ("x", "ratio")  # data it defined itself, not inherited


def test_numpy_values_cross_as_numbers_and_lists(tmp_path, sandbox):
    """NumPy (the ``numpy`` extra, which `make` installs) works in the sandbox; its values reach
    the texts as plain numbers and lists."""
    exam = run(tmp_path, problem("import numpy as np\nw = np.array([[1.0, 2.0], [3.0, 4.0]])\n"
                                 "y = w @ np.array([0.5, -1.0])\ntotal = y.sum()\ncount = np.int64(3)"))
    values = exam.scopes[1].values
    assert values["y"] == [-1.5, -2.5] and values["total"] == -4.0 and values["count"] == 3
    assert type(values["count"]) is int and type(values["total"]) is float


def test_assert_reports_its_yaml_line(tmp_path):
    with pytest.raises(ComputeError) as info:
        run(tmp_path, problem("x = 1\nassert x == 2, 'x must be two'"))
    error = info.value
    assert error.loc.line == 14 and error.context == "compute block of problem 1"
    assert "assertion failed: x must be two" in str(error)


def test_exception_and_syntax_error_name_the_failing_line(tmp_path):
    with pytest.raises(ComputeError, match="ZeroDivisionError") as info:
        run(tmp_path, problem("x = 1\ny = 2\nz = x / 0"))
    assert info.value.loc.line == 15
    with pytest.raises(ComputeError, match="syntax error") as info:
        run(tmp_path, problem("x = 1\ny = = 2"))
    assert info.value.loc.line == 14


def test_endless_loop_is_stopped_within_the_limit_and_leaves_no_process(tmp_path, sandbox):
    code = """
import subprocess, sys
try:  # a process of its own, in a session of its own, would have to end with the block too
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
except OSError:
    pass
x = 0
while True:
    x += 1
"""
    start = time.monotonic()
    with watched(os.getpid()) as seen, pytest.raises(ComputeError, match="took too long") as info:
        run(tmp_path, problem(code, "limits: {seconds: 1}"))
    assert time.monotonic() - start < 10
    assert info.value.context == "compute block of problem 1"
    assert seen, "no compute process was seen"
    assert not alive(seen)


def test_a_block_that_ignores_its_timer_is_stopped_by_the_backstop(tmp_path, sandbox):
    code = """
import signal, time
signal.signal(signal.SIGALRM, signal.SIG_IGN)
x = 0
end = time.monotonic() + 60
while time.monotonic() < end:
    x += 1
"""
    start = time.monotonic()
    with pytest.raises(ComputeError, match="was stopped after its time limit"):
        run(tmp_path, problem(code, "limits: {seconds: 1}"))
    assert time.monotonic() - start < 20


def test_five_forks_of_800_mb_cannot_pass_a_1024_mb_limit(tmp_path, sandbox):
    code = """
import os
children = []
for i in range(5):
    pid = os.fork()
    if pid == 0:
        memory = bytearray(800 * 1024 ** 2)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
x = len(children)
"""
    with pytest.raises(ComputeError, match=r"PermissionError.*can't start processes") as info:
        run(tmp_path, problem(code, "limits: {memory_mb: 1024}"))
    assert info.value.loc.line == 16  # the fork


def test_memory_outside_the_address_space_is_refused(tmp_path, sandbox):
    code = """
import ctypes, os
def attempt(action):
    try:
        return "done" if action() >= 0 else "refused"
    except OSError:
        return "refused"
def shared_segment():
    libc = ctypes.CDLL(None)
    segment = libc.shmget(0, 1024 ** 3, 0o1600)  # a private one, created
    if segment >= 0:
        libc.shmctl(segment, 0, None)  # removed again (a failing test leaves nothing behind)
    return segment
shared = attempt(shared_segment)
in_memory_file = attempt(lambda: os.memfd_create("x"))
descriptors = attempt(lambda: [os.pipe() for i in range(300)] and 0)
x = 1
"""
    values = run(tmp_path, problem(code)).scopes[1].values
    assert (values["shared"], values["in_memory_file"], values["descriptors"]) == ("refused",) * 3


def test_a_detached_child_holding_the_output_neither_hangs_the_build_nor_outlives_it(tmp_path, sandbox):
    code = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
x = 1
"""
    start = time.monotonic()
    with watched(os.getpid()) as seen, pytest.raises(ComputeError, match="can't start processes"):
        run(tmp_path, problem(code, "limits: {seconds: 2}"))
    assert time.monotonic() - start < 20
    assert not alive(seen)


@pytest.mark.skipif(not sandbox_works(), reason="bubblewrap can't make a sandbox here")
def test_a_block_sees_the_exam_and_python_but_no_other_file_no_network_and_no_environment(tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text("the builder's token")
    monkeypatch.setenv("EXAMGEN_TEST_SECRET", "the builder's token")
    (tmp_path / "exam").mkdir()
    (tmp_path / "exam" / "data.txt").write_text("42")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    code = f"""
import os, socket
def attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return type(error).__name__
data = open("data.txt").read()
environment = sorted(os.environ)
secret = attempt(lambda: open({str(secret)!r}).read())
network = attempt(lambda: socket.create_connection(("127.0.0.1", {port}), timeout=5))
written = attempt(lambda: open("written.txt", "w").write("x"))
temporary = attempt(lambda: open("/tmp/written.txt", "w").write("x"))
x = 1
"""
    with server:
        values = run(tmp_path / "exam", problem(code)).scopes[1].values
    assert values["data"] == "42"
    assert "EXAMGEN_TEST_SECRET" not in values["environment"]
    assert values["secret"] == "FileNotFoundError"
    assert values["network"] != "done"
    assert values["written"] == "OSError"  # a read-only file system
    assert values["temporary"] != "done"  # memory, which the limit on the process would not count
    assert not (tmp_path / "exam" / "written.txt").exists()


def test_a_warning_says_when_bubblewrap_cannot_make_the_sandbox(tmp_path, sandbox):
    out = Collector()
    assert run(tmp_path, problem("x = 1"), out).scopes[1].values["x"] == 1
    warned = any("compute blocks run without their sandbox" in warning for warning in out.warnings)
    assert warned == (sandbox == "no bubblewrap")


def running_blocks(seen: set[tuple[int, str]]) -> bool:
    """Whether one of the processes is the compute child itself (not bubblewrap around it)."""
    for pid, _ in alive(seen):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_text(errors="replace").split("\0")
        except OSError:
            continue
        if argv[0] == sys.executable and "sandbox" in " ".join(argv):
            return True
    return False


def test_killing_examgen_kills_the_compute_process(tmp_path, sandbox):
    exam = write_exam(tmp_path, HEADER + problem("x = 0\nwhile True:\n    x += 1", "limits: {seconds: 120}"))
    examgen = subprocess.Popen([sys.executable, "-m", "examgen.cli", "check", str(exam)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: set[tuple[int, str]] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not running_blocks(seen):
            time.sleep(0.05)
            seen |= descendants(examgen.pid)
        assert running_blocks(seen), "the compute process was never seen"
        examgen.kill()
        examgen.wait()
        deadline = time.monotonic() + 10
        while alive(seen) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(seen)
    finally:  # a failure leaves nothing running either
        examgen.kill()
        for pid, _ in alive(seen):
            os.kill(pid, signal.SIGKILL)


def test_what_blocks_print_is_read_but_not_kept(tmp_path):
    code = """
import sys
line = "x" * 1023 + "\\n"
for i in range(600 * 1024):
    sys.stdout.write(line)
x = 1
"""
    exam = write_exam(tmp_path, HEADER + problem(code, "limits: {seconds: 60}"))
    # Started from a small interpreter, not from pytest: a child's peak memory counts the memory
    # of the process it was forked from, which pytest's would dwarf.
    peak = subprocess.run([sys.executable, "-c", PEAK_MEMORY, sys.executable, "-m", "examgen.cli", "check", str(exam)],
                          capture_output=True, text=True, check=True)
    assert int(peak.stdout) < 200 * 1024  # kB: examgen (and the block) stay small for 600 MB of output


PEAK_MEMORY = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
print(usage.ru_maxrss)
"""


def test_an_interpreter_that_does_not_start_is_the_environment_s_problem(tmp_path, monkeypatch, sandbox):
    monkeypatch.setattr(sys, "executable", shutil.which("false", path=os.defpath))
    with pytest.raises(EnvironmentProblem, match="the compute process did not start.*: exit status 1"):
        run(tmp_path, problem("x = 1"))


def test_values_beyond_the_limit_for_one_block_are_refused(tmp_path):
    with pytest.raises(ComputeError, match="leaves more than 64 MB of values"):
        run(tmp_path, problem("x = 1\nbig = 'a' * (65 * 1024 ** 2)"))


def test_huge_allocation_hits_the_memory_limit(tmp_path, sandbox):
    with pytest.raises(ComputeError, match="ran out of memory"):
        run(tmp_path, problem("x = bytearray(8 * 1024 ** 3)", "limits: {memory_mb: 256}"))


def test_every_failing_block_is_reported(tmp_path):
    body = problem("x = 1 / 0") + """\
  - title: Q
    compute: |
      x = undefined_name
    parts:
      - points: 1
        prompt: <<x>>
        solution: s
"""
    with pytest.raises(ExamgenError) as info:
        run(tmp_path, body)
    assert [p.context for p in info.value.problems] == ["compute block of problem 1", "compute block of problem 2"]


SLEEPY = """
problems:
""" + "".join(f"""  - title: P{n}
    compute: |
      import time
      time.sleep(1.5)
      x = {n}
    parts:
      - points: 1
        prompt: <<x>>
        solution: s
""" for n in range(1, 4))


def check_with(exam: Path, **environment: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "examgen.cli", "check", str(exam)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **environment})


def test_a_source_asks_for_limits_only_up_to_the_machines_ceilings(tmp_path):
    exam = write_exam(tmp_path, HEADER + problem("x = 1", "limits: {seconds: 300, memory_mb: 65536}"))
    run = check_with(exam)
    assert run.returncode == 2, run.stderr
    assert ("'seconds' must be more than 0 and at most 120 (this machine's ceiling: EXAMGEN_MAX_BLOCK_SECONDS, which "
            "the machine's operator sets): make the block faster") in run.stderr
    assert "'memory_mb' must be between 64 and 8192 (this machine's ceiling: EXAMGEN_MAX_MEMORY_MB" in run.stderr
    run = check_with(exam, EXAMGEN_MAX_BLOCK_SECONDS="300", EXAMGEN_MAX_MEMORY_MB="65536")
    assert run.returncode == 0, run.stderr
    run = check_with(exam, EXAMGEN_MAX_BLOCK_SECONDS="lots")
    assert run.returncode == 6 and "EXAMGEN_MAX_BLOCK_SECONDS is 'lots': set it to a positive number" in run.stderr


def test_the_blocks_of_a_build_share_one_total_time(tmp_path):
    exam = write_exam(tmp_path, HEADER + SLEEPY)
    assert check_with(exam).returncode == 0
    run = check_with(exam, EXAMGEN_MAX_COMPUTE_SECONDS="2")
    assert run.returncode == 3, run.stderr
    assert ("compute block of problem 2: was stopped: the compute blocks of a build may run 2 s together (this "
            "machine's EXAMGEN_MAX_COMPUTE_SECONDS, which its operator sets), and that time was up") in run.stderr
