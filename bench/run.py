"""Benchmark examgen against its floor: one hand-run latexmk of an exam's student view.

For each exam, side by side in one run, the median wall time over N repetitions of:
the floor (latexmk of the generated student.tex in a fresh folder; also the solution view,
and both views at once as a build compiles them), a clean build, a no-op rebuild, a rebuild
after editing one sample solution, after editing one figure, `examgen check`, and with
`examgen serve` running, the same edit's way to the browser: from the save to its page on
screen (headless Chromium), and that less the rebuild's own time, which is what the preview
adds; once for all exams, CLI start-up (`examgen --help`, `examgen list`); for the 2022
endterm, `examgen copies --count 100` and `--count 1000` after an up-to-date build, with
print.pdf's size and the peak memory of examgen and its worker processes together, and
`examgen grade` on simulated marks of 100 and 1,000 students, and a copy of it with four
variants: their clean build and `examgen verify --seeds 1000`; 100 copies of a per-copy copy of
the 2021 endterm; `examgen scan` of a simulated bundle of 624 scanned pages of its copies (pages
per second, peak memory) and of the same bundle again (the cache); `examgen return` of 300 scanned
and graded students of the sample exam; `examgen mark` with 20 graders at once over 10,000
answers: the next answer on screen, its 95th percentile. Each build row also says which views
LaTeX ran for, so
a cache that misses shows up, and a build that ran LaTeX gets a second row: its time
outside LaTeX, examgen's own share.

Everything runs in a temporary copy of exams/, so the repository's build/ gets nothing
but build/bench.json, the table's JSON twin.

    .venv/bin/python bench/run.py [--runs N] [--exam ID ...]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMGEN = str(Path(sys.executable).parent / "examgen")  # the venv's CLI, next to the venv's python
VIEWS = ("student", "solution")
TIMEOUT_SECONDS = 600
EDIT_WORD = "benchedit"


class CommandFailed(Exception):
    """A measured command failed: the numbers of its exam are meaningless."""


@dataclass
class Measurement:
    """What to time (``action``), what to do untimed before each repetition (``setup(i)``, whose
    return value ``action`` receives) and, for builds, the exam's work folder to watch."""

    name: str
    action: Callable
    setup: Callable | None = None
    work: Path | None = None


@dataclass
class Result:
    """One row: a measurement of one exam, with every repetition's time."""

    exam: str
    name: str
    seconds: list[float] = field(default_factory=list)
    compiled: list[str] = field(default_factory=list)  # per repetition: the views LaTeX ran for
    outside_latex: list[float] = field(default_factory=list)  # per repetition of a build that ran LaTeX

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# --- running and timing -------------------------------------------------------------------


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a command to completion; a non-zero exit becomes CommandFailed with its last lines."""
    try:
        result = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, errors="replace", timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise CommandFailed(f"`{' '.join(command)}` did not finish within {TIMEOUT_SECONDS} s") from None
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise CommandFailed(f"`{' '.join(Path(c).name if c == EXAMGEN else c for c in command)}` "
                            f"exited {result.returncode}:\n{tail}")


def stamp(file: Path) -> int | None:
    return file.stat().st_mtime_ns if file.exists() else None


def log_stamps(work: Path) -> dict[str, int | None]:
    """Each view's LaTeX log time: pdflatex rewrites it on every run, so a change means LaTeX ran."""
    return {view: stamp(work / view / f"{view}.log") for view in VIEWS}


def latex_seconds(work: Path, views: list[str]) -> float:
    """How long LaTeX ran in a build, from the first view's source being written (just before its
    first pass) to the last view's log being closed (its last pass's end)."""
    began = min(stamp(work / view / f"{view}.tex") for view in views)
    ended = max(stamp(work / view / f"{view}.log") for view in views)
    return (ended - began) / 1e9


def time_once(measurement: Measurement, i: int) -> tuple[float, list[str], float | None]:
    """The one timing helper: repetition i of a measurement, its wall time and, for a build,
    which views LaTeX ran for (the evidence for, or against, the build cache) and how long."""
    context = measurement.setup(i) if measurement.setup else None
    work = measurement.work
    before = log_stamps(work) if work else {}
    start = time.perf_counter()
    measurement.action(context)
    seconds = time.perf_counter() - start
    if not work:
        return seconds, [], None
    after = log_stamps(work)
    ran = [v for v in VIEWS if after[v] is not None and after[v] != before[v]]
    return seconds, ran, latex_seconds(work, ran) if ran else None


def measure(exam: str, measurements: list[Measurement], runs: int) -> list[Result]:
    """Round robin: repetition i of every measurement before repetition i+1 of any, so a burst
    of load from elsewhere on the machine slows all measurements alike, not one of them."""
    results = [Result(exam, m.name) for m in measurements]
    for i in range(runs):
        for measurement, result in zip(measurements, results):
            seconds, ran, latex = time_once(measurement, i)
            result.seconds.append(seconds)
            if measurement.work:
                result.compiled.append("+".join(ran) or "none")
            if latex is not None:
                result.outside_latex.append(seconds - latex)
    for result in results:
        print(f"  {exam:<14} {result.name:<40} {result.median:8.3f} s", file=sys.stderr, flush=True)
    return results


