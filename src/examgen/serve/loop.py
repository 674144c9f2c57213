"""The watch loop: build, then rebuild after every save of a file the exam's outputs depend on
(its sources and included files, images, helper modules, the theme's templates), until a stop.

It runs in the main thread, where SIGINT and SIGTERM reach it (stopping.py): a stop ends the
build in progress and its processes, and then the loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..commands.build import BuildResult, build
from ..errors import ExamgenError
from ..model.rendered import VIEWS
from ..orchestrate import built_variants
from ..project import Target

QUIET_MS = 50  # a save is built once no file changed for this long (an editor writes in steps)


@dataclass(frozen=True)
class Outcome:
    """One build of the loop: its result, or the errors it met (each ``file:line: message``)."""

    result: BuildResult | None
    errors: tuple[str, ...]
    seconds: float

    @property
    def variants(self) -> tuple[str, ...]:
        """The variants the build made (none without variants, or after a failed build)."""
        return built_variants(self.result.exam) if self.result else ()

    @property
    def pdfs(self) -> dict[str, Path]:
        """The views' PDFs after a good build (none after a failed one), named as the build names
        them: ``student``, or with variants ``A/student``."""
        if not self.result:
            return {}
        return {f"{label}/{view}" if label else view: self.result.out_dir / label / f"{view}.pdf"
                for label in self.variants or ("",) for view in VIEWS}


def watched(target: Target) -> list[Path]:
    """The folders whose files the outputs depend on: the exam's, the helper modules', the theme's."""
    folders = [target.exam_file.parent, target.project.lib, *target.project.theme().layers]
    return [folder for folder in folders if folder.is_dir()]


def _build(target: Target, first: str | None = None,
           early: Callable[[dict[str, Path], float], None] | None = None) -> Outcome:
    started = time.monotonic()

    def shown(pdfs: dict[str, Path]) -> None:
        if early:
            early(pdfs, time.monotonic() - started)

    try:
        result: BuildResult | None = build(target, first=first, early=shown if early else None)
        errors: tuple[str, ...] = ()
    except ExamgenError as exc:
        result, errors = None, tuple(str(problem) for problem in exc.problems)
    return Outcome(result, errors, time.monotonic() - started)


def rebuild_on_change(target: Target, building: Callable[[list[Path]], None], built: Callable[[Outcome], None],
                      on_screen: Callable[[], str | None] = lambda: None,
                      early: Callable[[dict[str, Path], float], None] | None = None) -> None:
    """Build now and after every change of a watched file, telling ``building`` which files changed
    (none for the first build) and ``built`` the outcome; returns only by an exception (a stop).
    With variants, the views of the one ``on_screen`` names compile first, and ``early`` gets their
    PDFs and the seconds since the build began."""
    import watchfiles  # imported on first use: keeps start-up fast

    building([])
    built(_build(target, on_screen(), early))
    for changes in watchfiles.watch(*watched(target), step=QUIET_MS, raise_interrupt=True):
        changed = lasting({(change.name, Path(path)) for change, path in changes})
        if changed:
            building(changed)
            built(_build(target, on_screen(), early))


def lasting(changes: set[tuple[str, Path]]) -> list[Path]:
    """The files a batch of changes (``added``, ``modified``, ``deleted``) changed, without those
    that came and went within it: an editor's or a tool's temporary files (sed's ``sedAb12Cd``)."""
    added, deleted = ({path for kind, path in changes if kind == wanted} for wanted in ("added", "deleted"))
    return sorted({path for _, path in changes if path not in added & deleted or path.exists()})
