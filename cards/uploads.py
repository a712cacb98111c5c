"""What a request's attachment may be, and which bytes of it are stored.

Attachments are opened by staff in a browser, so a file that is two things at once (a PDF that is also an HTML
page, a JPEG with a script after its end) must not reach the disk as sent:

- Images (JPEG, PNG, WebP) are decoded and encoded again, as JPEG or PNG, after applying the EXIF orientation:
  only the pixels survive (registry/images.py). Metadata (EXIF with GPS position and camera serial, ICC,
  comments) and anything hidden beside the pixels are gone. An image of more than MAX_IMAGE_PIXELS is refused
  before it is decoded (a decompression bomb: a few KB that decode to gigabytes), and a larger side than
  MAX_IMAGE_SIDE is scaled down.
- PDFs are parsed with pypdf and refused when they are locked, have no page, or hold active content
  (JavaScript, an action on opening, Launch, embedded files), or when they carry HTML where a browser could
  read it: an HTML/script marker in the first KB or after the last `%%EOF`, or any tag (`<` and a letter,
  `!`, `?` or `/`) in the PDF's own syntax outside its streams, where PDF has only dictionaries `<<` and
  hex strings `<48656C>`. What passes is neutralised: the stored bytes are pypdf's own serialisation of the
  document (PdfWriter cloned from the reader), so nothing the sender put before `%PDF-`, in the header
  comment, in unreferenced objects or after the last `%%EOF` survives. The price: a digital signature on
  the PDF no longer verifies (requirement documents are scans; nobody checks one). Stream contents are
  kept; the file is served only as application/pdf with nosniff and a sandboxing CSP (cards/views.py).

Every refusal names its reason in Bahasa Indonesia. The size limit is ATTACHMENT_MAX_MB (at most the table's
own 5 MB); registry/uploads.py stops a larger upload before it is stored.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from pypdf import PasswordType, PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from cards.models import Attachment
from cards.workflow import CardRequestError
from registry.images import IMAGE_TYPES, ImageRefused, image_reencode
from registry.uploads import MB, UploadTooLarge

# The image types and limits are registry/images.py's (shared with the office logo).

# Markers a browser reads as HTML or script; the HTML5 sniffing rules look for the first of them.
HTML_MARKERS = (b"<html", b"<script", b"<svg", b"<!doctype", b"<body", b"<iframe")
_HTML_MARKER = re.compile(b"|".join(re.escape(m) for m in HTML_MARKERS), re.IGNORECASE)
_STREAM_BODY = re.compile(rb"\bstream\r?\n.*?\bendstream\b", re.DOTALL)
# Outside streams, `<` opens a dictionary (`<<`) or a hex string (hex digits and white space up to `>`); a `<`
# followed by a letter, `!`, `?` or `/` that is neither is an HTML/XML tag (group 1).
_PDF_ANGLE = re.compile(rb"<<|<[0-9A-Fa-f\s]*>|(<[A-Za-z!?/])")
_PDF_VERSION = re.compile(rb"%PDF-([12]\.[0-9])\b")
PDF_HEAD = 1024
# Objects a PDF may hold before it is too involved to check (a 5 MB scan has a few hundred).
MAX_PDF_OBJECTS = 200_000
_ACTIVE_ACTION_TYPES = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE", "/RichMediaExecute"}


class AttachmentRefused(CardRequestError):
    """An upload that may not be stored; the message says why, for the clerk."""


@dataclass(frozen=True)
class CleanedAttachment:
    """The bytes to store and their type (one of Attachment.CONTENT_TYPES)."""

    content: bytes
    content_type: str


def attachment_max_bytes() -> int:
    return min(settings.ATTACHMENT_MAX_MB * MB, Attachment.MAX_BYTES)


def attachment_clean(upload: UploadedFile) -> CleanedAttachment:
    """The bytes of `upload` that may be stored: an image re-encoded without metadata, or a PDF that passed
    every check, as pypdf writes it again. Raises AttachmentRefused naming the reason. The result is kept on
    the upload, so the form and the service that both ask pay for the work once."""
    cached = getattr(upload, "_cleaned_attachment", None)
    if cached is not None:
        return cached
    if isinstance(upload, UploadTooLarge):
        raise AttachmentRefused(upload.message)
    limit = attachment_max_bytes()
    too_large = _("Berkas terlalu besar, maksimal %(mb)d MB.") % {"mb": limit // MB}
    if upload.size > limit:
        raise AttachmentRefused(too_large)
    if not upload.size:
        raise AttachmentRefused(_("Berkas kosong."))
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    if len(data) > limit:
        raise AttachmentRefused(too_large)
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else ""
    if mime in IMAGE_TYPES:
        cleaned = _image_reencoded(data, IMAGE_TYPES[mime])
        if len(cleaned.content) > limit:
            raise AttachmentRefused(too_large)
    elif data.startswith(b"%PDF-"):
        cleaned = CleanedAttachment(content=_pdf_neutralised(data), content_type="application/pdf")
        if len(cleaned.content) > limit:
            raise AttachmentRefused(too_large)
    elif b"%PDF-" in data[:PDF_HEAD]:
        raise AttachmentRefused(
            _(
                "PDF ditolak: ada data lain sebelum awal PDF (%(marker)s), tanda berkas yang menyamar. "
                "Unggah PDF aslinya."
            )
            % {"marker": "%PDF-"}
        )
    else:
        raise AttachmentRefused(
            _(
                "Isi berkas bukan PDF, JPEG, PNG atau WebP (nama berkas tidak menentukan jenisnya). "
                "Unggah dokumen yang benar."
            )
        )
    upload._cleaned_attachment = cleaned
    return cleaned


# --- images ---------------------------------------------------------------------------------------------


def _image_reencoded(data: bytes, image_format: str) -> CleanedAttachment:
    try:
        image = image_reencode(data, image_format)
    except ImageRefused as exc:
        raise AttachmentRefused(str(exc)) from exc
    return CleanedAttachment(content=image.content, content_type=image.content_type)


# --- PDFs -----------------------------------------------------------------------------------------------


def _pdf_neutralised(data: bytes) -> bytes:
    """The PDF `data` as pypdf writes it again, after refusing one that is also HTML, does not parse, has no
    page, is locked, or carries active content. The rewritten bytes are checked for HTML once more (objects
    that sat in a compressed object stream are written out in the open) and must read back with the same
    number of pages."""
    _pdf_refuse_html(data)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise AttachmentRefused(_("PDF ditolak: terkunci kata sandi. Unggah PDF yang tidak dikunci."))
        root = reader.trailer["/Root"].get_object()
        pages = len(reader.pages) if isinstance(root, DictionaryObject) else 0
        active = _pdf_active_content(reader) if pages else None
    except AttachmentRefused:
        raise
    except Exception as exc:  # pypdf raises many kinds on a broken file; each means "not a readable PDF"
        raise AttachmentRefused(
            _("Berkas bukan PDF yang utuh (tidak dapat dibaca sebagai PDF). Unggah ulang PDF aslinya.")
        ) from exc
    if not pages:
        raise AttachmentRefused(_("PDF ditolak: tidak berisi satu halaman pun."))
    if active:
        raise AttachmentRefused(
            _("PDF ditolak: berisi %(what)s, yang tidak boleh ada pada dokumen persyaratan.") % {"what": active}
        )
    rewrite_failed = _(
        "PDF ditolak: berkas tidak dapat disusun ulang dengan aman (strukturnya rusak atau tidak lazim). "
        "Simpan ulang atau pindai ulang dokumennya sebagai PDF, lalu unggah lagi."
    )
    try:
        writer = PdfWriter(clone_from=reader)
        version = _PDF_VERSION.match(data)
        # Only the version digits come from the sender; the rest of the header line is pypdf's.
        writer.pdf_header = b"%PDF-" + (version.group(1) if version else b"1.7")
        out = io.BytesIO()
        writer.write(out)
        rewritten = out.getvalue()
        same_pages = len(PdfReader(io.BytesIO(rewritten), strict=False).pages) == pages
    except Exception as exc:  # as above: any failure of pypdf means the file cannot be stored safely
        raise AttachmentRefused(rewrite_failed) from exc
    if not same_pages or rewritten[rewritten.rfind(b"%%EOF") + 5 :].strip():
        raise AttachmentRefused(rewrite_failed)
    _pdf_refuse_html(rewritten)
    return rewritten


def _pdf_refuse_html(data: bytes) -> None:
    """Refuse a PDF that carries HTML where a browser sniffs or in its own syntax outside its streams."""
    end = data.rfind(b"%%EOF")
    outside_streams = _STREAM_BODY.sub(b"", data)
    places = (
        (data[end + 5 :] if end >= 0 else b"", _("setelah akhir PDF (%(marker)s)") % {"marker": "%%EOF"}),
        (data[:PDF_HEAD], _("di awal berkas")),
        (outside_streams, _("di dalam struktur PDF")),
    )
    refused = _("PDF ditolak: berisi kode HTML/skrip (%(marker)s) %(where)s. Unggah PDF hasil pindaian atau ekspor.")
    for part, where in places:
        if match := _HTML_MARKER.search(part):
            marker = match.group(0).decode("ascii").lower() + ">"
            raise AttachmentRefused(refused % {"marker": marker, "where": where})
    for match in _PDF_ANGLE.finditer(outside_streams):
        if match.group(1):
            tag = match.group(1).decode("ascii") + "…"
            raise AttachmentRefused(refused % {"marker": tag, "where": _("di dalam struktur PDF")})


def _pdf_active_content(reader: PdfReader) -> str | None:
    """The first active content reachable from the trailer, described for the clerk, or None."""
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [reader.trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            return _("struktur yang terlalu rumit untuk diperiksa")
        if isinstance(item, DictionaryObject):
            if found := _active_in(item):
                return found
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return None


def _active_in(entry: DictionaryObject) -> str | None:
    if "/JS" in entry or "/JavaScript" in entry:
        return _("JavaScript")
    if found := _active_action(entry):
        return found
    # An OpenAction that is a destination (an array: "open at page 1") is harmless; an action dictionary is not.
    open_action = _resolved(entry.get("/OpenAction"))
    if isinstance(open_action, DictionaryObject):
        return _active_action(open_action) or _("tindakan otomatis saat dibuka (OpenAction)")
    if "/AA" in entry:
        return _("tindakan otomatis (AA)")
    if "/EmbeddedFiles" in entry or "/EF" in entry or _resolved(entry.get("/Type")) == "/EmbeddedFile":
        return _("berkas tersemat (EmbeddedFile)")
    if "/RichMedia" in entry or _resolved(entry.get("/Subtype")) == "/RichMedia":
        return _("media aktif (RichMedia)")
    return None


def _active_action(entry: DictionaryObject) -> str | None:
    action_type = _resolved(entry.get("/S"))
    if not (isinstance(action_type, NameObject) and action_type in _ACTIVE_ACTION_TYPES):
        return None
    if action_type == "/JavaScript":
        return _("JavaScript")
    if action_type == "/Launch":
        return _("perintah menjalankan program (Launch)")
    return _("tindakan aktif (%(name)s)") % {"name": action_type[1:]}


def _resolved(value: object) -> object:
    return value.get_object() if isinstance(value, IndirectObject) else value
