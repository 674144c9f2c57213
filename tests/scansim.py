"""A scan simulator for `examgen scan`'s tests and benchmark: realistic scans of print.pdf with a
known truth. Each page is rendered at 150-300 dpi, marked as students and graders mark (pen crosses
of varying width and length, some past the box's edge; fills; crosses undone by filling; and, as
the ambiguous marks a person must see, faint pencil strokes, half-filled boxes, stray lines from
a neighbour, single strokes and options filled and re-marked beside), then turned as a scanner
turns it (180 degrees, skew up to 3 degrees, scale, shift), blurred, noised, JPEG-compressed or
thresholded to black and white. Bundles shuffle, drop, repeat and add pages (blank ones, another
exam's); a QR code can be covered. The same drawing and scanning make strips of a page holding one
part's boxes (marked_patch), for tests of tens of thousands of boxes, and whole bundles of JPEG
pages for the benchmark (scanned_copies, jpegs_to_pdf)."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from examgen.codes import copy_code, qr_payload
from examgen.scanning.printed import Printed

CLEAR = ("empty", "cross", "fill", "cross-fill")  # marks a scan must read
AMBIGUOUS = ("faint", "half", "stray", "single")  # marks a scan must flag
RE_MARKED = "re-marked"  # an option's box filled and a cross beside it: marked again, as the cover allows; flagged
MM = 72 / 25.4
BED_MARGIN = 12  # mm


@dataclass
class Truth:
    """What the simulated students and graders meant, and which marks must be flagged."""

    crossed: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)  # (code, choice part) -> options
    points: dict[tuple[str, str], float] = field(default_factory=dict)  # (code, graded part) -> points
    ambiguous: set[tuple[str, str]] = field(default_factory=set)  # parts with a mark to flag
    marks: dict[tuple[str, int, str, float], str] = field(default_factory=dict)  # (code, page, part, value) -> mark


@dataclass
class Scanned:
    """A simulated scanned page: the image and what it is (None: blank; a foreign code's label)."""

    image: bytes
    kind: str  # jpg, png
    label: tuple[str, int] | None
    qr_destroyed: bool = False


def plan_marks(printed: Printed, rng: random.Random, ambiguous_share: float = 0.04,
               grader_slips: float = 0.03) -> Truth:
    """Every copy's marks: for each choice part a random set of options crossed (some undone by
    filling), for each graded part one grading box crossed; a few ambiguous marks and grader slips."""
    truth = Truth()
    for code in printed.codes:
        for page in range(1, printed.pages_per_copy + 1):
            sheet = printed.sheet(code, page)
            parts: dict[str, list] = {}
            for spot in sheet.checkboxes:
                parts.setdefault(spot.part, []).append(spot)
            for part, spots in parts.items():
                options = set()
                for spot in spots:
                    mark = rng.choices(CLEAR, (5, 4, 1, 1))[0]
                    if rng.random() < ambiguous_share:
                        mark = rng.choice((*AMBIGUOUS, RE_MARKED))
                        truth.ambiguous.add((code, part))
                    truth.marks[code, page, part, spot.value] = mark
                    if mark == "cross":
                        options.add(int(spot.value))
                truth.crossed[code, part] = frozenset(options)
            graded: dict[str, list] = {}
            for spot in sheet.grading_boxes:
                graded.setdefault(spot.part, []).append(spot)
            for part, spots in graded.items():
                chosen = rng.choice(spots)
                truth.points[code, part] = chosen.value
                slip = rng.random() < grader_slips
                for spot in spots:
                    mark = "cross" if spot is chosen else "empty"
                    if spot is not chosen and rng.random() < 0.08:
                        mark = "cross-fill"  # a grader's cross undone
                    truth.marks[code, page, part, spot.value] = mark
                if slip:  # two boxes crossed, or the cross forgotten
                    truth.ambiguous.add((code, part))
                    others = [spot for spot in spots if spot is not chosen]
                    if others and rng.random() < 0.5:
                        truth.marks[code, page, part, rng.choice(others).value] = "cross"
                    else:
                        truth.marks[code, page, part, chosen.value] = "empty"
    return truth


def render(print_pdf: Path, index: int, dpi: int) -> np.ndarray:
    document = pdfium.PdfDocument(print_pdf)
    try:
        pixels = document[index].render(scale=dpi / 72, grayscale=True).to_numpy()
    finally:
        document.close()
    return np.array(pixels[..., 0] if pixels.ndim == 3 else pixels)


def _line(image, a, b, width_px, color) -> None:
    cv2.line(image, (round(a[0] * 16), round(a[1] * 16)), (round(b[0] * 16), round(b[1] * 16)), int(color),
             max(1, round(width_px)), cv2.LINE_AA, 4)


def draw_mark(image: np.ndarray, box, mark: str, height: float, dpi: int, rng: random.Random, pen: int,
              black_and_white: bool = False) -> None:
    """One mark into a box (PDF points, y up) of a page rendered at dpi (a pencil's trace darker on a page
    scanned in black and white, where a lighter one is gone before anything can read it)."""
    s = dpi / 72
    left, top = box.x * s, (height - box.y - box.height) * s
    size = box.width * s
    width = rng.uniform(0.3, 0.6) * MM * s
    if mark in ("cross", "cross-fill"):
        for (x0, y0), (x1, y1) in (((0, 0), (1, 1)), ((1, 0), (0, 1))):
            reach = rng.uniform(-0.25, 0.12)  # past the edge (negative) or short of it
            a = (left + size * (x0 + (reach if x0 == 0 else -reach) + rng.uniform(-0.06, 0.06)),
                 top + size * (y0 + (reach if y0 == 0 else -reach) + rng.uniform(-0.06, 0.06)))
            b = (left + size * (x1 + (reach if x1 == 0 else -reach) + rng.uniform(-0.06, 0.06)),
                 top + size * (y1 + (reach if y1 == 0 else -reach) + rng.uniform(-0.06, 0.06)))
            _line(image, a, b, width, pen)
    if mark == RE_MARKED:  # the cover's sample: a cross of 2.4 mm a thin space right of the filled box
        middle, half = (left + size + (1.7 + 1.2 * MM) * s, top + size / 2), 1.2 * MM * s
        _line(image, (middle[0] - half, middle[1] - half), (middle[0] + half, middle[1] + half), width, pen)
        _line(image, (middle[0] - half, middle[1] + half), (middle[0] + half, middle[1] - half), width, pen)
    if mark in ("fill", "cross-fill", RE_MARKED):
        grow = rng.uniform(0.0, 0.12) * size
        corners = np.array([[left - grow, top - grow], [left + size + grow, top - grow * rng.random()],
                            [left + size + grow, top + size + grow], [left - grow * rng.random(), top + size + grow]])
        cv2.fillPoly(image, [np.round(corners * 16).astype(np.int32)], int(pen), cv2.LINE_AA, 4)
    elif mark == "faint" and black_and_white:  # what is left of a pencil's cross after thresholding: a short stroke
        _line(image, (left + 0.3 * size, top + 0.3 * size), (left + 0.7 * size, top + 0.65 * size), 0.8 * s, 120)
    elif mark == "faint":  # a pencil trace: light, thin, a cross
        color = rng.uniform(150, 185)
        _line(image, (left + 0.2 * size, top + 0.2 * size), (left + 0.85 * size, top + 0.8 * size), 1.0 * s, color)
        _line(image, (left + 0.8 * size, top + 0.25 * size), (left + 0.3 * size, top + 0.75 * size), 1.0 * s, color)
    elif mark == "half":
        cv2.rectangle(image, (round(left), round(top + size * 0.45)), (round(left + size), round(top + size)),
                      int(pen), -1)
    elif mark == "stray":  # a line from the neighbouring box, straight across this one
        y = top + size * rng.uniform(0.35, 0.65)
        _line(image, (left - size * 1.5, y), (left + size * 1.1, y + size * rng.uniform(-0.1, 0.1)), width, pen)
    elif mark == "single":  # one stroke of a cross
        _line(image, (left + 0.1 * size, top + 0.1 * size), (left + 0.9 * size, top + 0.9 * size), width, pen)


def scanner_matrix(rng: random.Random, size: tuple[int, int], turn: bool, dpi: int, shift_mm: float = 10) -> np.ndarray:
    """How a scanner places an image of ``size`` (width, height) on its bed: turned 180 degrees or not, skewed up
    to 3 degrees, scaled by up to 4 %, shifted by up to ``shift_mm`` (a 2 x 3 map of pixels)."""
    width, height = size
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-3, 3) + (180 if turn else 0),
                                     rng.uniform(0.96, 1.04))
    matrix[:, 2] += [rng.uniform(-shift_mm, shift_mm) * dpi / 25.4, rng.uniform(-shift_mm, shift_mm) * dpi / 25.4]
    return matrix


