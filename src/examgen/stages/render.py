"""Stage 4, render: expand every text's template expressions, then the document.

One Jinja environment serves the templates and the exam texts, with
delimiters that leave LaTeX braces alone: ``<< expr >>``, ``<% stmt %>``,
``<# comment #>``. Names are strict: an undefined one is an error with the
text's file and line. It is a sandbox (sandbox/jinja.py): a text can't reach
Python's internals, build anything huge in one step, or run past a time or a
memory limit; each text, numeric answer and document renders under those limits.

Over 500 lines, as one module: the texts and the documents share one environment, its
filters, the store of compiled templates and the names a text may use, and rendering a view
is one pass over them; the sandbox itself (sandbox/jinja.py) is apart.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import contextvars
import dataclasses
import datetime
import difflib
import functools
import hashlib
import marshal
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType, MappingProxyType
from typing import Any

import jinja2
import jinja2.nodes
from jinja2.sandbox import SecurityError

from .. import __version__
from ..errors import Collector, ComputeError, ExamgenError, Loc, SourceError
from ..kinds import by_name
from ..model.computed import EXAM_SCOPE, ComputedExam, Scope
from ..model.rendered import Latex, RenderedExam, View, drawn_beside
from ..model.source import Code, Exam, Expression, Figure, Part, Problem, Table, Text
from ..numbers import format_number
from ..outputs import replace_file
from ..sandbox import jinja as sandbox_jinja
from ..sandbox.jinja import TemplateLimit, TemplateSandbox, run_limited
from ..theme import DEFAULT, Theme
from .load import spot_in_file

DELIMITERS = dict(
    block_start_string="<%", block_end_string="%>",
    variable_start_string="<<", variable_end_string=">>",
    comment_start_string="<#", comment_end_string="#>",
)
MARKERS = ("<<", "<%", "<#")
EMPTY: Mapping = MappingProxyType({})


TEX_SPECIALS = str.maketrans({
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "#": r"\#", "&": r"\&", "_": r"\_",
    "$": r"\$", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
})


def escape_tex(value) -> str:
    """Plain text made safe for LaTeX (%, #, &, _, $, ~, ^, \\, braces); Unicode passes through."""
    return str(value).translate(TEX_SPECIALS)


def grade_label(value: float) -> str:
    """A grading-box label in braces for a TikZ list: 0, ½, 1, 1½ …"""
    whole, half = int(value), value % 1 == 0.5
    return "{" + (f"{whole if whole or not half else ''}" + (r"$\frac{1}{2}$" if half else "")) + "}"


MONTH_SUFFIX = {1: "st", 2: "nd", 3: "rd"}


class Strings:
    """The theme's fixed sentences in one language, called in templates as ``_('key', name=value)``.

    A sentence is LaTeX with template expressions of its own (``<< pages >>``), filled with the
    values the template passes.
    """

    def __init__(self, env: jinja2.Environment, table: dict[str, object], language: str):
        self.env, self.table, self.language = env, table, language

    def __call__(self, key: str, **values) -> str:
        text = self.table.get(key)
        if not isinstance(text, str):
            raise TextProblem(f"the theme has no sentence '{key}' for language '{self.language}'")
        return _compiled(self.env, text).render(values) if any(m in text for m in MARKERS) else text

    def number(self, value: float) -> str:
        """A number in a sentence, with the language's decimal mark (``decimal`` in the table, default '.')."""
        return format_number(value, decimal=str(self.table.get("decimal", ".")))

    def marks(self) -> NumberMarks:
        """How the texts' numbers are written in this language, as LaTeX."""
        decimal, thousands = str(self.table.get("decimal", ".")), str(self.table.get("thousands", "{,}"))
        return NumberMarks("{,}" if decimal == "," else decimal, "{,}" if thousands == "," else thousands)

    def items(self, key: str) -> list[str]:
        """A list of sentences (``sticker_notes``)."""
        value = self.table.get(key)
        if not isinstance(value, list):
            raise TextProblem(f"the theme's '{key}' for language '{self.language}' must be a list of sentences")
        return [str(item) for item in value]

    def date(self, value: datetime.date) -> str:
        """A date in the language's long form (``Monday 1st August, 2022``)."""
        weekdays, months = self.table.get("weekdays"), self.table.get("months")
        if not (isinstance(weekdays, list) and len(weekdays) == 7 and isinstance(months, list) and len(months) == 12):
            raise TextProblem(f"the '{self.language}' strings need 'weekdays' (7) and 'months' (12) as lists")
        day = value.day
        suffix = "th" if 11 <= day % 100 <= 13 else MONTH_SUFFIX.get(day % 10, "th")
        return self("date", weekday=weekdays[value.weekday()], day=day, suffix=suffix,
                    month=months[value.month - 1], year=value.year)


@dataclasses.dataclass(frozen=True)
class NumberMarks:
    """A language's decimal mark and thousands mark in LaTeX: a comma as ``{,}``, which math mode
    does not space as punctuation (``0{,}5``)."""

    decimal: str = "."
    thousands: str = "{,}"

    def write(self, value, places: int | None = None, sep: str = "", fixed: bool = False) -> str:
        """``format_number`` in this language: a comma that groups thousands (``sep``) becomes the
        language's thousands mark, so that German's 3.215.360 never reads as a decimal."""
        grouping = self.thousands if sep in (",", "{,}") else sep
        return format_number(value, places, grouping, self.decimal, fixed)


PRINTED: contextvars.ContextVar[list[tuple[object, str]] | None] = contextvars.ContextVar("printed", default=None)
POINT_MARKS = NumberMarks()  # a decimal point: outside a rendering, and in English
MARKS: contextvars.ContextVar[NumberMarks] = contextvars.ContextVar("marks", default=POINT_MARKS)


def _num(value, places: int | None = None, sep: str = "", fixed: bool = False) -> str:
    """The texts' ``num`` filter: the number in the exam's language (``fixed``: with exactly ``places``
    decimals); the key notes it as ``format_number`` writes it, with a decimal point in every language
    (key.json is read by programs)."""
    text = MARKS.get().write(value, places, sep, fixed)
    printed = PRINTED.get()
    if printed is not None:
        printed.append((value, format_number(value, places, sep, fixed=fixed)))
    return text


MATRIX_BRACKETS = {"p": "pmatrix", "b": "bmatrix", "v": "vmatrix", "": "matrix"}


def _matrix(rows, places: int | None = None, fixed: bool = False, brackets: str = "p") -> str:
    """The texts' ``matrix`` filter: a list of rows (a matrix) or of numbers (a column vector) as
    LaTeX's ``pmatrix`` (``brackets``: p, b, v or '' for none), inside math; numbers as ``num`` prints
    them, texts as they are."""
    if brackets not in MATRIX_BRACKETS:
        raise TypeError(f"matrix's brackets are one of {', '.join(map(repr, MATRIX_BRACKETS))}, not {brackets!r}")
    if hasattr(rows, "tolist"):  # a numpy array
        rows = rows.tolist()
    if not isinstance(rows, (list, tuple)) or not rows:
        raise TypeError(f"matrix needs a list of rows or of numbers, not {rows!r}")
    table = [row if isinstance(row, (list, tuple)) else [row] for row in rows]
    cell = lambda v: v if isinstance(v, str) else _num(v, places, fixed=fixed)  # noqa: E731
    body = " \\\\ ".join(" & ".join(cell(value) for value in row) for row in table)
    name = MATRIX_BRACKETS[brackets]
    return rf"\begin{{{name}}} {body} \end{{{name}}}"


@contextlib.contextmanager
def _numbers_in(words: Strings):
    """Numbers written in ``words``' language while rendering (the ``num`` filter, data tables)."""
    token = MARKS.set(words.marks())
    try:
        yield
    finally:
        MARKS.reset(token)


FILTERS: dict[str, Callable[..., Any]] = dict(num=_num, tex=escape_tex, grade=grade_label, matrix=_matrix)


def _marked(value: object) -> object:
    """What ``<< value >>`` prints: an exam text after the marker that names its source line."""
    return value.marked() if isinstance(value, Latex) else value


@functools.cache
def environment(theme: Theme) -> jinja2.Environment:
    """One sandboxed environment for a theme's templates and the exam texts, searched layer by
    layer; ``default/NAME`` is always the packaged default (for templates that extend it)."""
    layers = [jinja2.FileSystemLoader(layer) for layer in theme.layers]
    loader = jinja2.ChoiceLoader([*layers, jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(DEFAULT)})])
    return TemplateSandbox(
        FILTERS, finalize=_marked, loader=loader, undefined=jinja2.StrictUndefined,
        autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        **DELIMITERS,
    )


