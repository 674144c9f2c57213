"""Stage 4, render: expand every text's template expressions, then the document.

One Jinja environment serves the templates and the exam texts, with
delimiters that leave LaTeX braces alone: ``<< expr >>``, ``<% stmt %>``,
``<# comment #>``. Names are strict: an undefined one is an error with the
text's file and line.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import re
import traceback
from pathlib import Path
from types import MappingProxyType

import jinja2
import jinja2.nodes

from .compute import EXAM_SCOPE
from .errors import Collector, ComputeError, SourceError
from .model import Exam, Problem, Scope, Table, Text

DELIMITERS = dict(
    block_start_string="<%", block_end_string="%>",
    variable_start_string="<<", variable_end_string=">>",
    comment_start_string="<#", comment_end_string="#>",
)
MARKERS = ("<<", "<%", "<#")


def format_number(value, places: int | None = None, sep: str = "") -> str:
    """A number as an examiner writes it: 0.65 not 0.6500000000000001, 2 not 2.0.

    ``places`` caps the decimals (trailing zeros dropped); ``sep`` groups thousands
    (use "{,}" in math mode).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"num needs a number, not {value!r}") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            return r"\infty" if value > 0 else (r"-\infty" if value < 0 else "NaN")
        value = round(value, 10 if places is None else places)
        if value == int(value):
            value = int(value)
    if isinstance(value, int):
        text = f"{value:,}".replace(",", sep) if sep else str(value)
        return text
    whole, frac = f"{value:.{10 if places is None else places}f}".rstrip("0").split(".")
    whole = f"{int(whole):,}".replace(",", sep) if sep else whole
    if whole in ("0", "-0") and value < 0:
        whole = "-0"
    return f"{whole}.{frac}" if frac else whole


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


def long_date(value: datetime.date) -> str:
    """``Monday 1st August, 2022``, as on the seed exams' covers."""
    day = value.day
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{value:%A} {day}{suffix} {value:%B}, {value.year}"


@functools.cache
def environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates), undefined=jinja2.StrictUndefined,
        autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        **DELIMITERS,
    )
    env.filters.update(num=format_number, tex=escape_tex, longdate=long_date, grade=grade_label)
    return env


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


def _template_line(exc: BaseException) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else getattr(exc, "lineno", None)


def _message(exc: BaseException) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        text = str(exc)
        if text.startswith("'") and text.endswith("' is undefined"):
            return f"name {text[:-len(' is undefined')]} is not defined"
        return text
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax: {exc.message}"
    if isinstance(exc, TextProblem):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@functools.lru_cache(maxsize=None)
def _parsed(env: jinja2.Environment, source: str) -> jinja2.nodes.Template:
    """A text's syntax tree, parsed once for both its names and its compiled form."""
    return env.parse(source)


@functools.lru_cache(maxsize=None)
def _compiled(env: jinja2.Environment, source: str) -> jinja2.Template:
    return env.from_string(_parsed(env, source))


def precompile(exam: Exam, templates: Path) -> None:
    """Compile every text's template and the document template ahead, for instance while the
    compute blocks run: compiling needs no values. Errors are left for render_texts to report."""
    env = environment(templates)
    env.get_template("exam.tex.j2")
    for text in _texts_in(exam):
        if any(m in text.source for m in MARKERS):
            try:
                _compiled(env, text.source)
            except jinja2.TemplateSyntaxError:
                pass


class TextRenderer:
    """Expands the texts of one exam, collecting every failure with its location."""

    def __init__(self, env: jinja2.Environment, out: Collector):
        self.env, self.out = env, out

    def names(self, source: str) -> frozenset[str]:
        """The undefined names a text's expressions refer to, i.e. the computed values it uses."""
        if not any(m in source for m in MARKERS):
            return frozenset()
        try:
            tree = _parsed(self.env, source)
        except jinja2.TemplateSyntaxError:
            return frozenset()  # reported by expand
        # Names the text reads but does not set itself (a walk of the tree; jinja2.meta's
        # find_undeclared_variables would run the whole code generator a second time).
        loaded, stored = set(), set()
        for node in tree.find_all(jinja2.nodes.Name):
            (loaded if node.ctx == "load" else stored).add(node.name)
        return frozenset(loaded - stored)

    def expand(self, text: Text | None, context: str, values) -> Text | None:
        if text is None:
            return None
        brace = unbalanced_brace(text.source)
        if brace:
            char, line = brace
            problem = "is never closed" if char == "{" else "closes nothing"
            self.out.error(SourceError(f"unbalanced braces: the '{char}' on this line {problem}",
                                       text.loc.shifted(line), context))
            return dataclasses.replace(text, latex="")
        if not any(m in text.source for m in MARKERS):
            return dataclasses.replace(text, latex=text.source)
        try:
            latex = _compiled(self.env, text.source).render(values)
        except Exception as exc:  # noqa: BLE001 - any failure of the examiner's text is reported
            line = _template_line(exc)
            loc = text.loc.shifted(line - 1) if line else text.loc
            self.out.error(ComputeError(_message(exc), loc, context))
            latex = ""
        return dataclasses.replace(text, latex=latex)

    def used(self, record) -> set[str]:
        return set().union(*(self.names(t.source) for t in _texts_in(record)))


