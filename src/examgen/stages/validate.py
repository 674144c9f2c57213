"""Stage 2, validate: turn the loaded YAML tree into typed records.

Every problem of a source is collected before anything is raised, so an
examiner fixes all of them after one run. Unknown keys get a suggestion.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from .. import kinds, shapes
from ..ceilings import BLOCK_SECONDS, MEMORY_MB, ceilings
from ..errors import Collector, SourceError
from ..grading.scale import GRADING_KEYS, read_grading
from ..model.fields import NAME, Fields
from ..model.source import Exam, Expression, Figure, Limits, Meta, Part, Problem, Table, Text, Variants
from ..model.tree import SourceList, SourceMap
from ..shapes import Keys
from .load import Source, named_file

DATE = r"^\d{4}-\d{2}-\d{2}$"
CLOCK = r"^([01]?\d|2[0-3]):[0-5]\d$"
PAGE_MULTIPLES = (1, 2, 4)  # single sheets, duplex (a copy never shares a sheet), booklets of folded sheets
DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*(?:min)?)?\s*$")  # 90, "90 min", "1h30", "2h"
MAX_POINTS = shapes.MAX_POINTS
MAX_EXTRA_PAGES = 20
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf")  # what pdflatex includes, told by the file name
LIMIT_KEYS: Keys = {
    "seconds": shapes.number("Time limit of each compute block, in seconds (default 10).", exclusiveMinimum=0,
                             maximum=600),
    "memory_mb": shapes.number("Memory limit of the compute blocks, in MB (default 2048).", minimum=64,
                               maximum=65536),
}
EXAM_KEYS: Keys = {
    "course": shapes.plain("The course's name (plain text)."),
    "course_number": shapes.plain("The course's number, e.g. IN2346 (plain text)."),
    "kind": shapes.plain("The kind of exam, e.g. endterm (plain text)."),
    "code": shapes.plain("The exam's code, large on the cover and in every header (plain text)."),
    "date": {**shapes.pattern("The exam's date, ISO: 2022-08-01.", DATE), "format": "date"},
    "start": shapes.pattern('Start time, HH:MM (quote it: "08:15").', CLOCK),
    "end": shapes.pattern('End time, HH:MM; or give a duration instead.', CLOCK),
    "examiner": shapes.plain("The examiner's name (plain text)."),
    "language": shapes.name("The language of the theme's fixed sentences: en (default) or de."),
    "resources": shapes.items("Allowed resources, one LaTeX line each (none: 'None').",
                              shapes.text("An allowed resource.")),
    "instructions": shapes.items("More working instructions, one LaTeX line each.", shapes.text("An instruction.")),
    "extra_pages": shapes.whole("Pages of extra answer space (default 2).", minimum=0, maximum=MAX_EXTRA_PAGES),
    "pages_multiple_of": shapes.choice("Extra pages fill the count up to a multiple of this: 2 (duplex, default), "
                                       "4 (booklets), 1 (off).", *PAGE_MULTIPLES),
    "duration": shapes.either("Working time: minutes (90) or text such as '90 min' or '1h30'.",
                              {"type": "integer", "minimum": 1, "maximum": 24 * 60},
                              {"type": "string", "pattern": DURATION.pattern}),
    "star_note": shapes.flag("Show the note on parts marked with * (default: if any part is independent)."),
    "compute": shapes.code("Python: names every problem's texts can use."),
    "limits": shapes.mapping(LIMIT_KEYS, description="Limits of each compute block."),
    "problems": shapes.items("The problems, in order; an item may be {include: file.yaml}.",
                             shapes.includable("problem", "A problem, or an included file of problems."),
                             at_least=1),
    "grading": shapes.mapping(GRADING_KEYS, description="The grade scale `examgen grade` applies (default: the "
                                                        "German 1.0-5.0 scale, 4.0 at 50 %)."),
    "variants": shapes.either("Variants (docs/variants.md): a count (4: A to D), a list of labels, or per-copy.",
                              {"type": "integer", "minimum": 1, "maximum": 26}, {"const": "per-copy"},
                              {"type": "array", "items": {"type": "string", "pattern": shapes.NAME},
                               "minItems": 1, "uniqueItems": True}),
}
EXAM_REQUIRED = ("course", "course_number", "kind", "code", "date", "start", "examiner", "problems")
EXAM_ONE_OF = ("end", "duration")  # the end follows from the start and a duration
FIGURE_KEYS: Keys = {
    "id": shapes.name("The figure's name: figure('id') places it, ref('id') refers to it."),
    "caption": shapes.text("Its caption (numbered: Figure 2.1)."),
    "tikz": shapes.text("A TikZ picture: \\begin{tikzpicture} ... \\end{tikzpicture}."),
    "image": shapes.suffix("An image file in the exam folder: .png, .jpg, .jpeg or .pdf.", IMAGE_SUFFIXES),
    "width": shapes.plain("Its width in LaTeX (default 0.6\\linewidth)."),
}
FIGURE_REQUIRED = ("id",)
FIGURE_ONE_OF = ("tikz", "image")
NUM_KEYS: Keys = {
    "places": shapes.whole("Decimal places.", minimum=0, maximum=10),
    "sep": shapes.plain("The decimal separator, e.g. '{,}'."),
}
TABLE_KEYS: Keys = {
    "id": shapes.name("The table's name: table('id') places it, ref('id') refers to it."),
    "caption": shapes.text("Its caption (numbered: Table 3.1)."),
    "header": shapes.either("The header cells (LaTeX), or the name of a computed list of them.",
                            shapes.items("The header cells.", shapes.text("A header cell.")), {"type": "string"}),
    "rows": shapes.items("The rows, each a list of cells (LaTeX).",
                         shapes.items("A row.", shapes.text("A cell."))),
    "data": shapes.name("The name of a computed list of rows (instead of 'rows')."),
    "align": shapes.text("A LaTeX column spec, e.g. 'lrr'."),
    "num": shapes.mapping(NUM_KEYS, description="How a data table prints its numbers, as the num filter does."),
}
TABLE_REQUIRED = ("id",)
TABLE_ONE_OF = ("rows", "data")
EXPECT = shapes.either("Conditions every variant's values must meet: '0 < k <= 1000' (examgen verify checks "
                       "them for every seed).", {"type": "string"}, shapes.items("A condition.", {"type": "string"}))
PROBLEM_KEYS: Keys = {
    "id": shapes.name("An optional stable name, unique in the exam."),
    "title": shapes.text("The problem's title (LaTeX)."),
    "intro": shapes.text("LaTeX shown under the heading."),
    "compute": shapes.code("Python: names this problem's texts can use."),
    "figures": shapes.items("TikZ pictures or image files.", shapes.record("figure")),
    "tables": shapes.items("Tables, given cell by cell or computed.", shapes.record("table")),
    "parts": shapes.items("The parts, in order; an item may be {include: file.yaml}.",
                          shapes.includable("part", "A part, or an included file of parts."), at_least=1),
    "credits": shapes.number("Optional: must equal the sum of the parts' points.", exclusiveMinimum=0),
    "new_page": shapes.flag("Start the problem on a new page (default false)."),
    "expect": EXPECT,
    "may_repeat": shapes.flag("With variants: printed variants may share this problem's values (default false: "
                              "two that print the same values are an error)."),
}
PROBLEM_REQUIRED = ("title", "parts")
PART_KEYS: Keys = {
    "id": shapes.name("An optional stable name, unique in the exam."),
    "points": shapes.points("The part's points: a positive multiple of 0.5, at most 100."),
    "lead": shapes.text("LaTeX shown before the part, full width."),
    "prompt": shapes.text("The question (LaTeX)."),
    "independent": shapes.flag("Solvable without the earlier parts: shown as 6.1*."),
    "expect": EXPECT,
    **kinds.KIND_KEYS,
}
PART_REQUIRED = ("points", "prompt")
MAX_IMAGE_MB = 50
PER_COPY = "per-copy"
MAX_VARIANTS = 26  # labelled A to Z


TIME = re.compile(CLOCK)


def _texts(fields: Fields, key: str) -> tuple[Text, ...]:
    result = []
    for item, loc in fields.items(key):
        if isinstance(item, (SourceMap, SourceList)):
            fields.out.error(SourceError(f"each entry of '{key}' must be text", loc, fields.context))
        else:
            result.append(fields.text_at(str(item), loc, f"the entry of '{key}'"))
    return tuple(result)


def _part(data: SourceMap, number: str, out: Collector) -> Part[Text]:
    context = f"part {number}"
    f = Fields(data, PART_KEYS, context, out)
    f.require(*PART_REQUIRED)
    kind = kinds.kind_of(data)
    for key in data:
        if key in kinds.KIND_KEYS and key not in kind.keys:
            f.fail(f"a {kind.title} part takes no '{key}'" + (f": {kind.hint}" if kind.hint else ""), key)
    part = Part(
        number=number, id=f.name("id"), points=f.points("points") or 0.0, lead=f.text("lead"),
        prompt=f.text("prompt") or Text("", data.loc), answer=kind.validate(f),
        independent=f.boolean("independent", False), loc=data.loc, expect=_expect(f),
    )
    _rubric(part, f)
    return part


def _expect(f: Fields) -> tuple[Expression, ...]:
    """``expect``: a condition over the computed values (``0 < k <= 1000``), or a list of them."""
    value = f.data.get("expect")
    if value is None:
        return ()
    entries = list(zip(value, value.item_locs)) if isinstance(value, SourceList) else [(value, f.loc("expect"))]
    conditions = []
    for entry, loc in entries:
        if isinstance(entry, (SourceMap, SourceList, bool)) or not str(entry).strip():
            f.fail(f"'expect' holds conditions such as '0 < k <= 1000', not {entry!r}", "expect")
        else:
            conditions.append(Expression.written(str(entry), loc))
    return tuple(conditions)


def _variants(f: Fields) -> Variants | None:
    """``variants``: a count (labels A, B, ...), a list of labels, or ``per-copy``."""
    value = f.data.get("variants")
    if value is None:
        return None
    loc = f.loc("variants")
    if value == PER_COPY:
        return Variants((), True, loc)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_VARIANTS:
        return Variants(tuple(chr(ord("A") + i) for i in range(value)), False, loc)
    labels = [str(label) for label in value] if isinstance(value, SourceList) else []
    if not labels or not all(NAME.fullmatch(label) for label in labels) or len(set(labels)) < len(labels):
        f.fail(f"'variants' must be a count from 1 to {MAX_VARIANTS} (labels A, B, ...), a list of distinct "
               f"labels (names such as A or group-1) or '{PER_COPY}', not {value!r}", "variants")
        return None
    return Variants(tuple(labels), False, loc)


def _rubric(part: Part[Text], f: Fields) -> None:
    """Correction notes with points must be able to give a part its points (they may give more:
    alternatives, or a list of which any few suffice), and no note more than the part has."""
    earned = [note.points for note in part.answer.rubric() if note.points and note.points > 0]
    if not (earned and part.points):
        return
    if sum(earned) < part.points:
        f.warn(f"its correction notes give only {sum(earned):g} of its {part.points:g} points")
    if max(earned) > part.points:
        f.warn(f"a correction note gives {max(earned):g} points, more than the part's {part.points:g}")


def _image(f: Fields, folders: tuple[Path, ...]) -> Path | None:
    """A figure's image file: inside the exam's folders, of a kind pdflatex reads, of a sane size."""
    name = f.string("image")
    if name is None:
        return None
    try:
        image = named_file(name, f.data.loc.file, folders, "image file")
    except SourceError as exc:
        f.fail(exc.message, "image")
        return None
    if image.suffix.lower() not in IMAGE_SUFFIXES:
        f.fail(f"image file '{name}' must be named {', '.join(IMAGE_SUFFIXES[:-1])} or {IMAGE_SUFFIXES[-1]}: "
               f"pdflatex tells an image's format by its name", "image")
    elif (size := image.stat().st_size) > MAX_IMAGE_MB * 2**20:
        f.fail(f"image file '{name}' has {size / 2**20:.0f} MB, more than the {MAX_IMAGE_MB} MB an image may have",
               "image")
    return image


def _figure(data: SourceMap, problem: int, folders: tuple[Path, ...], out: Collector) -> Figure:
    f = Fields(data, FIGURE_KEYS, f"problem {problem}", out)
    f.require(*FIGURE_REQUIRED)
    if f.has("tikz") == f.has("image"):
        f.fail("a figure needs exactly one of 'tikz' and 'image'")
    image = _image(f, folders) if f.has("image") else None
    return Figure(f.name("id") or "", problem, f.text("caption"), f.text("tikz"), image,
                  f.string("width", r"0.6\linewidth"), data.loc)


def _table(data: SourceMap, problem: int, out: Collector) -> Table:
    f = Fields(data, TABLE_KEYS, f"problem {problem}", out)
    f.require(*TABLE_REQUIRED)
    if f.has("data") == f.has("rows"):
        f.fail("a table needs exactly one of 'rows' (cells) and 'data' (the name of a computed list of rows)")
    rows = []
    for row, loc in f.items("rows"):
        if not isinstance(row, SourceList):
            out.error(SourceError("each table row must be a list of cells", loc, f.context))
            continue
        rows.append(tuple(f.text_at(str(cell), cell_loc, "the cell") for cell, cell_loc in zip(row, row.item_locs)))
    places, sep = _num_options(f)
    computed_header = f.name("header") if isinstance(f.data.get("header"), str) else None
    header = () if computed_header else _texts(f, "header")
    return Table(f.name("id") or "", problem, f.text("caption"), header, tuple(rows),
                 f.name("data"), f.text("align"), places, sep, data.loc, computed_header)


def _num_options(f: Fields) -> tuple[int | None, str]:
    """A data table's ``num: {places: 2, sep: "{,}"}``: its numbers printed as ``num(2, "{,}")`` prints them."""
    data = f.data.get("num")
    if data is None:
        return None, ""
    if not isinstance(data, SourceMap):
        f.fail("'num' must be a mapping with 'places' and/or 'sep', as the num filter takes them", "num")
        return None, ""
    if not f.has("data"):
        f.fail("'num' formats the numbers of a 'data' table; a table of 'rows' holds text as written", "num")
    nf = f.nested(data, NUM_KEYS)
    places = nf.number("places")
    if places is not None and (not isinstance(places, int) or not 0 <= places <= 10):
        nf.fail(f"'places' must be a whole number from 0 to 10, not {places!r}", "places")
        places = None
    return places, nf.string("sep", "")


