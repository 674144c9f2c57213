r"""Moodle XML (docs/exports.md): a question bank with a category per exam, per problem and per
part, the part's variants the questions in its category (a quiz's "random question" from it gives
each student one variant of that part).

Every question imports into core Moodle. Multiple choice keeps the exam's all-or-nothing rule as
closely as core ``multichoice`` can: every choice question offers the part's options and a last
one, "none of these options" (the paper's answer "cross nothing", which Moodle cannot grade;
offered in every question so it tells nothing), unless the part has its own. With check boxes
(``single=false``) Moodle adds the fractions of the ticked boxes and floors the sum at 0; its
positive fractions must add up to 100 %. So each of k correct options is +100/k %, every other
-100 %: any wrong cross scores 0, exactly the correct set 100 %, and only a strict subset of the
correct options, nothing wrong, earns part (j/k) of the points, where the paper gives 0. The
format ``moodle-multichoiceset`` writes the parts with several correct options as the plugin
``multichoiceset`` ("All-or-Nothing Multiple Choice") instead, which grades the rule exactly.
Numeric parts are ``numerical`` with the absolute tolerance and the unit (optional, not graded:
the paper prints it); free-answer parts ``essay`` with the sample solution and the correction
notes as information for graders. Each part is asked in its kind's form (``kinds.base``); a kind
without one is an error naming the part, never an essay.

Checked against Moodle 4.x's importer (question/format/xml/format.php, question/format.php): the
fractions must be among ``question_bank::fraction_options_full()`` (MOODLE_FRACTIONS) or the
import stops, and a ``multichoice`` with check boxes is refused unless its positive fractions,
rounded to 2 places, add up to exactly 100 %.
"""

from __future__ import annotations

import base64
from html import escape
from xml.etree import ElementTree as ET

from ..errors import ExportError
from ..kinds.base import Choose, Essay, Number
from ..kinds.choice import ALL_OR_NOTHING
from ..numbers import format_number
from .html import Html, Image, Question, unasked, worked

PLUGINFILE = "@@PLUGINFILE@@/"  # how Moodle's XML addresses a file embedded in the same text
# The fractions Moodle's import accepts (question_bank::fraction_options_full(), within 1e-5), positive
MOODLE_FRACTIONS = (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2,
                    0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05)


def source(name: str) -> str:
    return PLUGINFILE + name


def category_path(*names: str) -> str:
    """A category path below the course's top category; a '/' in a name is doubled, as Moodle escapes it."""
    return "/".join(["$course$/top", *(name.replace("/", "//") for name in names)])


def _text(parent: ET.Element, tag: str, html: Html | str, images: dict[str, Image] | None = None,
          form: str = "html") -> ET.Element:
    """An element with its text (and the images it shows embedded, base64)."""
    element = ET.SubElement(parent, tag, {"format": form} if form else {})
    ET.SubElement(element, "text").text = html.text if isinstance(html, Html) else html
    if isinstance(html, Html) and images:
        for name in html.images:
            file = ET.SubElement(element, "file", {"name": name, "path": "/", "encoding": "base64"})
            file.text = base64.b64encode(images[name].data).decode("ascii")
    return element


