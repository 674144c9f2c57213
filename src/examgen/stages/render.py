"""Stage 4, render: expand every text's template expressions, then the document.

One Jinja environment serves the templates and the exam texts, with
delimiters that leave LaTeX braces alone: ``<< expr >>``, ``<% stmt %>``,
``<# comment #>``. Names are strict: an undefined one is an error with the
text's file and line. It is a sandbox (sandbox/jinja.py): a text can't reach
Python's internals, build anything huge in one step, or run past a time or a
memory limit; each text, numeric answer and document renders under those limits.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import math
import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2
import jinja2.nodes
from jinja2.sandbox import SecurityError

from ..errors import Collector, ComputeError, ExamgenError, Loc, SourceError
from ..kinds import by_name
from ..kinds.numeric import Expression
from ..model.computed import EXAM_SCOPE, ComputedExam, Scope
from ..model.rendered import RenderedExam
from ..model.source import Exam, Part, Problem, Table, Text
from ..sandbox.jinja import TemplateLimit, TemplateSandbox, run_limited
from ..theme import DEFAULT, Theme

DELIMITERS = dict(
    block_start_string="<%", block_end_string="%>",
    variable_start_string="<<", variable_end_string=">>",
    comment_start_string="<#", comment_end_string="#>",
)
MARKERS = ("<<", "<%", "<#")
EMPTY: Mapping = MappingProxyType({})


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
        """A number with the language's decimal separator (``decimal`` in the table, default '.')."""
        return format_number(value).replace(".", str(self.table.get("decimal", ".")))

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


