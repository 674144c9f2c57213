r"""Per-student copies: the compiled student PDF stamped with a copy code and a QR code on
every page (docs/copies.md).

The exam compiles once. Each page of the student PDF becomes one form XObject that every
copy's page shows; a copy's page adds only its QR code (a few filled rectangles) and its
code label. The labels, and with a roster the names on the covers, are typeset in one
LuaLaTeX run for all copies (``overlays.tex``), each on a page of its own that becomes a
form XObject too: LuaLaTeX with Debian's Noto fonts prints the scripts rosters hold, the exam
itself stays on pdfLaTeX. Where to stamp is what TeX measured (stages/positions.py).

Codes and their check characters: codes.py.

Every byte is a function of the inputs (writers/pdf.py): ``--only`` writes a copy
byte-identical to the one ``--split`` wrote, years later.

Over 500 lines, as one module: the plan of the copies, the measured stamp, the overlays' document
and the copies' PDF objects describe one file format of examgen's own, each piece written for
the others' numbers (pages, object numbers, positions).
"""

from __future__ import annotations

import datetime
import functools
import json
import re
import unicodedata
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..codes import EXAM_CODE, NUMBER_DIGITS, copy_code, mistyped, qr_payload
from ..errors import Collector, EnvironmentProblem, ErrorGroup, SourceError, printable
from ..model.rendered import source_marker
from ..model.source import Exam
from ..roster import Student
from ..stages.compile import Job, compile_document, pieces, source_of
from ..stages.positions import Box, Layout
from .pdf import Importer, PdfFile, Written, stream

COPIES_FILE = re.compile(r"print\.pdf|manifest\.json|layout\.json|[A-Z0-9]+-\d+-[A-Z0-9]\.pdf")  # what a run writes
STICKER_BLEED = 1.0  # points the name's white ground reaches past the sticker box (covers its dashed line)
# the sticker box and its notes (examgen.sty: \egsticker, \egstickernotes), which a named cover leaves out
STICKER = re.compile(rb"/ExamgenSticker BMC[ \n].*?EMC\n", re.S)
QUAD = r"\quad "


@dataclass(frozen=True)
class Copy:
    """One student's copy: its number (from 1), code and, with a roster, student."""

    number: int
    code: str
    student: Student | None = None
    variant: str | None = None  # its variant's label, in an exam with variants

    def json(self) -> dict:
        student = self.student
        return {"copy": self.number, "code": self.code, **({"variant": self.variant} if self.variant else {}),
                "student": student and {"registration": student.registration, "name": student.name,
                                        "seat": student.seat, "room": student.room}}


def _seat_order(seat: str) -> tuple:
    """Seats in the order of a hall: their numbers as numbers (A2 before A10)."""
    return tuple(int(piece) if piece.isdigit() else piece for piece in re.split(r"(\d+)", seat))


def _seated(students: list[Student | None], option: str) -> None:
    """An option that goes by seats needs a roster with a seat for every student."""
    unseated = [s.loc for s in students if s is not None and not s.seat]
    if unseated or not students or students[0] is None:
        raise SourceError(f"{option} needs a roster with a seat for every student", unseated[0] if unseated else None,
                          "roster")


def _variants(labels: tuple[str, ...], students: list[Student | None], by_seat: bool) -> list[str | None]:
    """Each copy's variant: round-robin in copy order, or with ``by_seat`` in the roster's seat order,
    so that neighbouring seats differ."""
    if not labels:
        return [None] * len(students)
    order = list(range(len(students)))
    if by_seat:
        _seated(students, "--variant-by seat")
        order.sort(key=lambda index: _seat_order(students[index].seat))  # type: ignore[union-attr]
    variants: list[str | None] = [None] * len(students)
    for turn, index in enumerate(order):
        variants[index] = labels[turn % len(labels)]
    return variants


