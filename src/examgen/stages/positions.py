r"""Where things are on each page of the student PDF, as TeX measured them: the marks the
theme writes with ``\egmark`` (examgen.sty) into ``student.pos`` during the student view's
compile, one line per corner: ``page|kind|key...|ll or ur|x|y`` with x and y in sp from
the page's lower left corner. Read into boxes in PDF points: for the build's check that every
writable area is writable (stages/check.py), the copies writer (where to stamp the QR code, the
copy's code and a name) and ``layout.json``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckError, Loc

SP_PER_BP = 65536 * 72.27 / 72  # TeX's scaled points per PDF point


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF points, from the page's lower left corner."""

    x: float
    y: float
    width: float
    height: float

    def json(self) -> dict:
        return {"x": round(self.x, 2), "y": round(self.y, 2), "width": round(self.width, 2),
                "height": round(self.height, 2)}


@dataclass(frozen=True)
class Mark:
    """A marked rectangle of one page: its kind (qr, code, sticker, checkbox, grade, answer,
    extra) and key (for a checkbox: problem, part, option; a grade: part, box index; an answer
    space: part; an additional page's grid: its ordinal)."""

    page: int
    kind: str
    key: tuple[str, ...]
    box: Box


@dataclass(frozen=True)
class Layout:
    """Every mark of the student PDF, in page order."""

    pages: int
    marks: tuple[Mark, ...]

    def one(self, kind: str, page: int = 1) -> Box:
        """The box of a mark every page has once (qr, code) or the cover has (sticker)."""
        return next(mark.box for mark in self.marks if mark.kind == kind and mark.page == page)

    def has(self, kind: str, page: int = 1) -> bool:
        return any(mark.kind == kind and mark.page == page for mark in self.marks)

    def on(self, page: int, kind: str) -> list[Mark]:
        return [mark for mark in self.marks if mark.page == page and mark.kind == kind]


def read_marks(path: Path) -> tuple[Mark, ...]:
    """The marks a compiled view wrote, in page order (none where it wrote none)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    corners: dict[tuple[int, str, tuple[str, ...]], dict[str, tuple[float, float]]] = defaultdict(dict)
    for line in lines:
        sheet, what, *names, corner, x, y = line.split("|")
        corners[int(sheet), what, tuple(names)][corner] = (int(x) / SP_PER_BP, int(y) / SP_PER_BP)
    marks = []
    for (page, kind, key), at in corners.items():
        (x0, y0), (x1, y1) = at["ll"], at["ur"]
        marks.append(Mark(page, kind, key, Box(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))))
    return tuple(sorted(marks, key=lambda m: m.page))


def read_layout(path: Path, pages: int) -> Layout:
    """The marks of a compiled view for its copies; a file that is missing or does not match the PDF (a
    build by an examgen before marks, a theme without them) is an error that says what to do."""
    layout = Layout(pages, read_marks(path))
    if not all(layout.has("qr", page) and layout.has("code", page) for page in range(1, pages + 1)):
        raise CheckError("the student PDF has no marked QR and code slots on every page (its theme predates "
                         "`examgen copies`, or the build is older): rebuild with `examgen build --force`", Loc(path))
    return layout
