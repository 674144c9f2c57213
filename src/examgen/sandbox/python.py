"""The child process that runs compute blocks (started by stages/compute.py, inside bubblewrap
where it can make a sandbox).

Usage: ``python -I python.py RESULTS_FD``. Reads a JSON job on stdin and writes JSON lines on
the pipe RESULTS_FD, a channel of its own: what a block prints, or a program it runs, goes to
stdout and can't corrupt the results. Before any block runs the process confines itself: a
memory limit (RLIMIT_AS), death with examgen (PR_SET_PDEATHSIG), few descriptors, and a seccomp
filter that forbids new processes (threads stay allowed) and memory outside the address space
(System V shared memory, memfd), so that the memory limit covers everything a block runs. Each
block runs under a timer; the parent keeps a backstop of its own. Only data (numbers, text,
lists, mappings) travels back: the text can show values, never run code.

Only the standard library is imported: in the sandbox this file is all of examgen there is.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import importlib.util
import json
import math
import os
import platform
import resource
import signal
import struct
import sys
import traceback
import types

# prctl options and seccomp constants (linux/prctl.h, linux/seccomp.h, linux/filter.h, linux/audit.h)
PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 22, 38
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LOAD_WORD, BPF_JUMP_EQUAL, BPF_JUMP_GREATER_EQUAL, BPF_JUMP_SET, BPF_RETURN = 0x20, 0x15, 0x35, 0x45, 0x06
SECCOMP_DATA_NR, SECCOMP_DATA_ARCH, SECCOMP_DATA_ARG0 = 0, 4, 16
X32_SYSCALL_BIT = 0x40000000
CLONE_THREAD = 0x00010000
# Per machine: the audit architecture, clone, clone3, and the other calls refused: the older ones
# that make processes (fork, vfork) and those that make memory outside the address space, which
# the memory limit would not count (shmget, memfd_create).
SYSTEM_CALLS = {
    "x86_64": (0xC000003E, 56, 435, (57, 58, 29, 319)),
    "aarch64": (0xC00000B7, 220, 435, (194, 279)),
}
DESCRIPTORS = 256  # each may hold kernel buffers (a pipe's, a socket's) outside the address space


class BlockTimeout(BaseException):
    """Raised by the timer; a BaseException so a block's ``except Exception`` can't swallow it."""


def _on_alarm(signum, frame):
    raise BlockTimeout()


def _prctl(option: int, *arguments) -> bool:
    """prctl(2): integers pass as unsigned longs, anything else (a pointer) as it is."""
    padded = [ctypes.c_ulong(a) if isinstance(a, int) else a for a in (*arguments, 0, 0, 0, 0)[:4]]
    return ctypes.CDLL(None, use_errno=True).prctl(ctypes.c_int(option), *padded) == 0


def _seccomp_program(machine: str) -> bytes | None:
    """A seccomp program that refuses new processes and memory outside the address space (EPERM)
    but allows threads, which share the process's memory; clone3 answers ENOSYS, so the C library
    falls back to clone, whose flags the filter can read. Foreign system-call conventions (i386,
    x32) are refused. None for a machine whose system-call numbers this module does not know."""
    if machine not in SYSTEM_CALLS:
        return None
    arch, clone, clone3, refused = SYSTEM_CALLS[machine]
    allow, deny, absent = "allow", "deny", "absent"
    program: list[tuple] = [
        (BPF_LOAD_WORD, SECCOMP_DATA_ARCH),
        (BPF_JUMP_EQUAL, arch, None, deny),
        (BPF_LOAD_WORD, SECCOMP_DATA_NR),
        (BPF_JUMP_GREATER_EQUAL, X32_SYSCALL_BIT, deny, None),
        (BPF_JUMP_EQUAL, clone3, absent, None),
        *[(BPF_JUMP_EQUAL, number, deny, None) for number in refused],
        (BPF_JUMP_EQUAL, clone, None, allow),
        (BPF_LOAD_WORD, SECCOMP_DATA_ARG0),  # clone's flags (their low half)
        (BPF_JUMP_SET, CLONE_THREAD, allow, deny),
    ]
    returns = {allow: SECCOMP_RET_ALLOW, deny: SECCOMP_RET_ERRNO | errno.EPERM,
               absent: SECCOMP_RET_ERRNO | errno.ENOSYS}
    where = {label: len(program) + i for i, label in enumerate(returns)}
    code = b""
    for i, (op, k, *jumps) in enumerate(program):
        true, false = ((where[j] - i - 1 if j else 0) for j in (jumps or (None, None)))
        code += struct.pack("=HBBI", op, true, false, k)
    return code + b"".join(struct.pack("=HBBI", BPF_RETURN, 0, 0, value) for value in returns.values())


def _filter_system_calls() -> bool:
    """Install the seccomp program; False where it can't be (another machine, no seccomp)."""
    code = _seccomp_program(platform.machine())
    if code is None or not _prctl(PR_SET_NO_NEW_PRIVS, 1):
        return False
    instructions = ctypes.create_string_buffer(code, len(code))

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = Program(len(code) // 8, ctypes.addressof(instructions))
    return _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program))