# --- the temporary project ------------------------------------------------------------------


def copy_exams(root: Path) -> None:
    """Snapshot exams/ once: exams others are editing right now stay fixed for the whole run.
    A file that vanishes mid-copy only breaks its own exam, which then fails its first build."""
    try:
        shutil.copytree(REPO / "exams", root / "exams", ignore=shutil.ignore_patterns("__pycache__"))
    except shutil.Error as exc:
        print(f"warning: exams/ changed while copied ({len(exc.args[0])} files skipped)", file=sys.stderr)


def exam_ids(root: Path) -> list[str]:
    return sorted(f.parent.name for f in (root / "exams").glob("*/exam.yaml"))


def first_build(exam: str, root: Path) -> str | None:
    """Build once, untimed: it warms the file cache and tells whether the exam builds (None) or why not."""
    try:
        run([EXAMGEN, "build", exam], root)
    except CommandFailed as exc:
        return str(exc)
    return None


# --- the measurements -------------------------------------------------------------------------


def views_work(exam: str, root: Path) -> Path:
    """Where a build works on the exam's views: its work folder, with variants the first variant's."""
    from examgen.errors import Collector
    from examgen.orchestrate import built_variants, read_exam
    from examgen.project import Project

    target = Project(root).resolve(exam)
    first = next(iter(built_variants(read_exam(target, target.project.theme(), Collector()))), "")
    return root / "build" / ".work" / exam / first


def inline_pictures(exam: str, root: Path) -> dict[str, str]:
    r"""Each TikZ picture's ``\egpicture{key}`` and the code it stands for: the floor typesets the
    pictures inline, as LaTeX without examgen's figure cache would."""
    from examgen.errors import Collector
    from examgen.figures import pictures
    from examgen.orchestrate import prepare
    from examgen.project import Project

    rendered = prepare(Project(root).resolve(exam), Collector())
    return {f"\\egpicture{{{key}}}": code.marked() for key, code in pictures(rendered).items()}


def floor_folder(source: Path, root: Path, view: str, inline: dict[str, str]) -> Path:
    """A fresh folder with the inputs latexmk needs: the generated .tex with its pictures inline,
    examgen.sty and images, but none of the files an earlier LaTeX run left (aux, log, fls, fdb,
    pdf), examgen's cache or the compiled pictures."""
    folder = Path(tempfile.mkdtemp(prefix=f"floor-{view}-", dir=root))
    for file in source.iterdir():
        generated_by_tex = file.stem == view and file.suffix != ".tex"
        if file.is_file() and not generated_by_tex and file.name not in ("examgen-cache.json", "examgen-figures.tex"):
            shutil.copy2(file, folder / file.name)
    tex = (folder / f"{view}.tex").read_text(encoding="utf-8")
    for placed, code in inline.items():
        tex = tex.replace(placed, code)
    (folder / f"{view}.tex").write_text(tex, encoding="utf-8")
    return folder


FLOOR = "floor: latexmk student.tex"
CLEAN = "clean build"
PREVIEW = "serve: edit -> page on screen"
PREVIEW_ADDS = "serve: on screen minus the rebuild"  # the preview's own latency (watcher, pages, browser)
OUTSIDE = "{}: outside the views' LaTeX"  # a build's wall time minus its views' LaTeX time (figures' is in)
HAND_LABELS = {("student",): FLOOR, ("solution",): "latexmk solution.tex (by hand)",
               VIEWS: "latexmk both views at once (by hand)"}


def by_hand(exam: str, root: Path, views: tuple[str, ...]) -> Measurement:
    """latexmk run by hand from clean, each view in its own fresh folder, several at once as a
    build runs them. The student view alone is the floor; both at once is what LaTeX costs a
    clean build on this machine, which tells examgen's overhead from the cores' contention."""
    from examgen.sandbox.tex import tex_environment

    env = tex_environment()
    work = views_work(exam, root)
    inline = inline_pictures(exam, root)

    def fresh_folders(_) -> dict[str, Path]:
        return {view: floor_folder(work / view, root, view, inline) for view in views}

    def latexmk(folders: dict[str, Path]) -> None:
        with ThreadPoolExecutor(max_workers=len(folders)) as pool:
            list(pool.map(lambda view: run(["latexmk", "-pdf", "-interaction=nonstopmode", f"{view}.tex"],
                                           folders[view], env), folders))

    return Measurement(HAND_LABELS[views], latexmk, setup=fresh_folders)