def plan(exam: Exam, count: int | None, students: tuple[Student, ...] | None,
         by_seat: bool = False, in_seat_order: bool = False) -> tuple[Copy, ...]:
    """The copies to make, numbered from 1 in roster order (``in_seat_order``: in the halls' order,
    room by room and seat by seat, as they are handed out), each with its variant (docs/variants.md)."""
    code = exam.meta.code
    if not EXAM_CODE.fullmatch(code):
        raise SourceError(f"copies need an exam code of at most 12 capital letters and digits (a QR code's "
                          f"alphanumeric mode), not '{code}'", exam.loc, "code")
    who: list[Student | None] = list(students) if students else [None] * (count or 0)
    if in_seat_order:
        _seated(who, "--order seat")
        who.sort(key=lambda student: (_seat_order(student.room), _seat_order(student.seat)))  # type: ignore[union-attr]
    digits = max(NUMBER_DIGITS, len(str(len(who))))

    if exam.variants and exam.variants.per_copy:  # a fresh variant per copy, labelled with its number
        variants: list[str | None] = [str(number) for number in range(1, len(who) + 1)]
    else:
        variants = _variants(exam.variants.labels if exam.variants else (), who, by_seat)
    return tuple(Copy(number, copy_code(code, number, digits), student, variant)
                 for number, (student, variant) in enumerate(zip(who, variants), 1))


def find(copies: tuple[Copy, ...], code: str) -> Copy:
    """The copy a code names; a typo (the check character disagrees) is told apart from a code of another run."""
    wanted = code.strip().upper()
    if mistyped(wanted):
        raise SourceError(f"'{code}' is not a valid copy code: its check character is wrong (a typo?)")
    found = next((copy for copy in copies if copy.code == wanted), None)
    if found is None:
        raise SourceError(f"no copy '{code}' among the {len(copies)} copies asked for (codes {copies[0].code} to "
                          f"{copies[-1].code}); give the same --count or --roster as when it was made")
    return found


@dataclass(frozen=True)
class Stamp:
    """Where and what to stamp on the pages of every copy."""

    base_pages: Mapping[str | None, int]  # pages of each variant's student PDF (by None without variants)
    pages: int  # of each copy: the longest variant's pages, padded to an even count
    page_size: tuple[float, float]
    qr: Box
    code: Box
    sticker: Box | None  # where a name goes, on the cover
    qr_version: int

    @staticmethod
    def measure(layouts: Mapping[str | None, Layout], page_size: tuple[float, float],
                copies: tuple[Copy, ...]) -> Stamp:
        """From the variants' layouts (the QR code, the code and the sticker are where the theme puts
        them on every page of every variant): every copy as long as the longest variant, so that
        copies are alike to print and staple; a shorter variant's copies end in blank pages."""
        import segno

        longest_variant = max(layout.pages for layout in layouts.values())
        pages = longest_variant + longest_variant % 2
        longest = max((qr_payload(copy.code, pages) for copy in copies), key=len)
        version = segno.make_qr(longest, error="m", boost_error=False).version
        layout = next(iter(layouts.values()))
        sticker = layout.one("sticker") if layout.has("sticker") else None
        return Stamp({label: layout.pages for label, layout in layouts.items()}, pages, page_size, layout.one("qr"),
                     layout.one("code"), sticker, int(version))


def qr_operators(payload: str, version: int, box: Box) -> bytes:
    """The QR code as filled rectangles, one per run of dark modules in a row; a fixed version and
    mask (any mask decodes) make it ~5 times faster than segno's search for the best mask."""
    import segno

    matrix = segno.make_qr(payload, error="m", version=version, mask=0, boost_error=False).matrix
    size = len(matrix)
    module = box.width / size
    rects = []
    for row, cells in enumerate(matrix):
        y = size - 1 - row
        column = 0
        while column < size:
            if cells[column]:
                start = column
                while column < size and cells[column]:
                    column += 1
                rects.append(b"%d %d %d 1 re" % (start, y, column - start))
            column += 1
    return b"q 0 g %.4f 0 0 %.4f %.3f %.3f cm\n%s\nf Q" % (module, module, box.x, box.y, b"\n".join(rects))


