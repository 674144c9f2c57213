"""`--format marks`: the marks sheet of an `examgen copies` run, one row per copy, one column per part,
which graders fill in and `examgen grade` reads back (writers/marks.py)."""

from __future__ import annotations

from ..errors import Collector
from .exporter import Build, Exported


class MarksSheet:
    name = "marks"
    file = "marks.csv"
    counts = "copies"
    reads_copies = True
    about = "the CSV marks sheet of the copies, for `examgen grade`"

    def export(self, build: Build, out: Collector) -> Exported:
        from ..writers.marks import marks_csv, read_manifest

        entries = read_manifest(build.copies, build.exam)
        return Exported(marks_csv(build.exam, entries).encode("utf-8"), len(entries))


EXPORTER = MarksSheet()