class SourceEdit:
    """Changes one text in the temporary copy, differently each time: a sample solution (a word
    before its first line, where the text is sure to be in LaTeX text mode: the end of a line may
    be inside math or a picture) or a figure's TikZ code (a comment at the end of its first line:
    the picture changes, no line moves). The edit is checked by loading the exam again, so the
    rebuild measured really has a changed text."""

    def __init__(self, exam: str, root: Path, figure: bool = False):
        self.figure = figure
        self.target = self._resolve(exam, root)
        self.site = self._find_site()
        self.original = self.site[0].read_text(encoding="utf-8") if self.site else None

    @staticmethod
    def _resolve(exam: str, root: Path):
        from examgen.project import Project

        return Project(root).resolve(exam)

    def _texts(self):
        """The texts of the kind edited, by what the measurement's name calls them."""
        from examgen.errors import Collector
        from examgen.stages.load import load
        from examgen.stages.validate import validate

        exam = validate(load(self.target.exam_file), self.target.id, Collector())
        if self.figure:
            return {f"figure {problem.number}.{figure.id}": figure.tikz
                    for problem in exam.problems for figure in problem.figures if figure.tikz}
        return {f"part {part.number}": part.answer.solution for _, part in exam.parts()
                if getattr(part.answer, "solution", None)}

    def _find_site(self) -> tuple[Path, int, int, str] | None:
        """(file, line index, column, what) of the first text whose first line is found verbatim."""
        for what, text in self._texts().items():
            first = text.source.strip().splitlines()[0].strip() if text.source.strip() else ""
            if not first or text.loc.line is None:
                continue
            lines = text.loc.file.read_text(encoding="utf-8").splitlines(keepends=True)
            column = lines[text.loc.line - 1].rfind(first) if text.loc.line <= len(lines) else -1
            if column >= 0:
                site = (text.loc.file, text.loc.line - 1, column + (len(first) if self.figure else 0), what)
                if self._verified(site):
                    return site
        return None

    def _mark(self, word: int) -> str:
        return f" %{EDIT_WORD}{word}" if self.figure else f"{EDIT_WORD}{word} "

    def _verified(self, site) -> bool:
        """Whether the edit lands in the text (a quoted or odd scalar may defeat it)."""
        file, _, _, what = site
        original = file.read_text(encoding="utf-8")
        try:
            file.write_text(self._edited(site, original, 0), encoding="utf-8")
            source = self._texts()[what].source.strip()
            return source.splitlines()[0].endswith(self._mark(0)) if self.figure else source.startswith(self._mark(0))
        except Exception:  # noqa: BLE001 - an edit that breaks the source is simply not used
            return False
        finally:
            file.write_text(original, encoding="utf-8")

    def _edited(self, site, original: str, word: int) -> str:
        _, index, column, _ = site
        lines = original.splitlines(keepends=True)
        lines[index] = f"{lines[index][:column]}{self._mark(word)}{lines[index][column:]}"
        return "".join(lines)

    @property
    def what(self) -> str | None:
        return self.site[3] if self.site else None

    def apply(self, i: int) -> None:
        """Repetition i's edit: a word never used before, so every rebuild sees a change."""
        self._write_line(self._edited(self.site, self.original, i + 1))

    def restore(self) -> None:
        if self.site:
            self._write_line(self.original)

    def _write_line(self, source: str) -> None:
        """The site's line as ``source`` has it, the rest of the file as it is now: another edit
        in the same file (a figure beside the part) stays as that edit left it."""
        file, index, _, _ = self.site
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[index] = source.splitlines(keepends=True)[index]
        file.write_text("".join(lines), encoding="utf-8")