def _unique_ids(kind: str, records, describe, context: str | None, out: Collector) -> None:
    """Report every record whose id an earlier record of its kind already uses."""
    first: dict[str, str] = {}
    for record in records:
        if not record.id:
            continue
        if record.id in first:
            out.error(SourceError(f"{kind} id '{record.id}' is already used by {first[record.id]}",
                                  record.loc, context or describe(record)))
        first.setdefault(record.id, describe(record))


def _problem(data: SourceMap, number: int, folders: tuple[Path, ...], out: Collector) -> Problem:
    context = f"problem {number}"
    f = Fields(data, PROBLEM_KEYS, context, out)
    f.require(*PROBLEM_REQUIRED)
    parts: list[Part[Text]] = []
    for item, loc in f.items("parts"):
        part = f.mapping(item, loc, "a part")
        if part is not None:
            parts.append(_part(part, f"{number}.{len(parts) + 1}", out))
    if f.has("parts") and not parts:
        f.fail("the problem has no parts", "parts")
    figures = [_figure(m, number, folders, out)
               for item, loc in f.items("figures") if (m := f.mapping(item, loc, "a figure"))]
    tables = [_table(m, number, out) for item, loc in f.items("tables") if (m := f.mapping(item, loc, "a table"))]
    _unique_ids("figure", figures, lambda fig: f"the figure at line {fig.loc.line}", context, out)
    _unique_ids("table", tables, lambda table: f"the table at line {table.loc.line}", context, out)
    problem = Problem(
        number=number, id=f.name("id"), title=f.text("title") or Text("", data.loc), intro=f.text("intro"),
        compute=f.code(f"compute block of problem {number}"), figures=tuple(figures), tables=tuple(tables),
        parts=tuple(parts), new_page=f.boolean("new_page", False), loc=data.loc, expect=_expect(f),
        may_repeat=f.boolean("may_repeat", False),
    )
    stated = f.number("credits")
    if stated is not None and parts and all(p.points for p in parts) and stated != problem.credits:
        f.fail(f"'credits' says {stated:g} but the parts' points add up to {problem.credits:g}", "credits")
    return problem


