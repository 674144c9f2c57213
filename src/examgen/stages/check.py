r"""Stage 6, check: verify the PDFs against the exam before they are handed out.

The cover's claims (pages, problems, credits), as the theme marks them with
``\egclaim`` in any language, must match the real student PDF; both views must
paginate alike; every solution page carries the watermark; the solution view crosses
exactly the correct options; and nothing of a sample solution, a correction note or a
cross may reach the student PDF: not its text (words or math), not its content streams,
not its metadata.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import CheckError, Collector, EnvironmentProblem
from ..model.rendered import RenderedExam
from ..model.source import Exam, Part
from .positions import Mark

SOLUTION_MARK = b"/ExamgenSolution"  # marked-content tag around every solution and note (examgen.sty)
WATERMARK_MARK = b"/ExamgenWatermark"  # marked-content tag around the watermark (exam.tex.j2)
CROSS_MARK = b"/ExamgenCross BMC"  # marked-content tag around every crossed option's box (\egchoicebox)
CLAIM = re.compile(rb"/ExamgenClaim <</Name /(\w+) /Value \(([^)]*)\)>> BDC")  # \egclaim (examgen.sty)
PART_START = re.compile(rb"/ExamgenPart <</Number \(([^)]*)\)>> BDC")  # the egpart environment (examgen.sty)
PLACED = re.compile(rb"/ExamgenPlaced <</Label \(([^)]*)\)>> BDC")  # a figure or table (\egplaced, examgen.sty)
REFERENCE = re.compile(r"\\ref\{([^}]*)\}")  # ref('id') in a text
PLACED_IN_TEXT = re.compile(r"\\egplaced\{([^}]*)\}")  # figure('id') or table('id') in a text
WINDOW = 5  # words in a row that make a leak
MIN_LETTERS = 12  # shorter texts cannot be told apart from ordinary exam words
RELATIONS = {"approx": "≈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠"}
STATEMENT = re.compile(r"([=≈≤≥≠<>])[\s{}()\[\]\-−]*(\d+(?:[.,]\d+)*)")  # a relation sign, then a number
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # a number as a PDF's text shows it
TIKZ_TEXT = re.compile(r"\b(?:node|label|pin|matrix)\b")  # what typesets text in a TikZ picture


@dataclass(frozen=True)
class PdfText:
    """What the checks read of a PDF: page texts (empty if not read), content streams, metadata."""

    pages: list[str]
    streams: list[bytes]
    metadata: str


def page_texts(path: Path) -> list[str]:
    """Each page's text, by poppler's pdftotext: an order of magnitude faster than pypdf."""
    try:
        result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    except FileNotFoundError:
        raise EnvironmentProblem("pdftotext not found: install poppler-utils (`make build` installs it)") from None
    except subprocess.CalledProcessError as exc:
        raise CheckError(f"pdftotext cannot read {path.name}: {exc.stderr.decode(errors='replace').strip()}") from None
    return result.stdout.decode("utf-8", errors="replace").split("\f")[:-1]


def read_pdf(path: Path, texts=page_texts) -> PdfText:
    """A PDF's page texts (by ``texts``, None to skip them), decoded content streams and metadata."""
    from pypdf import PdfReader  # imported on first use: keeps start-up fast

    with ThreadPoolExecutor(max_workers=1) as pool:  # pdftotext works while pypdf reads
        pages = pool.submit(texts, path) if texts else None
        reader = PdfReader(path)
        streams = []
        for page in reader.pages:
            contents = page.get_contents()
            streams.append(contents.get_data() if contents is not None else b"")
        metadata = " ".join(str(v) for v in (reader.metadata or {}).values())
        return PdfText(pages.result() if pages else [], streams, metadata)


def words(text: str) -> list[str]:
    """Lower-case words, with words split by a hyphen at a line end joined again."""
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    return re.findall(r"[^\W_]+", text.lower())


