"""The marks for what a test needs besides Python, enforced: ``latex`` (TeX Live's pdflatex),
``browser`` (headless Chromium) and ``spreadsheet`` (LibreOffice's soffice, headless), so that
``pytest -m "not latex and not browser and not spreadsheet"`` runs the rest quickly and without them.

A test that uses a fixture which builds with LaTeX (LATEX_FIXTURES) is marked ``latex`` here, at
collection. Any other test that runs LaTeX or Chromium must carry the mark itself, and one that
does not fails, naming the mark: while an unmarked test runs (its fixtures' setup and teardown
included), a folder first on PATH holds stand-ins for the tools it may not run, which refuse and
note that they were called. The notes fail the test whatever examgen made of the refusal. That
reaches the tools wherever they are started: by the test (``shutil.which("chromium")``, ``bash -c
'exec chromium'``), by examgen in this process or in an ``examgen`` the test starts. TeX runs
inside bubblewrap, which finds it on PATH in a sandbox where that folder does not exist, so the
folder also holds a ``bwrap`` that refuses a command naming a refused tool and runs any other
(the compute blocks' sandbox) with the real one."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from pathlib import Path

import pytest

LATEX_FIXTURES = {"built"}  # support.py's fixtures that build exams (pdflatex): their tests are marked `latex`

TOOLS = {  # per mark, the programs a test without it may not run
    "latex": ("pdflatex", "latexmk", "lualatex", "xelatex", "pdftex", "luatex", "xetex", "latex"),
    "browser": ("chromium", "chromium-browser", "google-chrome"),
    "spreadsheet": ("soffice", "libreoffice", "localc"),
}
IN_SANDBOX = {mark: tuple(t for t in tools if t != "latex") for mark, tools in TOOLS.items()}  # `latex`:
# also a folder's name, which bubblewrap's arguments may end in

REFUSE = """message="examgen tests: this test runs {tool}{how}: mark it @pytest.mark.{mark}"
printf '%s\\n' "$message" >> {log}
printf '%s\\n' "$message" >&2
exit 1"""

BWRAP = """#!/bin/sh
for arg in "$@"; do
    case "$arg" in
{cases}
    esac
done
exec {real} "$@"
"""

LOG = pytest.StashKey[int]()  # how much of the notes an item has seen


class Guard:
    """The stand-in folders, one per set of refused marks, and the notes their programs write."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="examgen-marks-"))
        self.log = self.root / "refused.log"
        self.log.touch()
        self.folders: dict[frozenset[str], Path] = {}
        self.bwrap = shutil.which("bwrap")  # the real one, found before any stand-in is on PATH

    def folder(self, refused: frozenset[str]) -> Path:
        if refused not in self.folders:
            folder = self.root / "-".join(sorted(refused))
            folder.mkdir()
            for mark in sorted(refused):
                for tool in TOOLS[mark]:
                    self._script(folder / tool, "#!/bin/sh\n" + self._refuse(tool, mark))
            if self.bwrap:
                cases = [f"{tool}|*/{tool})\n{self._refuse(tool, mark, ' (in bubblewrap)')};;"
                         for mark in sorted(refused) for tool in IN_SANDBOX[mark]]
                self._script(folder / "bwrap", BWRAP.format(cases="\n".join(cases), real=shlex.quote(self.bwrap)))
            self.folders[refused] = folder
        return self.folders[refused]

    def _refuse(self, tool: str, mark: str, how: str = "") -> str:
        return REFUSE.format(tool=tool, how=how, mark=mark, log=shlex.quote(str(self.log)))

    @staticmethod
    def _script(path: Path, text: str) -> None:
        path.write_text(text, encoding="utf-8")
        path.chmod(0o755)

    def notes(self, since: int) -> tuple[list[str], int]:
        """The notes written after offset ``since``, and the offset after them."""
        with self.log.open("rb") as notes:
            notes.seek(since)
            new = notes.read()
        return sorted(set(new.decode(errors="replace").splitlines())), since + len(new)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


_guard: Guard | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _guard
    _guard = Guard()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _guard is not None:
        _guard.remove()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if LATEX_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("latex"):
            item.add_marker(pytest.mark.latex)


def refused(item: pytest.Item) -> frozenset[str]:
    """The marks whose tools the item may not run: those it does not carry."""
    return frozenset(mark for mark in TOOLS if item.get_closest_marker(mark) is None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    marks = refused(item)
    if _guard is None or not marks:
        return (yield)
    path = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join(filter(None, [str(_guard.folder(marks)), path]))
    item.stash[LOG] = _guard.log.stat().st_size
    try:
        return (yield)
    finally:
        if path is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if _guard is not None and LOG in item.stash:
        notes, item.stash[LOG] = _guard.notes(item.stash[LOG])
        if notes:
            report.outcome = "failed"
            report.longrepr = "\n".join(notes)
    return report
