r"""The returned copies' PDFs (`examgen return`, marking/returned.py): per student a first page with the
points per part, total and grade, then each scanned page on its printed page's grid with a column beside
it that holds every part's points, the correction notes applied and the grader's comment at the height
where the part begins, and the graders' annotations drawn where they were put.

A scanned page is shown straightened, not as scanned: the scan's own placement (the affine map from the
printed page to the image) becomes the image's transformation matrix, so the viewer draws the JPEG the
scanner wrote, byte for byte, turned, scaled and shifted onto the printed page; the feedback then sits
exactly beside its part, and the scanner bed's margins are clipped away. A page that is no JPEG (a PNG, a
TIFF, a PDF page of another kind) is embedded as the gray pixels the scan read, Flate-compressed.

All text (names in any script, notes, comments) is typeset in one LuaLaTeX run with the copies' Noto fonts
(writers/copies.py), every piece a page of its natural size that becomes a form XObject; the files are
written by writers/pdf.py, so every byte is a function of the inputs (no clock, a fixed /ID).
"""

from __future__ import annotations

import io
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Collector
from ..marking.returned import ReturnedCopy, ReturnedPage
from ..scanning.inputs import PageImage
from ..stages.compile import Job, compile_document
from .copies import font_declarations, page_form, tex_text, unprintable
from .pdf import Importer, PdfFile, Written, stream

if TYPE_CHECKING:
    from ..stages.render import Strings

COLUMN = 180.0  # points: the feedback column right of the scanned page
INSET = 8.0  # points between the column's edge and its blocks
GAP = 6.0  # points between two blocks of the column
COVER_MARGIN = 56.0  # points around the first page's text
NOTE_WIDTH = 200.0  # points: a grader's text on the page breaks into lines this wide
MARK_SIZE = 14.0  # points: a tick or a cross
GRADER = (0.78, 0.08, 0.08)  # the graders' red
TABLE_ROWS = 28  # parts per column of the first page's table
JPEG_SPACES = {"L": b"/DeviceGray", "RGB": b"/DeviceRGB", "CMYK": b"/DeviceCMYK"}
EXIF_ORIENTATION = 0x0112

PREAMBLE = r"""\documentclass{article}
\nofiles
\pdfvariable suppressoptionalinfo 1023 % no ID, dates or producer: the pieces are what examgen takes
\tracinglostchars=3 % a character the fonts lack is an error, never a blank
\hoffset=-1in \voffset=-1in \parindent=0pt \emergencystretch=2em \hbadness=10000
\newcommand\egred{\pdfextension literal{\egrgb\space rg \egrgb\space RG}}% the graders' colour, as PDF operators:
\newcommand\egblack{\pdfextension literal{0 g 0 G}}% xcolor's colour stack leaks between pages shipped by hand
\newcommand\egcoloured[1]{\egred#1\egblack}
\newcommand\egin[2]{{\fontfamily{#1}\selectfont#2}}% a run of another script's font
\newcommand\egrtl[2]{{\fontfamily{#1}\selectfont\textdir TRT#2}}% ... one written right to left
\newcommand\egpiece[2]{% #2 set #1 bp wide, shipped as a page of its natural height
  \setbox0\vbox{\hsize=#1bp\relax\rightskip=0pt plus 1fil\relax#2\par\kern0pt}%
  \pagewidth=\wd0 \pageheight=\ht0 \shipout\box0}
\newcommand\egnote[1]{% a grader's text on the page: its natural width, lines of at most \egwidth bp
  \setbox2\hbox{\egcoloured{\small#1}}%
  \ifdim\wd2>\egwidth bp\egpiece{\egwidth}{\egcoloured{\small#1}}\else
  \setbox0\vbox{\box2\kern0pt}\pagewidth=\wd0 \pageheight=\ht0 \shipout\box0\fi}
"""


def _clean(text: str, out: Collector, where: str) -> str:
    """Text as the fonts can print it: control characters as spaces, a character no font has as '?'."""
    text = "".join(" " if unicodedata.category(char) == "Cc" else char for char in text)
    missing = unprintable(text)
    if missing:
        out.warn(f"{where}: the fonts have no {', '.join(f'{char} (U+{ord(char):04X})' for char in missing)}: "
                 "printed as '?'")
        text = "".join("?" if char in missing else char for char in text)
    return text


def _tex(text: str, out: Collector, where: str, between_lines: str = r"\par ") -> str:
    """Plain text as LaTeX in the fonts of its scripts, its lines joined by ``between_lines``."""
    return between_lines.join(tex_text(line) for line in _clean(text, out, where).splitlines())


