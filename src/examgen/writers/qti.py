"""An IMS QTI 2.1 content package (docs/exports.md): a zip of ``imsmanifest.xml``, one
``assessmentItem`` per part and variant, an ``assessmentTest`` with a section per problem holding a
section per part that selects one of its variants, and the images.

The mapping is Moodle's: a choice part is a ``choiceInteraction`` (any number of boxes, in the
exam's order, and "none of these" unless the part has its own) scored all-or-nothing by its own
response processing: the points for exactly the correct set, 0 for anything else, an empty
response included; a numeric part a ``textEntryInteraction`` of a float, right within the absolute
tolerance; a free-answer part an ``extendedTextInteraction`` scored by hand, with the sample
solution and the correction notes in a ``rubricBlock`` for scorers. Math is MathML, its TeX kept
as an annotation (``mathml``; a formula latex2mathml cannot convert stays TeX, with a warning).
Each part is asked in its kind's form (``kinds.base``); a kind without one is an error naming the
part. Checked against the QTI 2.1 (final, 2012) and IMS CP 1.1 XSDs while written (docs/exports.md).
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree as ET

from ..kinds.base import Choose, Essay, Number
from ..kinds.choice import ALL_OR_NOTHING, NEGATIVE, PARTIAL
from ..numbers import format_number
from .html import Html, Image, Question, unasked, worked

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
MATHML = "http://www.w3.org/1998/Math/MathML"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
IMAGES = "images/"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed: the same exam gives the same bytes


ET.register_namespace("m", MATHML)
NONE_CHOICE = "option-none"


def source(name: str) -> str:
    return IMAGES + name


def mathml(tex: str, display: bool) -> str | None:
    """A formula as MathML (latex2mathml), its TeX kept as an annotation; None where latex2mathml
    cannot convert it, or passes a command it does not know through as text."""
    from latex2mathml.converter import convert

    readable = tex  # latex2mathml reads align* and gather*, not the converter's aligned and gathered
    for inner, outer in (("aligned", "align*"), ("gathered", "gather*")):
        readable = readable.replace(f"{{{inner}}}", f"{{{outer}}}")
    try:
        math = ET.fromstring(convert(readable, display="block" if display else "inline"))
    except Exception:  # latex2mathml's own errors for TeX it cannot read (no common base class), or its
        return None  # alignments' '&' passed through unescaped, which no XML parser reads
    for token in math.iter():
        token.text = token.text and re.sub(r"\\([_%#$])", r"\1", token.text)  # left escaped in \text{…}
        if token.text and "\\" in token.text:  # a command latex2mathml does not know, passed through
            return None
    semantics = ET.Element(f"{{{MATHML}}}semantics")
    row = semantics if len(math) == 1 else ET.SubElement(semantics, f"{{{MATHML}}}mrow")
    row.extend(list(math))
    ET.SubElement(semantics, f"{{{MATHML}}}annotation", {"encoding": "application/x-tex"}).text = tex
    math[:] = [semantics]
    return ET.tostring(math, encoding="unicode")


def identifier(text: str) -> str:
    """An XML NCName: letters, digits, '-', '.', '_' and a letter first."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def item_id(question: Question) -> str:
    return f"item-{question.part.number}" + (f"-{question.variant}" if question.variant else "")


def item_title(question: Question) -> str:
    return f"{question.part.number} {question.title}" + (f" (variant {question.variant})" if question.variant else "")


def _root(tag: str, namespace: str, schema: str, attributes: dict[str, str]) -> ET.Element:
    """A document's root: its namespace is the default one, declared as a plain attribute, so its
    elements (and the converter's XHTML) need no prefix."""
    return ET.Element(tag, {"xmlns": namespace, **attributes, f"{{{XSI}}}schemaLocation": f"{namespace} {schema}"})


def _sub(parent: ET.Element, tag: str, attributes: dict[str, str] | None = None, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes or {})
    if text is not None:
        element.text = text
    return element


def xhtml(html: Html, tag: str = "div") -> ET.Element:
    """XHTML of the converter as elements, inside one ``tag``."""
    return ET.fromstring(f"<{tag}>{html.text}</{tag}>")


def _score(parent: ET.Element, points: float) -> None:
    for name, value in (("SCORE", "0"), ("MAXSCORE", format_number(points))):
        outcome = _sub(parent, "outcomeDeclaration", {"identifier": name, "cardinality": "single",
                                                      "baseType": "float"})
        _sub(_sub(outcome, "defaultValue"), "value", text=value)


def _condition(processing: ET.Element) -> ET.Element:
    """A ``responseIf`` for the condition, then the points (``_set_score``)."""
    return _sub(_sub(processing, "responseCondition"), "responseIf")


