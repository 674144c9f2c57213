"""`examgen scan`: scanned copies in; crosses.csv and marks.csv for `examgen grade`, pages.csv, the
parts a person must decide (flags.csv) and the answers cut out (scanning/, docs/scanning.md).

Every file given is checked before any page is read (nothing is written on a bad one). A scan's
folder keeps every bundle it was given, byte for byte, so a run with a new bundle adds it to the
earlier ones: all are counted together, a page scanned twice once, and a bundle read before is not
read again (its readings are cached by its digest). A process per core reads the pages, fed one
page at a time, so memory stays flat in the number of pages."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .. import stopping
from ..errors import Collector, Loc, ScanError
from ..model.source import Meta
from ..orchestrate import CORES, read_exam, worker_processes, worker_result
from ..outputs import replace_file, writing
from ..project import Target
from ..scanning import store
from ..scanning.inputs import Bundle, open_bundle
from ..scanning.printed import Printed, read_printed
from ..scanning.read import DAMAGED, FOREIGN, NOT_PRINTED, READ, UNKNOWN, PageReading
from ..scanning.results import ASSIGNED, DUPLICATE, BundleNames, Decisions, Flag, Gathered, ScannedPart
from ..scanning.review import DECISIONS, REVIEW_PAGE, Review
from ..spreadsheet import safe_csv

SCANS = "scans"  # the scans' folder in the course's records (course/<id>/scans)
BUNDLES, CACHE, ANSWERS = "bundles", "cache", "answers"
BUNDLES_FILE = "bundles.csv"  # the bundles of the scan, in the order given: stored name, name as given
PLACING_DPI = 100  # the printed page a page without its QR code is placed against
PAGES_IN_FLIGHT_PER_CORE = 3  # pages handed to the workers ahead of the one the scan waits for

Progress = Callable[[int, int], None]  # pages read, pages to read


@dataclass(frozen=True)
class ScanRequest:
    """What `examgen scan` reads, and where its outputs go."""

    scans: tuple[Path, ...]  # new bundles: PDFs or images
    copies: Path | None = None  # the printed copies' folder; default course/<id>/copies/
    out: Path | None = None  # the scan's folder; default course/<id>/scans/
    students: Path | None = None  # a CSV of copy code -> registration number, for copies made with --count


@dataclass(frozen=True)
class ScanResult:
    out_dir: Path
    files: list[str]
    bundles: int  # in the scan, the earlier ones included
    pages: int
    read: int  # pages identified as pages of the copies, each counted once
    pages_read_now: int  # pages whose images were read in this run (the others came from the cache)
    copies: int  # copies with a page scanned
    flags: int  # parts of copies a person must still decide
    decided: int  # flags a person's decision settled
    unknown: int  # pages without a readable QR code no person placed yet
    duplicates: int
    foreign: int  # pages of another exam, or of copies the copies' manifest does not hold
    incomplete: int  # copies with pages missing
    warnings: list[str]
    gathered: Gathered
    review: Review


def scan(target: Target, request: ScanRequest, progress: Progress | None = None) -> ScanResult:
    """Read the new bundles (and the scan's earlier ones, from its cache) against the printed copies,
    and write the scan's outputs."""
    from ..scanning.results import crosses_csv, flags_csv, gather, marks_csv, pages_csv, read_decisions
    from ..scanning.students import with_students

    out = Collector()
    exam = read_exam(target, target.project.theme(), out)
    out.raise_if_any()
    printed = read_printed(request.copies or target.copies, exam.id)
    if request.students:
        printed = with_students(printed, request.students)
    if printed.exam_code != exam.meta.code:
        raise ScanError(f"these copies carry exam code {printed.exam_code}, the exam is {exam.meta.code}: give "
                        "--copies DIR with the copies of this exam", Loc(printed.folder))
    parts = [ScannedPart(part.number, part.points, len(part.answer.boxes())) for _, part in exam.parts()]
    folder = request.out or target.course / SCANS
    known = _known_bundles(folder)
    new = _new_bundles(request.scans, known, out)
    copies_digest = store.copies_digest(printed.folder)
    bundles = [*known, *((bundle, bundle.path.name) for bundle in new)]
    names = BundleNames({bundle.digest: name for bundle, name in bundles},
                        {bundle.digest: bundle.stored_name for bundle, _ in bundles})
    decisions = read_decisions(folder / DECISIONS, printed, parts, names)
    with writing("the scan", folder):
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / ".staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        readings, read_now = _readings(bundles, folder, staging, printed, copies_digest, progress)
        _refuse_what_is_not_this_exam(new, readings, printed)
        placed = _placed_readings(bundles, readings, decisions, folder, staging, printed, copies_digest)
        gathered = gather([page for bundle, _ in bundles for page in readings[bundle.digest]], printed, parts,
                          decisions, placed)
        texts = {"pages.csv": pages_csv(gathered, names.given),
                 "crosses.csv": crosses_csv(gathered, printed, parts),
                 "marks.csv": marks_csv(gathered, printed, [(part.number, part.points) for part in parts]),
                 "flags.csv": flags_csv(gathered, names.given, partial(_cut_out, copies_digest))}
        stopping.current().check()
        for bundle in new:
            stored = folder / BUNDLES / bundle.stored_name
            stored.parent.mkdir(exist_ok=True)
            replace_file(stored, partial(shutil.copyfile, bundle.path))
        (folder / CACHE).mkdir(exist_ok=True)
        for entry in os.scandir(staging):
            os.replace(entry.path, folder / CACHE / entry.name)
        replace_file(folder / BUNDLES_FILE, partial(Path.write_text, data=safe_csv(
            [["stored", "given"], *((bundle.stored_name, name) for bundle, name in bundles)], "\r\n"),
            encoding="utf-8"))
        review = Review(folder, {bundle.digest: folder / CACHE / store.entry_name(bundle.digest, copies_digest)
                                 for bundle, _ in bundles}, exam.id, _title(exam.meta), printed, tuple(parts), names,
                        gathered)
        texts[REVIEW_PAGE] = review.page("file")
        for name, text in texts.items():
            replace_file(folder / name, partial(Path.write_text, data=text, encoding="utf-8"))
        _write_answers(folder, gathered, printed, copies_digest)
        shutil.rmtree(staging, ignore_errors=True)
    statuses = [status for _, status in gathered.pages]
    return ScanResult(folder, [*texts, ANSWERS + "/"], len(bundles), len(statuses), statuses.count(READ),
                      read_now, len(gathered.present), len({(flag.code, flag.part) for flag in gathered.flags}),
                      len({(flag.code, flag.part) for flag, _ in gathered.settled}), statuses.count(UNKNOWN),
                      statuses.count(DUPLICATE),
                      statuses.count(FOREIGN) + statuses.count(NOT_PRINTED), len(gathered.missing), out.warnings,
                      gathered, review)


def _title(meta: Meta) -> str:
    return f"{meta.course} {meta.kind}, {meta.date.isoformat()}"


def _cut_out(copies: str, flag: Flag) -> str:
    """Where the cut-out of a flagged part's boxes is, in the scan's folder (the whole page's picture for
    a page a person placed)."""
    if flag.at is None:
        return ""
    bundle, number = flag.at
    entry = Path(CACHE) / store.entry_name(bundle, copies)
    image = store.thumbnail_file(entry, number) if flag.placed else store.part_file(entry, number, flag.part)
    return image.as_posix()


def _known_bundles(folder: Path) -> list[tuple[Bundle, str]]:
    """The bundles an earlier run of the scan stored, in the order they were given."""
    listing = folder / BUNDLES_FILE
    if not listing.is_file():
        return []
    known = []
    for row in list(csv.reader(io.StringIO(listing.read_text(encoding="utf-8"), newline="")))[1:]:
        stored = folder / BUNDLES / row[0]
        if not stored.is_file():
            raise ScanError(f"the scan's bundle {row[0]} ({row[1]}) is missing from {Loc(stored.parent)}: put it "
                            "back, or start a new scan folder (--out DIR)", Loc(listing))
        known.append((open_bundle(stored), row[1]))
    return known


def _new_bundles(paths: tuple[Path, ...], known: list[tuple[Bundle, str]], out: Collector) -> list[Bundle]:
    """The files given, each checked whole; one the scan holds already is noted, not read again."""
    problems = Collector()
    seen = {bundle.digest: name for bundle, name in known}
    new = []
    for path in paths:
        try:
            bundle = open_bundle(path)
        except ScanError as exc:
            problems.error(exc)
            continue
        if bundle.digest in seen:
            out.warn(f"is already in the scan (as {seen[bundle.digest]}): its pages are not counted again", Loc(path))
            continue
        seen[bundle.digest] = path.name
        new.append(bundle)
    problems.raise_if_any()
    return new


def _readings(bundles: list[tuple[Bundle, str]], folder: Path, staging: Path, printed: Printed, copies: str,
              progress: Progress | None) -> tuple[dict[str, list[PageReading]], int]:
    """Every bundle's page readings: from the cache, or read by a process per core (their images into
    ``staging``, a folder per bundle, moved into the cache with the outputs)."""
    readings: dict[str, list[PageReading]] = {}
    to_read = []
    for bundle, _ in bundles:
        cached = store.load(folder / CACHE / store.entry_name(bundle.digest, copies))
        if cached is not None and len(cached) == bundle.pages:
            readings[bundle.digest] = cached
        else:
            to_read.append(bundle)
            readings[bundle.digest] = []
    total = sum(bundle.pages for bundle in to_read)
    if not total:
        return readings, 0
    done = 0
    for bundle in to_read:
        entry = staging / store.entry_name(bundle.digest, copies)
        entry.mkdir()
        for reading in _read_pages(bundle, printed):
            readings[bundle.digest].append(store.stored(reading, entry))
            done += 1
            if progress:
                progress(done, total)
        store.write_readings(entry, readings[bundle.digest])
    return readings, total


def _placed_readings(bundles: list[tuple[Bundle, str]], readings: dict[str, list[PageReading]], decisions: Decisions,
                     folder: Path, staging: Path, printed: Printed, copies: str) -> dict[tuple[str, int], PageReading]:
    """The pages without a readable QR code that a person placed, read as the pages they were placed as
    (scanning.read.read_placed), each once: kept in its bundle's cache entry until it is placed elsewhere."""
    from ..scanning.identify import Label
    from ..scanning.inputs import pages_of
    from ..scanning.read import read_placed, render_printed

    placed = {}
    for bundle, _ in bundles:
        wanted = {reading.number: where for reading in readings[bundle.digest] if reading.status == UNKNOWN
                  and (where := decisions.pages.get((bundle.digest, reading.number)))}
        if not wanted:
            continue
        entry = staging / store.entry_name(bundle.digest, copies)
        entry = entry if entry.is_dir() else folder / CACHE / store.entry_name(bundle.digest, copies)
        to_read = {}
        for number, where in wanted.items():
            cached = store.load_placed(entry, number, where)
            if cached is None:
                to_read[number] = where
            else:
                placed[bundle.digest, number] = cached
        for page in pages_of(bundle, bundle.path) if to_read else ():
            if page.number in to_read:
                code, number = to_read[page.number]
                reading = read_placed(page, printed, Label(code, printed.exam_code, number),
                                      render_printed(printed, code, number, PLACING_DPI), PLACING_DPI)
                placed[bundle.digest, page.number] = store.write_placed(entry, reading, (code, number))
    return placed


def _read_pages(bundle: Bundle, printed: Printed) -> Iterator[PageReading]:
    """A bundle's pages read in order, by a process per core, a few pages ahead of the one waited for."""
    from ..scanning.inputs import pages_of
    from ..scanning.read import read_in_worker, start_worker

    workers = min(CORES, bundle.pages)
    with worker_processes(workers, start_worker, (printed,)) as pool:
        waiting: deque[Future[PageReading]] = deque()
        for page in pages_of(bundle, bundle.path):
            stopping.current().check()
            waiting.append(pool.submit(read_in_worker, page))
            if len(waiting) > workers * PAGES_IN_FLIGHT_PER_CORE:
                yield worker_result(waiting.popleft())
        while waiting:
            yield worker_result(waiting.popleft())


def _refuse_what_is_not_this_exam(new: list[Bundle], readings: dict[str, list[PageReading]],
                                  printed: Printed) -> None:
    """A new bundle of another exam's pages, or of copies the copies' folder does not list, or with an
    image that cannot be decoded, is an error at the bundle (and page): nothing is written."""
    problems = Collector()
    for bundle in new:
        pages = readings[bundle.digest]
        for page in pages:
            if page.status == DAMAGED:
                problems.error(ScanError("its image cannot be decoded: scan the page again", Loc(bundle.path),
                                         f"page {page.number}"))
        statuses = {page.status for page in pages}
        labels = [page.label for page in pages if page.label]
        if READ not in statuses and FOREIGN in statuses:
            exams = sorted({label.exam_code for label in labels if label.exam_code != printed.exam_code})
            problems.error(ScanError(f"is a scan of exam {', '.join(exams)}, not of {printed.exam_code} (its pages' QR "
                                     "codes say so): scan this exam's copies", Loc(bundle.path)))
        elif READ not in statuses and NOT_PRINTED in statuses:
            first = next(label for page, label in ((p, p.label) for p in pages) if page.status == NOT_PRINTED
                         and label)
            problems.error(ScanError(f"its pages are of copies {Loc(printed.folder)} does not hold (such as "
                                     f"{first.code}, page {first.page}): give --copies DIR with the folder of the "
                                     "copies that were printed", Loc(bundle.path)))
    problems.raise_if_any()


def _write_answers(folder: Path, gathered: Gathered, printed: Printed, copies: str) -> None:
    """answers/<code>/<part>.jpg: every answer space as scanned, a part's further spaces as ``-2``, ... in
    the copy's page order (printed.answer_names), from the cache; written aside and switched in whole."""
    staged, old = folder / ".answers-new", folder / ".answers-old"
    for leftover in (staged, old):
        shutil.rmtree(leftover, ignore_errors=True)
    staged.mkdir()
    for reading, status in gathered.pages:
        if status not in (READ, ASSIGNED) or reading.label is None:
            continue
        entry = folder / CACHE / store.entry_name(reading.bundle, copies)
        target = staged / reading.label.code
        target.mkdir(exist_ok=True)
        names = printed.answer_names(reading.label.code, reading.label.page)
        for index, _ in enumerate(reading.answers):
            shutil.copyfile(store.answer_file(entry, reading.number, index), target / f"{names[index]}.jpg")
    if (folder / ANSWERS).exists():
        os.rename(folder / ANSWERS, old)
    os.rename(staged, folder / ANSWERS)
    shutil.rmtree(old, ignore_errors=True)