def scanned_bytes(image: np.ndarray, rng: random.Random, black_and_white: bool) -> tuple[bytes, str]:
    """A scanner's sensor and file: blurred, noised, then JPEG-compressed at quality 50-90 or thresholded to
    black and white (PNG)."""
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 0.8))
    noise = np.empty(image.shape, np.float32)
    cv2.setRNGSeed(rng.randrange(1 << 30))
    cv2.randn(noise, 0.0, rng.uniform(2, 7))
    noisy = cv2.scaleAdd(image.astype(np.float32), rng.uniform(0.9, 0.98), noise)
    image = np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)
    if black_and_white:
        image = np.where(image < 150, 0, 255).astype(np.uint8)
        ok, data = cv2.imencode(".png", image)
        return data.tobytes(), "png"
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(50, 90)])
    return data.tobytes(), "jpg"


def degrade(image: np.ndarray, rng: random.Random, turn: bool, black_and_white: bool,
            dpi: int) -> tuple[bytes, str]:
    """A scanner's view of a marked page: turned, skewed, scaled, shifted, blurred, noised, compressed. The
    scanner's bed reaches BED_MARGIN beyond the page on every side (grey where there is no paper), so a
    page shifted by up to 10 mm is still whole."""
    margin = round(BED_MARGIN * dpi / 25.4)
    image = cv2.copyMakeBorder(image, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=235)
    height, width = image.shape
    image = cv2.warpAffine(image, scanner_matrix(rng, (width, height), turn, dpi), (width, height),
                           flags=cv2.INTER_LINEAR, borderValue=235)
    return scanned_bytes(image, rng, black_and_white)


