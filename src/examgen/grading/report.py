"""The outputs of `examgen grade`: results.csv (every copy's points and grade), grades.csv (the
registration numbers and grades, for TUMonline's grade import) and report.html (one
self-contained page, its plots inline SVG). The same inputs give the same bytes: nothing in
them is a date, a version or a random id. The CSV files' cells are never a formula (spreadsheet.py)."""

from __future__ import annotations

import html
from collections.abc import Iterable

from ..model.source import Exam
from ..numbers import format_number
from ..spreadsheet import safe_csv
from . import plots
from .analysis import Analysis, OptionStats
from .score import Results


def half_points(value: float) -> str:
    """Points as the key writes them (2 not 2.0, 1.5): exact for the half points marks are made of,
    and fast for a sheet of a thousand copies."""
    return str(int(value)) if value.is_integer() else repr(value)


def results_csv(results: Results) -> str:
    """Every copy of the marks sheet in its order; an absent student's row has no points and no grade."""
    graded = {graded.row.code: graded for graded in results.graded}
    header = ["code", "registration", "name", *(part.number for part in results.parts), "total", "grade"]
    rows = []
    for row in results.rows:
        copy = graded.get(row.code)
        numbers = [*copy.points, copy.total] if copy else [None] * (len(results.parts) + 1)
        rows.append([row.code, row.registration, row.name,
                     *("" if n is None else half_points(n) for n in numbers), copy.grade if copy else ""])
    return safe_csv([header, *rows], "\n")


def grades_csv(results: Results) -> str:
    """A grade per graded student with a registration number."""
    rows = [[graded.row.registration, graded.grade] for graded in results.graded if graded.row.registration]
    return safe_csv([["registration", "grade"], *rows], "\n")


