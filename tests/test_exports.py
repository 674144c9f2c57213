"""`examgen export`: Moodle XML, a QTI 2.1 package, a Plom spec and the marks sheet, from real
builds of the sample and both endterms, each output parsed back and checked part by part
against the key; and the LaTeX-to-HTML converter on its own."""

from __future__ import annotations

import base64
import csv
import io
import re
import shutil
import tomllib
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from support import REPO

from examgen.commands.export import ExportRequest, export
from examgen.errors import Collector, ExportError, Loc
from examgen.exports import Build, Exported
from examgen.model.rendered import Latex, drawn_beside
from examgen.model.source import says_none
from examgen.orchestrate import read_exam
from examgen.project import Project
from examgen.roster import Student
from examgen.stages.check import part_pages, read_pdf
from examgen.writers.copies import manifest_json, plan
from examgen.writers.html import NONE_OF_THESE, Converter, Image, KeptTex, Unconvertible
from examgen.writers.moodle import MOODLE_FRACTIONS
from examgen.writers.plom import heading_label
from examgen.writers.plom import plan as plom_plan
from examgen.writers.qti import mathml

EXAMS = ["sample", "2021-endterm", "2022-endterm"]
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
# the XHTML elements QTI 2.1's content model has (of those the converter makes)
XHTML = {"div", "p", "br", "strong", "em", "code", "ul", "ol", "li", "table", "tbody", "tr", "td", "img"}
# the MathML elements QTI's math is made of (the MathML 2 schema QTI 2.1 imports has them all)
MATH = {"math", "semantics", "annotation", "mrow", "mi", "mo", "mn", "mtext", "mfrac", "msub", "msup", "msubsup",
        "mover", "munder", "munderover", "msqrt", "mroot", "mspace", "mstyle", "mtable", "mtr", "mtd", "mpadded",
        "menclose", "mphantom"}
# the question types of core Moodle 4.x's XML import (question/format/xml/format.php import_question)
MOODLE_CORE = {"category", "multichoice", "truefalse", "shortanswer", "numerical", "description", "matching",
               "cloze", "essay", "calculated", "calculatedsimple", "calculatedmulti"}
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8")


def parts(key: dict) -> list[dict]:
    return [part for problem in key["problems"] for part in problem["parts"]]


def questions(key: dict) -> list[tuple[dict, str]]:
    """Every part as the exports ask it, with its name's and identifier's suffix: in exam order, each
    part once per variant (`` variant A``, ``-A``), its variants together."""
    variants = key.get("variants") or {"": key}
    first = next(iter(variants.values()))["problems"]
    return [(variant["problems"][p]["parts"][k], label) for p, problem in enumerate(first)
            for k in range(len(problem["parts"])) for label, variant in variants.items()]


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory):
    """``exported(exam, format)``: the export's file of an exam built once per session."""
    cache: dict[tuple[str, str], Path] = {}

    def get(exam: str, form: str) -> Path:
        if (exam, form) not in cache:
            folder = tmp_path_factory.mktemp(f"{exam}-{form}")
            out = folder / {"moodle": "moodle.xml", "moodle-multichoiceset": "moodle-multichoiceset.xml",
                            "qti": "qti.zip", "plom": "plom.toml"}[form]
            result = export(Project(REPO).resolve(exam), ExportRequest(form, out, build=built(exam).out))
            assert result.path == out
            cache[(exam, form)] = out
        return cache[(exam, form)]

    return get


def xhtml(text: str, allowed: set[str] = XHTML) -> ET.Element:
    """A text of the export as XHTML: it must parse, and hold only elements QTI's XHTML has."""
    element = ET.fromstring(f"<div>{text}</div>")
    assert {e.tag.removeprefix(QTI) for e in element.iter()} <= allowed, text
    return element


# --- Moodle -----------------------------------------------------------------------------------------


def _html(element: ET.Element) -> str:
    """A Moodle text element's HTML, its images checked against the files embedded beside it."""
    text = element.findtext("text") or ""
    files = {file.get("name"): base64.b64decode(file.text or "") for file in element.findall("file")}
    shown = {img.get("src", "").removeprefix("@@PLUGINFILE@@/")
             for img in xhtml(text, XHTML | {"details", "summary"}).iter("img")}
    assert shown == set(files)
    assert all(data.startswith(IMAGE_MAGIC) for data in files.values())
    return text


