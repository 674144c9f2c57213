"""What a grader gave one part of one copy on screen: the records `examgen mark` keeps and
`examgen return` draws on the student's pages. Plain frozen records, so the store and the returned
copies share one meaning of a mark without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

ANNOTATION_KINDS = ("tick", "cross", "text")


@dataclass(frozen=True)
class Annotation:
    """A mark on an answer's image. Its place is given as fractions (0 to 1, from the top left) of the
    answer space it was put on, so it lands where the grader put it on any rendering of the page."""

    kind: str  # one of ANNOTATION_KINDS
    x: float
    y: float
    text: str = ""  # a text annotation's words
    space: int = 0  # which of the part's answer spaces (0 the first, as scan's answers/<code>/<part>[-N].jpg)


@dataclass(frozen=True)
class PartMark:
    """One part of one copy as marked on screen: the points and why."""

    code: str  # the copy's code
    part: str  # the part's number, "6.3"
    points: float
    notes: tuple[str, ...]  # the correction notes (rubric) applied, their texts as the exam words them
    comment: str  # the grader's own words, "" for none
    annotations: tuple[Annotation, ...]
    grader: str  # the account that gave the points
