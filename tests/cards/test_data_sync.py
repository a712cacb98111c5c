"""SINKRONISASI (cards/data_sync.py and its pages): a data-synchronisation request is opened from a message or
at the counter, checked, and synchronised or refused, the resident told at each step; one open request per
NIK (a resend points to the first, which keeps its place); a staff member's NIK+KK match is an audited lookup;
a clerk sees only their kabupaten's requests."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cards import data_sync
from cards.data_sync import DataSyncDuplicate, DataSyncInvalid, DataSyncStale
from cards.models import BiometricRecording, DataSyncRequest
from cards.workflow import CardRequestError
from messaging.models import Contact, Notification
from registry.models import AccessLog, Office, Role
from registry.roles import staff_assign_role
from tests.cards.pacitan import pacitan_clerk
from tests.factories import ResidentFactory, UserFactory

Status = DataSyncRequest.Status
LIST = reverse("cards:datasync_list")
NEW = reverse("cards:datasync_create")


@pytest.fixture
def sender(db) -> Contact:
    return Contact.objects.create(user_id="ID.123456", phone="6281311112222", whatsapp=Contact.WhatsApp.YES)


def _sent(resident, *, contact=None, kk_number=None, purpose="BPJS Kesehatan", office=None) -> DataSyncRequest:
    """A #SINKRONISASI message from `contact` (the resident wrote it: by=None)."""
    return data_sync.data_sync_open(
        office=office or _head(),
        nik=resident.nik,
        kk_number=resident.family.kk_number if kk_number is None else kk_number,
        purpose=purpose,
        channel="whatsapp",
        contact=contact,
    )


def _head() -> Office:
    return Office.objects.get(region_id="35.02")


# --- opening ------------------------------------------------------------------------------------------------


def test_a_message_opens_a_request_matched_to_the_resident_and_looks_nothing_up_for_staff(resident_a, sender):
    sync = _sent(resident_a, contact=sender, purpose="  BPJS   Kesehatan ")
    assert (sync.status, sync.resident, sync.contact, sync.phone) == (Status.RECEIVED, resident_a, sender, sender.phone)
    assert (sync.nik, sync.kk_number, sync.purpose, sync.channel) == (
        resident_a.nik, resident_a.family.kk_number, "BPJS Kesehatan", "whatsapp",
    )  # fmt: skip
    assert sync.office == _head() and sync.recorded_by is None
    assert sync.reference == f"SNK-{sync.pk:06d}"
    assert not AccessLog.objects.exists()  # the system matched it; no staff member was shown anything


def test_a_uptd_office_request_goes_to_its_kabupaten(resident_a, sender):
    uptd_office = Office.objects.get(region_id="35.02.01")
    assert _sent(resident_a, contact=sender, office=uptd_office).office == _head()


def test_a_kk_of_another_family_opens_an_unmatched_request(resident_a, resident_b, sender):
    sync = _sent(resident_a, contact=sender, kk_number=resident_b.nik)  # a valid number, not resident_a's KK
    assert sync.resident is None and sync.status == Status.RECEIVED


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("nik", {"nik": "123"}),
        ("nik", {"nik": "0001011203900001"}),  # province 00 does not exist
        ("kk_number", {"kk_number": "35020115"}),
        ("purpose", {"purpose": "   "}),
        ("phone", {"phone": "12"}),
    ],
)
def test_bad_input_is_refused_by_field_and_writes_nothing(clerk, resident_a, field, values):
    given = {"nik": resident_a.nik, "kk_number": resident_a.family.kk_number, "purpose": "BPJS"} | values
    with pytest.raises(DataSyncInvalid) as refused:
        data_sync.data_sync_open(office=clerk.office, channel="walk_in", by=clerk, **given)
    assert set(refused.value.errors) == {field}
    assert refused.value.errors[field] and all(refused.value.errors[field])
    assert not DataSyncRequest.objects.exists() and not AccessLog.objects.exists()


def test_every_problem_is_named_at_once(clerk):
    with pytest.raises(DataSyncInvalid) as refused:
        data_sync.data_sync_open(office=clerk.office, nik="1", kk_number="2", purpose="", channel="fax", by=clerk)
    assert set(refused.value.errors) == {"nik", "kk_number", "purpose", "channel"}
    assert "Keperluan" in str(refused.value) and "NIK" in str(refused.value)