def plain(latex: str) -> str:
    """The words of a LaTeX text as a reader sees them, math and commands left out."""
    text = re.sub(r"(?<!\\)%.*", "", latex)
    text = re.sub(r"\$\$.*?\$\$|\$.*?\$|\\\[.*?\\\]|\\\(.*?\\\)", " ", text, flags=re.S)
    text = re.sub(r"\\begin\{(align|equation|gather|multline|eqnarray)\*?\}.*?\\end\{\1\*?\}", " ", text, flags=re.S)
    text = re.sub(r"\\(begin|end)\{[^}]*\}", " ", text)
    text = re.sub(r"\\[a-zA-Z@]+\*?", " ", text)
    return text


def math_reading(latex: str) -> str:
    """A LaTeX text with its numbers and relation signs as typeset (``\\approx`` as ≈,
    ``3{,}215`` as 3,215), commands left out: what ``stated`` reads in it."""
    text = re.sub(r"(?<!\\)%.*", "", latex)
    text = re.sub(r"\\([a-z]+)(?![a-zA-Z])", lambda m: RELATIONS.get(m.group(1), " "), text)
    return re.sub(r"\\.", " ", text.replace("{,}", ","))


def stated(text: str) -> list[str]:
    """The values a text states: each relation sign with the number right after it (``= 608``;
    braces, brackets, spaces and a sign between them, as a fraction or a negative value has),
    in order. The sign of a number is left out, its typeset minus and a hyphen differ. A
    number further on is no value the sign states (``= m, where ... Page 3``)."""
    return [f"{sign} {number}" for sign, number in STATEMENT.findall(text)]


def _braced(text: str, start: int) -> str:
    """The content of the brace group that opens at ``start``."""
    depth = 0
    for end in range(start, len(text)):
        if text[end] in "{}" and text[end - 1] != "\\":
            depth += 1 if text[end] == "{" else -1
            if depth == 0:
                return text[start + 1:end]
    return text[start + 1:]


def tikz_texts(tikz: str) -> list[str]:
    """The texts a TikZ picture typesets: the braced text after each ``node`` (or ``label``,
    ``pin``, ``matrix``), past its options, name and position, up to the path's end."""
    texts = []
    for keyword in TIKZ_TEXT.finditer(tikz):
        depth = 0
        for i in range(keyword.end(), len(tikz)):
            char = tikz[i]
            if char in "[(":
                depth += 1
            elif char in "])":
                depth -= 1
            if depth < 0 or (char == ";" and depth == 0):
                break
            if char == "{" and depth == 0:
                texts.append(_braced(tikz, i))
                break
    return texts


def _public_texts(exam: Exam[str]) -> list[str]:
    """Every exam text the student copy shows (figures' texts too): a solution may quote them
    without leaking."""
    texts: list[str | None] = [*exam.meta.resources, *exam.meta.instructions]
    for problem in exam.problems:
        texts += [problem.title, problem.intro, *(f.caption for f in problem.figures)]
        texts += [text for f in problem.figures if f.tikz for text in tikz_texts(f.tikz)]
        for table in problem.tables:
            texts += [table.caption, *table.header, *(cell for row in table.rows for cell in row)]
        for part in problem.parts:
            texts += [part.prompt, part.lead, *part.answer.public()]
    return [t for t in texts if t is not None]


def secret_texts(exam: Exam[str]) -> Iterator[tuple[Part[str], str]]:
    """Every text only the solution view shows (sample solutions, correction notes), with its part."""
    for _, part in exam.parts():
        for text in part.answer.secrets():
            yield part, text


def _runs(sequence: list[str], size: int) -> set[tuple[str, ...]]:
    return {tuple(sequence[i:i + size]) for i in range(len(sequence) - size + 1)}


class _Words:
    """A text's words, asked whether a run of words occurs in them: runs of WINDOW words
    by a set built once, shorter runs (a short text is a single one) by a substring search."""

    def __init__(self, text: str):
        self.words = words(text)
        self.joined = " " + " ".join(self.words) + " "
        self.windows = _runs(self.words, WINDOW)

    def __contains__(self, run: tuple[str, ...]) -> bool:
        return run in self.windows if len(run) == WINDOW else f" {' '.join(run)} " in self.joined


def _leaked_words(secret: list[str], public: _Words, seen: _Words, metadata: str) -> str | None:
    """The first run of a secret's words that the student PDF shows and no public text holds."""
    if sum(len(w) for w in secret) < MIN_LETTERS:
        return None
    size = min(WINDOW, len(secret))
    for i in range(len(secret) - size + 1):
        run = tuple(secret[i:i + size])
        if run not in public and (run in seen or " ".join(run) in metadata):
            return " ".join(run)
    return None


