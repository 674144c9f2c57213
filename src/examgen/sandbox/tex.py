"""How TeX runs: inside bubblewrap, seeing only the system tree where TeX lives, TeX's
configuration and the document's folder; and with kpathsea's paranoid mode and no shell
escape, which refuse reading and writing outside that folder (TeX's own tree aside)."""

from __future__ import annotations

import os
from pathlib import Path

from .bubblewrap import sandboxed

SYSTEM_TREES = ("/usr", "/etc/texmf", "/var/lib/texmf", "/etc/alternatives")  # TeX, its config and formats
# Fixed timestamps make a PDF a function of its source alone (reproducible outputs, stable caches).
REPRODUCIBLE = {"SOURCE_DATE_EPOCH": "1700000000", "FORCE_SOURCE_DATE": "1"}


def tex_environment(font_cache: Path | None = None) -> dict[str, str]:
    """TeX's environment; LuaTeX's luaotfload keeps the tables of the OpenType fonts it loaded in
    ``font_cache``, a folder the sandbox lets it write (the document's), kept between runs: reading a
    CJK font's tables anew takes seconds, from its cache a fraction of one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXMF", "TEXINPUTS"))}
    env.update(REPRODUCIBLE, openin_any="p", openout_any="p", shell_escape="f", max_print_line="10000")
    if font_cache:
        env.update(TEXMFVAR=str(font_cache.resolve()), TEXMFCACHE=str(font_cache.resolve()))
    return env


def contained(command: list[str], folder: Path) -> list[str]:
    """A TeX command inside its sandbox."""
    return sandboxed(command, folder, SYSTEM_TREES)