def test_a_resend_points_to_the_first_which_keeps_its_place(resident_a, resident_b, sender, time_machine, frozen_now):
    first = _sent(resident_a, contact=sender)
    time_machine.shift(3600)
    # The same NIK again, later, even with another purpose and KK: the first is the answer, nothing is written.
    with pytest.raises(DataSyncDuplicate) as duplicate:
        _sent(resident_a, contact=sender, purpose="Bank BRI", kk_number=resident_b.nik)
    assert duplicate.value.existing == first
    assert first.reference in str(duplicate.value)
    assert isinstance(duplicate.value, CardRequestError)
    assert DataSyncRequest.objects.get() == first
    first.refresh_from_db()
    assert (first.received_at, first.purpose) == (frozen_now, "BPJS Kesehatan")
    # Waiting for documents is still open; once decided, a new request may be opened.
    clerk_user = staff_assign_role(user=UserFactory(), role=Role.CLERK, office=_head(), by=None)
    data_sync.data_sync_request_documents(sync_id=first.pk, by=clerk_user, note="Foto KK")
    with pytest.raises(DataSyncDuplicate):
        _sent(resident_a, contact=sender)
    data_sync.data_sync_refuse(sync_id=first.pk, by=clerk_user, reason="Tidak ada balasan")
    assert _sent(resident_a, contact=sender).pk != first.pk


def test_a_request_whose_kk_matches_nobody_does_not_hold_the_niks_place_against_the_resident(
    resident_a, resident_b, sender
):
    stranger = Contact.objects.create(phone="6281299990000", whatsapp="yes")
    blocking = _sent(resident_a, contact=stranger, kk_number=resident_b.nik)
    assert blocking.resident_id is None
    own = _sent(resident_a, contact=sender)
    assert own.resident == resident_a and own.pk != blocking.pk
    blocking.refresh_from_db()
    assert blocking.status == DataSyncRequest.Status.REFUSED
    told = Notification.objects.get(template="data_sync_refused")
    assert told.contact == stranger and "tidak cocok" in told.text
    # A matched request does hold the place: an unmatched one after it is the duplicate.
    with pytest.raises(DataSyncDuplicate):
        _sent(resident_a, contact=stranger, kk_number=resident_b.nik)


def test_the_database_holds_one_open_request_per_nik_and_its_statuses_match_the_model():
    (constraint,) = [c for c in DataSyncRequest._meta.constraints if c.name == "datasync_one_open_per_nik"]
    assert set(dict(constraint.condition.children)["status__in"]) == set(DataSyncRequest.OPEN_STATUSES)


@pytest.mark.postgres_only  # the partial unique index against two messages at the same moment
@pytest.mark.django_db(transaction=True)
def test_two_messages_at_once_open_one_request(ponorogo, resident_a, sender):
    barrier = threading.Barrier(2)
    results: list[object] = []

    def send():
        barrier.wait()
        try:
            results.append(_sent(resident_a, contact=sender))
        except DataSyncDuplicate as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (created,) = [r for r in results if isinstance(r, DataSyncRequest)]
    (duplicate,) = [r for r in results if isinstance(r, DataSyncDuplicate)]
    assert duplicate.existing.pk == created.pk == DataSyncRequest.objects.get().pk


# --- the access log -----------------------------------------------------------------------------------------


def _post(client, resident, *, kk_number: str, **extra):
    data = {"nik": resident.nik, "kk_number": kk_number, "purpose": "BPJS", "channel": "walk_in"} | extra
    return client.post(NEW, data)


def test_a_matching_pair_recorded_by_staff_writes_exactly_one_lookup_row_naming_the_resident(client, clerk, resident_a):
    client.force_login(clerk)
    response = _post(client, resident_a, kk_number=resident_a.family.kk_number)
    sync = DataSyncRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cards:datasync_detail", args=[sync.pk])
    assert (sync.resident, sync.recorded_by, sync.channel, sync.contact) == (resident_a, clerk, "walk_in", None)
    (row,) = AccessLog.objects.all()
    assert (row.action, row.user, row.resident) == (AccessLog.Action.LOOKUP, clerk, resident_a)
    assert f"#{sync.pk}" in row.detail and "cocok" in row.detail
    assert resident_a.nik not in row.detail and resident_a.family.kk_number not in row.detail
    assert resident_a.nik[-4:] not in row.detail  # not even a masked number
    # The pages that show the match read what was recorded; they look nothing up again.
    assert resident_a.full_name in client.get(LIST).content.decode()
    assert resident_a.full_name in client.get(response["Location"]).content.decode()
    assert AccessLog.objects.count() == 1


