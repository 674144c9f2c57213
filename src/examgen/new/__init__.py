"""``examgen new``: a new exam folder with a commented minimal exam that builds at once, and the
schemas its editor reads (``exams/examgen*.schema.json``, named by the exam's first line)."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from ..errors import SourceError, printable
from ..project import EXAM_FILE, Project
from ..schema import SCHEMA_FILES, schema_text

EXAM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_ID = 64  # characters: a folder's name, and part of the names of the files and folders made for it
RESERVED = ("lib",)  # exams/lib holds the helper modules


def write_schemas(exams: Path) -> list[Path]:
    """The schemas beside the exams, where they are missing or not this examgen's; the files written."""
    written = []
    for kind, name in SCHEMA_FILES.items():
        path, text = exams / name, schema_text(included=kind == "included")
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def new_exam(project: Project, exam_id: str, language: str) -> Path:
    """Write ``exams/<id>/exam.yaml`` (never over an existing exam) and the schemas; the exam file."""
    if not EXAM_ID.fullmatch(exam_id) or exam_id in RESERVED:
        raise SourceError(f"'{printable(exam_id)}' cannot name an exam: use letters, digits, '_', '-' or '.' "
                          "(not 'lib')")
    if len(exam_id) > MAX_ID:
        raise SourceError(f"an exam id of {len(exam_id)} characters is too long: use at most {MAX_ID}")
    languages = project.theme().languages()
    if language not in languages:
        raise SourceError(f"no strings for language '{language}' in the theme (it has: {', '.join(sorted(languages))})")
    folder = project.exams / exam_id
    if folder.exists():
        raise SourceError(f"{folder} already exists: choose another id")
    template = files(__package__).joinpath(EXAM_FILE).read_text(encoding="utf-8")
    folder.mkdir(parents=True)
    exam_file = folder / EXAM_FILE
    exam_file.write_text(template.replace("@ID@", exam_id).replace("@LANGUAGE@", language), encoding="utf-8")
    write_schemas(project.exams)
    return exam_file
