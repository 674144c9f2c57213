"""What is in a box: empty, crossed, filled (a cross undone, as the cover says), or unclear.

A box is cut out of the scan at READ_DPI on the printed page's grid and its printed frame found
near where the page's placement puts it (``refine`` first corrects the placement by the frames of
the page), each of its four lines then on its own, so a box is read where it is, not where it
should be; only its inside, clear of the frame, is read. Pixels are ink by how much darker than
the paper around the box they are: ``dark`` (a pen) or ``faint`` (a pencil, a trace). A cross is ink
in the four corners and the middle of the box, with paper between its arms (in each of the four
triangles its diagonals cut at the edges: a thick pen's cross at 150 dpi leaves little); a fill is
nearly all dark, those triangles too. Everything else (a faint stroke, a half-filled box, a single
line, a line from the next box) is unclear: flagged for a person, never guessed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ..stages.positions import Box

if TYPE_CHECKING:
    import numpy as np

READ_DPI = 200
SEARCH = 13.0  # points around where the QR code places a box that its frame is looked for
NUDGE = 1.5  # points around where the frames' shift places a box that its frame is looked for again
FIT_WITHIN = 0.5  # points a frame may be from where the shift of all frames puts it (a pixel at 150 dpi)
EMPTY_INK = 0.05  # the most mean ink inside a frame that refine takes for an empty box's
SIDE_NUDGE = 2  # pixels at READ_DPI around where the frame's match puts a side that the side is looked for
SIDE_AT_LEAST = 0.15  # how much darker a side's line must be than what is beside it to move the side
PAD = 2.5  # points of the page around a frame's search, so that its line's strip lies inside the cut
CLEAR_OF_FRAME = 0.9  # points between the frame's inner edge and what is read
EMPTY_CLEAR_OF_FRAME = 1.4  # points between the frame's inner edge and where an empty box has no ink (a blurred
# frame's edge reaches past CLEAR_OF_FRAME; a cross's paper between its arms is widest at the frame)
DARK, FAINT = 0.5, 0.2  # ink levels (0 paper, 1 black) of a pen's and a pencil's pixel
EMPTY_AT_MOST = 0.025  # share of faint pixels an empty box may have (dust, noise)
FILLED_AT_LEAST = 0.85  # share of dark pixels of a filled box, and of each triangle at its edges
CROSS_SHARE = (0.06, 0.88)  # the share of dark pixels a cross leaves
BETWEEN_ARMS = (0.04, 0.2)  # the least share of paper between a cross's arms, in each triangle the diagonals cut at
# an edge and in the four on average: a thick pen's cross at 150 dpi leaves little paper on a side (a fill none)
CROSS_CORNER, CROSS_MIDDLE = 0.06, 0.15  # the least dark share of each corner ninth and the middle one
FRAME_AT_LEAST = 0.04  # the least mean ink along each side of a frame that is found (a printed line: 0.1-0.5;
# a thin one thresholded to black and white at 150 dpi keeps a third of its pixels)
BESIDE = (2.5, 7.0)  # points from a check box's side to where a mark beside it is looked for (its text is 8.5 away)
BESIDE_HEIGHT = 0.6  # the middle share of the box's height where a mark beside it is looked for
MARKED_BESIDE_AT_LEAST = 0.03  # share of dark pixels beside a box that is a mark, not dust

EMPTY, CROSSED, FILLED, UNCLEAR = "empty", "crossed", "filled", "unclear"
MISPLACED = "a box of its part has no frame where it was printed: the part may be placed a box off"
NO_FRAME = "its printed frame is not where it should be (the page is damaged or misplaced)"
Pair = tuple[tuple[float, float], tuple[float, float]]  # a frame's centre as printed (points) and as found


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

    flat = patch.ravel()
    at = int(flat.size * 0.9)
    paper = max(float(np.partition(flat, at)[at]), 96.0)  # the 90th percentile
    return np.clip((paper - patch.astype(np.float32)) / (paper * 0.85), 0.0, 1.0)


@cache
def _beyond(height: int, width: int, search_px: float) -> np.ndarray:
    """Where offsets from the middle of a (height, width) grid of scores are more than search_px away."""
    import numpy as np

    return np.hypot(*np.mgrid[0:height, 0:width] - (np.array([height - 1, width - 1]) / 2)[:, None, None]) > search_px


def _frame_scores(ink: np.ndarray, box_px: float, line_px: float, search_px: float) -> np.ndarray:
    """How clearly a frame shows at each offset from the patch's centre (pixels; -1 beyond ``search_px``): the
    mean ink of a strip along each side's line (two pixels wider than the line on
    both sides, so that a blurred or slightly turned line counts whole; clear of the corners, where the other
    sides' lines and a cross's strokes run), on its palest side, so that a place where only two sides meet other
    ink (between two boxes, along a cross's thick strokes) is no frame."""
    import cv2
    import numpy as np

    line, band = max(2, round(line_px) + 1), 2
    size = round(box_px) + line + 2 * band
    strip = corner = line + 2 * band
    along = size - 2 * corner
    height, width = ink.shape[0] - size + 1, ink.shape[1] - size + 1
    rows = cv2.boxFilter(ink, -1, (along, strip), anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
    columns = cv2.boxFilter(ink, -1, (strip, along), anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
    far = size - strip
    across, down = slice(corner, corner + width), slice(corner, corner + height)
    scores = np.minimum(np.minimum(rows[:height, across], rows[far:far + height, across]),
                        np.minimum(columns[down, :width], columns[down, far:far + width]))
    scores[_beyond(height, width, search_px)] = -1.0
    return scores


def _best(scores: np.ndarray) -> tuple[int, int, float]:
    """The offset from the middle of a grid of scores (pixels, x right and y down) where the score is highest,
    and that score."""
    import cv2

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
    return ink, *_best(_frame_scores(ink, box.width * per_point, line * per_point, search * per_point))


def refine(gray: np.ndarray, placement: np.ndarray, parts: list[list[tuple[Box, float]]],
           page_height: float) -> np.ndarray:
    """The placement shifted onto where the page's box frames are: each part's boxes (a column of them, each
    with its frame's rule) looked for together, at one offset within SEARCH points of where the placement puts
    them (where the boxes of a column look alike, a column placed a box off leaves a box on paper: together
    they are found where they are); the shift that agrees with the parts' boxes (``_shift``). A shift only:
    the QR code's whole symbol turns and scales the map better than frames found to a pixel do (a turn fitted
    to a few columns' whole-pixel offsets moved the far margin by points). The boxes found empty first (a
    stroke over a frame pulls its search, most of all where a thin frame scanned in black and white is
    broken), then all but the filled ones (a fill hides its frame). The placement stays where none agree."""
    import numpy as np

    per_point = READ_DPI / 72
    empty: list[Pair] = []
    marked: list[Pair] = []
    for boxes in parts:
        found = []
        for box, line in boxes:
            reach = SEARCH + PAD + line
            area = Box(box.x - reach, box.y - reach, box.width + 2 * reach, box.height + 2 * reach)
            ink = ink_of(cut(gray, placement, area, page_height, READ_DPI))
            found.append((ink, _frame_scores(ink, box.width * per_point, line * per_point, SEARCH * per_point)))
        height, width = min(scores.shape[0] for _, scores in found), min(scores.shape[1] for _, scores in found)
        together = np.mean([_middle(scores, height, width) for _, scores in found], axis=0)
        dx, dy, frame = _best(together)
        if frame < FRAME_AT_LEAST:
            continue
        for (box, line), (ink, _) in zip(boxes, found):
            inked = float(_inside(ink, dx, dy, box, line, SEARCH, each_side=False).mean())
            if inked < DARK:
                centre = (box.x + box.width / 2, page_height - box.y - box.height / 2)
                (empty if inked < EMPTY_INK else marked).append(
                    (centre, (centre[0] + dx / per_point, centre[1] + dy / per_point)))
    for pairs in (empty, empty + marked):
        correction = _shift(list(pairs))
        if correction is not None:
            return placement @ correction
    return placement


def _middle(scores: np.ndarray, height: int, width: int) -> np.ndarray:
    """The middle (height, width) of a grid of scores (grids of boxes of different sizes differ by a pixel)."""
    top, left = (scores.shape[0] - height) // 2, (scores.shape[1] - width) // 2
    return scores[top:top + height, left:left + width]


def _shift(pairs: list[Pair]) -> np.ndarray | None:
    """The shift (3 x 3) that moves the printed frames' centres onto where they were found, the frame farthest
    off it left out while one is more than FIT_WITHIN off (a frame found in the wrong place pulls the shift
    towards it); None where fewer than two frames stay."""
    import numpy as np

    while len(pairs) >= 2:
        dx, dy = np.mean([(u - x, v - y) for (x, y), (u, v) in pairs], axis=0)
        off = [float(np.hypot(x + dx - u, y + dy - v)) for (x, y), (u, v) in pairs]
        worst = int(np.argmax(off))
        if off[worst] <= FIT_WITHIN:
            return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1.0]])
        del pairs[worst]
    return None