def test_a_pair_that_matches_nobody_writes_a_lookup_row_without_a_resident(client, clerk, resident_a, resident_b):
    client.force_login(clerk)
    _post(client, resident_a, kk_number=resident_b.nik)
    assert DataSyncRequest.objects.get().resident is None
    (row,) = AccessLog.objects.all()
    assert (row.action, row.user, row.resident) == (AccessLog.Action.LOOKUP, clerk, None)
    assert "tidak cocok" in row.detail and resident_a.nik not in row.detail and resident_b.nik not in row.detail


def test_the_form_shows_errors_beside_the_fields_and_looks_nothing_up(client, clerk, resident_a):
    client.force_login(clerk)
    response = _post(client, resident_a, kk_number=resident_a.family.kk_number, nik="123", purpose="")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_nik_error"' in page and 'id="id_purpose_error"' in page
    assert page.index('id="id_nik"') < page.index('id="id_nik_error"') < page.index('id="id_kk_number"')
    assert 'id="id_kk_number_error"' not in page
    assert not DataSyncRequest.objects.exists() and not AccessLog.objects.exists()


def test_a_resend_at_the_counter_goes_to_the_first_and_is_a_lookup(client, clerk, resident_a, sender):
    first = _sent(resident_a, contact=sender)
    client.force_login(clerk)
    response = _post(client, resident_a, kk_number=resident_a.family.kk_number)
    assert response["Location"] == reverse("cards:datasync_detail", args=[first.pk])
    assert DataSyncRequest.objects.get() == first
    (row,) = AccessLog.objects.all()
    assert (row.action, row.resident) == (AccessLog.Action.LOOKUP, resident_a) and f"#{first.pk}" in row.detail


# --- a clerk's steps and the messages -----------------------------------------------------------------------


def test_asking_for_documents_tells_the_contact_what_to_send(clerk, resident_a, sender):
    sync = _sent(resident_a, contact=sender)
    with pytest.raises(CardRequestError, match="dokumen"):
        data_sync.data_sync_request_documents(sync_id=sync.pk, by=clerk, note="  ")
    data_sync.data_sync_request_documents(sync_id=sync.pk, by=clerk, note="Foto KK terbaru")
    sync.refresh_from_db()
    assert (sync.status, sync.documents_note, sync.documents_requested_by) == (
        Status.DOCUMENTS_REQUESTED, "Foto KK terbaru", clerk,
    )  # fmt: skip
    (message,) = Notification.objects.all()
    assert (message.template, message.contact, message.recipient, message.resident) == (
        "data_sync_documents", sender, sender.phone, resident_a,
    )  # fmt: skip
    assert "Foto KK terbaru" in message.text and "Balas pesan ini" in message.text and sync.reference in message.text
    assert resident_a.nik not in message.text
    # Asked again (what came was not enough): a second message.
    data_sync.data_sync_request_documents(sync_id=sync.pk, by=clerk, note="Foto KTP-el")
    assert Notification.objects.filter(template="data_sync_documents").count() == 2


def test_marked_synchronised_the_resident_is_told_to_try_the_agency_again(clerk, resident_a, sender):
    sync = _sent(resident_a, contact=sender, purpose="Kartu Prakerja")
    data_sync.data_sync_mark_synchronised(sync_id=sync.pk, by=clerk, note="dikirim ulang lewat SIAK")
    sync.refresh_from_db()
    assert (sync.status, sync.decided_by, sync.note) == (Status.SYNCHRONISED, clerk, "dikirim ulang lewat SIAK")
    assert sync.decided_at is not None
    (message,) = Notification.objects.all()
    assert (message.template, message.contact) == ("data_sync_synchronised", sender)
    assert "Kartu Prakerja" in message.text and "disinkronkan" in message.text


def test_an_unmatched_request_cannot_be_synchronised(clerk, resident_a, resident_b, sender):
    sync = _sent(resident_a, contact=sender, kk_number=resident_b.nik)
    assert Status.SYNCHRONISED not in data_sync.data_sync_moves_for(sync, clerk)
    with pytest.raises(CardRequestError, match="tidak cocok"):
        data_sync.data_sync_mark_synchronised(sync_id=sync.pk, by=clerk)
    sync.refresh_from_db()
    assert sync.status == Status.RECEIVED and not Notification.objects.exists()