def strings(theme: Theme, language: str) -> Strings:
    return Strings(environment(theme), theme.strings(language), language)


class TextProblem(Exception):
    """A mistake in an exam text found while expanding it; its message is shown as is."""


TEMPLATE_SPAN = re.compile(r"<<.*?>>|<%.*?%>|<#.*?#>", re.S)


def unbalanced_brace(source: str) -> tuple[str, int] | None:
    r"""The first brace without a partner and its 0-based line, ignoring ``\{``, comments
    and template expressions; None when the braces balance."""
    text = TEMPLATE_SPAN.sub(lambda m: "\n" * m.group().count("\n"), source)
    opened: list[int] = []
    line, i = 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            line += text[i + 1:i + 2] == "\n"
            i += 2
            continue
        if char == "%":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if char == "\n":
            line += 1
        elif char == "{":
            opened.append(line)
        elif char == "}":
            if not opened:
                return "}", line
            opened.pop()
        i += 1
    return ("{", opened[-1]) if opened else None


UNESCAPED_PERCENT = re.compile(r"(?<!\\)((?:\\\\)*)%")  # a % after an even number of backslashes
# LaTeX that hides the text after it from the PDF without any error
SWALLOWERS = re.compile(r"\\(?:iffalse|endinput|comment)(?![a-zA-Z])|\\begin\s*\{comment\}")


def percent_signs(source: str) -> str:
    r"""A prose text with each ``%`` typed as a percent sign (``\%``) rather than a LaTeX comment,
    which would silently drop the rest of its line; template expressions (``<< a % b >>``) keep theirs."""
    if "%" not in source:
        return source
    pieces = re.split(f"({TEMPLATE_SPAN.pattern})", source, flags=re.S)
    return "".join(piece if i % 2 else UNESCAPED_PERCENT.sub(r"\1\\%", piece) for i, piece in enumerate(pieces))


