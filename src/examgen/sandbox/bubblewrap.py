"""Bubblewrap (Debian's ``bubblewrap``): a command that sees only the paths it is given, with no
network and no capabilities, in its own PID namespace (every process it starts dies with it,
and it dies with examgen)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

MERGED_USR_LINKS = ("/bin", "/lib", "/lib64", "/sbin")


def sandboxed(command: list[str], folder: Path, readable: tuple[str, ...] = (), *, writable: bool = True) -> list[str]:
    """The command inside bubblewrap: ``readable`` paths read-only, ``folder`` current and (if
    ``writable``) writable with an empty /tmp beside it, else the command can write nowhere; the
    rest of the root and /dev read-only, no network, no capabilities (not even for root), a fresh
    PID namespace and session."""
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--proc", "/proc", "--dev", "/dev", *(["--tmpfs", "/tmp"] if writable else [])]
    for path in readable:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for link in MERGED_USR_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    where = str(folder.resolve())
    args += ["--bind" if writable else "--ro-bind", where, where, "--remount-ro", "/dev", "--remount-ro", "/"]
    return args + ["--chdir", where, "--setenv", "HOME", where, *command]


@functools.cache
def sandbox_works() -> bool:
    """Whether bubblewrap is installed and may create a sandbox here (containers may forbid it)."""
    if not shutil.which("bwrap"):
        return False
    probe = sandboxed(["true"], Path(tempfile.gettempdir()), ("/usr",))
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