def _value(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _category(quiz: ET.Element, path: str, info: str) -> None:
    question = ET.SubElement(quiz, "question", {"type": "category"})
    category = ET.SubElement(question, "category")
    ET.SubElement(category, "text").text = path
    _text(question, "info", info)


def question_name(exam_id: str, question: Question) -> str:
    part = question.part
    variant = f" variant {question.variant}" if question.variant else ""
    return f"{exam_id} {part.number}" + (f" ({part.id})" if part.id else "") + variant


def _share(count: int, question: Question, what: str) -> float:
    """1/count as one of Moodle's fractions; else an error naming the part."""
    share = next((f for f in MOODLE_FRACTIONS if abs(f - 1 / count) < 1e-5), None)
    if share is None:
        raise ExportError(f"{count} {what}: core Moodle has no fraction 1/{count} to give each its share of 100 %"
                          + ("; export with --format moodle-multichoiceset for a Moodle with that plugin"
                             if what == "correct options" else ""), question.part.loc, question.part.context)
    return share


def fractions(question: Question, form: Choose, plugin: bool) -> tuple[str, list[float]]:
    """The question type and each choice's fraction in percent. Single choice: the correct one 100 %, the
    others 0 (all-or-nothing) or -100/(n-1) % (negative). Several: core ``multichoice``, each correct one
    +100/k %, each wrong one -100 % (all-or-nothing: any wrong cross scores 0) or -100/w % (negative and
    partial: Moodle's sum floored at 0, which is the negative rule exactly); with ``plugin``, several
    correct ones of an all-or-nothing part as ``multichoiceset``, those 100 and the others 0 (what the
    plugin's own export writes)."""
    choices = range(1, len(question.choices) + 1)
    correct = form.correct or (len(question.choices),)  # none correct: "none of these"
    if form.single:
        wrong = 0.0 if form.scoring == ALL_OR_NOTHING else -100 * _share(len(question.options) - 1, question,
                                                                         "wrong options")
        return "multichoice", [100.0 if n in correct else round(wrong, 5) for n in choices]
    if plugin and len(correct) > 1 and form.scoring == ALL_OR_NOTHING:
        return "multichoiceset", [100.0 if n in correct else 0.0 for n in choices]
    share = _share(len(correct), question, "correct options")
    wrong = 1.0 if form.scoring == ALL_OR_NOTHING or not form.correct else \
        _share(len(question.options) - len(form.correct), question, "wrong options")
    return "multichoice", [round(100 * share, 5) if n in correct else
                           -100.0 if n > len(question.options) else round(-100 * wrong, 5) for n in choices]


def _common(quiz: ET.Element, kind: str, exam_id: str, question: Question, images: dict[str, Image],
            feedback: Html) -> ET.Element:
    element = ET.SubElement(quiz, "question", {"type": kind})
    name = ET.SubElement(element, "name")
    ET.SubElement(name, "text").text = question_name(exam_id, question)
    _text(element, "questiontext", question.body(collapsed=True), images)
    _text(element, "generalfeedback", feedback, images)
    _value(element, "defaultgrade", format_number(question.part.points))
    _value(element, "penalty", "0")
    _value(element, "hidden", "0")
    _value(element, "idnumber", f"{exam_id}-{question.part.number}" + (f"-{question.variant}" if question.variant
                                                                        else ""))
    return element


def _choice(quiz: ET.Element, exam_id: str, question: Question, form: Choose, plugin: bool,
            images: dict[str, Image]) -> None:
    choices = question.choices
    kind, shares = fractions(question, form, plugin)
    element = _common(quiz, kind, exam_id, question, images, worked(question))
    if kind == "multichoice":
        _value(element, "single", "true" if form.single else "false")
    _value(element, "shuffleanswers", "0")
    _value(element, "answernumbering", "none")
    _value(element, "showstandardinstruction", "0")
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text(element, tag, "")
    ET.SubElement(element, "shownumcorrect")
    explanations = question.explanations + (None,) * (len(choices) - len(question.explanations))
    for text, share, why in zip(choices, shares, explanations):
        option = _text(element, "answer", text, images)
        option.set("fraction", format_number(share))
        _text(option, "feedback", why or "", images)


def _numerical(quiz: ET.Element, exam_id: str, question: Question, form: Number,
               images: dict[str, Image]) -> None:
    element = _common(quiz, "numerical", exam_id, question, images, worked(question))
    option = ET.SubElement(element, "answer", {"fraction": "100", "format": "moodle_auto_format"})
    ET.SubElement(option, "text").text = format_number(form.value)
    _value(option, "tolerance", format_number(form.tolerance))
    _text(option, "feedback", "")
    if form.unit:
        units = ET.SubElement(ET.SubElement(element, "units"), "unit")
        _value(units, "multiplier", "1")
        _value(units, "unit_name", form.unit)
    _value(element, "unitgradingtype", "0")  # the unit is optional and not graded
    _value(element, "unitpenalty", "0")
    _value(element, "showunits", "3" if not form.unit else "0")
    _value(element, "unitsleft", "0")


def _essay(quiz: ET.Element, exam_id: str, question: Question, images: dict[str, Image]) -> None:
    element = _common(quiz, "essay", exam_id, question, images, Html(""))
    _value(element, "responseformat", "editor")
    _value(element, "responserequired", "1")
    _value(element, "responsefieldlines", str(question.lines))
    _value(element, "attachments", "0")
    _value(element, "attachmentsrequired", "0")
    _text(element, "graderinfo", worked(question), images)
    _text(element, "responsetemplate", "")


def moodle_xml(exam_id: str, exam_title: str, questions: list[Question], images: dict[str, Image],
               plugin: bool = False) -> bytes:
    """The question bank: the exam's category, then per problem its category, in it per part a
    category holding the part's variants; ``plugin``: several correct options as ``multichoiceset``."""
    quiz = ET.Element("quiz")
    _category(quiz, category_path(exam_id), f"<p>{escape(exam_title)}</p>")
    problem, part = None, None
    for question in questions:
        number = question.problem.number
        problem_name = f"{number} {question.title}"
        if number != problem:
            problem = number
            _category(quiz, category_path(exam_id, problem_name), f"<p>{escape(problem_name)}</p>")
        if question.part.number != part:
            part = question.part.number
            _category(quiz, category_path(exam_id, problem_name, part_category(question)),
                      f"<p>{escape(part_category(question))}: {format_number(question.part.points)} points</p>")
        form = question.part.answer.form()
        if isinstance(form, Choose):
            _choice(quiz, exam_id, question, form, plugin, images)
        elif isinstance(form, Number):
            _numerical(quiz, exam_id, question, form, images)
        elif isinstance(form, Essay):
            _essay(quiz, exam_id, question, images)
        else:
            raise unasked(question, "Moodle XML")
    ET.indent(quiz, space=" ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="utf-8") + b"\n"


def part_category(question: Question) -> str:
    """A part's category: its number (and id); its variants are the questions in it."""
    part = question.part
    return part.number + (f" ({part.id})" if part.id else "")
