r"""Exam texts as HTML for the platforms that show HTML (Moodle, QTI), and the parts as questions.

A small converter for the LaTeX that exam texts use, rather than a library: pylatexenc's
``latex2text`` makes plain text (math flattened to Unicode, lists and tables lost); a
converter on its ``LatexWalker`` (tried: the same rules over its nodes, the same HTML for all
510 texts of the three exams) is half as long, but less strict (a ``^`` or ``_`` in prose,
``\textbf x`` pass) and some 30 times slower (parsing those texts alone takes 220 ms, this
whole conversion 7 ms); pandoc is a 100 MB tool for a few dozen commands.
Math is the platform's (``Converter``'s ``math``): by default TeX, between ``\( … \)`` and
``\[ … \]``, for MathJax to typeset (``align*`` becomes ``aligned``, which MathJax knows in any
configuration); QTI's is MathML (writers/qti.py), and a formula it cannot convert stays TeX with a
warning at its line (``KeptTex``). Prose commands become XHTML
elements (well-formed XML, as QTI needs). A figure or table stands in a text as examgen draws
it (the default theme's ``egblock``, ``\egpicture``, ``\egcaption``, ``tabular``): where a
theme draws it otherwise, that markup is beside the drawing in comment lines, and the
drawing is never read (model/rendered.drawn_beside). Whatever else a text holds is an
ExportError naming its part and line: a text is never silently mangled.

Over 500 lines, as one module: the converter is one recursive reading of a text whose rules
call each other (prose, math, environments, figures and tables), and the parts as questions are
its one client, which needs its errors located the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import NoReturn

from ..errors import Collector, ExportError, Loc
from ..kinds.base import Choose
from ..model.fields import unfit_character, unfit_message
from ..model.rendered import DRAWN, DRAWN_END, EXPORTED, Latex, RenderedExam
from ..model.source import Figure, Part, Problem, says_none
from ..numbers import format_number

MATH_ENVIRONMENTS = {"equation": "", "equation*": "", "displaymath": "", "align": "aligned",
                     "align*": "aligned", "gather": "gathered", "gather*": "gathered"}
WRAPPING = {"textbf": "strong", "emph": "em", "textit": "em", "texttt": "code", "textsl": "em"}
TRANSPARENT = {"mbox", "text", "textrm", "textsf", "textnormal", "textup", "makebox"}
IGNORED = {"small", "footnotesize", "scriptsize", "tiny", "normalsize", "large", "Large", "LARGE", "huge",
           "raggedright", "raggedleft", "centering", "noindent", "medskip", "smallskip", "bigskip", "relax",
           "toprule", "midrule", "bottomrule", "hline", "nobreak", "linebreak", "allowbreak", "bfseries",
           "itshape", "ttfamily", "sffamily", "rmfamily", "normalfont", "unskip", "ignorespaces"}
DROPPED_WITH_ARGUMENT = {"hspace", "vspace", "label", "egplaced", "message", "phantom", "vphantom", "hphantom"}
SYMBOLS = {"%": "%", "&": "&amp;", "\n": " ", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", ",": "&#8201;",
           " ": " ", ";": "&#8197;", "quad": "&#8195;", "qquad": "&#8195;&#8195;", "ldots": "&#8230;",
           "dots": "&#8230;", "textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^",
           "LaTeX": "LaTeX", "TeX": "TeX", "ss": "ß", "euro": "€", "textdegree": "°", "-": "",
           "newline": "<br/>", "par": "\n\n", "slash": "/", "textendash": "&#8211;", "textemdash": "&#8212;"}
LISTS = {"itemize": "ul", "enumerate": "ol"}
CONTAINERS = {"center", "flushleft", "flushright", "egblock", "minipage", "adjustbox"}
PROSE = [("---", "&#8212;"), ("--", "&#8211;"), ("``", "&#8220;"), ("''", "&#8221;"), ("`", "&#8216;"),
         ("~", "&#160;"), ("<", "&lt;"), (">", "&gt;"), ("&", "&amp;"), ('"', "&quot;")]
LINES_PER_CM = 1.2  # typed lines per cm of handwriting space
COMMAND = re.compile(r"\\([a-zA-Z@]+\*?|.)", re.S)
PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
PLACED = re.compile(re.escape(EXPORTED) + r"[^\n]*\n(?P<markup>(?:%[^\n]*\n)*?)" + re.escape(DRAWN) + ".*?"
                    + re.escape(DRAWN_END), re.S)  # a placement a theme draws its own way (model/rendered.py)
BLOCK_TAG = re.compile(r"<(?:div|ul|ol|table|p)\b")  # XHTML a paragraph (<p>) must not hold


@dataclass(frozen=True)
class Image:
    """A figure as a platform shows it: a PNG (or the exam's own image file) with a name unique in the exam."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Html:
    """A text as XHTML, and the names of the images it shows."""

    text: str
    images: tuple[str, ...] = ()

    def __add__(self, other: Html) -> Html:
        return Html(self.text + other.text, self.images + tuple(i for i in other.images if i not in self.images))


@dataclass(frozen=True)
class KeptTex:
    """A formula the platform's math could not convert, kept as TeX: where it starts in its text."""

    at: int
    tex: str


@dataclass
class _Found:
    """What one conversion met beyond its XHTML: the images it shows, the formulas kept as TeX."""

    images: list[str] = field(default_factory=list)
    kept: list[KeptTex] = field(default_factory=list)


class Unconvertible(Exception):
    """Something in a text the converter has no rule for, at an offset of the text."""

    def __init__(self, message: str, at: int):
        super().__init__(message)
        self.message, self.at = message, at


class Converter:
    """LaTeX texts to XHTML. ``images`` maps a TikZ picture's key (``\\egpicture``) and an image
    figure's file name (``\\includegraphics``) to the image shown; ``labels`` a ``\\label`` to its
    number as the student PDF printed it; ``words`` the theme's "Figure" and "Table" (by ``figure``,
    ``table``); ``source`` an image's name to its address on the platform; ``math`` a formula's TeX
    (and whether it is displayed) to the platform's XHTML for it, None where it cannot convert it
    (then it stays TeX); without ``math``, every formula is TeX for MathJax. ``instead``, for a screen
    that shows what it can (marking): the XHTML shown, given why, in place of a figure without an
    image or a text it cannot convert, which are errors without it."""

    def __init__(self, images: Mapping[str, Image], labels: Mapping[str, str], words: Mapping[str, str],
                 source: Callable[[str], str], math: Callable[[str, bool], str | None] | None = None,
                 instead: Callable[[str], str] | None = None):
        self.images, self.labels, self.words, self.source, self.math = images, labels, words, source, math
        self.instead = instead

    def convert(self, latex: str, block: bool = True, kept: list[KeptTex] | None = None) -> Html:
        """A text as XHTML: in paragraphs (``block``), or inline (an option, a title); the formulas
        the platform's math could not convert are added to ``kept``."""
        unfit = unfit_character(latex)
        if unfit is not None:  # brought in by a computed value: the source's own texts are checked
            raise Unconvertible(unfit_message(unfit).replace("holds", "the text holds", 1), latex.index(unfit))
        found = _Found()
        body = _Reading(self, latex, found).run()
        if block:
            body = "".join(f"<div>{piece}</div>" if BLOCK_TAG.search(piece) else f"<p>{piece}</p>"
                           for piece in PARAGRAPH.split(body.strip()) if piece.strip())
        if kept is not None:
            kept += found.kept
        return Html(body.strip(), tuple(dict.fromkeys(found.images)))

    def text(self, latex: Latex | str, out: Collector, block: bool = True) -> Html:
        """``convert``, an unconvertible text noted in ``out`` with its part and line (an empty result),
        a formula kept as TeX warned of there."""
        loc, context = getattr(latex, "loc", None), getattr(latex, "context", None)

        def line(at: int) -> Loc | None:
            return loc.shifted(latex[:at].count("\n")) if isinstance(loc, Loc) else None

        kept: list[KeptTex] = []
        try:
            html = self.convert(latex, block, kept)
        except Unconvertible as problem:
            if self.instead:
                return Html(self.instead(problem.message))
            out.error(ExportError(f"cannot convert to HTML: {problem.message}", line(problem.at), context))
            return Html("")
        for formula in kept:
            tex = " ".join(formula.tex.split())
            out.warn(f"the formula '{tex if len(tex) < 60 else tex[:57] + '...'}' is kept as TeX: the platform's "
                     "math (MathML) cannot convert it",
                     line(formula.at), context)
        return html

    def plain_text(self, latex: str) -> str:
        """A text as plain text, its formulas as bare TeX: an image's alternative text."""
        return plain(Html(_Reading(self, latex, _Found(), plain_math=True).run()))

    def alt(self, kind: str, label: str, caption: str | None) -> str:
        """An image's alternative text: its caption as the student PDF numbers it ("Figure 2.1: …")."""
        if caption is None:
            return self.words[kind]
        return f"{self.words[kind]} {self.labels.get(label, '')}: {self.plain_text(caption)}"


class _Reading:
    """One pass over a text."""

    def __init__(self, converter: Converter, text: str, found: _Found, offset: int = 0, alt: str | None = None,
                 plain_math: bool = False):
        self.converter, self.text, self.found, self.offset = converter, text, found, offset
        self.alt = alt  # an image's alternative text here: the caption of its block
        self.plain_math = plain_math  # formulas as bare TeX (in an alternative text)
        self.at = 0

    def reading(self, text: str, offset: int, alt: str | None = None) -> _Reading:
        """Another reading of (a stretch of) this text, meeting what this one meets."""
        return _Reading(self.converter, text, self.found, offset, alt or self.alt, self.plain_math)

    def fail(self, message: str, at: int | None = None) -> NoReturn:
        raise Unconvertible(message, self.offset + (self.at if at is None else at))

    def inner(self, start: int, end: int) -> str:
        """The XHTML of a stretch of this text."""
        return self.reading(self.text[start:end], self.offset + start).run()

    def run(self) -> str:
        out: list[str] = []
        text = self.text
        while self.at < len(text):
            char = text[self.at]
            if char == "\\":
                out.append(self.command())
            elif char == "$":
                out.append(self.dollar_math())
            elif char == "{":
                end = self.group_end(self.at)
                out.append(self.inner(self.at + 1, end))
                self.at = end + 1
            elif char == "}":
                self.fail("a '}' without its '{'")
            elif char == "%":
                placed = PLACED.match(text, self.at)
                if placed:
                    out.append(self.placed(placed))
                else:
                    newline = text.find("\n", self.at)
                    self.at = len(text) if newline < 0 else newline + 1
            elif char in "&^_":
                self.fail(f"a '{char}' outside math and tables")
            else:
                out.append(self.prose())
        return "".join(out)

    def placed(self, placed: re.Match[str]) -> str:
        """A figure or table that a theme draws its own way: the default theme's markup written
        beside the drawing (model/rendered.drawn_beside), the drawing left out."""
        markup = "".join(line[1:] for line in placed.group("markup").splitlines(keepends=True))
        try:
            html = self.reading(markup, 0).run()
        except Unconvertible as problem:  # at its place in the commented lines: one '%' more per line
            lines = markup.count("\n", 0, problem.at) + 1
            self.fail(problem.message, placed.start("markup") + problem.at + lines)
        self.at = placed.end()
        return html

    def prose(self) -> str:
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in "\\${}%&^_":
            self.at += 1
        return _prose(self.text[start:self.at])

    def group_end(self, start: int) -> int:
        """The offset of the '}' closing the '{' at start."""
        depth, at = 0, start
        while at < len(self.text):
            char = self.text[at]
            if char == "\\":
                at += 2
                continue
            if char == "%":
                newline = self.text.find("\n", at)
                at = len(self.text) if newline < 0 else newline
                continue
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth == 0:
                return at
            at += 1
        self.fail("a '{' without its '}'", start)

    def argument(self) -> tuple[int, int]:
        """The next braced argument (after spaces): its inner start and end; the reading moves past it."""
        while self.at < len(self.text) and self.text[self.at] in " \t\n":
            self.at += 1
        if self.at >= len(self.text) or self.text[self.at] != "{":
            self.fail("a command without its {argument}")
        end = self.group_end(self.at)
        start, self.at = self.at + 1, end + 1
        return start, end

    def raw_argument(self) -> str:
        start, end = self.argument()
        return self.text[start:end]

    def optional(self) -> str | None:
        """An optional [argument], if one follows."""
        if self.at < len(self.text) and self.text[self.at] == "[":
            end = self.text.find("]", self.at)
            if end < 0:
                self.fail("a '[' without its ']'")
            value, self.at = self.text[self.at + 1:end], end + 1
            return value
        return None

    def math(self, body: str, display: bool, start: int) -> str:
        """A formula in the platform's math, or as TeX for MathJax where it has none or cannot convert it."""
        body = PARAGRAPH.sub("\n", body.strip())  # a blank line would end the paragraph around it
        if self.plain_math:
            return escape(body, quote=False)
        if self.converter.math is not None:
            markup = self.converter.math(body, display)
            if markup is not None:
                return markup
            self.found.kept.append(KeptTex(self.offset + start, body))
        return (r"\[" if display else r"\(") + escape(body, quote=False) + (r"\]" if display else r"\)")

    def dollar_math(self) -> str:
        display = self.text.startswith("$$", self.at)
        delimiter = "$$" if display else "$"
        opening = self.at
        start = self.at + len(delimiter)
        end = start
        while True:
            end = self.text.find(delimiter, end)
            if end < 0:
                self.fail(f"a '{delimiter}' without its closing '{delimiter}'")
            if self.text[end - 1] != "\\":
                break
            end += 1
        self.at = end + len(delimiter)
        return self.math(self.text[start:end], display, opening)

    def until(self, closing: str, start: int) -> int:
        end = self.text.find(closing, start)
        if end < 0:
            self.fail(f"no '{closing}' closes it")
        return end

    def command(self) -> str:
        match = COMMAND.match(self.text, self.at)
        if match is None:
            self.fail("a '\\' at the end of the text")
        name, start = match.group(1), self.at
        self.at = match.end()
        if name in "([":
            closing = r"\)" if name == "(" else r"\]"
            end = self.until(closing, self.at)
            body, self.at = self.text[self.at:end], end + 2
            return self.math(body, name == "[", start)
        if name == "\\":
            self.optional()
            return "<br/>"
        if name.isalpha():
            while self.at < len(self.text) and self.text[self.at] in " \t":
                self.at += 1
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in IGNORED:
            return ""
        if name in DROPPED_WITH_ARGUMENT or name.rstrip("*") in DROPPED_WITH_ARGUMENT:
            self.argument()
            return ""
        if name in WRAPPING:
            start_, end = self.argument()
            tag = WRAPPING[name]
            return f"<{tag}>{self.inner(start_, end)}</{tag}>"
        if name in TRANSPARENT:
            self.optional()
            start_, end = self.argument()
            return self.inner(start_, end)
        if name == "ref":
            label = self.raw_argument()
            if label not in self.converter.labels:
                self.fail(f"\\ref{{{label}}}: the student PDF has no such label")
            return self.converter.labels[label]
        if name == "egpicture":
            return self.image(self.raw_argument(), start)
        if name == "includegraphics":
            self.optional()
            return self.image(self.raw_argument(), start)
        if name == "egcaption":
            word, _, (caption_start, caption_end) = self.raw_argument(), self.raw_argument(), self.argument()
            return f"<br/>{_prose(word)} {self.caption_number()}: {self.inner(caption_start, caption_end)}"
        if name == "begin":
            return self.environment(self.raw_argument(), start)
        self.fail(f"\\{name} (examgen's HTML converter has no rule for it)", start)

    def caption_alt(self, start: int, end: int) -> str | None:
        r"""The plain text of the ``\egcaption`` in a block (``Figure 2.1: …``), for its image's alternative text."""
        caption = self.text.find(r"\egcaption", start, end)
        if caption < 0:
            return None
        reading = _Reading(self.converter, self.text[:end], _Found(), self.offset, plain_math=True)
        reading.at = caption
        return plain(Html(reading.command()))

    def caption_number(self) -> str:
        r"""The number of the caption the ``\label`` after it names, as the student PDF printed it."""
        label = re.match(r"\s*\\label\{([^}]*)\}", self.text[self.at:])
        if label and self.converter.instead and label.group(1) not in self.converter.labels:
            return "?"  # the student PDF's numbers are not at hand (no build): the caption is still shown
        if not label or label.group(1) not in self.converter.labels:
            self.fail("a caption without a label the student PDF numbered")
        return self.converter.labels[label.group(1)]

    def image(self, key: str, at: int) -> str:
        image = self.converter.images.get(key)
        if image is None and self.converter.instead:
            return self.converter.instead(f"the figure '{key}' has no rendered image")
        if image is None:
            self.fail(f"no rendered image for the figure '{key}'", at)
        self.found.images.append(image.name)
        alt = self.alt if self.alt is not None else self.converter.words["figure"]
        return f'<img src="{escape(self.converter.source(image.name))}" alt="{escape(alt)}"/>'

    def environment(self, name: str, start: int) -> str:
        end = self.environment_end(name)
        body_start, body_end = self.at, end
        self.at = end + len(f"\\end{{{name}}}")
        if name in MATH_ENVIRONMENTS:
            inner = MATH_ENVIRONMENTS[name]
            body = self.text[body_start:body_end]
            return self.math(rf"\begin{{{inner}}}{body}\end{{{inner}}}" if inner else body, True, start)
        if name in LISTS:
            return self.list(LISTS[name], body_start, body_end)
        if name == "tabular":
            return self.table(body_start, body_end)
        if name in CONTAINERS:
            reading = self.reading(self.text[:body_end], self.offset, self.caption_alt(body_start, body_end))
            reading.at = body_start
            reading.optional()
            if name in ("minipage", "adjustbox"):
                reading.argument()
            return f"<div>{PARAGRAPH.sub('<br/>', reading.inner(reading.at, body_end).strip())}</div>"
        self.fail(f"the environment '{name}' (examgen's HTML converter has no rule for it)", start)

    def environment_end(self, name: str) -> int:
        r"""The offset of the ``\end{name}`` that closes the environment begun just before."""
        opening, closing = f"\\begin{{{name}}}", f"\\end{{{name}}}"
        depth, at = 1, self.at
        while True:
            end = self.text.find(closing, at)
            if end < 0:
                self.fail(f"\\begin{{{name}}} without its \\end{{{name}}}")
            depth += self.text.count(opening, at, end) - 1
            if depth == 0:
                return end
            at = end + len(closing)

    def list(self, tag: str, start: int, end: int) -> str:
        items = list(re.finditer(r"\\item(?![a-zA-Z])\s*", self.text[start:end]))
        bounds = [(item.end(), after.start()) for item, after in zip(items, items[1:])]
        bounds += [(items[-1].end(), end - start)] if items else []
        entries = [PARAGRAPH.sub("<br/>", self.inner(start + a, start + b).strip()) for a, b in bounds]
        return f"<{tag}>" + "".join(f"<li>{entry}</li>" for entry in entries) + f"</{tag}>" if entries else ""

    def table(self, start: int, end: int) -> str:
        reading = self.reading(self.text[:end], self.offset)
        reading.at = start
        reading.argument()  # the column spec
        rows = _split(self.text, reading.at, end, r"\\")
        html_rows = []
        for row_start, row_end in rows:
            cells = _split(self.text, row_start, row_end, "&")
            converted = [PARAGRAPH.sub("<br/>", self.inner(a, b).strip()) for a, b in cells]
            if any(converted):
                html_rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in converted) + "</tr>")
        return "<table><tbody>" + "".join(html_rows) + "</tbody></table>"


