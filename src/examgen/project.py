"""Where things are: a project is a folder with ``exams/`` (each exam a folder with an
``exam.yaml``, shared helpers in ``exams/lib``), optionally ``templates/`` (its theme),
``build/`` (outputs and the build cache: made again at will) and ``course/`` (what a course
made of an exam once it was built: copies, exports, grades; a build never touches it)."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import UNFIT_IN_NAMES, Collector, Loc, SourceError, printable
from .theme import Theme, leads_to, link_out

EXAM_FILE = "exam.yaml"
COPIES = "copies"  # the copies' folder in an exam's course records (course/<id>/copies)
MANIFEST = "manifest.json"  # a run of copies' record of each copy: code, student, variant, pages


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

    @property
    def course(self) -> Path:
        return self.root / "course"

    def theme(self) -> Theme:
        """The project's theme; its ``templates/`` must lie inside the project once links are followed."""
        templates = self.root / "templates"
        refuse_links_out({templates: "the theme folder"}, self.root)
        return Theme.stack(templates)

    def targets(self) -> list[Target]:
        files = sorted(self.exams.glob(f"*/{EXAM_FILE}")) if self.exams.is_dir() else []
        return [Target(f.parent.name, f, self) for f in files]

    def resolve(self, name: str) -> Target:
        """An exam id (``2022-endterm``), an exam folder or an ``exam.yaml`` path; an exam
        in another project's ``exams/`` belongs to that project (its theme, its ``build/``)."""
        path = Path(name)
        for candidate in (path, path / EXAM_FILE, self.exams / name / EXAM_FILE):
            if candidate.is_file():
                exam_file = Path(os.path.abspath(candidate))  # as named: its folder is the exam's, wherever links lead
                home = exam_file.parent.parent
                project = Project(home.parent) if home.name == "exams" else self
                return Target(exam_file.parent.name, exam_file, project)
        known = ", ".join(t.shown_id for t in self.targets()) or "none"
        raise SourceError(f"no exam '{printable(name)}' (looked for {printable(str(self.exams / name / EXAM_FILE))}; "
                          f"exams here: {known})")


@dataclass(frozen=True)
class Target:
    """An exam to build: its id, its source file (as named, links not followed: its folder is the exam
    folder) and its project."""

    id: str
    exam_file: Path
    project: Project

    @property
    def home(self) -> Path:
        """What the exam folder and its ``lib`` must lie inside once links are followed: the project,
        or the folder that holds an exam outside any project's ``exams/``."""
        folder = self.exam_file.parent
        return self.project.root if folder.parent == self.project.exams else folder.parent

    def confine(self) -> None:
        """The exam folder and the shared ``exams/lib`` beside it are what the compute blocks' sandbox
        shows and what a source may name: a link taking either out of the project would show the
        builder's files (their keys) in a PDF or a message, so it is refused, named."""
        folder = self.exam_file.parent
        refuse_links_out({folder: "the exam folder", folder.parent / "lib": "the shared helpers' folder"}, self.home)

    @property
    def shown_id(self) -> str:
        return printable(self.id)

    def check_path(self) -> None:
        """An exam's path reaches messages, the key and the LaTeX source (in ``% examgen-source:``
        comments, which a newline would end): a control character or a byte that is not UTF-8 in
        it is refused before anything is read."""
        unfit = [char for char in str(self.exam_file) if unicodedata.category(char) in UNFIT_IN_NAMES]
        if unfit:
            what = "a byte that is not UTF-8" if unicodedata.category(unfit[0]) == "Cs" else "a control character"
            raise SourceError(f"the exam's path holds {what} ({printable(unfit[0])}): rename the folder",
                              Loc(self.exam_file))

    @property
    def work(self) -> Path:
        """Where its documents compile and its cache records live."""
        return self.project.build / ".work" / self.id

    @property
    def out(self) -> Path:
        return self.project.build / self.id

    @property
    def course(self) -> Path:
        """Its course records (copies, exports, grades): apart from the build, which never removes them."""
        return self.project.course / self.id

    @property
    def copies(self) -> Path:
        """The default folder of its copies, which export, grade and scan read."""
        return self.course / COPIES


def refuse_links_out(folders: dict[Path, str], home: Path) -> None:
    """A SourceError for each folder (path: what it is) that a link takes out of ``home``, naming the link."""
    links = {link: what for folder, what in reversed(folders.items()) if (link := link_out(folder, home))}
    refused = Collector()  # one link (exams/ itself) may take several out: it is named once
    for link, what in links.items():
        refused.error(SourceError(f"a link out of the project (to {leads_to(link)}), which {what} must not "
                                  f"leave: make it a folder of the project, not a link", Loc(link)))
    refused.raise_if_any()