def page_contents(copy: Copy, stamp: Stamp) -> list[bytes]:
    """Each page's content stream (compressed): the base page, the QR code, the code label and,
    on a named cover, the name. Names refer to the page's resources: /P, /C, /N."""
    contents = []
    for page in range(1, stamp.pages + 1):
        parts = [b"q /P Do Q"] if page <= stamp.base_pages[copy.variant] else []
        parts.append(qr_operators(qr_payload(copy.code, page), stamp.qr_version, stamp.qr))
        parts.append(b"q 1 0 0 1 %.3f %.3f cm /C Do Q" % (stamp.code.x, stamp.code.y))
        if page == 1 and copy.student and stamp.sticker:
            sticker = stamp.sticker
            parts.append(b"q 1 0 0 1 %.3f %.3f cm /N Do Q" % (sticker.x - STICKER_BLEED, sticker.y - STICKER_BLEED))
        contents.append(zlib.compress(b"\n".join(parts), 6))
    return contents


def contents_of(copies: tuple[Copy, ...], stamp: Stamp) -> list[list[bytes]]:
    """page_contents of several copies: one task for a worker process."""
    return [page_contents(copy, stamp) for copy in copies]


# --- the overlays: code labels and names, one LaTeX run ------------------------------------------

FONTS_FOLDER = Path("/usr/share/fonts")  # Debian's fonts-noto-core and fonts-noto-cjk (the Makefile installs them)


@dataclass(frozen=True)
class Font:
    """A Noto family the covers' names print in, Regular and Bold: an NFSS family of LuaLaTeX's
    (``eg<name>``), its files under FONTS_FOLDER, the OpenType script HarfBuzz shapes it for, and
    whether that script runs right to left."""

    name: str
    files: str  # the files' path without "-Regular.ttf" / "-Bold.ttf"
    script: str
    rtl: bool = False
    extension: str = "ttf"
    index: int | None = None  # the face in a font collection (.ttc)

    def file(self, weight: str) -> Path:
        return FONTS_FOLDER / f"{self.files}-{weight}.{self.extension}"

    def declaration(self) -> str:
        face = f"({self.index})" if self.index is not None else ""
        shapes = "".join(rf"\DeclareFontShape{{TU}}{{eg{self.name}}}{{{series}}}{{n}}{{<-> "
                         rf'"[{self.file(weight)}]{face}:mode=harf;script={self.script}"}}{{}}'
                         for series, weight in (("m", "Regular"), ("b", "Bold")))
        return rf"\DeclareFontFamily{{TU}}{{eg{self.name}}}{{}}{shapes}"


def _noto(script: str, name: str, tag: str, rtl: bool = False) -> Font:
    return Font(script, f"truetype/noto/NotoSans{name}", tag, rtl)


# A character prints in the first of these fonts that has it: Noto Sans (Latin, Greek, Cyrillic), then the
# scripts of fonts-noto-core a roster may hold, then Noto Sans CJK (Han, kana, Hangul) in its Simplified Chinese
# face, whose kana and Hangul are the Japanese and Korean faces' (a face per region would cost a second each).
FONTS = (_noto("latin", "", "latn"), _noto("arabic", "Arabic", "arab", True), _noto("hebrew", "Hebrew", "hebr", True),
         _noto("devanagari", "Devanagari", "dev2"), _noto("bengali", "Bengali", "bng2"),
         _noto("gurmukhi", "Gurmukhi", "gur2"), _noto("gujarati", "Gujarati", "gjr2"), _noto("tamil", "Tamil", "tml2"),
         _noto("telugu", "Telugu", "tel2"), _noto("kannada", "Kannada", "knd2"),
         _noto("malayalam", "Malayalam", "mlm2"), _noto("sinhala", "Sinhala", "sinh"), _noto("thai", "Thai", "thai"),
         _noto("lao", "Lao", "lao"), _noto("khmer", "Khmer", "khmr"), _noto("myanmar", "Myanmar", "mym2"),
         _noto("armenian", "Armenian", "armn"), _noto("georgian", "Georgian", "geor"),
         _noto("ethiopic", "Ethiopic", "ethi"), _noto("thaana", "Thaana", "thaa", True),
         Font("cjk", "opentype/noto/NotoSansCJK", "hani", extension="ttc", index=2))
LABEL_DEPTH_MM = 1.5  # the code slot's baseline above its bottom (examgen.sty: \egslot{code})
TEX_ERROR_LIMIT = 100  # errors of the overlays' run: every row's, until TeX itself gives up
OVERFULL = re.compile(r"^Overfull \\[hv]box \(([0-9.]+)pt too (wide|high)\) "
                      r"(?:in paragraph at lines (\d+)--\d+|detected at line (\d+))", re.M)


