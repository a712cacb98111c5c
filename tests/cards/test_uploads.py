"""Attachments: images re-encoded, PDFs parsed and refused when they are also HTML or carry active content, and
an upload body cut off at its page's limit (cards/uploads.py, registry/uploads.py)."""

from __future__ import annotations

import io
import random
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import RequestFactory
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, NameObject, TextStringObject

from cards import services
from cards.models import Attachment
from cards.uploads import AttachmentRefused, attachment_clean
from registry.models import ResidentImport
from registry.uploads import MB, UploadCutOff, UploadTooLarge, upload_limit_mb
from tests.documents import JPEG, PDF, image_bytes, pdf_bytes

HTML = b"<!DOCTYPE html><html><body><script>fetch('/admin/')</script></body></html>"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def hilang(clerk, resident_a, media):
    return services.card_request_create(resident=resident_a, kind="hilang", by=clerk, channel="walk_in")


def attach(card_request, by, name: str, content: bytes) -> Attachment:
    return services.attachment_add(card_request=card_request, upload=SimpleUploadedFile(name, content), by=by)


def stored(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


def pdf_with_open_action(action: DictionaryObject | ArrayObject) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if isinstance(action, ArrayObject):
        action.insert(0, writer.pages[0].indirect_reference)
    writer._root_object[NameObject("/OpenAction")] = action
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- what still attaches ------------------------------------------------------------------------------------


def test_a_normal_pdf_jpeg_png_and_webp_attach(clerk, hilang):
    pdf = attach(hilang, clerk, "surat-polisi.pdf", PDF)
    # PDF is already in the form an accepted PDF is stored in (tests/documents.py): stored as it came
    assert pdf.content_type == "application/pdf" and stored(pdf) == PDF
    photo = attach(hilang, clerk, "foto.jpg", JPEG)
    assert photo.content_type == "image/jpeg" and Image.open(photo.file.path).size == (64, 48)
    scan = attach(hilang, clerk, "scan.png", image_bytes("PNG"))
    assert scan.content_type == "image/png"
    webp = attach(hilang, clerk, "foto.webp", image_bytes("WEBP"))
    assert webp.content_type == "image/jpeg" and stored(webp).startswith(b"\xff\xd8")
    assert webp.size == len(stored(webp))


def test_a_pdf_that_opens_at_its_first_page_is_not_active_content(clerk, hilang):
    destination = ArrayObject([NameObject("/Fit")])
    attachment = attach(hilang, clerk, "surat.pdf", pdf_with_open_action(destination))
    assert attachment.content_type == "application/pdf"


# --- polyglots and active content are refused ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (pdf_bytes(pages=12) + b"\n" + HTML, "setelah akhir PDF"),
        (HTML + b"\n" + PDF, "sebelum awal PDF"),
        (PDF.replace(b"%\xe2\xe3\xcf\xd3", b"%" + HTML, 1), "di awal berkas"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "tidak dapat dibaca sebagai PDF"),
        (pdf_bytes(pages=0), "tidak berisi satu halaman"),
        (pdf_bytes(javascript="app.launchURL('https://contoh.invalid/')"), "JavaScript"),
        (pdf_bytes(embedded=b"MZ\x90\x00" + b"\x00" * 64), "berkas tersemat"),
        (
            pdf_with_open_action(
                DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd")})
            ),
            "menjalankan program",
        ),
        (
            pdf_with_open_action(
                DictionaryObject(
                    {NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://x.invalid")}
                )
            ),
            "saat dibuka",
        ),
    ],
    ids=["html-after-eof", "html-before-pdf", "html-in-first-kb", "not-a-pdf", "no-page", "js", "embedded", "launch",
         "open-action"],
)  # fmt: skip
def test_polyglot_or_active_pdf_is_refused_with_its_reason(clerk, hilang, media, content, reason):
    with pytest.raises(AttachmentRefused, match=reason):
        attach(hilang, clerk, "surat-polisi.pdf", content)
    assert not Attachment.objects.exists()
    assert not list(media.rglob("*.*"))


def test_pdf_html_polyglot_is_refused_on_the_request_page(client, clerk, hilang, media):
    client.force_login(clerk)
    polyglot = pdf_bytes(pages=12) + HTML
    response = client.post(f"/permohonan/{hilang.pk}/lampiran/", {"file": SimpleUploadedFile("surat.pdf", polyglot)})
    assert response.status_code == 400  # the request page again, the reason beside the file field
    page = response.content.decode()
    assert "HTML/skrip" in page[page.index('id="id_file_error"') :].split("</div>")[0]
    assert not hilang.attachments.exists()