def test_a_refusal_needs_a_reason_which_the_resident_receives(clerk, resident_a):
    sync = data_sync.data_sync_open(
        office=clerk.office, nik=resident_a.nik, kk_number=resident_a.family.kk_number, purpose="Bansos",
        channel="walk_in", by=clerk, phone="0812-3456-7890",
    )  # fmt: skip
    with pytest.raises(CardRequestError, match="alasan"):
        data_sync.data_sync_refuse(sync_id=sync.pk, by=clerk, reason=" ")
    assert DataSyncRequest.objects.get().status == Status.RECEIVED
    data_sync.data_sync_refuse(sync_id=sync.pk, by=clerk, reason="KK belum diperbarui; bawa KK asli")
    (message,) = Notification.objects.all()
    # No contact: the number the clerk noted.
    assert (message.template, message.recipient) == ("data_sync_refused", "6281234567890")
    assert "KK belum diperbarui" in message.text


def test_without_a_contact_or_number_the_resident_is_told_at_their_own_number(clerk, resident_a):
    resident_a.whatsapp = "6285700001111"
    resident_a.save(update_fields=["whatsapp"])
    sync = data_sync.data_sync_open(
        office=clerk.office, nik=resident_a.nik, kk_number=resident_a.family.kk_number, purpose="BPJS",
        channel="walk_in", by=clerk,
    )  # fmt: skip
    data_sync.data_sync_mark_synchronised(sync_id=sync.pk, by=clerk)
    assert Notification.objects.get().recipient == "6285700001111"


def test_deciding_twice_changes_nothing_the_second_time(clerk, supervisor, resident_a, sender):
    sync = _sent(resident_a, contact=sender)
    data_sync.data_sync_mark_synchronised(sync_id=sync.pk, by=clerk, expected_status=Status.RECEIVED)
    with pytest.raises(DataSyncStale):
        data_sync.data_sync_refuse(sync_id=sync.pk, by=supervisor, reason="x", expected_status=Status.RECEIVED)
    with pytest.raises(DataSyncStale):
        data_sync.data_sync_refuse(sync_id=sync.pk, by=supervisor, reason="x")
    with pytest.raises(DataSyncStale):
        data_sync.data_sync_request_documents(sync_id=sync.pk, by=supervisor, note="KK")
    sync.refresh_from_db()
    assert (sync.status, sync.decided_by) == (Status.SYNCHRONISED, clerk)
    assert list(Notification.objects.values_list("template", flat=True)) == ["data_sync_synchronised"]


def test_a_page_shown_before_another_clerk_acted_is_stale(clerk, supervisor, resident_a, sender):
    sync = _sent(resident_a, contact=sender)
    data_sync.data_sync_request_documents(sync_id=sync.pk, by=supervisor, note="Foto KK")
    # Asking again is allowed from "waiting for documents", but not from a page that still showed "received".
    with pytest.raises(DataSyncStale, match="muat ulang"):
        data_sync.data_sync_request_documents(
            sync_id=sync.pk, by=clerk, note="Foto KK", expected_status=Status.RECEIVED
        )
    assert Notification.objects.count() == 1


# --- scope --------------------------------------------------------------------------------------------------


def test_a_pacitan_clerk_cannot_see_or_decide_ponorogos_requests(client, clerk, resident_a, sender):
    sync = _sent(resident_a, contact=sender)
    outsider = pacitan_clerk()
    assert not DataSyncRequest.objects.visible_to(outsider).exists()
    assert DataSyncRequest.objects.visible_to(clerk).get() == sync
    client.force_login(outsider)
    assert sync.reference not in client.get(LIST).content.decode()
    assert client.get(reverse("cards:datasync_detail", args=[sync.pk])).status_code == 404
    refuse = reverse("cards:datasync_refuse", args=[sync.pk])
    response = client.post(refuse, {"note": "x", "expected_status": "received"})
    assert response.status_code == 404
    with pytest.raises(CardRequestError, match="tidak ditemukan"):
        data_sync.data_sync_refuse(sync_id=sync.pk, by=outsider, reason="x")
    sync.refresh_from_db()
    assert sync.status == Status.RECEIVED and not Notification.objects.exists()


def test_staff_record_requests_only_for_their_own_kabupaten(resident_a):
    with pytest.raises(CardRequestError, match="wilayah"):
        data_sync.data_sync_open(
            office=_head(), nik=resident_a.nik, kk_number=resident_a.family.kk_number, purpose="BPJS",
            channel="walk_in", by=pacitan_clerk(),
        )  # fmt: skip
    assert not DataSyncRequest.objects.exists() and not AccessLog.objects.exists()


