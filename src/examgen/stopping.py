"""Stopping a run: SIGINT and SIGTERM end every process a build started and make the
build's threads stop at their next checkpoint; nothing is installed after a stop."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .errors import Interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
REAP_SECONDS = 0.05  # how often a stopping run ends the child processes its threads may still start
LOCK_POLL_SECONDS = 0.1  # how often a build waiting for another one's lock looks for a stop


def _descendants() -> list[tuple[int, int]]:
    """Every process this one started, directly or not, each with its process group (from /proc)."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "stat"), "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()  # after the command name, which may hold anything
        except OSError:
            continue  # ended meanwhile
        children.setdefault(int(fields[1]), []).append((int(entry.name), int(fields[2])))
    found, parents = [], [os.getpid()]
    while parents:
        for child in children.get(parents.pop(), []):
            found.append(child)
            parents.append(child[0])
    return found


def _end_descendants() -> None:
    """SIGKILL every process this one started (LaTeX, the compute child, whatever a block started),
    and the process groups they lead: a compute block runs in a session of its own."""
    for pid, group in _descendants():
        with suppress(ProcessLookupError, PermissionError):
            if group == pid:
                os.killpg(pid, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)


class Stop:
    """What SIGINT and SIGTERM ask of a run: end every child process at once and keep ending the
    ones the build's threads still start, install nothing more, exit 128 + the signal. The threads
    meet the stop at their checkpoints (``check``); an install and a stop never interleave (``gate``).
    A second signal ends the process without waiting for its threads."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.gate = threading.RLock()
        self.over = threading.Event()

    def ask(self, signum: int, frame: object) -> None:
        """The signal handler (it runs in the main thread)."""
        with self.gate:
            again, self.signum = self.signum is not None, signum
        _end_descendants()
        if again:
            os._exit(128 + signum)
        threading.Thread(target=self._reap, name="examgen-stop", daemon=True).start()
        raise KeyboardInterrupt  # out of what the main thread waits for; stop_on_signals makes it Interrupted

    def _reap(self) -> None:
        while not self.over.wait(REAP_SECONDS):
            _end_descendants()

    def check(self) -> None:
        if self.signum is not None:
            raise Interrupted(self.signum)


_stop = Stop()  # the running command's; outside stop_on_signals no signal reaches it


def current() -> Stop:
    """The running command's stop (checkpoints call ``current().check()``)."""
    return _stop


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Let SIGINT and SIGTERM stop the command run inside (from the main thread): it then raises
    Interrupted. A signal the command was started to ignore (nohup, a background job) stays ignored."""
    global _stop
    if threading.current_thread() is not threading.main_thread():  # only it may handle signals
        yield
        return
    stop = _stop = Stop()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(signum, stop.ask)
    try:
        yield
    except (Exception, KeyboardInterrupt):
        if stop.signum is None:
            raise
        raise Interrupted(stop.signum) from None  # whatever the stop made fail in the meantime
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if stop.signum is None:
            stop.over.set()  # after a stop, the reaper goes on until the process ends: a thread still
            # winding down (a writer between two LaTeX passes) may start a child, which it ends at once


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Held by one build at a time: a second one waits (a stop ends the wait) instead of mixing outputs."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                _stop.check()
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
