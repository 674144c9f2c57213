"""``examgen schema``: the source format as a JSON Schema, for editors (the YAML language server).

Assembled from the validator's own key tables (stages/validate.py, kinds/), so the schema
knows every key the validator knows, with what each holds (shapes.py). Two documents: one
for ``exam.yaml`` and one for an included file (a problem, a part, or a list of them).
"""

from __future__ import annotations

import json

from . import kinds, shapes
from .shapes import Shape
from .stages import validate

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = {"exam": "examgen.schema.json", "included": "examgen-included.schema.json"}  # in exams/


def _one_of(keys: tuple[str, ...]) -> Shape:
    """Exactly one of ``keys``."""
    return {"oneOf": [{"required": [key]} for key in keys]}


def _part() -> Shape:
    """A part: its own keys and its kind's; a key of another kind is a mistake (as the validator says)."""
    part = shapes.mapping(validate.PART_KEYS, validate.PART_REQUIRED, "A part: its kind follows from its keys "
                          "(options: multiple choice; answer: numeric; else free answer).")
    rule: Shape = {}
    for kind in reversed(kinds.KINDS):  # the first kind that claims a part decides, as kinds.kind_of does
        others = {key: False for key in kinds.KIND_KEYS if key not in kind.keys}
        then: Shape = {"properties": others}
        rule = then if kind.marker is None else {"if": {"required": [kind.marker]}, "then": then, "else": rule}
    return {**part, "allOf": [rule]}


def _definitions() -> dict[str, Shape]:
    return {
        "problem": shapes.mapping(validate.PROBLEM_KEYS, validate.PROBLEM_REQUIRED, "A problem."),
        "part": _part(),
        "figure": {**shapes.mapping(validate.FIGURE_KEYS, validate.FIGURE_REQUIRED, "A TikZ picture or an image."),
                   **_one_of(validate.FIGURE_ONE_OF)},
        "table": {**shapes.mapping(validate.TABLE_KEYS, validate.TABLE_REQUIRED, "A table."),
                  **_one_of(validate.TABLE_ONE_OF)},
        "include": shapes.mapping({"include": shapes.pattern("A .yaml or .yml file, relative to this one.",
                                                             r"\.ya?ml$")}, ("include",),
                                  "The content of another file of the exam folder."),
    }


def exam_schema() -> Shape:
    """The schema of an ``exam.yaml``."""
    exam = shapes.mapping(validate.EXAM_KEYS, validate.EXAM_REQUIRED)
    return {"$schema": DIALECT, "title": "examgen exam", **exam,
            "anyOf": [{"required": [key]} for key in validate.EXAM_ONE_OF], "$defs": _definitions()}


def included_schema() -> Shape:
    """The schema of an included file: a problem, a part, or a list of them (includes may nest)."""
    one = {"if": {"type": "object", "required": ["include"]}, "then": shapes.record("include"),
           "else": {"if": {"type": "object", "required": ["parts"]}, "then": shapes.record("problem"),
                    "else": shapes.record("part")}}  # a problem has parts; a part has none
    return {"$schema": DIALECT, "title": "examgen included file",
            "if": {"type": "array"}, "then": {"items": one}, "else": one, "$defs": _definitions()}


def schema_text(included: bool = False) -> str:
    """The schema as the JSON ``examgen schema`` prints (and ``examgen new`` writes beside the exams)."""
    return json.dumps(included_schema() if included else exam_schema(), indent=2, ensure_ascii=False) + "\n"