KINDS = (
    ((types.FunctionType, types.BuiltinFunctionType, types.MethodType, functools.partial), "a function"),
    (complex, "a complex number"),
    ((set, frozenset), "a set"),
    (types.ModuleType, "a module"),
    (type, "a class"),
    ((list, tuple), "a list"),
    (dict, "a mapping"),
)


def kind(value) -> str:
    """What a value is, in an examiner's words."""
    return next((name for kinds, name in KINDS if isinstance(value, kinds)), f"a {type(value).__name__} object")


def to_data(value, depth: int = 0):
    """The value as JSON data, or raise TypeError saying what is not plain data."""
    if depth > 20:
        raise TypeError("nesting deeper than 20 levels")
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
    raise TypeError(kind(value))


SANDBOX_DENIALS = (errno.EPERM, errno.EACCES, errno.EROFS)


def _failure(exc: BaseException, block: dict, helpers: list[str]) -> dict:
    """Describe an exception with the YAML line it came from and, if it was raised in a helper
    module of the exam (not in Python's own library), that module's line."""
    yaml_file = block["file"]
    line, helper = None, None
    if isinstance(exc, SyntaxError) and exc.filename == yaml_file:
        return {"ok": False, "line": exc.lineno, "error": f"syntax error: {exc.msg}"}
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == yaml_file:
            line = frame.lineno
        elif line is not None and frame.filename.startswith(tuple(path + os.sep for path in helpers)):
            helper = [frame.filename, frame.lineno]
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
        if isinstance(exc, OSError) and exc.errno in SANDBOX_DENIALS:
            message += " (compute blocks run in a sandbox: they can't start processes or write files)"
    return {"ok": False, "line": line, "error": message, "raised_in": helper}


def run_block(block: dict, namespace: dict, seconds: float, helpers: list[str]) -> dict:
    """Run one block; its data values, the names it defined, and those it defined that are not
    data (``dropped``: name -> what it is), which no text can use."""
    code_text = "\n" * (block["line"] - 1) + block["source"]
    before = dict(namespace)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(compile(code_text, block["file"], "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - every failure of user code is reported
        return _failure(exc, block, helpers)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    values, defined, dropped = {}, [], {}
    for name, value in namespace.items():
        if name.startswith("_"):
            continue
        new = name not in before or before[name] is not value
        try:
            values[name] = to_data(value)
        except TypeError as exc:
            if new:
                dropped[name] = kind(value) if str(exc) == kind(value) else f"{kind(value)} with {exc} inside"
            continue
        if new:
            defined.append(name)
    return {"ok": True, "values": values, "defined": defined, "dropped": dropped}


def _confine(job: dict) -> bool:
    """Die with examgen, stay within the memory limit, write no core file, hold few descriptors;
    True if new processes are forbidden too (then the memory limit covers all the block runs)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != job["parent"]:
        os._exit(1)  # examgen ended before the line above took effect
    limit = job["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTORS, DESCRIPTORS))
    return _filter_system_calls()


def _variant_names(path: str):
    """draws.variant_names, loaded from its file: in the sandbox examgen is no package."""
    spec = importlib.util.spec_from_file_location("examgen_draws", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.variant_names


def main() -> None:
    results = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8")
    os.set_inheritable(results.fileno(), False)

    def send(message: dict) -> None:
        results.write(json.dumps(message) + "\n")
        results.flush()

    job = json.load(sys.stdin)
    send({"ready": True, "single_process": _confine(job)})
    sys.path[:0] = job["paths"]
    signal.signal(signal.SIGALRM, _on_alarm)
    labels = job.get("variants")
    names = _variant_names(job["draws"]) if labels else None
    blocks = job["blocks"]
    base: dict = {"__name__": "__examgen__"}
    exam_failed = False
    for number, label in enumerate(labels or [None]):
        for index, block in enumerate(blocks):
            if number and not block["varies"]:
                continue  # it draws nothing: examgen gives every variant the first one's result
            namespace = {"__name__": "__examgen__"} if block["scope"] == "exam" else dict(base)
            given = names(job["code"], label, block["seed"], job["positions"][number]) if names else {}
            namespace.update(given)  # a variant's block sees its label, its own rng and the helpers
            result = run_block(block, namespace, job["seconds"], job["paths"])
            for name in given:  # the texts get the label from examgen: a block's result may serve every variant
                result.get("values", {}).pop(name, None)
            send({**result, "index": number * len(blocks) + index})
            if block["scope"] == "exam":
                exam_failed = not result["ok"]
                if exam_failed:
                    break  # the variant's problems need its exam block
                base = namespace
        if exam_failed and not blocks[0]["varies"]:
            break  # an exam block that draws nothing fails for every variant alike
    sys.stdout.flush()
    os._exit(0)  # at once: a thread or an exit handler a block left behind must not hold the process


if __name__ == "__main__":
    main()