# --- what passes is stored as pypdf writes it again ---------------------------------------------------------


def clean(content: bytes) -> bytes:
    return attachment_clean(SimpleUploadedFile("surat.pdf", content)).content


def outside_streams(pdf: bytes) -> bytes:
    return re.sub(rb"\bstream\r?\n.*?\bendstream\b", b"", pdf, flags=re.DOTALL)


def _stream_object_after_the_first_kb(pdf: bytes) -> bytes:
    body = b"<html><script>alert(1)</script></html>"
    obj = b"99 0 obj\n<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream\nendobj\n"
    i = pdf.find(b"\n", 10) + 1
    return pdf[:i] + b"%" + b"A" * 1100 + b"\n" + obj + pdf[i:]


# The security review's probes: each passed the marker list before the rewrite.
_PROBE_PDF = pdf_bytes(as_stored=False)
REVIEW_PROBES = {
    "img-in-header-comment": _PROBE_PDF.replace(b"%PDF-1.3\n", b"%PDF-1.3\n%<img src=x onerror=alert(1)>\n", 1),
    "html-in-stream-after-first-kb": _stream_object_after_the_first_kb(_PROBE_PDF),
    "nul-split-script-after-eof": _PROBE_PDF + b"<scr\x00ipt>alert(1)</script>",
    "xhtml-namespace-after-eof": _PROBE_PDF + b"<a:script xmlns:a='http://www.w3.org/1999/xhtml'>alert(1)</a:script>",
}


@pytest.mark.parametrize("name", list(REVIEW_PROBES))
def test_review_polyglots_are_refused_or_neutralised(name):
    """Refused (a tag in the PDF's syntax, comments and the tail included), or stored as pypdf writes it:
    no tag outside a stream, nothing after the last %%EOF, pypdf's header line."""
    try:
        content = clean(REVIEW_PROBES[name])
    except AttachmentRefused as refusal:
        assert "HTML/skrip" in str(refusal)
        return
    assert name == "html-in-stream-after-first-kb"  # the only one whose tags sit in a stream
    assert not re.search(rb"<(script|img|html|scr|a:)", outside_streams(content), re.IGNORECASE)
    assert b"<html" not in content  # the object nothing refers to is not written at all
    assert content[content.rfind(b"%%EOF") + 5 :].strip() == b""
    assert content.split(b"\n", 2)[:2] == [b"%PDF-1.3", b"%\xe2\xe3\xcf\xd3"]


@pytest.mark.parametrize("name", ["img-in-header-comment", "nul-split-script-after-eof", "xhtml-namespace-after-eof"])
def test_a_tag_in_the_pdf_syntax_is_refused(name):
    with pytest.raises(AttachmentRefused, match="HTML/skrip .* di dalam struktur PDF"):
        clean(REVIEW_PROBES[name])


def test_an_accepted_pdf_is_rewritten_and_still_reads_with_its_pages():
    """What the sender put around the document (a header comment, bytes after %%EOF) is gone; dictionaries and
    hex strings, even one of letters only (<abcdef>), are PDF syntax and pass."""
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Surat Kehilangan"})
    writer._info.get_object()[NameObject("/Keywords")] = ByteStringObject(b"\xab\xcd\xef")
    out = io.BytesIO()
    writer.write(out)
    sent = out.getvalue().replace(b"%PDF-1.3\n", b"%PDF-1.3\n%dari pemindai kantor\n", 1) + b"\r\n\x00sisa\n"
    assert b"<abcdef>" in sent and b"<<" in sent

    content = clean(sent)

    assert content != sent and b"dari pemindai" not in content and b"sisa" not in content
    assert content.split(b"\n", 1)[0] == b"%PDF-1.3"
    assert content[content.rfind(b"%%EOF") + 5 :].strip() == b""
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 3 and reader.metadata.title == "Surat Kehilangan"
    assert clean(content) == content  # stored form is a fixed point


def test_a_pdf_that_pypdf_cannot_write_again_is_refused(monkeypatch):
    sent = pdf_bytes(as_stored=False)

    def broken_write(self, stream):
        raise ValueError("object cannot be serialised")

    monkeypatch.setattr(PdfWriter, "write", broken_write)
    with pytest.raises(AttachmentRefused, match="tidak dapat disusun ulang"):
        clean(sent)


# --- images: re-encoded, so nothing but the pixels is stored -------------------------------------------------


def test_jpeg_html_polyglot_is_neutralised_by_re_encoding(clerk, hilang):
    polyglot = image_bytes("JPEG", comment=HTML) + HTML  # the HTML in a comment segment and after the image
    assert HTML in polyglot
    attachment = attach(hilang, clerk, "foto.jpg", polyglot)
    content = stored(attachment)
    assert b"<script" not in content.lower() and b"<html" not in content.lower()
    assert Image.open(io.BytesIO(content)).size == (64, 48)
    assert attachment.size == len(content) and attachment.content_type == "image/jpeg"