@functools.cache
def environment(theme: Theme) -> jinja2.Environment:
    """One sandboxed environment for a theme's templates and the exam texts, searched layer by
    layer; ``default/NAME`` is always the packaged default (for templates that extend it)."""
    layers = [jinja2.FileSystemLoader(layer) for layer in theme.layers]
    loader = jinja2.ChoiceLoader([*layers, jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(DEFAULT)})])
    return TemplateSandbox(
        dict(num=format_number, tex=escape_tex, grade=grade_label),
        loader=loader, undefined=jinja2.StrictUndefined,
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


def _template_frame(exc: BaseException, name: str = "<template>") -> traceback.FrameSummary | None:
    """Where in a template (a text's, or a file whose name ends with ``name``) ``exc`` was raised."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(name)]
    return frames[-1] if frames else None


def _message(exc: BaseException, unusable: Mapping[str, tuple[str, str]] = EMPTY) -> str:
    """What went wrong, for the examiner; a name that a block defined but could not hand on
    (``unusable``: name -> what it is, the block) is explained rather than called undefined."""
    if isinstance(exc, jinja2.UndefinedError):
        text = str(exc)
        if text.startswith("'") and text.endswith("' is undefined"):
            name = text[1:-len("' is undefined")]
            if name in unusable:
                what, block = unusable[name]
                return (f"'{name}' is {what} (from the {block}), which no text can use: only numbers, text, "
                        "lists and mappings reach the texts, so compute in the block what the text shows")
            return f"name '{name}' is not defined"
        return text
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax: {exc.message}"
    if isinstance(exc, (TextProblem, TemplateLimit)):
        return str(exc)
    if isinstance(exc, SecurityError):
        return f"not allowed in a template: {exc}"
    return f"{type(exc).__name__}: {exc}"


@functools.cache
def _parsed(env: jinja2.Environment, source: str) -> jinja2.nodes.Template:
    """A text's syntax tree, parsed once for both its names and its compiled form."""
    return env.parse(source)


@functools.cache
def _compiled(env: jinja2.Environment, source: str) -> jinja2.Template:
    return env.from_string(_parsed(env, source))


def precompile(exam: Exam[Text], theme: Theme) -> None:
    """Compile every text's template and the document template ahead, for instance while the
    compute blocks run: compiling needs no values. Errors are left for render_texts to report."""
    env = environment(theme)
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
        loaded: set[str] = set()
        stored: set[str] = set()
        for node in tree.find_all(jinja2.nodes.Name):
            (loaded if node.ctx == "load" else stored).add(node.name)
        return frozenset(loaded - stored)

    def expand(self, text: Text, context: str, values, unusable: Mapping[str, tuple[str, str]] = EMPTY) -> str:
        """The text as LaTeX; a failure is collected with its location (and the text left empty)."""
        brace = unbalanced_brace(text.source)
        if brace:
            char, line = brace
            problem = "is never closed" if char == "{" else "closes nothing"
            self.out.error(SourceError(f"unbalanced braces: the '{char}' on this line {problem}",
                                       text.loc.shifted(line), context))
            return ""
        if not any(m in text.source for m in MARKERS):
            return text.source
        try:
            template = _compiled(self.env, text.source)
            return run_limited(lambda: template.render(values))
        except Exception as exc:  # noqa: BLE001 - any failure of the examiner's text is reported
            frame = _template_frame(exc)
            failed_at: int | None = frame.lineno if frame else getattr(exc, "lineno", None)  # a syntax error's
            loc = text.loc.shifted(failed_at - 1) if failed_at else text.loc
            self.out.error(ComputeError(_message(exc, unusable), loc, context))
            return ""

    def evaluate(self, expression: Expression, context: str, values) -> object:
        """An expression of the source (a numeric answer: ``a * b``) in the given scope."""
        try:
            answer = self.env.compile_expression(expression.source, undefined_to_none=False)
            return run_limited(lambda: answer(values))
        except Exception as exc:  # noqa: BLE001 - reported with its location, like a text's failure
            raise ComputeError(_message(exc), expression.loc, context) from None

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
    """Fill a ``data`` table from its computed rows (numbers formatted, text as LaTeX)."""
    if table.data is None:
        return table
    rows = values.get(table.data)
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        out.error(ComputeError(f"table '{table.id}': 'data: {table.data}' must name a computed list of rows",
                               table.loc, context))
        return table
    cell = lambda v: v if isinstance(v, str) else format_number(v)  # noqa: E731
    return dataclasses.replace(table, rows=tuple(tuple(cell(v) for v in row) for row in rows))


class _ProblemRenderer:
    """One problem's texts expanded in its scope; its figures and tables can be placed from
    any of its texts (``<< figure('id') >>``), which the document then leaves out after the intro."""

    def __init__(self, problem: Problem[Text], scope: Scope, texts: TextRenderer, blocks, out: Collector):
        self.problem, self.scope, self.texts, self.out = problem, scope, texts, out
        self.values = dict(scope.values)
        context = problem.context
        self.figures = tuple(_expand_all(f, self.expander(context)) for f in problem.figures)
        self.tables = tuple(_table_rows(_expand_all(t, self.expander(context)), scope.values, context, out)
                            for t in problem.tables)
        self.placeable = {("figure", f.id): f for f in self.figures} | {("table", t.id): t for t in self.tables}
        self.blocks = blocks
        self.placed: set[str] = set()
        self.values.update(figure=lambda ident: self.place("figure", ident),
                           table=lambda ident: self.place("table", ident))

    def expander(self, context: str):
        return lambda text: self.texts.expand(text, context, self.values, self.scope.unusable)

    def place(self, kind: str, ident: str) -> str:
        if (kind, ident) not in self.placeable:
            known = ", ".join(sorted(i for k, i in self.placeable if k == kind)) or "none"
            raise TextProblem(f"problem {self.problem.number} has no {kind} '{ident}' (its {kind}s: {known})")
        self.placed.add(ident)
        return str(getattr(self.blocks, kind)(self.placeable[(kind, ident)]))

    def part(self, part: Part[Text]) -> Part[str]:
        rendered = _expand_all(part, self.expander(part.context))
        try:
            answer = by_name(part.kind).finish(
                rendered.answer, lambda e: self.texts.evaluate(e, part.context, self.values))
        except ExamgenError as exc:
            if exc.context is None:
                exc.context = part.context
            self.out.error(exc)
            return rendered
        return dataclasses.replace(rendered, answer=answer)

    def used(self, part: Part[Text]) -> dict[str, object]:
        """The computed values the part's texts use, for the key."""
        return {n: self.scope.values[n] for n in sorted(self.texts.used(part)) if n in self.scope.values}

    def render(self) -> Problem[str]:
        parts = tuple(self.part(part) for part in self.problem.parts)
        expand = self.expander(self.problem.context)
        return _retyped(self.problem, title=expand(self.problem.title),
                        intro=self.problem.intro and expand(self.problem.intro),
                        figures=self.figures, tables=self.tables, parts=parts)


def render_texts(computed: ComputedExam, theme: Theme, out: Collector) -> RenderedExam:
    """Expand every text of the exam with its problem's computed values."""
    exam = computed.exam
    env = environment(theme)
    texts = TextRenderer(env, out)
    blocks = env.get_template("blocks.tex.j2").make_module({"_": strings(theme, exam.meta.language)})
    base = dict(computed.scope(EXAM_SCOPE).values)
    unusable = computed.scope(EXAM_SCOPE).unusable
    meta = _expand_all(exam.meta, lambda t: texts.expand(t, "exam", base, unusable))
    problems, values, placed = [], {}, {}
    for problem in exam.problems:
        scope = computed.scope(problem.number)
        renderer = _ProblemRenderer(problem, scope, texts, blocks, out)
        problems.append(renderer.render())
        placed[problem.number] = frozenset(renderer.placed)
        values.update({part.number: MappingProxyType(renderer.used(part)) for part in problem.parts})
        used = texts.used(problem) | {t.data for t in problem.tables}
        if scope.code and scope.defined and not set(scope.defined) & used:
            out.warn(f"defines {', '.join(scope.defined)} but no text of the problem uses them",
                     scope.code.loc, scope.code.label)
    out.raise_if_any()
    rendered: Exam[str] = _retyped(exam, meta=meta, problems=tuple(problems))
    return RenderedExam(exam, rendered, MappingProxyType(values), MappingProxyType(placed))


def render_document(rendered: RenderedExam, theme: Theme, solution: bool) -> str:
    """The LaTeX source of one view: the same template for student and solution."""
    template = environment(theme).get_template("exam.tex.j2")
    try:
        return run_limited(lambda: template.render(exam=rendered.exam, placed=rendered.placed, solution=solution,
                                                   _=strings(theme, rendered.exam.meta.language)))
    except (TemplateLimit, SecurityError) as exc:  # the theme's mistake: named like an exam's
        frame = _template_frame(exc, ".j2")
        raise ComputeError(_message(exc), frame and Loc(Path(frame.filename), frame.lineno), "the theme") from None
