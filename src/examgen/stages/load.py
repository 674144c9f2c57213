"""Stage 1, load: read an exam's YAML files into mappings that remember lines.

Includes (a list item ``{include: path}``) are resolved here, so every later
stage sees one tree whose every value still knows its file and line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import Collector, Loc, SourceError
from ..model.tree import SourceList, SourceMap

if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where present: 20x faster


class _Loader(_Base):
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
_TEXT = "tag:yaml.org,2002:str"
OPENED_AT_CONTEXT = ("end of stream", "did not find expected ','", "could not find expected ':'")
MAX_DEPTH = 64  # an exam nests about 8 levels (problems, parts, notes, table rows)


def _line(event: yaml.Event) -> int:
    """An event's 1-based line (libyaml marks every event)."""
    assert event.start_mark is not None
    return event.start_mark.line + 1


def _value_loc(file: Path, event: yaml.NodeEvent) -> Loc:
    line = _line(event)
    if isinstance(event, yaml.ScalarEvent) and event.style in ("|", ">"):
        line += 1  # a block scalar's text starts below its indicator
    return Loc(file, line)


@dataclass
class _Open:
    """A mapping or list being read, with a mapping's key that waits for its value."""

    value: SourceMap | SourceList
    key: str | None = None
    key_loc: Loc | None = None


class _TreeReader:
    """Builds one file's tree from libyaml's events, without recursion: the depth is bounded
    and an alias is refused where it stands (expanding aliases is how a few lines of YAML
    become billions of values, or an endless loop)."""

    def __init__(self, loader: _Loader, file: Path):
        self.loader, self.file = loader, file
        self.open: list[_Open] = []
        self.root: object = None

    def read(self):
        self.loader.get_event()  # the stream's start
        if self.loader.check_event(yaml.StreamEndEvent):
            return None
        self.loader.get_event()  # the document's start
        while not isinstance(event := self.loader.get_event(), yaml.DocumentEndEvent):
            self.take(event)
        if not self.loader.check_event(yaml.StreamEndEvent):
            raise SourceError("YAML syntax: a file holds one document, but '---' starts another",
                              Loc(self.file, _line(self.loader.peek_event())))
        return self.root

    def take(self, event: yaml.Event) -> None:
        loc = Loc(self.file, _line(event))
        if isinstance(event, yaml.AliasEvent):
            raise SourceError(f"the YAML alias '*{event.anchor}' repeats a value: examgen reads no aliases, "
                              f"write the value out", loc)
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.open.pop()
            return
        if isinstance(event, yaml.ScalarEvent):
            self.place(self.scalar(event, loc), _value_loc(self.file, event))
            return
        if len(self.open) >= MAX_DEPTH:
            raise SourceError(f"the YAML nests more than {MAX_DEPTH} levels deep", loc)
        collection: SourceMap | SourceList
        if isinstance(event, yaml.MappingStartEvent):
            collection = SourceMap()
            collection.key_locs, collection.value_locs = {}, {}
        else:
            collection = SourceList()
            collection.item_locs = []
        collection.loc = loc
        self.place(collection, loc)
        self.open.append(_Open(collection))

    def place(self, value, loc: Loc) -> None:
        """Put a value where the open collection expects one: a list's next item, a mapping's key or value."""
        if not self.open:
            self.root = value
            return
        top = self.open[-1]
        if isinstance(top.value, SourceList):
            top.value.append(value)
            top.value.item_locs.append(loc)
        elif top.key is None:
            if not isinstance(value, str):
                shown = "a mapping or list" if isinstance(value, (SourceMap, SourceList)) else repr(value)
                raise SourceError(f"keys must be names, not {shown}", loc)
            if value in top.value:
                raise SourceError(f"key '{value}' is given twice", loc)
            top.key, top.key_loc = value, loc
        else:
            top.value[top.key] = value
            top.value.key_locs[top.key] = top.key_loc
            top.value.value_locs[top.key] = loc
            top.key = None

    def scalar(self, event: yaml.ScalarEvent, loc: Loc):
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _TEXT:
            return event.value  # most values: no constructor needed
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)  # type: ignore[arg-type]
        try:
            return self.loader.construct_object(node)
        except ValueError as exc:  # e.g. the date 2022-02-30
            raise SourceError(f"invalid value {event.value!r}: {exc}", loc) from None


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
        return _TreeReader(loader, path).read()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and any(at in (exc.problem or "") for at in OPENED_AT_CONTEXT):
            mark = exc.context_mark  # where the unclosed quote or bracket, or the key without its colon, began
        lines = text.splitlines()
        shown = lines[mark.line] if mark and mark.line < len(lines) else ""
        raise SourceError(_yaml_in_words(exc, shown), Loc(path, mark.line + 1 if mark else None)) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"YAML: {exc}", Loc(path)) from None
    finally:
        loader.dispose()


