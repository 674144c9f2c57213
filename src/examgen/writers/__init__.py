"""Writers: each makes one output of a build from the rendered exam, in the exam's work
folder. The orchestrator runs them (at once, each in its own thread), checks what they
made and installs it. A new output is a new module here and its place in ``writers()``."""

from __future__ import annotations

from .protocol import Context, Product, Rendered, Writer

__all__ = ["Context", "Product", "Rendered", "Writer", "output_names", "writers"]


def writers(variants: tuple[str, ...] = ()) -> tuple[Writer, ...]:
    """The writers of a build, in the order their outputs are listed: with variants, both views of
    each (``A/student.pdf``) and one key for all."""
    from ..model.rendered import VIEWS
    from .key import KeyWriter
    from .views import ViewWriter

    first = variants[0] if variants else None
    views = [ViewWriter(view, label, first if label != first else None) for label in variants or (None,)
             for view in VIEWS]
    return (*views, KeyWriter())


def output_names(variants: tuple[str, ...] = ()) -> list[str]:
    return [name for writer in writers(variants) for name in writer.outputs]