def scan_copy_page(printed: Printed, truth: Truth, code: str, page: int, rng: random.Random, dpi: int,
                   turn: bool = False, black_and_white: bool = False, destroy_qr: bool = False) -> Scanned:
    """One page of a copy, marked as the truth says, and scanned."""
    index = printed.codes.index(code) * printed.pages_per_copy + page - 1
    image = render(printed.folder / "print.pdf", index, dpi)
    sheet = printed.sheet(code, page)
    height = printed.page_size[1]
    student_pen, grader_pen = rng.randint(10, 70), rng.randint(40, 100)
    for spot in sheet.checkboxes:
        draw_mark(image, spot.box, truth.marks[code, page, spot.part, spot.value], height, dpi, rng, student_pen,
                  black_and_white)
    for spot in sheet.grading_boxes:
        draw_mark(image, spot.box, truth.marks[code, page, spot.part, spot.value], height, dpi, rng, grader_pen,
                  black_and_white)
    if destroy_qr:
        s = dpi / 72
        qr = sheet.qr
        top = round((height - qr.y - qr.height) * s)
        cv2.rectangle(image, (round(qr.x * s) + 3, top + 3), (round((qr.x + qr.width * 0.7) * s), top +
                      round(qr.height * 0.6 * s)), 0, -1)  # a sticker's worth of ink over two finder patterns
    data, kind = degrade(image, rng, turn, black_and_white, dpi)
    return Scanned(data, kind, None if destroy_qr else (code, page), destroy_qr)


def blank_page(rng: random.Random, dpi: int) -> Scanned:
    image = np.full((round(297 / 25.4 * dpi), round(210 / 25.4 * dpi)), 250, np.uint8)
    data, kind = degrade(image, rng, False, False, dpi)
    return Scanned(data, kind, None)


