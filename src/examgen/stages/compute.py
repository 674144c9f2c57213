"""Stage 3, compute: run every compute block of an exam before anything is written.

The blocks run in one child process (sandbox/python.py) inside bubblewrap, as TeX does: no
network, an empty environment, nothing to see but the exam folder, ``exams/lib`` and Python's
installation, all read-only (it can write nowhere, not even to /tmp, which would take memory
that the limit on the process doesn't count), and a PID namespace that ends with the child and
with examgen. The child confines itself further: a memory limit, no new processes (so the
limit covers all a block runs), a timer per block. Results come back on a pipe of their own;
of what blocks print only the tail is kept; a backstop timeout per block ends the child when
its own timer can't fire. Where bubblewrap can't make a sandbox, a warning says so and the
rest still holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from ..ceilings import COMPUTE_SECONDS, Ceilings, ceilings
from ..errors import Collector, ComputeError, EnvironmentProblem, Loc
from ..model.computed import EXAM_SCOPE, ComputedExam, Scope
from ..model.source import Code, Exam, Text
from ..outputs import replace_file
from ..sandbox.bubblewrap import sandbox_works, sandboxed
from ..sandbox.draws import dealt_position
from ..variants import may_draw, shuffled

STARTUP_SECONDS = 30  # bubblewrap and the interpreter starting, on a loaded machine
GRACE_SECONDS = 3  # past a block's limit, for its own timer to fire and report
OUTPUT_KEPT = 64 * 1024  # the tail of what the blocks print, for the last words of a crash
RESULT_BYTES = 64 * 1024 * 1024  # the values one block may hand on, as JSON
UNSANDBOXED = ("compute blocks run without their sandbox: bubblewrap (bwrap) is missing or may not create "
               "namespaces here; they can read the builder's files and use the network")
CHILD = Path(__file__).resolve().parents[1] / "sandbox" / "python.py"  # run as a script: the sandbox has no examgen
DRAWS = CHILD.with_name("draws.py")  # loaded by the child for variants


def helper_paths(exam: Exam[Text]) -> list[str]:
    """Where compute blocks import from, as the sandbox shows them (symbolic links resolved): the
    exam folder and the shared ``exams/lib``."""
    return [str(exam.dir), str(exam.lib)]


def _python_trees() -> tuple[str, ...]:
    """The interpreter's installation (a virtual environment and the Python it was made from) and
    /usr, which holds the system libraries it links."""
    return tuple(dict.fromkeys(("/usr", sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)))


def _command(exam: Exam[Text], results: int) -> tuple[list[str], bool]:
    """The child's command line (isolated from the environment, writing no bytecode, reading
    UTF-8), in its sandbox where bubblewrap can make one (then True)."""
    command = [sys.executable, "-I", "-B", "-X", "utf8", str(CHILD), str(results)]
    if not sandbox_works():
        return command, False
    readable = (*_python_trees(), str(CHILD), str(DRAWS), *helper_paths(exam)[1:])
    return sandboxed(command, exam.dir, readable, writable=False), True


@dataclass
class _Reply:
    """What the compute process sent, and why examgen stopped listening if it did."""

    ready: dict | None = None
    results: dict[int, dict] = field(default_factory=dict)
    output: bytearray = field(default_factory=bytearray)
    stopped: str | None = None


def _well_formed(message: object, blocks: int) -> bool:
    """Whether a message is one the child sends (a block can write to the channel too)."""
    if not isinstance(message, dict):
        return False
    if "index" not in message:
        return message.get("ready") is True and isinstance(message.get("single_process"), bool)
    index, line, raised_in = message["index"], message.get("line"), message.get("raised_in")
    if not (isinstance(index, int) and 0 <= index < blocks and (line is None or isinstance(line, int))):
        return False
    if message.get("ok") is False:
        return isinstance(message.get("error"), str) and (raised_in is None or (
            isinstance(raised_in, list) and len(raised_in) == 2 and isinstance(raised_in[0], str)
            and isinstance(raised_in[1], int)))
    defined, dropped = message.get("defined"), message.get("dropped")
    return (message.get("ok") is True and isinstance(message.get("values"), dict)
            and isinstance(defined, list) and all(isinstance(name, str) for name in defined)
            and isinstance(dropped, dict) and all(isinstance(what, str) for what in dropped.values()))


class _Conversation:
    """One exchange with the compute child: the job goes out on its stdin; results come on their own
    channel, each message moving the deadline to the next block's limit (and a grace); of the
    output, which nothing else reads, only the tail is kept. It ends when every block reported,
    the child closed its channel, or a deadline passed."""

    def __init__(self, process: subprocess.Popen, results: int, seconds: float, blocks: int, sent: int,
                 total_seconds: float):
        assert process.stdin is not None and process.stdout is not None
        self.stdin, self.stdout, self.results = process.stdin, process.stdout, results
        self.seconds, self.blocks, self.sent = seconds, blocks, sent
        self.reply, self.pending, self.closed = _Reply(), bytearray(), False
        self.deadline = time.monotonic() + STARTUP_SECONDS
        self.total_seconds = total_seconds
        self.over = time.monotonic() + total_seconds  # every block together, however many

    def run(self, job: bytes) -> _Reply:
        with selectors.DefaultSelector() as selector:
            os.set_blocking(self.stdin.fileno(), False)
            selector.register(self.stdin, selectors.EVENT_WRITE)
            selector.register(self.stdout, selectors.EVENT_READ)
            selector.register(self.results, selectors.EVENT_READ)
            while self.listening():
                for key, _ in selector.select(min(self.deadline, self.over) - time.monotonic()):
                    if key.fileobj is self.stdin:
                        job = self.send(job, selector)
                    elif key.fileobj is self.stdout:
                        self.read_output(selector)
                    else:
                        self.receive()
        return self.reply

    def listening(self) -> bool:
        if self.closed or self.reply.stopped or len(self.reply.results) == self.sent:
            return False
        if time.monotonic() >= self.deadline:
            self.reply.stopped = "was stopped after its time limit"
            return False
        if time.monotonic() >= self.over:
            self.reply.stopped = (f"was stopped: the compute blocks of a build may run {self.total_seconds:g} s "
                                  f"together (this machine's {COMPUTE_SECONDS}, which its operator sets), and "
                                  "that time was up: make the blocks faster")
            return False
        return True

    def send(self, job: bytes, selector: selectors.BaseSelector) -> bytes:
        """Write what the pipe takes; the rest of the job."""
        try:
            job = job[os.write(self.stdin.fileno(), job):]
        except BrokenPipeError:  # the child ended: its channel says the rest
            job = b""
        if not job:
            selector.unregister(self.stdin)
            self.stdin.close()
        return job

    def read_output(self, selector: selectors.BaseSelector) -> None:
        chunk = os.read(self.stdout.fileno(), 1 << 16)
        if not chunk:
            selector.unregister(self.stdout)
        self.reply.output += chunk
        del self.reply.output[:-OUTPUT_KEPT]

    def receive(self) -> None:
        chunk = os.read(self.results, 1 << 16)
        if not chunk:
            self.closed = True  # the child is ending
            return
        *lines, rest = chunk.split(b"\n")  # only the new chunk is searched: a long line costs no more
        if lines:
            lines[0], self.pending = bytes(self.pending) + lines[0], bytearray()
        self.pending += rest
        for line in lines:
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                message = None
            if not _well_formed(message, self.blocks):
                self.reply.stopped = "wrote something examgen can't read to its results channel"
                return
            if "index" in message:
                self.reply.results[message["index"]] = message
            else:
                self.reply.ready = message
            self.deadline = time.monotonic() + self.seconds + GRACE_SECONDS
        if len(self.pending) > RESULT_BYTES:
            self.reply.stopped = (f"leaves more than {RESULT_BYTES // 2 ** 20} MB of values: delete big "
                                  "intermediate values (del name) or give them names that start with _")


def _exited(process: subprocess.Popen, seconds: float) -> bool:
    """Whether the child exits within ``seconds``; it is not reaped, so its group id stays its own."""
    deadline = time.monotonic() + seconds
    while not os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _sandbox_root(pid: int) -> list[int]:
    """The first process of bubblewrap's PID namespace: the child of its outer process."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # a kernel without the file: --die-with-parent ends the sandbox a moment later
        return []


