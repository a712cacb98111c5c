"""Real documents for tests that attach files: attachments are parsed (PDF) and re-encoded (images), so a
few bytes that only look like a PDF are refused now. Built in memory with pypdf and Pillow.

A stored PDF is pypdf's own serialisation of what was sent (cards/uploads.py); `pdf_bytes()` returns a PDF
already in that form, so a test may compare what was stored or served with what it sent.
"""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject


def pdf_bytes(
    *, pages: int = 1, javascript: str | None = None, embedded: bytes | None = None, as_stored: bool = True
) -> bytes:
    """A small valid PDF (pypdf's PdfWriter), optionally with a document-level script or an embedded file.
    as_stored: cloned and written once more, the form an accepted upload is stored in (a fixed point of the
    upload's rewrite); False gives the writer's first output, which the rewrite changes."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript is not None:  # a document-level script, run when the PDF is opened
        action = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(javascript)}
        )
        names = DictionaryObject(
            {NameObject("/Names"): ArrayObject([TextStringObject("init"), writer._add_object(action)])}
        )
        writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): names})
    if embedded is not None:
        writer.add_attachment("lampiran.html", embedded)
    data = _written(writer)
    return _written(PdfWriter(clone_from=PdfReader(io.BytesIO(data)))) if as_stored else data


def _written(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_bytes(fmt: str = "JPEG", *, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save) -> bytes:
    """A small image in `fmt` (JPEG, PNG, WEBP): a coloured rectangle, saved with `save` (e.g. exif=...)."""
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


PDF = pdf_bytes()
JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")