def foreign_page(exam_code: str, rng: random.Random, dpi: int) -> Scanned:
    """A page of another exam's copy: its QR code where examgen prints it, some text."""
    import segno

    code = copy_code(exam_code, rng.randint(1, 50))
    image = np.full((round(297 / 25.4 * dpi), round(210 / 25.4 * dpi)), 255, np.uint8)
    cv2.putText(image, "Another exam", (200, 300), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 5)
    buffer = io.BytesIO()
    segno.make_qr(qr_payload(code, 3), error="m").save(buffer, kind="png", scale=1, border=0)
    symbol = np.array(Image.open(buffer).convert("L"))
    module = round(12 / 25.4 * dpi / symbol.shape[0])
    big = cv2.resize(symbol, None, fx=module, fy=module, interpolation=cv2.INTER_NEAREST)
    y, x = image.shape[0] - round(18 / 25.4 * dpi) - big.shape[0], image.shape[1] - round(8 / 25.4 * dpi) - big.shape[1]
    image[y:y + big.shape[0], x:x + big.shape[1]] = big
    data, kind = degrade(image, rng, False, False, dpi)
    return Scanned(data, kind, (code, 3))


def write_pdf(pages: list[Scanned], path: Path, dpi: int) -> Path:
    """A scanner's PDF: each page one image (JPEG pages as JPEG, black-and-white ones as they are)."""
    images = [Image.open(io.BytesIO(page.image)) for page in pages]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=dpi, quality=90)
    return path


def truth_sheets(truth: Truth, printed: Printed, folder: Path, parts: list[tuple[str, float]]) -> tuple[Path, Path]:
    """marks.csv and crosses.csv as the truth has them (``parts``: the exam's, with their points), for
    `examgen grade`."""
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    marks = [["code", "registration", "name", *(number for number, _ in parts)],
             ["max", "", "", *(f"{points:g}" for _, points in parts)]]
    crosses = [["code", "part", "crossed"]]
    for code in printed.codes:
        marks.append([code, "", "", *(f"{truth.points[code, number]:g}" if (code, number) in truth.points else ""
                                      for number, _ in parts)])
        crosses += [[code, part, " ".join(map(str, sorted(options)))] for (c, part), options in truth.crossed.items()
                    if c == code]
    for name, rows in (("marks.csv", marks), ("crosses.csv", crosses)):
        with open(folder / name, "w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows(rows)
    return folder / "marks.csv", folder / "crosses.csv"


CHECKBOX = (9.64, 0.6, 18.94)  # a check box's side, its frame's rule and the step to the next option (points)
GRADING_BOX = (11.91, 0.5, 15.59)  # the same for the grading boxes (4.2 mm, 5.5 mm apart)
SUPERSAMPLE = 4  # the printed strip is drawn this much finer and scaled down, as a renderer's anti-aliasing does
STRIP_WIDTH = 70.0  # points: a part's boxes and the start of their texts


@dataclass
class Patch:
    """A scanned strip of a page holding one part's boxes in a column: its image, where the scan's placement
    (off by what a QR code's placement leaves) puts the strip's points (x right, y down from its top) in it,
    and each box (points, y up, as layout.json has them) with the mark drawn into it."""

    gray: np.ndarray
    placement: np.ndarray
    height: float
    boxes: list
    marks: list[str]
    line: float


@cache
def _printed_strip(grading: bool, count: int, dpi: int) -> tuple[np.ndarray, float, tuple]:
    """A strip of a printed page with a column of ``count`` boxes and their texts beside them, rendered at dpi:
    its pixels (not to be changed), its height and its boxes (points, y up, as layout.json has them)."""
    from examgen.stages.positions import Box

    side, rule, step = GRADING_BOX if grading else CHECKBOX
    height = 2 * 14 + step * (count - 1) + side
    fine = dpi / 72 * SUPERSAMPLE
    canvas = np.full((round(height * fine), round(STRIP_WIDTH * fine)), 255, np.uint8)
    left = 14.0 if grading else 20.0
    boxes = tuple(Box(left, height - 14 - side - index * step, side, side) for index in range(count))
    for index, box in enumerate(boxes):
        top = height - box.y - box.height
        cv2.rectangle(canvas, (round(box.x * fine), round(top * fine)),
                      (round((box.x + side) * fine), round((top + side) * fine)), 0, max(1, round(rule * fine)))
        text_at = (box.x - 7.5, top + side * 0.85) if grading else (box.x + side + 8.5, top + side * 0.85)
        text = str(index) if grading else "Softmax, cross entropy"[: 4 + 3 * index]
        cv2.putText(canvas, text, (round(text_at[0] * fine), round(text_at[1] * fine)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.028 * fine, 0, max(1, round(0.7 * fine)), cv2.LINE_AA)
    image = cv2.resize(canvas, (round(STRIP_WIDTH * dpi / 72), round(height * dpi / 72)), interpolation=cv2.INTER_AREA)
    return image, height, boxes


def marked_patch(marks: list[str], grading: bool, dpi: int, rng: random.Random,
                 black_and_white: bool = False) -> Patch:
    """A part's boxes (options, or a grader's points) printed with their texts beside them, marked with
    ``marks`` by draw_mark and scanned as a page is (scanner_matrix, scanned_bytes), then decoded."""
    printed, height, boxes = _printed_strip(grading, len(marks), dpi)
    image = printed.copy()
    s = dpi / 72
    pen = rng.randint(40, 100) if grading else rng.randint(10, 70)
    for box, mark in zip(boxes, marks):
        draw_mark(image, box, mark, height, dpi, rng, pen, black_and_white)
    size = (image.shape[1], image.shape[0])
    matrix = scanner_matrix(rng, size, rng.random() < 0.3, dpi, shift_mm=1)
    image = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderValue=255)
    data, _ = scanned_bytes(image, rng, black_and_white)
    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    error = cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), rng.uniform(-0.3, 0.3), 1.0)
    error[:, 2] += [rng.uniform(-2, 2) * s, rng.uniform(-2, 2) * s]  # a QR code's placement: a point or two off
    placement = np.vstack([error, [0, 0, 1]]) @ np.vstack([matrix, [0, 0, 1]]) @ np.diag([s, s, 1.0])
    return Patch(gray, placement[:2], height, list(boxes), marks, (GRADING_BOX if grading else CHECKBOX)[1])


