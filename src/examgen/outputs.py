"""Installing a build's outputs as one set: a reader sees the old set or the new one, never a mix."""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from . import stopping
from .errors import Loc, OutputProblem

LEGACY_OUTPUTS = ("student.pdf", "solution.pdf", "key.json")  # what an older examgen wrote into a real folder
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO)  # a failed write, whatever the file


@contextmanager
def writing(what: str, folder: Path, within: Path | None = None) -> Iterator[None]:
    """An OSError on examgen's own files (those in ``within``, by default ``folder``), or a write
    that found no room (which names no file), is the environment's, not a bug: OutputProblem names
    the folder and the cause (read-only, full, not a folder)."""
    within = Path(os.path.abspath(within or folder))
    try:
        yield
    except OSError as exc:
        named = [Path(os.path.abspath(name)) for name in (exc.filename, exc.filename2) if name]
        if named and not any(path.is_relative_to(within) or within.is_relative_to(path) for path in named):
            raise
        if not named and exc.errno not in NO_ROOM:
            raise
        raise OutputProblem(f"cannot write {what}: {exc.strerror or exc}", Loc(folder)) from None


def replace_file(path: Path, write: Callable[[Path], object]) -> None:
    """A file written beside its place (``write`` gets that path) and renamed into it: a reader sees
    the old file or the new one, never half of one."""
    staged = path.with_name(f".{path.name}.examgen-new")
    write(staged)
    os.replace(staged, path)


def remove(entry: os.DirEntry[str]) -> None:
    """A file, a link (not what it points at) or a folder with all it holds."""
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def _copy_synced(source: Path, target: Path) -> None:
    """A copy that is on the disk before a link points at it: a crash cannot leave an empty output."""
    with open(source, "rb") as reading, open(target, "xb") as writing:
        shutil.copyfileobj(reading, writing)
        writing.flush()
        os.fsync(writing.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _followed(replaced: Path, current: Path, pdfs: list[str]) -> None:
    """The PDFs of the set an install replaced, each replaced by rename with the new set's (a hard
    link, or a copy where the disk has none): a PDF viewer left open on ``build/<id>/A/student.pdf``
    watches the folder the link led to when it opened it, and sees the file change there. The
    replaced set's other files (the key) stay; its readers see each PDF whole, old or new."""
    for name in pdfs:
        if (replaced / name).parent.is_dir():
            def linked(path: Path, name: str = name) -> None:
                try:
                    os.link(current / name, path)
                except OSError:
                    shutil.copyfile(current / name, path)
            replace_file(replaced / name, linked)


class OutputFolder:
    """An exam's output folder (``build/<id>``, or ``--out``) is a symbolic link to the folder of its
    latest set of outputs beside it, ``.<name>.examgen-<16 hex digits>``. A new set is written aside
    in full, then one rename replaces the link: a reader sees the old set or the new one, never a
    mix. Each build first removes every set and link but the current one: the set its last install
    replaced, and what a build that was killed or failed left. After an install, the replaced set's
    PDFs are the new ones too (renamed in), so that a viewer watching the folder it opened follows."""

    LEGACY_TEMPORARY = re.compile(r"\.(.+)\.\d+\.tmp")  # what an older examgen left in a real folder

    def __init__(self, path: Path):
        self.path = Path(os.path.abspath(path))  # as named: the link itself, not where it points
        self.parent = self.path.parent
        self.prefix = f".{self.path.name}.examgen-"
        self.mine = re.compile(re.escape(self.prefix) + r"[0-9a-f]{16}(\.link)?")

    def _writing(self) -> AbstractContextManager[None]:
        return writing("the outputs", self.path, self.parent)

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Under the folder's lock (builds of different exams may share an --out), OSErrors reported."""
        self.refuse_foreign()
        with self._writing(), stopping.locked(self.parent / f"{self.prefix}lock"):
            yield

    def refuse_foreign(self) -> None:
        """Anything at the path but examgen's own link, an older examgen's output folder or nothing is
        refused, never replaced; before any lock is taken, so a refusal leaves nothing beside the path
        (``--out /`` put a lock file into ``/``)."""
        with self._writing():
            if self.path.is_symlink():
                if not self.mine.fullmatch(os.readlink(self.path)):
                    raise OutputProblem("cannot write the outputs here: a link examgen did not make; name another "
                                        "folder", Loc(self.path))
            elif self.path.exists() and not self.path.is_dir():
                raise OutputProblem("cannot write the outputs here: a file, not a folder", Loc(self.path))
            elif self.path.exists():
                foreign = sorted(name for name in os.listdir(self.path) if not self._legacy_output(name))
                if foreign:
                    raise OutputProblem(f"cannot write the outputs here: the folder holds other files "
                                        f"({', '.join(foreign[:3])}); examgen makes an output folder a link to its "
                                        "latest outputs, so name a new folder or one examgen made", Loc(self.path))

    def _current(self) -> str | None:
        """The set the link points at (None before the first build); an older examgen's real
        folder becomes one (checked again under the lock: the folder may have changed meanwhile)."""
        self.refuse_foreign()
        if self.path.is_symlink():
            return os.readlink(self.path)
        if not self.path.exists():
            return None
        adopted = self._new_set()
        os.rename(self.path, adopted)  # for a moment there is no output folder, never a mixed one
        os.replace(self._link_to(adopted), self.path)
        return adopted.name

    def _legacy_output(self, name: str) -> bool:
        temporary = self.LEGACY_TEMPORARY.fullmatch(name)
        return (temporary.group(1) if temporary else name) in LEGACY_OUTPUTS

    def _new_set(self) -> Path:
        return self.parent / f"{self.prefix}{secrets.token_hex(8)}"

    @staticmethod
    def _link_beside(folder: Path) -> Path:
        return folder.with_name(f"{folder.name}.link")

    def _link_to(self, folder: Path) -> Path:
        """A new link to folder, beside it, for the rename that makes it the output folder."""
        link = self._link_beside(folder)
        os.symlink(folder.name, link)  # relative: the project may move
        return link

    def sets(self) -> list[Path]:
        """Every set of outputs beside the folder, the current one first."""
        current = os.readlink(self.path) if self.path.is_symlink() else None
        found = [self.parent / entry.name for entry in os.scandir(self.parent)
                 if self.mine.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)]
        return sorted(found, key=lambda folder: folder.name != current)

    def clean(self) -> None:
        """Remove every set and link but the current set (a build's first step: it may have nothing else to do)."""
        with self._changing():
            current = self._current()
            for entry in os.scandir(self.parent):
                if entry.name != current and self.mine.fullmatch(entry.name):
                    remove(entry)

    def install(self, files: dict[str, Path]) -> None:
        """The files as the new set, switched in by one rename unless a stop came first; then the
        PDFs of the set it replaced followed (``_followed``)."""
        with self._changing():
            replaced = self._current()
            staged = self._new_set()
            link = self._link_beside(staged)
            try:
                staged.mkdir()
                for name, path in files.items():
                    (staged / name).parent.mkdir(exist_ok=True)  # a variant's folder (A/student.pdf)
                    _copy_synced(path, staged / name)
                for folder in {(staged / name).parent for name in files}:
                    _sync_folder(folder)
                self._link_to(staged)
                with stopping.current().gate:
                    stopping.current().check()
                    os.replace(link, self.path)
            except BaseException:  # a full disk, a stop: no partial set stays
                link.unlink(missing_ok=True)
                shutil.rmtree(staged, ignore_errors=True)
                raise
            _sync_folder(self.parent)
            if replaced:
                _followed(self.parent / replaced, staged, [name for name in files if name.endswith(".pdf")])
