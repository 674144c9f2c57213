"""The child process that runs compute blocks (started by compute.py).

Reads a JSON job on stdin and writes one JSON line per block on stdout. Each
block runs under a timer; the parent sets the memory limit and keeps a
backstop timeout of its own. Only data (numbers, text, lists, mappings)
travels back: the text can show values, never run code.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import traceback


class BlockTimeout(BaseException):
    """Raised by the timer; a BaseException so a block's ``except Exception`` can't swallow it."""


def _on_alarm(signum, frame):
    raise BlockTimeout()


def to_data(value, depth: int = 0):
    """The value as JSON data, or raise TypeError if it is not plain data."""
    if depth > 20:
        raise TypeError("nested too deeply")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if hasattr(value, "tolist") and callable(value.tolist):  # NumPy scalars and arrays
        return to_data(value.tolist(), depth + 1)
    if isinstance(value, (list, tuple)):
        return [to_data(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v, depth + 1) for k, v in value.items()}
    if hasattr(value, "__float__") and not isinstance(value, type):  # Fraction, Decimal
        return float(value)
    raise TypeError(type(value).__name__)


def _failure(exc: BaseException, block: dict) -> dict:
    """Describe an exception with the YAML line it came from."""
    yaml_file = block["file"]
    line, elsewhere = None, None
    if isinstance(exc, SyntaxError) and exc.filename == yaml_file:
        return {"ok": False, "line": exc.lineno, "error": f"syntax error: {exc.msg}"}
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == yaml_file:
            line = frame.lineno
        elif line is not None and frame.filename != __file__:  # a helper module, not examgen's timer
            elsewhere = f"{frame.filename}:{frame.lineno}"
    if isinstance(exc, AssertionError):
        source_lines = ("\n" * (block["line"] - 1) + block["source"]).splitlines()
        statement = source_lines[line - 1].strip() if line and line <= len(source_lines) else "assert"
        message = f"assertion failed: {exc}" if str(exc) else f"assertion failed: {statement}"
    elif isinstance(exc, MemoryError):
        message = "ran out of memory (the limit is set by 'limits: memory_mb')"
    elif isinstance(exc, BlockTimeout):
        message = "took too long (the limit is set by 'limits: seconds')"
    else:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if elsewhere:
        message += f" (raised in {os.path.relpath(elsewhere.rsplit(':', 1)[0])}:{elsewhere.rsplit(':', 1)[1]})"
    return {"ok": False, "line": line, "error": message}


def run_block(block: dict, namespace: dict, seconds: float) -> dict:
    code_text = "\n" * (block["line"] - 1) + block["source"]
    before = dict(namespace)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(compile(code_text, block["file"], "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - every failure of user code is reported
        return _failure(exc, block)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    values, defined = {}, []
    for name, value in namespace.items():
        if name.startswith("_"):
            continue
        try:
            values[name] = to_data(value)
        except TypeError:
            continue
        if name not in before or before[name] is not value:
            defined.append(name)
    return {"ok": True, "values": values, "defined": defined}


def main() -> None:
    job = json.load(sys.stdin)
    results = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr  # a block's print() must not corrupt the result stream
    sys.path[:0] = job["paths"]
    signal.signal(signal.SIGALRM, _on_alarm)
    base: dict = {"__name__": "__examgen__"}
    for index, block in enumerate(job["blocks"]):
        namespace = dict(base)
        result = run_block(block, namespace, job["seconds"])
        result["index"] = index
        results.write(json.dumps(result) + "\n")
        results.flush()
        if block["scope"] == "exam":
            if not result["ok"]:
                break
            base = namespace


if __name__ == "__main__":
    main()
