"""A resident who moves kecamatan: their open requests follow them to the new UPTD (and the old UPTD loses
them), except a card already at a UPTD, which stays there until handed over; closed requests stay where they
were served. Moves come from the resident form (the admin's save path) and from an import."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile

from cards.models import Attachment, CardRequest, CardRequestEvent
from registry.forms import ResidentForm
from registry.importer.engine import import_residents
from registry.models import Office, Resident, ResidentImport
from registry.offices import offices_create_for_kabupaten
from registry.regions import region_codes, regions_load
from tests.conftest import DESA_B, KEC_A, KEC_B
from tests.factories import CardRequestFactory
from tests.registry.test_import import csv_text, person

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
S = CardRequest.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _attach(card_request: CardRequest) -> Attachment:
    """Test set-up: a stored attachment, written directly (the upload checks have their own tests)."""
    return Attachment.objects.create(
        card_request=card_request,
        file=ContentFile(PDF, name="surat.pdf"),
        original_name="surat.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )


def _move_through_form(resident: Resident, desa: str) -> Resident:
    """The resident form (the admin's change form) with every value as stored but the desa."""
    resident.refresh_from_db()
    data = {
        "nik": resident.nik,
        "full_name": resident.full_name,
        "birth_place": resident.birth_place,
        "birth_date": resident.birth_date.isoformat(),
        "sex": resident.sex,
        "religion": resident.religion,
        "address": resident.address,
        "rt": resident.rt,
        "rw": resident.rw,
        "desa": desa,
        "whatsapp": resident.whatsapp,
        "family": resident.family_id or "",
        "relation_to_head": resident.relation_to_head,
        "biometric_recorded": "on" if resident.biometric_recorded else "",
    }
    form = ResidentForm(data=data, instance=resident)
    assert form.is_valid(), form.errors
    return form.save()


def _opens(client, user, card_request: CardRequest, attachment: Attachment) -> tuple[int, int]:
    """(status of the request page, status of its attachment) for `user`."""
    client.force_login(user)
    page = client.get(f"/permohonan/{card_request.pk}/").status_code
    document = client.get(f"/permohonan/{card_request.pk}/lampiran/{attachment.pk}/").status_code
    return page, document


def test_an_open_request_follows_a_resident_moved_through_the_form(client, clerk, uptd_a, uptd_b, resident_a):
    card_request = CardRequestFactory(resident=resident_a, verifying=True)
    attachment = _attach(card_request)
    assert _opens(client, uptd_a, card_request, attachment) == (200, 200)
    assert _opens(client, uptd_b, card_request, attachment) == (404, 404)

    _move_through_form(resident_a, DESA_B)

    card_request.refresh_from_db()
    assert (card_request.kecamatan_id, card_request.status) == (KEC_B, S.VERIFYING)  # the status is the workflow's
    assert _opens(client, uptd_b, card_request, attachment) == (200, 200)
    assert _opens(client, uptd_a, card_request, attachment) == (404, 404)
    assert _opens(client, clerk, card_request, attachment) == (200, 200)  # the kabupaten sees both kecamatan
    (event,) = CardRequestEvent.objects.filter(card_request=card_request, action="resident_moved")
    assert "Slahung" in event.note and "Ngrayun" in event.note and event.to_status == ""
    # Saving the resident again without moving them changes nothing more.
    _move_through_form(resident_a, DESA_B)
    assert CardRequestEvent.objects.filter(action="resident_moved").count() == 1


def test_an_open_request_follows_a_resident_moved_in_the_admin(client, administrator, uptd_a, uptd_b, resident_a):
    card_request = CardRequestFactory(resident=resident_a, kind="hilang", incomplete=True)
    attachment = _attach(card_request)
    data = {
        "full_name": resident_a.full_name,
        "birth_place": resident_a.birth_place,
        "birth_date": resident_a.birth_date.isoformat(),
        "sex": resident_a.sex,
        "religion": resident_a.religion,
        "address": resident_a.address,
        "rt": resident_a.rt,
        "rw": resident_a.rw,
        "desa": DESA_B,
        "whatsapp": resident_a.whatsapp,
        "family": resident_a.family_id,
        "relation_to_head": resident_a.relation_to_head,
        "biometric_recorded": "on",
        "_save": "Simpan",
    }
    client.force_login(administrator)
    response = client.post(f"/admin/registry/resident/{resident_a.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    resident_a.refresh_from_db()
    assert resident_a.kecamatan_id == KEC_B

    card_request.refresh_from_db()
    assert (card_request.kecamatan_id, card_request.status) == (KEC_B, S.INCOMPLETE)
    assert _opens(client, uptd_b, card_request, attachment) == (200, 200)
    assert _opens(client, uptd_a, card_request, attachment) == (404, 404)


def test_a_route_3_request_not_yet_sent_is_collected_at_the_new_uptd(uptd_a, uptd_b, resident_a):
    card_request = CardRequestFactory(resident=resident_a, printed=True, uptd=True)
    assert card_request.pickup_office.region_id == KEC_A

    _move_through_form(resident_a, DESA_B)

    card_request.refresh_from_db()
    assert card_request.kecamatan_id == KEC_B
    assert card_request.pickup_office == Office.objects.get(region_id=KEC_B)
    assert "UPTD" in CardRequestEvent.objects.get(card_request=card_request, action="resident_moved").note


def test_a_card_at_a_uptd_and_a_closed_request_stay_where_they_are(client, uptd_a, uptd_b, resident_a):
    at_uptd = CardRequestFactory(resident=resident_a, kind="hilang", sent_to_uptd=True)
    handed_over = CardRequestFactory(resident=resident_a, kind="rusak", handed_over=True)
    cancelled = CardRequestFactory(resident=resident_a, kind="rusak", status=S.CANCELLED)
    documents = {r.pk: _attach(r) for r in (at_uptd, handed_over, cancelled)}

    _move_through_form(resident_a, DESA_B)

    for card_request in (at_uptd, handed_over, cancelled):
        before = (card_request.kecamatan_id, card_request.pickup_office_id, card_request.status)
        card_request.refresh_from_db()
        assert (card_request.kecamatan_id, card_request.pickup_office_id, card_request.status) == before
        assert card_request.kecamatan_id == KEC_A
        assert _opens(client, uptd_a, card_request, documents[card_request.pk]) == (200, 200)
        assert _opens(client, uptd_b, card_request, documents[card_request.pk]) == (404, 404)
    assert not CardRequestEvent.objects.filter(action="resident_moved").exists()


def test_an_open_request_follows_a_resident_moved_by_an_import(
    client, supervisor, uptd_a, uptd_b, resident_a, tmp_path
):
    card_request = CardRequestFactory(resident=resident_a, ready=True)
    attachment = _attach(card_request)
    row = person(
        1,
        NIK=resident_a.nik,
        NO_KK=resident_a.family.kk_number,
        NAMA_LGKP=resident_a.full_name,
        TGL_LHR=f"{resident_a.birth_date:%d-%m-%Y}",
        KODE_DESA=DESA_B,
    )
    path = tmp_path / "pindah.csv"
    path.write_text(csv_text([row]), encoding="utf-8")
    job = ResidentImport.objects.create(office=supervisor.office, created_by=supervisor, file_name="pindah.csv")
    job = import_residents(job, str(path))
    assert (job.status, job.rows_updated) == (ResidentImport.Status.DONE, 1), job.message

    card_request.refresh_from_db()
    assert (card_request.kecamatan_id, card_request.status) == (KEC_B, S.READY_TO_PRINT)
    assert _opens(client, uptd_b, card_request, attachment) == (200, 200)
    assert _opens(client, uptd_a, card_request, attachment) == (404, 404)
    assert CardRequestEvent.objects.get(card_request=card_request, action="resident_moved").by == supervisor


def test_a_move_to_another_kabupaten_takes_requests_not_yet_printed_and_leaves_printed_cards(ponorogo, resident_a):
    """A platform superuser moves a Ponorogo resident to Pacitan: the request still being verified goes to
    Pacitan; the card printed in Ponorogo and waiting on its shelf stays with Ponorogo, where the card is."""
    regions_load(within="35.01")
    region_codes.cache_clear()
    offices_create_for_kabupaten(kabupaten_code="35.01")
    verifying = CardRequestFactory(resident=resident_a, kind="hilang", verifying=True)
    on_the_shelf = CardRequestFactory(resident=resident_a, kind="rusak", ready_for_pickup=True, collect=True)

    _move_through_form(resident_a, "35.01.01.2001")

    verifying.refresh_from_db()
    on_the_shelf.refresh_from_db()
    assert verifying.kecamatan_id == "35.01.01"
    assert (on_the_shelf.kecamatan_id, on_the_shelf.status) == (KEC_A, S.READY_FOR_PICKUP)
    region_codes.cache_clear()