def read_box(gray: np.ndarray, placement: np.ndarray, box: Box, line: float, page_height: float,
             option: bool = False) -> BoxState:
    """What the box (PDF points; its frame drawn with a ``line`` wide rule centred on it) holds, read where its
    frame is, within NUDGE points of where the refined placement puts it. An ``option``'s filled box with a
    mark beside it may be the cover's re-marking of an undone cross: unclear, for a person."""
    ink, dx, dy, frame = _frame(gray, placement, box, line, page_height, NUDGE)
    if frame < FRAME_AT_LEAST:
        return BoxState(UNCLEAR, 0.0, NO_FRAME)
    state = classify(_inside(ink, dx, dy, box, line, NUDGE))
    if option and state.state == FILLED and _marked_beside(gray, _shifted(placement, dx, dy), box, page_height):
        return BoxState(UNCLEAR, state.dark, "a filled box with a mark beside it: an option marked again?")
    return state


def read_part(states: list[BoxState]) -> list[BoxState]:
    """A part's boxes as read, unclear all where one's frame is not where it was printed: a part placed a box
    off (the boxes of a column look alike) has one box beyond its column, on paper, and the others each read on
    its neighbour's place."""
    if not any(state.why == NO_FRAME for state in states):
        return states
    return [state if state.state == UNCLEAR else BoxState(UNCLEAR, state.dark, MISPLACED) for state in states]