# A % where a LaTeX comment starts (at a line's start, or after a space that follows no number: "5 % of"
# is a percent sign), then a space and words to the end of the line
COMMENT_HABIT = re.compile(r"(?:^|(?<![\d\\])\s)(%[ \t]+\S[^\n]*)", re.M)


def comment_habits(source: str) -> list[tuple[int, str]]:
    """Each ``%`` of a prose text that looks like a LaTeX comment (``% TODO: ask tutor``), which prints
    as written, with its 0-based line; template expressions aside."""
    text = TEMPLATE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)
    return [(text.count("\n", 0, m.start(1)), m.group(1).rstrip()) for m in COMMENT_HABIT.finditer(text)]


def _template_frame(exc: BaseException, name: str = "<template>") -> traceback.FrameSummary | None:
    """Where in a template (a text's, or a file whose name ends with ``name``) ``exc`` was raised."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(name)]
    return frames[-1] if frames else None


TEXT_NAMES = ("figure", "table", "ref", "solution")  # what every text can use besides the computed values
PYTHON_NAMES = frozenset(dir(builtins))


def _closest(name: str, names) -> str | None:
    """The name meant where ``name`` is misspelt, if one of ``names`` is close."""
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return close[0] if close else None


def _computed_list(table: Table[str], key: str, name: str, values: Mapping[str, object], what: str) -> str:
    """Why a table's ``header`` or ``data`` names no fit computed list: a misspelt name gets a did-you-mean."""
    if name in values:
        return f"table '{table.id}': '{key}: {name}' must name a computed list of {what}"
    close = _closest(name, (n for n, v in values.items() if isinstance(v, list)))
    return (f"table '{table.id}': '{key}: {name}' names no computed value" +
            (f"; did you mean '{close}'?" if close else f": compute a list of {what} of that name"))


def _undefined(name: str, available: Mapping[str, object], unusable: Mapping[str, tuple[str, str]]) -> str:
    """Why a text cannot use ``name``, and what it can use instead."""
    if name in unusable:
        what, block = unusable[name]
        return (f"'{name}' is {what} (from the {block}), which no text can use: only numbers, text, "
                "lists and mappings reach the texts, so compute in the block what the text shows")
    computed = sorted(n for n in available if n not in TEXT_NAMES)
    if close := _closest(name, computed):
        return f"name '{name}' is not defined; did you mean '{close}'?"
    shown = ", ".join(computed[:12]) + (", ..." if len(computed) > 12 else "") if computed else "none"
    python = (f": texts are templates, not Python, and '{name}' is Python's; compute it in the problem's "
              "compute block and use the result" if name in PYTHON_NAMES else "")
    return (f"name '{name}' is not defined{python} (a text can use its problem's computed values ({shown}), "
            f"{', '.join(TEXT_NAMES)}, and the filters listed in docs/format.md)")


def _syntax_message(message: str) -> str:
    if message.startswith("No filter named"):
        return f"template syntax: {message} (the filters a text can use are listed in docs/format.md)"
    return f"template syntax: {message}"


def _message(exc: BaseException, available: Mapping[str, object] = EMPTY,
             unusable: Mapping[str, tuple[str, str]] = EMPTY) -> str:
    """What went wrong, for the examiner; a name that a block defined but could not hand on
    (``unusable``: name -> what it is, the block) is explained rather than called undefined."""
    if isinstance(exc, jinja2.UndefinedError):
        text = str(exc)
        if text.startswith("'") and text.endswith("' is undefined"):
            return _undefined(text[1:-len("' is undefined")], available, unusable)
        return text
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return _syntax_message(exc.message or "")
    if isinstance(exc, (TextProblem, TemplateLimit)):
        return str(exc)
    if isinstance(exc, SecurityError):
        return f"not allowed in a template: {exc}"
    return f"{type(exc).__name__}: {exc}"


@dataclasses.dataclass(frozen=True)
class _Known:
    """A text's template compiled, and the names it reads but does not set itself."""

    code: CodeType
    names: frozenset[str]


# By source: compiled in this process, or read from a build's store (texts.marshal). Compiled
# code does not depend on the theme or the exam (the environment's options are fixed), so
# exams built at once share it.
_KNOWN: dict[str, _Known] = {}
# What compiled code depends on besides its source: the versions, and the sandbox's code generator
# (sandbox/jinja.py), which a checkout may change without a new version.
STORE_VERSION = (f"examgen {__version__} jinja2 {jinja2.__version__} {sys.version} "
                 f"{hashlib.sha256(Path(sandbox_jinja.__file__).read_bytes()).hexdigest()}")


def _known(env: jinja2.Environment, source: str) -> _Known:
    """A text parsed and compiled once, for both its names and its template."""
    known = _KNOWN.get(source)
    if known is None:
        tree = env.parse(source)
        # Names the text reads but does not set itself (a walk of the tree; jinja2.meta's
        # find_undeclared_variables would run the whole code generator a second time).
        loaded: set[str] = set()
        stored: set[str] = set()
        for node in tree.find_all(jinja2.nodes.Name):
            (loaded if node.ctx == "load" else stored).add(node.name)
        known = _KNOWN.setdefault(source, _Known(env.compile(tree), frozenset(loaded - stored)))
    return known


