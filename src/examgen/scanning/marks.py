"""What is in a box: empty, crossed, filled (a cross undone, as the cover says), or unclear.

A box is cut out of the scan at READ_DPI on the printed page's grid and its printed frame found
near where the page's placement puts it (``refine`` first corrects the placement by all frames of
the page), so a box is read where it is, not where it should be; only its inside, clear of the
frame, is read. Pixels are ink by how much darker than
the paper around the box they are: ``dark`` (a pen) or ``faint`` (a pencil, a trace). A cross is ink
in the four corners and the middle of the box, with paper between its arms; a fill is nearly all dark.
Everything else (a faint stroke, a half-filled box, a single line, a line from the next box) is
unclear: flagged for a person, never guessed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..stages.positions import Box

if TYPE_CHECKING:
    import numpy as np

READ_DPI = 200
SEARCH = 6.0  # points around where the QR code places a box that its frame is looked for
NUDGE = 1.5  # points around where the frames' fit places a box that its frame is looked for again
FIT_WITHIN = 1.0  # points a frame may be from where the fit of all frames puts it
PAD = 2.5  # points of paper around the frame that the frame's search compares against
CLEAR_OF_FRAME = 1.4  # points between the frame's inner edge and what is read
DARK, FAINT = 0.5, 0.2  # ink levels (0 paper, 1 black) of a pen's and a pencil's pixel
EMPTY_AT_MOST = 0.025  # share of faint pixels an empty box may have (dust, noise)
FILLED_AT_LEAST = 0.85  # share of dark pixels of a filled box, and of each ninth along its edges
CROSS_SHARE = (0.06, 0.88)  # the share of dark pixels a cross leaves
CROSS_EDGE = 0.4  # the most dark share between a cross's arms, near the middle of each edge
BETWEEN_ARMS = 0.24  # how far from both diagonals (by the box's side) is between a cross's arms
CROSS_CORNER, CROSS_MIDDLE = 0.06, 0.15  # the least dark share of each corner ninth and the middle one
FRAME_AT_LEAST = 0.15  # how much darker the frame's line must be than the paper beside it to be found
BESIDE = (2.0, 7.0)  # points from a check box's side to where a mark beside it is looked for (its text is 8.5 away)
MARKED_BESIDE_AT_LEAST = 0.03  # share of dark pixels beside a box that is a mark, not dust

EMPTY, CROSSED, FILLED, UNCLEAR = "empty", "crossed", "filled", "unclear"


@dataclass(frozen=True)
class BoxState:
    """What a box holds, and for an unclear one why."""

    state: str
    dark: float  # the share of dark pixels inside
    why: str = ""


def cut(gray: np.ndarray, placement: np.ndarray, area: Box, page_height: float, dpi: float) -> np.ndarray:
    """The part of the scan that shows ``area`` of the printed page (PDF points, y up), at ``dpi``."""
    import cv2
    import numpy as np

    scale = 72 / dpi
    left, top = area.x, page_height - area.y - area.height
    into = placement @ np.array([[scale, 0, left], [0, scale, top], [0, 0, 1.0]])
    size = (max(1, round(area.width / scale)), max(1, round(area.height / scale)))
    return cv2.warpAffine(gray, into, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def ink_of(patch: np.ndarray) -> np.ndarray:
    """How dark each pixel is against the paper around it: 0 paper, 1 black."""
    import numpy as np

    paper = max(float(np.percentile(patch, 90)), 96.0)
    return np.clip((paper - patch.astype(np.float32)) / (paper * 0.85), 0.0, 1.0)


def _frame_offset(ink: np.ndarray, box_px: float, line_px: float) -> tuple[int, int, float]:
    """Where the frame is in the patch (its offset from the patch's centre, in pixels) and how much darker
    its line is there than the paper beside it: a ring where the line is, against bands on both sides."""
    import cv2
    import numpy as np

    ring, band = max(2, round(line_px + 1)), 2
    size = round(box_px) + ring + 2 * band
    template = np.full((size, size), -1, np.float32)

    def square(side: int, value: float) -> None:
        start = (size - side) // 2
        template[start:start + side, start:start + side] = value

    square(round(box_px) + ring, 1)
    square(round(box_px) - ring, -1)
    square(round(box_px) - ring - 2 * band, 0)
    on = template > 0
    template[on] /= on.sum()
    template[template < 0] /= -(template < 0).sum()
    scores = cv2.matchTemplate(ink, template, cv2.TM_CCORR)
    _, best, _, (x, y) = cv2.minMaxLoc(scores)
    return round(x - (scores.shape[1] - 1) / 2), round(y - (scores.shape[0] - 1) / 2), float(best)


def _frame(gray: np.ndarray, placement: np.ndarray, box: Box, line: float, page_height: float,
           search: float) -> tuple[np.ndarray, float, float, float]:
    """The ink around a box (``search`` points beyond it, and PAD), where its frame is in it (an offset from
    where ``placement`` puts it, in pixels at READ_DPI, x right and y down) and how clearly it shows."""
    reach = search + PAD + line
    area = Box(box.x - reach, box.y - reach, box.width + 2 * reach, box.height + 2 * reach)
    ink = ink_of(cut(gray, placement, area, page_height, READ_DPI))
    per_point = READ_DPI / 72
    dx, dy, frame = _frame_offset(ink, box.width * per_point, line * per_point)
    return ink, dx, dy, frame


def refine(gray: np.ndarray, placement: np.ndarray, boxes: list[tuple[Box, float]], page_height: float) -> np.ndarray:
    """The placement corrected by where the page's box frames are (each looked for SEARCH points around where
    the placement puts it): a turn, scale and shift fitted to them, frames that disagree by more than a point
    left out. The QR code's placement stays where fewer than two frames are found."""
    import numpy as np

    per_point = READ_DPI / 72
    pairs = []
    for box, line in boxes:
        _, dx, dy, frame = _frame(gray, placement, box, line, page_height, SEARCH)
        if frame >= FRAME_AT_LEAST:
            centre = (box.x + box.width / 2, page_height - box.y - box.height / 2)
            pairs.append((centre, (centre[0] + dx / per_point, centre[1] + dy / per_point)))
    for _ in range(3):
        if len(pairs) < 2:
            return placement
        rows, targets = [], []
        for (x, y), (u, v) in pairs:  # a similarity: u = a x - b y + c, v = b x + a y + d
            rows += [[x, -y, 1, 0], [y, x, 0, 1]]
            targets += [u, v]
        (a, b, c, d), *_ = np.linalg.lstsq(np.array(rows, float), np.array(targets, float), rcond=None)
        correction = np.array([[a, -b, c], [b, a, d], [0, 0, 1]])
        kept = [((x, y), (u, v)) for (x, y), (u, v) in pairs
                if np.hypot(*(correction @ [x, y, 1])[:2] - np.array([u, v])) <= FIT_WITHIN]
        if len(kept) == len(pairs):
            return placement @ correction
        pairs = kept
    return placement


