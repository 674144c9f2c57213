"""Themes: the templates, style files, images and strings a document is typeset with.

A theme is a stack of folders searched in order: the project's own ``templates/``
(beside ``exams/``), then ``$EXAMGEN_TEMPLATES``, then the default that ships inside
examgen. A file found in an earlier folder hides the same name in a later one, so a
faculty overrides one file, not all; a template can extend the default one by the name
``default/exam.tex.j2`` and replace single blocks. Every file of a theme that is not a
template (``*.j2``) or a strings table (``strings/*.yaml``) reaches TeX: style files,
logos, fonts.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import Collector, EnvironmentProblem, Loc, SourceError

DEFAULT = Path(__file__).resolve().parent / "themes" / "default"
BASE_LANGUAGE = "en"  # the language every other strings table must match key for key
NOT_FOR_TEX = (".j2", ".md")


@dataclass(frozen=True)
class Theme:
    layers: tuple[Path, ...]  # searched in order; the packaged default last

    @classmethod
    def stack(cls, project_templates: Path | None) -> Theme:
        """The project's templates folder (if it has one), $EXAMGEN_TEMPLATES, the default; refused if
        a file or folder of one is a link out of it."""
        layers = [project_templates] if project_templates and project_templates.is_dir() else []
        configured = os.environ.get("EXAMGEN_TEMPLATES")
        if configured:
            folder = Path(configured)
            if not folder.is_dir():
                raise EnvironmentProblem(f"EXAMGEN_TEMPLATES names {configured!r}, which is not a folder")
            layers.append(folder.resolve())
        refused = Collector()
        for layer in layers:
            for path in sorted(layer.rglob("*")):  # rglob lists a linked folder, and does not enter it
                if path.is_symlink() and link_out(path, layer):
                    refused.error(SourceError(f"a link out of the theme folder (to {leads_to(path)}): a theme's "
                                              "files must lie inside it; put the file itself there", Loc(path)))
        refused.raise_if_any()
        return cls((*layers, DEFAULT))

    def _files(self) -> dict[str, Path]:
        """Every file of the theme by its name relative to its layer; earlier layers win."""
        found: dict[str, Path] = {}
        for layer in reversed(self.layers):
            for path in sorted(layer.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    found[path.relative_to(layer).as_posix()] = path
        return found

    def all_files(self) -> list[Path]:
        """Every file of every layer: what a build's outputs depend on."""
        return sorted({p for layer in self.layers for p in layer.rglob("*") if p.is_file()})

    def tex_files(self) -> dict[str, Path]:
        """The files TeX needs beside the document: style files, logos, fonts."""
        return {name: path for name, path in self._files().items()
                if not name.endswith(NOT_FOR_TEX) and not name.startswith("strings/")}

    def languages(self) -> frozenset[str]:
        return frozenset(name[len("strings/"):-len(".yaml")] for name in self._files()
                         if name.startswith("strings/") and name.endswith(".yaml"))

    def strings(self, language: str) -> dict[str, object]:
        return _strings(self.layers, language)


def link_out(path: Path, within: Path) -> Path | None:
    """The first folder or file on the way from ``within`` down to ``path`` that a symbolic link
    takes out of ``within`` (a loop of links counts as out); None if ``path`` stays inside."""
    inside = within.resolve()
    step = within
    for part in path.relative_to(within).parts:
        step = step / part
        try:
            if not step.resolve().is_relative_to(inside):
                return step
        except (OSError, RuntimeError):  # a loop of links
            return step
    return None


def leads_to(link: Path) -> str:
    """Where a link leads, for a message: the path, never the content."""
    try:
        return str(link.resolve())
    except (OSError, RuntimeError):
        return "a loop of links"


@functools.cache
def _strings(layers: tuple[Path, ...], language: str) -> dict[str, object]:
    """The strings table of a language: each layer's table over the later ones', checked
    to have every key the base language has."""
    table: dict[str, object] = {}
    base: set[str] = set()
    for layer in reversed(layers):
        for lang in {BASE_LANGUAGE, language}:
            file = layer / "strings" / f"{lang}.yaml"
            if not file.is_file():
                continue
            try:
                data = yaml.safe_load(file.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise SourceError(f"the strings table cannot be read: {exc}", Loc(file)) from None
            if not isinstance(data, dict):
                raise SourceError("a strings table must be a mapping of names to sentences", Loc(file))
            if lang == BASE_LANGUAGE:
                base |= set(data)
            if lang == language:
                table.update(data)
    missing = sorted(base - set(table))
    if missing:
        raise SourceError(f"the theme's '{language}' strings lack {', '.join(missing)}",
                          Loc(layers[0] / "strings" / f"{language}.yaml"))
    return table