def moodle_imports(quiz: ET.Element) -> None:
    """What core Moodle 4.x's importer requires of a file, or it stops the whole import: core question
    types only (an unknown one is 'xmltypeunsupported'), every fraction one of
    question_bank::fraction_options_full() within 1e-5 (match_grade_options), a multichoice with
    check boxes whose positive fractions, rounded to 2 places, add up to 100 % and at least 2 answers
    (qtype_multichoice::save_question_options), a name, categories below $course$/top."""
    allowed = {0.0, *MOODLE_FRACTIONS, *(-f for f in MOODLE_FRACTIONS)}
    for question in quiz:
        kind = question.get("type")
        assert kind in MOODLE_CORE, kind
        if kind == "category":
            assert question.findtext("category/text").startswith("$course$/top/")
            continue
        assert question.findtext("name/text").strip()
        fractions = [float(a.get("fraction")) / 100 for a in question.findall("answer")]
        assert all(any(abs(f - ok) < 1e-5 for ok in allowed) for f in fractions), fractions
        if kind == "multichoice":
            assert len(fractions) >= 2
            assert question.findtext("single") == "false"
            assert round(sum(f for f in fractions if f > 0), 2) == 1


def choice_texts(question: ET.Element) -> list[str]:
    return [" ".join((a.findtext("text") or "").split()) for a in question.findall("answer")]


@pytest.mark.latex
@pytest.mark.parametrize("exam", EXAMS)
def test_moodle_xml_has_every_part_with_its_points_and_key(exam, built, exported):
    """Core Moodle imports every question (issue 26.1): several correct options are a core
    multichoice, +100/k % each and -100 % for every other; one "none" option per part (26.2); a
    category per part holding its variants (26.4)."""
    key = built(exam).key
    quiz = ET.parse(exported(exam, "moodle")).getroot()
    assert quiz.tag == "quiz"
    moodle_imports(quiz)
    categories = [q.findtext("category/text") for q in quiz if q.get("type") == "category"]
    assert categories[0] == f"$course$/top/{exam}"
    problems = built(exam).exam_key["problems"]
    parts_of = {str(p["number"]): [part["number"] for part in p["parts"]] for p in problems}
    below = [c.removeprefix(f"$course$/top/{exam}/").split("/") for c in categories[1:]]
    assert [path[0].split()[0] for path in below if len(path) == 1] == list(parts_of)
    assert [path[1].split()[0] for path in below if len(path) == 2] == [n for ns in parts_of.values() for n in ns]
    current, members = None, {}
    for element in quiz:  # every question in its part's category
        if element.get("type") == "category":
            current = element.findtext("category/text").split("/")[-1].split()[0]
        else:
            members.setdefault(current, []).append(element.findtext("name/text"))
    variants = list(key.get("variants") or [""])
    assert {part: len(names) for part, names in members.items()} == {
        n: len(variants) for ns in parts_of.values() for n in ns}
    found = [q for q in quiz if q.get("type") != "category"]
    names = [q.findtext("name/text") for q in found]
    assert len(set(names)) == len(names) == len(questions(key))
    for name, question, (part, variant) in zip(names, found, questions(key)):
        assert name.startswith(f"{exam} {part['number']}") and name.endswith(f" variant {variant}" if variant else "")
        assert float(question.findtext("defaultgrade")) == part["points"]
        assert question.findtext("penalty") == "0"
        _html(question.find("questiontext"))
        kind = question.get("type")
        if part["kind"] == "choice":
            answers = question.findall("answer")
            fractions = [float(a.get("fraction")) for a in answers]
            texts = choice_texts(question)
            nones = [n for n, text in enumerate(texts, 1) if says_none(text)]
            assert len(nones) == 1, texts  # the part's own "none of these", or the one added last
            added = texts[-1] == NONE_OF_THESE["en"]
            correct = [n for n, f in enumerate(fractions, 1) if f > 0]
            assert correct == (part["correct"] or [len(answers)] if added else part["correct"])
            for answer in answers:
                _html(answer)
            assert kind == "multichoice" and question.findtext("single") == "false"
            assert fractions == [pytest.approx(100 / len(correct), abs=1e-4) if n in correct else -100
                                 for n in range(1, len(answers) + 1)]
        elif part["kind"] == "numeric":
            assert kind == "numerical"
            answer = question.find("answer")
            assert float(answer.findtext("text")) == pytest.approx(part["answer"], rel=1e-9)
            assert float(answer.findtext("tolerance")) == pytest.approx(part["tolerance"])
            assert question.findtext("units/unit/unit_name") == part.get("unit")
        else:
            assert kind == "essay"
            grader = _html(question.find("graderinfo"))
            assert grader.strip()