def spot_in_file(loc: Loc, value: str, line: int, column: int) -> tuple[Loc, str]:
    """Where the character at ``line``:``column`` (1-based) of a text read from YAML stands in its file, and
    that line of the file: the text's lines are not the file's where YAML folds them (``>``, a plain or quoted
    text over several lines), nor its columns (indentation, quotes, escapes). Read again, only for a message:
    the text is the string value whose first line is ``loc``'s; where none is, the text's line is guessed."""
    guess = loc.shifted(line - 1), ""
    try:
        file = loc.file.read_text(encoding="utf-8")
        events = list(yaml.parse(file, Loader=yaml.SafeLoader))  # Python's marks count characters
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return guess
    found = [event for event in events if isinstance(event, yaml.ScalarEvent) and event.value == value
             and _value_loc(loc.file, event).line == loc.line]
    if not found or found[0].start_mark is None or found[0].end_mark is None:
        return guess
    event = found[0]
    start = event.start_mark.index  # type: ignore[union-attr]
    raw = file[start:event.end_mark.index]  # type: ignore[union-attr]
    offset = sum(len(text) + 1 for text in value.split("\n")[:line - 1]) + column - 1
    at = start + _raw_index(raw, value, event.style, offset)
    number = file.count("\n", 0, at) + 1
    begins = file.rfind("\n", 0, at) + 1
    return Loc(loc.file, number, at - begins + 1), file[begins:].split("\n", 1)[0]


ESCAPE_WIDTH = {"x": 4, "u": 6, "U": 10}  # a double-quoted text's escapes that are longer than two characters


def _raw_index(raw: str, value: str, style: str | None, offset: int) -> int:
    """The index in a scalar as written (``raw``, from its first character: a quote, the ``|`` or ``>``) of
    its value's character at ``offset``: each character of the value is the next like it in the raw text,
    a space or line break the next whitespace (YAML folds line breaks into spaces), an escape one character."""
    at = raw.find("\n") + 1 if style in ("|", ">") else int(style in ("'", '"'))
    for index, char in enumerate(value[:offset + 1]):
        while at < len(raw) and not (
                (style == '"' and raw[at] == "\\") or (raw[at].isspace() if char.isspace() else raw[at] == char)):
            at += 1
        if index == offset:
            return at
        escaped = style == '"' and raw[at:at + 1] == "\\"
        at += ESCAPE_WIDTH.get(raw[at + 1:at + 2], 2) if escaped else 1 + (style == "'" and raw[at:at + 2] == "''")
    return at


def _yaml_in_words(exc: yaml.MarkedYAMLError, line: str) -> str:
    """What PyYAML's complaint means for the line it points at, and what to do; its own words in
    brackets, for the rest."""
    detail = " ".join(part for part in (exc.context, exc.problem) if part)
    problem = exc.problem or ""
    if "\t" in line[:len(line) - len(line.lstrip())] or "\\t" in problem:
        said = "a tab: YAML indents with spaces only, so replace the tab with spaces"
    elif "mapping values are not allowed" in problem:
        key, _, value = line.partition(": ")
        if value and ": " in value and not value.lstrip().startswith(("'", '"')):
            said = (f"the value of '{key.strip(' -')}' holds ': ' (a colon and a space), which YAML reads as another "
                    "key: put the value in quotes, or write it as a block after '|'")
        else:
            said = "this line is indented more than its neighbours: give it the same indentation as the keys beside it"
    elif "did not find expected key" in problem:
        opened = exc.context_mark.line + 1 if exc.context_mark else None
        said = ("this line is indented differently from the keys of its mapping" +
                (f" (which starts at line {opened})" if opened else "") +
                ": line it up with them, or indent it under the key it belongs to")
    elif "could not find expected ':'" in problem:
        said = ("a line where a 'key: value' was expected has no ': ': add the colon, or indent the line as a "
                "continuation")
    elif "end of stream" in problem or "did not find expected ','" in problem:
        said = "a quote or bracket opened here is never closed: close it"
    else:
        return f"YAML syntax: {detail}"
    return f"YAML syntax: {said} ({detail})"


