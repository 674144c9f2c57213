"""What a build's compute blocks may take, whatever a source asks: ceilings the operator of a
machine (a CI runner) sets in the environment, never the source. A source's ``limits:`` may
ask up to the ceilings; the blocks of one build together run at most the total."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import EnvironmentProblem

BLOCK_SECONDS = "EXAMGEN_MAX_BLOCK_SECONDS"
MEMORY_MB = "EXAMGEN_MAX_MEMORY_MB"
COMPUTE_SECONDS = "EXAMGEN_MAX_COMPUTE_SECONDS"
DEFAULTS = {BLOCK_SECONDS: 120.0, MEMORY_MB: 8192.0, COMPUTE_SECONDS: 600.0}
FORMAT_MAXIMA = {BLOCK_SECONDS: 600.0, MEMORY_MB: 65536.0}  # the most a source's ``limits:`` can say


@dataclass(frozen=True)
class Ceilings:
    """The most a block may ask for (``limits: seconds``, ``memory_mb``), and the wall time all
    blocks of one build (or one share of `examgen verify`'s seeds) may take together."""

    block_seconds: float
    memory_mb: float
    compute_seconds: float


def _setting(name: str) -> float:
    """The operator's setting of ``name``, or its default; one that is not a positive number is an error."""
    text = os.environ.get(name)
    if text is None:
        return DEFAULTS[name]
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise EnvironmentProblem(f"{name} is {text!r}: set it to a positive number (default {DEFAULTS[name]:g})")
    return min(value, FORMAT_MAXIMA.get(name, value))


def ceilings() -> Ceilings:
    """This machine's ceilings, read from the environment at every build."""
    return Ceilings(_setting(BLOCK_SECONDS), _setting(MEMORY_MB), _setting(COMPUTE_SECONDS))