def _texts_in(obj):
    """Every Text inside a record, recursively through records and tuples."""
    if isinstance(obj, Text):
        yield obj
    elif isinstance(obj, tuple):
        for item in obj:
            yield from _texts_in(item)
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _texts_in(getattr(obj, f.name))


def _expand_all(obj, expand):
    """The record with every Text inside it (recursively) expanded."""
    if isinstance(obj, Text):
        return expand(obj)
    if isinstance(obj, tuple):
        return tuple(_expand_all(item, expand) for item in obj)
    if dataclasses.is_dataclass(obj):
        return dataclasses.replace(obj, **{f.name: _expand_all(getattr(obj, f.name), expand)
                                           for f in dataclasses.fields(obj)})
    return obj


def _table_rows(table: Table, values, context: str, out: Collector) -> Table:
    """Fill a ``data`` table from its computed rows (numbers formatted, text as LaTeX)."""
    if table.data is None:
        return table
    rows = values.get(table.data)
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        out.error(ComputeError(f"table '{table.id}': 'data: {table.data}' must name a computed list of rows",
                               table.loc, context))
        return table
    cell = lambda v: Text(str(v), table.loc, v if isinstance(v, str) else format_number(v))  # noqa: E731
    return dataclasses.replace(table, rows=tuple(tuple(cell(v) for v in row) for row in rows))


def _problem(problem: Problem, scope: Scope, texts: TextRenderer, blocks, out: Collector) -> Problem:
    """The problem with its texts expanded; figures and tables can be placed from any text."""
    context = problem.context
    values = dict(scope.values)
    expand = lambda t, ctx=context: texts.expand(t, ctx, values)  # noqa: E731
    figures = tuple(_expand_all(f, expand) for f in problem.figures)
    tables = tuple(_expand_all(_table_rows(t, scope.values, context, out), expand) for t in problem.tables)
    placeable = {("figure", f.id): f for f in figures} | {("table", t.id): t for t in tables}
    placed: set[str] = set()

    def place(kind: str, ident: str) -> str:
        if (kind, ident) not in placeable:
            known = ", ".join(sorted(i for k, i in placeable if k == kind)) or "none"
            raise TextProblem(f"problem {problem.number} has no {kind} '{ident}' (its {kind}s: {known})")
        placed.add(ident)
        return str(getattr(blocks, kind)(placeable[(kind, ident)]))

    values.update(figure=lambda ident: place("figure", ident), table=lambda ident: place("table", ident))
    parts = tuple(
        dataclasses.replace(
            _expand_all(part, lambda t, ctx=part.context: texts.expand(t, ctx, values)),
            values=MappingProxyType({n: scope.values[n] for n in sorted(texts.used(part)) if n in scope.values}))
        for part in problem.parts)
    return dataclasses.replace(problem, title=expand(problem.title), intro=expand(problem.intro),
                               figures=figures, tables=tables, parts=parts, placed=frozenset(placed))


def render_texts(exam: Exam, templates: Path, out: Collector) -> Exam:
    """Expand every text of the exam with its problem's computed values."""
    env = environment(templates)
    texts = TextRenderer(env, out)
    blocks = env.get_template("blocks.tex.j2").module
    base = dict(exam.scopes[EXAM_SCOPE].values)
    meta = _expand_all(exam.meta, lambda t: texts.expand(t, "exam", base))
    problems = []
    for problem in exam.problems:
        scope = exam.scopes[problem.number]
        problems.append(_problem(problem, scope, texts, blocks, out))
        used = texts.used(problem) | {t.data for t in problem.tables}
        if scope.code and scope.defined and not set(scope.defined) & used:
            out.warn(f"defines {', '.join(scope.defined)} but no text of the problem uses them",
                     scope.code.loc, scope.code.label)
    out.raise_if_any()
    return dataclasses.replace(exam, meta=meta, problems=tuple(problems))


def render_document(exam: Exam, templates: Path, solution: bool) -> str:
    """The LaTeX source of one view: the same template for student and solution."""
    return environment(templates).get_template("exam.tex.j2").render(exam=exam, solution=solution)
