"""What was printed, as the copies' folder records it (docs/copies.md): which copy codes exist,
each copy's variant and student (manifest.json), and where every box is on each page
(layout.json). A scan is read against these and nothing else."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import Loc, ScanError
from ..project import MANIFEST
from ..stages.positions import Box

LAYOUT = "layout.json"
ADDITIONAL = "additional-{}"  # the name of an additional page's space (1, 2, ... in the copy), as a part's


@dataclass(frozen=True)
class Spot:
    """A box the scan reads: a check box (``value``: its option, from 1) or a grading box (``value``:
    the points it stands for), of a part."""

    part: str
    value: float
    box: Box


@dataclass(frozen=True)
class Sheet:
    """One printed page of a copy: where its QR code, boxes and answer spaces are."""

    page: int
    qr: Box
    code: Box  # the slot of the copy's code, beside the QR code
    checkboxes: tuple[Spot, ...]
    grading_boxes: tuple[Spot, ...]
    answer_spaces: tuple[tuple[str, Box], ...]  # (part, its space on this page), from the top: grids, numeric
    # answer boxes, and the additional pages' grids (as ADDITIONAL parts)


@dataclass(frozen=True)
class Student:
    registration: str
    name: str


@dataclass(frozen=True)
class Printed:
    """The copies of one `examgen copies` run."""

    folder: Path
    exam: str  # the exam's id
    exam_code: str
    page_size: tuple[float, float]  # width, height in points
    pages_per_copy: int
    codes: tuple[str, ...]  # in the manifest's order
    variants: Mapping[str, str | None]  # copy code -> its variant's label
    students: Mapping[str, Student | None]
    sheets: Mapping[tuple[str | None, int], Sheet]  # (variant, page) -> its sheet

    def sheet(self, code: str, page: int) -> Sheet:
        return self.sheets[self.variants[code], page]

    def answer_names(self, code: str, page: int) -> list[str]:
        """The names of the answer spaces of a copy's page, as scan cuts them out (answers/<code>/<name>.jpg):
        the part's number, ``-2``, ``-3``, ... for its further spaces in the copy's order."""
        seen: dict[str, int] = {}
        for earlier in range(1, page):
            for part, _ in self.sheet(code, earlier).answer_spaces:
                seen[part] = seen.get(part, 0) + 1
        names = []
        for part, _ in self.sheet(code, page).answer_spaces:
            seen[part] = seen.get(part, 0) + 1
            names.append(part if seen[part] == 1 else f"{part}-{seen[part]}")
        return names


def _box(data: dict) -> Box:
    return Box(float(data["x"]), float(data["y"]), float(data["width"]), float(data["height"]))


def _sheet(page: dict, additional: int) -> Sheet:
    """A page of layout.json (``additional``: the additional pages' spaces on the copy's earlier pages)."""
    spaces = [*((space["part"], _box(space["box"])) for space in page.get("answer_spaces", ())),
              *((space["part"], _box(space["box"])) for space in page.get("numeric_boxes", ())),
              *((ADDITIONAL.format(additional + index), _box(space["box"]))
                for index, space in enumerate(page.get("additional_spaces", ()), 1))]
    return Sheet(int(page["page"]), _box(page["qr"]), _box(page["code"]),
                 tuple(Spot(spot["part"], float(spot["option"]), _box(spot["box"]))
                       for spot in page.get("checkboxes", ())),
                 tuple(Spot(spot["part"], float(spot["value"]), _box(spot["box"]))
                       for spot in page.get("grading_boxes", ())),
                 tuple(sorted(spaces, key=lambda space: -(space[1].y + space[1].height))))


def _sheets(pages: list[dict]) -> list[Sheet]:
    """A copy's pages, the additional pages' spaces numbered across them."""
    sheets = []
    additional = 0
    for page in sorted(pages, key=lambda page: int(page["page"])):
        sheets.append(_sheet(page, additional))
        additional += len(page.get("additional_spaces", ()))
    return sheets


def read_printed(folder: Path, exam_id: str) -> Printed:
    """The copies' records in ``folder``; a folder without them, or with another exam's, is an error
    that says what to give instead."""
    manifest_path, layout_path = folder / MANIFEST, folder / LAYOUT
    for path in (manifest_path, layout_path):
        if not path.is_file():
            raise ScanError(f"no {path.name} here: a scan is read against the copies that were printed; run "
                            "`examgen copies` first, or give --copies DIR with the folder of the printed run",
                            Loc(folder))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        layout = json.loads(layout_path.read_text(encoding="utf-8"))
        if manifest["exam"] != exam_id or layout["exam"] != exam_id:
            raise ScanError(f"these are copies of '{manifest['exam']}', not of '{exam_id}': give --copies DIR "
                            "with the copies of this exam", Loc(folder))
        if layout["code"] != manifest["code"] or layout["pages_per_copy"] != manifest["pages_per_copy"]:
            raise ScanError(f"{LAYOUT} and {MANIFEST} are of different runs of copies: make the copies again",
                            Loc(folder))
        entries = manifest["entries"]
        by_variant = layout["variants"] if "variants" in layout else {None: layout}
        sheets = {(label, sheet.page): sheet
                  for label, pages in by_variant.items() for sheet in _sheets(pages["pages"])}
        variants = {entry["code"]: entry.get("variant") for entry in entries}
        if any((variant, 1) not in sheets for variant in variants.values()):
            raise ScanError(f"{MANIFEST} names a variant {LAYOUT} has no pages for: make the copies again",
                            Loc(folder))
        return Printed(folder, exam_id, manifest["code"],
                       (float(layout["page_size"]["width"]), float(layout["page_size"]["height"])),
                       int(layout["pages_per_copy"]), tuple(variants), variants,
                       {entry["code"]: entry["student"] and Student(entry["student"]["registration"],
                                                                    entry["student"]["name"])
                        for entry in entries}, sheets)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ScanError(f"not the records of `examgen copies` ({type(exc).__name__}: {exc}): make the copies again",
                        Loc(folder)) from None
