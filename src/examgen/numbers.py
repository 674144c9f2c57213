"""Numbers as an examiner prints them: one rule for texts, tables, answer boxes and the key.

A float carries binary noise (0.3525 computes as 0.3524999999999997), so a number is first
read as the decimal it stands for (12 significant digits), then rounded half away from
zero, as a student rounding by hand does: 0.3525 to three places is 0.353, 2.5 to none is 3.
"""

from __future__ import annotations

import decimal
import math
from fractions import Fraction

MARKS_PER_POINT = 2  # points are given, marked and thresholded in half points
SIGNIFICANT = 12  # digits of a float taken as meant; the rest is the binary representation's noise
MAX_PLACES = 10  # decimals shown when a text asks for no rounding
_CONTEXT = decimal.Context(prec=400, rounding=decimal.ROUND_HALF_UP)  # holds any float to MAX_PLACES


def is_mark(points: float) -> bool:
    """Whether points are a whole number of marks (a multiple of half a point)."""
    return float(points * MARKS_PER_POINT).is_integer()


def marks_of(points: float | Fraction) -> float:
    """Points rounded up to the next mark (half point)."""
    return math.ceil(points * MARKS_PER_POINT) / MARKS_PER_POINT


def mark_step(points: float) -> float:
    """The step a grader counts points in up to ``points``: whole points, or marks where they need them."""
    return 1.0 if float(points).is_integer() else 1 / MARKS_PER_POINT


def decimal_value(value: int | float) -> decimal.Decimal:
    """The decimal a number stands for: an int exactly, a float to SIGNIFICANT digits."""
    return decimal.Decimal(value) if isinstance(value, int) else decimal.Decimal(f"{value:.{SIGNIFICANT}g}")


def rounded(value: int | float, places: int | None = None) -> decimal.Decimal:
    """The number rounded half away from zero to ``places`` decimals (MAX_PLACES if None)."""
    quantum = decimal.Decimal(1).scaleb(-(MAX_PLACES if places is None else places))
    return decimal_value(value).quantize(quantum, context=_CONTEXT)


def format_number(value, places: int | None = None, sep: str = "", decimal: str = ".", fixed: bool = False) -> str:
    """A number as an examiner writes it: 0.65 not 0.6500000000000001, 2 not 2.0.

    ``places`` caps the decimals (rounded half away from zero, trailing zeros dropped; ``fixed``:
    exactly ``places`` decimals, 6.70);
    ``sep`` groups thousands (use "{,}" in math mode); ``decimal`` is the decimal mark ("{,}" in a
    language that writes a decimal comma).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"num needs a number, not {value!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        return r"\infty" if value > 0 else (r"-\infty" if value < 0 else "NaN")
    if places is not None and (isinstance(places, bool) or not isinstance(places, int) or places < 0):
        raise TypeError(f"num's places must be a whole number >= 0, not {places!r}")
    if fixed and places is None:
        raise TypeError("num(fixed=true) needs the decimals to show: num(2, fixed=true)")
    number = rounded(value, places)
    whole, _, fraction = format(abs(number), "f").partition(".")
    fraction = fraction.rstrip("0").ljust(places or 0, "0") if fixed else fraction.rstrip("0")
    if sep:
        whole = f"{int(whole):,}".replace(",", sep)
    sign = "-" if number < 0 else ""  # a value that rounds to zero prints as 0, not -0
    return f"{sign}{whole}{decimal}{fraction}" if fraction else f"{sign}{whole}"


def key_number(value: int | float) -> int | float:
    """A number for key.json: a whole float as an int, otherwise the float as computed."""
    return int(value) if isinstance(value, float) and value.is_integer() else value