@pytest.mark.latex
def test_moodle_with_the_plugin_writes_several_correct_options_as_multichoiceset(built, exported):
    """--format moodle-multichoiceset: for a Moodle with the All-or-Nothing plugin, the parts with
    several correct options (the sample's 1.1) as multichoiceset, the rest as core Moodle has them."""
    core = ET.parse(exported("sample", "moodle")).getroot()
    plugin = ET.parse(exported("sample", "moodle-multichoiceset")).getroot()
    assert len(core) == len(plugin)
    for ours, theirs in zip(core, plugin):
        several = sum(float(a.get("fraction")) > 0 for a in ours.findall("answer")) > 1
        if ours.get("type") == "multichoice" and several:
            assert theirs.get("type") == "multichoiceset" and theirs.find("single") is None
            assert [float(a.get("fraction")) for a in theirs.findall("answer")] == [
                100 if float(a.get("fraction")) > 0 else 0 for a in ours.findall("answer")]
        else:
            assert ET.tostring(ours) == ET.tostring(theirs)
    assert {q.findtext("name/text") for q in plugin if q.get("type") == "multichoiceset"} == {
        "sample 1.1 variant A", "sample 1.1 variant B"}


@pytest.mark.latex
def test_every_question_is_answerable_alone_and_warns_where_it_is_not(built, exported, tmp_path):
    """A question holds its problem's intro, figures and tables and, as collapsed context, the leads
    and prompts of the parts before it (issue 26.3): the sample's 4.2 ("And without its bias?")
    shows 4.1's question, the 2022 endterm's 5.10 the lead of 5.8; a text referring to an earlier
    answer is warned of at its line."""
    quiz = ET.parse(exported("sample", "moodle")).getroot()
    texts = {q.findtext("name/text"): q.findtext("questiontext/text") for q in quiz if q.get("type") != "category"}
    alone = texts["sample 4.2 variant A"]
    assert alone.startswith("<details><summary>Earlier parts of this problem</summary><p><strong>4.1</strong>")
    assert "How many trainable parameters has one" in alone and alone.endswith("<p>And without its bias?</p>")
    assert "<details>" not in texts["sample 4.1 variant A"]
    assert "Table 3.1: Values of the variables" in texts["sample 3.3 (neuron-memory) variant A"]
    endterm = ET.parse(exported("2022-endterm", "moodle")).getroot()
    texts = {q.findtext("name/text"): q.findtext("questiontext/text") for q in endterm}
    assert "semantic segmentation" in texts["2022-endterm 5.10"].split("<strong>5.8</strong>")[1]
    with zipfile.ZipFile(exported("2022-endterm", "qti")) as package:  # QTI has no details: a div of its own
        body = ET.fromstring(package.read("item-5.10.xml")).find(f"{QTI}itemBody/{QTI}div")
        earlier = body.find(f"{QTI}div[@class='earlier-parts']")
        assert "semantic segmentation" in "".join(earlier.itertext())
    result = export(Project(REPO).resolve("2022-endterm"),
                    ExportRequest("moodle", tmp_path / "bank.xml", build=built("2022-endterm").out))
    assert [w for w in result.warnings if "refers to" in w] == [
        "exams/2022-endterm/problems/6-backpropagation.yaml:117: part 6.2: warning: 'your results' refers to an "
        "earlier answer, which the exported question cannot show: say in the text what it needs (a value, the "
        "figure), or review the question after import"]


# --- QTI --------------------------------------------------------------------------------------------