def shown_state(url: str, generation: int) -> dict:
    """The preview's state once the page has reported showing ``generation`` (its report follows
    the page's own update by a request)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = json.loads(urllib.request.urlopen(f"{url}state").read())
        if state["shown"]["generation"] >= generation:
            return state
        time.sleep(0.01)
    raise CommandFailed(f"the preview's page never reported showing build {generation}")


def bench_preview(exam: str, root: Path, edit: SourceEdit, runs: int) -> list[Result]:
    """``examgen serve`` in the temporary copy and its page in headless Chromium: each repetition
    edits the solution (a word not used before) and waits for the page to show the new build. The
    server notes when the build ran and when the page reported its images on screen."""
    sys.path.insert(0, str(REPO / "tests"))
    from browser import Browser

    served = subprocess.Popen([EXAMGEN, "serve", exam, "--port", "0"], cwd=root, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    on_screen, added = Result(exam, PREVIEW), Result(exam, PREVIEW_ADDS)
    try:
        assert served.stdout is not None
        url = served.stdout.readline().split("preview at ")[-1].split()[0]
        with Browser(url) as browser:
            browser.wait_for("document.body.dataset.status === 'ok'", timeout=TIMEOUT_SECONDS)
            for i in range(runs):
                shown = browser.evaluate("Number(document.body.dataset.generation)")
                edit.apply(runs + i)  # words the rebuild measurements did not use
                saved = time.monotonic()
                # 'first': with variants, the variant on screen compiled before the others (docs/variants.md)
                generation = browser.wait_for(f"['ok', 'first'].includes(document.body.dataset.status) && Number("
                                              f"document.body.dataset.generation) > {shown} && "
                                              "document.body.dataset.generation", timeout=TIMEOUT_SECONDS)
                state = shown_state(url, int(generation))
                seconds = state["shown"]["at"] - saved
                on_screen.seconds.append(seconds)
                first = state.get("first") or {}  # the variant on screen, built first: its own time
                built = first["seconds"] if first.get("generation") == int(generation) else state["build_seconds"]
                added.seconds.append(seconds - built)
                browser.wait_for("document.body.dataset.status !== 'first'",  # the other variants built too
                                 timeout=TIMEOUT_SECONDS)
    finally:
        served.send_signal(signal.SIGINT)
        served.wait(timeout=60)
    for result in (on_screen, added):
        print(f"  {exam:<14} {result.name:<40} {result.median:8.3f} s", file=sys.stderr, flush=True)
    return [on_screen, added]


def bench_exam(exam: str, root: Path, runs: int) -> list[Result]:
    """Every measurement of one exam. Within a round each finds the state it needs: the clean
    build leaves the work folder the no-op rebuild and the floors use, and the edit comes last
    (its word stays in the copy; the next round's edit changes it again). With variants, the first
    variant's views tell which views LaTeX ran for."""
    work = views_work(exam, root)

    def build(_) -> None:
        run([EXAMGEN, "build", exam], root)

    measurements = [
        Measurement(CLEAN, build, setup=lambda i: shutil.rmtree(root / "build", ignore_errors=True),
                    work=work),
        Measurement("no-op rebuild", build, work=work),
        Measurement("examgen check", lambda _: run([EXAMGEN, "check", exam], root)),
        *(by_hand(exam, root, views) for views in HAND_LABELS),
    ]
    edits = [SourceEdit(exam, root), SourceEdit(exam, root, figure=True)]
    for edit, label in zip(edits, ("one-part edit rebuild", "one-figure edit rebuild")):
        if edit.what is None:
            print(f"  {exam}: nothing found for the {label}; skipped", file=sys.stderr)
        else:
            measurements.append(Measurement(f"{label} ({edit.what})", build, setup=edit.apply, work=work))
    try:
        results = measure(exam, measurements, runs)
        solution = edits[0]
        if solution.what is not None and shutil.which("chromium"):
            results += bench_preview(exam, root, solution, runs)
        elif solution.what is not None:
            print(f"  {exam}: chromium not found (`make bench` installs it); preview rows skipped", file=sys.stderr)
        return results
    finally:
        for edit in edits:
            edit.restore()


def bench_cli(root: Path, runs: int) -> list[Result]:
    """Start-up: the cost every command pays before it does anything."""
    return measure("(all)", [Measurement(f"examgen {command}", lambda _, c=command: run([EXAMGEN, c], root))
                             for command in ("--help", "list")], runs)


COPIES_EXAM = "2022-endterm"
COPIES_COUNTS = (100, 1000)
COPIES = [f"copies --count {count}" for count in COPIES_COUNTS]  # rows with no ratio to the floor: not LaTeX's work
MEMORY_POLL_SECONDS = 0.02


def tree_rss(pid: int, cpu: dict[int, float] | None = None) -> int:
    """Resident memory of a process and all its descendants, in bytes (from /proc); with ``cpu``, each one's
    CPU time so far (user and system, seconds) noted there by process id."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        if cpu is not None and current in used:
            cpu[current] = used[current]
        todo += children.get(current, [])
    return total


def run_watched(command: list[str], cwd: Path, cpu: dict[int, float] | None = None) -> int:
    """Run a command to completion; returns the peak memory of its process tree (sampled), and notes each of
    its processes' CPU time in ``cpu`` (as last sampled: a sampling period's worth may be missing)."""
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid, cpu))
        time.sleep(MEMORY_POLL_SECONDS)
    if process.returncode != 0:
        raise CommandFailed(f"`{' '.join(command[1:])}` exited {process.returncode}: {process.stderr.read()[-300:]}")
    return peak


def bench_copies(root: Path, runs: int, facts: dict) -> list[Result]:
    """Per-student copies of the 2022 endterm once its build is up to date: the wall time of
    `examgen copies --count N` (its own freshness check included), print.pdf's size and the peak
    memory of examgen with its worker processes (the largest over the repetitions)."""
    run([EXAMGEN, "build", COPIES_EXAM], root)
    measurements = []
    for count in COPIES_COUNTS:
        label = COPIES[COPIES_COUNTS.index(count)]
        facts[label] = {"peak_memory_mb": 0.0}

        def copies(_, count=count, label=label) -> None:
            peak = run_watched([EXAMGEN, "copies", COPIES_EXAM, "--count", str(count)], root)
            facts[label]["peak_memory_mb"] = round(max(facts[label]["peak_memory_mb"], peak / 2**20), 1)
            facts[label]["print_pdf_mb"] = round(
                (root / "course" / COPIES_EXAM / "copies" / "print.pdf").stat().st_size / 2**20, 2)

        # each repetition's copies anew: a run of other copies keeps the last one's beside its own
        fresh = lambda _: shutil.rmtree(root / "course", ignore_errors=True)  # noqa: E731
        measurements.append(Measurement(label, copies, setup=fresh))
    return measure(COPIES_EXAM, measurements, runs)


VARIANTS_EXAM = "2022-variants"  # the 2022 endterm with `variants: 4` and its problem 7 drawing (tests/roots)
PER_COPY_EXAM = "2021-per-copy"  # the 2021 endterm with `variants: per-copy` and its problem 5 drawing
VARIANT_BUILD = "4 variants, clean build of both views"
VERIFY = "verify --seeds 1000 (built)"
GENERATED = "verify --seeds 1000, generated options (built)"  # tests/roots/generated: numbers_near, statements
PER_COPY = "per-copy copies --count 100 (clean, 2021 endterm, every key)"


def variable_copy(root: Path, exam: str, name: str, variants: str, problem: str, replaced: str) -> None:
    """A copy of an endterm with ``variants`` whose problem file ``replaced`` is tests/roots/variants' variable
    copy of it (``problem``)."""
    folder = root / "exams" / name
    shutil.copytree(root / "exams" / exam, folder, ignore=shutil.ignore_patterns("test_*.py"))
    source = folder / "exam.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("\nproblems:", f"\nvariants: {variants}\nproblems:",
                                                                 1), encoding="utf-8")
    shutil.copyfile(REPO / "tests" / "roots" / "variants" / "problems" / problem, folder / "problems" / replaced)


def bench_variants(root: Path, runs: int) -> list[Result]:
    """Variants (docs/variants.md), in copies of the endterms made variable as tests/roots/variants makes
    one problem of each: a clean build of four variants of the 2022 endterm, both views (the target: 2.5
    times one clean build of it); `examgen verify` over 1,000 seeds once those are built (10 s), of it and of
    tests/roots/generated (generated options, draws from the normal distribution); and 100 copies of the 2021
    endterm with `variants: per-copy`, every copy's key among them, from a clean build folder (60 s)."""
    variable_copy(root, COPIES_EXAM, VARIANTS_EXAM, "4", "batch-normalization.yaml", "7-batch-normalization.yaml")
    variable_copy(root, "2021-endterm", PER_COPY_EXAM, "per-copy", "multi-class.yaml", "multi-class.yaml")
    shutil.copytree(REPO / "tests" / "roots" / "generated", root / "exams" / "generated")
    clean = lambda i: shutil.rmtree(root / "build", ignore_errors=True)  # noqa: E731
    measurements = [
        Measurement(VARIANT_BUILD, lambda _: run([EXAMGEN, "build", VARIANTS_EXAM], root), setup=clean),
        Measurement(VERIFY, lambda _: run([EXAMGEN, "verify", VARIANTS_EXAM, "--seeds", "1000"], root)),
        Measurement(GENERATED, lambda _: run([EXAMGEN, "verify", "generated", "--seeds", "1000"], root)),
        Measurement(PER_COPY, lambda _: run([EXAMGEN, "copies", PER_COPY_EXAM, "--count", "100"], root), setup=clean),
    ]
    return measure(COPIES_EXAM, measurements, runs) + bench_variants_preview(root, runs)


