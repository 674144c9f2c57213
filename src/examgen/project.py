"""Where things are: a project is a folder with ``exams/`` (each exam a folder with an
``exam.yaml``, shared helpers in ``exams/lib``), optionally ``templates/`` (its theme)
and ``build/`` (outputs and the build cache)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import SourceError
from .theme import Theme

EXAM_FILE = "exam.yaml"


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def exams(self) -> Path:
        return self.root / "exams"

    @property
    def lib(self) -> Path:
        return self.exams / "lib"

    @property
    def build(self) -> Path:
        return self.root / "build"

    def theme(self) -> Theme:
        return Theme.stack(self.root / "templates")

    def targets(self) -> list[Target]:
        files = sorted(self.exams.glob(f"*/{EXAM_FILE}")) if self.exams.is_dir() else []
        return [Target(f.parent.name, f, self) for f in files]

    def resolve(self, name: str) -> Target:
        """An exam id (``2022-endterm``), an exam folder or an ``exam.yaml`` path; an exam
        in another project's ``exams/`` belongs to that project (its theme, its ``build/``)."""
        path = Path(name)
        for candidate in (path, path / EXAM_FILE, self.exams / name / EXAM_FILE):
            if candidate.is_file():
                exam_file = candidate.resolve()
                home = exam_file.parent.parent
                project = Project(home.parent) if home.name == "exams" else self
                return Target(exam_file.parent.name, exam_file, project)
        known = ", ".join(t.id for t in self.targets()) or "none"
        raise SourceError(f"no exam '{name}' (looked for {self.exams / name / EXAM_FILE}; exams here: {known})")


@dataclass(frozen=True)
class Target:
    """An exam to build: its id, its source file and its project."""

    id: str
    exam_file: Path
    project: Project

    @property
    def work(self) -> Path:
        """Where its documents compile and its cache records live."""
        return self.project.build / ".work" / self.id

    @property
    def out(self) -> Path:
        return self.project.build / self.id