def _inside(ink: np.ndarray, dx: float, dy: float, box: Box, line: float, search: float,
            each_side: bool = True) -> np.ndarray:
    """The ink inside a box's frame (clear of it by CLEAR_OF_FRAME), the frame found at (dx, dy) in ``ink`` (the
    ink around the box that ``_frame`` cut with ``search``) and (``each_side``) each of its sides then found on
    its own, within SIDE_NUDGE pixels: where the scan's box is a pixel larger or smaller than printed, or the
    frame's match was pulled by a stroke over its corners, the inside still ends at each of its lines."""
    import numpy as np

    per_point = READ_DPI / 72
    start = (search + PAD + line) * per_point
    top, left = start + dy, start + dx
    bottom, right = top + box.height * per_point, left + box.width * per_point
    rows = slice(round(top + (bottom - top) / 8), round(bottom - (bottom - top) / 8))
    columns = slice(round(left + (right - left) / 8), round(right - (right - left) / 8))
    clear = (line / 2 + CLEAR_OF_FRAME) * per_point

    def side(at: float, across: np.ndarray) -> float:
        """Where a side's line is: the darkest of the median ink profiles across it (``across``: rows or
        columns of ink near ``at``, the middle of the side along them)."""
        first = max(0, round(at) - SIDE_NUDGE)
        strip = np.sort(across[first:round(at) + SIDE_NUDGE + 1], axis=1)
        profile = strip[:, strip.shape[1] // 2]  # the median along the side
        if profile.size == 0 or float(profile.max() - profile.min()) < SIDE_AT_LEAST:
            return at
        return first + float(np.argmax(profile - 0.01 * abs(np.arange(profile.size) + first - at)))

    if each_side:
        top, bottom = side(top, ink[:, columns]), side(bottom, ink[:, columns])
        left, right = side(left, ink[rows].T), side(right, ink[rows].T)
    return ink[round(top + clear):round(bottom - clear), round(left + clear):round(right - clear)]


def _shifted(placement: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The placement moved by (dx, dy) pixels at READ_DPI on the printed page: onto where a box's frame was found."""
    import numpy as np

    per_point = READ_DPI / 72
    return placement @ np.array([[1, 0, dx / per_point], [0, 1, dy / per_point], [0, 0, 1.0]])


def _marked_beside(gray: np.ndarray, placement: np.ndarray, box: Box, page_height: float) -> bool:
    """Whether there is a mark just left or right of a box, between it and its margin or its option's text, at
    the box's middle height (where the cover's sample puts it; a cross's strokes past the box's corners do not
    reach there)."""
    near, far = BESIDE
    middle = Box(box.x, box.y + box.height * (1 - BESIDE_HEIGHT) / 2, box.width, box.height * BESIDE_HEIGHT)
    strips = (Box(middle.x + middle.width + near, middle.y, far - near, middle.height),
              Box(middle.x - far, middle.y, far - near, middle.height))
    return any(float((ink_of(cut(gray, placement, strip, page_height, READ_DPI)) > DARK).mean())
               >= MARKED_BESIDE_AT_LEAST for strip in strips)


@cache
def _regions(height: int, width: int) -> tuple[list[tuple[slice, slice]], list[np.ndarray]]:
    """A box's inside (height, width) in ninths (row by row) and in the four triangles its diagonals cut at the
    edges (top, bottom, left, right), where a cross leaves paper between its arms."""
    import numpy as np

    def thirds(size: int) -> list[slice]:
        cuts = [0, *(round(size * share) for share in (1 / 3, 2 / 3)), size]
        return [slice(start, end) for start, end in zip(cuts, cuts[1:])]

    y, x = (np.mgrid[0:height, 0:width] + 0.5) / np.array([height, width])[:, None, None]
    return ([(rows, columns) for rows in thirds(height) for columns in thirds(width)],
            [y < 0.5 - abs(x - 0.5), y > 0.5 + abs(x - 0.5), x < 0.5 - abs(y - 0.5), x > 0.5 + abs(y - 0.5)])


def classify(inside: np.ndarray) -> BoxState:
    """A box's inside (ink levels, READ_DPI, clear of the frame by CLEAR_OF_FRAME) as empty, crossed, filled or
    unclear."""
    dark_pixels = inside > DARK
    dark = float(dark_pixels.mean())
    rim = round((EMPTY_CLEAR_OF_FRAME - CLEAR_OF_FRAME) * READ_DPI / 72)
    faint = float((inside[rim:inside.shape[0] - rim, rim:inside.shape[1] - rim] > FAINT).mean())
    if faint <= EMPTY_AT_MOST:
        return BoxState(EMPTY, dark)
    ninths, sides = _regions(*inside.shape)
    shares = [float(dark_pixels[ninth].mean()) for ninth in ninths]
    corners = (shares[0], shares[2], shares[6], shares[8])
    paper = tuple(1 - float(dark_pixels[side].mean()) for side in sides)
    if dark >= FILLED_AT_LEAST and max(paper) <= 1 - FILLED_AT_LEAST:
        return BoxState(FILLED, dark)
    if (CROSS_SHARE[0] <= dark <= CROSS_SHARE[1] and min(corners) >= CROSS_CORNER and shares[4] >= CROSS_MIDDLE
            and min(paper) >= BETWEEN_ARMS[0] and sum(paper) / 4 >= BETWEEN_ARMS[1]):
        return BoxState(CROSSED, dark)
    if dark < CROSS_SHARE[0]:
        why = "a faint or small mark"
    elif dark > CROSS_SHARE[1]:
        why = "partly filled"
    else:
        why = "a stroke that is not a cross"
    return BoxState(UNCLEAR, dark, why)
