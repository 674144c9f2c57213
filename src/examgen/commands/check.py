"""`examgen check`: everything up to LaTeX (load, validate, compute, render the texts), for a quick answer."""

from __future__ import annotations

from ..errors import Collector
from ..model.source import Exam
from ..orchestrate import fail_on_warnings, prepare
from ..project import Target


def check_source(target: Target, out: Collector, strict: bool = False) -> Exam[str]:
    """``examgen check``: everything up to LaTeX; under ``strict`` a warning is an error."""
    rendered = prepare(target, out).exam  # every variant is rendered, and checked so
    if strict:
        fail_on_warnings(out.warnings)
    return rendered
