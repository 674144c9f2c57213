"""MNIST-like 28x28 digit images for the figures of the 2022 endterm.

Each digit is a set of pen strokes (polylines in a 28 x 28 frame, y pointing up),
slanted, scaled and shifted a little per sample, and rasterised with a soft pen
into grey values 0..1 that are quantised to a few levels, as TikZ draws them as
small squares. Deterministic: the same seed gives the same images.
"""

from __future__ import annotations

import math
import random


def _arc(cx, cy, rx, ry, start, stop, n=24):
    """Points on an elliptic arc from angle `start` to `stop` (degrees, counter-clockwise if stop > start)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in (start + (stop - start) * i / n for i in range(n + 1))]


STROKES = {
    0: [_arc(14, 14, 5.5, 9, 90, 450, 40)],
    1: [[(12.5, 21), (15.5, 23.5), (13.5, 4.5)]],
    2: [_arc(14, 18.5, 5, 5, 160, -20, 20) + [(9, 5), (20, 5)]],
    3: [_arc(14, 18.8, 4.6, 4.4, 160, -90, 20) + _arc(14, 9.6, 5.2, 5.2, 90, -150, 20)[1:]],
    4: [[(16.5, 23.5), (8.5, 10), (21, 10)], [(17, 17), (17, 4)]],
    5: [[(19.5, 23), (10.5, 23), (9.8, 15.2)] + _arc(13.8, 10.2, 5.6, 5.6, 130, -150, 22)],
    6: [[(18.5, 23.5), (14, 20), (10.5, 14), (9.3, 9)] + _arc(14, 9, 4.7, 4.7, 180, 540, 30)],
    7: [[(8.5, 23), (20, 23), (12.5, 4.5)], [(11, 14), (18, 14)]],
    8: [_arc(14, 18.8, 4.2, 4.2, -90, 270, 28), _arc(14, 9.3, 5.2, 5, 90, 450, 32)],
    9: [_arc(14, 18, 4.6, 4.6, 0, 360, 30), [(18.6, 18), (17.8, 10), (16.5, 4.5)]],
}


def _resample(points, step=0.35):
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return out


def digit_image(digit: int, seed: int, levels: int = 4, size: int = 28) -> list[list[int]]:
    """One handwritten-looking digit: a list of [x, y, level] for the lit pixels
    (x from the left, y from the bottom, level 1..levels)."""
    rng = random.Random(f"{digit}-{seed}")
    slant = rng.uniform(-0.28, 0.12)
    scale = rng.uniform(0.88, 1.04)
    dx, dy = rng.uniform(-1.2, 1.2), rng.uniform(-0.8, 0.8)
    pen = rng.uniform(1.25, 1.7)
    wobble = [rng.uniform(0, 2 * math.pi) for _ in range(2)]
    points = []
    for stroke in STROKES[digit]:
        for x, y in _resample(stroke):
            x += 0.45 * math.sin(y / 3.1 + wobble[0])
            y += 0.35 * math.sin(x / 2.7 + wobble[1])
            x, y = 14 + (x - 14) * scale + slant * (y - 14), 14 + (y - 14) * scale
            points.append((x + dx, y + dy))
    # Squared distance from each pixel centre to the nearest pen point less than 3 away:
    # each point updates only the pixels around it.
    nearest: dict[tuple[int, int], float] = {}
    for x, y in points:
        for px in range(max(0, math.floor(x - 3.5)), min(size, math.ceil(x + 2.5))):
            for py in range(max(0, math.floor(y - 3.5)), min(size, math.ceil(y + 2.5))):
                cx, cy = px + 0.5, py + 0.5
                if abs(cx - x) < 3 and abs(cy - y) < 3:
                    d = (cx - x) ** 2 + (cy - y) ** 2
                    if d < nearest.get((px, py), 99.0):
                        nearest[(px, py)] = d
    pixels = []
    for px in range(size):
        for py in range(size):
            value = min(1.0, max(0.0, (pen + 0.6 - math.sqrt(nearest.get((px, py), 99.0))) / 1.2))
            level = round(value * levels)
            if level:
                pixels.append([px, py, level])
    return pixels


def digit_images(digits, seed: int = 0, levels: int = 4) -> list[list[list[int]]]:
    return [digit_image(d, seed + i, levels) for i, d in enumerate(digits)]


def by_level(pixels: list[list[int]]) -> list[list]:
    """The lit pixels grouped by grey level, [[level, [[x, y], ...]], ...], for one TikZ path per level."""
    levels = sorted({level for _, _, level in pixels})
    return [[level, [[x, y] for x, y, lv in pixels if lv == level]] for level in levels]
