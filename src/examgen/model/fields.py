"""Typed access to a source mapping's keys, every problem into a collector.

Validation reads every key through ``Fields``, and so do the kinds and the grading scale
when they read their own keys; it sits in the model so that none of them imports a stage.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from typing import overload

from .. import shapes
from ..errors import Collector, Loc, SourceError, printable
from ..numbers import is_mark
from ..shapes import Keys
from .source import Code, Text
from .tree import SourceList, SourceMap

UNITS_CM = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72.27}


def _characters(spans: str) -> frozenset[str]:
    """The characters of code point spans written as ``0020-007E 0192``."""
    characters: set[str] = set()
    for span in spans.split():
        first, _, last = span.partition("-")
        characters.update(map(chr, range(int(first, 16), int(last or first, 16) + 1)))
    return frozenset(characters)


# What pdflatex prints with the default theme's fonts (T1, TS1): ASCII and what TeX Live's t1enc.dfu,
# ts1enc.dfu, ot1enc.dfu and omsenc.dfu declare; no CJK, Greek or Cyrillic.
PRINTABLE = frozenset("\t\n") | _characters("""
    0020-007E 00A0-0125 0128-0137 0139-013E 0141-0148 014A-0165 0168-017E 0192 01C4-01D4 01E2-01E3 01E6-01EB
    01F0 01F4-01F5 0218-021B 0232-0233 0237 02C6-02C7 02D8-02D9 02DB-02DD 0E3F 1E02-1E03 1E0D 1E1E-1E21 1E25
    1E30-1E31 1E37 1E43 1E45 1E47 1E5B 1E63 1E6D 1E8E-1E91 1E9E 1EF2-1EF3 200C 2010-2016 2018-201A 201C-201E
    2020-2022 2026 2030-2031 2039-203B 203D 2044 204E 2052 20A1 20A4 20A6 20A9 20AB-20AC 20B1 2103 2116-2117
    211E 2120 2122 2126-2127 212E 2190-2193 2329-232A 2422-2423 25E6 25EF 266A 27E8-27E9 3008-3009 FB00-FB06 FEFF