@pytest.mark.latex
@pytest.mark.parametrize("exam", EXAMS)
def test_qti_package_has_every_part_with_its_points_and_key(exam, built, exported):
    """A section per part selecting one of its variants, so the test's maximum is the exam's (issue
    26.4); item titles name the variant; a skipped choice scores 0, "none of these" is a choice of
    its own; images carry their caption; math is MathML with its TeX (26.5)."""
    key = built(exam).key
    asked = questions(key)
    with zipfile.ZipFile(exported(exam, "qti")) as package:
        names = set(package.namelist())
        manifest = ET.fromstring(package.read("imsmanifest.xml"))
        assert manifest.tag == f"{CP}manifest"
        resources = manifest.findall(f"{CP}resources/{CP}resource")
        for resource in resources:
            assert {f.get("href") for f in resource.findall(f"{CP}file")} <= names
        items = [r for r in resources if r.get("type") == "imsqti_item_xmlv2p1"]
        assert [r.get("identifier") for r in items] == [f"item-{p['number']}" + (f"-{variant}" if variant else "")
                                                        for p, variant in asked]
        test = ET.fromstring(package.read("test.xml"))
        refs = [ref.get("href") for ref in test.iter(f"{QTI}assessmentItemRef")]
        assert refs == [r.get("href") for r in items]
        problems = test.findall(f"{QTI}testPart/{QTI}assessmentSection")
        assert len(problems) == len(built(exam).exam_key["problems"])
        maximum = 0.0
        for problem, expected in zip(problems, built(exam).exam_key["problems"]):
            sections = problem.findall(f"{QTI}assessmentSection")
            assert [s.get("title") for s in sections] == [p["number"] for p in expected["parts"]]
            for section in sections:  # selection first (the schema's order), then every variant's item
                assert section[0].tag == f"{QTI}selection" and section[0].get("select") == "1"
                variants = [ref.get("identifier") for ref in section.findall(f"{QTI}assessmentItemRef")]
                assert variants == [f"item-{section.get('title')}" + (f"-{v}" if v else "")
                                    for v in (key.get("variants") or [""])]
                item = ET.fromstring(package.read(f"{variants[0]}.xml"))
                maximum += float(item.find(f"{QTI}outcomeDeclaration[@identifier='MAXSCORE']/{QTI}defaultValue/"
                                           f"{QTI}value").text)
        assert maximum == built(exam).key["total_points"]
        assert [v.get("variableIdentifier") for v in test.iter(f"{QTI}testVariables")] == ["SCORE", "MAXSCORE"]
        for resource, (part, variant) in zip(items, asked):
            item = ET.fromstring(package.read(resource.get("href")))
            assert item.tag == f"{QTI}assessmentItem"
            assert item.get("title").startswith(f"{part['number']} ")
            assert item.get("title").endswith(f" (variant {variant})" if variant else "")
            maximum = item.find(f"{QTI}outcomeDeclaration[@identifier='MAXSCORE']")
            assert float(maximum.findtext(f"{QTI}defaultValue/{QTI}value")) == part["points"]
            body = item.find(f"{QTI}itemBody")
            for image in body.iter(f"{QTI}img"):
                assert image.get("src") in names and package.read(image.get("src")).startswith(IMAGE_MAGIC)
                assert image.get("alt").startswith(("Figure ", "Table ", "Abbildung ", "Tabelle ")), image.get("alt")
            for math in body.iter(f"{MATHML}math"):
                assert math[0].tag == f"{MATHML}semantics"
                assert math[0][-1].tag == f"{MATHML}annotation" and math[0][-1].get("encoding") == "application/x-tex"
            response = item.find(f"{QTI}responseDeclaration")
            values = [v.text for v in response.iter(f"{QTI}value")]
            score = [float(v.text) for v in item.iter(f"{QTI}baseValue")]
            if part["kind"] == "choice":
                choices = body.findall(f"{QTI}choiceInteraction/{QTI}simpleChoice")
                added = choices[-1].get("identifier") == "option-none"
                texts = [" ".join("".join(c.itertext()).split()) for c in choices]
                assert sum(says_none(t) for t in texts) == 1
                assert values == [f"option-{n}" for n in part["correct"]] or \
                    (added and not part["correct"] and values == ["option-none"])
                assert score == [part["points"]]
                assert item.find(f".//{QTI}isNull") is None and item.find(f".//{QTI}match") is not None
            elif part["kind"] == "numeric":
                assert float(values[0]) == pytest.approx(part["answer"], rel=1e-9)
                equal = item.find(f".//{QTI}equal")
                assert float(equal.get("tolerance", "0 0").split()[0]) == pytest.approx(part["tolerance"])
            else:
                assert body.find(f"{QTI}extendedTextInteraction") is not None
                assert body.find(f"{QTI}rubricBlock[@view='scorer']") is not None
            for block in body:
                if block.tag in (f"{QTI}div", f"{QTI}rubricBlock"):
                    found = {e.tag.removeprefix(QTI).removeprefix(MATHML) for e in block.iter()} - {"rubricBlock"}
                    assert found <= XHTML | MATH, found - XHTML - MATH