def _end(process: subprocess.Popen, contained: bool, patient: bool) -> int:
    """End the child and all it started, and return once they are gone; its exit status (its own
    if it ends by itself within the grace, when ``patient``)."""
    if not (patient and _exited(process, GRACE_SECONDS)) and contained:
        for root in _sandbox_root(process.pid):
            # the kernel ends every process of the namespace before its first; bubblewrap then exits
            with contextlib.suppress(ProcessLookupError):
                os.kill(root, signal.SIGKILL)
        _exited(process, GRACE_SECONDS)
    # what is left in the group; before the wait, while the group's id is still the child's
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def _last_words(reply: _Reply, status: int) -> str:
    """The last line the child printed, or how it ended."""
    lines = reply.output.decode("utf-8", "replace").strip().splitlines()
    if lines:
        return lines[-1].strip()
    return f"killed by signal {-status}" if status < 0 else f"exit status {status}"


def _limits(exam: Exam[Text], most: Ceilings) -> tuple[float, int]:
    """A block's time and memory limits: the source's (or the defaults), within this machine's ceilings."""
    return min(exam.limits.seconds, most.block_seconds), int(min(exam.limits.memory_mb, most.memory_mb))


def _run(blocks: list[tuple[str, str, Code]], varies: list[bool], exam: Exam[Text], labels: tuple[str, ...],
         out: Collector) -> tuple[list[dict | None], bool]:
    """Each block's result for each variant in turn (one variant without ``labels``); None: not run,
    because the variant's exam block failed, or because it draws nothing (not ``varies``) and ran
    for the first variant. And whether the blocks ran in their sandbox."""
    read_end, write_end = os.pipe()
    command, contained = _command(exam, write_end)
    if not contained:
        out.warn(UNSANDBOXED)
    most = ceilings()
    seconds, memory_mb = _limits(exam, most)
    job: dict = {
        "paths": helper_paths(exam),
        "seconds": seconds,
        "memory_mb": memory_mb,
        "parent": 1 if contained else os.getpid(),  # bubblewrap's reaper, or examgen
        "blocks": [{"scope": scope, "seed": seed, "varies": varying, "label": code.label, "source": code.source,
                    "file": str(code.loc.file), "line": code.loc.line or 1}
                   for (scope, seed, code), varying in zip(blocks, varies)],
    }
    if labels:
        own = exam.variants.labels if exam.variants else ()
        job.update(variants=list(labels), positions=[dealt_position(label, own) for label in labels],
                   code=exam.meta.code, draws=str(DRAWS))
    total = len(blocks) * max(1, len(labels))
    sent = len(blocks) + sum(varies) * (max(1, len(labels)) - 1)
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   cwd=exam.dir, env={}, pass_fds=(write_end,), start_new_session=True)
    finally:
        os.close(write_end)
    with process:
        try:
            reply = _Conversation(process, read_end, seconds, total, sent, most.compute_seconds).run(
                json.dumps(job).encode())
            status = _end(process, contained, patient=reply.stopped is None)
        finally:
            if process.returncode is None:  # interrupted (Ctrl-C) while talking to the child
                _end(process, contained, patient=False)
            os.close(read_end)
    if reply.ready is None:
        where = " in its sandbox (bubblewrap)" if contained else ""
        raise EnvironmentProblem(f"the compute process did not start{where}: {_last_words(reply, status)}")
    if not reply.ready["single_process"]:
        out.warn("compute blocks may start processes here (no seccomp filter for this machine): the memory "
                 "limit holds for each process, not for all of them together")
    results: list[dict | None] = [reply.results.get(i) for i in range(total)]

    def exam_failed(index: int) -> bool:
        first = results[index - index % len(blocks)]
        return blocks[0][0] == "exam" and first is not None and not first["ok"]

    pending = next((i for i, r in enumerate(results)
                    if r is None and not exam_failed(i) and (i < len(blocks) or varies[i % len(blocks)])), None)
    if pending is not None:  # the block running when the process ended gets the blame
        reason = reply.stopped or f"ended the compute process before it finished ({_last_words(reply, status)})"
        results[pending] = {"ok": False, "line": None, "error": reason}
    return results, contained