def _set_score(condition: ET.Element, points: float) -> None:
    outcome = _sub(condition, "setOutcomeValue", {"identifier": "SCORE"})
    _sub(outcome, "baseValue", {"baseType": "float"}, format_number(points))


def _choice(question: Question, form: Choose, item: ET.Element, processing: ET.Element) -> None:
    """A choice part: one box (single choice) or any; all-or-nothing as a match of the correct
    response (an empty response matches no set: skipped is 0); negative as a mapping of each choice
    to its points, floored at 0; partial as the wrong options' shares plus a mapping (a crossed
    correct option earns its share, a crossed wrong one loses it). Each option's explanation is its
    ``feedbackInline``, shown once the response is processed."""
    response, body = item.find("responseDeclaration"), item.find("itemBody")
    assert response is not None and body is not None
    points, rule = question.part.points, form.scoring if form.correct else ALL_OR_NOTHING
    choices = [(f"option-{number}", option) for number, option in enumerate(question.options, 1)]
    choices += [(NONE_CHOICE, question.none)] if question.none else []
    response.attrib.update(cardinality="single" if form.single else "multiple", baseType="identifier")
    correct = _sub(response, "correctResponse")
    right = form.correct or (len(choices),)  # none correct: "none of these"
    for number in right:
        _sub(correct, "value", text=choices[number - 1][0])
    count, wrong = len(question.options), len(question.options) - len(form.correct)
    if rule != ALL_OR_NOTHING:
        mapping = _sub(response, "mapping", {"defaultValue": "0", **({"lowerBound": "0"} if rule == NEGATIVE else {})})
        for number, (identifier, _) in enumerate(choices, 1):
            if number > count:  # the added "none of these": never right when an option is
                value = -points
            elif rule == PARTIAL:
                value = points / count if number in right else -points / count
            else:
                value = points / len(form.correct) if number in right else -points / wrong
            _sub(mapping, "mapEntry", {"mapKey": identifier, "mappedValue": f"{value:.6g}"})
    explained = [identifier for (identifier, _), why in zip(choices, question.explanations) if why]
    if explained:
        feedback = ET.Element("outcomeDeclaration", {"identifier": "FEEDBACK", "cardinality": "multiple",
                                                     "baseType": "identifier"})
        item.insert(list(item).index(body), feedback)
    interaction = _sub(body, "choiceInteraction", {"responseIdentifier": "RESPONSE", "shuffle": "false",
                                                   "maxChoices": "1" if form.single else "0"})
    for number, (identifier, option) in enumerate(choices):
        choice = xhtml(option, "simpleChoice")
        choice.set("identifier", identifier)
        why = question.explanations[number] if number < len(question.explanations) else None
        if why:
            inline = xhtml(why, "feedbackInline")
            inline.attrib.update(outcomeIdentifier="FEEDBACK", identifier=identifier, showHide="show")
            choice.append(inline)
        interaction.append(choice)
    rule_element = _sub(processing, "responseCondition")
    condition = _sub(rule_element, "responseIf")
    if rule == ALL_OR_NOTHING:
        match = _sub(condition, "match")
        _sub(match, "variable", {"identifier": "RESPONSE"})
        _sub(match, "correct", {"identifier": "RESPONSE"})
        _set_score(condition, points)
    else:  # a response at all: its mapped points (partial: and the wrong options' shares)
        _sub(_sub(condition, "not"), "isNull").append(ET.Element("variable", {"identifier": "RESPONSE"}))
        total = _sub(_sub(condition, "setOutcomeValue", {"identifier": "SCORE"}), "sum")
        _sub(total, "baseValue", {"baseType": "float"}, f"{points * wrong / count if rule == PARTIAL else 0:.6g}")
        _sub(total, "mapResponse", {"identifier": "RESPONSE"})
        if rule == PARTIAL:  # nothing crossed: every wrong option left empty
            _set_score(_sub(rule_element, "responseElse"), points * wrong / count)
    if explained:
        shown = _sub(_sub(processing, "setOutcomeValue", {"identifier": "FEEDBACK"}), "multiple")
        for identifier in explained:
            _sub(shown, "baseValue", {"baseType": "identifier"}, identifier)


