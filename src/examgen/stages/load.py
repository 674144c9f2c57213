"""Stage 1, load: read an exam's YAML files into mappings that remember lines.

Includes (a list item ``{include: path}``) are resolved here, so every later
stage sees one tree whose every value still knows its file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import Collector, Loc, SourceError


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where present: 20x faster
    """YAML 1.1 without its surprises: ``17:30``, ``0012`` and ``2022-02-30`` stay text."""


_RESOLVED_HERE = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
_Loader.yaml_implicit_resolvers = {  # dates stay text too: validate reads them, with a clear message
    first: [(tag, rx) for tag, rx in resolvers if tag not in _RESOLVED_HERE]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"),  # 0012 stays the text 0012, not octal 10
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class SourceMap(dict):
    """A YAML mapping that knows where it and each of its values stand."""

    loc: Loc
    key_locs: dict
    value_locs: dict

    def loc_of(self, key: str) -> Loc:
        """Where the value of ``key`` starts (for a block of text, its first line)."""
        return self.value_locs.get(key, self.loc)

    def loc_of_key(self, key: str) -> Loc:
        return self.key_locs.get(key, self.loc)


class SourceList(list):
    """A YAML sequence that knows where it and each of its items stand."""

    loc: Loc
    item_locs: list


@dataclass(frozen=True)
class Source:
    """An exam's YAML tree with includes resolved, and every file it read."""

    root: SourceMap
    files: tuple[Path, ...]


def _value_loc(file: Path, node: yaml.Node) -> Loc:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        line += 1  # a block scalar's text starts below its indicator
    return Loc(file, line)


def _convert(node: yaml.Node, loader: _Loader, file: Path):
    if isinstance(node, yaml.MappingNode):
        result = SourceMap()
        result.loc = Loc(file, node.start_mark.line + 1)
        result.key_locs, result.value_locs = {}, {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, loader, file)
            key_loc = Loc(file, key_node.start_mark.line + 1)
            if not isinstance(key, str):
                raise SourceError(f"keys must be names, not {key!r}", key_loc)
            if key in result:
                raise SourceError(f"key '{key}' is given twice", key_loc)
            result[key] = _convert(value_node, loader, file)
            result.key_locs[key] = key_loc
            result.value_locs[key] = _value_loc(file, value_node)
        return result
    if isinstance(node, yaml.SequenceNode):
        result = SourceList(_convert(item, loader, file) for item in node.value)
        result.loc = Loc(file, node.start_mark.line + 1)
        result.item_locs = [_value_loc(file, item) for item in node.value]
        return result
    return _scalar(node, loader, file)


def _scalar(node: yaml.Node, loader: _Loader, file: Path):
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # e.g. the date 2022-02-30
        raise SourceError(f"invalid value {node.value!r}: {exc}", Loc(file, node.start_mark.line + 1)) from None


def read_yaml(path: Path):
    """Parse one YAML file into SourceMap/SourceList values; errors name the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError("file not found", Loc(path)) from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", Loc(path)) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _convert(node, loader, path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # where the unclosed quote or bracket opened
        detail = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SourceError(f"YAML syntax: {detail}", Loc(path, mark.line + 1 if mark else None)) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"YAML: {exc}", Loc(path)) from None
    finally:
        loader.dispose()


def _is_include(item) -> bool:
    return isinstance(item, SourceMap) and set(item) == {"include"}


def _resolve(value, file: Path, stack: tuple[Path, ...], files: list[Path], collector: Collector):
    """Replace every list item ``{include: path}`` by the file's content, recursively."""
    if isinstance(value, SourceMap):
        for key in value:
            value[key] = _resolve(value[key], file, stack, files, collector)
        return value
    if not isinstance(value, SourceList):
        return value
    out = SourceList()
    out.loc, out.item_locs = value.loc, []
    for item, loc in zip(value, value.item_locs):
        if not _is_include(item):
            out.append(_resolve(item, file, stack, files, collector))
            out.item_locs.append(loc)
            continue
        target = item["include"]
        if not isinstance(target, str):
            collector.error(SourceError("include needs a file path", item.loc_of("include")))
            continue
        path = (file.parent / target).resolve()
        if path in stack:
            chain = " -> ".join(p.name for p in (*stack, path))
            collector.error(SourceError(f"include cycle: {chain}", item.loc_of("include")))
            continue
        if not path.is_file():
            collector.error(SourceError(f"included file '{target}' not found", item.loc_of("include")))
            continue
        try:
            content = read_yaml(path)
        except SourceError as exc:
            collector.error(exc)
            continue
        files.append(path)
        content = _resolve(content, path, (*stack, path), files, collector)
        if isinstance(content, SourceList):
            out.extend(content)
            out.item_locs.extend(content.item_locs)
        elif content is not None:
            out.append(content)
            out.item_locs.append(content.loc if isinstance(content, SourceMap) else Loc(path, 1))
    return out


def load(exam_file: Path) -> Source:
    """Read ``exam.yaml`` and everything it includes; all include problems at once."""
    exam_file = exam_file.resolve()
    root = read_yaml(exam_file)
    if root is None:
        raise SourceError("the exam file is empty", Loc(exam_file, 1))
    if not isinstance(root, SourceMap):
        raise SourceError("an exam file must be a mapping of keys (course, code, problems, ...)", Loc(exam_file, 1))
    collector = Collector()
    files = [exam_file]
    root = _resolve(root, exam_file, (exam_file,), files, collector)
    collector.raise_if_any()
    return Source(root, tuple(files))