def scanned_copies(copies: Path, exam: str, codes: list[str], seed: int, dpi: int, folder: Path) -> list[Path]:
    """Every page of the copies ``codes`` marked as plan_marks(seed) has it (the same truth for any codes, so
    that processes can share the work), scanned in grayscale at ``dpi`` (JPEG; a third turned 180 degrees) into
    ``folder``, one file per page, as a scanner writes a bundle's pages."""
    from examgen.scanning.printed import read_printed

    printed = read_printed(copies, exam)
    truth = plan_marks(printed, random.Random(seed))
    paths = []
    for code in codes:
        rng = random.Random(f"{seed}/{code}")
        for page in range(1, printed.pages_per_copy + 1):
            scanned = scan_copy_page(printed, truth, code, page, rng, dpi, turn=rng.random() < 0.3)
            path = folder / f"{code}-{page:03d}.{scanned.kind}"
            path.write_bytes(scanned.image)
            paths.append(path)
    return paths


def jpegs_to_pdf(paths: list[Path], out: Path, dpi: int) -> Path:
    """A scanner's PDF of JPEG pages, each embedded as it is (not encoded again), read from its file as the PDF
    is written, so that a bundle of hundreds of pages is never in memory whole."""
    document = pdfium.PdfDocument.new()
    files = []
    try:
        for path in paths:
            with Image.open(path) as image:
                width, height = image.size
            page = document.new_page(width * 72 / dpi, height * 72 / dpi)
            picture = pdfium.PdfImage.new(document)
            files.append(open(path, "rb"))
            picture.load_jpeg(files[-1], inline=False, autoclose=False)
            picture.set_matrix(pdfium.PdfMatrix().scale(width * 72 / dpi, height * 72 / dpi))
            page.insert_obj(picture)
            page.gen_content()
            page.close()
        document.save(out)
    finally:
        document.close()
        for file in files:
            file.close()
    return out
