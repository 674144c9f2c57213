"""Stage 3, compute: run every compute block of an exam before anything is written.

Blocks run in one child process (sandbox/python.py) with a memory limit, a timer per
block and a backstop timeout; the child's whole process group is killed on
expiry, so an endless loop leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from types import MappingProxyType

from ..errors import Collector, ComputeError
from ..model.computed import EXAM_SCOPE, ComputedExam, Scope
from ..model.source import Code, Exam, Text


def _limit_memory(megabytes: int):
    def apply() -> None:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def helper_paths(exam: Exam[Text]) -> list[str]:
    """Where compute blocks import from: the exam folder and the shared ``exams/lib``."""
    return [str(exam.dir), str(exam.dir.parent / "lib")]


def _run(blocks: list[tuple[str, Code]], exam: Exam[Text]) -> list[dict | None]:
    job = {
        "paths": helper_paths(exam),
        "seconds": exam.limits.seconds,
        "blocks": [{"scope": scope, "label": code.label, "source": code.source,
                    "file": str(code.loc.file), "line": code.loc.line or 1} for scope, code in blocks],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "examgen.sandbox.python"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_limit_memory(exam.limits.memory_mb), cwd=exam.dir,
    )
    backstop = exam.limits.seconds * len(blocks) + 5
    try:
        stdout, stderr = process.communicate(json.dumps(job), timeout=backstop)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        process.returncode = -signal.SIGKILL
    finally:
        try:  # the whole group: a block may have started processes of its own
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    results: list[dict | None] = [None] * len(blocks)
    for line in stdout.splitlines():
        result = json.loads(line)
        results[result["index"]] = result
    exam_failed = bool(blocks) and blocks[0][0] == "exam" and results[0] is not None and not results[0]["ok"]
    pending = next((i for i, r in enumerate(results) if r is None), None)
    if pending is not None and not exam_failed:  # the block running when the process ended gets the blame
        if process.returncode == -signal.SIGKILL:
            reason = "was stopped after its time limit"
        else:
            last = stderr.strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
            reason = f"ended the compute process before it finished ({last[0]})"
        results[pending] = {"ok": False, "line": None, "error": reason}
    return results


def compute(exam: Exam[Text], out: Collector) -> ComputedExam:
    """Run the exam's and every problem's compute block: the scopes every text is rendered in."""
    owners = ([(EXAM_SCOPE, exam.compute)] if exam.compute else []) + [
        (p.number, p.compute) for p in exam.problems if p.compute]
    blocks = [("exam" if n == EXAM_SCOPE else "problem", code) for n, code in owners]
    results = _run(blocks, exam) if blocks else []
    scopes: dict[int, Scope] = {}
    for (number, code), result in zip(owners, results):
        if result is None:
            continue  # not run: the exam block before it failed
        if not result["ok"]:
            loc = code.loc.shifted(result["line"] - code.loc.line) if result.get("line") else code.loc
            out.error(ComputeError(result["error"], loc, code.label))
            continue
        scopes[number] = Scope(MappingProxyType(result["values"]), tuple(result["defined"]), code)
    out.raise_if_any()
    base = scopes.setdefault(EXAM_SCOPE, Scope(MappingProxyType({})))
    for problem in exam.problems:
        scopes.setdefault(problem.number, Scope(base.values))
    return ComputedExam(exam, MappingProxyType(scopes))