def _cover(copy: ReturnedCopy, heading: str, words: Strings, out: Collector) -> str:
    who = f"copy {copy.code}"
    facts = [rf"\mbox{{{words('returned_copy', code=copy.code)}}}"]
    quad = r" \quad "
    if copy.registration:
        facts.insert(0, rf"\mbox{{{words('returned_registration', number=_tex(copy.registration, out, who))}}}")
    rows = [rf"{part.number} & {words.number(part.points)} & {words.number(part.maximum)}\\" for part in copy.parts]
    header = " & ".join(rf"\bfseries {words(key)}" for key in ("returned_part", "returned_points", "returned_of"))
    tables = [r"\begin{tabular}[t]{lrr}" + header + r"\\\hline " + "".join(rows[start:start + TABLE_ROWS])
              + r"\end{tabular}" for start in range(0, len(rows), TABLE_ROWS)]
    total = words("returned_total", points=words.number(copy.total), maximum=words.number(copy.maximum),
                  count=copy.maximum)
    lines = [rf"{{\large {_tex(heading, out, 'the exam')}}}\par\bigskip",
             rf"{{\LARGE\bfseries {_tex(copy.name, out, who) if copy.name else copy.code}}}\par\smallskip",
             rf"{{\large {quad.join(facts)}}}\par\bigskip\bigskip",
             rf"{{\Large {total}\qquad {words('returned_grade', grade=_tex(copy.grade, out, who))}}}"
             r"\par\bigskip\bigskip",
             r"\hskip 2em ".join(tables) + r"\par\bigskip\bigskip"]
    if copy.missing:
        pages = ", ".join(str(page) for page in copy.missing)
        lines.append(words("returned_missing", pages=pages, count=len(copy.missing)) + r"\par\medskip")
    if copy.pages:
        lines.append(words("returned_pages") + r"\par")
    return " ".join(lines)


def _block(copy: ReturnedCopy, number: str, words: Strings, out: Collector) -> str:
    part = copy.part(number)
    where = f"copy {copy.code}, part {number}"
    lines = [rf"\egred{{\large\bfseries {number}\hfill {words.number(part.points)} {words('returned_of')} "
             rf"{words.number(part.maximum)}\/{{\normalsize\mdseries\ {words('returned_unit', count=part.maximum)}}}"
             r"\par}\egblack"]
    for note in part.notes:
        points = "" if note.points is None else \
            rf" \mbox{{({'+' if note.points > 0 else ''}{words.number(note.points)})}}"
        lines.append(rf"{{\small\hangindent=0.8em\textbullet\ {_tex(note.text, out, where)}{points}\par}}")
    if part.comment:
        lines.append(rf"\egcoloured{{{{\small {_tex(part.comment, out, where)}\par}}}}")
    return " ".join(lines)


def pieces_of(copy: ReturnedCopy) -> int:
    """The typeset pieces of a copy: its first page, a block per part beside a page, each text annotation."""
    return 1 + sum(len(page.parts) + sum(drawn.kind == "text" for drawn in page.drawn) for page in copy.pages)


def overlay_source(copies: Sequence[ReturnedCopy], heading: str, words: Strings, page_width: float,
                   out: Collector) -> str:
    """returned.tex: per copy its first page, then per page its parts' blocks and its text annotations."""
    texts = [heading, *(text for copy in copies for text in (copy.name, copy.registration, copy.grade,
                                                             *(note.text for part in copy.parts for note in part.notes),
                                                             *(part.comment for part in copy.parts),
                                                             *(drawn.text for page in copy.pages
                                                               for drawn in page.drawn)))]
    preamble = PREAMBLE.replace(r"\egrgb\space", " ".join(f"{value:g}" for value in GRADER)).replace(
        r"\egwidth", f"{NOTE_WIDTH:g}")
    lines = [preamble + font_declarations(texts), r"\begin{document}",
             r"\fontencoding{TU}\fontfamily{eglatin}\selectfont"]
    cover_width = page_width + COLUMN - 2 * COVER_MARGIN
    for copy in copies:
        lines.append(rf"\egpiece{{{cover_width:.3f}}}{{\large {_cover(copy, heading, words, out)}}}")
        for page in copy.pages:
            lines += [rf"\egpiece{{{COLUMN - 2 * INSET:.3f}}}{{{_block(copy, number, words, out)}}}"
                      for number, _ in page.parts]
            lines += [rf"\egnote{{{_tex(drawn.text, out, f'copy {copy.code}', ' ')}}}"
                      for drawn in page.drawn if drawn.kind == "text"]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def typeset(copies: Sequence[ReturnedCopy], heading: str, words: Strings, page_width: float, folder: Path,
            out: Collector) -> Path:
    """One LuaLaTeX run for every copy's text, in the exam's language (``words``); returns the PDF."""
    job = Job("returned", folder, "document", engine="lualatex")
    folder.mkdir(parents=True, exist_ok=True)
    job.tex.write_text(overlay_source(copies, heading, words, page_width, out), encoding="utf-8")
    compile_document(job, out, settle=False)
    return job.pdf