def _prose(text: str) -> str:
    text = escape(text, quote=False)
    for latex, html in PROSE[:6]:
        text = text.replace(latex, html)
    return text


def _split(text: str, start: int, end: int, separator: str) -> list[tuple[int, int]]:
    """The stretches of text[start:end] between separators outside braces and math."""
    pieces, depth, math, at, begin = [], 0, False, start, start
    while at < end:
        char = text[at]
        if text.startswith(separator, at) and depth == 0 and not math:
            pieces.append((begin, at))
            at += len(separator)
            begin = at
            continue
        if char == "\\":
            at += 2
            continue
        if char == "$":
            math = not math
        depth += {"{": 1, "}": -1}.get(char, 0)
        at += 1
    pieces.append((begin, end))
    return pieces


def plain(html: Html) -> str:
    """An inline text's XHTML as plain text (a question's or a category's name)."""
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", "", html.text)).split())


# --- the parts as questions ------------------------------------------------------------------------

NONE_OF_THESE = {"en": "None of these options is correct.", "de": "Keine dieser Antworten ist richtig."}
EARLIER = {"en": "Earlier parts of this problem", "de": "Die vorigen Teilaufgaben dieser Aufgabe"}
LABEL = re.compile(r"\\label\{([^}]*)\}")
REF = re.compile(r"\\ref\{([^}]*)\}")
# What a part's text may refer to that its exported question cannot show, as the words that do
LACKING = [
    ("an earlier answer", re.compile(
        r"\b(your|the previous|the preceding|the earlier|the above) (results?|answers?|solutions?|values?)\b"
        r"|\byou (computed|calculated)\b|\b(ihr|ihre|ihrem|ihren|dein|deine|deinem|deinen) "
        r"(ergebnis|antwort|lösung)|\b(berechnete|ermittelte)[nmrs]?\b", re.I)),
    ("a later part", re.compile(r"\b(next|following|later) (parts?|subproblems?|questions?|tasks?)\b"
                                r"|\b(nächste|folgende)n? (teilaufgabe|aufgabe)", re.I)),
    ("a page of the paper", re.compile(r"\b(next|following|previous|last) page\b|\boverleaf\b"
                                       r"|\b(nächsten|vorigen|vorherigen|letzten) seite\b", re.I)),
]


