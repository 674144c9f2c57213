"""`--format moodle`: a Moodle XML question bank for core Moodle; `--format moodle-multichoiceset`: the
same for a Moodle with the All-or-Nothing plugin (writers/moodle.py, docs/exports.md).

The plugin is a format of its own, not an option of `moodle`: the registry's formats are what
`--format`, `--help` and the docs' table list, a file's name says which it is (both may lie in
`course/<id>/`), and no other exporter needs an option."""

from __future__ import annotations

from ..errors import Collector
from .exporter import Build, Exported


class MoodleXml:
    counts = "questions"
    reads_copies = False

    def __init__(self, name: str, file: str, about: str, plugin: bool):
        self.name, self.file, self.about, self.plugin = name, file, about, plugin

    def export(self, build: Build, out: Collector) -> Exported:
        from ..writers import moodle
        from .questions import questions

        found = questions(build, out, moodle.source)
        for part in dict.fromkeys(q.part.number for q in found.questions if q.part.answer.rule == "partial"):
            question = next(q for q in found.questions if q.part.number == part)
            out.warn("it scores 'partial' on paper (each box right earns its share), which Moodle cannot grade: "
                     "Moodle scores it as 'negative' (a wrong cross costs its share)", question.part.loc,
                     question.part.context)
        return Exported(moodle.moodle_xml(found.id, found.title, found.questions, found.images, self.plugin),
                        len(found.questions))


EXPORTER = MoodleXml("moodle", "moodle.xml", "a Moodle question bank for core Moodle: a category per part, its "
                     "variants the questions in it", plugin=False)
MULTICHOICESET = MoodleXml("moodle-multichoiceset", "moodle-multichoiceset.xml", "the same for a Moodle with the "
                           "All-or-Nothing plugin: several correct options as `multichoiceset`", plugin=True)
