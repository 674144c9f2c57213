"""Which page of which copy a scanned page is, and where its printed page lies in the image.

The QR code (``CODE/PAGE/C``, codes.py) names the page; the centres of its three finder patterns,
against the QR box of layout.json, place the printed page in the image at any rotation, skew and
scale, and the whole symbol's modules then fit that placement to the scan. The QR code is a 12 mm base
for a 280 mm page, so that placement is up to half a point off at the far edge (four on a page
thresholded to black and white at 150 dpi); the boxes' own frames correct its shift (marks.refine). A
page whose QR code cannot be read, or whose check characters disagree, is unknown: it is never guessed
into a copy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..codes import check_character, mistyped
from ..stages.positions import Box

if TYPE_CHECKING:
    import numpy as np

PAYLOAD = re.compile(r"([A-Z0-9]+)-(\d+)-([A-Z0-9])/(\d+)/([A-Z0-9])")
CORNER_SHARE = (0.32, 0.26)  # the part of the width and height where a corner's search looks first
FEATURES = 5000  # ORB features of a page placed without its QR code, and of its printed page
RATIO = 0.8  # a feature's best match must be this much nearer than its second (Lowe's ratio test)
AGREEING_AT_LEAST = 40  # matches that agree on the placement, or the page is not placed
BED_SHARE = 0.04  # the scanner bed's margin around the page, as a share of its width (a guess; ORB spans scales)
CENTRE_PASSES = 5  # times a finder pattern's centre is found again around the last one
SYMBOL_QUIET = 2  # modules of paper around the QR code that its fit to the scan takes in
ECC_STEPS, ECC_EPS = 100, 1e-5  # the fit ends after so many steps, or when a step changes it by less
QR_MARGIN = 40  # pixels around a QR code found at half size in which it is read again at full size


@dataclass(frozen=True)
class Label:
    """What a page's QR code says: the copy's code and the page of the copy."""

    code: str
    exam_code: str
    page: int


@dataclass(frozen=True)
class Found:
    """A QR code found in a scan: its text and its corners in pixels (top left, top right, bottom right,
    bottom left of the symbol as printed)."""

    text: str
    corners: tuple[tuple[float, float], ...]


def parse_label(text: str) -> Label | None:
    """The copy and page a QR code's text names; None for a text that is not examgen's or whose check
    characters disagree (a misread)."""
    match = PAYLOAD.fullmatch(text)
    if not match:
        return None
    code = f"{match[1]}-{match[2]}-{match[3]}"
    page = int(match[4])
    if mistyped(code) or check_character(code + str(page)) != match[5] or page < 1:
        return None
    return Label(code, match[1], page)


def find_qr(gray: np.ndarray) -> Found | None:
    """The examgen QR code of a page (any rotation): first in the corners, where it is printed, in a half-size
    image (fast, and smoothing a noisy or dithered scan; read again where it was found at full size, for its
    corners to the pixel, which its placement starts from), then at full size; then anywhere, the same way."""
    import cv2
    import numpy as np
    import zxingcpp

    qr_only = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode])
    sizes = ((cv2.pyrDown(gray), 2.0), (gray, 1.0))
    for image, scale in sizes:
        height, width = image.shape
        across, down = int(width * CORNER_SHARE[0]), int(height * CORNER_SHARE[1])
        for x, y in ((width - across, height - down), (0, 0), (width - across, 0), (0, height - down)):
            found = _read(zxingcpp.read_barcodes(image[y:y + down, x:x + across], formats=qr_only), x, y, scale)
            if found and scale > 1:  # its corners at full size, where a module is twice the pixels
                corners = np.array(found.corners)
                (left, top), (right, bottom) = (corners.min(axis=0) - QR_MARGIN).astype(int), (
                    corners.max(axis=0) + QR_MARGIN).astype(int)
                left, top = max(left, 0), max(top, 0)
                found = _read(zxingcpp.read_barcodes(gray[top:bottom, left:right], formats=qr_only), left, top,
                              1.0) or found
            if found:
                return found
    for image, scale in sizes:
        found = _read(zxingcpp.read_barcodes(image, formats=qr_only), 0, 0, scale)
        if found:
            return found
    return None


def _read(results: list, x: int, y: int, scale: float) -> Found | None:
    """The first of zxing's results that is examgen's, its corners in the page's pixels (the results of an image
    at (x, y) of the page, ``scale`` times smaller)."""
    for result in results:
        if PAYLOAD.fullmatch(result.text):
            position = result.position
            points = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
            return Found(result.text, tuple(((x + p.x) * scale, (y + p.y) * scale) for p in points))
    return None


def qr_placement(found: Found, qr: Box, page_height: float, gray: np.ndarray) -> np.ndarray:
    """The affine map (2 x 3) from page points (x right, y down from the top left corner) to image
    pixels, from the centres of the QR code's three finder patterns (each found as the centre of the
    ink around where the decoder's corners put it, to a fraction of a pixel; the corners alone are a
    pixel or two off, a degree of turn over the page), then fitted to the whole symbol (``_on_symbol``)."""
    import numpy as np
    import segno

    matrix = segno.make_qr(found.text, error="m", boost_error=False, mask=0).matrix  # as copies.py prints it
    modules = len(matrix)
    corners = np.array(found.corners)
    across, down = (corners[1] - corners[0]) / modules, (corners[3] - corners[0]) / modules  # a module's steps
    finders, printed = [], []
    top = page_height - qr.y - qr.height
    step = qr.width / modules
    for column, row in ((3.5, 3.5), (modules - 3.5, 3.5), (3.5, modules - 3.5)):
        centre = corners[0] + column * across + row * down
        finders.append(_ink_centre(gray, centre, across, down))
        printed.append((qr.x + column * step, top + row * step))
    source = np.array([[x, y, 1.0] for x, y in printed])
    placement = np.linalg.solve(source, np.array(finders)).T
    return _on_symbol(gray, placement, qr, top, matrix)


def _on_symbol(gray: np.ndarray, placement: np.ndarray, qr: Box, top: float,
               matrix: tuple[bytearray, ...]) -> np.ndarray:
    """The placement fitted to the whole QR code as printed (``matrix``, its modules, with SYMBOL_QUIET of paper
    around): the affine map under which the scan matches the symbol best (OpenCV's ECC, from the finder
    patterns' map). Every module's edge counts, so a scan thresholded to whole pixels places the page as well
    as a grayscale one (three finder patterns' centres, a fraction of a pixel off each, turn the map by up to
    a degree or two there). The finder patterns' map stays where the match fails or moves the symbol by more
    than a module (another optimum: a damaged symbol)."""
    import cv2
    import numpy as np

    modules = len(matrix)
    pixels = float(np.sqrt(abs(np.linalg.det(placement[:, :2])))) * qr.width / modules  # a module in the scan
    per_module = max(2, round(pixels))
    symbol = np.full((modules + 2 * SYMBOL_QUIET,) * 2, 255, np.uint8)
    symbol[SYMBOL_QUIET:-SYMBOL_QUIET, SYMBOL_QUIET:-SYMBOL_QUIET] = np.where(np.array(matrix, bool), 0, 255)
    size = len(symbol) * per_module
    template = cv2.resize(symbol, (size, size), interpolation=cv2.INTER_NEAREST)
    step, quiet = qr.width / modules / per_module, SYMBOL_QUIET * qr.width / modules  # points: a pixel, the paper
    to_points = np.array([[step, 0, qr.x - quiet + step / 2], [0, step, top - quiet + step / 2], [0, 0, 1.0]])
    corners = np.array([[0, size, 0, size], [0, 0, size, size], [1, 1, 1, 1.0]])
    start = placement @ to_points
    ends = start @ corners
    (left, upper), (right, lower) = (np.maximum(ends.min(axis=1) - pixels, 0).astype(int),
                                     (ends.max(axis=1) + pixels).astype(int) + 1)
    offset = np.array([[0, 0, left], [0, 0, upper]], float)  # ECC works on its whole image: the symbol's part
    stop = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, ECC_STEPS, ECC_EPS)
    try:
        _, fitted = cv2.findTransformECC(template, gray[upper:lower, left:right], (start - offset).astype(np.float32),
                                         cv2.MOTION_AFFINE, stop)  # both smoothed by a 5 pixel Gaussian
    except cv2.error:  # no match
        return placement
    fitted = fitted.astype(np.float64) + offset
    if float(np.hypot(*((fitted - start) @ corners)).max()) > pixels:
        return placement
    return fitted @ np.linalg.inv(to_points)


def _ink_centre(gray: np.ndarray, centre: np.ndarray, across: np.ndarray, down: np.ndarray) -> np.ndarray:
    """The centre of a finder pattern: the centroid of the ink within four modules of ``centre`` (the
    pattern reaches 3.5, its white separator 4.5), found twice, the second time around the first."""
    import numpy as np

    reach = 4.0 * max(float(np.hypot(*across)), float(np.hypot(*down)))
    for _ in range(CENTRE_PASSES):
        left, top = int(max(centre[0] - reach, 0)), int(max(centre[1] - reach, 0))
        window = gray[top:int(centre[1] + reach) + 1, left:int(centre[0] + reach) + 1].astype(np.float64)
        if window.size == 0:
            return centre
        ink = np.clip(np.percentile(window, 95) - window, 0, None)
        total = ink.sum()
        if total == 0:
            return centre
        rows, columns = np.indices(ink.shape)
        centre = np.array([left + (columns * ink).sum() / total, top + (rows * ink).sum() / total])
    return centre


def print_placement(gray: np.ndarray, render: np.ndarray, dpi: float) -> np.ndarray | None:
    """The affine map from page points to image pixels of a page without a readable QR code, from the
    features (ORB) it shares with the page as printed (``render``, at ``dpi``): a turn, scale and shift
    fitted to the matches that agree (RANSAC); None where too few do. The boxes' frames then correct it
    as they correct the QR code's placement (marks.refine)."""
    import cv2
    import numpy as np

    factor = render.shape[1] / gray.shape[1] * (1 + 2 * BED_SHARE)  # the scan near the render's size
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    orb = cv2.ORB.create(FEATURES)
    printed_points, printed_features = orb.detectAndCompute(render, None)
    scanned_points, scanned_features = orb.detectAndCompute(small, None)
    if printed_features is None or scanned_features is None:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(printed_features, scanned_features, k=2)
    good = [pair[0] for pair in pairs if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance]
    if len(good) < AGREEING_AT_LEAST:
        return None
    source = np.array([printed_points[match.queryIdx].pt for match in good], np.float32)
    target = np.array([scanned_points[match.trainIdx].pt for match in good], np.float32)
    fitted, agreeing = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    if fitted is None or int(agreeing.sum()) < AGREEING_AT_LEAST:
        return None
    to_render = np.diag([dpi / 72, dpi / 72, 1.0])
    return (np.diag([1 / factor, 1 / factor, 1.0]) @ np.vstack([fitted, [0, 0, 1]]) @ to_render)[:2]


def rotation(placement: np.ndarray) -> int:
    """How far the page is turned in the scan, to the nearest quarter turn (0, 90, 180, 270 clockwise)."""
    import math

    angle = math.degrees(math.atan2(placement[1, 0], placement[0, 0]))
    return int(round(angle / 90)) % 4 * 90
