"""Route 4, Pos Indonesia COD: shipped with a tracking number and the office's COD fee; delivered closes the
request as handed over by post (the courier collects the old card for rusak and ubah data), never with an
in-person attestation; a failed or returned shipment brings the card back to the office on route 2."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from cards.models import CardRequest, CardRequestEvent, Handover, RequirementCheck, Route
from cards.workflow import CardRequestError
from delivery import shipments
from delivery.models import Shipment, Suket
from delivery.services import DeliveryError
from messaging.models import Notification
from registry.models import Office
from tests.factories import CardRequestFactory
from tests.other_office import clerk_of_another_kabupaten

S = CardRequest.Status


@pytest.fixture
def other_clerk(ponorogo):
    return clerk_of_another_kabupaten()


@pytest.fixture
def printed_post(ponorogo):
    return CardRequestFactory(printed=True, post=True, kind="rusak")


def test_shipping_copies_the_office_fee_and_tells_the_resident_the_tracking_number(clerk, ponorogo, printed_post):
    Office.objects.filter(pk=ponorogo.pk).update(cod_fee=12_500)
    shipment = shipments.shipment_create(card_request_id=printed_post.pk, tracking_number=" p23-0112 3456 ", by=clerk)

    assert (shipment.tracking_number, shipment.cod_fee, shipment.status) == ("P2301123456", 12_500, "shipped")
    printed_post.refresh_from_db()
    assert printed_post.status == S.SHIPPED
    message = Notification.objects.get(card_request=printed_post, template="request_shipped")
    assert "P2301123456" in message.text and "Rp 12.500" in message.text
    event = CardRequestEvent.objects.get(card_request=printed_post, to_status=S.SHIPPED)
    assert event.by == clerk and "P2301123456" in event.note
    # The fee stays what it was when the card left, whatever the office sets later.
    Office.objects.filter(pk=ponorogo.pk).update(cod_fee=15_000)
    assert Shipment.objects.get().cod_fee == 12_500


def test_only_a_printed_route_four_card_ships_and_a_tracking_number_is_used_once(clerk, printed_post):
    with pytest.raises(DeliveryError, match="Nomor resi"):
        shipments.shipment_create(card_request_id=printed_post.pk, tracking_number="??", by=clerk)
    collect = CardRequestFactory(printed=True, collect=True)
    with pytest.raises(CardRequestError, match="bukan untuk rute ini"):
        shipments.shipment_create(card_request_id=collect.pk, tracking_number="P0000000001", by=clerk)
    ready = CardRequestFactory(ready=True, post=True)
    with pytest.raises(CardRequestError):
        shipments.shipment_create(card_request_id=ready.pk, tracking_number="P0000000001", by=clerk)
    shipments.shipment_create(card_request_id=printed_post.pk, tracking_number="P0000000001", by=clerk)
    other = CardRequestFactory(printed=True, post=True)
    with pytest.raises(DeliveryError, match="sudah dipakai"):
        shipments.shipment_create(card_request_id=other.pk, tracking_number="P0000000001", by=clerk)
    # Refused whole: the other card did not move and no message went out for it.
    other.refresh_from_db()
    assert other.status == S.PRINTED
    assert not Notification.objects.filter(card_request=other, template="request_shipped").exists()
    assert Shipment.objects.count() == 1


def test_a_uptd_operator_does_not_ship(uptd_a, printed_post):
    with pytest.raises(DeliveryError, match="petugas kabupaten"):
        shipments.shipment_create(card_request_id=printed_post.pk, tracking_number="P0000000002", by=uptd_a)


def test_delivered_by_post_closes_the_request_without_an_in_person_attestation(clerk, printed_post):
    shipment = shipments.shipment_create(card_request_id=printed_post.pk, tracking_number="P0000000003", by=clerk)
    suket = Suket.objects.create(
        card_request=printed_post, resident=printed_post.resident, office=printed_post.office, issued_by=clerk,
        valid_until=printed_post.created_at.date(), verify_code="kode-uji-1",
    )  # fmt: skip
    with pytest.raises(DeliveryError, match="KTP lama"):
        shipments.shipment_delivered(shipment_id=shipment.pk, by=clerk)

    shipments.shipment_delivered(shipment_id=shipment.pk, by=clerk, old_card_collected=True)

    printed_post.refresh_from_db()
    assert printed_post.status == S.HANDED_OVER
    handover = Handover.objects.get(card_request=printed_post)
    assert handover.method == Handover.Method.BY_POST
    assert (handover.fingerprint_verified, handover.activated, handover.old_card_collected) == (False, False, True)
    assert RequirementCheck.objects.filter(card_request=printed_post).count() == 1
    assert CardRequestEvent.objects.filter(
        card_request=printed_post, action="shipment", note__contains="kurir"
    ).exists()
    assert Notification.objects.filter(card_request=printed_post, template="request_delivered").exists()
    assert not Notification.objects.filter(card_request=printed_post, template="request_handed_over").exists()
    shipment.refresh_from_db()
    assert (shipment.status, shipment.old_card_collected, shipment.closed_by) == ("delivered", True, clerk)
    suket.refresh_from_db()
    assert suket.ended_at is not None  # closing released it
    with pytest.raises(DeliveryError, match="sudah dicatat"):
        shipments.shipment_delivered(shipment_id=shipment.pk, by=clerk, old_card_collected=True)


def test_a_hilang_card_is_delivered_without_collecting_an_old_card(clerk, ponorogo):
    hilang = CardRequestFactory(printed=True, post=True, kind="hilang")
    shipment = shipments.shipment_create(card_request_id=hilang.pk, tracking_number="P0000000004", by=clerk)
    shipments.shipment_delivered(shipment_id=shipment.pk, by=clerk)
    assert Handover.objects.get(card_request=hilang).old_card_collected is False
    assert Shipment.objects.get(pk=shipment.pk).old_card_collected is False


@pytest.mark.parametrize("outcome", ["failed", "returned"])
def test_a_card_back_from_pos_is_collected_at_the_office_on_route_two(clerk, ponorogo, printed_post, outcome):
    shipment = shipments.shipment_create(card_request_id=printed_post.pk, tracking_number="P0000000005", by=clerk)
    with pytest.raises(DeliveryError, match="alasan"):
        shipments.shipment_failed(shipment_id=shipment.pk, outcome=outcome, reason="", by=clerk)

    shipments.shipment_failed(shipment_id=shipment.pk, outcome=outcome, reason="alamat tidak ditemukan", by=clerk)

    printed_post.refresh_from_db()
    assert (printed_post.status, printed_post.route, printed_post.pickup_office) == (
        S.READY_FOR_PICKUP,
        Route.COLLECT,
        ponorogo,
    )
    message = Notification.objects.get(card_request=printed_post, template="request_returned_by_post")
    assert ponorogo.name in message.text
    shipment.refresh_from_db()
    assert (shipment.status, shipment.note) == (outcome, "alamat tidak ditemukan")
    assert not Handover.objects.filter(card_request=printed_post).exists()
    with pytest.raises(DeliveryError, match="sudah dicatat"):
        shipments.shipment_delivered(shipment_id=shipment.pk, by=clerk, old_card_collected=True)


# --- pages ----------------------------------------------------------------------------------------------


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_missing_tracking_number_comes_back_beside_its_field_and_ships_nothing(client, clerk, printed_post):
    client.force_login(clerk)

    response = client.post(f"/permohonan/{printed_post.pk}/pos/", {"tracking_number": "   "})

    assert response.status_code == 400  # the request page again, the error under the tracking number
    page = response.content.decode()
    field_at, error_at = page.index('id="id_tracking_number"'), page.index('id="id_tracking_number_error"')
    assert field_at < error_at < page.index("</form>", field_at)
    assert 'data-testid="ship-form"' in page
    assert not Shipment.objects.exists()


def test_shipment_pages_ship_deliver_and_return(client, clerk, printed_post):
    client.force_login(clerk)
    page = client.get("/pos/").content.decode()
    assert printed_post.number in page and printed_post.resident.masked_nik in page
    assert printed_post.resident.nik not in page

    response = client.post(f"/permohonan/{printed_post.pk}/pos/", {"tracking_number": "P0000000006", "next": "/pos/"})
    assert response.status_code == 302 and response["Location"] == "/pos/"
    assert Shipment.objects.get().status == "shipped"
    page = client.get("/pos/").content.decode()
    assert 'data-testid="shipment-actions"' in page and "P0000000006" in page

    response = client.post(f"/permohonan/{printed_post.pk}/pos/diterima/", {})
    assert response["Location"] == f"/permohonan/{printed_post.pk}/"
    assert any("KTP lama" in t for t in _texts(response))
    client.post(f"/permohonan/{printed_post.pk}/pos/diterima/", {"old_card_collected": "on"})
    assert Shipment.objects.get().status == "delivered"
    response = client.post(f"/permohonan/{printed_post.pk}/pos/gagal/", {"outcome": "failed", "reason": "x"})
    assert any("Tidak ada kiriman" in t for t in _texts(response))


def test_shipment_panel_on_the_request_page_offers_what_the_service_accepts(rf, clerk, uptd_a, printed_post):
    template = Template("{% load shipment %}{% shipment_panel cr %}")

    def render(user, card_request):
        request = rf.get("/")
        request.user = user
        return template.render(Context({"request": request, "cr": card_request, "csrf_token": "t"}))

    assert 'data-testid="ship"' in render(clerk, printed_post)
    assert 'data-testid="ship"' not in render(uptd_a, printed_post)
    assert render(clerk, CardRequestFactory(printed=True, collect=True)).strip() == ""
    shipments.shipment_create(card_request_id=printed_post.pk, tracking_number="P0000000007", by=clerk)
    printed_post.refresh_from_db()
    html = render(clerk, printed_post)
    assert 'data-testid="ship"' not in html and 'data-testid="shipment-delivered"' in html
    assert 'name="old_card_collected"' in html  # rusak: the courier collects the old card


def test_shipment_pages_are_scoped_to_the_office(client, other_clerk, printed_post):
    client.force_login(other_clerk)
    assert printed_post.number not in client.get("/pos/").content.decode()
    assert client.post(f"/permohonan/{printed_post.pk}/pos/", {"tracking_number": "P0000000008"}).status_code == 404
    assert client.post(f"/permohonan/{printed_post.pk}/pos/diterima/").status_code == 404
    assert client.post(f"/permohonan/{printed_post.pk}/pos/gagal/").status_code == 404
    printed_post.refresh_from_db()
    assert printed_post.status == S.PRINTED


def test_shipment_list_query_count_does_not_grow_with_rows(client, clerk):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/pos/").status_code == 200
        return len(captured.captured_queries)

    client.force_login(clerk)
    CardRequestFactory(printed=True, post=True)
    first = CardRequestFactory(printed=True, post=True)
    shipments.shipment_create(card_request_id=first.pk, tracking_number="P1000000001", by=clerk)
    few = count_queries()
    for n in range(2, 6):
        CardRequestFactory(printed=True, post=True)
        more = CardRequestFactory(printed=True, post=True)
        shipments.shipment_create(card_request_id=more.pk, tracking_number=f"P100000000{n}", by=clerk)
    assert count_queries() == few