# --- the page ---------------------------------------------------------------------------------

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222 }
h1 { font-size: 1.5em } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc }
table { border-collapse: collapse; margin: .5em 0 } td, th { padding: .15em .6em; text-align: right }
th { background: #f0f0f0 } td.l, th.l { text-align: left } tr:nth-child(even) td { background: #fafafa }
.flag { color: #b8433b } .bar { display: inline-block; height: .7em; background: #3b6ea5; vertical-align: middle }
.ok { color: #3b8a4a; font-weight: bold } .said { color: #666; font-size: .85em }
svg { max-width: 100%; height: auto; display: block; margin: .5em 0 }
"""


def _number(value: float | None, places: int = 2) -> str:
    return "–" if value is None else format_number(value, places)


def _percent(part: float, whole: float) -> str:
    return f"{format_number(100 * part / whole, 1)}%" if whole else "–"


def _table(header: list[str], rows: Iterable[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """An HTML table: the cells are HTML already; the columns ``left`` aligned left (text), the rest right."""
    cls = lambda i: ' class="l"' if i in left else ""  # noqa: E731
    head = "".join(f"<th{cls(i)}>{cell}</th>" for i, cell in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _bar(fraction: float) -> str:
    return f'<span class="bar" style="width:{format_number(60 * max(0.0, fraction), 1)}px"></span>'


def _summary(results: Results, analysis: Analysis) -> str:
    totals = [graded.total for graded in results.graded]
    failed = sum(graded.grade == results.scale.fail for graded in results.graded)
    rows = [["copies graded", str(analysis.count)], ["absent (an empty row)", str(len(results.absent))],
            ["mean total", f"{_number(analysis.mean)} ({_percent(analysis.mean, results.scale.total)})"],
            ["median total", _number(analysis.median)], ["standard deviation", _number(analysis.sd)],
            ["lowest / highest", f"{format_number(min(totals))} / {format_number(max(totals))}"],
            [f"failed ({html.escape(results.scale.fail)})", f"{failed} ({_percent(failed, analysis.count)})"],
            ["Cronbach's alpha", _number(analysis.alpha)]]
    return _table(["", ""], rows)


def _thresholds(results: Results, analysis: Analysis) -> str:
    counts = dict(analysis.grades)
    total = results.scale.total
    rows = [[html.escape(cut.grade), format_number(cut.points), _percent(cut.points, total), str(counts[cut.grade]),
             _percent(counts[cut.grade], analysis.count)] for cut in results.scale.cuts]
    fail = results.scale.fail
    rows.append([html.escape(fail), "below", "", str(counts[fail]), _percent(counts[fail], analysis.count)])
    return _table(["grade", "least points", "of the total", "students", "share"], rows)


def _parts(analysis: Analysis) -> str:
    rows = [[part.number, part.kind, format_number(part.points), _number(part.mean), _number(part.sd),
             f"{_number(part.difficulty)} {_bar(part.difficulty)}", _number(part.discrimination),
             f'<span class="flag">{", ".join(part.flags)}</span>'] for part in analysis.parts]
    return _table(["part", "kind", "max", "mean", "SD", "difficulty", "discrimination", "flags"], rows,
                  left=(0, 1, 7))


def _variants(exam: Exam, results: Results, analysis: Analysis) -> str:
    """With variants, each part's difficulty per variant: a variant that drew a harder question shows
    (not for ``per-copy``, where each variant is one copy)."""
    if not analysis.variants or (exam.variants and exam.variants.per_copy):
        return ""
    rows = [[part.number, *(f"{_number(stats.difficulty[index])} {_bar(stats.difficulty[index])}"
                            for stats in analysis.variants)] for index, part in enumerate(results.parts)]
    rows.append(["copies", *(str(stats.count) for stats in analysis.variants)])
    table = _table(["part", *(f"variant {html.escape(stats.label)}" for stats in analysis.variants)], rows)
    return ("<h2>Difficulty per variant</h2>\n<p>Each part's difficulty among the copies of each variant. Below, "
            "a shuffled part's options are counted as the source numbers them, together across the variants that share "
            "its key; options that say different things per variant are counted per variant.</p>\n"
            f"{table}\n")


SAID_SHOWN = 24  # characters of an option's text a cell shows, where the options differ per variant


def _options(analysis: Analysis) -> str:
    if not analysis.options:
        return "<p>No scanner readings were given (<code>--crosses</code>): no option counts.</p>"
    numbered = [stats for stats in analysis.options if stats.roles is None]
    by_role = [stats for stats in analysis.options if stats.roles is not None]
    return (_numbered(numbered) if numbered else "") + (_by_role(by_role) if by_role else "")


def _numbered(options: list[OptionStats]) -> str:
    """The rows of counts per option: what an option says is shown where it differs per variant."""
    widest = max(len(stats.crossed) for stats in options)
    per_key = any(stats.variants for stats in options)  # a column naming each row's variants
    rows = []
    for stats in options:
        cells = [f'{"<span class=ok>✓</span> " if option in stats.correct else ""}{_percent(count, stats.scanned)}'
                 + (f" <span class=said>{_said(stats.said[option - 1])}</span>" if option <= len(stats.said) else "")
                 for option, count in enumerate(stats.crossed, 1)]
        rows.append([stats.number, *([_variant_labels(stats.variants)] if per_key else []), str(stats.scanned),
                     _percent(stats.right, stats.scanned), *cells, *([""] * (widest - len(cells)))])
    return _table(["part", *(["variants"] if per_key else []), "scanned", "all right",
                   *(f"option {i}" for i in range(1, widest + 1))], rows, left=(0, 1) if per_key else (0,))


def _by_role(options: list[OptionStats]) -> str:
    """Parts whose options differ per variant, in more variants than rows: the correct options and the
    distractors, each the share crossed of those the copies were given."""
    rows = [[stats.number, _variant_labels(stats.variants), str(stats.scanned), _percent(stats.right, stats.scanned),
             *(_percent(share, 1) if share is not None else "–" for share in stats.roles or ())] for stats in options]
    return ("<p>Options that say different things in each of many variants (generated options, computed texts), "
            "counted by role: of the correct options the copies were given, the share crossed, and of the "
            "distractors.</p>\n" + _table(["part", "variants", "scanned", "all right", "correct options crossed",
                                           "distractors crossed"], rows, left=(0, 1)))


def _said(text: str) -> str:
    """An option's text, short, in a cell: the LaTeX as written, its math dollars dropped."""
    plain = text.replace("$", "")
    return html.escape(plain if len(plain) <= SAID_SHOWN else plain[:SAID_SHOWN - 1] + "…")


def _variant_labels(labels: tuple[str, ...], most: int = 6) -> str:
    """The variants a row of option counts is of: all (an empty cell), their labels, or how many."""
    return html.escape(", ".join(labels)) if len(labels) <= most else f"{len(labels)} variants"


def _flags(analysis: Analysis) -> str:
    flagged = [f"<li>part {part.number}: {', '.join(part.flags)}</li>" for part in analysis.parts if part.flags]
    return f"<ul class=flag>{''.join(flagged)}</ul>" if flagged else "<p>No part is flagged.</p>"


def _plots(results: Results, analysis: Analysis) -> dict[str, str]:
    scale = results.scale
    return {
        "histogram": plots.histogram([graded.total for graded in results.graded], scale.total,
                                     [(cut.grade, cut.points) for cut in scale.cuts]),
        "grades": plots.grade_bars(analysis.grades, scale.fail),
        "items": plots.item_map([(part.number, part.difficulty, part.discrimination, bool(part.flags))
                                 for part in analysis.parts if part.discrimination is not None]),
    }


def report_html(exam: Exam, results: Results, analysis: Analysis) -> str:
    meta = exam.meta
    title = html.escape(f"{meta.course} – {meta.kind}, {meta.date.isoformat()}")
    images = _plots(results, analysis)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grading report: {title}</title>
<style>{STYLE}</style></head><body>
<h1>Grading report: {title}</h1>
<p>Exam <code>{html.escape(exam.id)}</code> ({html.escape(meta.code)}), {len(results.parts)} parts,
{format_number(results.scale.total)} points. Formulas and references: examgen's <code>docs/grading.md</code>.</p>
<h2>Summary</h2>{_summary(results, analysis)}
<h2>Total scores and grade thresholds</h2>{images["histogram"]}{_thresholds(results, analysis)}
<h2>Grade distribution</h2>{images["grades"]}
<h2>Parts to look at</h2>{_flags(analysis)}
<h2>Parts</h2>
<p>Difficulty: the mean over the maximum (1: everybody got full points). Discrimination: the correlation of
the part's points with the total of the other parts (below 0: students who did well elsewhere did worse here).</p>
{_parts(analysis)}{images["items"]}
{_variants(exam, results, analysis)}<h2>Multiple choice: how often each option was crossed</h2>
<p>Among the copies a scanner read; ✓ marks the correct options, "all right" the copies whose crosses are
exactly their key. Options are numbered as the source numbers them. Where variants compute a part's key, the
part has a row per key, counted among the copies of the variants named, each with its own ✓. Where a part's
options say different things per variant (generated options, computed texts), it has a row per variant, each
option's cell showing what it says there (with many variants: one row, by role).</p>
{_options(analysis)}
</body></html>
"""
