"""The pipeline: load -> validate -> compute -> render -> compile -> check -> install.

Everything is validated and computed before anything is written. Outputs are
compiled in ``build/.work/<id>/`` and moved into place only after every check
passed, so a failed build leaves the last good outputs untouched. A content
hash per view skips LaTeX when nothing its PDF depends on has changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import Collector, SourceError
from .model import Exam

VIEWS = ("student", "solution")
EXAM_FILE = "exam.yaml"


def templates_dir() -> Path:
    """The LaTeX templates shipped with examgen (the repository's ``templates/``)."""
    return Path(os.environ.get("EXAMGEN_TEMPLATES") or Path(__file__).resolve().parents[2] / "templates")


@dataclass(frozen=True)
class Target:
    """An exam to build: its id, its source file and the project folder that holds ``build/``."""

    id: str
    exam_file: Path
    root: Path

    @property
    def work(self) -> Path:
        return self.root / "build" / ".work" / self.id

    @property
    def out(self) -> Path:
        return self.root / "build" / self.id


def exams_folder(root: Path) -> Path:
    return root / "exams"


def all_targets(root: Path) -> list[Target]:
    folder = exams_folder(root)
    files = sorted(folder.glob(f"*/{EXAM_FILE}")) if folder.is_dir() else []
    return [Target(f.parent.name, f, root) for f in files]


def resolve(name: str, root: Path) -> Target:
    """An exam id (``2022-endterm``), an exam folder or an ``exam.yaml`` path."""
    path = Path(name)
    for candidate in (path, path / EXAM_FILE, exams_folder(root) / name / EXAM_FILE):
        if candidate.is_file():
            exam_file = candidate.resolve()
            home = exam_file.parent.parent
            project = home.parent if home.name == "exams" else root
            return Target(exam_file.parent.name, exam_file, project)
    known = ", ".join(t.id for t in all_targets(root)) or "none"
    raise SourceError(f"no exam '{name}' (looked for {exams_folder(root) / name / EXAM_FILE}; exams here: {known})")


def prepare(target: Target, out: Collector) -> Exam:
    """Load, validate, compute and render the texts: everything that needs no LaTeX."""
    from .compute import compute
    from .load import load
    from .render import render_texts
    from .validate import validate

    exam = validate(load(target.exam_file), target.id, out)
    return render_texts(compute(exam, out), templates_dir(), out)


@dataclass
class BuildResult:
    exam: Exam
    out_dir: Path
    compiled: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@contextmanager
def _locked(folder: Path):
    """One build of an exam at a time: a second one waits instead of mixing outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def input_digest(tex: str, exam: Exam) -> str:
    """Everything a PDF depends on: its LaTeX source (which carries every text, value and
    template), the style file, the images, examgen's version and the TeX engine."""
    digest = hashlib.sha256(f"examgen {__version__}\n".encode())
    engine = shutil.which("pdflatex")
    digest.update(f"{engine} {os.stat(engine).st_mtime if engine else ''}\n".encode())
    digest.update(tex.encode())
    digest.update((templates_dir() / "examgen.sty").read_bytes())
    for _, figure in _images(exam):
        digest.update(figure.asset.encode() + figure.image.read_bytes())
    return digest.hexdigest()


def _images(exam: Exam):
    for problem in exam.problems:
        for figure in problem.figures:
            if figure.image:
                yield problem, figure


class Cache:
    """What a view's PDF was last built from; unreadable means stale, never wrong."""

    def __init__(self, folder: Path):
        self.file = folder / "examgen-cache.json"

    def read(self) -> dict:
        try:
            data = json.loads(self.file.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def fresh(self, digest: str, *pdfs: Path) -> bool:
        data = self.read()
        return data.get("input") == digest and all(_sha(p) == data.get("output") for p in pdfs)

    def record(self, digest: str, pdf: Path) -> None:
        self.file.write_text(json.dumps({"input": digest, "output": _sha(pdf)}))


def _install(out_dir: Path, files: dict[str, Path | str]) -> None:
    """Put every output in place, each by an atomic rename, only once all are ready."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = []
    for name, content in files.items():
        temporary = out_dir / f".{name}.{os.getpid()}.tmp"
        if isinstance(content, Path):
            shutil.copyfile(content, temporary)
        else:
            temporary.write_text(content, encoding="utf-8")
        staged.append((temporary, out_dir / name))
    for temporary, final in staged:
        os.replace(temporary, final)


def build(target: Target, out_dir: Path | None = None, force: bool = False) -> BuildResult:
    from .check import check
    from .compile import Job, compile_all, layout_reports
    from .key import key_json
    from .render import render_document

    out = Collector()
    exam = prepare(target, out)
    templates = templates_dir()
    sources = {view: render_document(exam, templates, view == "solution") for view in VIEWS}
    key = key_json(exam)
    out_dir = out_dir or target.out
    result = BuildResult(exam, out_dir)
    with _locked(target.work):
        jobs = {view: Job(view, target.work / view) for view in VIEWS}
        digests = {view: input_digest(sources[view], exam) for view in VIEWS}
        stale = [view for view in VIEWS if force or not Cache(jobs[view].folder).fresh(
            digests[view], jobs[view].pdf, out_dir / f"{view}.pdf")]
        for view in stale:
            job = jobs[view]
            job.folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(templates / "examgen.sty", job.folder / "examgen.sty")
            for _, figure in _images(exam):
                shutil.copyfile(figure.image, job.folder / figure.asset)
            job.tex.write_text(sources[view], encoding="utf-8")
        logs = compile_all([jobs[view] for view in stale], out) if stale else {}
        parts = {part.number: part for _, part in exam.parts()}
        for number, needed in layout_reports(logs.get("solution", ""), "overflow"):
            part = parts[number]
            out.warn(f"the sample solution does not fit its answer space (needs {needed:.1f}cm, "
                     f"space is {part.space:g}cm)", part.loc, part.context)
        for number, height in dict(layout_reports("".join(logs.values()), "tall")).items():
            part = parts[number]
            out.warn(f"the part is {height:.1f}cm tall, more than a page holds: make its answer space smaller",
                     part.loc, part.context)
        key_changed = (out_dir / "key.json").read_text(encoding="utf-8") != key \
            if (out_dir / "key.json").exists() else True
        if stale or key_changed:
            check(exam, jobs["student"].pdf, jobs["solution"].pdf, out)
            _install(out_dir, {"student.pdf": jobs["student"].pdf, "solution.pdf": jobs["solution"].pdf,
                               "key.json": key})
            for view in VIEWS:
                Cache(jobs[view].folder).record(digests[view], jobs[view].pdf)
    result.compiled = stale
    result.warnings = out.warnings
    return result
