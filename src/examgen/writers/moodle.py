r"""Moodle XML (docs/exports.md): a question bank with a category per exam and per problem.

Multiple choice keeps the exam's all-or-nothing rule exactly: every choice question offers
the part's options and a last one, "none of these options" (the paper's answer "cross
nothing", which Moodle cannot grade; offered in every question so it tells nothing). With
one correct option (or none: then "none of these") it is Moodle's core ``multichoice`` with
check boxes: the correct option +100 %, every other -100 % (Moodle floors a grade at 0), so
only the correct option alone scores. With several correct options core Moodle gives partial
credit for some of them, so the part is a ``multichoiceset`` ("All-or-Nothing Multiple
Choice", a plugin in Moodle's plugin directory): full points for exactly the correct set.
Numeric parts are ``numerical`` with the absolute tolerance and the unit (optional, not
graded: the paper prints it); free-answer parts ``essay`` with the sample solution and the
correction notes as information for graders. Each part is asked in its kind's form
(``kinds.base``); a kind without one is an error naming the part, never an essay.
"""

from __future__ import annotations

import base64
from html import escape
from xml.etree import ElementTree as ET

from ..kinds.base import Choose, Essay, Number
from ..numbers import format_number
from .html import Html, Image, Question, unasked, worked

PLUGINFILE = "@@PLUGINFILE@@/"  # how Moodle's XML addresses a file embedded in the same text
NONE_OF_THESE = {"en": "None of these options is correct.", "de": "Keine dieser Antworten ist richtig."}


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


def fractions(correct: tuple[int, ...], options: int) -> tuple[str, list[float]]:
    """The question type and each answer's fraction in percent (the options, then "none of these")."""
    if len(correct) > 1:
        return "multichoiceset", [100.0 if n in correct else 0.0 for n in range(1, options + 2)]
    right = correct[0] if correct else options + 1
    return "multichoice", [100.0 if n == right else -100.0 for n in range(1, options + 2)]


def _common(quiz: ET.Element, kind: str, exam_id: str, question: Question, images: dict[str, Image],
            feedback: Html) -> ET.Element:
    element = ET.SubElement(quiz, "question", {"type": kind})
    name = ET.SubElement(element, "name")
    ET.SubElement(name, "text").text = question_name(exam_id, question)
    _text(element, "questiontext", question.text, images)
    _text(element, "generalfeedback", feedback, images)
    _value(element, "defaultgrade", format_number(question.part.points))
    _value(element, "penalty", "0")
    _value(element, "hidden", "0")
    _value(element, "idnumber", f"{exam_id}-{question.part.number}" + (f"-{question.variant}" if question.variant
                                                                        else ""))
    return element


def _choice(quiz: ET.Element, exam_id: str, question: Question, form: Choose, language: str,
            images: dict[str, Image]) -> None:
    kind, shares = fractions(form.correct, len(question.options))
    element = _common(quiz, kind, exam_id, question, images, Html(""))
    if kind == "multichoice":
        _value(element, "single", "false")
    _value(element, "shuffleanswers", "0")
    _value(element, "answernumbering", "none")
    _value(element, "showstandardinstruction", "0")
    for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _text(element, tag, "")
    ET.SubElement(element, "shownumcorrect")
    texts = [*question.options, Html(NONE_OF_THESE.get(language, NONE_OF_THESE["en"]))]
    for text, share in zip(texts, shares):
        option = _text(element, "answer", text, images)
        option.set("fraction", format_number(share))
        _text(option, "feedback", "")


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


def moodle_xml(exam_id: str, exam_title: str, language: str, questions: list[Question],
               images: dict[str, Image]) -> bytes:
    """The question bank: the exam's category, then per problem its category and its parts."""
    quiz = ET.Element("quiz")
    _category(quiz, category_path(exam_id), f"<p>{escape(exam_title)}</p>")
    problem = None
    for question in questions:
        if question.problem.number != problem:
            problem = question.problem.number
            _category(quiz, category_path(exam_id, f"{problem} {question.title}"),
                      f"<p>{problem} {escape(question.title)}</p>")
        form = question.part.answer.form()
        if isinstance(form, Choose):
            _choice(quiz, exam_id, question, form, language, images)
        elif isinstance(form, Number):
            _numerical(quiz, exam_id, question, form, images)
        elif isinstance(form, Essay):
            _essay(quiz, exam_id, question, images)
        else:
            raise unasked(question, "Moodle XML")
    ET.indent(quiz, space=" ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="utf-8") + b"\n"