def assessment_item(question: Question) -> ET.Element:
    part, form = question.part, question.part.answer.form()
    item = _root("assessmentItem", QTI, QTI_XSD, {"identifier": item_id(question), "title": item_title(question),
                                                  "adaptive": "false", "timeDependent": "false"})
    response = _sub(item, "responseDeclaration", {"identifier": "RESPONSE"})
    _score(item, part.points)
    body = _sub(item, "itemBody")
    body.append(xhtml(question.body(collapsed=False)))
    processing = ET.Element("responseProcessing")
    if isinstance(form, Choose):
        _choice(question, form, item, processing)
    elif isinstance(form, Number):
        response.attrib.update(cardinality="single", baseType="float")
        _sub(_sub(response, "correctResponse"), "value", text=format_number(form.value))
        line = _sub(body, "p")
        _sub(line, "textEntryInteraction", {"responseIdentifier": "RESPONSE", "expectedLength": "15"})
        if form.unit:
            line[-1].tail = f" {form.unit}"
        condition = _condition(processing)
        tolerance = format_number(form.tolerance)
        mode = {"toleranceMode": "absolute", "tolerance": f"{tolerance} {tolerance}"} \
            if form.tolerance else {"toleranceMode": "exact"}
        equal = _sub(condition, "equal", mode)
        _sub(equal, "variable", {"identifier": "RESPONSE"})
        _sub(equal, "correct", {"identifier": "RESPONSE"})
        _set_score(condition, part.points)
    elif isinstance(form, Essay):
        response.attrib.update(cardinality="single", baseType="string")
        _sub(body, "extendedTextInteraction", {"responseIdentifier": "RESPONSE", "expectedLines": str(question.lines)})
    else:
        raise unasked(question, "QTI")
    grading = worked(question)
    if grading.text:
        rubric = _sub(body, "rubricBlock", {"view": "scorer"})
        rubric.append(xhtml(grading))
    if len(processing):
        item.append(processing)
    return item


def assessment_test(exam_id: str, title: str, questions: list[Question]) -> ET.Element:
    """The test: a section per problem, in it a section per part that selects one of the part's
    variants; ``SCORE`` and ``MAXSCORE`` are the sums over the items selected."""
    test = _root("assessmentTest", QTI, QTI_XSD, {"identifier": identifier(f"test-{exam_id}"), "title": title})
    for name in ("SCORE", "MAXSCORE"):
        _sub(test, "outcomeDeclaration", {"identifier": name, "cardinality": "single", "baseType": "float"})
    test_part = _sub(test, "testPart", {"identifier": "exam", "navigationMode": "nonlinear",
                                        "submissionMode": "simultaneous"})
    problems: dict[int, ET.Element] = {}
    parts: dict[str, ET.Element] = {}
    for question in questions:
        number, part = question.problem.number, question.part.number
        if number not in problems:
            problems[number] = _sub(test_part, "assessmentSection", {
                "identifier": f"problem-{number}", "title": f"{number} {question.title}", "visible": "true"})
        if part not in parts:
            parts[part] = _sub(problems[number], "assessmentSection", {
                "identifier": identifier(f"part-{part}"), "title": part, "visible": "false"})
            _sub(parts[part], "selection", {"select": "1"})
        _sub(parts[part], "assessmentItemRef", {"identifier": item_id(question), "href": f"{item_id(question)}.xml"})
    processing = _sub(test, "outcomeProcessing")
    for name in ("SCORE", "MAXSCORE"):
        total = _sub(processing, "setOutcomeValue", {"identifier": name})
        _sub(_sub(total, "sum"), "testVariables", {"variableIdentifier": name})
    return test


def manifest(exam_id: str, questions: list[Question]) -> ET.Element:
    root = _root("manifest", CP, CP_XSD, {"identifier": identifier(f"manifest-{exam_id}")})
    metadata = _sub(root, "metadata")
    _sub(metadata, "schema", text="QTIv2.1 Package")
    _sub(metadata, "schemaversion", text="1.0.0")
    _sub(root, "organizations")
    resources = _sub(root, "resources")
    test = _sub(resources, "resource", {"identifier": "test", "type": "imsqti_test_xmlv2p1", "href": "test.xml"})
    _sub(test, "file", {"href": "test.xml"})
    for question in questions:
        _sub(test, "dependency", {"identifierref": item_id(question)})
    for question in questions:
        href = f"{item_id(question)}.xml"
        resource = _sub(resources, "resource", {"identifier": item_id(question), "type": "imsqti_item_xmlv2p1",
                                                "href": href})
        _sub(resource, "file", {"href": href})
        for name in question.images:
            _sub(resource, "file", {"href": source(name)})
    return root


def _xml(element: ET.Element) -> bytes:
    ET.indent(element, space=" ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8") + b"\n"


def qti_zip(exam_id: str, title: str, questions: list[Question], images: dict[str, Image]) -> bytes:
    """The package's bytes."""
    files = {"imsmanifest.xml": _xml(manifest(exam_id, questions)),
             "test.xml": _xml(assessment_test(exam_id, title, questions))}
    files.update({f"{item_id(q)}.xml": _xml(assessment_item(q)) for q in questions})
    files.update({source(name): images[name].data for q in questions for name in q.images})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in files.items():
            package.writestr(zipfile.ZipInfo(name, ZIP_DATE), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