def test_exif_is_applied_then_dropped(clerk, hilang):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif[0x010F] = "KameraMerek"
    exif[0x8825] = {1: "S", 2: (7.0, 52.0, 0.0)}  # GPS latitude: where the photo was taken
    photo = image_bytes("JPEG", size=(40, 20), exif=exif)
    assert b"KameraMerek" in photo
    content = stored(attach(hilang, clerk, "foto.jpg", photo))
    image = Image.open(io.BytesIO(content))
    assert image.size == (20, 40)  # turned upright before the metadata went
    assert not image.getexif() and b"KameraMerek" not in content


def test_decompression_bomb_is_refused_before_decoding(clerk, hilang):
    bomb = image_bytes("PNG", size=(8000, 6000), mode="1")  # 48 megapixels in a few KB
    assert len(bomb) < 100_000
    with pytest.raises(AttachmentRefused, match="megapiksel"):
        attach(hilang, clerk, "scan.png", bomb)
    assert not Attachment.objects.exists()


def test_truncated_image_is_refused(clerk, hilang):
    with pytest.raises(AttachmentRefused, match="Gambar rusak"):
        attach(hilang, clerk, "foto.jpg", JPEG[: len(JPEG) // 2])


# --- the upload body is cut off at the limit ---------------------------------------------------------------


@pytest.fixture
def written(monkeypatch) -> list[int]:
    """Bytes that Django's temporary-file handler wrote to disk, per chunk."""
    chunks: list[int] = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def spy(self, raw_data, start):
        chunks.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", spy)
    return chunks


def test_attachment_above_the_limit_is_cut_off_and_refused_by_the_form(client, clerk, hilang, media, written):
    limit = 5 * MB
    too_big = PDF + b"0" * (limit + MB - len(PDF))  # the limit + 1 MB
    client.force_login(clerk)
    response = client.post(f"/permohonan/{hilang.pk}/lampiran/", {"file": SimpleUploadedFile("surat.pdf", too_big)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Berkas terlalu besar, maksimal 5 MB." in page[page.index('id="id_file_error"') :].split("</div>")[0]
    assert 0 < sum(written) <= limit  # stopped at the limit, never spooled whole
    assert not hilang.attachments.exists() and not list(media.rglob("*.*"))


def test_attachment_under_the_limit_is_received_whole(client, clerk, hilang, written):
    noise = Image.frombytes("RGB", (1900, 1900), random.Random(12).randbytes(1900 * 1900 * 3))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=95)
    photo = out.getvalue()
    assert 3 * MB < len(photo) < 5 * MB  # past the in-memory size: written to a temporary file
    client.force_login(clerk)
    response = client.post(f"/permohonan/{hilang.pk}/lampiran/", {"file": SimpleUploadedFile("foto.jpg", photo)})
    assert response.status_code == 302
    assert sum(written) == len(photo)
    assert hilang.attachments.get().content_type == "image/jpeg"


def test_the_import_page_has_its_own_limit(client, supervisor, media, settings, written):
    settings.IMPORT_MAX_UPLOAD_MB = 2  # attachments keep 5 MB
    client.force_login(supervisor)
    csv = b"nik;nama\n" + b"3502011234560001;SITI\n" * (3 * MB // 22)  # 3 MB: fine for an attachment, not here
    response = client.post("/penduduk/impor/", {"file": SimpleUploadedFile("siak.csv", csv)})
    assert response.status_code == 200
    assert "Berkas terlalu besar" in response.content.decode()
    assert sum(written) <= 2 * MB
    assert not ResidentImport.objects.exists()


def test_a_cut_off_upload_cannot_be_stored_by_a_form_that_lets_it_through():
    upload = UploadTooLarge(name="siak.csv", content_type="text/csv", size=6 * MB, limit_mb=5)
    assert upload.message == "Berkas terlalu besar, maksimal 5 MB."
    with pytest.raises(UploadCutOff):
        upload.read()
    with pytest.raises(UploadCutOff):
        list(upload.chunks())


def test_upload_limit_per_page(settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1024
    settings.ATTACHMENT_MAX_MB = 5
    factory = RequestFactory()
    assert upload_limit_mb(factory.post("/penduduk/impor/")) == 1024
    assert upload_limit_mb(factory.post("/permohonan/1/lampiran/")) == 5
    assert upload_limit_mb(factory.post("/tidak-ada/")) == 5