@functools.cache
def _compiled(env: jinja2.Environment, source: str) -> jinja2.Template:
    return env.template_class.from_code(env, _known(env, source).code, env.make_globals(None))


def _template_sources(exam: Exam[Text]) -> list[str]:
    """The sources of the exam's texts that are templates, as they are compiled."""
    code = _code_texts(exam)
    sources = (text.source if text in code else percent_signs(text.source) for text in _found_in(exam, Text))
    return [source for source in sources if any(m in source for m in MARKERS)]


def unclosed(exc: jinja2.TemplateSyntaxError, source: str) -> tuple[int, int, str] | None:
    """For a template that ends inside a block (``<% if %>`` without its ``<% endif %>``): the line and
    column of that block's opening tag, which Jinja does not name (it blames the template's end), and the tag."""
    named = re.search(r"innermost block that needs to be closed is '(\w+)'", exc.message or "")
    if not (named and (exc.message or "").startswith("Unexpected end of template")):
        return None
    tag, opened = named.group(1), list[tuple[int, int]]()
    for number, line in enumerate(source.splitlines(), 1):
        for match in re.finditer(r"<%-?\s*(end)?(\w+)", line):
            if match.group(2) == tag and match.group(1) and opened:
                opened.pop()
            elif match.group(2) == tag and not match.group(1):
                opened.append((number, match.start() + 1))
    return (*opened[-1], tag) if opened else None


LEXER_OFFSET = re.compile(r" at (\d+)$")  # Jinja's lexer says where, as an offset: "unexpected char '!' at 7"
PRINT_TAG = re.compile(r"<<.*?>>")


def syntax_spot(env: jinja2.Environment, exc: jinja2.TemplateSyntaxError, source: str) -> tuple[int, int | None, str]:
    """Where a template's syntax error is, as a 1-based line and column (None where it cannot be told), and
    the message for it. Jinja names a line only (the lexer an offset): the column is that of the block a
    template never closes, of the lexer's offset, or of the first ``<< >>`` on the line that fails on its
    own (at the word the message quotes, where the expression holds it), else of a quoted word on the line."""
    message = exc.message or ""
    if opened := unclosed(exc, source):
        return opened[0], opened[1], f"{message} The '<% {opened[2]} %>' on this line is never closed."
    if offset := LEXER_OFFSET.search(message):
        at = int(offset.group(1))
        return source.count("\n", 0, at) + 1, at - source.rfind("\n", 0, at), message[:offset.start()]
    lines = source.split("\n")
    line = exc.lineno
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    quoted = re.findall(r"'([^']+)'", message)
    for printed in PRINT_TAG.finditer(shown):
        try:
            env.parse(printed.group())
        except jinja2.TemplateSyntaxError:
            within = [at for word in quoted if (at := shown.find(word, printed.start() + 2, printed.end())) >= 0]
            return line, (within[0] if within else printed.start()) + 1, message
    within = [shown.find(word) for word in quoted if word in shown]
    return line, within[0] + 1 if within else None, message


DISPLAY_BLOCK = re.compile(r"<<-?\s*((?:table|figure)\(\s*(['\"])[^'\"]*\2\s*\))\s*-?>>")


def blocks_in_sentences(source: str) -> list[tuple[int, str]]:
    """Each ``<< table('t') >>`` or ``<< figure('f') >>`` that shares its line with words (0-based
    line, the call): a block placed there splits the sentence around it ("tested (" table ").")."""
    found = []
    for number, line in enumerate(source.splitlines()):
        for match in DISPLAY_BLOCK.finditer(line):
            if line.replace(match.group(0), "").strip():
                found.append((number, match.group(1)))
    return found


def theme_template(env: jinja2.Environment, name: str) -> jinja2.Template:
    """A template of the theme; a syntax error in it is the theme's, at its line and column (of the
    first name the message quotes that the line holds), with the line shown."""
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        line, column, message = syntax_spot(env, exc, exc.source or "")
        lines = (exc.source or "").split("\n")
        shown = lines[line - 1] if 0 < line <= len(lines) else ""
        where = Loc(Path(exc.filename), line, column) if exc.filename else None
        raise SourceError(f"template syntax: {message}\n    {shown.strip()}", where, "theme") from None


def precompile(exam: Exam[Text], theme: Theme, store: Path | None = None) -> None:
    """Compile every text's template and the document template ahead, for instance while the
    compute blocks run: compiling needs no values. Errors are left for render_texts to report.
    With ``store`` (a file of the build's work folder), the texts compiled by the last build
    are read back and only the changed ones compiled (Jinja's code generation is most of this
    stage's time); the store then holds this exam's texts."""
    env = environment(theme)
    theme_template(env, "exam.tex.j2")
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError, AttributeError):  # a damaged store
        if store is not None:
            version, texts = marshal.loads(store.read_bytes())
            if version == STORE_VERSION:
                for source, (code, names) in texts.items():
                    _KNOWN.setdefault(source, _Known(code, frozenset(names)))
    sources = _template_sources(exam)
    new = [source for source in sources if source not in _KNOWN]
    for source in sources:
        with contextlib.suppress(jinja2.TemplateSyntaxError):
            _known(env, source)
    if store is not None and new:
        texts = {source: (_KNOWN[source].code, tuple(sorted(_KNOWN[source].names)))
                 for source in sources if source in _KNOWN}
        kept = marshal.dumps((STORE_VERSION, texts))
        replace_file(store, lambda path: path.write_bytes(kept))