def _date(f: Fields) -> datetime.date:
    value = f.data.get("date")
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        if value is not None:
            f.fail(f"'date' must be a date such as 2022-08-01, not {value!r}", "date")
        return datetime.date(1970, 1, 1)


def _time(f: Fields, key: str) -> str:
    value = f.string(key, "")
    if value and not TIME.fullmatch(value):
        f.fail(f"'{key}' must be a time such as 08:15, not {value!r}", key)
    return value


def _limits(f: Fields, out: Collector) -> Limits:
    data = f.data.get("limits")
    if data is None:
        return Limits()
    if not isinstance(data, SourceMap):
        f.fail("'limits' must be a mapping with 'seconds' and/or 'memory_mb'", "limits")
        return Limits()
    lf = Fields(data, LIMIT_KEYS, None, out)
    seconds = lf.number("seconds", Limits.seconds)
    memory = lf.number("memory_mb", Limits.memory_mb)
    most = ceilings()
    if not 0 < seconds <= most.block_seconds:
        lf.fail(f"'seconds' must be more than 0 and at most {most.block_seconds:g} (this machine's ceiling: "
                f"{BLOCK_SECONDS}, which the machine's operator sets): make the block faster", "seconds")
    if not 64 <= memory <= most.memory_mb:
        lf.fail(f"'memory_mb' must be between 64 and {most.memory_mb:g} (this machine's ceiling: {MEMORY_MB}, "
                "which the machine's operator sets): make the block use less", "memory_mb")
    return Limits(float(seconds), int(memory))


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _schedule(f: Fields) -> tuple[str, str, int | None]:
    """The start and end times and the duration in minutes: end and duration follow from each
    other and the start, and where both are given they must agree."""
    start, end = _time(f, "start"), _time(f, "end")
    value = f.data.get("duration")
    duration = None
    if value is not None:
        match = DURATION.match(str(value)) if not isinstance(value, bool) else None
        if match and any(match.groups()):
            duration = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
        if not duration or duration > 24 * 60:
            f.fail(f"'duration' must be a working time such as 90, '90 min' or '1h30', not {value!r}", "duration")
            duration = None
    if not (start and TIME.fullmatch(start)):
        return start, end, duration
    if end and TIME.fullmatch(end):
        between = (_minutes(end) - _minutes(start)) % (24 * 60)
        if duration is not None and duration != between:
            f.fail(f"'duration' says {duration} minutes, but {start} to {end} is {between}", "duration")
        return start, end, between
    if duration is None:
        f.fail("missing required key 'end' (or a 'duration')")
        return start, end, None
    finish = (_minutes(start) + duration) % (24 * 60)
    return start, f"{finish // 60:02d}:{finish % 60:02d}", duration


