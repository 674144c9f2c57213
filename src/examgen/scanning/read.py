"""One scanned page read: identified, placed on its printed page, every box on it read, its parts'
boxes and answer spaces cut out. This is the image work, done in a worker process per core; what
it returns is small and plain, so that a whole scan's readings fit in memory and its cache."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..stages.positions import Box
from .identify import Label, find_qr, parse_label, print_placement, qr_placement, rotation
from .inputs import PageImage
from .marks import BoxState, cut, read_box, read_part, refine
from .printed import Printed, Sheet

if TYPE_CHECKING:
    import numpy as np

CHECKBOX_LINE, GRADING_LINE = 0.6, 0.5  # the frames' rules in points (examgen.sty)
CROP_DPI = 150  # the cut-out boxes a person looks at, and the answers
PART_MARGIN = 14.0  # points of the page around a part's boxes in its cut-out
OPTIONS_WIDTH = 120.0  # points right of a choice part's boxes in its cut-out: the options' texts
THUMBNAIL_WIDTH = 360  # pixels: the picture of a page
UNKNOWN_WIDTH = 1100  # pixels: the picture of a page without a readable QR code, which a person places and reads

READ, UNKNOWN, FOREIGN, NOT_PRINTED = "read", "unknown", "foreign", "not printed"  # a page's status
DAMAGED = "damaged"  # an image in the bundle that cannot be decoded


@dataclass(frozen=True)
class BoxReading:
    """A box as read: its part, its option (check box) or points (grading box), and what it holds."""

    part: str
    value: float
    grading: bool  # a grader's box (points), not a student's check box
    state: BoxState


@dataclass(frozen=True)
class PageReading:
    """What one scanned page is and holds. Images come along as encoded bytes: the part's boxes
    (``part_crops``, PNG, by part) and the answer spaces (``answers``, JPEG, in the page's order)
    for a page that was read; a thumbnail (JPEG) of every page."""

    bundle: str
    number: int
    status: str
    text: str  # the QR code's text, as read ("" for none)
    label: Label | None
    rotation: int | None
    boxes: tuple[BoxReading, ...] = ()
    part_crops: Mapping[str, bytes] | None = None
    answers: tuple[tuple[str, bytes], ...] = ()
    thumbnail: bytes = b""
    placement: tuple[float, ...] = ()  # a read page's map from printed points (y down) to pixels: 2 x 3, by rows


def decode(page: PageImage) -> np.ndarray:
    import cv2
    import numpy as np

    if page.encoded is not None:
        gray = cv2.imdecode(np.frombuffer(page.encoded, np.uint8), cv2.IMREAD_GRAYSCALE)
        if gray is None or min(gray.shape) < 100:
            raise ValueError("an image the decoder cannot read")
        return gray
    assert page.pixels is not None
    return np.frombuffer(page.pixels, np.uint8).reshape(-1, page.width)


def _encoded(image: np.ndarray, kind: str) -> bytes:
    import cv2

    params = [cv2.IMWRITE_JPEG_QUALITY, 80] if kind == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    ok, data = cv2.imencode(kind, image, params)
    assert ok
    return data.tobytes()


def _thumbnail(gray: np.ndarray, width: int = THUMBNAIL_WIDTH) -> bytes:
    import cv2

    while gray.shape[1] >= 2 * width:  # halving by pyrDown is fast; one resize by any factor is not
        gray = cv2.pyrDown(gray)
    scale = min(1.0, width / gray.shape[1])
    return _encoded(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), ".jpg")


def read_page(page: PageImage, printed: Printed) -> PageReading:
    """A scanned page, read against the printed copies."""
    try:
        gray = decode(page)
    except ValueError:
        return PageReading(page.bundle, page.number, DAMAGED, "", None, None)
    found = find_qr(gray)
    label = parse_label(found.text) if found else None
    text = found.text if found else ""
    if label is None:
        return PageReading(page.bundle, page.number, UNKNOWN, text, None, None,
                           thumbnail=_thumbnail(gray, UNKNOWN_WIDTH))
    if label.exam_code != printed.exam_code:
        return PageReading(page.bundle, page.number, FOREIGN, text, label, None, thumbnail=_thumbnail(gray))
    if label.code not in printed.variants or label.page > printed.pages_per_copy:
        return PageReading(page.bundle, page.number, NOT_PRINTED, text, label, None,
                           thumbnail=_thumbnail(gray))
    assert found is not None
    placement = qr_placement(found, printed.sheet(label.code, label.page).qr, printed.page_size[1], gray)
    return _read_on(page, gray, placement, label, text, printed, READ)


def render_printed(printed: Printed, code: str, page: int, dpi: float) -> np.ndarray:
    """A copy's page as printed (print.pdf), in grayscale at ``dpi``."""
    import numpy as np
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(printed.folder / "print.pdf")
    try:
        pixels = document[printed.codes.index(code) * printed.pages_per_copy + page - 1].render(
            scale=dpi / 72, grayscale=True).to_numpy()
    finally:
        document.close()
    return np.ascontiguousarray(pixels[..., 0] if pixels.ndim == 3 else pixels)


def read_placed(page: PageImage, printed: Printed, label: Label, render: np.ndarray, dpi: float) -> PageReading:
    """A page without a readable QR code, read as the page of a copy a person said it is: placed by
    the features it shares with that page as printed (``render``, at ``dpi``); unknown, with no label,
    where they do not place it."""
    gray = decode(page)
    placement = print_placement(gray, render, dpi)
    if placement is None:
        return PageReading(page.bundle, page.number, UNKNOWN, "", None, None, thumbnail=_thumbnail(gray, UNKNOWN_WIDTH))
    return _read_on(page, gray, placement, label, "", printed, UNKNOWN)


def _read_on(page: PageImage, gray: np.ndarray, placement: np.ndarray, label: Label, text: str, printed: Printed,
             status: str) -> PageReading:
    """Every box of the copy's page read where the placement (corrected by the boxes' frames) puts it,
    its parts' boxes and answer spaces cut out."""
    sheet = printed.sheet(label.code, label.page)
    height = printed.page_size[1]
    turned = rotation(placement)
    spots = [(spot, grading, line) for spots, grading, line in ((sheet.checkboxes, False, CHECKBOX_LINE),
                                                                 (sheet.grading_boxes, True, GRADING_LINE))
             for spot in spots]
    parts: dict[str, list[int]] = {}  # each part's spots: a column of boxes, placed and judged together
    for index, (spot, _, _) in enumerate(spots):
        parts.setdefault(spot.part, []).append(index)
    placement = refine(gray, placement, [[(spots[index][0].box, spots[index][2]) for index in at]
                                         for at in parts.values()], height)
    states = [read_box(gray, placement, spot.box, line, height, option=not grading) for spot, grading, line in spots]
    for at in parts.values():
        for index, state in zip(at, read_part([states[index] for index in at])):
            states[index] = state
    boxes = tuple(BoxReading(spot.part, spot.value, grading, state) for (spot, grading, _), state in zip(spots, states))
    return PageReading(page.bundle, page.number, status, text, label, turned, boxes,
                       _part_crops(gray, placement, sheet, height),
                       tuple((part, _encoded(cut(gray, placement, space, height, CROP_DPI), ".jpg"))
                             for part, space in sheet.answer_spaces),
                       _thumbnail(gray, THUMBNAIL_WIDTH if status == READ else UNKNOWN_WIDTH),
                       tuple(float(value) for value in placement.flat))


def _part_crops(gray: np.ndarray, placement: np.ndarray, sheet: Sheet, height: float) -> dict[str, bytes]:
    """Each part's boxes on the page with the page around them, as a person reviewing it sees them."""
    areas: dict[str, list[Box]] = {}
    for spot in (*sheet.checkboxes, *sheet.grading_boxes):
        areas.setdefault(spot.part, []).append(spot.box)
    chosen = {spot.part for spot in sheet.checkboxes}
    crops = {}
    for part, boxes in areas.items():
        left = min(box.x for box in boxes) - PART_MARGIN
        bottom = min(box.y for box in boxes) - PART_MARGIN
        right = max(box.x + box.width for box in boxes) + PART_MARGIN + (OPTIONS_WIDTH if part in chosen else 0)
        top = max(box.y + box.height for box in boxes) + PART_MARGIN
        crops[part] = _encoded(cut(gray, placement, Box(left, bottom, right - left, top - bottom), height, CROP_DPI),
                               ".png")
    return crops


_reading_with: Printed | None = None  # a worker's copies


def start_worker(printed: Printed) -> None:
    """A worker process's copies, inherited from the scan's process."""
    global _reading_with
    _reading_with = printed


def read_in_worker(page: PageImage) -> PageReading:
    assert _reading_with is not None
    return read_page(page, _reading_with)
