"""`--format moodle`: a Moodle XML question bank (writers/moodle.py, docs/exports.md)."""

from __future__ import annotations

from ..errors import Collector
from .exporter import Build, Exported


class MoodleXml:
    name = "moodle"
    file = "moodle.xml"
    counts = "questions"
    reads_copies = False
    about = "a Moodle question bank: a category per problem, a question per part (and variant)"

    def export(self, build: Build, out: Collector) -> Exported:
        from ..writers import moodle
        from .questions import questions

        found = questions(build, out, moodle.source)
        return Exported(moodle.moodle_xml(found.id, found.title, found.meta.language, found.questions, found.images),
                        len(found.questions))


EXPORTER = MoodleXml()
