"""Stage 3: compute blocks in a contained child process."""

from __future__ import annotations

import subprocess
import time

import pytest
from support import HEADER, write_exam

from examgen.errors import Collector, ComputeError, ExamgenError
from examgen.stages.load import load
from examgen.stages.validate import validate
from examgen.stages.compute import compute


def run(tmp_path, body: str):
    out = Collector()
    return compute(validate(load(write_exam(tmp_path, HEADER + body)), "t", out), out)


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


def test_endless_loop_is_stopped_within_the_limit_and_leaves_no_process(tmp_path):
    start = time.monotonic()
    with pytest.raises(ComputeError, match="took too long") as info:
        run(tmp_path, problem("x = 0\nwhile True:\n    x += 1", "limits: {seconds: 1}"))
    assert time.monotonic() - start < 5
    assert info.value.context == "compute block of problem 1"
    left = subprocess.run(["pgrep", "-f", "examgen.sandbox"], capture_output=True, text=True).stdout
    assert left.strip() == ""


def test_huge_allocation_hits_the_memory_limit(tmp_path):
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