def test_qti_math_is_mathml_with_its_tex_or_stays_tex_with_a_warning(tmp_path):
    """A formula is MathML with its TeX as annotation; one latex2mathml cannot convert (an unknown
    command, which it would pass through as text) stays TeX, warned of at its part and line."""
    math = ET.fromstring(mathml(r"\frac{a}{b} < \text{kernel\_size}", False))
    assert math.tag == f"{MATHML}math" and math[0].tag == f"{MATHML}semantics"
    assert math.find(f".//{MATHML}mfrac") is not None and math.find(f".//{MATHML}mtext").text == "kernel_size"
    assert math[0][-1].text == r"\frac{a}{b} < \text{kernel\_size}"
    aligned = ET.fromstring(mathml(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", True))
    assert aligned.get("display") == "block" and aligned.find(f".//{MATHML}mtable") is not None
    assert mathml(r"\unknowncommand x", False) is None and mathml(r"x^{", False) is None
    converter = Converter({}, {}, {"figure": "Figure"}, str, mathml)
    kept: list[KeptTex] = []
    html = converter.convert(r"Known $x^2$, unknown $\unknowncommand x$.", kept=kept)
    assert "<m:msup>" in html.text and r"\(\unknowncommand x\)" in html.text
    assert kept == [KeptTex(21, r"\unknowncommand x")]
    out = Collector()
    converter.text(Latex("first\nthen $\\unknowncommand x$", Loc(tmp_path / "exam.yaml", 10), "part 2.3"), out)
    assert out.warnings == [f"{Loc(tmp_path / 'exam.yaml', 11)}: part 2.3: warning: the formula '\\unknowncommand "
                            "x' is kept as TeX: the platform's math (MathML) cannot convert it"]


# --- a theme's own figures and tables ----------------------------------------------------------------

# A faculty's blocks.tex.j2 (docs/themes.md): figures framed, tables ruled, captions in sans serif;
# none of the default's \egpicture, \egcaption or egblock. The part kinds are the default's.
FRAMED_BLOCKS = r"""<% import "default/blocks.tex.j2" as default with context %>
<% set choice, free, numeric = default.choice, default.free, default.numeric %>
<% macro figure(fig) %>
\begin{center}
\fbox{<% if fig.tikz %><< fig.tikz >><% else %>\includegraphics[width=<<fig.width>>]{<<fig.asset>>}<% endif %>}
<% if fig.caption %>

\refstepcounter{egfigure}\textsf{\small << _('figure') >> \theegfigure. << fig.caption >>}\label{<< fig.label >>}
<% endif %>
\end{center}
<% endmacro %>
<% macro table(t) %>
\begin{center}
\begin{tabular}{|<< 'c|' * (t.rows|map('length')|max) >>}
\hline
<% for row in t.rows %>
<< row|join(' & ') >> \\ \hline
<% endfor %>
\end{tabular}

\refstepcounter{egtable}\textsf{\small << _('table') >> \theegtable. << t.caption >>}\label{<< t.label >>}
\end{center}
<% endmacro %>
"""


@pytest.mark.latex
def test_a_theme_drawing_its_own_figures_and_tables_exports_them_as_the_default_does(tmp_path):
    """The exports read examgen's markup of what a text placed, never the theme's drawing of it:
    the sample, its TikZ picture placed too, exports byte for byte alike in both themes."""
    shutil.copytree(REPO / "exams" / "sample", tmp_path / "exams" / "sample")
    shutil.copytree(REPO / "exams" / "lib", tmp_path / "exams" / "lib")
    problem = tmp_path / "exams" / "sample" / "problems" / "convolution.yaml"
    problem.write_text(problem.read_text().replace("padding << padding >>.\n",
                                                   "padding << padding >>.\n  << figure('layer') >>\n"))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "blocks.tex.j2").write_text(FRAMED_BLOCKS)
    sample = Project(tmp_path).resolve("sample")

    def exports(theme: str) -> dict[str, bytes]:
        files = {form: tmp_path / f"{theme}.{form}" for form in ("moodle", "qti")}
        for form, file in files.items():
            export(sample, ExportRequest(form, file))
        return {form: file.read_bytes() for form, file in files.items()}

    framed = exports("framed")
    assert "\\fbox{" in (tmp_path / "build" / ".work" / "sample" / "A" / "student" / "student.tex").read_text()
    quiz = ET.fromstring(framed["moodle"])
    texts = {q.findtext("name/text").split()[1]: _html(q.find("questiontext")) for q in quiz
             if q.get("type") != "category" and q.findtext("name/text").endswith("variant A")}
    for part, image, caption in [("1.2", "p1-digit.png", r"Figure 1.1: A \(28\times 28\) input image"),
                                 ("2.1", "p2-layer-", "Figure 2.1: A convolution layer with 8 filters"),
                                 ("3.1", None, "Table 3.1: Values of the variables")]:
        text = texts[part]
        assert caption in text
        assert f'src="@@PLUGINFILE@@/{image}' in text if image else "<td>Variable</td><td>\\(x\\)</td>" in text
    shutil.rmtree(tmp_path / "templates")
    assert exports("default") == framed


# --- Plom -------------------------------------------------------------------------------------------


@pytest.mark.latex
@pytest.mark.parametrize("exam", EXAMS)
def test_plom_spec_pages_are_where_the_parts_landed(exam, built, exported):
    result = built(exam)
    spec = tomllib.loads(exported(exam, "plom").read_text(encoding="utf-8"))
    key = result.exam_key  # with variants (the sample's A and B), a version each on the same pages
    assert spec["numberOfVersions"] == len(result.key.get("variants", [None]))
    halves = any(not float(p["points"]).is_integer() for p in key["problems"])
    scale = 2 if halves else 1
    assert spec["numberOfQuestions"] == len(spec["question"]) == len(key["problems"])
    assert [q["mark"] for q in spec["question"]] == [p["points"] * scale for p in key["problems"]]
    assert spec["totalMarks"] == key["total_points"] * scale == sum(q["mark"] for q in spec["question"])
    pages = len(result.student.streams)
    assert spec["numberOfPages"] == pages and spec["idPage"] == 1
    landed = part_pages(read_pdf(result.views / "student.pdf", texts=None))
    covered = {1, *spec["doNotMarkPages"]}
    for question, problem in zip(spec["question"], key["problems"]):
        spread = question["pages"]
        assert spread == list(range(spread[0], spread[-1] + 1))  # contiguous
        assert {landed[part["number"]] for part in problem["parts"]} <= set(spread)
        assert max(landed[part["number"]] for part in problem["parts"]) == spread[-1]
        covered |= set(spread)
    assert covered == set(range(1, pages + 1))
    assert not set(spec["doNotMarkPages"]) & {p for q in spec["question"] for p in q["pages"]}
    assert spec["question"][0]["pages"][0] == 2  # the pages between problems are the next one's
    assert all(b["pages"][0] in (a["pages"][-1], a["pages"][-1] + 1) for a, b in zip(spec["question"],
                                                                                    spec["question"][1:]))
    shared = any(a["pages"][-1] == b["pages"][0] for a, b in zip(spec["question"], spec["question"][1:]))
    assert spec.get("allowSharedPages", False) == shared
    assert ("half credits" in spec["longName"]) == halves
    for label in result.key.get("variants", [""]):  # every version's PDF: its cover, headings, unmarked pages
        version = read_pdf(result.out / label / "student.pdf")
        headings = {number: page for page, text in enumerate(version.pages, 1)
                    for number in re.findall(r"^Problem (\d+)\b", text, re.M)}
        assert version.pages[0].count("Problem") == 0 and (f"Variant {label}" in version.pages[0]) == bool(label)
        assert [question["pages"][0] for question in spec["question"]] == [headings[str(problem["number"])]
                                                                           for problem in key["problems"]]
        unmarked = [version.pages[page - 1] for page in spec["doNotMarkPages"]]
        assert not [text for text in unmarked if re.search(r"^Problem \d", text, re.M)]
        assert not {page for page in part_pages(version).values()} & set(spec["doNotMarkPages"])


PAGES = ["Student ID\nInstructions", "Instructions, continued", "Problem 1 Perceptrons (4 credits)\n1.1 ...\n"
         "Problem 2 Backpropagation (5.5 credits)\nThe intro of problem 2", "Figure 2.1: a network",
         "2.1 ...\n2.2 ...", "2.3 ...\nProblem 3 Convolutions (5.5 credits)\n3.1 ...", "3.2 ... 3.4 ...",
         "Problem 4 Attention (2 credits)\nA long intro, see Problem 3", "4.1 ...", "Additional space",
         "", ""]


def test_plom_questions_start_at_their_problems_heading_where_its_intro_and_figures_are():
    """A problem's pages start where its heading is, also on the last page of the problem before it
    (problem 2 here: heading and intro on page 3, its figure on page 4, its parts from page 5); a
    page both share is both's; a cover's second page and the pages after the last part are not
    marked. A theme's heading the text does not show leaves the pages between problems to the next."""
    target = Project(REPO).resolve("sample")
    exam = read_exam(target, target.project.theme(), Collector())
    landed = {"1.1": 3, "1.2": 3, "2.1": 5, "2.2": 5, "2.3": 6, "3.1": 6, "3.2": 7, "3.3": 7, "3.4": 7,
              "4.1": 9, "4.2": 9}
    spec = plom_plan(exam, landed, PAGES, lambda number: f"Problem {number}")
    assert spec.questions == (("Problem 1", (3,), 8), ("Problem 2", (3, 4, 5, 6), 11), ("Problem 3", (6, 7), 11),
                              ("Problem 4", (8, 9), 4))
    assert spec.do_not_mark == (2, 10, 11, 12) and spec.shared and spec.scale == 2 and spec.pages == 12
    unlabelled = plom_plan(exam, landed, PAGES, lambda number: f"Aufgabe {number}")
    assert [pages for _, pages, _ in unlabelled.questions] == [(2, 3), (4, 5, 6), (6, 7), (8, 9)]
    assert heading_label(r"\textbf{Aufgabe}~3") == "Aufgabe 3"


# --- the marks sheet --------------------------------------------------------------------------------


@pytest.mark.latex
def test_marks_sheet_lists_every_copy_and_part_with_its_maximum(built, tmp_path):
    target = Project(REPO).resolve("sample")
    exam = read_exam(target, target.project.theme(), Collector())
    students = (Student("03001", "Doe, Jane", None, None, Loc(tmp_path, 2)),
                Student("03002", "Ünal Öz", None, None, Loc(tmp_path, 3)))
    copies = tmp_path / "copies"
    copies.mkdir()
    made = plan(exam, None, students)
    (copies / "manifest.json").write_text(manifest_json(exam, made, 12, ["0" * 64] * 2, ""), encoding="utf-8")
    out = tmp_path / "marks.csv"
    export(target, ExportRequest("marks", out, copies, built("sample").out))
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    key_parts = parts(built("sample").exam_key)
    assert rows[0] == ["code", "registration", "name", *(p["number"] for p in key_parts)]
    assert rows[1] == ["max", "", "", *(f"{p['points']:g}" for p in key_parts)]
    assert rows[2:] == [[copy.code, f"'{s.registration}", s.name, *[""] * len(key_parts)]  # '03001: kept as text
                        for copy, s in zip(made, students)]
    assert "1.5" in rows[1] and "2" in rows[1]

    with pytest.raises(ExportError, match="run `examgen copies` first"):
        export(target, ExportRequest("marks", out, tmp_path / "none", built("sample").out))

    versions = tmp_path / "plom-versions.csv"  # Plom's question-version map: each copy's variant, A as 1
    export(target, ExportRequest("plom-versions", versions, copies, built("sample").out))
    assert versions.read_text().splitlines() == ["paper_number,q1.version,q2.version,q3.version,q4.version",
                                                 "1,1,1,1,1", "2,2,2,2,2"]


# --- the converter ----------------------------------------------------------------------------------


def convert(text: str, **labels: str) -> str:
    images = {"abc": Image("p1-net.png", b"\x89PNG")}
    return Converter(images, labels, {"figure": "Figure", "table": "Table"}, lambda name: f"img/{name}").convert(
        text).text


def test_converter_keeps_math_as_tex_and_prose_as_xhtml():
    html = convert(r"Let $a < b$ and \textbf{bold} \emph{x} -- ``quoted'' 50\% \& more~here\\"
                   "next\n\n\\[ \\frac{1}{2} \\]\n\\begin{align*} a &= b \\\\ c &= d \\end{align*}")
    assert r"\(a &lt; b\)" in html and "<strong>bold</strong>" in html and "<em>x</em>" in html
    assert "&#8211; &#8220;quoted&#8221; 50% &amp; more&#160;here<br/>" in html
    assert r"\[\frac{1}{2}\]" in html
    assert r"\[\begin{aligned} a &amp;= b \\ c &amp;= d \end{aligned}\]" in html
    assert html.count("<p>") == 2
    xhtml(html)


def test_converter_makes_lists_tables_figures_and_numbers_references():
    html = convert("See \\ref{eg-1-net}:\n\\begin{itemize}[leftmargin=2mm]\n\\item one\n\\item two $x$\n"
                   "\\end{itemize}\n\\begin{egblock}\\egpicture{abc}\\egcaption{Figure}{egfigure}{The net}"
                   "\\label{eg-1-net}\\end{egblock}\n\\begin{tabular}{l|c}\\toprule a & $b$ \\\\ \\midrule 1 & 2 \\\\"
                   "\\bottomrule\\end{tabular}", **{"eg-1-net": "1.1"})
    assert "See 1.1:" in html
    assert "<ul><li>one</li><li>two \\(x\\)</li></ul>" in html
    assert '<img src="img/p1-net.png" alt="Figure 1.1: The net"/>' in html and "Figure 1.1: The net" in html
    assert "<table><tbody><tr><td>a</td><td>\\(b\\)</td></tr><tr><td>1</td><td>2</td></tr></tbody></table>" in html
    xhtml(html)


def test_converter_reports_what_it_cannot_convert_at_its_part_and_line(tmp_path):
    with pytest.raises(Unconvertible, match=r"\\unknowncommand"):
        convert(r"text \unknowncommand{x}")
    with pytest.raises(Unconvertible, match="environment 'verbatim'"):
        convert(r"\begin{verbatim}x\end{verbatim}")
    with pytest.raises(Unconvertible, match="no such label"):
        convert(r"\ref{eg-9-missing}")
    out = Collector()
    latex = Latex("first line\nsecond \\weird here", Loc(tmp_path / "exam.yaml", 10), "part 2.3")
    converter = Converter({}, {}, {}, str)
    assert converter.text(latex, out).text == ""
    assert [str(e) for e in out.errors] == [f"{Loc(tmp_path / 'exam.yaml', 11)}: part 2.3: cannot convert to HTML: "
                                            "\\weird (examgen's HTML converter has no rule for it)"]


def test_a_control_character_a_computed_value_brings_in_is_an_error_at_its_line(tmp_path):
    out = Collector()
    latex = Latex("first line\nsecond \f page", Loc(tmp_path / "exam.yaml", 10), "part 2.3")
    assert Converter({}, {}, {}, str).text(latex, out, block=False).text == ""
    assert [str(e) for e in out.errors] == [
        f"{Loc(tmp_path / 'exam.yaml', 11)}: part 2.3: cannot convert to HTML: the text holds the control character "
        "'\\x0c' (U+000C), which neither LaTeX nor the exports' XML can hold: remove it (a line break makes a new "
        "line, a blank line a new paragraph)"]


def test_converter_reads_examgens_markup_of_a_placement_never_the_themes_drawing(tmp_path):
    drawn = drawn_beside("figure", "net", "\\begin{frame}\\fancy{x}\\end{frame}\n",
                         "\\begin{egblock}\n\\egpicture{abc}\\egcaption{Figure}{egfigure}{The net}\\label{eg-1-net}\n"
                         "\\end{egblock}\n")
    assert convert(f"See:\n{drawn}after", **{"eg-1-net": "1.1"}) == convert(
        "See:\n\\begin{egblock}\n\\egpicture{abc}\\egcaption{Figure}{egfigure}{The net}\\label{eg-1-net}\n"
        "\\end{egblock}\nafter", **{"eg-1-net": "1.1"})
    out = Collector()
    broken = drawn_beside("table", "t", "\\fancy\n", "\\begin{egblock}\n\\weird\n\\end{egblock}\n")
    Converter({}, {}, {}, str).text(Latex(f"first\n{broken}", Loc(tmp_path / "exam.yaml", 10), "part 2.3"), out)
    assert [str(e) for e in out.errors] == [f"{Loc(tmp_path / 'exam.yaml', 13)}: part 2.3: cannot convert to HTML: "
                                            "\\weird (examgen's HTML converter has no rule for it)"]


# --- the command line -------------------------------------------------------------------------------


@pytest.mark.latex
def test_export_command_builds_first_and_says_what_it_cannot_export(project):
    from test_cli import cli

    plom = cli(project, "export", "minimal", "--format", "plom")
    assert plom.returncode == 0, plom.stderr
    assert plom.stdout.strip() == "minimal: plom (1 Plom questions) -> course/minimal/plom.toml"
    assert tomllib.loads((project / "course" / "minimal" / "plom.toml").read_text())["totalMarks"] == 4
    marks = cli(project, "export", "minimal", "--format", "marks")
    assert marks.returncode == 8
    assert "run `examgen copies` first" in marks.stderr and "Traceback" not in marks.stderr
    (project / "exams" / "minimal" / "exam.yaml").write_text(
        (project / "exams" / "minimal" / "exam.yaml").read_text().replace("Name a square number.",
                                                                          r"Name a \textsc{square} number."))
    moodle = cli(project, "export", "minimal", "--format", "moodle", "--out", "bank.xml")
    assert moodle.returncode == 8 and not (project / "bank.xml").exists()
    assert "exams/minimal/exam.yaml:31: part 1.3: cannot convert to HTML: \\textsc" in moodle.stderr


def test_the_docs_list_the_formats_of_the_registry():
    """docs/exports.md's table of formats is the registry's (examgen.exports.table())."""
    from examgen.exports import table

    assert table() in (REPO / "docs" / "exports.md").read_text(encoding="utf-8")


class _ProblemTitles:
    """A toy exporter, added as docs/architecture.md says a format is: the problems' titles, one a line."""

    name = "titles"
    file = "titles.txt"
    counts = "problems"
    reads_copies = False
    about = "the problems' titles"

    def export(self, build: Build, out: Collector) -> Exported:
        titles = [problem.title.source for problem in build.exam.problems]
        out.warn("titles only", build.exam.loc)
        return Exported("".join(f"{title}\n" for title in titles).encode("utf-8"), len(titles))


def test_a_new_exporter_in_the_registry_is_a_format_of_export_and_of_its_table(built, tmp_path, monkeypatch):
    import examgen.commands.export as command
    from examgen import exports

    registry = {**exports.EXPORTERS, "titles": _ProblemTitles()}
    monkeypatch.setattr(exports, "EXPORTERS", registry)
    monkeypatch.setattr(command, "EXPORTERS", registry)
    sample = built("sample")
    result = export(Project(REPO).resolve("sample"), ExportRequest("titles", tmp_path / "titles.txt", build=sample.out))
    assert result.path == tmp_path / "titles.txt" and result.items == len(sample.result.exam.problems)
    assert result.path.read_text(encoding="utf-8").splitlines() == [
        problem.title.source for problem in sample.result.exam.problems]
    assert any("titles only" in warning for warning in result.warnings)
    assert "| `titles` | `titles.txt` | the problems' titles |" in exports.table()
