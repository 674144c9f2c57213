"""The pipeline: load -> validate -> compute -> render -> compile -> check -> install.

Everything is validated and computed before anything is written. Outputs are
compiled in ``build/.work/<id>/`` and moved into place only after every check
passed, so a failed build leaves the last good outputs untouched. A hash of
the sources ends a build right after loading when nothing changed; after
rendering, a hash per view skips LaTeX for a view whose inputs did not change.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
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


def read_exam(target: Target, out: Collector) -> Exam:
    """Load and validate: the exam's records, no Python run yet."""
    from .load import load
    from .validate import validate

    return validate(load(target.exam_file), target.id, out)


def prepare(target: Target, out: Collector) -> Exam:
    """Load, validate, compute and render the texts: everything that needs no LaTeX."""
    return _computed(read_exam(target, out), out)


def _computed(exam: Exam, out: Collector) -> Exam:
    """Run the compute blocks, compiling the texts' templates meanwhile, then expand the texts."""
    from .compute import compute
    from .render import precompile, render_texts

    templates = templates_dir()
    return render_texts(compute(exam, out, meanwhile=lambda: precompile(exam, templates)), templates, out)


@dataclass
class BuildResult:
    exam: Exam
    out_dir: Path
    compiled: list[str]  # the views LaTeX ran for
    warnings: list[str]


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


def _engine() -> str:
    engine = shutil.which("pdflatex")
    return f"{engine} {os.stat(engine).st_mtime if engine else ''}"


def input_digest(tex: str, exam: Exam) -> str:
    """Everything one view's PDF depends on: its LaTeX source (which carries every text, value
    and template), the style file, the images, examgen's version and the TeX engine."""
    digest = hashlib.sha256(f"examgen {__version__}\n{_engine()}\n".encode())
    digest.update(tex.encode())
    digest.update((templates_dir() / "examgen.sty").read_bytes())
    for _, figure in _images(exam):
        digest.update(figure.asset.encode() + figure.image.read_bytes())
    return digest.hexdigest()


def source_digest(exam: Exam, out_dir: Path) -> str:
    """Everything an exam's outputs depend on, before any Python runs: its sources and
    included files, everything in its folder (images, helper modules), the shared helpers,
    the templates, examgen's version, Python's version and the TeX engine."""
    files = set(exam.files) | {figure.image for _, figure in _images(exam)}
    for folder, pattern in ((exam.dir, "**/*"), (exam.dir.parent / "lib", "**/*.py"), (templates_dir(), "*")):
        files |= {p for p in folder.glob(pattern) if p.is_file() and "__pycache__" not in p.parts}
    digest = hashlib.sha256(f"examgen {__version__}\n{sys.version}\n{_engine()}\n{out_dir.resolve()}\n".encode())
    for path in sorted(files):
        digest.update(f"{path}\n{_sha(path)}\n".encode())
    return digest.hexdigest()


def _images(exam: Exam):
    for problem in exam.problems:
        for figure in problem.figures:
            if figure.image:
                yield problem, figure


class Cache:
    """What outputs were last built from, with the hash of each output file: a record that
    no longer matches, or cannot be read, means rebuild (it costs time, never correctness)."""

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
        return data.get("input") == digest and all(_sha(p) == outputs.get(name) for name, p in files.items())

    def record(self, digest: str, files: dict[str, Path], warnings: list[str] = ()) -> None:
        outputs = {name: _sha(p) for name, p in files.items()}
        self.file.write_text(json.dumps({"input": digest, "outputs": outputs, "warnings": list(warnings)}))


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


def _layout_warnings(exam: Exam, logs: dict[str, str], out: Collector) -> None:
    """What the templates reported in the LaTeX logs, as warnings naming the part."""
    from .compile import layout_reports

    parts = {part.number: part for _, part in exam.parts()}
    for number, needed in layout_reports(logs.get("solution", ""), "overflow"):
        part = parts[number]
        out.warn(f"the sample solution does not fit its answer space (needs {needed:.1f}cm, "
                 f"space is {part.space:g}cm)", part.loc, part.context)
    for number, height in dict(layout_reports("".join(logs.values()), "tall")).items():
        part = parts[number]
        out.warn(f"the part is {height:.1f}cm tall, more than a page holds: make its answer space smaller",
                 part.loc, part.context)


def build(target: Target, out_dir: Path | None = None, force: bool = False) -> BuildResult:
    """Build one exam's outputs; compile only the views whose inputs changed."""
    from .check import check, read_view
    from .compile import Job, compile_all
    from .key import key_json
    from .render import render_document

    out = Collector()
    exam = read_exam(target, out)
    out_dir = out_dir or target.out
    outputs = {name: out_dir / name for name in ("student.pdf", "solution.pdf", "key.json")}
    with _locked(target.work):
        record = Cache(target.work / "examgen-inputs.json")
        inputs = source_digest(exam, out_dir)
        if not force and record.fresh(inputs, outputs):  # nothing changed: no Python, no LaTeX
            return BuildResult(exam, out_dir, [], out.warnings + record.read().get("warnings", []))
        exam = _computed(exam, out)
        templates = templates_dir()
        sources = {view: render_document(exam, templates, view == "solution") for view in VIEWS}
        key = key_json(exam)
        jobs = {view: Job(view, target.work / view) for view in VIEWS}
        digests = {view: input_digest(sources[view], exam) for view in VIEWS}
        caches = {view: Cache(jobs[view].folder / "examgen-cache.json") for view in VIEWS}
        pdf_copies = {view: {"work": jobs[view].pdf, "out": outputs[f"{view}.pdf"]} for view in VIEWS}
        stale = [view for view in VIEWS if force or not caches[view].fresh(digests[view], pdf_copies[view])]
        for view in stale:
            job = jobs[view]
            job.folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(templates / "examgen.sty", job.folder / "examgen.sty")
            for _, figure in _images(exam):
                shutil.copyfile(figure.image, job.folder / figure.asset)
            job.tex.write_text(sources[view], encoding="utf-8")
        pdfs = {}  # each view's PDF as the checks read it: an unchanged one while LaTeX runs for the
        # others, a compiled one as soon as LaTeX finished it

        def read(job: Job) -> None:
            pdfs[job.name] = read_view(job.pdf, job.name == "solution")

        with ThreadPoolExecutor(max_workers=1) as pool:
            unchanged = [pool.submit(read, jobs[view]) for view in VIEWS if view not in stale]
            logs = compile_all([jobs[view] for view in stale], out, then=read) if stale else {}
            for reading in unchanged:
                reading.result()
        _layout_warnings(exam, logs, out)
        check(exam, pdfs["student"], pdfs["solution"], out)
        _install(out_dir, {"student.pdf": jobs["student"].pdf, "solution.pdf": jobs["solution"].pdf,
                           "key.json": key})
        for view in VIEWS:
            caches[view].record(digests[view], pdf_copies[view])
        record.record(inputs, outputs, out.warnings)
    return BuildResult(exam, out_dir, stale, out.warnings)
