"""A request's state in a resident's words (intake/status_text.py), for every status and route the table of
test_actions.py does not reach, in one office: what it says, its place in the print line and the expected day."""

from __future__ import annotations

from datetime import timedelta

from cards.models import CardRequest, DispatchBatch, DispatchItem
from delivery.models import Shipment
from intake.status_text import place_in_line, request_state, requests_to_describe, status_answer
from registry import clock
from registry.models import Office
from tests.dates import working_day_after
from tests.factories import CardRequestFactory, ResidentFactory, open_calendar

S = CardRequest.Status


def test_every_state_in_words(ponorogo, clerk, uptd_a, frozen_today):
    open_calendar(ponorogo, print_capacity=2, whatsapp=1, walk_in=1)
    today = frozen_today
    uptd = Office.objects.get(region_id="35.02.01")

    def state(**kw) -> str:
        return request_state(CardRequestFactory(**kw), today=today, booking_open=True)

    assert "kami kabari begitu dapat diambil" in state(status=S.PRINTED, route="collect")
    assert "diserahkan di loket" in state(status=S.PRINTED, route="counter")
    assert f"segera dikirim ke {uptd.name}" in state(status=S.PRINTED, uptd=True)
    assert "nomor resinya" in state(status=S.PRINTED, route="post")
    assert f"mulai {today:%d-%m-%Y}" in state(ready_for_pickup=True, status_changed_at=clock.now())
    assert "ditolak. Alasan: data ganda" in state(status=S.REJECTED, status_reason="data ganda")
    assert "dibatalkan. Alasan: pindah" in state(status=S.CANCELLED, status_reason="pindah")
    assert f"diserahkan pada {today:%d-%m-%Y}" in state(handed_over=True, status_changed_at=clock.now())
    assert "Kekurangannya sudah kami sampaikan" in state(incomplete=True, uptd=True)  # a UPTD submission
    assert "perekaman biometrik" in state(
        kind="pemula", resident=ResidentFactory(biometric_recorded=False), status=S.RECEIVED
    )
    young = ResidentFactory(birth_date=(today + timedelta(days=30)).replace(year=today.year - 17))
    assert "ulang tahun Anda yang ke-17" in state(kind="pemula", resident=young, ready=True)

    shipped = CardRequestFactory(shipped=True)
    Shipment.objects.create(
        card_request=shipped, office=ponorogo, tracking_number="RB123456789ID", cod_fee=9000, shipped_by=clerk
    )
    assert "nomor resi RB123456789ID" in request_state(shipped, today=today)

    sent = CardRequestFactory(sent_to_uptd=True)
    item = DispatchItem.objects.create(
        batch=DispatchBatch.objects.create(office=ponorogo, uptd=uptd, created_by=clerk), card_request=sent
    )
    assert "kami kabari begitu tiba" in request_state(sent, today=today)
    DispatchItem.objects.filter(pk=item.pk).update(received_at=clock.now(), received_by=uptd_a)
    assert f"sudah tiba di {uptd.name}" in request_state(sent, today=today)


def test_place_in_line_counts_urgent_first_then_the_oldest_and_the_estimate_follows_the_capacity(
    ponorogo, frozen_today
):
    open_calendar(ponorogo, print_capacity=2, whatsapp=1, walk_in=1)
    now = clock.now()
    old, mine, newer = (
        CardRequestFactory(ready=True, collect=True, queued_at=now - timedelta(hours=h)) for h in (3, 2, 1)
    )
    urgent = CardRequestFactory(ready=True, collect=True, urgent=True, queued_at=now)
    CardRequestFactory(verifying=True, queued_at=now - timedelta(days=9))  # not in the print line
    assert [place_in_line(cr) for cr in (urgent, old, mine, newer)] == [1, 2, 3, 4]
    # Place 3 at 2 cards a day: the second working day from now, said to be an estimate.
    text = request_state(mine, today=frozen_today)
    assert "ke-3" in text and f"sekitar {working_day_after(frozen_today, 2):%d-%m-%Y}" in text and "perkiraan" in text


def test_a_status_answer_names_each_open_request_else_the_last_closed_one(ponorogo, frozen_today):
    resident = ResidentFactory(full_name="DEWI LESTARI")
    CardRequestFactory(resident=resident, handed_over=True, kind="hilang", status_changed_at=clock.now())
    open_one = CardRequestFactory(resident=resident, verifying=True, kind="rusak")
    closed_only = ResidentFactory()
    last = CardRequestFactory(resident=closed_only, status=S.CANCELLED, status_reason="ganda", kind="pemula")
    chosen = requests_to_describe([resident.pk, closed_only.pk])
    assert chosen == [open_one, last]
    text = status_answer(chosen, today=frozen_today)
    assert f"Permohonan KTP-el {open_one.number} (rusak) atas nama DEWI LESTARI: sudah diterima dan sedang" in text
    assert f"{last.number} (pemula)" in text and "dibatalkan" in text