@functools.cache
def characters(font: Font) -> frozenset[int]:
    """The characters both weights of a font have (their cmap tables)."""
    from fontTools.ttLib import TTFont  # only named covers read fonts

    def cmap(weight: str) -> set[int]:
        path = font.file(weight)
        try:
            with TTFont(path, fontNumber=font.index if font.index is not None else -1, lazy=True) as face:
                return set(face.getBestCmap())
        except OSError:
            raise EnvironmentProblem(f"the font {path} is missing, which names on covers print in: install Debian's "
                                     "fonts-noto-core and fonts-noto-cjk (`make build` installs them)") from None

    return frozenset(cmap("Regular") & cmap("Bold"))


def font_runs(text: str) -> list[tuple[Font | None, str]]:
    """``text`` cut into runs of one font each: a letter in the first font that has it, anything else
    (spaces, punctuation, digits, marks) in the font of the run it is in where that font has it;
    None for a character no font has."""
    runs: list[tuple[Font | None, str]] = []
    for char in text:
        current = runs[-1][0] if runs else None
        if current and ord(char) in characters(current) and not unicodedata.category(char).startswith("L"):
            font: Font | None = current
        else:
            font = next((font for font in FONTS if ord(char) in characters(font)), None)
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + char)
        else:
            runs.append((font, char))
    return runs


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` that no font of the covers has."""
    return list(dict.fromkeys(char for font, run in font_runs(text) if font is None for char in run))


def check_printable(copies: tuple[Copy, ...]) -> None:
    """Every roster row whose cover would need a character no font has: one error per row, naming the
    column and the characters, before LaTeX runs."""
    out = Collector()
    for copy in copies:
        student = copy.student
        if student is None:
            continue
        for column, value in (("print_name" if student.print_name else "name", student.printed_name),
                              ("registration", student.registration), ("seat", student.seat),
                              ("room", student.room)):
            missing = unprintable(value)
            if missing:
                advice = ("give the name as the cover should print it in a 'print_name' column (the manifest "
                          "keeps the name)" if column == "name" else f"write the {column} in other characters")
                out.error(SourceError(f"{printable(value)}: the cover's fonts have no "
                                      f"{', '.join(f'{char} (U+{ord(char):04X})' for char in missing)} "
                                      f"for the {column}: {advice}", student.loc, "roster row"))
    out.raise_if_any()


OVERLAY_PREAMBLE = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[scaled=0.92]{helvet}
\renewcommand{\familydefault}{\sfdefault}
\nofiles
\pdfvariable suppressoptionalinfo 1023 % no ID, dates or producer: the page contents are what examgen takes
\tracinglostchars=3 % a character the fonts lack is an error, never a blank
\hoffset=-1in \voffset=-1in \parindent=0pt
\newcommand\egoverlay[3]{% one overlay per page: #1 width, #2 height (in bp), #3 its vertical list
  \pagewidth=#1bp\relax\pageheight=#2bp\relax\shipout\vbox to #2bp{\hsize=#1bp\relax#3}}
\newcommand\eglabel[3]{% a copy's code, right-aligned on the slot's baseline
  \setbox0\hbox to #1bp{\hfil\small\bfseries #3}\dp0=0pt
  \egoverlay{#1}{#2}{\vfil\box0\kern \egdepth}}
\newcommand\egin[2]{{\fontfamily{#1}\selectfont#2}}% a run of another script's font
\newcommand\egrtl[2]{{\fontfamily{#1}\selectfont\textdir TRT#2}}% ... one written right to left
\newcommand\egbreak[1]{\penalty#1\relax}% where a name may break: the later, the cheaper
\newcommand\egblock{% a name block's paragraphs: Noto Sans, ragged right, no hyphens; with the \egbreak
  % penalties and lines that cost more than any of them, each line holds all the name that fits
  \fontencoding{TU}\fontfamily{eglatin}\selectfont\rightskip=0pt plus 1fil\relax\hyphenpenalty=10000
  \exhyphenpenalty=10000 \linepenalty=1000 }
\newcommand\egtrial[2]{% #2 set in box 0 as \egname sets it, #1 wide, its overfull lines unreported
  \setbox0\vbox{\hfuzz=\maxdimen\hsize=\dimexpr#1bp-5mm\relax\egblock#2}}
\newcommand\egname[3]{% a named cover: #3 the name's lines on a white ground that hides the sticker box, the
  % name \LARGE, or \Large or \large where the block would be taller than the box
  \let\egsize\LARGE\egtrial{#1}{#3}%
  \ifdim\dimexpr\ht0+\dp0\relax>#2bp\let\egsize\Large\egtrial{#1}{#3}\fi
  \ifdim\dimexpr\ht0+\dp0\relax>#2bp\let\egsize\large\fi
  \egoverlay{#1}{#2}{\pdfextension literal page{q 1 g 0 0 #1 #2 re f Q}\vfil
    \hbox to\hsize{\hskip\egbleed\vbox{\hsize=\dimexpr#1bp-5mm\relax\egblock#3}\hss}\vfil}}
"""


def tex_text(text: str, breaks: bool = False) -> str:
    """Plain text (a name) as LaTeX: pylatex's escaping, each run in its font and, with ``breaks``, a
    penalty at every space and after every hyphen that is lower the later it comes. pylatex writes ^
    as an accent on nothing (``\\^{}``), which prints and reads back as a circumflex: the ASCII
    character is \\textasciicircum."""
    from pylatex.utils import escape_latex  # only the copies writer needs pylatex

    places = len(re.findall(r" |-(?=\S)", text)) if breaks else 0

    def escaped(run: str) -> str:
        nonlocal places
        pieces = []
        for piece in re.split(r"( |-(?=\S))", run):
            pieces.append(str(escape_latex(piece)).replace(r"\^{}", r"\textasciicircum{}") if piece != " " else "")
            if piece in (" ", "-") and breaks:
                pieces.append(rf"\egbreak{{{places}}}")
                places -= 1
            if piece == " ":
                pieces.append(r"\ ")
        return "".join(pieces)

    latex = []
    for font, run in font_runs(text):
        assert font is not None, "check_printable let a character no font has through"
        latex.append(escaped(run) if font.name == "latin" else
                     rf"\eg{'rtl' if font.rtl else 'in'}{{eg{font.name}}}{{{escaped(run)}}}")
    return "".join(latex)


def font_declarations(texts: list[str]) -> str:
    """The NFSS families of the fonts ``texts`` use (LaTeX loads a font where it is first used)."""
    used = {font.name for text in texts for font, _ in font_runs(text) if font} | {"latin"}
    return "\n".join(font.declaration() for font in FONTS if font.name in used)


def overlay_source(copies: tuple[Copy, ...], stamp: Stamp, label: dict[str, str]) -> str:
    """overlays.tex: per copy its code label, then (with a roster) its name; each name line is
    marked with its roster row, so a LaTeX error names the row (stages/compile.py)."""
    named = [copy.student for copy in copies if copy.student and stamp.sticker]
    texts = [text for student in named for text in (student.printed_name, student.registration, student.seat,
                                                  student.room)]
    preamble = OVERLAY_PREAMBLE.replace(r"\egdepth", f"{LABEL_DEPTH_MM}mm").replace(r"\egbleed", f"{STICKER_BLEED}bp")
    lines = [preamble + font_declarations(texts), r"\begin{document}"]
    for copy in copies:
        lines.append(rf"\eglabel{{{stamp.code.width:.3f}}}{{{stamp.code.height:.3f}}}{{{copy.code}}}")
        student = copy.student
        if student and stamp.sticker:
            width, height = stamp.sticker.width + 2 * STICKER_BLEED, stamp.sticker.height + 2 * STICKER_BLEED
            facts = [rf"\mbox{{{label[key]} {tex_text(value)}}}" for key, value in (
                ("registration_label", student.registration), ("seat_label", student.seat),
                ("room_label", student.room)) if value]  # a fact breaks between lines, never inside
            name = (rf"{{\small {label['name_label']}}}\par"
                    rf"{{\egsize\bfseries {tex_text(student.printed_name, breaks=True)}\par}}")
            lines.append(source_marker(f"roster {student.loc.line}", "roster row", student.loc))
            lines.append(rf"\egname{{{width:.3f}}}{{{height:.3f}}}{{{name}\medskip"
                         rf"{{\normalsize {QUAD.join(facts)}}}}}")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def typeset_overlays(copies: tuple[Copy, ...], stamp: Stamp, label: dict[str, str], folder: Path,
                     out: Collector) -> Path:
    """One LuaLaTeX run for every copy's overlays; returns the PDF. A name block that does not fit the
    sticker box is an error at its roster row."""
    job = Job("overlays", folder, "document", max_errors=TEX_ERROR_LIMIT, engine="lualatex")
    folder.mkdir(parents=True, exist_ok=True)
    source = overlay_source(copies, stamp, label)
    job.tex.write_text(source, encoding="utf-8")
    students = {copy.student.loc.line or 0: copy.student for copy in copies if copy.student}  # by roster line
    log = compile_document(job, out)
    tex_lines = source.splitlines()
    marked = pieces(tex_lines)
    misfits: dict[Student, str] = {}  # a student -> how far the name block is too wide or too high
    for match in OVERFULL.finditer(log):
        excess, direction, *lines = match.groups()
        line = int(next(found for found in lines if found))
        row = source_of(marked, line).loc
        student = students.get(row.line or 0) if row else None
        if student and tex_lines[line - 1].startswith(r"\egname"):
            misfits.setdefault(student, f"{float(excess):.0f} pt too {direction}")
    if misfits:
        raise ErrorGroup.of([SourceError(
            f"{printable(student.printed_name)}: the name block is {excess} for the cover's sticker box (a name, "
            "registration number, seat or room with no space to break at, or a name too long): shorten it in the "
            "roster", student.loc, "roster row") for student, excess in misfits.items()])
    return job.pdf


# --- the PDFs -------------------------------------------------------------------------------------


def _numbers(values) -> bytes:
    return b" ".join(b"%g" % float(value) for value in values)


def page_form(page, importer: Importer, without_sticker: bool = False) -> bytes:
    """A page of a compiled PDF as a form XObject: its content (copied as compressed, or without the
    marked sticker box for a named cover) and resources."""
    from pypdf.generic import StreamObject

    contents = page.raw_get("/Contents").get_object()
    if isinstance(contents, StreamObject) and contents.get("/Filter") == "/FlateDecode" \
            and "/DecodeParms" not in contents and not without_sticker:
        data = contents._data
    else:
        data = zlib.compress(STICKER.sub(b"", page.get_contents().get_data()) if without_sticker
                             else page.get_contents().get_data(), 6)
    group = b"/Group %s\n" % importer.direct(page["/Group"]) if "/Group" in page else b""
    return stream(b"/Type /XObject\n/Subtype /Form\n/BBox [%s]\n/Resources %s\n%s/Filter /FlateDecode\n"
                  % (_numbers(page.mediabox), importer.direct(page["/Resources"]), group), data)


def pdf_date(exam: Exam, epoch: str | None) -> bytes:
    """The copies' date: SOURCE_DATE_EPOCH if set, else the exam's date (never the clock)."""
    when = (datetime.datetime.fromtimestamp(int(epoch), datetime.UTC) if epoch
            else datetime.datetime.combine(exam.meta.date, datetime.time(), datetime.UTC))
    return when.strftime("D:%Y%m%d%H%M%SZ").encode()


class CopiesPdf:
    """The objects every copy shares (the student PDF's pages as forms, the fonts of the overlays,
    the document information), and each copy's own (its pages, its QR codes, its overlays)."""

    def __init__(self, student_pdfs: Mapping[str | None, Path], overlays_pdf: Path, copies: tuple[Copy, ...],
                 stamp: Stamp, info: bytes):
        """``student_pdfs``: the student PDF of each variant the copies use (by None without variants)."""
        from pypdf import PdfReader

        self.copies, self.stamp = copies, stamp
        importer = Importer(1)
        base: list[bytes] = []
        self.forms: dict[str | None, list[int]] = {}  # variant -> its pages' forms, then its cover's without sticker
        for variant, student_pdf in student_pdfs.items():
            pages = PdfReader(student_pdf).pages
            forms = [page_form(page, importer) for page in pages]
            if any(copy.student for copy in copies):  # the cover without its sticker box, for named copies
                forms.append(page_form(pages[0], importer, without_sticker=True))
            self.forms[variant] = list(range(len(base), len(base) + len(forms)))
            base += forms
        overlays = [page_form(page, importer) for page in PdfReader(overlays_pdf).pages]
        per_copy = len(overlays) // len(copies)
        self.overlays = [overlays[i * per_copy:(i + 1) * per_copy] for i in range(len(copies))]
        first = len(importer.bodies) + 1
        self.forms = {variant: [first + at for at in forms] for variant, forms in self.forms.items()}
        self.info = len(importer.bodies) + len(base) + 1
        self.file = PdfFile([*importer.bodies, *base, info])
        self.box = b"[0 0 %s]" % _numbers(stamp.page_size)

    @property
    def objects_per_copy(self) -> int:
        return 1 + len(self.overlays[0]) + 2 * self.stamp.pages

    def copy_objects(self, index: int, contents: list[bytes], first: int, parent: int | None) -> list[bytes]:
        """Copy ``index``'s objects numbered from ``first``: its page tree node, its overlay forms,
        then each page and its content stream."""
        overlays = self.overlays[index]
        pages_at = first + 1 + len(overlays)
        kids = b" ".join(b"%d 0 R" % (pages_at + 2 * i) for i in range(self.stamp.pages))
        node = b"<< /Type /Pages /Kids [%s] /Count %d%s >>" % (
            kids, self.stamp.pages, b" /Parent %d 0 R" % parent if parent else b"")
        objects = [node, *overlays]
        names = [b"/C %d 0 R" % (first + 1)] + ([b"/N %d 0 R" % (first + 2)] if len(overlays) > 1 else [])
        named = self.copies[index].student is not None
        variant = self.copies[index].variant
        forms, printed = self.forms[variant], self.stamp.base_pages[variant]
        for page, content in enumerate(contents, 1):
            base = forms[-1] if page == 1 and named else forms[page - 1] if page <= printed else None
            shown = [b"/P %d 0 R" % base] if base else []
            shown += names if page == 1 else names[:1]
            at = pages_at + 2 * (page - 1)
            objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox %s /Resources << /XObject << %s >> >> "
                           b"/Contents %d 0 R >>" % (first, self.box, b" ".join(shown), at + 1))
            objects.append(stream(b"/Filter /FlateDecode\n", content))
        return objects

    def single(self, index: int, contents: list[bytes]) -> Written:
        """One copy as a PDF of its own (``--split``, ``--only``)."""
        first = self.file.shared + 1
        objects = self.copy_objects(index, contents, first, None)
        catalog = first + len(objects)
        return self.file.file([*objects, b"<< /Type /Catalog /Pages %d 0 R >>" % first], catalog, self.info)

    def print_file(self, contents: Iterator[list[bytes]]) -> Written:
        """All copies in order (print.pdf); ``contents`` yields each copy's page contents."""
        first, n = self.file.shared + 1, self.objects_per_copy
        root = first + n * len(self.copies)
        objects: list[bytes] = []
        for index, content in enumerate(contents):
            objects += self.copy_objects(index, content, first + index * n, root)
        kids = b" ".join(b"%d 0 R" % (first + i * n) for i in range(len(self.copies)))
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self.copies) * self.stamp.pages))
        objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % root)
        return self.file.file(objects, root + 1, self.info)


def manifest_json(exam: Exam, copies: tuple[Copy, ...], pages: int, hashes: list[str], key: str) -> str:
    """The copies' record: each copy's code, student, variant, pages and digest, and the digest of
    the key they were made with (``key_sha256``), so that a later command notices a changed exam."""
    entries = [{**copy.json(), "first_page": index * pages + 1, "last_page": (index + 1) * pages,
                "sha256": digest} for index, (copy, digest) in enumerate(zip(copies, hashes))]
    data = {"exam": exam.id, "code": exam.meta.code, "copies": len(copies), "pages_per_copy": pages,
            "print_file": "print.pdf", "key_sha256": key, "entries": entries}
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def info_object(exam: Exam, epoch: str | None) -> bytes:
    date = pdf_date(exam, epoch)
    return (b"<< /Producer (examgen) /Title (%s copies) /CreationDate (%s) /ModDate (%s) >>"
            % (exam.meta.code.encode(), date, date))

