"""The scanned files (bundles): a PDF of scanned pages, or image files (JPEG, PNG, TIFF of one or
more pages). Each is checked whole before any page is read (a file that is neither, an encrypted
PDF: an error at the file), then its pages are handed out one at a time, as the bytes the scanner
wrote where they are an image file of their own (a JPEG inside a PDF), so that memory stays flat in
the number of pages and the image is decoded once, by the worker that reads it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Loc, ScanError

if TYPE_CHECKING:
    import pypdfium2 as pdfium

RENDER_DPI = 200  # a PDF page that is not one scanned image (a PDF of the copies themselves) is rendered so
PAGES_PER_OPENING = 16  # pages read from a PDF before it is opened again (_pdf_page_images)
PDF_MAGIC = b"%PDF-"
IMAGE_MAGIC = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png", b"II*\x00": "tif", b"MM\x00*": "tif"}


@dataclass(frozen=True)
class Bundle:
    """One scanned file: its path as given, the SHA-256 of its bytes (what it is known by in the scan's
    folder and its cache), its kind (pdf, jpg, png, tif) and its pages."""

    path: Path
    digest: str
    kind: str
    pages: int

    @property
    def stored_name(self) -> str:
        return f"{self.digest[:16]}.{self.kind}"


@dataclass(frozen=True)
class PageImage:
    """A page to read: its bundle and number (from 1), and either the bytes of an image file
    (``encoded``) or the decoded grayscale pixels (``pixels``, rows of bytes, with ``width``)."""

    bundle: str  # the bundle's digest
    number: int
    encoded: bytes | None = None
    pixels: bytes | None = None
    width: int = 0


def _kind(head: bytes) -> str | None:
    if head.startswith(PDF_MAGIC):
        return "pdf"
    return next((kind for magic, kind in IMAGE_MAGIC.items() if head.startswith(magic)), None)


def open_bundle(path: Path) -> Bundle:
    """A scanned file, checked whole: an error at the file if it cannot be read as scanned pages."""
    try:
        with open(path, "rb") as file:  # read in blocks: a bundle of a thousand pages is hundreds of MB
            kind = _kind(file.read(16))
            file.seek(0)
            digest = hashlib.file_digest(file, "sha256").hexdigest()
    except IsADirectoryError:
        raise ScanError("is a folder: give the scanned files (PDF, JPEG, PNG, TIFF)", Loc(path)) from None
    except OSError as exc:
        raise ScanError(f"cannot be read ({exc.strerror})", Loc(path)) from None
    if kind is None:
        raise ScanError("is neither a PDF nor an image (JPEG, PNG, TIFF): give the scanner's files as it wrote them",
                        Loc(path))
    if kind == "pdf":
        return Bundle(path, digest, kind, _pdf_pages(path))
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ScanError(f"is a damaged {kind.upper()} image ({exc}): scan it again", Loc(path)) from None
    return Bundle(path, digest, kind, frames)


def _pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ScanError("is an encrypted PDF: save the scan without a password (or export its pages as images) "
                            "and give that", Loc(path)) from None
        raise ScanError(f"is a damaged PDF ({exc}): scan it again, or save it again from a viewer", Loc(path)) from None
    try:
        return len(document)
    finally:
        document.close()


def pages_of(bundle: Bundle, path: Path) -> Iterator[PageImage]:
    """The bundle's pages, one at a time (``path``: where its bytes are now)."""
    if bundle.kind == "pdf":
        yield from _pdf_page_images(bundle, path)
    elif bundle.kind == "tif" and bundle.pages > 1:
        from PIL import Image

        with Image.open(path) as image:
            for index in range(bundle.pages):
                image.seek(index)
                gray = image.convert("L")
                yield PageImage(bundle.digest, index + 1, pixels=gray.tobytes(), width=gray.width)
    else:
        yield PageImage(bundle.digest, 1, encoded=path.read_bytes())


def _pdf_page_images(bundle: Bundle, path: Path) -> Iterator[PageImage]:
    """A scanned PDF's pages: a page that is one JPEG (as scanners write them) as that JPEG's bytes,
    any other page rendered to grayscale. The document is opened again every PAGES_PER_OPENING pages:
    pdfium keeps every image stream it has read until the document is closed."""
    import pypdfium2 as pdfium

    for first in range(0, bundle.pages, PAGES_PER_OPENING):
        document = pdfium.PdfDocument(path)
        try:
            for index in range(first, min(first + PAGES_PER_OPENING, bundle.pages)):
                yield pdf_page_image(bundle.digest, document, index)
        finally:
            document.close()


def pdf_page_image(digest: str, document: pdfium.PdfDocument, index: int) -> PageImage:
    """Page ``index`` (from 0) of a scanned PDF: its JPEG's bytes where it is one JPEG, else rendered."""
    import pypdfium2.raw as pdfium_c

    page = document[index]
    try:
        images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
        if len(images) == 1 and images[0].get_filters() == ["DCTDecode"]:
            return PageImage(digest, index + 1, encoded=bytes(images[0].get_data(decode_simple=False)))
        bitmap = page.render(scale=RENDER_DPI / 72, grayscale=True)
        pixels = bitmap.to_numpy()
        gray = pixels[..., 0] if pixels.ndim == 3 else pixels
        return PageImage(digest, index + 1, pixels=gray.tobytes(), width=gray.shape[1])
    finally:
        page.close()