def _scopes(exam: Exam[Text], owners: list[tuple[int, Code]], results: list[dict | None], label: str | None,
            out: Collector) -> dict[int, Scope] | None:
    """One variant's scopes from its blocks' results; None if a block failed (reported to ``out``)."""
    scopes: dict[int, Scope] = {}
    failed = False
    for (number, code), result in zip(owners, results):
        if result is None:
            failed = True
            continue  # not run: the exam block before it failed
        if not result["ok"]:
            loc = code.loc.shifted(result["line"] - code.loc.line) if result.get("line") else code.loc
            raised_in = result.get("raised_in")
            where = f" (raised in {Loc(Path(raised_in[0]), raised_in[1])})" if raised_in else ""
            out.error(ComputeError(result["error"] + where, loc, code.label, variants=(label,) if label else ()))
            failed = True
            continue
        unusable = {name: (what, code.label) for name, what in result["dropped"].items()}
        scopes[number] = Scope(MappingProxyType(result["values"]), tuple(result["defined"]), code,
                               MappingProxyType(unusable))
    if failed:
        return None
    base = scopes.setdefault(EXAM_SCOPE, Scope(MappingProxyType({})))
    for problem in exam.problems:
        own = scopes.setdefault(problem.number, Scope(base.values))
        inherited = {name: why for name, why in base.unusable.items() if name not in own.values}
        scopes[problem.number] = replace(own, unusable=MappingProxyType({**inherited, **own.unusable}))
    return scopes