def _code_texts(exam: Exam[Text]) -> frozenset[Text]:
    """The texts that are LaTeX code rather than prose (TikZ pictures, column specs), whose
    ``%`` starts a comment as in any LaTeX file."""
    return frozenset(text for problem in exam.problems
                     for text in [*(f.tikz for f in problem.figures), *(t.align for t in problem.tables)]
                     if text is not None)


class TextRenderer:
    """Expands the texts of one exam, collecting every failure with its location. A text that
    does not use ``solution`` reads the same in both views: it is expanded once."""

    def __init__(self, env: jinja2.Environment, exam: Exam[Text], out: Collector):
        self.env, self.out = env, out
        self.code = _code_texts(exam)
        self.specs = frozenset(t.align for problem in exam.problems for t in problem.tables if t.align)
        self.expanded: dict[tuple[Text, str], str] = {}

    def names(self, source: str) -> frozenset[str]:
        """The undefined names a text's expressions refer to, i.e. the computed values it uses."""
        if not any(m in source for m in MARKERS):
            return frozenset()
        try:
            return _known(self.env, source).names
        except jinja2.TemplateSyntaxError:
            return frozenset()  # reported by expand

    def expand(self, text: Text, context: str, values: Mapping[str, object],
               unusable: Mapping[str, tuple[str, str]] = EMPTY) -> str:
        """The text as LaTeX; a failure is collected with its location (and the text left empty)."""
        source = text.source if text in self.code else percent_signs(text.source)
        key = (text, context)
        if key in self.expanded:
            return self.expanded[key]
        if text not in self.code:
            for line, comment in comment_habits(text.source):
                self.out.warn(f"'{comment}' prints as written: a % in a text is a percent sign, not a LaTeX "
                              "comment; put a note to yourself in a template comment <# ... #>, or write \\% "
                              "where the sign is meant", text.loc.shifted(line), context)
            for line, block in blocks_in_sentences(text.source):
                self.out.warn(f"{block} is a block of its own (the text breaks before and after it), but it stands "
                              f"inside a sentence here: put << {block} >> on a line of its own",
                              text.loc.shifted(line), context)
        expanded = self._expand(text, source, context, values, unusable)
        if text not in self.specs:  # a column spec is no text: a marker line would break the tabular
            expanded = Latex(expanded, text.loc, context)
        if "solution" not in self.names(source):
            self.expanded[key] = expanded
        return expanded

    def _expand(self, text: Text, source: str, context: str, values: Mapping[str, object],
                unusable: Mapping[str, tuple[str, str]]) -> str:
        brace = unbalanced_brace(source)
        if brace:
            char, line = brace
            problem = "is never closed" if char == "{" else "closes nothing"
            self.out.error(SourceError(f"unbalanced braces: the '{char}' on this line {problem}",
                                       text.loc.shifted(line), context))
            return ""
        hidden = SWALLOWERS.search(source) if text not in self.code else None
        if hidden:
            self.out.error(SourceError(
                f"'{hidden.group()}' hides the text after it from the PDF without any error: write only what "
                "should print (a note to yourself goes in a template comment <# ... #>)",
                text.loc.shifted(source.count("\n", 0, hidden.start())), context))
            return ""
        if not any(m in source for m in MARKERS):
            return source
        try:
            template = _compiled(self.env, source)
            return run_limited(lambda: template.render(values))
        except Exception as exc:  # noqa: BLE001 - any failure of the examiner's text is reported
            if isinstance(exc, jinja2.TemplateSyntaxError):
                self.out.error(self._syntax_error(text, source, exc, context))
                return ""
            frame = _template_frame(exc)
            loc = text.loc.shifted(frame.lineno - 1) if frame and frame.lineno else text.loc
            self.out.error(ComputeError(_message(exc, values, unusable), loc, context))
            return ""

    def _syntax_error(self, text: Text, source: str, exc: jinja2.TemplateSyntaxError, context: str) -> ComputeError:
        """A text's template syntax error at the line and column of the YAML file where it is, that line shown.
        Found in the text as written (a prose text is compiled with its % signs escaped, which moves columns)."""
        try:
            self.env.compile(text.source)
        except jinja2.TemplateSyntaxError as written:
            exc, source = written, text.source
        line, column, message = syntax_spot(self.env, exc, source)
        loc, shown = spot_in_file(text.loc, text.source, line, column or 1)
        if column is None:
            loc = dataclasses.replace(loc, column=None)
        return ComputeError(_syntax_message(message) + (f"\n    {shown.strip()}" if shown.strip() else ""),
                            loc, context)

    def evaluate(self, expression: Expression, context: str, values: Mapping[str, object]) -> object:
        """An expression of the source (a numeric answer: ``a * b``) in the given scope."""
        try:
            answer = self.env.compile_expression(expression.source, undefined_to_none=False)
            value = run_limited(lambda: answer(values))
            if (missing := _undefined_in(value)) is not None:  # ``answer: mu_``, ``correct: << [k, m_] >>``
                missing._fail_with_undefined_error()
            return value
        except Exception as exc:  # noqa: BLE001 - reported with its location, like a text's failure
            raise ComputeError(_message(exc, values), expression.loc, context) from None

    def used(self, record) -> set[str]:
        """The computed names a record's texts and expressions use."""
        texts = (self.names(t.source) for t in _found_in(record, Text))
        expressions = (self.names(f"<< {e.source} >>") for e in _found_in(record, Expression))
        return set().union(*texts, *expressions)


