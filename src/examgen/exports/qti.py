"""`--format qti`: an IMS QTI 2.1 package (a zip) for Canvas, OpenOLAT and others (writers/qti.py)."""

from __future__ import annotations

from ..errors import Collector
from .exporter import Build, Exported


class QtiPackage:
    name = "qti"
    file = "qti.zip"
    counts = "questions"
    reads_copies = False
    about = "an IMS QTI 2.1 package: an item per part and variant, a section per part selecting one variant"

    def export(self, build: Build, out: Collector) -> Exported:
        from ..writers import qti
        from .questions import questions

        found = questions(build, out, qti.source, qti.mathml)
        return Exported(qti.qti_zip(found.id, found.title, found.questions, found.images), len(found.questions))


EXPORTER = QtiPackage()