@dataclass(frozen=True)
class Note:
    points: float | None
    text: Html


@dataclass(frozen=True)
class Earlier:
    """A part before the question's in its problem, as context: its number, lead and prompt."""

    number: str
    text: Html


@dataclass(frozen=True)
class Question:
    """A part as an online platform asks it, answerable alone: the problem's intro and its figures
    and tables, the leads and prompts of the parts before it, then the part's own lead and prompt;
    texts the student sees are the student view's, the solution and notes the solution view's."""

    problem: Problem[str]  # the solution view's records (the key)
    part: Part[str]
    title: str  # the problem's title as plain text
    language: str
    intro: Html  # the problem's intro and the figures and tables that follow it in the PDF
    earlier: tuple[Earlier, ...]
    text: Html  # the part's own lead and prompt
    options: tuple[Html, ...]
    none: Html | None  # "none of these" added as the last option: a choice part without its own
    solution: Html | None
    notes: tuple[Note, ...]
    variant: str | None = None  # its variant's label, in an exam with variants
    explanations: tuple[Html | None, ...] = ()  # why each option is right or wrong (None: not explained)

    @property
    def choices(self) -> tuple[Html, ...]:
        """The options a platform offers: the part's, then the added "none of these"."""
        return self.options + ((self.none,) if self.none else ())

    @property
    def lines(self) -> int:
        """How many lines a typed answer box offers: about as much as the paper's answer space."""
        return max(5, round((self.part.answer.space_cm() or 4.0) * LINES_PER_CM))

    @property
    def images(self) -> tuple[str, ...]:
        texts = [self.intro, *(earlier.text for earlier in self.earlier), self.text, *self.options]
        texts += [self.solution] if self.solution else []
        texts += [note.text for note in self.notes]
        texts += [text for text in self.explanations if text]
        return tuple(dict.fromkeys(name for text in texts for name in text.images))

    def body(self, collapsed: bool) -> Html:
        """The question's whole text; the earlier parts in a ``details`` element a reader opens
        (``collapsed``, where the platform's HTML has it), else in a ``div`` of their own."""
        html = self.intro
        if self.earlier:
            heading = escape(EARLIER.get(self.language, EARLIER["en"]))
            html += Html(f"<details><summary>{heading}</summary>" if collapsed
                         else f'<div class="earlier-parts"><p><em>{heading}</em></p>')
            for earlier in self.earlier:
                html += Html(f"<p><strong>{earlier.number}</strong></p>") + earlier.text
            html += Html("</details>" if collapsed else "</div>")
        return html + self.text