""")

NAME = re.compile(shapes.NAME)
UNFIT_IN_TEXTS = ("Cc", "Cs")  # control characters (YAML's "\\f", "\\x01"), lone surrogates ("\\ud800")
FIT_CONTROLS = frozenset("\t\n\r")  # white space TeX and XML both read


def unfit_character(text: str) -> str | None:
    """The first character of a text that neither pdflatex (an invalid or undefined character) nor
    the exports' XML 1.0 can hold, if any: control characters but tab and line breaks, lone
    surrogates, U+FFFE and U+FFFF."""
    return next((char for char in text if char not in FIT_CONTROLS and (
        unicodedata.category(char) in UNFIT_IN_TEXTS or char in "\ufffe\uffff")), None)


def unfit_message(char: str) -> str:
    """Why a text cannot hold ``char``, and what to do."""
    return (f"holds the control character '{printable(char)}' (U+{ord(char):04X}), which neither LaTeX nor the "
            "exports' XML can hold: remove it (a line break makes a new line, a blank line a new paragraph)")


class Fields:
    """Typed access to one mapping's keys; problems go to the collector."""

    def __init__(self, data: SourceMap, allowed: Keys, context: str | None, out: Collector):
        self.data, self.context, self.out = data, context, out
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; known keys: {', '.join(sorted(allowed))}"
                self.out.error(SourceError(f"unknown key '{key}'{suggestion}", data.loc_of_key(key), context))

    def loc(self, key: str) -> Loc:
        return self.data.loc_of(key)

    def nested(self, data: SourceMap, allowed: Keys) -> Fields:
        """The fields of a mapping inside this one, reported under the same context."""
        return Fields(data, allowed, self.context, self.out)

    def warn(self, message: str) -> None:
        self.out.warn(message, self.data.loc, self.context)

    def fail(self, message: str, key: str | None = None) -> None:
        self.out.error(SourceError(message, self.loc(key) if key else self.data.loc, self.context))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def require(self, *keys: str) -> None:
        for key in keys:
            if not self.has(key):
                self.fail(f"missing required key '{key}'")

    @overload
    def string(self, key: str, default: str) -> str: ...
    @overload
    def string(self, key: str, default: None = None) -> str | None: ...

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, (SourceMap, SourceList, bool)):
            self.fail(f"'{key}' must be text", key)
            return default
        return str(value)

    @overload
    def plain(self, key: str, default: str) -> str: ...
    @overload
    def plain(self, key: str, default: None = None) -> str | None: ...

    def plain(self, key: str, default: str | None = None) -> str | None:
        """Plain text (escaped for TeX), every character of it one pdflatex can print."""
        value = self.string(key, default)
        unprintable = next((char for char in value or "" if char not in PRINTABLE), None)
        if unprintable is not None:
            name = unicodedata.name(unprintable, "a control character")
            self.fail(f"'{key}' holds {unprintable!r} (U+{ord(unprintable):04X} {name}), which pdflatex cannot "
                      f"print: plain text may hold Latin letters with their accents, digits and punctuation", key)
        return value

    def text(self, key: str) -> Text | None:
        value = self.string(key)
        return None if value is None else self.text_at(value, self.loc(key), f"'{key}'")

    def text_at(self, value: str, loc: Loc, what: str = "the text") -> Text:
        """A text of the source (a key's, or an entry's of a list) at ``loc``; a character no
        document can hold is an error there."""
        char = unfit_character(value)
        if char is not None:
            self.out.error(SourceError(f"{what} {unfit_message(char)}", loc, self.context))
        return Text(value, loc)

    def name(self, key: str) -> str | None:
        value = self.string(key)
        if value is not None and not NAME.fullmatch(value):
            self.fail(f"'{key}' must be a name of letters, digits, '_', '-' or '.', not {value!r}", key)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"'{key}' must be true or false, not {value!r}", key)
            return default
        return value

    @overload
    def number(self, key: str, default: float) -> float: ...
    @overload
    def number(self, key: str, default: None = None) -> float | None: ...

    def number(self, key: str, default: float | None = None) -> float | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"'{key}' must be a number, not {value!r}", key)
            return default
        if not math.isfinite(value):
            self.fail(f"'{key}' must be a finite number, not {value!r}", key)
            return default
        return value

    def points(self, key: str, deduction: bool = False) -> float | None:
        """Points: a positive multiple of 0.5 (or a negative one, for a rubric's deductions)."""
        value = self.number(key)
        if value is None:
            return None
        if value == 0 or (value < 0 and not deduction) or not is_mark(value):
            kind = "a non-zero" if deduction else "a positive"
            self.fail(f"'{key}' must be {kind} multiple of 0.5, not {value!r}", key)
            return None
        if abs(value) > shapes.MAX_POINTS:
            self.fail(f"'{key}' must be at most {shapes.MAX_POINTS}, not {value!r}", key)
            return None
        return float(value)

    def items(self, key: str) -> list[tuple[object, Loc]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, SourceList):
            self.fail(f"'{key}' must be a list", key)
            return []
        return list(zip(value, value.item_locs))

    def mapping(self, item, loc: Loc, what: str) -> SourceMap | None:
        if isinstance(item, SourceMap):
            return item
        self.out.error(SourceError(f"{what} must be a mapping of keys, not {item!r}", loc, self.context))
        return None

    def length_cm(self, key: str) -> float | None:
        """A length such as 4cm, 35mm, 2in, 100pt (or a bare number of cm), in cm."""
        value = self.data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cm = float(value)
        else:
            match = re.fullmatch(shapes.LENGTH, str(value))
            if not match:
                self.fail(f"'{key}' must be a length such as 4cm or 35mm, not {value!r}", key)
                return None
            cm = float(match.group(1)) * UNITS_CM[match.group(2)]
        if not 0.5 <= cm <= 25:
            self.fail(f"'{key}' must be between 0.5cm and 25cm, not {value!r}", key)
            return None
        return cm

    def code(self, label: str) -> Code | None:
        source = self.string("compute")
        return None if source is None else Code(source, self.loc("compute"), label)