def read_box(gray: np.ndarray, placement: np.ndarray, box: Box, line: float, page_height: float,
             option: bool = False) -> BoxState:
    """What the box (PDF points; its frame drawn with a ``line`` wide rule centred on it) holds, read where its
    frame is, within NUDGE points of where the refined placement puts it. An ``option``'s filled box with a
    mark beside it may be the cover's re-marking of an undone cross: unclear, for a person."""
    ink, dx, dy, frame = _frame(gray, placement, box, line, page_height, NUDGE)
    if frame < FRAME_AT_LEAST:
        return BoxState(UNCLEAR, 0.0, "its printed frame is not where it should be (the page is damaged or misplaced)")
    per_point = READ_DPI / 72
    inset = (NUDGE + PAD + line + line / 2 + CLEAR_OF_FRAME) * per_point
    inside = ink[round(inset + dy):round(inset + dy + (box.height - line - 2 * CLEAR_OF_FRAME) * per_point),
                 round(inset + dx):round(inset + dx + (box.width - line - 2 * CLEAR_OF_FRAME) * per_point)]
    state = classify(inside)
    if option and state.state == FILLED and _marked_beside(gray, placement, box, page_height):
        return BoxState(UNCLEAR, state.dark, "a filled box with a mark beside it: an option marked again?")
    return state


def _marked_beside(gray: np.ndarray, placement: np.ndarray, box: Box, page_height: float) -> bool:
    """Whether there is a mark just left or right of a box, between it and its margin or its option's text."""
    near, far = BESIDE
    strips = (Box(box.x + box.width + near, box.y, far - near, box.height),
              Box(box.x - far, box.y, far - near, box.height))
    return any(float((ink_of(cut(gray, placement, strip, page_height, READ_DPI)) > DARK).mean())
               >= MARKED_BESIDE_AT_LEAST for strip in strips)


def classify(inside: np.ndarray) -> BoxState:
    """A box's inside (ink levels) as empty, crossed, filled or unclear."""
    import numpy as np

    dark_pixels = inside > DARK
    dark = float(dark_pixels.mean())
    faint = float((inside > FAINT).mean())
    if faint <= EMPTY_AT_MOST:
        return BoxState(EMPTY, dark)
    rows = np.array_split(np.arange(inside.shape[0]), 3)
    columns = np.array_split(np.arange(inside.shape[1]), 3)
    ninths = [[float(dark_pixels[np.ix_(r, c)].mean()) for c in columns] for r in rows]
    corners = (ninths[0][0], ninths[0][2], ninths[2][0], ninths[2][2])
    height, width = inside.shape
    y, x = (np.mgrid[0:height, 0:width] + 0.5) / np.array([height, width])[:, None, None]
    apart = np.minimum(abs(x - y), abs(x + y - 1)) / np.sqrt(2)  # how far from both diagonals, by the box's side
    between = apart > BETWEEN_ARMS
    edges = tuple(float(dark_pixels[between & side].mean())
                  for side in (y < 0.5 - abs(x - 0.5), y > 0.5 + abs(x - 0.5), x < 0.5 - abs(y - 0.5),
                               x > 0.5 + abs(y - 0.5)))  # the four triangles between a cross's arms, at their edges
    if dark >= FILLED_AT_LEAST and min(edges) >= FILLED_AT_LEAST:
        return BoxState(FILLED, dark)
    if (CROSS_SHARE[0] <= dark <= CROSS_SHARE[1] and min(corners) >= CROSS_CORNER and ninths[1][1] >= CROSS_MIDDLE
            and max(edges) <= CROSS_EDGE):
        return BoxState(CROSSED, dark)
    if dark < CROSS_SHARE[0]:
        why = "a faint or small mark"
    elif dark > CROSS_SHARE[1]:
        why = "partly filled"
    else:
        why = "a stroke that is not a cross"
    return BoxState(UNCLEAR, dark, why)
