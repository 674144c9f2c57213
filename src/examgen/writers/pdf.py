"""A minimal PDF file writer for stamped copies: objects as bytes with the numbers examgen
chose, a cross-reference table and a trailer with a fixed /ID. Pages of a compiled PDF
become form XObjects (their content and resources shared by every copy that shows them);
the objects they need are taken over from pypdf's reader with new numbers. Every byte is
a function of the inputs: no clock, no random ID."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
SKIPPED_STREAM_KEYS = ("/Length",)  # written anew from the data


def pdf_object(obj: Any, number: Callable[[Any], int]) -> bytes:
    """A pypdf object as PDF bytes, each indirect reference renumbered by ``number``."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

    if isinstance(obj, IndirectObject):
        return b"%d 0 R" % number(obj)
    if isinstance(obj, DictionaryObject):
        keys = [key for key in obj if not (isinstance(obj, StreamObject) and key in SKIPPED_STREAM_KEYS)]
        body = b"".join(pdf_object(key, number) + b" " + pdf_object(obj.raw_get(key), number) + b"\n" for key in keys)
        if isinstance(obj, StreamObject):
            data = obj._data  # as stored in the file (still encoded): copied, not recompressed
            return b"<<\n%s/Length %d\n>>\nstream\n%s\nendstream" % (body, len(data), data)
        return b"<<\n" + body + b">>"
    if isinstance(obj, ArrayObject):
        return b"[" + b" ".join(pdf_object(item, number) for item in obj) + b"]"
    stream = io.BytesIO()
    obj.write_to_stream(stream)
    return stream.getvalue()


def stream(dictionary: bytes, data: bytes) -> bytes:
    """A stream object's body: its dictionary entries (without /Length) and its data."""
    return b"<<\n%s/Length %d\n>>\nstream\n%s\nendstream" % (dictionary, len(data), data)


class Importer:
    """Takes objects over from a pypdf reader, numbering each the first time it is reached,
    depth first in reference order: the same PDF always gives the same numbers."""

    def __init__(self, first_number: int):
        self.next_number = first_number
        self.numbers: dict[tuple[int, int], int] = {}  # (id of the reader, object number) -> new number
        self.bodies: list[bytes] = []

    def number(self, reference: Any) -> int:
        key = (id(reference.pdf), reference.idnum)
        if key not in self.numbers:
            self.numbers[key] = self.next_number
            self.next_number += 1
            slot = len(self.bodies)
            self.bodies.append(b"")
            self.bodies[slot] = pdf_object(reference.get_object(), self.number)
        return self.numbers[key]

    def direct(self, obj: Any) -> bytes:
        """A direct object (a page's resources, say) as bytes, what it references taken over."""
        return pdf_object(obj, self.number)


@dataclass(frozen=True)
class Written:
    """A PDF file: what follows the shared prefix, and the SHA-256 of the whole file."""

    tail: bytes
    sha256: str


class PdfFile:
    """A PDF being written: a fixed prefix of objects (numbered from 1) shared by many files,
    then each file's own objects. Hashes of the prefix are kept, so a file that starts with it
    costs only its own objects."""

    def __init__(self, shared: Iterable[bytes]):
        prefix = bytearray(HEADER)
        self.offsets: list[int] = []
        for number, body in enumerate(shared, 1):
            self.offsets.append(len(prefix))
            prefix += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        self.prefix = bytes(prefix)
        self.prefix_hash = hashlib.sha256(self.prefix)

    @property
    def shared(self) -> int:
        return len(self.offsets)

    def file(self, bodies: list[bytes], root: int, info: int) -> Written:
        """The prefix, then ``bodies`` numbered on from it; /ID is the hash of everything before the xref."""
        offsets, tail = list(self.offsets), bytearray()
        for number, body in enumerate(bodies, self.shared + 1):
            offsets.append(len(self.prefix) + len(tail))
            tail += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        digest = self.prefix_hash.copy()
        digest.update(tail)
        file_id = digest.hexdigest()[:32].encode()
        start = len(self.prefix) + len(tail)
        tail += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
        tail += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        tail += (b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
                 % (len(offsets) + 1, root, info, file_id, file_id, start))
        digest = self.prefix_hash.copy()
        digest.update(tail)
        return Written(bytes(tail), digest.hexdigest())

    def write(self, path: Path, written: Written) -> None:
        with path.open("wb") as file:
            file.write(self.prefix)
            file.write(written.tail)