def unasked(question: Question, platform: str) -> ExportError:
    """The error for a part whose kind has no form the platform asks: an export refuses it rather
    than ask it as something it is not."""
    part = question.part
    return ExportError(f"{platform} cannot ask a {part.kind} part: its kind has no form that {platform} grades "
                       "(kinds.Answer.form, docs/exports.md); export the exam without it", part.loc, part.context,
                       variants=(question.variant,) if question.variant else ())


def worked(question: Question) -> Html:
    """The sample solution and the correction notes, for graders."""
    html = Html("")
    if question.solution:
        html += question.solution
    if question.notes:
        items = Html("")
        for note in question.notes:
            points = f"({format_number(note.points)}p) " if note.points is not None else ""
            items += Html(f"<li>{points}") + note.text + Html("</li>")
        html += Html("<ul>") + items + Html("</ul>")
    return html


def figure_key(figure: Figure[str]) -> str | None:
    """How a figure's image is known: a TikZ picture by its key in the figure cache, an image by its file name."""
    return figure.picture or figure.asset


def questions(rendered: RenderedExam, converter: Converter, out: Collector) -> list[Question]:
    """Every part of the exam as a question; all texts the converter cannot read are raised together,
    a text that refers to what its question lacks is warned of in ``out``."""
    problems = Collector()
    found = []
    language = rendered.exam.meta.language
    for problem, seen_problem in zip(rendered.exam.problems, rendered.student.exam.problems):
        title = plain(converter.text(problem.title, problems, block=False))
        intro = converter.text(seen_problem.intro, problems) if seen_problem.intro else Html("")
        intro += _unplaced(rendered, converter, seen_problem, problems)
        shown = set(_unplaced_labels(rendered, seen_problem))
        shown |= set(LABEL.findall(seen_problem.intro or ""))
        earlier: list[Earlier] = []
        for part, seen_part in zip(problem.parts, seen_problem.parts):
            own = [text for text in (seen_part.lead, seen_part.prompt) if text]
            text = Html("")
            for latex in own:
                text += converter.text(latex, problems)
            shown |= {label for latex in own for label in LABEL.findall(latex)}
            _warn_lacking(seen_part, own, shown, converter.labels, out)
            options = tuple(converter.text(box, problems, block=False) for box in seen_part.answer.boxes())
            solution_text = part.answer.written_solution()
            solution = converter.text(solution_text, problems) if solution_text else None
            notes = tuple(Note(note.points, converter.text(note.text, problems, block=False))
                          for note in part.answer.rubric())
            none = _added_none(part, options, language, rendered.variant, problems)
            explanations = tuple(converter.text(why, problems, block=False) if why else None
                                 for why in part.answer.explanations())
            found.append(Question(problem, part, title, language, intro, tuple(earlier), text, options, none,
                                  solution, notes, rendered.variant, explanations))
            earlier.append(Earlier(part.number, text))
    out.noted(problems.warnings)
    problems.raise_if_any()
    return found


