"""The corpus of broken (and tricky) exam sources in tests/broken/, run through the CLI.

Each folder of tests/broken/ is one case: an ``exam.yaml`` (plus any files it
includes) and an ``expect.yaml`` saying what a good examgen does with it:

    command: check          # or build (only where LaTeX must run to see the problem)
    exit: 2                 # the exit code, or a list of acceptable ones
    messages:               # fragments that must all appear in stderr (case-insensitive)
      - "exam.yaml:7: part 1.2: unknown key 'solutoin'"
    absent_messages:        # optional: fragments that must not appear in stderr
      - "sandbox.py"
    max_seconds: 15         # optional: the run must finish within this time
    absent_files:           # optional: files the run must not create (TeX containment)
      - /tmp/examgen-pwned
    pdf_text:               # optional (exit 0 builds): fragments of the student PDF's text
    pdf_absent:             # optional: bytes no output PDF may contain (in any stream, decompressed)
      - "root:x:0:0"

Every run must also be free of Python tracebacks, and a successful build must
leave student.pdf, solution.pdf and key.json in its --out folder. The CLI runs
in a temporary folder, so nothing is written into the repository: ``check`` in
this process (click's runner), ``build`` as its own process, as an examiner runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

BROKEN = Path(__file__).resolve().parent / "broken"
CASES = sorted(p for p in BROKEN.iterdir() if (p / "expect.yaml").is_file())
EXPECT_KEYS = {"command", "exit", "messages", "absent_messages", "max_seconds", "absent_files", "pdf_text",
               "pdf_absent"}
OUTPUTS = ("student.pdf", "solution.pdf", "key.json")
DEFAULT_TIMEOUT = 180


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def _in_process(args: list[str], cwd: Path, timeout: float) -> Run | None:
    """The CLI in this process (no LaTeX runs for these commands); None if it did not finish in time."""
    from click.testing import CliRunner

    from examgen.cli import main

    results: list[Run] = []

    def invoke() -> None:
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        results.append(Run(result.exit_code, result.stdout, result.stderr))

    previous = Path.cwd()
    os.chdir(cwd)
    try:
        worker = threading.Thread(target=invoke, daemon=True)
        worker.start()
        worker.join(timeout)
    finally:
        os.chdir(previous)
    return results[0] if results else None


def run_cli(args: list[str], cwd: Path, timeout: float) -> tuple[Run | None, float]:
    """Run the CLI with ARGS (``check`` in this process, anything else as ``python -m examgen.cli``);
    None if it did not finish within ``timeout`` seconds."""
    start = time.monotonic()
    if args[0] == "check" or (args[:2] == ["--debug", "check"]):
        return _in_process(args, cwd, timeout), time.monotonic() - start
    try:
        done = subprocess.run([sys.executable, "-m", "examgen.cli", *args], cwd=cwd, capture_output=True,
                              text=True, errors="replace", timeout=timeout, stdin=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})  # no __pycache__ in cases
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - start
    return Run(done.returncode, done.stdout, done.stderr), time.monotonic() - start


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_bytes(path: Path) -> bytes:
    """A PDF's raw bytes followed by every stream of it that inflates."""
    data = path.read_bytes()
    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            pass
    return b"\n".join(chunks)


def load_expect(case: Path) -> dict:
    expect = yaml.safe_load((case / "expect.yaml").read_text(encoding="utf-8"))
    unknown = set(expect) - EXPECT_KEYS
    assert not unknown, f"{case.name}/expect.yaml: unknown keys {sorted(unknown)}"
    assert expect["command"] in ("check", "build"), f"{case.name}/expect.yaml: command must be check or build"
    return expect


def test_the_corpus_is_complete():
    assert len(CASES) >= 30
    for case in CASES:
        assert (case / "exam.yaml").is_file(), f"{case.name} has no exam.yaml"
        load_expect(case)


def _param(case: Path):
    """A case; one whose command is build runs LaTeX."""
    build = load_expect(case)["command"] == "build"
    return pytest.param(case, id=case.name, marks=[pytest.mark.latex] if build else [])


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_broken_case(case: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # the compute child writes no __pycache__ into cases
    expect = load_expect(case)
    command = expect["command"]
    allowed_exits = expect["exit"] if isinstance(expect["exit"], list) else [expect["exit"]]
    absent = [Path(f) for f in expect.get("absent_files") or []]
    for path in absent:  # left over from an earlier run: it must be this run that does not create it
        path.unlink(missing_ok=True)

    out = tmp_path / "out"
    args = [command, str(case)] + (["--out", str(out)] if command == "build" else [])
    limit = expect.get("max_seconds")
    result, elapsed = run_cli(args, tmp_path, timeout=limit + 10 if limit else DEFAULT_TIMEOUT)
    assert result is not None, f"`examgen {' '.join(args)}` did not finish within {elapsed:.0f} s (killed)"

    stderr = result.stderr
    failures = []
    if result.returncode not in allowed_exits:
        failures.append(f"exit code {result.returncode}, expected {' or '.join(map(str, allowed_exits))}")
    for fragment in expect.get("messages") or []:
        if fragment.lower() not in stderr.lower():
            failures.append(f"stderr lacks {fragment!r}")
    for fragment in expect.get("absent_messages") or []:
        if fragment.lower() in stderr.lower():
            failures.append(f"stderr shows {fragment!r}")
    if "Traceback" in stderr or "Traceback" in result.stdout:
        failures.append("the output shows a Python traceback")
    if limit and elapsed > limit:
        failures.append(f"took {elapsed:.1f} s, more than {limit} s")
    for path in absent:
        if path.exists():
            failures.append(f"the run created {path}")
            path.unlink(missing_ok=True)
    for pdf in sorted(out.glob("*.pdf")) if command == "build" else []:
        content = pdf_bytes(pdf)
        for fragment in expect.get("pdf_absent") or []:
            if fragment.encode() in content:
                failures.append(f"{pdf.name} contains {fragment!r}")
    if command == "build" and result.returncode == 0:
        missing = [name for name in OUTPUTS if not (out / name).is_file()]
        if missing:
            failures.append(f"the build succeeded but left no {', '.join(missing)} in --out")
        elif expect.get("pdf_text"):
            from examgen.stages.check import read_pdf

            text = flat("\n".join(read_pdf(out / "student.pdf").pages))
            for fragment in expect["pdf_text"]:
                if flat(fragment) not in text:
                    failures.append(f"the student PDF lacks {fragment!r}")
    assert not failures, (f"{case.name}: " + "; ".join(failures) + f"\n--- exit {result.returncode}, "
                          f"{elapsed:.1f} s\n--- stderr:\n{stderr}\n--- stdout:\n{result.stdout}")


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    case = BROKEN / "compute-raises"
    plain, _ = run_cli(["check", str(case)], tmp_path, DEFAULT_TIMEOUT)
    debug, _ = run_cli(["--debug", "check", str(case)], tmp_path, DEFAULT_TIMEOUT)
    assert plain is not None and debug is not None
    assert "Traceback" not in plain.stderr
    assert debug.returncode == plain.returncode == 3
    assert "Traceback (most recent call last)" in debug.stderr
    assert re.search(r"exam\.yaml:\d+: compute block of problem 1: ZeroDivisionError", debug.stderr)
