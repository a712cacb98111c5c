"""Card-request pages: scope, NIK handling, uploads, bulk actions, query budget, attachment downloads."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cards import services
from cards.models import Attachment, CardRequest, Requirement
from registry.models import AccessLog
from tests.documents import PDF
from tests.factories import ResidentFactory

S = CardRequest.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def request_a(uptd_a, resident_a):
    return services.card_request_create(
        resident=resident_a, kind="hilang", by=uptd_a, note="lansia, tidak bisa WhatsApp"
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_queue_defaults_per_role(client, clerk, supervisor, uptd_a, request_a):
    for user, queue in ((clerk, "verifikasi"), (supervisor, "mendesak"), (uptd_a, "semua")):
        client.force_login(user)
        assert client.get("/permohonan/").context["queue"] == queue


def test_uptd_operator_sees_only_its_kecamatan(client, uptd_a, uptd_b, request_a, resident_b, clerk):
    services.card_request_create(resident=resident_b, kind="rusak", by=clerk, channel="walk_in")
    client.force_login(uptd_b)
    page = client.get("/permohonan/?antrean=semua").content.decode()
    assert "SITI AMINAH" not in page and "BUDI SANTOSO" in page
    assert client.get(f"/permohonan/{request_a.pk}/").status_code == 404
    client.force_login(uptd_a)
    page = client.get("/permohonan/?antrean=semua").content.decode()
    assert "SITI AMINAH" in page and "BUDI SANTOSO" not in page


def test_uptd_operator_cannot_move_another_kecamatans_request(client, uptd_b, request_a):
    client.force_login(uptd_b)
    response = client.post(
        f"/permohonan/{request_a.pk}/status/", {"to_status": "cancelled", "expected_status": "received", "note": "x"}
    )
    assert response.status_code == 404
    assert CardRequest.objects.get(pk=request_a.pk).status == S.RECEIVED


def test_queue_query_budget_does_not_grow_with_rows(client, clerk, ponorogo):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/permohonan/?antrean=semua").status_code == 200
        return len(queries)

    client.force_login(clerk)
    for _ in range(2):
        services.card_request_create(resident=ResidentFactory(), kind="rusak", by=clerk, channel="walk_in")
    few = count_queries()
    for _ in range(20):
        services.card_request_create(resident=ResidentFactory(), kind="rusak", by=clerk, channel="walk_in")
    assert count_queries() == few
    assert few <= 12


def test_queue_filters(client, clerk, resident_a, resident_b):
    services.card_request_create(resident=resident_a, kind="hilang", by=clerk, channel="whatsapp")
    services.card_request_create(resident=resident_b, kind="rusak", by=clerk, channel="walk_in")
    client.force_login(clerk)
    page = client.get("/permohonan/?antrean=semua&kind=rusak").content.decode()
    assert "BUDI SANTOSO" in page and "SITI AMINAH" not in page
    page = client.get("/permohonan/?antrean=semua&kecamatan=35.02.01").content.decode()
    assert "SITI AMINAH" in page and "BUDI SANTOSO" not in page
    page = client.get("/permohonan/?antrean=semua&age=8-30").content.decode()
    assert "SITI AMINAH" not in page


def test_list_masks_the_nik(client, clerk, request_a, resident_a):
    client.force_login(clerk)
    page = client.get("/permohonan/?antrean=semua").content.decode()
    assert resident_a.masked_nik in page and resident_a.nik not in page


def test_new_request_finds_the_resident_by_posted_nik_and_logs_it(client, uptd_a, resident_a):
    client.force_login(uptd_a)
    response = client.post("/permohonan/baru/", {"nik": resident_a.nik})
    assert response.context["resident"] == resident_a
    log = AccessLog.objects.get(action=AccessLog.Action.SEARCH_NIK)
    assert log.resident == resident_a and resident_a.nik not in log.detail


def test_new_request_cannot_find_a_resident_of_another_kecamatan(client, uptd_b, resident_a):
    client.force_login(uptd_b)
    response = client.post("/permohonan/baru/", {"nik": resident_a.nik})
    assert response.context["resident"] is None
    assert "tidak ditemukan" in response.content.decode()
    assert client.get(f"/permohonan/baru/?penduduk={resident_a.pk}").status_code == 404


def test_invalid_nik_is_a_field_error(client, clerk):
    client.force_login(clerk)
    response = client.post("/permohonan/baru/", {"nik": "12345"})
    assert response.context["lookup"].errors["nik"]


def test_uptd_submits_hilang_with_the_police_report(client, uptd_a, resident_a, media):
    police = Requirement.objects.get(kind="hilang", code="surat-kehilangan")
    client.force_login(uptd_a)
    response = client.post(
        "/permohonan/baru/",
        {
            "resident": resident_a.pk,
            "kind": "hilang",
            "note": "lansia, tidak bisa WhatsApp",
            f"doc_{police.pk}": SimpleUploadedFile("laporan polisi.pdf", PDF),
        },
    )
    card_request = CardRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/permohonan/{card_request.pk}/"
    assert card_request.channel == "uptd" and card_request.submitted_by == uptd_a
    attachment = card_request.attachments.get()
    assert attachment.requirement == police and attachment.original_name == "laporan polisi.pdf"


def test_executable_renamed_pdf_is_refused_on_the_form_and_nothing_is_created(client, uptd_a, resident_a, media):
    police = Requirement.objects.get(kind="hilang", code="surat-kehilangan")
    client.force_login(uptd_a)
    response = client.post(
        "/permohonan/baru/",
        {
            "resident": resident_a.pk,
            "kind": "hilang",
            f"doc_{police.pk}": SimpleUploadedFile("surat.pdf", b"MZ\x90\x00" + b"\x00" * 100),
        },
    )
    assert response.status_code == 200
    assert "bukan PDF" in response.content.decode()
    assert not CardRequest.objects.exists() and not Attachment.objects.exists()
    assert not list(media.rglob("*.*"))


def test_attachment_download_checks_scope_logs_and_sets_headers(client, uptd_a, uptd_b, clerk, request_a):
    attachment = services.attachment_add(card_request=request_a, upload=SimpleUploadedFile("a.pdf", PDF), by=uptd_a)
    url = f"/permohonan/{request_a.pk}/lampiran/{attachment.pk}/"
    client.force_login(uptd_b)
    assert client.get(url).status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.VIEW_ATTACHMENT).exists()
    client.force_login(clerk)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    log = AccessLog.objects.get(action=AccessLog.Action.VIEW_ATTACHMENT)
    assert log.user == clerk and log.resident_id == request_a.resident_id
    # An attachment of another request is not reachable through this one.
    other = services.card_request_create(resident=request_a.resident, kind="rusak", by=clerk, channel="walk_in")
    assert client.get(f"/permohonan/{other.pk}/lampiran/{attachment.pk}/").status_code == 404


def test_transition_view_reports_a_stale_page(client, clerk, supervisor, request_a):
    services.card_request_transition(
        card_request_id=request_a.pk, to_status=S.VERIFYING, by=supervisor, expected_status=S.RECEIVED
    )
    client.force_login(clerk)
    response = client.post(
        f"/permohonan/{request_a.pk}/status/", {"to_status": "verifying", "expected_status": "received"}
    )
    assert response.status_code == 302
    assert any("baru saja diubah" in m for m in _messages(response))


def test_incomplete_from_the_page_lists_the_missing_items(client, clerk, request_a):
    client.force_login(clerk)
    client.post(f"/permohonan/{request_a.pk}/status/", {"to_status": "verifying", "expected_status": "received"})
    client.post(
        f"/permohonan/{request_a.pk}/status/",
        {"to_status": "incomplete", "expected_status": "verifying", "missing_items": "- Surat kehilangan\nFoto KK\n"},
    )
    request_a.refresh_from_db()
    assert request_a.status == S.INCOMPLETE and request_a.missing_items == ["Surat kehilangan", "Foto KK"]
    page = client.get(f"/permohonan/{request_a.pk}/").content.decode()
    assert "Surat kehilangan" in page and "BELUM LENGKAP" in page  # the pending message is on the page


def test_bulk_action_reports_refused_rows(client, clerk, request_a, resident_b):
    printed = services.card_request_create(resident=resident_b, kind="rusak", by=clerk, channel="walk_in")
    CardRequest.objects.filter(pk=printed.pk).update(status=S.PRINTED)
    client.force_login(clerk)
    response = client.post(
        "/permohonan/massal/",
        {"ids": [request_a.pk, printed.pk], "action": "verify", "next": "/permohonan/?antrean=semua"},
    )
    assert response["Location"] == "/permohonan/?antrean=semua"
    texts = _messages(response)
    assert any("1 permohonan diproses" in t for t in texts)
    assert any(printed.number in t and "Sudah dicetak" in t for t in texts)
    assert CardRequest.objects.get(pk=request_a.pk).status == S.VERIFYING


def test_bulk_action_never_redirects_off_site(client, clerk, request_a):
    client.force_login(clerk)
    response = client.post(
        "/permohonan/massal/", {"ids": [request_a.pk], "action": "verify", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/permohonan/"


def test_bulk_cancel_needs_a_reason(client, clerk, request_a):
    client.force_login(clerk)
    client.post("/permohonan/massal/", {"ids": [request_a.pk], "action": "cancel"})
    assert CardRequest.objects.get(pk=request_a.pk).status == S.RECEIVED


def test_data_sync_pages_mask_nik_and_kk(client, clerk, resident_a):
    client.force_login(clerk)
    response = client.post(
        "/sinkronisasi/baru/",
        {"nik": resident_a.nik, "kk_number": resident_a.family.kk_number, "purpose": "BPJS", "channel": "walk_in"},
    )
    assert response.status_code == 302
    for page in (client.get("/sinkronisasi/"), client.get(response["Location"])):
        text = page.content.decode()
        assert resident_a.masked_nik in text and resident_a.nik not in text
        assert resident_a.family.kk_number not in text


def test_dispatch_page_lists_printed_uptd_cards_and_uptd_confirms(client, clerk, uptd_a, resident_a):
    pemula = services.card_request_create(resident=resident_a, kind="pemula", by=uptd_a)
    CardRequest.objects.filter(pk=pemula.pk).update(status=S.PRINTED)
    client.force_login(clerk)
    assert pemula.number in client.get("/kiriman/").content.decode()
    response = client.post("/kiriman/baru/", {"uptd": uptd_a.office_id, "ids": [pemula.pk]})
    batch_url = response["Location"]
    item = CardRequest.objects.get(pk=pemula.pk).dispatch_item
    client.force_login(uptd_a)
    assert "Konfirmasi diterima" in client.get(batch_url).content.decode()
    client.post(f"{batch_url}kartu/{item.pk}/terima/")
    item.refresh_from_db()
    assert item.received_by == uptd_a


def test_uptd_filters_its_own_submissions(client, uptd_a, clerk, request_a, resident_a):
    services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    client.force_login(uptd_a)
    rows = client.get("/permohonan/?antrean=semua&mine=1").context["rows"]
    assert [r.pk for r in rows] == [request_a.pk]


def test_urgent_asked_with_proof_and_approved_from_the_pages(client, clerk, supervisor, request_a):
    client.force_login(clerk)
    client.post(
        f"/permohonan/{request_a.pk}/mendesak/",
        {"reason": "study", "note": "kuliah di Kairo", "proof": SimpleUploadedFile("loa.pdf", PDF)},
    )
    request_a.refresh_from_db()
    assert request_a.urgent_status == "requested"
    assert request_a.attachments.filter(purpose="urgent_proof").count() == 1
    client.force_login(supervisor)
    assert "urgent-decision" in client.get(f"/permohonan/{request_a.pk}/").content.decode()
    client.post(f"/permohonan/{request_a.pk}/mendesak/keputusan/", {"decision": "approve"})
    request_a.refresh_from_db()
    assert request_a.is_urgent and request_a.urgent_decided_by == supervisor


def test_biometrics_from_the_page_in_an_emergency_needs_the_checklist(client, clerk, resident_a):
    from registry.models import Office

    resident_a.biometric_recorded = False
    resident_a.save()
    Office.objects.filter(pk=clerk.office_id).update(health_emergency=True)
    pemula = services.card_request_create(resident=resident_a, kind="pemula", by=clerk, channel="walk_in")
    client.force_login(clerk)
    page = client.get("/permohonan/perekaman/").content.decode()
    assert pemula.number in page and "Keadaan darurat kesehatan" in page
    response = client.post(f"/permohonan/{pemula.pk}/perekaman/", {"checklist": ["hands_washed"]})
    assert any("mendesak" in m for m in _messages(response))
    resident_a.refresh_from_db()
    assert not resident_a.biometric_recorded


def test_handover_requirement_ticked_from_the_page(client, clerk, resident_a):
    rusak = services.card_request_create(resident=resident_a, kind="rusak", by=clerk, channel="walk_in")
    requirement = Requirement.objects.get(kind="rusak", code="ktp-lama")
    client.force_login(clerk)
    client.post(f"/permohonan/{rusak.pk}/persyaratan/", {"requirement": requirement.pk})
    assert rusak.requirement_checks.get().checked_by == clerk
    # A requirement of another kind is refused with a message.
    other = Requirement.objects.get(kind="hilang")
    response = client.post(f"/permohonan/{rusak.pk}/persyaratan/", {"requirement": other.pk})
    assert any("bukan untuk jenis" in m for m in _messages(response))