def test_a_uptd_operator_neither_sees_nor_decides(client, uptd_a, resident_a, sender):
    sync = _sent(resident_a, contact=sender)
    client.force_login(uptd_a)
    assert client.get(LIST).status_code == 403
    with pytest.raises(CardRequestError, match="berwenang"):
        data_sync.data_sync_mark_synchronised(sync_id=sync.pk, by=uptd_a)
    with pytest.raises(CardRequestError, match="berwenang"):
        data_sync.data_sync_open(
            office=uptd_a.office, nik=resident_a.nik, kk_number=resident_a.family.kk_number, purpose="BPJS",
            channel="walk_in", by=uptd_a,
        )  # fmt: skip


# --- the pages ----------------------------------------------------------------------------------------------


def test_the_list_shows_open_requests_oldest_first_and_the_age_of_the_oldest(
    client, clerk, resident_a, sender, time_machine, frozen_now
):
    older = _sent(resident_a, contact=sender)
    time_machine.shift(2 * 86400)
    second = ResidentFactory(desa_id=resident_a.desa_id, family=resident_a.family)
    newer = _sent(second, contact=None)
    done = _sent(ResidentFactory(desa_id=resident_a.desa_id, family=resident_a.family))
    data_sync.data_sync_refuse(sync_id=done.pk, by=clerk, reason="x")
    client.force_login(clerk)
    page = client.get(LIST).content.decode()
    table = page[page.index('data-testid="datasyncs"') :]
    assert table.index(older.reference) < table.index(newer.reference) and done.reference not in table
    oldest = page[page.index('data-testid="oldest"') :][:300]
    assert "2" in oldest and ("hari" in oldest or "day" in oldest)
    refused = client.get(LIST, {"status": "refused"}).content.decode()
    assert done.reference in refused and older.reference not in refused
    # An unknown filter falls back to the open ones.
    assert older.reference in client.get(LIST, {"status": "zzz"}).content.decode()


def test_the_list_costs_the_same_queries_whatever_the_rows(client, clerk, resident_a, sender):
    family = resident_a.family
    client.force_login(clerk)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    _sent(resident_a, contact=sender)
    few = queries()
    for _ in range(4):
        _sent(ResidentFactory(desa_id=resident_a.desa_id, family=family))
    assert queries() == few


def test_the_request_page_shows_the_checks_and_the_steps(client, clerk, resident_a, sender):
    BiometricRecording.objects.create(
        resident=resident_a, office=clerk.office, recorded_by=clerk, central_status="duplicate"
    )
    sync = _sent(resident_a, contact=sender)
    client.force_login(clerk)
    page = client.get(reverse("cards:datasync_detail", args=[sync.pk])).content.decode()
    checks = page[page.index('data-testid="sync-checks"') :]
    assert resident_a.full_name in checks and resident_a.masked_nik in checks
    central = checks[checks.index('data-testid="central-status"') :][:200]
    assert "ganda" in central.lower() or "duplicate" in central.lower()
    for step in ("sync-documents", "sync-synchronised", "sync-refuse"):
        assert f'data-testid="{step}"' in page
    assert sender.phone not in page  # the contact is shown masked


def test_the_steps_through_the_pages(client, clerk, resident_a, sender):
    sync = _sent(resident_a, contact=sender)
    client.force_login(clerk)
    detail = reverse("cards:datasync_detail", args=[sync.pk])
    documents = reverse("cards:datasync_request_documents", args=[sync.pk])
    assert client.post(documents, {"note": "Foto KK", "expected_status": "received"})["Location"] == detail
    assert DataSyncRequest.objects.get().status == Status.DOCUMENTS_REQUESTED
    # The same form posted again from the old page is stale: nothing sent twice.
    client.post(documents, {"note": "Foto KK", "expected_status": "received"})
    assert Notification.objects.count() == 1
    refuse = reverse("cards:datasync_refuse", args=[sync.pk])
    client.post(refuse, {"note": "", "expected_status": "documents_requested"})
    assert DataSyncRequest.objects.get().status == Status.DOCUMENTS_REQUESTED  # no reason, no refusal
    client.post(reverse("cards:datasync_mark_synchronised", args=[sync.pk]), {"expected_status": "documents_requested"})
    assert DataSyncRequest.objects.get().status == Status.SYNCHRONISED
    page = client.get(detail).content.decode()
    assert 'data-testid="sync-refuse"' not in page and 'data-testid="sync-synchronised"' not in page


def test_the_menu_names_it_data_synchronisation(client, clerk):
    client.force_login(clerk)
    page = client.get(LIST).content.decode()
    assert "Sinkronisasi data" in page and "Sinkronisasi WA" not in page
