"""Copy codes and their check characters, which copies print and grading and scanning read back.

Codes: ``E1119-0423-6`` is the exam code, the copy number and a check character (Luhn
mod 36 over the exam code's and the number's characters): any single mistyped character
and any swap of two neighbours but 0 and Z is detected. A page's QR code holds
``E1119-0423-6/07/M``: the copy code, the page and a check character over both.
"""

from __future__ import annotations

import re
import string

ALPHABET = string.digits + string.ascii_uppercase  # what a check character is computed over
EXAM_CODE = re.compile(r"[A-Z0-9]{1,12}")  # QR's alphanumeric mode: capitals and digits
CODE = re.compile(r"([A-Z0-9]+)-(\d+)-([A-Z0-9])")
NUMBER_DIGITS = 4


def check_character(text: str) -> str:
    """Luhn mod 36 over the letters and digits of text: the character that makes it valid."""
    factor, total = 2, 0
    for char in reversed([c for c in text if c in ALPHABET]):
        addend = factor * ALPHABET.index(char)
        total += addend // 36 + addend % 36
        factor = 3 - factor
    return ALPHABET[-total % 36]


def copy_code(exam_code: str, number: int, digits: int = NUMBER_DIGITS) -> str:
    """A copy's code: the exam's, the number (at least ``digits`` wide) and their check character."""
    body = f"{exam_code}-{number:0{digits}d}"
    return f"{body}-{check_character(body)}"


def qr_payload(code: str, page: int) -> str:
    return f"{code}/{page:02d}/{check_character(code + str(page))}"


def mistyped(code: str) -> bool:
    """Whether a code of the copies' form has a check character that disagrees with it: a typo."""
    match = CODE.fullmatch(code)
    return match is not None and check_character(f"{match[1]}{match[2]}") != match[3]