def _undefined_in(value: object) -> jinja2.Undefined | None:
    """The first undefined name in an expression's value, in a list or mapping too: a name alone is undefined
    rather than an error, which a list of option numbers would carry on into a stranger message."""
    if isinstance(value, jinja2.Undefined):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return next((found for item in items if (found := _undefined_in(item)) is not None), None)


def _found_in(obj, kind: type):
    """Every record of ``kind`` (Text, Expression) inside a record, recursively."""
    if isinstance(obj, kind):
        yield obj
    elif isinstance(obj, tuple):
        for item in obj:
            yield from _found_in(item, kind)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _found_in(getattr(obj, f.name), kind)


def _expand_all(obj, expand):
    """The record with every Text inside it (recursively) replaced by its expansion."""
    if isinstance(obj, Text):
        return expand(obj)
    if isinstance(obj, tuple):
        return tuple(_expand_all(item, expand) for item in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: _expand_all(getattr(obj, f.name), expand)
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


def _retyped(record: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for a record whose text type changes (``Text`` to ``str``), which
    the type checker cannot follow through ``replace``."""
    return dataclasses.replace(record, **changes)


def _table_rows(table: Table[str], values, context: str, out: Collector) -> Table[str]:
    """Fill a ``data`` table from its computed rows and a computed header from its list (numbers as the
    table's ``num`` says, text as LaTeX)."""
    cell = lambda v: v if isinstance(v, str) else MARKS.get().write(v, table.places, table.sep)  # noqa: E731
    if (named := table.header_data) is not None:
        header = values.get(named)
        if isinstance(header, list) and not any(isinstance(v, (list, dict)) for v in header):
            table = dataclasses.replace(table, header=tuple(cell(v) for v in header))
        else:
            out.error(ComputeError(_computed_list(table, "header", named, values, "header cells"), table.loc, context))
    if table.data is None:
        return table
    rows = values.get(table.data)
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        out.error(ComputeError(_computed_list(table, "data", table.data, values, "rows"), table.loc, context))
        return table
    return dataclasses.replace(table, rows=tuple(tuple(cell(v) for v in row) for row in rows))


class Numbered:
    """The exam's captioned figures and tables, which a text refers to with ``ref('id')``."""

    def __init__(self, exam: Exam[Text], words: Strings):
        self.words = words
        self.by_id: dict[str, list[tuple[int, str, str]]] = {}  # id -> (problem, kind, label)
        for problem in exam.problems:
            things: list[tuple[str, Figure[Text] | Table[Text]]] = [
                *(("figure", f) for f in problem.figures), *(("table", t) for t in problem.tables)]
            for kind, thing in things:
                if thing.caption is not None:
                    self.by_id.setdefault(thing.id, []).append((problem.number, kind, thing.label))

    def ref(self, ident: str, problem: Problem[Text]) -> str:
        """``Figure~\\ref{…}``: the problem's own figure or table first, else the one of that id in the exam."""
        found = self.by_id.get(ident, [])
        own = [entry for entry in found if entry[0] == problem.number]
        if not own and len(found) > 1:
            where = ", ".join(f"problem {number}" for number, _, _ in found)
            raise TextProblem(f"ref('{ident}'): several problems have a figure or table '{ident}' ({where}): "
                              "give it an id of its own")
        if not (own or found):
            uncaptioned = any(f.id == ident for f in problem.figures) or any(t.id == ident for t in problem.tables)
            known = ", ".join(sorted(self.by_id)) or "none"
            why = "it has no caption, so no number" if uncaptioned else f"numbered figures and tables: {known}"
            raise TextProblem(f"ref('{ident}'): no figure or table of the exam can be referred to as '{ident}' "
                              f"({why})")
        _, kind, label = (own or found)[0]
        return f"{self.words(kind)}~\\ref{{{label}}}"


class _ProblemRenderer:
    """One problem's texts expanded in its scope for one view; its figures and tables can be
    placed from any of its texts (``<< figure('id') >>``), which the document then leaves out
    after the intro."""

    def __init__(self, problem: Problem[Text], scope: Scope, texts: TextRenderer, blocks: _Blocks,
                 numbered: Numbered, given: Mapping[str, object], out: Collector):
        self.problem, self.scope, self.texts, self.out = problem, scope, texts, out
        self.values = dict(scope.values)
        self.values.update(figure=lambda ident: self.place("figure", ident),
                           table=lambda ident: self.place("table", ident),
                           ref=lambda ident: numbered.ref(ident, problem), **given)
        context = problem.context
        self.figures = tuple(_expand_all(f, self.expander(context)) for f in problem.figures)
        self.tables = tuple(_table_rows(_expand_all(t, self.expander(context)), scope.values, context, out)
                            for t in problem.tables)
        self.placeable = {("figure", f.id): f for f in self.figures} | {("table", t.id): t for t in self.tables}
        self.blocks = blocks
        self.placed: set[str] = set()
        self.printed: dict[str, dict[str, str]] = {}  # part number -> name -> as num printed it

    def expander(self, context: str):
        return lambda text: self.texts.expand(text, context, self.values, self.scope.unusable)

    def place(self, kind: str, ident: str) -> str:
        if (kind, ident) not in self.placeable:
            known = ", ".join(sorted(i for k, i in self.placeable if k == kind)) or "none"
            raise TextProblem(f"problem {self.problem.number} has no {kind} '{ident}' (its {kind}s: {known})")
        self.placed.add(ident)
        return self.blocks.place(kind, ident, self.placeable[(kind, ident)])

    def part(self, part: Part[Text]) -> Part[str]:
        printed: list[tuple[object, str]] = []
        token = PRINTED.set(printed)
        try:
            rendered = _expand_all(part, self.expander(part.context))
        finally:
            PRINTED.reset(token)
        self.printed[part.number] = {name: next((text for value, text in printed if value == number), None)
                                     or format_number(number) for name, number in self.used(part).items()
                                     if isinstance(number, (int, float)) and not isinstance(number, bool)}
        self.expected(part.expect, part.context)
        try:
            answer = by_name(part.kind).finish(
                rendered.answer, lambda e: self.texts.evaluate(e, part.context, self.values))
        except ExamgenError as exc:
            for problem in exc.problems:
                if problem.context is None:
                    problem.context = part.context
                self.out.error(problem)
            return rendered
        return dataclasses.replace(rendered, answer=answer)

    def expected(self, conditions: tuple[Expression, ...], context: str) -> None:
        """Report each ``expect`` condition the computed values do not meet, with the values it reads."""
        for condition in conditions:
            try:
                holds = self.texts.evaluate(condition, context, self.values)
            except ExamgenError as exc:
                self.out.error(exc)
                continue
            if holds is not True:
                names = sorted(self.texts.names(f"<< {condition.source} >>") & set(self.scope.values))
                shown = ", ".join(f"{name} = {self.scope.values[name]!r}" for name in names)
                self.out.error(ComputeError(f"expect '{condition.source}' does not hold" + (f" ({shown})" if shown
                                                                                            else ""),
                                            condition.loc, context))

    def used(self, part: Part[Text]) -> dict[str, object]:
        """The computed values the part's texts use, for the key."""
        return {n: self.scope.values[n] for n in sorted(self.texts.used(part)) if n in self.scope.values}

    def render(self) -> Problem[str]:
        self.expected(self.problem.expect, self.problem.context)
        parts = tuple(self.part(part) for part in self.problem.parts)
        expand = self.expander(self.problem.context)
        return _retyped(self.problem, title=expand(self.problem.title),
                        intro=self.problem.intro and expand(self.problem.intro),
                        figures=self.figures, tables=self.tables, parts=parts)


def _read_in(code: Code) -> set[str]:
    """The names a block reads itself (its steps towards the values the texts show)."""
    try:
        tree = ast.parse(code.source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _unused(problem: Problem[Text], scope: Scope, texts: TextRenderer, out: Collector) -> None:
    """Warn of each name a problem's block defines that neither a text of the problem nor the
    block itself uses: a value computed for nothing, or a text that forgot to show it."""
    if scope.code is None:
        return
    used = (texts.used(problem) | {t.data for t in problem.tables if t.data}
            | {t.header_data for t in problem.tables if t.header_data} | _read_in(scope.code))
    unused = [name for name in scope.defined if name not in used]
    if unused:
        them = "it" if len(unused) == 1 else "them"
        out.warn(f"defines {', '.join(unused)} but neither a text of the problem nor the block uses {them}",
                 scope.code.loc, scope.code.label)


class _Blocks:
    """What ``figure('id')`` and ``table('id')`` place in one view: the theme's block (blocks.tex.j2)
    and, where it draws otherwise than the default theme's, the default's markup beside it for
    the exports, which read that markup and never a theme's own (model/rendered.drawn_beside)."""

    def __init__(self, theme: Theme, words: Strings, solution: bool):
        env, context = environment(theme), {"_": words, "solution": solution}
        own, default = theme_template(env, "blocks.tex.j2"), theme_template(env, "default/blocks.tex.j2")
        self.theme = own.make_module(context)
        self.default = None if own.filename == default.filename else default.make_module(context)

    def place(self, kind: str, ident: str, record: Figure[str] | Table[str]) -> str:
        drawn = str(getattr(self.theme, kind)(record))
        if self.default is None:
            return drawn
        markup = str(getattr(self.default, kind)(record))
        return drawn if drawn == markup else drawn_beside(kind, ident, drawn, markup)


def _unmade(exam: Exam[Text], blocks, out: Collector) -> None:
    """A part whose kind the theme has no macro for: an error naming it, before a document calls the macro."""
    for _, part in exam.parts():
        if not hasattr(blocks, part.kind):
            out.error(ComputeError(f"the theme's blocks.tex.j2 has no macro '{part.kind}' to typeset a "
                                   f"{by_name(part.kind).title} part: add one (docs/themes.md)", part.loc,
                                   part.context))


def solution_problems(computed: ComputedExam, theme: Theme, numbers: frozenset[int],
                      ) -> dict[int, tuple[Problem[str], dict[str, dict[str, object]], list[ExamgenError]]]:
    """Some problems alone, as the solution view renders them, each with the values its parts use
    and the errors met: what `examgen verify` checks of each of thousands of variants, without the
    rest of the exam."""
    exam = computed.exam
    words = strings(theme, exam.meta.language)
    blocks, numbered = _Blocks(theme, words, True), Numbered(exam, words)
    given = given_names(computed, True)
    found = {}
    with _numbers_in(words):
        for problem in exam.problems:
            if problem.number in numbers:
                out = Collector()
                texts = TextRenderer(environment(theme), exam, out)
                renderer = _ProblemRenderer(problem, computed.scope(problem.number), texts, blocks, numbered, given,
                                            out)
                rendered = renderer.render()
                found[problem.number] = (rendered, {part.number: renderer.used(part) for part in problem.parts},
                                         out.errors)
    return found


def given_names(computed: ComputedExam, solution: bool) -> dict[str, object]:
    """What every text sees besides the computed values: the view, and a variant's label."""
    return {"solution": solution, **({"variant": computed.variant} if computed.variant is not None else {})}


def _view(computed: ComputedExam, theme: Theme, texts: TextRenderer, solution: bool, out: Collector,
          placed_before: Mapping[int, frozenset[str]] = EMPTY,
          ) -> tuple[View, dict[str, Mapping[str, object]], dict[str, Mapping[str, str]]]:
    """One view of the exam: every text expanded with ``solution`` telling which it is; the
    values each part uses and how they printed. A text expanded for an earlier view is not
    run again, so the figures and tables it placed come from there (``placed_before``)."""
    exam = computed.exam
    words = strings(theme, exam.meta.language)
    blocks, numbered = _Blocks(theme, words, solution), Numbered(exam, words)
    _unmade(exam, blocks.theme, out)
    given = given_names(computed, solution)
    base = {**computed.scope(EXAM_SCOPE).values, **given}
    unusable = computed.scope(EXAM_SCOPE).unusable
    meta = _expand_all(exam.meta, lambda t: texts.expand(t, "exam", base, unusable))
    problems, placed = [], {}
    values: dict[str, Mapping[str, object]] = {}
    printed: dict[str, Mapping[str, str]] = {}
    for problem in exam.problems:
        renderer = _ProblemRenderer(problem, computed.scope(problem.number), texts, blocks, numbered, given, out)
        problems.append(renderer.render())
        placed[problem.number] = frozenset(renderer.placed) | placed_before.get(problem.number, frozenset())
        values.update({part.number: MappingProxyType(renderer.used(part)) for part in problem.parts})
        printed.update({number: MappingProxyType(names) for number, names in renderer.printed.items()})
    rendered: Exam[str] = _retyped(exam, meta=meta, problems=tuple(problems))
    return View(rendered, MappingProxyType(placed)), values, printed


def _for_student(exam: Exam[str]) -> Exam[str]:
    """The student view's records: every part's answer without what it knows of the answers, so that
    no template, a theme's own included, can print them (the leak check stays a second line)."""
    problems = []
    for problem in exam.problems:
        parts = []
        for part in problem.parts:
            answer = part.answer.for_student()
            if answer.secrets() or answer.crossed():
                raise TypeError(f"the {part.kind} kind's for_student() keeps answers: it must drop them")
            parts.append(dataclasses.replace(part, answer=answer))
        problems.append(dataclasses.replace(problem, parts=tuple(parts)))
    return dataclasses.replace(exam, problems=tuple(problems))


def render_texts(computed: ComputedExam, theme: Theme, out: Collector) -> RenderedExam:
    """Expand every text of the exam with its problem's computed values, for both views (a
    text that does not use ``solution`` is expanded once for both)."""
    texts = TextRenderer(environment(theme), computed.exam, out)
    with _numbers_in(strings(theme, computed.exam.meta.language)):
        solution, values, printed = _view(computed, theme, texts, True, out)
        for problem in computed.exam.problems:
            _unused(problem, computed.scope(problem.number), texts, out)
        out.raise_if_any()
        student, _, _ = _view(computed, theme, texts, False, out, solution.placed)
        out.raise_if_any()
    student = View(_for_student(student.exam), student.placed)
    return RenderedExam(computed.exam, solution, student, MappingProxyType(values), MappingProxyType(printed),
                        computed.variant)


def render_document(rendered: RenderedExam, theme: Theme, solution: bool) -> str:
    """The LaTeX source of one view: the same template for student and solution."""
    template = theme_template(environment(theme), "exam.tex.j2")
    view = rendered.view(solution)
    words = strings(theme, rendered.exam.meta.language)
    try:
        with _numbers_in(words):
            return run_limited(lambda: template.render(exam=view.exam, placed=view.placed, solution=solution,
                                                       variant=rendered.variant, _=words))
    except (TemplateLimit, SecurityError) as exc:  # the theme's mistake: named like an exam's
        frame = _template_frame(exc, ".j2")
        raise ComputeError(_message(exc), frame and Loc(Path(frame.filename), frame.lineno), "the theme") from None


def preamble(rendered: RenderedExam, theme: Theme) -> str:
    """What the student view sets up before ``\\begin{document}``, as the theme has it (a theme
    may change the preamble block): the figure cache's documents start with it, the same for every
    variant (whose label the header shows), so that variants share their pictures."""
    document = render_document(dataclasses.replace(rendered, variant=None), theme, False)
    return document[:document.find("\\begin{document}")]