def bench_variants_preview(root: Path, runs: int) -> list[Result]:
    """The serve rows for the copy with four variants: the variant on screen compiles first, so an
    edit shows in about the time of the same edit without variants (target: 1.5 times it)."""
    edit = SourceEdit(VARIANTS_EXAM, root)
    if edit.what is None or not shutil.which("chromium"):
        return []
    try:
        return bench_preview(VARIANTS_EXAM, root, edit, runs)
    finally:
        edit.restore()


GRADE_COUNTS = (100, 1000)
GRADING = [f"grade {count} students" for count in GRADE_COUNTS]  # no ratio to the floor either: no LaTeX


def bench_grading(root: Path, runs: int) -> list[Result]:
    """`examgen grade` of the 2022 endterm (no build needed) on simulated marks and scanner crosses
    (tests/simulate.py: a seeded model of students) for 100 and 1,000 students; the target is 2 s."""
    sys.path.insert(0, str(REPO / "tests"))
    from simulate import parts_of, simulate

    from examgen.errors import Collector
    from examgen.orchestrate import prepare
    from examgen.project import Project

    exam = prepare(Project(root).resolve(COPIES_EXAM), Collector()).exam
    measurements = []
    for count, label in zip(GRADE_COUNTS, GRADING):
        marks, crosses = simulate(parts_of(exam), count, exam.meta.code, root / "grading" / str(count))
        command = [EXAMGEN, "grade", COPIES_EXAM, str(marks), "--crosses", str(crosses), "--out",
                   str(root / "grading" / str(count) / "out")]
        measurements.append(Measurement(label, lambda _, command=command: run(command, root)))
    return measure(COPIES_EXAM, measurements, runs)


MARKING = "mark: next answer on screen, p95 (20 graders, 10,000 answers)"
MARKING_GRADERS, MARKING_COPIES, MARKING_EACH = 20, 5000, 30  # 5,000 copies of two parts: 10,000 answers
MARKING_THINK = (0.5, 1.5)  # seconds a simulated grader looks at an answer: far quicker than a person


