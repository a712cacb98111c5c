"""The inbox (issue 13, "Inbox"): threads of the office in scope, the oldest unanswered first (a resend does not
move it), claimed by one clerk at a time, answered as a reply from the number the resident wrote to (free text
inside WhatsApp's 24-hour window, the approved template outside it, SMS for SMS), a photo attached to the
resident's request in one click, and nothing of it to another kabupaten."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cards import services
from cards.models import Attachment, CardRequestEvent, Requirement
from intake import inbox
from intake.inbox import InboxError, ThreadTaken
from intake.models import Thread
from messaging.models import Notification
from registry.models import AccessLog, Role
from registry.nik import make_nik
from registry.roles import staff_assign_role
from tests.documents import JPEG
from tests.factories import ResidentFactory, UserFactory
from tests.intake.inbox_rows import arrive, office_number, sender, thread_of
from tests.other_office import clerk_of_another_kabupaten

SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


@pytest.fixture
def number(ponorogo):
    return office_number(ponorogo)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def second_clerk(ponorogo):
    user = UserFactory(username="petugas.dua", first_name="Dewi", last_name="Lestari")
    return staff_assign_role(user=user, role=Role.CLERK, office=ponorogo, by=None)


@pytest.fixture
def question(frozen_now, number):
    """A free question that arrived an hour ago, inside the WhatsApp window."""
    contact = sender(at=frozen_now - timedelta(hours=1), name="Bu Siti")
    return arrive(number, contact, at=frozen_now - timedelta(hours=1), text="Pak, KTP saya kapan jadi?")


@pytest.fixture
def photo(frozen_now, number, media_root, resident_a):
    """A photo from a sender a clerk linked to resident_a, who has an open hilang request (police letter
    missing)."""
    request = services.card_request_create(resident=resident_a, kind="hilang", by=None, channel="whatsapp")
    contact = sender(at=frozen_now - timedelta(minutes=30), resident=resident_a)
    message = arrive(
        number, contact, at=frozen_now - timedelta(minutes=30), kind="image", media=JPEG, media_name="surat.jpg"
    )
    return message, request


# --- scope --------------------------------------------------------------------------------------------------


def test_another_kabupatens_clerk_cannot_see_claim_answer_download_or_attach(client, question, photo):
    outsider = clerk_of_another_kabupaten()
    message, request = photo
    thread = question.thread
    for call in (
        lambda: inbox.thread_claim(thread_id=thread.pk, by=outsider),
        lambda: inbox.thread_answer(thread_id=thread.pk, by=outsider, text="halo"),
        lambda: inbox.message_attach(
            message_id=message.pk, card_request_id=request.pk, requirement_id=None, by=outsider
        ),
    ):
        with pytest.raises(InboxError):
            call()
    client.force_login(outsider)
    assert "Pak, KTP saya" not in client.get(reverse("intake:thread_list") + "?tampil=semua").content.decode()
    for url, method in (
        (reverse("intake:thread_detail", args=[thread.pk]), "get"),
        (reverse("intake:thread_claim", args=[thread.pk]), "post"),
        (reverse("intake:thread_answer", args=[thread.pk]), "post"),
        (reverse("intake:message_media", args=[message.pk]), "get"),
        (reverse("intake:message_attach", args=[message.pk]), "post"),
        (reverse("intake:message_reveal", args=[message.pk]), "post"),
    ):
        response = getattr(client, method)(url, {"text": "halo", "card_request": request.pk})
        assert response.status_code == 404, url
    thread.refresh_from_db()
    assert (thread.claimed_by_id, Notification.objects.filter(is_reply=True).count()) == (None, 0)
    assert not Attachment.objects.exists()


def test_a_uptd_operator_does_not_see_the_kabupatens_desk(client, question, uptd_a):
    client.force_login(uptd_a)
    page = client.get(reverse("intake:thread_list") + "?tampil=semua").content.decode()
    assert "Pak, KTP saya" not in page
    assert client.get(reverse("intake:thread_detail", args=[question.thread_id])).status_code == 404


# --- the list -----------------------------------------------------------------------------------------------


def test_the_oldest_unanswered_comes_first_and_a_resend_keeps_its_place(client, frozen_now, number, clerk):
    early, later, answered = (sender(at=frozen_now - timedelta(hours=h)) for h in (4, 3, 1))
    arrive(number, early, at=frozen_now - timedelta(hours=3, minutes=12), text="pertama")
    arrive(number, later, at=frozen_now - timedelta(hours=2), text="kedua")
    arrive(number, answered, at=frozen_now - timedelta(hours=5), text="sudah dijawab", waits=False)
    # The first sender writes again: the thread keeps the first message's place and age.
    arrive(number, early, at=frozen_now - timedelta(minutes=5), text="pertama lagi")

    client.force_login(clerk)
    response = client.get(reverse("intake:thread_list"))
    page = response.content.decode()
    assert "Pesan tertua belum dijawab:" in page and "3 jam 12 menit" in page
    previews = [row["preview"] for row in response.context["threads"]]
    assert previews == ["pertama lagi", "kedua"]  # waiting ones only, oldest first; the last message shown
    everything = client.get(reverse("intake:thread_list") + "?tampil=semua").context["threads"]
    assert [row["preview"] for row in everything] == ["pertama lagi", "kedua", "sudah dijawab"]


def test_the_list_masks_numbers_and_keeps_its_query_count(client, frozen_now, number, clerk):
    nik = "3502015205900002"
    for n in range(3):
        arrive(number, sender(at=frozen_now), at=frozen_now - timedelta(minutes=n + 1), text=f"#STATUS#{nik} ke-{n}")
    client.force_login(clerk)
    client.get(reverse("intake:thread_list"))  # session and permission caches warm

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("intake:thread_list")).content.decode()
        assert nik not in page and not SIXTEEN_DIGITS.search(page)
        assert "#STATUS#3502************ ke-0" in page
        return len(queries)

    few = count()
    for n in range(10):
        arrive(number, sender(at=frozen_now), at=frozen_now - timedelta(minutes=20 + n), text="tanya")
    assert count() == few


# --- claiming -----------------------------------------------------------------------------------------------


def test_a_second_clerk_sees_who_holds_the_thread(client, question, clerk, second_clerk):
    thread = inbox.thread_claim(thread_id=question.thread_id, by=clerk)
    assert thread.claimed_by == clerk
    assert inbox.thread_claim(thread_id=question.thread_id, by=clerk).claimed_by == clerk  # again: harmless
    with pytest.raises(ThreadTaken, match="Petugas"):
        inbox.thread_claim(thread_id=question.thread_id, by=second_clerk)
    with pytest.raises(ThreadTaken):
        inbox.thread_release(thread_id=question.thread_id, by=second_clerk)
    assert thread_of(question).claimed_by == clerk

    client.force_login(second_clerk)
    response = client.post(reverse("intake:thread_claim", args=[question.thread_id]), follow=True)
    page = response.content.decode()
    assert "sudah ditangani oleh Petugas" in page
    assert response.context["thread"].claimed_by == clerk

    inbox.thread_release(thread_id=question.thread_id, by=clerk)
    assert inbox.thread_claim(thread_id=question.thread_id, by=second_clerk).claimed_by == second_clerk


@pytest.mark.postgres_only  # two clerks at the same moment: the compare-and-set decides
@pytest.mark.django_db(transaction=True)
def test_two_clerks_claiming_at_once_one_holds_the_thread(frozen_now, number, clerk, second_clerk):
    message = arrive(number, sender(at=frozen_now), at=frozen_now - timedelta(minutes=5), text="halo")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(user):
        barrier.wait()
        try:
            inbox.thread_claim(thread_id=message.thread_id, by=user)
            outcomes[user.username] = "holds"
        except ThreadTaken:
            outcomes[user.username] = "refused"
        finally:
            connection.close()

    workers = [threading.Thread(target=claim, args=(user,)) for user in (clerk, second_clerk)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes.values()) == ["holds", "refused"]
    (holder,) = [name for name, outcome in outcomes.items() if outcome == "holds"]
    assert thread_of(message).claimed_by.username == holder


def test_a_supervisor_may_release_a_clerks_thread(question, clerk, supervisor):
    inbox.thread_claim(thread_id=question.thread_id, by=clerk)
    assert inbox.thread_release(thread_id=question.thread_id, by=supervisor).claimed_by is None


# --- answering ----------------------------------------------------------------------------------------------


def test_an_answer_inside_the_window_is_a_free_text_reply_from_the_number_written_to(
    client, frozen_now, question, number, clerk
):
    client.force_login(clerk)
    page = client.get(reverse("intake:thread_detail", args=[question.thread_id])).content.decode()
    assert "Dalam jendela 24 jam WhatsApp" in page

    response = client.post(
        reverse("intake:thread_answer", args=[question.thread_id]), {"text": "  Sudah jadi, Bu. Ambil besok.  "}
    )
    assert response.status_code == 302
    reply = Notification.objects.get()
    assert (reply.is_reply, reply.channel, reply.template) == (True, "whatsapp", "inbox_answer")
    assert (reply.contact_id, reply.sender_number, reply.office_id) == (question.contact_id, number, number.office_id)
    assert reply.text.startswith("Sudah jadi, Bu. Ambil besok.")
    thread = thread_of(question)
    assert (thread.waiting_since, thread.claimed_by) == (None, clerk)
    question.refresh_from_db()
    assert (question.answered_at, question.reply) == (frozen_now, reply)
    page = client.get(reverse("intake:thread_detail", args=[question.thread_id])).content.decode()
    assert "Sudah jadi, Bu. Ambil besok." in page and "Sudah dijawab" in page


def test_an_answer_leaves_a_message_that_came_while_the_clerk_typed_waiting(
    client, frozen_now, question, number, clerk
):
    client.force_login(clerk)
    page = client.get(reverse("intake:thread_detail", args=[question.thread_id])).content.decode()
    seen = re.search(r'name="seen_up_to" value="(\d+)"', page).group(1)
    later = arrive(number, question.contact, at=frozen_now - timedelta(minutes=1), text="Halo? Masih ada orang?")

    client.post(reverse("intake:thread_answer", args=[question.thread_id]), {"text": "Sudah jadi.", "seen_up_to": seen})

    question.refresh_from_db()
    later.refresh_from_db()
    assert question.answered_at == frozen_now and later.answered_at is None
    assert thread_of(question).waiting_since == later.sent_at


def test_outside_the_window_the_page_says_the_template_carries_the_answer(client, frozen_now, number, clerk):
    stale = sender(at=frozen_now - timedelta(hours=30))
    message = arrive(number, stale, at=frozen_now - timedelta(hours=30), text="halo?")
    client.force_login(clerk)
    page = client.get(reverse("intake:thread_detail", args=[message.thread_id])).content.decode()
    assert "Di luar jendela 24 jam WhatsApp" in page
    reply = inbox.thread_answer(thread_id=message.thread_id, by=clerk, text="Maaf terlambat.")
    assert (reply.is_reply, reply.channel, reply.sender_number) == (True, "whatsapp", number)
    assert reply.text.startswith("Maaf terlambat.")


def test_an_sms_thread_is_answered_by_sms(client, frozen_now, ponorogo, clerk):
    centre = office_number(ponorogo, channel="sms")
    texter = sender(at=frozen_now - timedelta(days=3), whatsapp="no")
    message = arrive(centre, texter, at=frozen_now - timedelta(days=3), text="ktp sy blm jadi")
    client.force_login(clerk)
    assert (
        "Dikirim lewat SMS." in client.get(reverse("intake:thread_detail", args=[message.thread_id])).content.decode()
    )
    reply = inbox.thread_answer(thread_id=message.thread_id, by=clerk, text="Sedang dicetak.")
    assert (reply.channel, reply.recipient, reply.sender_number) == ("sms", texter.phone, centre)


def test_an_empty_answer_or_one_behind_the_holders_back_is_refused(question, clerk, second_clerk):
    with pytest.raises(InboxError, match="Tulis jawabannya"):
        inbox.thread_answer(thread_id=question.thread_id, by=clerk, text="   ")
    inbox.thread_claim(thread_id=question.thread_id, by=clerk)
    with pytest.raises(ThreadTaken, match="Petugas"):
        inbox.thread_answer(thread_id=question.thread_id, by=second_clerk, text="Saya jawab saja")
    assert not Notification.objects.exists()
    assert thread_of(question).waiting_since == question.sent_at


# --- attaching a photo to the request -----------------------------------------------------------------------


def test_a_photo_is_attached_to_the_residents_request_once(client, photo, clerk):
    message, request = photo
    police = Requirement.objects.get(kind="hilang", code="surat-kehilangan")
    client.force_login(clerk)
    page = client.get(reverse("intake:thread_detail", args=[message.thread_id])).content.decode()
    assert f"Lampirkan ke {request.number}" in page

    response = client.post(
        reverse("intake:message_attach", args=[message.pk]),
        {"card_request": request.pk, "requirement": police.pk},
        follow=True,
    )
    assert f"Dilampirkan ke permohonan {request.number}" in response.content.decode()
    attachment = Attachment.objects.get()
    assert (attachment.card_request, attachment.requirement, attachment.uploaded_by) == (request, police, clerk)
    assert attachment.content_type == "image/jpeg" and attachment.original_name.endswith(f"(pesan #{message.pk})")
    assert request.events.filter(action=CardRequestEvent.Action.ATTACHMENT, by=clerk).exists()
    assert f"Lampirkan ke {request.number}" not in response.content.decode()

    with pytest.raises(InboxError, match="sudah dilampirkan"):
        inbox.message_attach(message_id=message.pk, card_request_id=request.pk, requirement_id=police.pk, by=clerk)
    assert Attachment.objects.count() == 1


def test_the_one_click_attach_refuses_a_request_that_is_not_the_senders(photo, clerk, resident_b):
    message, _request = photo
    strangers = services.card_request_create(resident=resident_b, kind="rusak", by=None, channel="whatsapp")
    with pytest.raises(InboxError, match="bukan milik pengirim"):
        inbox.message_attach(message_id=message.pk, card_request_id=strangers.pk, requirement_id=None, by=clerk)
    outsider = clerk_of_another_kabupaten()
    elsewhere = services.card_request_create(
        resident=ResidentFactory(desa_id="35.02.02.2001"), kind="rusak", by=None, channel="whatsapp"
    )
    with pytest.raises(InboxError):
        inbox.message_attach(message_id=message.pk, card_request_id=elsewhere.pk, requirement_id=None, by=outsider)
    assert not Attachment.objects.exists()


def test_the_media_download_is_for_staff_in_scope_and_audited(client, photo, clerk, resident_a):
    message, _request = photo
    client.force_login(clerk)
    response = client.get(reverse("intake:message_media", args=[message.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == JPEG
    assert response["Content-Type"] == "image/jpeg" and response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    row = AccessLog.objects.get(action=AccessLog.Action.VIEW_ATTACHMENT)
    assert (row.user, row.resident) == (clerk, resident_a)
    assert str(message.pk) in row.detail


# --- what a resident typed ----------------------------------------------------------------------------------


def test_a_nik_in_a_message_is_masked_and_revealed_only_through_the_log(client, frozen_now, number, clerk):
    nik = "3502015205900002"
    message = arrive(number, sender(at=frozen_now), at=frozen_now, text=f"#STATUS#{nik[:8]} {nik[8:]}")
    client.force_login(clerk)
    page = client.get(reverse("intake:thread_detail", args=[message.thread_id])).content.decode()
    assert nik[8:] not in page and "3502************" in page
    assert not AccessLog.objects.exists()
    response = client.post(reverse("intake:message_reveal", args=[message.pk]), HTTP_HX_REQUEST="true")
    assert f"{nik[:8]} {nik[8:]}" in response.content.decode()
    row = AccessLog.objects.get()
    assert (row.user, row.action) == (clerk, AccessLog.Action.REVEAL_NIK)


def test_the_sender_is_linked_to_a_resident_by_a_posted_nik(client, question, clerk, resident_a):
    client.force_login(clerk)
    response = client.post(
        reverse("intake:thread_link_resident", args=[question.thread_id]), {"nik": resident_a.nik}, follow=True
    )
    assert f"dihubungkan dengan {resident_a.full_name}" in response.content.decode()
    assert Thread.objects.get(pk=question.thread_id).resident == resident_a
    question.contact.refresh_from_db()
    assert question.contact.resident == resident_a
    search = AccessLog.objects.filter(action=AccessLog.Action.SEARCH_NIK).get()
    assert search.resident == resident_a and resident_a.nik not in search.detail


def test_a_nik_not_in_the_scope_links_nobody_and_the_search_is_logged(client, question, clerk):
    unknown = make_nik(kecamatan_code="35.02.01", birth_date=date(1980, 1, 2), sex="L", serial=4321)
    client.force_login(clerk)
    response = client.post(reverse("intake:thread_link_resident", args=[question.thread_id]), {"nik": unknown})
    assert response.status_code == 302
    assert Thread.objects.get(pk=question.thread_id).resident is None
    search = AccessLog.objects.get(action=AccessLog.Action.SEARCH_NIK)
    assert search.resident is None and unknown not in search.detail