def _results(blocks: list[tuple[str, str, Code]], varies: list[bool], exam: Exam[Text], labels: tuple[str, ...],
             out: Collector, cache: Path | None) -> list[dict | None]:
    """``_run``'s results, or the last run's from ``cache`` when nothing a block sees has changed
    (its warnings are told again). Only a run in which every block succeeded in its sandbox is
    kept: outside it, a block may read any file, which the digest does not cover."""
    if cache is None:
        return _run(blocks, varies, exam, labels, out)[0]
    from ..cache import compute_digest

    job = {"limits": list(_limits(exam, ceilings())), "variants": list(labels),
           "code": exam.meta.code if labels else None, "varies": varies,
           "blocks": [[scope, seed, code.label, code.source, str(code.loc.file)] for scope, seed, code in blocks]}
    key = compute_digest(exam, job, (CHILD, DRAWS))
    with contextlib.suppress(OSError, ValueError):
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(kept, dict) and kept.get("key") == key:
            out.noted(kept["warnings"])
            return kept["results"]
    before = len(out.warnings)
    results, contained = _run(blocks, varies, exam, labels, out)
    if contained and all(result is None or result["ok"] for result in results):  # None: a block that draws nothing
        cache.parent.mkdir(parents=True, exist_ok=True)
        kept_now = json.dumps({"key": key, "results": results, "warnings": out.warnings[before:]})
        replace_file(cache, lambda path: path.write_text(kept_now, encoding="utf-8"))
    return results


def compute_variants(exam: Exam[Text], labels: tuple[str, ...], out: Collector,
                     cache: Path | None = None) -> list[ComputedExam | None]:
    """Run every compute block once per variant (once without ``labels``), all in one child: each
    variant's computed exam, its options shuffled (None where a block failed: the errors, naming the
    variant, are in ``out``, not raised, so that `examgen verify` reports every seed). With
    ``cache`` (a file of the build's work folder) blocks whose inputs did not change don't run."""
    owners = ([(EXAM_SCOPE, exam.compute)] if exam.compute else []) + [
        (p.number, p.compute) for p in exam.problems if p.compute]
    seeds = {p.number: p.seed_name for p in exam.problems}
    blocks = [("exam" if n == EXAM_SCOPE else "problem", seeds.get(n, ""), code) for n, code in owners]
    varies = [may_draw(code) for _, code in owners]
    if exam.compute and varies[0]:  # every problem block starts from the exam block's names
        varies = [True] * len(owners)
    results = _results(blocks, varies, exam, labels, out, cache) if blocks else []
    for index, result in enumerate(results):  # a block that draws nothing ran for the first variant only
        if result is None and not varies[index % len(blocks)]:
            results[index] = results[index % len(blocks)]
    computed: list[ComputedExam | None] = []
    for index, label in enumerate(labels or (None,)):
        scopes = _scopes(exam, owners, results[index * len(blocks):(index + 1) * len(blocks)], label, out)
        variant = shuffled(exam, label) if label is not None else exam
        computed.append(None if scopes is None else ComputedExam(variant, MappingProxyType(scopes), label))
    return computed


def compute(exam: Exam[Text], out: Collector) -> ComputedExam:
    """Run the exam's and every problem's compute block: the scopes every text is rendered in."""
    computed = compute_variants(exam, (), out)[0]
    out.raise_if_any()
    assert computed is not None
    return computed
