"""The review of a scan: one page that shows a person everything the scan could not settle alone,
and records what they decide. Every flagged part as its cut-out beside what was read, with a
control for the decision (the options crossed, or the points); every page without a readable QR
code, large, with the copy and page its neighbours in the bundle suggest and a way to place it;
the pages missing per copy, the pages scanned twice, other exams' pages, and the copies left
without a student.

The page is self-contained (its images inside it, no network) and is built in one place for every
front end: written as review.html into the scan's folder, where it keeps decisions in the browser
and saves a decisions.csv, and served by `examgen scan ID --review` (serve/review.py), where each
decision is written to decisions.csv at once (``Review.record``). Either way the next `examgen
scan ID` applies them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from importlib.resources import files
from pathlib import Path

from ..numbers import format_number
from ..outputs import replace_file
from . import store
from .marks import CROSSED
from .printed import Printed
from .read import FOREIGN, NOT_PRINTED, READ, UNKNOWN, PageReading
from .results import (
    DUPLICATE,
    NO_COPY,
    PAGE_ROW,
    SET_ASIDE,
    BundleNames,
    Decisions,
    Flag,
    Gathered,
    ScannedPart,
    decision_problem,
    decisions_csv,
    read_decisions,
)

REVIEW_PAGE = "review.html"
DECISIONS = "decisions.csv"
FILE, SERVED = "file", "served"  # how the page keeps decisions: in the browser, or by its server


@dataclass(frozen=True)
class Review:
    """What the review of one scan shows, and where its decisions go."""

    folder: Path  # the scan's folder
    cache: Mapping[str, Path]  # bundle digest -> its folder in the cache
    exam: str  # the exam's id
    title: str
    printed: Printed
    parts: Sequence[ScannedPart]
    names: BundleNames
    gathered: Gathered

    def decisions(self) -> Decisions:
        return read_decisions(self.folder / DECISIONS, self.printed, self.parts, self.names)

    def record(self, row: Mapping[str, object]) -> str | None:
        """One decision from the page (``code``, ``part``, ``decision``, and for a page ``bundle`` and
        ``page``) written into decisions.csv with the others; what is wrong with it, or None."""
        code, number, decision, bundle, page = (str(row.get(key, "") or "").strip()
                                                for key in ("code", "part", "decision", "bundle", "page"))
        decided = self.decisions()
        kinds = {part.number: part for part in self.parts}
        if number == PAGE_ROW:
            digest = self.names.digests().get(bundle)
            if digest is None or not page.isdigit():
                return f"'{bundle}' page '{page}' is not a scanned page of this scan"
            problem = decision_problem(code, number, decision, self.printed, kinds, (digest, int(page)))
            if problem:
                return problem
            pages = {**decided.pages, (digest, int(page)): None if decision == NO_COPY else (code, int(decision))}
            decided = replace(decided, pages=pages)
        else:
            problem = decision_problem(code, number, decision, self.printed, kinds)
            if problem:
                return problem
            decided = replace(decided, parts={**decided.parts, (code, number): decision})
        replace_file(self.folder / DECISIONS, partial(Path.write_text, data=decisions_csv(decided, self.names),
                                                      encoding="utf-8"))
        return None

    def page(self, mode: str) -> str:
        """The review page, its images inside it; ``mode`` FILE or SERVED."""
        import jinja2

        environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                                         lstrip_blocks=True)
        template = environment.from_string(files(__package__).joinpath(REVIEW_PAGE).read_text(encoding="utf-8"))
        return template.render(self._content(mode))

    def _content(self, mode: str) -> dict[str, object]:
        gathered, printed = self.gathered, self.printed
        kinds = {part.number: part for part in self.parts}
        readings = {(reading.bundle, reading.number): reading for reading, _ in gathered.pages}
        decisions = self.decisions()
        flags = [self._flag(flag, kinds[flag.part], readings, None) for flag in gathered.flags]
        flags += [self._flag(flag, kinds[flag.part], readings, decision) for flag, decision in gathered.settled]
        unknown = [self._unknown(index, reading, status, decisions)
                   for index, (reading, status) in enumerate(gathered.pages) if reading.status == UNKNOWN]
        first: dict[tuple[str, int], PageReading] = {}
        duplicates = []
        flagged = {(flag.code, flag.at) for flag in gathered.flags} | {(flag.code, flag.at) for flag, _ in
                                                                        gathered.settled}
        for reading, status in gathered.pages:
            if reading.label is None or reading.status != READ:
                continue
            key = (reading.label.code, reading.label.page)
            if status == DUPLICATE:
                duplicates.append({"code": key[0], "page": key[1], "first": self._where(first[key]),
                                   "again": self._where(reading),
                                   "differ": (key[0], (reading.bundle, reading.number)) in flagged})
            else:
                first.setdefault(key, reading)
        foreign = [{"where": self._where(reading), "text": reading.text, "status": reading.status,
                    "image": self._image(reading, small=True)}
                   for reading, _ in gathered.pages if reading.status in (FOREIGN, NOT_PRINTED)]
        missing = [{"code": code, "student": self._student(code), "pages": ", ".join(map(str, pages))}
                   for code, pages in gathered.missing.items()]
        unnamed = [code for code in printed.codes if code in gathered.present and not printed.students.get(code)]
        return {"mode": mode, "title": self.title, "exam": self.exam, "folder": str(self.folder),
                "storage_key": f"examgen-review:{self.exam}:{self.folder}", "flags": flags, "unknown": unknown,
                "duplicates": duplicates, "foreign": foreign, "missing": missing, "unnamed": unnamed,
                "codes": list(printed.codes), "pages_per_copy": printed.pages_per_copy,
                "decisions": json.dumps(self._decided(decisions)),
                "counts": {"pages": len(gathered.pages), "copies": len(gathered.present),
                           "open": len(gathered.flags), "settled": len(gathered.settled)}}

    def _decided(self, decisions: Decisions) -> dict[str, dict[str, str]]:
        """The decisions of decisions.csv as the page keeps them: by a key per flag or page."""
        rows = {f"{code}|{number}": {"code": code, "part": number, "decision": decision, "bundle": "", "page": ""}
                for (code, number), decision in decisions.parts.items()}
        for (digest, page), where in decisions.pages.items():
            bundle = self.names.for_decisions(digest)
            rows[f"{PAGE_ROW}|{bundle}|{page}"] = {"code": where[0] if where else "", "part": PAGE_ROW,
                                                   "decision": str(where[1]) if where else NO_COPY,
                                                   "bundle": bundle, "page": str(page)}
        return rows

    def _where(self, reading: PageReading) -> str:
        return f"{self.names.given[reading.bundle]}, page {reading.number}"

    def _student(self, code: str) -> str:
        student = self.printed.students.get(code)
        return f"{student.name} ({student.registration})" if student else ""

    def _image(self, reading: PageReading, part: str | None = None, small: bool = False) -> str:
        """A data URL of a page's picture (or of a part's cut-out on it); "" where the cache has none."""
        folder = self.cache[reading.bundle]
        path = store.part_file(folder, reading.number, part) if part else store.thumbnail_file(folder, reading.number)
        if not path.is_file():
            return ""
        kind = "image/png" if path.suffix == ".png" else "image/jpeg"
        return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"

    def _flag(self, flag: Flag, part: ScannedPart, readings: Mapping[tuple[str, int], PageReading],
              decision: str | None) -> dict[str, object]:
        reading = readings[flag.at] if flag.at else None
        boxes = [box for box in reading.boxes if box.part == flag.part] if reading else []
        crossed = [format_number(box.value) for box in boxes if box.state.state == CROSSED]
        if part.choice:
            suggested = " ".join(crossed)
        else:
            suggested = crossed[0] if len(crossed) == 1 else ""
        steps = round(part.points * 2)
        return {"key": f"{flag.code}|{flag.part}", "code": flag.code, "part": flag.part, "why": flag.why,
                "read": flag.read, "student": self._student(flag.code), "choice": part.choice,
                "options": list(range(1, part.options + 1)),
                "points": [format_number(step / 2) for step in range(steps + 1)], "suggested": suggested,
                "decision": decision, "where": self._where(reading) if reading else "",
                "image": (self._image(reading, None if flag.placed else flag.part) if reading else ""),
                "placed": flag.placed}

    def _unknown(self, index: int, reading: PageReading, status: str, decisions: Decisions) -> dict[str, object]:
        """A page whose QR code could not be read, with the copy page its neighbours in the bundle suggest."""
        bundle = self.names.for_decisions(reading.bundle)
        suggested = self._suggestion(index)
        return {"key": f"{PAGE_ROW}|{bundle}|{reading.number}", "bundle": bundle, "number": reading.number,
                "where": self._where(reading), "status": status, "image": self._image(reading),
                "text": reading.text, "code": suggested[0] if suggested else "",
                "copy_page": suggested[1] if suggested else "", "hint": self._hint(index, suggested),
                "set_aside": status == SET_ASIDE}

    def _neighbours(self, index: int) -> tuple[tuple[str, int] | None, tuple[str, int] | None]:
        """The copy pages read just before and just after the page in its bundle (None: none there)."""
        pages = self.gathered.pages
        bundle = pages[index][0].bundle

        def near(step: int) -> tuple[str, int] | None:
            at = index + step
            while 0 <= at < len(pages) and pages[at][0].bundle == bundle:
                label = pages[at][0].label
                if pages[at][0].status == READ and label:
                    return label.code, label.page
                at += step
            return None

        return near(-1), near(1)

    def _suggestion(self, index: int) -> tuple[str, int] | None:
        """The copy page between its neighbours (a stack in order, or turned over), if that page is missing."""
        before, after = self._neighbours(index)
        candidates = []
        for near, other in ((before, after), (after, before)):
            if near is None:
                continue
            for step in (1, -1):
                page = near[1] + step
                if other is not None and other != (near[0], page + step):
                    continue
                candidates.append((near[0], page))
        for code, page in candidates:
            if 1 <= page <= self.printed.pages_per_copy and page in self.gathered.missing.get(code, ()):
                return code, page
        return None

    def _hint(self, index: int, suggested: tuple[str, int] | None) -> str:
        before, after = self._neighbours(index)
        shown = [f"{side}: {near[0]} page {near[1]}" for side, near in (("before it", before), ("after it", after))
                 if near]
        said = "; ".join(shown) or "no page of a copy next to it in its bundle"
        if suggested:
            return f"{said}: probably {suggested[0]} page {suggested[1]}, which is missing"
        return f"{said}: no missing page between them"
