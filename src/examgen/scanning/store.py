"""The scan's cache: each bundle's readings (readings.json) and the images cut from its pages, in a
folder of its own named by the bundle's digest, the copies' digest and the reading's version, so
that scanning the same bundles again does no image work, and new copies or a new examgen read
them afresh. A bundle's folder is made aside (the scan's staging folder) and moved into place with
the scan's outputs; its readings.json is written last."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from ..outputs import replace_file
from .identify import Label
from .marks import BoxState
from .read import BoxReading, PageReading

READING_VERSION = "2"  # raise it when what a page reading holds or how it is read changes


def entry_name(bundle: str, copies: str) -> str:
    return f"{bundle[:16]}-{copies[:12]}-v{READING_VERSION}"


def thumbnail_file(folder: Path, number: int) -> Path:
    return folder / f"{number}-page.jpg"


def part_file(folder: Path, number: int, part: str) -> Path:
    return folder / f"{number}-part-{part}.png"


def answer_file(folder: Path, number: int, index: int) -> Path:
    return folder / f"{number}-answer-{index}.jpg"


def stored(reading: PageReading, folder: Path) -> PageReading:
    """The reading's images written into ``folder``; the reading without them."""
    thumbnail_file(folder, reading.number).write_bytes(reading.thumbnail)
    for part, data in (reading.part_crops or {}).items():
        part_file(folder, reading.number, part).write_bytes(data)
    for index, (_, data) in enumerate(reading.answers):
        answer_file(folder, reading.number, index).write_bytes(data)
    return replace(reading, part_crops=None, answers=tuple((part, b"") for part, _ in reading.answers),
                   thumbnail=b"")


def write_readings(folder: Path, readings: list[PageReading]) -> None:
    """The bundle's readings beside its images: written last, so a folder without them is no entry."""
    data = [asdict(reading) | {"part_crops": None, "thumbnail": None,
                               "answers": [part for part, _ in reading.answers]} for reading in readings]
    replace_file(folder / "readings.json", partial(Path.write_text, data=json.dumps(data), encoding="utf-8"))


def load(folder: Path) -> list[PageReading] | None:
    """A bundle's readings from the cache, or None where there are none (or they cannot be read)."""
    try:
        data = json.loads((folder / "readings.json").read_text(encoding="utf-8"))
        return [PageReading(item["bundle"], item["number"], item["status"], item["text"],
                            item["label"] and Label(**item["label"]), item["rotation"],
                            tuple(BoxReading(box["part"], box["value"], box["grading"], BoxState(**box["state"]))
                                  for box in item["boxes"]),
                            None, tuple((part, b"") for part in item["answers"]), b"")
                for item in data]
    except (OSError, ValueError, KeyError, TypeError):
        return None
