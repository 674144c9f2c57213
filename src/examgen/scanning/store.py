"""The scan's cache: each bundle's readings (readings.json) and the images cut from its pages, in a
folder of its own named by the bundle's digest, the copies' digest and the reading's version, so
that scanning the same bundles again does no image work, and new copies or a new examgen read
them afresh. A bundle's folder is made aside (the scan's staging folder) and moved into place with
the scan's outputs; its readings.json is written last."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from ..outputs import replace_file
from ..project import MANIFEST
from .identify import Label
from .marks import BoxState
from .printed import LAYOUT
from .read import BoxReading, PageReading

READING_VERSION = "5"  # raise it when what a page reading holds or how it is read changes


def copies_digest(copies: Path) -> str:
    """The digest of the copies' records a scan's readings were read against (its cache entries' names)."""
    return hashlib.sha256((copies / MANIFEST).read_bytes() + (copies / LAYOUT).read_bytes()).hexdigest()


def entry_name(bundle: str, copies: str) -> str:
    return f"{bundle[:16]}-{copies[:12]}-v{READING_VERSION}"


def thumbnail_file(folder: Path, number: int) -> Path:
    return folder / f"{number}-page.jpg"


def part_file(folder: Path, number: int, part: str) -> Path:
    return folder / f"{number}-part-{part}.png"


def answer_file(folder: Path, number: int, index: int) -> Path:
    return folder / f"{number}-answer-{index}.jpg"


def placed_file(folder: Path, number: int) -> Path:
    """The reading of a page a person placed (its QR code unreadable), beside the bundle's images."""
    return folder / f"{number}-placed.json"


def stored(reading: PageReading, folder: Path) -> PageReading:
    """The reading's images written into ``folder``; the reading without them."""
    thumbnail_file(folder, reading.number).write_bytes(reading.thumbnail)
    for part, data in (reading.part_crops or {}).items():
        part_file(folder, reading.number, part).write_bytes(data)
    for index, (_, data) in enumerate(reading.answers):
        answer_file(folder, reading.number, index).write_bytes(data)
    return replace(reading, part_crops=None, answers=tuple((part, b"") for part, _ in reading.answers),
                   thumbnail=b"")


def _json(readings: list[PageReading]) -> str:
    return json.dumps([asdict(reading) | {"part_crops": None, "thumbnail": None,
                                          "answers": [part for part, _ in reading.answers]} for reading in readings])


def _readings(data: list) -> list[PageReading]:
    return [PageReading(item["bundle"], item["number"], item["status"], item["text"],
                        item["label"] and Label(**item["label"]), item["rotation"],
                        tuple(BoxReading(box["part"], box["value"], box["grading"], BoxState(**box["state"]))
                              for box in item["boxes"]),
                        None, tuple((part, b"") for part in item["answers"]), b"", tuple(item["placement"]))
            for item in data]


def write_readings(folder: Path, readings: list[PageReading]) -> None:
    """The bundle's readings beside its images: written last, so a folder without them is no entry."""
    replace_file(folder / "readings.json", partial(Path.write_text, data=_json(readings), encoding="utf-8"))


def write_placed(folder: Path, reading: PageReading, placed_to: tuple[str, int]) -> PageReading:
    """A placed page's reading and images into its bundle's entry; the reading without its images."""
    kept = stored(reading, folder)
    replace_file(placed_file(folder, reading.number), partial(Path.write_text, data=json.dumps(
        {"to": list(placed_to), "reading": json.loads(_json([kept]))[0]}), encoding="utf-8"))
    return kept


def load_placed(folder: Path, number: int, placed_to: tuple[str, int]) -> PageReading | None:
    """A placed page's reading, if it was read placed where it is placed now."""
    try:
        data = json.loads(placed_file(folder, number).read_text(encoding="utf-8"))
        return _readings([data["reading"]])[0] if tuple(data["to"]) == placed_to else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load(folder: Path) -> list[PageReading] | None:
    """A bundle's readings from the cache, or None where there are none (or they cannot be read)."""
    try:
        return _readings(json.loads((folder / "readings.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