def bench_marking(root: Path, runs: int) -> list[Result]:
    """`examgen mark` with 20 graders marking at once over HTTP (tests/marking.py: a scanned course made
    from data, its server a real process), each saving an answer every 0.5-1.5 s: the time from
    "save and next" to the next answer's page and image fetched, its 95th percentile per run over
    every grader's answers; the target is 150 ms."""
    import random

    sys.path.insert(0, str(REPO / "tests"))
    from marking import Client, Server, make_course

    from examgen.marking.store import STORE, Store

    course = root / "marking"
    scans = make_course(course, copies=MARKING_COPIES, images=False)
    store = Store(scans / STORE)
    names = [f"grader{number:02d}" for number in range(MARKING_GRADERS)]
    for name in names:
        store.add_grader(name, f"{name}-password", False)
    store.close()
    result = Result("(marking)", MARKING)
    with Server.start(course) as server:
        for run_number in range(runs):
            waits: list[float] = []

            def grade(name: str, waits: list[float] = waits, seed: int = run_number) -> None:
                think = random.Random(f"{name}/{seed}")
                client = Client(server.url)
                client.log_in(name, f"{name}-password")
                part = ("2.1", "2.2")[int(name[-2:]) % 2]
                answer, page = client.next(part)
                for _ in range(MARKING_EACH):
                    time.sleep(think.uniform(*MARKING_THINK))
                    start = time.perf_counter()
                    status, page = client.save(answer or 0, page, "1")  # and on to the next answer's page
                    answer = int(client.landed.rsplit("/", 1)[1])
                    client.request(f"/answer/{answer}/space/0")
                    waits.append(time.perf_counter() - start)
                    if status != 200:
                        raise CommandFailed(f"a save of the marking benchmark failed with {status}")

            with ThreadPoolExecutor(MARKING_GRADERS) as pool:
                list(pool.map(grade, names))
            result.seconds.append(statistics.quantiles(waits, n=20)[-1])
    return [result]


RETURN_EXAM, RETURN_COUNT = "sample", 300
RETURNING = f"return {RETURN_COUNT} students"
OTHER_SCRIPTS = ("فاطمة الزهراء", "王小明", "Дмитрий Иванов", "अनिल कुमार")  # names the return's fonts must print