def _added_none(part: Part[str], options: tuple[Html, ...], language: str, variant: str | None,
                out: Collector) -> Html | None:
    """The option "none of these" a choice part gets as its last ("cross nothing" is an answer no
    platform grades), unless it has one of its own: then that one is the part's way to say so. A
    single-choice part has its one correct option, and needs none."""
    form = part.answer.form()
    if not isinstance(form, Choose) or form.single:
        return None
    if not any(says_none(plain(option)) for option in options):
        return Html(escape(NONE_OF_THESE.get(language, NONE_OF_THESE["en"])))
    if not form.correct:
        out.error(ExportError("no option is correct, not even the part's own 'none of these': the paper's answer "
                              "is to cross nothing, which no platform grades; mark its 'none' option correct",
                              part.loc, part.context, variants=(variant,) if variant else ()))
    return None


def _warn_lacking(part: Part[str], texts: list[str], shown: set[str], labels: Mapping[str, str],
                  out: Collector) -> None:
    """Warn where a part's lead or prompt refers to what its exported question cannot show: an
    earlier answer, a later part, a page of the paper, a figure or table of elsewhere (``\\ref``)."""
    for text in texts:
        loc = getattr(text, "loc", None)

        def line(at: int, text: str = text, loc: Loc | None = loc) -> Loc | None:
            return loc.shifted(text[:at].count("\n")) if isinstance(loc, Loc) else part.loc

        for what, pattern in LACKING:
            for match in pattern.finditer(text):
                out.warn(f"'{match.group(0)}' refers to {what}, which the exported question cannot show: say "
                         "in the text what it needs (a value, the figure), or review the question after import",
                         line(match.start()), part.context)
        for ref in REF.finditer(text):
            if ref.group(1) not in shown:
                out.warn(f"it refers to {labels.get(ref.group(1), ref.group(1))} (\\ref{{{ref.group(1)}}}), which "
                         "its exported question does not show: only its problem's intro, figures and tables and "
                         "the parts up to it are there", line(ref.start()), part.context)


