"""The reading of single boxes against the scan simulator (tests/scansim.py) at box level: tens of
thousands of boxes, each part's column of boxes printed, marked and scanned as a page is (150, 200
and 300 dpi; grayscale JPEG at quality 50-90 or black and white; turned, skewed, scaled, blurred,
noised), placed a point or two off as a QR code places it, then refined and read as `examgen scan`
reads a page. Clear marks are read right or flagged (at most 1 %); an ambiguous mark is always
flagged. tests/test_scan.py reads whole simulated pages."""

from __future__ import annotations

import random
from collections import Counter

import cv2
import numpy as np
import pytest
import scansim

from examgen.scanning.marks import CROSSED, EMPTY, FILLED, UNCLEAR, classify, read_box, refine

EXPECTED = {"empty": EMPTY, "cross": CROSSED, "fill": FILLED, "cross-fill": FILLED}
CLEAR_BOXES_AT_LEAST = 20_000
FLAGGED_AT_MOST = 0.01  # of the clear marks (the goal)


def _part(rng: random.Random) -> tuple[list[str], bool]:
    """A part's marks: a choice part's options (some crossed, filled, or crosses undone), or a grader's column of
    points with one crossed (and now and then another crossed and undone); one part in six has an ambiguous mark,
    an option's filled box re-marked beside it among them."""
    grading = rng.random() < 0.4
    if grading:
        marks = ["empty"] * rng.randint(3, 8)
        marks[rng.randrange(len(marks))] = "cross"
        marks = ["cross-fill" if mark == "empty" and rng.random() < 0.08 else mark for mark in marks]
    else:
        marks = [rng.choices(scansim.CLEAR, (5, 4, 1, 1))[0] for _ in range(rng.randint(4, 7))]
    if rng.random() < 1 / 6:
        marks[rng.randrange(len(marks))] = rng.choice(scansim.AMBIGUOUS + (() if grading else (scansim.RE_MARKED,)))
    return marks, grading


def test_clear_marks_are_read_and_ambiguous_ones_flagged_in_20000_simulated_boxes():
    rng = random.Random(24)
    read: Counter[tuple[str, str]] = Counter()  # (mark, state read)
    missed = []
    dpis = (150, 200, 300)
    part = 0
    while sum(count for (mark, _), count in read.items() if mark in EXPECTED) < CLEAR_BOXES_AT_LEAST:
        marks, grading = _part(rng)
        dpi, black_and_white = dpis[part % 3], rng.random() < 0.25
        patch = scansim.marked_patch(marks, grading, dpi, rng, black_and_white)
        placement = refine(patch.gray, patch.placement, [[(box, patch.line) for box in patch.boxes]], patch.height)
        for box, mark in zip(patch.boxes, marks):
            state = read_box(patch.gray, placement, box, patch.line, patch.height, option=not grading)
            read[mark, state.state] += 1
            if mark not in EXPECTED and state.state != UNCLEAR:
                missed.append((part, mark, dpi, black_and_white, state))
        part += 1
    clear = {mark: sum(count for (m, _), count in read.items() if m == mark) for mark in EXPECTED}
    wrong = {(mark, state): count for (mark, state), count in read.items()
             if mark in EXPECTED and state not in (EXPECTED[mark], UNCLEAR)}
    flagged = sum(read[mark, UNCLEAR] for mark in EXPECTED)
    ambiguous = {mark: sum(count for (m, _), count in read.items() if m == mark)
                 for mark in (*scansim.AMBIGUOUS, scansim.RE_MARKED)}
    print(f"{part} parts, clear marks {clear}, flagged {flagged} ({flagged / sum(clear.values()):.2%}); "
          f"ambiguous {ambiguous}")
    assert not wrong, wrong
    assert not missed, missed[:10]
    assert flagged <= FLAGGED_AT_MOST * sum(clear.values()), (flagged, read)
    assert min(clear.values()) >= 1000 and min(ambiguous.values()) >= 50, (clear, ambiguous)


@pytest.mark.parametrize("mark, state", [("empty", EMPTY), ("cross", CROSSED), ("fill", FILLED), ("half", UNCLEAR),
                                         ("single", UNCLEAR), ("stray", UNCLEAR), ("faint", UNCLEAR)])
def test_a_box_drawn_square_on_the_reading_grid_is_read_as_drawn(mark, state):
    """classify alone, on a box's inside drawn on the reading grid (200 dpi, no scanner): the shapes it tells
    apart, with a pen of 0.45 mm."""
    from examgen.stages.positions import Box

    image = np.full((100, 100), 255, np.uint8)
    box = Box(10, 10, 9.64, 9.64)
    scansim.draw_mark(image, box, mark, 36, 200, random.Random(1), 20)
    per_point = 200 / 72
    clear = 0.3 + 0.9  # the frame's half line and the clearance classify is given
    top, left = (36 - box.y - box.height + clear) * per_point, (box.x + clear) * per_point
    side = (box.width - 2 * clear) * per_point
    inside = 1 - image[round(top):round(top + side), round(left):round(left + side)].astype(np.float32) / 255
    assert classify(cv2.GaussianBlur(inside, (0, 0), 0.5)).state == state
