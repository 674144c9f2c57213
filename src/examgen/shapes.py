"""What each key of the source holds, as a JSON Schema fragment.

The validator's key tables (``stages/validate.py``, ``kinds/``) map every key they accept to
one of these shapes, and ``examgen schema`` (schema.py) assembles the tables into a JSON
Schema for editors: a key the validator learns is in the schema at once, with its shape.
The validator's own checks stay in its code (they say more than a schema can); a shape
states the structure an editor can check as the examiner types.
"""

from __future__ import annotations

from collections.abc import Mapping

Shape = dict[str, object]  # a JSON Schema fragment
Keys = Mapping[str, Shape]  # a mapping's keys and what each holds
NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"  # ids, data tables' names, languages
LENGTH = r"^\s*([0-9]*\.?[0-9]+)\s*(cm|mm|in|pt)\s*$"  # 4cm, 35mm, 2in, 100pt
MAX_POINTS = 100  # a part's grading boxes, one per point, already run off the page at 45


def _described(shape: Shape, description: str) -> Shape:
    return {**shape, "description": description}


def text(description: str) -> Shape:
    """LaTeX with template expressions (a bare number reads as its text)."""
    return _described({"type": ["string", "number"]}, description)


def plain(description: str) -> Shape:
    """Plain text, escaped for TeX: a text's shape (which characters it may hold, the validator says)."""
    return text(description)


def code(description: str) -> Shape:
    """A Python compute block."""
    return _described({"type": "string"}, description)


def name(description: str) -> Shape:
    """A stable name of letters, digits, ``_``, ``-`` or ``.``."""
    return _described({"type": "string", "pattern": NAME}, description)


def flag(description: str) -> Shape:
    return _described({"type": "boolean"}, description)


def number(description: str, **bounds: float) -> Shape:
    """A number; ``bounds`` are JSON Schema's (``minimum``, ``exclusiveMinimum``, ``maximum``)."""
    return _described({"type": "number", **bounds}, description)


def whole(description: str, **bounds: float) -> Shape:
    return _described({"type": "integer", **bounds}, description)


def choice(description: str, *values: object) -> Shape:
    return _described({"enum": list(values)}, description)


def pattern(description: str, regex: str) -> Shape:
    """Text of a given form (a date, a time of day)."""
    return _described({"type": "string", "pattern": regex}, description)


def either(description: str, *shapes: Shape) -> Shape:
    return _described({"anyOf": list(shapes)}, description)


def items(description: str, item: Shape, at_least: int = 0) -> Shape:
    """A list of ``item``, ``at_least`` of them."""
    return _described({"type": "array", "items": item, **({"minItems": at_least} if at_least else {})}, description)


def mapping(keys: Keys, required: tuple[str, ...] = (), description: str = "") -> Shape:
    """A mapping of exactly these keys."""
    shape: Shape = {"type": "object", "properties": dict(keys), "additionalProperties": False}
    if required:
        shape["required"] = list(required)
    return _described(shape, description) if description else shape


def record(kind: str) -> Shape:
    """One of the schema's records (problem, part, figure, table), defined once in its ``$defs``."""
    return {"$ref": f"#/$defs/{kind}"}


def includable(kind: str, description: str) -> Shape:
    """A list item that is a record of ``kind`` or ``{include: file}`` (an include is told by its key,
    so an editor reports a mistake in the record, not that the item matches neither)."""
    return _described({"if": {"type": "object", "required": ["include"]}, "then": record("include"),
                       "else": record(kind)}, description)


def suffix(description: str, suffixes: tuple[str, ...]) -> Shape:
    """A file name ending in one of ``suffixes`` (``.png``), in any case."""
    either_case = ["".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in end.lstrip(".")) for end in suffixes]
    return pattern(description, rf"\.({'|'.join(either_case)})$")


def length(description: str) -> Shape:
    """A length such as 4cm, 35mm, 2in, 100pt, or a bare number of cm."""
    return either(description, {"type": "number", "minimum": 0.5, "maximum": 25}, {"type": "string", "pattern": LENGTH})


def points(description: str, deduction: bool = False) -> Shape:
    """Points: a multiple of 0.5, at most MAX_POINTS (a deduction may be negative)."""
    bounds: dict[str, float] = {"minimum": -MAX_POINTS} if deduction else {"exclusiveMinimum": 0}
    shape = number(description, maximum=MAX_POINTS, **bounds)
    shape["multipleOf"] = 0.5
    if deduction:
        shape["not"] = {"const": 0}
    return shape