def crossed(pdf: PdfText) -> int:
    """How many multiple-choice options the PDF shows crossed, by the marks TeX wrote."""
    return sum(stream.count(CROSS_MARK) for stream in pdf.streams)


def leaks(exam: Exam[str], student: PdfText, shown: Exam[str] | None = None) -> list[str]:
    """Parts whose solution or notes show up in the student PDF: a run of words, or a value
    stated in math (``= 608``), that the student PDF shows although no public text (as the
    student view renders them: ``shown``, if they differ from ``exam``'s) holds it; and solution
    marks or crossed options in the student PDF at all."""
    public_texts = _public_texts(shown or exam)
    public = _Words(" ".join(plain(t) for t in public_texts))
    public_values = {value for t in public_texts for value in stated(math_reading(t))}
    seen = _Words("\n".join(student.pages))
    seen_values = set(stated("\n".join(student.pages))) | set(stated(student.metadata))
    metadata = " ".join(words(student.metadata))
    found = []
    if any(SOLUTION_MARK in stream for stream in student.streams):
        found.append("the student PDF contains solution content (marked content /ExamgenSolution)")
    if crosses := crossed(student):
        found.append(f"the student PDF crosses {crosses} multiple-choice options (marked content /ExamgenCross)")
    for part, text in secret_texts(exam):
        run = _leaked_words(words(plain(text)), public, seen, metadata)
        if run is not None:
            found.append(f"{part.context}: its solution text leaks into the student PDF ('{run}')")
            continue
        value = next((v for v in stated(math_reading(text)) if v in seen_values and v not in public_values), None)
        if value is not None:
            found.append(f"{part.context}: its solution's math leaks into the student PDF ('{value}')")
    return found


def unstated(rendered: RenderedExam, solution: PdfText) -> list[tuple[Part[str], str]]:
    """The key's numbers that the solution PDF (read with its text) does not show, by part: each
    value of ``values_printed`` that the part's texts print, and a numeric part's answer."""
    shown = set(map(_marked_alike, NUMBER.findall("\n".join(solution.pages))))
    missing = []
    for _, part in rendered.exam.parts():
        texts = [part.prompt, part.lead, *part.answer.public(), *part.answer.secrets()]
        printed = set(map(_marked_alike, NUMBER.findall(" ".join(str(text) for text in texts if text)
                                                        .replace("{,}", ","))))
        numbers = {name: text.replace("{,}", ",").lstrip("-") for name, text in rendered.printed[part.number].items()}
        wanted = {name: number for name, number in numbers.items() if _marked_alike(number) in printed}
        if (answer := part.answer.key().get("answer_printed")) is not None:
            wanted["the answer"] = answer.lstrip("-")
        missing += [(part, f"the solution PDF does not show {name} = {number}") for name, number in wanted.items()
                    if _marked_alike(number) not in shown]
    return missing


def _marked_alike(number: str) -> str:
    """A number with its decimal and thousands marks made one: the key writes a decimal point, a German
    PDF a comma (and a point between thousands)."""
    return number.replace(",", ".")


def cover_claims(cover: bytes) -> dict[str, float]:
    """What the cover states, as marked by the theme's ``\\egclaim{name}{value}``."""
    claims = {}
    for name, value in CLAIM.findall(cover):
        try:
            claims[name.decode()] = float(value.decode().replace(",", "."))
        except ValueError:
            claims[name.decode()] = float("nan")
    return claims


def read_view(path: Path, solution: bool) -> PdfText:
    """What the checks need of a view: the solution's text is not read, its marks are checked."""
    return read_pdf(path, texts=None if solution else page_texts)


@dataclass(frozen=True)
class Overflow:
    """A part whose sample solution is taller than its answer space, as TeX measured it."""

    part: Part[str]
    needed_cm: float
    space_cm: float


def part_pages(pdf: PdfText) -> dict[str, int]:
    """The page each part starts on, as the theme marks it."""
    return {number.decode(): page for page, stream in enumerate(pdf.streams, 1)
            for number in PART_START.findall(stream)}