def _unplaced_labels(rendered: RenderedExam, problem: Problem[str]) -> list[str]:
    placed = rendered.student.placed[problem.number]
    return [figure.label for figure in problem.figures if figure.id not in placed] + \
        [table.label for table in problem.tables if table.id not in placed]


def _caption(converter: Converter, kind: str, label: str, caption: str | None, out: Collector) -> Html:
    if caption is None:
        return Html("")
    number = converter.labels.get(label, "")
    return Html(f"<p>{_prose(converter.words[kind])} {number}: ") + converter.text(caption, out, block=False) + \
        Html("</p>")


def _unplaced(rendered: RenderedExam, converter: Converter, problem: Problem[str], out: Collector) -> Html:
    """The problem's figures and tables that no text placed, as the student PDF shows them after the intro."""
    placed = rendered.student.placed[problem.number]
    html = Html("")
    for figure in problem.figures:
        if figure.id not in placed:
            key = figure_key(figure)
            image = converter.images.get(key) if key else None
            if image is None:
                out.error(ExportError(f"figure '{figure.id}' has no rendered image", figure.loc, problem.context))
                continue
            alt = converter.alt("figure", figure.label, figure.caption)
            img = f'<img src="{escape(converter.source(image.name))}" alt="{escape(alt)}"/>'
            html += Html(f"<div>{img}</div>", (image.name,))
            html += _caption(converter, "figure", figure.label, figure.caption, out)
    for table in problem.tables:
        if table.id not in placed:
            rows = ((table.header,) if table.header else ()) + table.rows
            cells = [[converter.text(cell, out, block=False) for cell in row] for row in rows]
            body = "".join("<tr>" + "".join(f"<td>{cell.text}</td>" for cell in row) + "</tr>" for row in cells)
            html += Html(f"<table><tbody>{body}</tbody></table>",
                         tuple(name for row in cells for cell in row for name in cell.images))
            html += _caption(converter, "table", table.label, table.caption, out)
    return html