# --- the PDFs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    form: bytes
    width: float
    height: float


def _product(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    return [[sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)] for i in range(3)]


def image_matrix(placement: Sequence[float], width: int, height: int, page_height: float) -> bytes:
    """The ``cm`` operands that draw an image (its unit square) of ``width`` x ``height`` pixels onto the
    printed page: the placement's inverse, from pixels to points, turned into PDF's y-up space (the placement
    counts a pixel's centre as a whole number, PDF its corner)."""
    p0, p1, p2, p3, p4, p5 = placement
    det = p0 * p4 - p1 * p3
    inverse = [[p4 / det, -p1 / det, (p1 * p5 - p4 * p2) / det], [-p3 / det, p0 / det, (p3 * p2 - p0 * p5) / det],
               [0.0, 0.0, 1.0]]
    unit = [[float(width), 0.0, -0.5], [0.0, -float(height), height - 0.5], [0.0, 0.0, 1.0]]  # to pixel centres
    flip = [[1.0, 0.0, 0.0], [0.0, -1.0, page_height], [0.0, 0.0, 1.0]]
    m = _product(flip, _product(inverse, unit))
    return b"%.5f %.5f %.5f %.5f %.4f %.4f" % (m[0][0], m[1][0], m[0][1], m[1][1], m[0][2], m[1][2])


def image_object(page: PageImage) -> tuple[bytes, int, int]:
    """A scanned page as an image XObject and its size in pixels: the scanner's JPEG as it is, or (an image of
    another kind, or a JPEG a viewer would turn otherwise than the scan did) the gray pixels the scan read."""
    from PIL import Image

    if page.encoded is not None and page.encoded.startswith(b"\xff\xd8\xff"):
        with Image.open(io.BytesIO(page.encoded)) as image:
            space, turned = JPEG_SPACES.get(image.mode), image.getexif().get(EXIF_ORIENTATION, 1) != 1
            width, height = image.size
        if space and not turned:
            decode = b"/Decode [1 0 1 0 1 0 1 0]\n" if image.mode == "CMYK" else b""  # Adobe's inverted CMYK
            return stream(b"/Type /XObject\n/Subtype /Image\n/Width %d\n/Height %d\n/ColorSpace %s\n"
                          b"/BitsPerComponent 8\n%s/Filter /DCTDecode\n" % (width, height, space, decode),
                          page.encoded), width, height
    from ..scanning.read import decode as decoded

    gray = decoded(page)
    height, width = gray.shape
    return stream(b"/Type /XObject\n/Subtype /Image\n/Width %d\n/Height %d\n/ColorSpace /DeviceGray\n"
                  b"/BitsPerComponent 8\n/Filter /FlateDecode\n" % (width, height),
                  zlib.compress(gray.tobytes(), 6)), width, height


def stacked(tops: Sequence[float], heights: Sequence[float], page_height: float) -> tuple[list[float], float]:
    """Where blocks go in the column: each at its part's top, below the one before, pushed up where the last
    would leave the page; the page made taller where they cannot fit at all. Returns the tops and the height."""
    placed: list[float] = []
    bottom = INSET - GAP  # of the block before
    for top, height in zip(tops, heights):
        placed.append(max(top, bottom + GAP))
        bottom = placed[-1] + height
    limit = page_height - INSET
    for index in reversed(range(len(placed))):
        placed[index] = max(INSET, min(placed[index], limit - heights[index]))
        limit = placed[index] - GAP
    for index in range(1, len(placed)):  # where pushing up met the page's top: down again, the page taller
        placed[index] = max(placed[index], placed[index - 1] + heights[index - 1] + GAP)
    bottom = max((top + height + INSET for top, height in zip(placed, heights)), default=0.0)
    return placed, max(page_height, bottom)


def _marks(page: ReturnedPage, height: float) -> bytes:
    """The ticks and crosses, as red strokes."""
    paths = []
    size = MARK_SIZE
    for drawn in page.drawn:
        x, y = drawn.x, height - drawn.y
        if drawn.kind == "tick":
            paths.append(b"%.2f %.2f m %.2f %.2f l %.2f %.2f l S" % (x - 0.45 * size, y + 0.05 * size, x - 0.12 * size,
                                                                   y - 0.35 * size, x + 0.5 * size, y + 0.45 * size))
        elif drawn.kind == "cross":
            half = 0.35 * size
            paths.append(b"%.2f %.2f m %.2f %.2f l %.2f %.2f m %.2f %.2f l S" % (
                x - half, y - half, x + half, y + half, x - half, y + half, x + half, y - half))
    if not paths:
        return b""
    return b"q %.3f %.3f %.3f RG 2 w 1 J 1 j\n%s\nQ" % (*GRADER, b"\n".join(paths))