def source_folders(exam_file: Path) -> tuple[Path, ...]:
    """The folders whose files a source may name, links followed: its exam folder (the one it is
    named in, not where a link to the file leads) and the shared ``exams/lib`` beside that folder."""
    folder = Path(os.path.abspath(exam_file)).parent
    return folder.resolve(), (folder.parent / "lib").resolve()


def named_file(name: str, beside: Path, folders: tuple[Path, ...], what: str) -> Path:
    """The file a source names, relative to the YAML file ``beside``, with symlinks followed.

    A file outside ``folders`` would let a source show the builder's files (its keys, its
    passwords) in a PDF or a message, so it is an error, as are absolute paths, folders and
    missing files. The SourceError has no location (the caller's) and shows the path, never
    the file's content.
    """
    if Path(name).is_absolute():
        raise SourceError(f"{what} '{name}' is an absolute path: name it relative to {beside.name}")
    try:
        path = (beside.parent / name).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL byte
        raise SourceError(f"{what} '{name}' cannot be resolved to a file") from None
    if not any(path.is_relative_to(folder) for folder in folders):
        raise SourceError(f"{what} '{name}' is outside the exam folder and exams/lib (it leads to {path})")
    if path.is_dir():
        raise SourceError(f"{what} '{name}' is a folder, not a file")
    if not path.is_file():
        raise SourceError(f"{what} '{name}' not found")
    return path


def _is_include(item) -> bool:
    return isinstance(item, SourceMap) and set(item) == {"include"}


class _Includes:
    """Resolves an exam's includes, collecting every file read and every problem met."""

    def __init__(self, folders: tuple[Path, ...], collector: Collector):
        self.folders, self.collector = folders, collector
        self.files: list[Path] = []

    def resolve(self, value, file: Path, stack: tuple[Path, ...]):
        """Replace every list item ``{include: path}`` by the file's content, recursively."""
        if isinstance(value, SourceMap):
            for key in value:
                value[key] = self.resolve(value[key], file, stack)
            return value
        if not isinstance(value, SourceList):
            return value
        out = SourceList()
        out.loc, out.item_locs = value.loc, []
        for item, loc in zip(value, value.item_locs):
            if not _is_include(item):
                out.append(self.resolve(item, file, stack))
                out.item_locs.append(loc)
                continue
            try:
                content = self.content(item["include"], file, stack)
            except SourceError as exc:
                self.collector.error(SourceError(exc.message, exc.loc or item.loc_of("include")))
                continue
            if isinstance(content, SourceList):
                out.extend(content)
                out.item_locs.extend(content.item_locs)
            elif content is not None:
                out.append(content)
                out.item_locs.append(content.loc)
        return out

    def content(self, target, file: Path, stack: tuple[Path, ...]) -> SourceMap | SourceList | None:
        """An included file's content, its own includes resolved; a SourceError located in that
        file if it cannot be read, without one if the include itself is wrong."""
        if not isinstance(target, str):
            raise SourceError("include needs a file path")
        path = named_file(target, file, self.folders, "included file")
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise SourceError(f"included file '{target}' is not a YAML file (.yaml or .yml)")
        if path in stack:
            raise SourceError(f"include cycle: {' -> '.join(p.name for p in (*stack, path))}")
        content = read_yaml(path)
        if content is not None and not isinstance(content, (SourceMap, SourceList)):
            raise SourceError(f"included file '{target}' holds a single value, not a problem or part (a mapping) "
                              f"or a list of them")
        self.files.append(path)
        return self.resolve(content, path, (*stack, path))


@dataclass(frozen=True)
class Source:
    """An exam's YAML tree with includes resolved, every file it read, and the folders whose
    files it may name."""

    root: SourceMap
    files: tuple[Path, ...]
    folders: tuple[Path, ...]


def load(exam_file: Path) -> Source:
    """Read ``exam.yaml`` (which may be a link to a file of its folders) and everything it includes;
    all include problems at once."""
    folders = source_folders(exam_file)
    try:
        exam_file = named_file(exam_file.name, exam_file, folders, "the exam file")
    except SourceError as exc:
        raise SourceError(exc.message, Loc(exam_file)) from None
    root = read_yaml(exam_file)
    if root is None:
        raise SourceError("the exam file is empty", Loc(exam_file, 1))
    if not isinstance(root, SourceMap):
        raise SourceError("an exam file must be a mapping of keys (course, code, problems, ...)", Loc(exam_file, 1))
    collector = Collector()
    includes = _Includes(folders, collector)
    root = includes.resolve(root, exam_file, (exam_file,))
    collector.raise_if_any()
    return Source(root, (exam_file, *includes.files), includes.folders)
