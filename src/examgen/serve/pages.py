"""The pages of a PDF as images, rendered by poppler's ``pdftoppm`` only where a page changed.

A page is known by the digest of what it draws (its content stream and the images and forms
it places), so a rebuild that changed one part re-renders that part's page alone, and an
image's name (its digest) changes exactly when the page does: the browser fetches only those.
pdftoppm writes raw pixels (PPM) and the PNG is made here: its own PNG encoder takes three
times as long as its rendering, zlib's fastest levels a tenth of that.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import EnvironmentProblem, ExamgenError

RESOLUTION = 80  # dots per inch: an A4 page 660 pixels wide, two side by side on a laptop's screen
PNG_LEVEL = 3  # zlib's: as fast as level 1, nearly as small as level 9 for pages of text


def page_digests(pdf: Path) -> list[str]:
    """Each page's digest: its content stream, the images and forms it places, its size."""
    from pypdf import PdfReader  # imported on first use: keeps start-up fast

    digests = []
    for page in PdfReader(pdf).pages:
        digest = hashlib.sha256(str(page.mediabox).encode())
        contents = page.get_contents()
        digest.update(contents.get_data() if contents is not None else b"")
        resources = page.get("/Resources")
        placed = resources.get_object().get("/XObject") if resources is not None else None
        for name, reference in sorted((placed.get_object() if placed is not None else {}).items()):
            digest.update(name.encode() + reference.get_object().get_data())
        digests.append(digest.hexdigest())
    return digests


def png(ppm: bytes) -> bytes:
    """A PNG of the pixels of a binary PPM (``P6``, 8 bits), each row unfiltered."""
    magic, width, height, _, pixels = ppm.split(maxsplit=4)
    if magic != b"P6":
        raise ValueError("not a binary PPM")
    columns, rows = int(width), int(height)
    stride = columns * 3
    lines = b"".join(b"\0" + pixels[row * stride:(row + 1) * stride] for row in range(rows))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", columns, rows, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlacing
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(lines, PNG_LEVEL))
            + chunk(b"IEND", b""))


def _runs(pages: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted page numbers as runs of consecutive ones: (first, last)."""
    start = previous = pages[0]
    for page in pages[1:]:
        if page != previous + 1:
            yield start, previous
            start = page
        previous = page
    yield start, previous


class PageImages:
    """The images of the pages the preview shows, in ``folder``, named by their digests."""

    def __init__(self, folder: Path, resolution: int = RESOLUTION):
        self.folder, self.resolution = folder, resolution
        self.images: dict[str, Path] = {}
        self.pages: dict[str, list[str]] = {}  # each view's page digests, in page order

    def update(self, pdfs: dict[str, Path], views: Iterable[str]) -> dict[str, list[str]]:
        """Read the views of ``pdfs`` (a view's name -> its new PDF; the others of ``views``, every
        view there is now, stand as they were) and render the pages no image shows yet; every
        view's page digests. The pdftoppm runs of all views go at once (processes, no threads);
        the images no page shows any more go."""
        digests = {view: page_digests(pdf) for view, pdf in pdfs.items()}
        runs = []
        for view, pages in digests.items():
            missing = sorted({number for number, digest in enumerate(pages, 1) if digest not in self.images})
            for first, last in _runs(missing) if missing else ():
                out = self.folder / f"{view.replace('/', '-')}-{first}"  # a variant's view: A/student
                runs.append((view, out, pages[first - 1:last], self._render(pdfs[view], out, first, last)))
        for view, out, pages, process in runs:
            self._collect(process, out, view, pages)
        wanted = set(views)
        self.pages = {view: pages for view, pages in {**self.pages, **digests}.items() if view in wanted}
        shown = {digest for pages in self.pages.values() for digest in pages}
        for digest in set(self.images) - shown:
            self.images.pop(digest).unlink(missing_ok=True)
        return dict(self.pages)

    def _render(self, pdf: Path, out: Path, first: int, last: int) -> subprocess.Popen[bytes]:
        out.mkdir(parents=True, exist_ok=True)
        try:
            return subprocess.Popen(["pdftoppm", "-r", str(self.resolution), "-f", str(first), "-l", str(last),
                                     str(pdf), str(out / "page")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise EnvironmentProblem("pdftoppm not found: install poppler-utils (`make build` installs it)") from None

    def _collect(self, process: subprocess.Popen[bytes], out: Path, view: str, digests: list[str]) -> None:
        """Name a finished run's images by their pages' digests."""
        _, error = process.communicate()
        rendered = sorted(out.glob("page-*.ppm"))  # numbered with equal widths: sorted is page order
        if process.returncode or len(rendered) != len(digests):
            shutil.rmtree(out, ignore_errors=True)
            raise ExamgenError(f"pdftoppm could not render the {view} view's pages: {error.decode(errors='replace')}")
        for pixels, digest in zip(rendered, digests):
            image = self.folder / f"{digest}.png"
            image.write_bytes(png(pixels.read_bytes()))
            self.images[digest] = image
        shutil.rmtree(out)
