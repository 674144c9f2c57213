"""Seeded draws for variants (docs/variants.md): the seeding rule and the helpers compute blocks
call, shared by examgen (which shuffles options with them) and the compute child.

Only the standard library: the child loads this file by its path, and it is all of examgen that
the child's sandbox shows besides python.py. Every draw goes through ``Random.random()``, whose
sequence for an integer seed Python promises to keep across versions (its ``randrange``,
``choice`` and ``shuffle`` carry no such promise), and the seed is SHA-256 of names, never
``hash()``, which Python salts per process: a variant is the same on every machine and Python.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

VARIANT_NAMES = ("variant", "rng", "draw", "pick", "distinct", "shuffled", "deal")  # what a variant's block is given
SEPARATOR = "\x1f"  # the unit separator: no name holds it, so ("ab", "c") and ("a", "bc") differ


def seed(*names: str) -> int:
    """The seed for a variant of one thing: the exam's code, the variant's label, the problem's id
    (and, for a shuffle, the part's)."""
    return int.from_bytes(hashlib.sha256(SEPARATOR.join(names).encode()).digest()[:8], "big")


def _places(number: float) -> int:
    """The decimals a number is written with (0.25: 2), so a grid of floats prints as typed."""
    text = repr(float(number))
    return 0 if "e" in text or text.endswith(".0") else len(text.split(".")[1])


class Draws:
    """The helpers a compute block of a variant sees, all drawing from the block's ``rng``."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def below(self, count: int) -> int:
        """A whole number from 0 to count - 1, each equally likely."""
        if count < 1:
            raise ValueError("nothing to draw from")
        return min(int(self.rng.random() * count), count - 1)

    @staticmethod
    def grid(lo: float, hi: float, step: float) -> list[float]:
        """lo, lo + step, ... up to hi: integers if all three are, otherwise rounded to their decimals."""
        if step <= 0 or hi < lo:
            raise ValueError(f"no values from {lo} to {hi} in steps of {step}")
        count = int((hi - lo) / step + 1e-9) + 1
        if all(isinstance(v, int) for v in (lo, hi, step)):
            return [lo + i * step for i in range(count)]
        places = max(_places(lo), _places(step))
        return [round(lo + i * step, places) for i in range(count)]

    def draw(self, lo: float, hi: float, step: float = 1) -> float:
        """One value of the grid lo, lo + step, ..., hi (both ends included)."""
        values = self.grid(lo, hi, step)
        return values[self.below(len(values))]

    def pick(self, items: Sequence):
        """One item of a list."""
        return items[self.below(len(items))]

    def shuffled(self, items: Sequence) -> list:
        """The items in a random order (Fisher-Yates)."""
        result = list(items)
        for i in range(len(result) - 1, 0, -1):
            j = self.below(i + 1)
            result[i], result[j] = result[j], result[i]
        return result

    def distinct(self, count: int, lo: float, hi: float, step: float = 1) -> list:
        """``count`` different values of the grid lo, lo + step, ..., hi, in the order drawn."""
        values = self.grid(lo, hi, step)
        if count > len(values):
            raise ValueError(f"{count} distinct values wanted, but only {len(values)} lie from {lo} to {hi}")
        return self.shuffled(values)[:count]


def variant_names(code: str, label: str, scope: str, position: int) -> dict[str, object]:
    """What a compute block of a variant sees besides its own names: ``variant`` (its label), ``rng``
    (seeded from the exam's code, the label and the problem's id; ``scope`` is empty for the exam's
    block) and the helpers; ``deal`` deals by the variant's ``position`` (``dealt_position``)."""
    draws = Draws(random.Random(seed(code, label, scope)))
    given = (label, draws.rng, draws.draw, draws.pick, draws.distinct, draws.shuffled,
             Dealer(code, scope, position).deal)
    return dict(zip(VARIANT_NAMES, given, strict=True))


# --- values dealt across the variants (docs/variants.md, "Distinct and balanced") ---

def dealt_position(label: str, labels: Sequence[str]) -> int:
    """Where a variant stands in the deal: the exam's own variants in their order (A, B, ...), a
    numbered one (a seed of `examgen verify`, a copy's under ``per-copy``) at its number, from 1."""
    return int(label) - 1 if label.isdigit() else list(labels).index(label)


class Dealer:
    """``deal``: the values of a grid (or a list) dealt out to the variants like cards, so that the
    first as many variants as it holds all get different ones. Each call of a block deals from its
    own pack: the values shuffled once for the problem, seeded without the variant's label; the
    variant at ``position`` takes that place of it, and past its end a pack shuffled anew."""

    def __init__(self, code: str, scope: str, position: int):
        self.code, self.scope, self.position, self.calls = code, scope, position, 0

    def deal(self, lo_or_items, hi: float | None = None, step: float = 1):
        """One value of the grid lo, lo + step, ..., hi, or one item of a list, no other variant's."""
        self.calls += 1
        pack = list(lo_or_items) if hi is None else Draws.grid(lo_or_items, hi, step)
        if not pack:
            raise ValueError("nothing to deal")
        lap, place = divmod(self.position, len(pack))
        shuffler = Draws(random.Random(seed(self.code, "deal", self.scope, str(self.calls), str(lap))))
        return shuffler.shuffled(pack)[place]