def placed_pages(pdf: PdfText) -> dict[str, int]:
    """The page each figure and table stands on, by its label, as the theme marks it."""
    return {label.decode(): page for page, stream in enumerate(pdf.streams, 1) for label in PLACED.findall(stream)}


def sheet(page: int) -> int:
    """The sheet a page of a duplex-printed copy is printed on: pages 1 and 2 are the first sheet's
    front and back; 2k and 2k+1 face each other in the open copy."""
    return (page + 1) // 2


def needed(exam: Exam[str]) -> dict[str, dict[str, str]]:
    """By part number, the figures and tables a part needs in sight (label -> what the examiner calls it):
    its problem's own, shown with the intro, up to the first part that places one in its own text (that
    one is the part's), and any it refers to (``ref``)."""
    names = {thing.label: f"{kind} '{thing.id}'" for problem in exam.problems
             for kind, things in (("figure", problem.figures), ("table", problem.tables)) for thing in things}
    found = {}
    for problem in exam.problems:
        texts = {part.number: " ".join(str(text) for text in (part.lead, part.prompt, *part.answer.public()) if text)
                 for part in problem.parts}
        in_parts = set(PLACED_IN_TEXT.findall(" ".join(texts.values())))
        labels_of_problem = [*(f.label for f in problem.figures), *(t.label for t in problem.tables)]
        shared = [label for label in labels_of_problem if label not in in_parts]
        for part in problem.parts:
            if PLACED_IN_TEXT.search(texts[part.number]):
                shared = []  # from a part that shows a figure of its own on, the parts need that one
            labels = [*shared, *REFERENCE.findall(texts[part.number])]
            found[part.number] = {label: names[label] for label in labels if label in names}
    return found


def behind(exam: Exam[str], student: PdfText) -> list[tuple[Part[str], str]]:
    """Each part printed on the other side of the sheet that holds a figure or table it needs: a reader
    of the stapled, duplex-printed copy would turn the sheet back and forth."""
    parts, placed, wanted = part_pages(student), placed_pages(student), needed(exam)
    found = []
    for _, part in exam.parts():
        page = parts.get(part.number)
        if page is None:
            continue
        behind_it = [f"{name} (page {placed[label]})" for label, name in wanted[part.number].items()
                     if label in placed and placed[label] != page and sheet(placed[label]) == sheet(page)]
        if behind_it:
            found.append((part, f"it is on page {page}, the other side of the sheet with {', '.join(behind_it)}, "
                                "which it needs: a reader must turn the sheet to see both; start the problem on "
                                "a new page ('new_page: true') so that it stands on one page or on two facing "
                                "ones (2 and 3, 4 and 5, ...), or place the figure in a text on this page or the "
                                "facing one (<< figure('id') >>, << table('id') >>)"))
    return found


def _pagination(student: PdfText, solution: PdfText, overflows: list[Overflow], out: Collector) -> None:
    """Both views must put every part on the same page; where they do not, the solutions that
    overflow their space are why, each named with the height it needs."""
    student_pages, solution_pages = part_pages(student), part_pages(solution)
    moved = next((f"part {number} is on page {solution_pages.get(number)} of the solution, page {page} of the "
                  "student copy" for number, page in student_pages.items() if solution_pages.get(number) != page),
                 None)
    if moved is None and len(solution.streams) == len(student.streams):
        return
    pages = moved or f"the solution PDF has {len(solution.streams)} pages, the student PDF {len(student.streams)}"
    for overflow in overflows:
        out.error(CheckError(f"the sample solution needs {overflow.needed_cm:.1f}cm but its answer space is "
                             f"{overflow.space_cm:g}cm, and what overflows moves the pages after it ({pages}): "
                             f"make 'space' at least {overflow.needed_cm:.1f}cm or shorten the solution",
                             overflow.part.loc, overflow.part.context))
    if not overflows:
        out.error(CheckError(f"{pages}: a solution must not change the pagination", None, "solution PDF"))