def _pages_multiple_of(f: Fields) -> int:
    value = f.number("pages_multiple_of", 2)
    if value not in PAGE_MULTIPLES or isinstance(value, float):
        f.fail(f"'pages_multiple_of' must be 1, 2 (duplex printing) or 4 (booklets), not {value!r}",
               "pages_multiple_of")
        return 1
    return int(value)


def _language(f: Fields, languages: frozenset[str]) -> str:
    language = f.string("language", "en") or "en"
    if language not in languages:
        f.fail(f"no strings for language '{language}' in the theme (it has: {', '.join(sorted(languages))})",
               "language")
    return language


def validate(source: Source, exam_id: str, out: Collector, languages: frozenset[str] = frozenset({"en"})) -> Exam[Text]:
    """Check the whole tree and build the Exam record, reporting every problem at once.

    ``languages`` are those the theme has strings for. Warnings stay in ``out``; errors
    are raised together at the end.
    """
    root = source.root
    f = Fields(root, EXAM_KEYS, None, out)
    f.require(*EXAM_REQUIRED)
    problems: list[Problem[Text]] = []
    for item, loc in f.items("problems"):
        data = f.mapping(item, loc, "a problem")
        if data is not None:
            problems.append(_problem(data, len(problems) + 1, source.folders, out))
    if f.has("problems") and not problems:
        f.fail("the exam has no problems", "problems")
    _unique_ids("problem", problems, lambda problem: problem.context, None, out)
    _unique_ids("part", [part for problem in problems for part in problem.parts], lambda part: part.context, None, out)
    extra = f.number("extra_pages", 2)
    if not isinstance(extra, int) or not 0 <= extra <= MAX_EXTRA_PAGES:
        f.fail(f"'extra_pages' must be a whole number from 0 to {MAX_EXTRA_PAGES}, not {extra!r}", "extra_pages")
        extra = 0
    any_star = any(part.independent for pr in problems for part in pr.parts)
    start, end, duration = _schedule(f)
    meta = Meta(
        course=f.plain("course", ""), course_number=f.plain("course_number", ""), kind=f.plain("kind", ""),
        code=f.plain("code", ""), date=_date(f), start=start, end=end, duration=duration,
        examiner=f.plain("examiner", ""), language=_language(f, languages), resources=_texts(f, "resources"),
        instructions=_texts(f, "instructions"), extra_pages=extra, pages_multiple_of=_pages_multiple_of(f),
        star_note=f.boolean("star_note", any_star),
    )
    exam = Exam(
        id=exam_id, dir=source.folders[0], lib=source.folders[1], meta=meta, compute=f.code("exam compute block"),
        problems=tuple(problems), limits=_limits(f, out), files=source.files, loc=root.loc,
        grading=read_grading(f, sum(problem.credits for problem in problems)), variants=_variants(f),
    )
    out.raise_if_any()
    return exam
