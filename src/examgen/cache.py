"""What outputs were built from: digests of every input, and records of the last good outputs.

A hash of the sources ends a build right after loading when nothing changed; after
rendering, a hash per document skips LaTeX for a document whose inputs did not change.
A record that does not match, or cannot be read, means rebuild: it costs time, never
correctness.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import __version__
from .model.source import Exam, Figure, Text
from .theme import Theme


def sha(path: Path) -> str | None:
    """A file's SHA-256, read in chunks: a large file never sits in memory whole."""
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def engine() -> str:
    """The TeX engine as a cache key: its path and modification time."""
    engine = shutil.which("pdflatex")
    return f"{engine} {os.stat(engine).st_mtime if engine else ''}"


def images(exam: Exam) -> Iterator[Figure]:
    for problem in exam.problems:
        yield from (figure for figure in problem.figures if figure.image)


def document_digest(tex: str, exam: Exam, theme: Theme) -> str:
    """Everything one document's PDF depends on: its LaTeX source (which carries every text,
    value and template), the theme's files for TeX, the images, examgen's version and the engine."""
    digest = hashlib.sha256(f"examgen {__version__}\n{engine()}\n".encode())
    digest.update(tex.encode())
    for name, path in sorted(theme.tex_files().items()):
        digest.update(f"{name}\n{sha(path)}\n".encode())
    for figure in images(exam):
        digest.update(f"{figure.asset}\n{sha(figure.image)}\n".encode())  # type: ignore[arg-type]
    return digest.hexdigest()


def _files_under(folder: Path) -> Iterable[Path]:
    return (p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if folder.is_dir() else ()


def source_digest(exam: Exam[Text], theme: Theme, out_dir: Path) -> str:
    """Everything an exam's outputs depend on, before any Python runs: its sources and
    included files, every file in its folder and in the shared helpers' folder (modules and
    the data they read), the theme, examgen's and Python's versions and the TeX engine."""
    files = set(exam.files) | {f.image for f in images(exam) if f.image}
    files |= {*_files_under(exam.dir), *_files_under(exam.lib), *theme.all_files()}
    # out_dir as named, not resolved: it is a link that every install points at a new folder
    digest = hashlib.sha256(f"examgen {__version__}\n{sys.version}\n{engine()}\n{os.path.abspath(out_dir)}\n".encode())
    for path in sorted(files):
        digest.update(f"{path}\n{sha(path)}\n".encode())
    return digest.hexdigest()


def compute_digest(exam: Exam[Text], job: object, runner: Iterable[Path]) -> str:
    """Everything the compute blocks' results depend on: the blocks as sent to the child (``job``,
    without their lines: an edit above a block moves it and changes nothing it computes), the
    child's own scripts (``runner``), what the blocks can import or read (the exam folder except
    the sources examgen reads itself, the shared helpers, the installed packages), examgen's and
    Python's versions. An edit of a text leaves it unchanged: no Python runs."""
    packages = sorted(p.name for p in Path(sysconfig.get_paths()["purelib"]).glob("*.dist-info"))
    digest = hashlib.sha256(f"examgen {__version__}\n{sys.version}\n{packages}\n".encode())
    digest.update(json.dumps(job, sort_keys=True).encode())
    for path in [*runner, *sorted({*_files_under(exam.dir), *_files_under(exam.lib)} - set(exam.files))]:
        digest.update(f"{path}\n{sha(path)}\n".encode())
    return digest.hexdigest()


class Record:
    """A JSON file saying which inputs digest produced which output files (by hash)."""

    def __init__(self, file: Path):
        self.file = file

    def read(self) -> dict:
        try:
            data = json.loads(self.file.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def fresh(self, digest: str, files: dict[str, Path]) -> bool:
        data = self.read()
        outputs = data.get("outputs", {})
        return data.get("input") == digest and all(sha(p) == outputs.get(name) for name, p in files.items())

    def record(self, digest: str, files: dict[str, Path], warnings: Iterable[str] = ()) -> None:
        outputs = {name: sha(p) for name, p in files.items()}
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.file.write_text(json.dumps({"input": digest, "outputs": outputs, "warnings": list(warnings)}))