def _claims(exam: Exam[str], student: PdfText, out: Collector) -> None:
    """The cover's claims against the student PDF and the exam."""
    claims = cover_claims(student.streams[0] if student.streams else b"")
    real = {"pages": len(student.streams), "problems": len(exam.problems), "credits": exam.total_points}
    for key, value in real.items():
        if key not in claims:
            out.error(CheckError(f"the cover does not state the number of {key} (the theme marks it with "
                                 f"\\egclaim{{{key}}}{{...}})", None, "student PDF"))
        elif claims[key] != value:
            out.error(CheckError(f"the cover says {claims[key]:g} {key}, the exam has {value:g}", None, "student PDF"))


def _no_leaks(rendered: RenderedExam, student: PdfText, out: Collector) -> None:
    for leak in leaks(rendered.exam, student, rendered.student.exam):
        out.error(CheckError(leak, None, "student PDF"))


def check_student(rendered: RenderedExam, student: PdfText, marks: Iterable[Mark], out: Collector) -> None:
    """The checks of a student PDF made without its solution view (a copy's own variant): the cover's
    claims, nothing of the solution in it, room to write in every space."""
    _claims(rendered.exam, student, out)
    _no_leaks(rendered, student, out)
    for problem in unwritable(rendered.exam, marks):
        out.error(problem)
    out.raise_if_any()


MM_PER_BP = 25.4 / 72
LEAST_WRITABLE_MM = {  # what a hand needs, by mark (width, height): the spaces a student or grader writes in
    "checkbox": ((3.0, 3.0), "check box"),
    "grade": ((3.0, 3.0), "grading box"),
    "numeric": ((30.0, 8.0), "numeric answer box"),
    "answer": ((50.0, 10.0), "answer space"),
}


def unwritable(exam: Exam[str], marks: Iterable[Mark]) -> list[CheckError]:
    """Every space of the student PDF (as TeX measured it: stages/positions.py) that is smaller than
    a hand can write in, each naming its part; a theme that marks a space smaller, or a source that
    asks for one, fails the build rather than the exam."""
    parts = {part.number: part for _, part in exam.parts()}
    problems = []
    for mark in marks:
        if mark.kind not in LEAST_WRITABLE_MM:
            continue
        (least_width, least_height), what = LEAST_WRITABLE_MM[mark.kind]
        width, height = mark.box.width * MM_PER_BP, mark.box.height * MM_PER_BP
        if width < least_width - 0.05 or height < least_height - 0.05:
            part = parts[mark.key[1] if mark.kind == "checkbox" else mark.key[0]]
            problems.append(CheckError(
                f"its {what} is {width:.1f} mm × {height:.1f} mm on page {mark.page} of the student PDF, smaller "
                f"than a hand writes in (at least {least_width:g} mm × {least_height:g} mm): give it more room "
                "('space', 'box') or a theme that draws it larger", part.loc, part.context))
    return problems


def check(rendered: RenderedExam, student: PdfText, solution: PdfText, overflows: list[Overflow],
          out: Collector, marks: Iterable[Mark] = ()) -> None:
    """Raise CheckError listing everything wrong with the two PDFs (as read by read_view)."""
    exam = rendered.exam
    _claims(exam, student, out)
    _pagination(student, solution, overflows, out)
    unmarked = [str(i) for i, stream in enumerate(solution.streams, 1) if WATERMARK_MARK not in stream]
    if unmarked:
        out.error(CheckError(f"pages without the 'Sample Solution' watermark: {', '.join(unmarked)}",
                             None, "solution PDF"))
    if any(True for _ in secret_texts(exam)) and not any(SOLUTION_MARK in s for s in solution.streams):
        out.error(CheckError("no solution content is marked in the solution PDF", None, "solution PDF"))
    correct = sum(len(part.answer.crossed()) for _, part in exam.parts())
    if (crosses := crossed(solution)) != correct:
        out.error(CheckError(f"the solution PDF crosses {crosses} options, the exam has {correct} correct "
                             f"ones (the theme crosses an option's box with \\egchoicebox, which marks it)",
                             None, "solution PDF"))
    _no_leaks(rendered, student, out)
    for problem in unwritable(exam, marks):
        out.error(problem)
    for part, message in behind(rendered.student.exam, student):
        out.warn(message, part.loc, part.context)
    out.raise_if_any()