def bench_return(root: Path, runs: int) -> list[Result]:
    """`examgen return` of the sample exam for 300 students of a roster (every tenth name in another
    script): untimed, their copies, a simulated scan of every page (tests/scansim.py, 150 dpi, one PDF)
    read by `examgen scan`, and `examgen grade` of the truth's marks; timed, the return, writing anew."""
    sys.path.insert(0, str(REPO / "tests"))
    import random

    import scansim

    from examgen.scanning.printed import read_printed

    roster = root / "return-roster.csv"
    names = [OTHER_SCRIPTS[n // 10 % len(OTHER_SCRIPTS)] if n % 10 == 0 else f"Student Number{n}"
             for n in range(RETURN_COUNT)]
    roster.write_text("registration,name\n" + "".join(f"{3710000 + n:08d},{name}\n" for n, name in enumerate(names)),
                      encoding="utf-8")
    run([EXAMGEN, "copies", RETURN_EXAM, "--roster", str(roster)], root)
    printed = read_printed(root / "course" / RETURN_EXAM / "copies", RETURN_EXAM)
    rng = random.Random(11)
    truth = scansim.plan_marks(printed, rng, ambiguous_share=0, grader_slips=0)
    pages = [scansim.scan_copy_page(printed, truth, code, page, rng, 150) for code in printed.codes
             for page in range(1, printed.pages_per_copy + 1)]
    bundle = scansim.write_pdf(pages, root / "return-scan.pdf", 150)
    del pages
    run([EXAMGEN, "scan", RETURN_EXAM, str(bundle)], root)
    with open(root / "course" / RETURN_EXAM / "scans" / "marks.csv", encoding="utf-8") as file:
        header, maxima = list(csv.reader(file))[:2]
    parts = [(number.lstrip("'"), float(points)) for number, points in zip(header[3:], maxima[3:])]
    marks, crosses = scansim.truth_sheets(truth, printed, root / "return-truth", parts)
    run([EXAMGEN, "grade", RETURN_EXAM, str(marks), "--crosses", str(crosses)], root)
    out = root / "returned"
    fresh = lambda _: shutil.rmtree(out, ignore_errors=True)  # noqa: E731
    return measure(RETURN_EXAM, [Measurement(RETURNING, lambda _: run([EXAMGEN, "return", RETURN_EXAM, "--out",
                                                                       str(out)], root), setup=fresh)], runs)


SCAN_COPIES, SCAN_DPI = 26, 200  # 624 pages of the 2022 endterm (24 a copy), as a scan room's bundle
SCANNING = [f"scan {SCAN_COPIES * 24} pages ({SCAN_DPI} dpi JPEG)", "scan again (cached)"]  # no ratio either


def bench_scanning(root: Path, runs: int, facts: dict) -> list[Result]:
    """`examgen scan` of one bundle: 26 copies of the 2022 endterm (624 pages) marked and scanned by the scan
    simulator (tests/scansim.py) in grayscale at 200 dpi, one JPEG a page in a PDF, read into a fresh scan
    folder (pages per second; the target is 30 on this 2-core machine, and the CPU time per page and the peak
    memory of examgen and its workers, sampled from /proc), then the same bundle given again (no image work: the
    cache), with the machine's load average at each run."""
    sys.path.insert(0, str(REPO / "tests"))
    import scansim

    shutil.rmtree(root / "course", ignore_errors=True)
    run([EXAMGEN, "copies", COPIES_EXAM, "--count", str(SCAN_COPIES)], root)
    copies = root / "course" / COPIES_EXAM / "copies"
    codes = [entry["code"] for entry in json.loads((copies / "manifest.json").read_text(encoding="utf-8"))["entries"]]
    pages = root / "scanned-pages"
    pages.mkdir()
    workers = len(os.sched_getaffinity(0))
    with ProcessPoolExecutor(workers) as pool:  # the simulation is not measured: all cores
        parts = pool.map(scansim.scanned_copies, *zip(*((copies, COPIES_EXAM, codes[i::workers], 24, SCAN_DPI, pages)
                                                         for i in range(workers))))
        paths = sorted((path for part in parts for path in part), key=lambda path: path.name)
    bundle = scansim.jpegs_to_pdf(paths, root / "scan-room.pdf", SCAN_DPI)
    shutil.rmtree(pages)
    out = root / "scan-bench"
    label, again = SCANNING
    facts[label] = {"pages": len(paths), "bundle_mb": round(bundle.stat().st_size / 2**20, 1), "peak_memory_mb": 0.0,
                    "load_average": [], "cpu_ms_per_page": []}

    def scan(_) -> None:
        facts[label]["load_average"].append(round(os.getloadavg()[0], 1))
        cpu: dict[int, float] = {}
        peak = run_watched([EXAMGEN, "scan", COPIES_EXAM, str(bundle), "--out", str(out)], root, cpu)
        facts[label]["peak_memory_mb"] = round(max(facts[label]["peak_memory_mb"], peak / 2**20), 1)
        facts[label]["cpu_ms_per_page"].append(round(sum(cpu.values()) / len(paths) * 1000, 1))

    fresh = lambda _: shutil.rmtree(out, ignore_errors=True)  # noqa: E731
    return measure(COPIES_EXAM, [
        Measurement(label, scan, setup=fresh),
        Measurement(again, lambda _: run([EXAMGEN, "scan", COPIES_EXAM, str(bundle), "--out", str(out)], root))],
        runs)


# --- reporting --------------------------------------------------------------------------------


def floor_of(results: list[Result], exam: str) -> float | None:
    return next((r.median for r in results if r.exam == exam and r.name == FLOOR), None)


def own_share(results: list[Result], exam: str) -> dict | None:
    """examgen's own time in a clean build: its wall time outside the views' LaTeX (start-up, load,
    validate, compute, render, the figure cache's batches, and after LaTeX the PDF checks and
    installing the outputs)."""
    clean = next((r for r in results if r.exam == exam and r.name == CLEAN and r.outside_latex), None)
    if clean is None:
        return None
    outside = statistics.median(clean.outside_latex)
    return {"outside_latex_s": round(outside, 4), "clean_build_s": round(clean.median, 4),
            "share": round(outside / clean.median, 3)}


def rows(results: list[Result]) -> list[dict]:
    """One row per measurement; a build that ran LaTeX gets a second row, its time outside LaTeX."""
    table = []
    for r in results:
        reference = floor_of(results, r.exam)
        for name, seconds, compiled in ((r.name, r.seconds, r.compiled),
                                        (OUTSIDE.format(r.name), r.outside_latex, None)):
            if seconds:
                median = statistics.median(seconds)
                table.append({"exam": r.exam, "measurement": name, "median_s": round(median, 4),
                              "ratio_to_floor": round(median / reference, 3)
                              if reference and r.name not in [*COPIES, *GRADING, VERIFY, GENERATED, PER_COPY,
                                                              *SCANNING] else None,
                              "samples_s": [round(s, 4) for s in seconds], "latex_ran_for": compiled or None})
    return table


def compiled_summary(compiled: list[str] | None) -> str:
    if not compiled:
        return ""
    distinct = sorted(set(compiled), key=compiled.index)
    return ", ".join(f"{c} x{compiled.count(c)}" for c in distinct)


def print_table(table: list[dict], shares: dict, runs: int, copies: dict) -> None:
    print(f"\nmedian of {runs} runs; 'x floor' = median / the exam's floor (one latexmk of student.tex)")
    width = max(len(row["measurement"]) for row in table) if table else 11
    header = f"{'exam':<14} {'measurement':<{width}} {'median s':>9} {'x floor':>8}  LaTeX ran for"
    print(header)
    print("-" * len(header))
    for row in table:
        ratio = f"{row['ratio_to_floor']:.2f}" if row["ratio_to_floor"] is not None else "-"
        print(f"{row['exam']:<14} {row['measurement']:<{width}} {row['median_s']:>9.3f} {ratio:>8}  "
              f"{compiled_summary(row['latex_ran_for'])}")
    for exam, share in shares.items():
        if share:
            print(f"{exam}: examgen's own time {share['outside_latex_s']:.2f} s of a {share['clean_build_s']:.2f} s "
                  f"clean build ({share['share']:.0%}: start-up, load, validate, compute, render, the figures' "
                  "LaTeX, checks, install)")
    for label, fact in copies.items():
        if label in SCANNING:
            scan = next((row for row in table if row["measurement"] == label), None)
            rate = f"{fact['pages'] / scan['median_s']:.1f} pages/s, " if scan else ""
            print(f"{COPIES_EXAM} {label}: {fact['pages']} pages, {fact['bundle_mb']:.0f} MB; {rate}CPU per page "
                  f"{fact['cpu_ms_per_page']} ms; peak memory {fact['peak_memory_mb']:.0f} MB; load average "
                  f"{fact['load_average']}")
            continue
        print(f"{COPIES_EXAM} {label}: print.pdf {fact.get('print_pdf_mb', 0):.2f} MB, "
              f"peak memory {fact['peak_memory_mb']:.0f} MB")


def write_json(table: list[dict], shares: dict, runs: int, skipped: dict, failed: dict, copies: dict) -> Path:
    path = REPO / "build" / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "runs": runs,
        "python": sys.version.split()[0],
        "rows": table,
        "examgen_own_share": shares,
        "copies": copies,
        "skipped": skipped,
        "failed": failed,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions per measurement (default 3)")
    parser.add_argument("--exam", action="extend", nargs="+", default=[], metavar="ID",
                        help="exams to measure (default: every exam under exams/ that builds)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(EXAMGEN).exists():
        print(f"error: {EXAMGEN} not found: run with the venv's python (`make bench`)", file=sys.stderr)
        return 2
    results: list[Result] = []
    skipped: dict[str, str] = {}  # found under exams/ but not building: not measured, not a failure
    failed: dict[str, str] = {}  # named with --exam, or broke while measured: exit status 1
    with tempfile.TemporaryDirectory(prefix="examgen-bench-") as temporary:
        root = Path(temporary)
        copy_exams(root)
        available = exam_ids(root)
        for exam in args.exam or available:
            if exam not in available:
                failed[exam] = f"no exams/{exam}/exam.yaml"
                continue
            problem = first_build(exam, root)
            if problem:
                (failed if args.exam else skipped)[exam] = problem
                print(f"  {exam}: does not build, {'FAILED' if args.exam else 'skipped'}", file=sys.stderr)
                continue
            try:
                results += bench_exam(exam, root, args.runs)
            except Exception as exc:  # noqa: BLE001 - one exam breaking must not lose the others' numbers
                failed[exam] = str(exc) if isinstance(exc, CommandFailed) else f"{type(exc).__name__}: {exc}"
        copies: dict[str, dict] = {}
        if COPIES_EXAM in available and COPIES_EXAM not in skipped and COPIES_EXAM not in failed \
                and (not args.exam or COPIES_EXAM in args.exam):
            try:
                results += bench_copies(root, args.runs, copies)
            except CommandFailed as exc:
                failed["(copies)"] = str(exc)
            try:
                results += bench_grading(root, args.runs)
            except CommandFailed as exc:
                failed["(grading)"] = str(exc)
            try:
                results += bench_variants(root, args.runs)
            except CommandFailed as exc:
                failed["(variants)"] = str(exc)
            try:
                results += bench_scanning(root, args.runs, copies)
            except CommandFailed as exc:
                failed["(scanning)"] = str(exc)
        if RETURN_EXAM in available and RETURN_EXAM not in skipped and RETURN_EXAM not in failed \
                and (not args.exam or RETURN_EXAM in args.exam):
            try:
                results += bench_return(root, args.runs)
            except CommandFailed as exc:
                failed["(return)"] = str(exc)
        try:
            results += bench_cli(root, args.runs)
        except CommandFailed as exc:
            failed["(cli)"] = str(exc)
        try:
            results += bench_marking(root, args.runs)
        except CommandFailed as exc:
            failed["(marking)"] = str(exc)
    table = rows(results)
    shares = {exam: own_share(results, exam) for exam in dict.fromkeys(r.exam for r in results)
              if exam != "(all)"}
    print_table(table, shares, args.runs, copies)
    for exam, reason in {**skipped, **failed}.items():
        state = "failed" if exam in failed else "skipped (does not build)"
        print(f"{exam}: {state}: {' | '.join(reason.splitlines())[:300]}")
    print(f"written: {os.path.relpath(write_json(table, shares, args.runs, skipped, failed, copies))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