class ReturnedPdf:
    """Every copy's file: the fonts of the typeset pieces shared (the same bytes at the start of each file),
    each copy's pages, scans and pieces its own."""

    def __init__(self, overlays_pdf: Path, copies: Sequence[ReturnedCopy], page_size: tuple[float, float]):
        from pypdf import PdfReader

        importer = Importer(1)
        pages = PdfReader(overlays_pdf).pages
        pieces = [Piece(page_form(page, importer), float(page.mediabox.width), float(page.mediabox.height))
                  for page in pages]
        self.copies, self.page_size = copies, page_size
        self.pieces: list[list[Piece]] = []
        start = 0
        for copy in copies:
            count = pieces_of(copy)
            self.pieces.append(pieces[start:start + count])
            start += count
        assert start == len(pieces), "the typeset pieces are not the copies'"
        self.file = PdfFile(importer.bodies)

    def copy_file(self, index: int, image_of: Callable[[ReturnedPage], PageImage]) -> Written:
        """Copy ``index``'s PDF; ``image_of`` gives a page's scanned image."""
        copy, pieces = self.copies[index], iter(self.pieces[index])
        bodies: list[bytes] = []

        def add(body: bytes) -> int:
            bodies.append(body)
            return self.file.shared + len(bodies)

        tree = add(b"")
        width, height = self.page_size
        kids = []
        cover = next(pieces)
        form = add(cover.form)
        full = width + COLUMN
        content = b"q 1 0 0 1 %.3f %.3f cm /T Do Q" % (COVER_MARGIN, height - COVER_MARGIN - cover.height)
        kids.append(self._page(add, tree, (full, height), content, {b"/T": form}))
        for page in copy.pages:
            image, pixels_wide, pixels_high = image_object(image_of(page))
            resources = {b"/S": add(image)}
            blocks = [next(pieces) for _ in page.parts]
            tops, page_height = stacked([top for _, top in page.parts], [block.height for block in blocks], height)
            drawn = [b"q 0 0 %.3f %.3f re W n %s cm /S Do Q" % (width, height, image_matrix(
                page.scan.placement, pixels_wide, pixels_high, page_height)),
                b"q 0.96 g %.3f 0 %.3f %.3f re f 0.6 G 0.5 w %.3f 0 m %.3f %.3f l S Q" % (
                    width, COLUMN, page_height, width, width, page_height)]
            for number, ((_, anchor), top, block) in enumerate(zip(page.parts, tops, blocks)):
                name = b"/B%d" % number
                resources[name] = add(block.form)
                drawn.append(b"q %.3f %.3f %.3f RG 0.8 w %.3f %.3f m %.3f %.3f l S Q" % (
                    *GRADER, width - 10, page_height - anchor, width + INSET - 2, page_height - top - 6))
                drawn.append(b"q 1 0 0 1 %.3f %.3f cm %s Do Q"
                             % (width + INSET, page_height - top - block.height, name))
            drawn.append(_marks(page, page_height))
            for number, note in enumerate(drawn_text for drawn_text in page.drawn if drawn_text.kind == "text"):
                piece, name = next(pieces), b"/N%d" % number
                resources[name] = add(piece.form)
                drawn.append(b"q 1 0 0 1 %.3f %.3f cm %s Do Q" % (note.x, page_height - note.y - piece.height / 2,
                                                                  name))
            kids.append(self._page(add, tree, (full, page_height), b"\n".join(part for part in drawn if part),
                                   resources))
        bodies[tree - self.file.shared - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join(b"%d 0 R" % kid for kid in kids), len(kids))
        info = add(b"<< /Producer (examgen) /Title (%s returned) >>" % copy.code.encode())
        catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % tree)
        return self.file.file(bodies, catalog, info)

    @staticmethod
    def _page(add: Callable[[bytes], int], tree: int, size: tuple[float, float], content: bytes,
              resources: dict[bytes, int]) -> int:
        contents = add(stream(b"/Filter /FlateDecode\n", zlib.compress(content, 6)))
        shown = b" ".join(b"%s %d 0 R" % (name, number) for name, number in resources.items())
        return add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.3f %.3f] /Resources << /XObject << %s >> >> "
                   b"/Contents %d 0 R >>" % (tree, *size, shown, contents))
