"""Bubblewrap (Debian's ``bubblewrap``): a command that sees only the folders it is given,
with no network, in its own PID namespace (every process it starts dies with it)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

MERGED_USR_LINKS = ("/bin", "/lib", "/lib64", "/sbin")


def sandboxed(command: list[str], folder: Path, readable: tuple[str, ...] = ()) -> list[str]:
    """The command inside bubblewrap: ``readable`` folders read-only, ``folder`` writable and
    current, an empty /tmp, no network, a fresh PID namespace and session."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for tree in readable:
        if os.path.isdir(tree):
            args += ["--ro-bind", tree, tree]
    for link in MERGED_USR_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    where = str(folder.resolve())
    return args + ["--bind", where, where, "--chdir", where, "--setenv", "HOME", where, *command]


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
