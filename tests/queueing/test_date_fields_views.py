"""Every date field of the counter, the booking panel, the invitations and the request list reads DD-MM-YYYY
(registry/widgets.py) whatever the browser's language, shows it back that way, and a refused form comes back
bound with status 400, its error beside the field, and nothing changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cards.models import CardRequest
from queueing import invitations
from queueing.models import Booking, Closure
from tests.factories import CardRequestFactory, ResidentFactory, appointment_for, open_calendar

DAY_FIRST_ERROR = "Tulis tanggal sebagai hari-bulan-tahun, misalnya 05-01-2027."


def ambiguous_day_after(today: date) -> date:
    """The first weekday after `today` that reads as another real day month first (07-09 versus 09-07)."""
    day = today + timedelta(days=1)
    while day.weekday() >= 5 or day.day > 12 or day.day == day.month:
        day += timedelta(days=1)
    return day


def _error_beside(page: str, field_id: str) -> str:
    """The text of the field's error element, which must come after the field's input."""
    assert page.index(f'id="{field_id}"') < page.index(f'id="{field_id}_error"'), field_id
    error = page[page.index(f'id="{field_id}_error"') :]
    return error[error.index(">") + 1 : error.index("</div>")]


@pytest.fixture
def office(clerk, frozen_now):
    open_calendar(clerk.office, print_capacity=10, whatsapp=4, walk_in=3, invitation=2)
    return clerk.office


@pytest.fixture
def ready_request(office, resident_a) -> CardRequest:
    return CardRequestFactory(resident=resident_a, ready=True, counter=True)


def test_a_wished_day_typed_day_first_books_that_day(client, clerk, ready_request, frozen_today):
    day = ambiguous_day_after(frozen_today)
    client.force_login(clerk)

    response = client.post(
        f"/permohonan/{ready_request.pk}/jadwal/", {"channel": "whatsapp", "wish": day.strftime("%d/%m/%Y")}
    )

    assert response.status_code == 302
    assert Booking.objects.get(card_request=ready_request).date == day


def test_an_impossible_wished_day_comes_back_beside_the_field_and_books_nothing(client, clerk, ready_request):
    client.force_login(clerk)

    response = client.post(f"/permohonan/{ready_request.pk}/jadwal/", {"channel": "whatsapp", "wish": "31-02-2028"})

    assert response.status_code == 400
    page = response.content.decode()
    assert _error_beside(page, "id_wish") == DAY_FIRST_ERROR
    assert 'value="31-02-2028"' in page  # as typed
    assert 'data-testid="book-form"' in page
    assert not Booking.objects.filter(card_request=ready_request).exists()


def test_the_booking_form_of_another_kecamatans_request_is_still_404(client, uptd_b, ready_request):
    client.force_login(uptd_b)

    response = client.post(f"/permohonan/{ready_request.pk}/jadwal/", {"channel": "whatsapp", "wish": "31-02-2028"})

    assert response.status_code in (403, 404)
    assert not Booking.objects.exists()


def test_the_counter_offers_the_first_invitation_day_as_dd_mm_yyyy(client, clerk, office):
    first = invitations.invitation_first_day(office=office)
    client.force_login(clerk)

    page = client.get("/loket/").content.decode()

    assert f'value="{first:%d-%m-%Y}"' in page
    assert f'data-min-date="{first:%d-%m-%Y}"' in page
    assert 'type="date"' not in page


def test_an_invitation_for_an_impossible_day_comes_back_beside_the_field(client, clerk, office):
    client.force_login(clerk)

    response = client.post("/loket/undangan/", {"day": "31-02-2028"})

    assert response.status_code == 400
    page = response.content.decode()
    assert _error_beside(page, "id_invite_day") == DAY_FIRST_ERROR
    assert 'data-testid="invite-form"' in page
    assert not Booking.objects.exists()


def test_closing_a_day_without_a_reason_keeps_the_day_as_typed_and_closes_nothing(
    client, supervisor, office, frozen_today
):
    day = ambiguous_day_after(frozen_today)
    client.force_login(supervisor)

    response = client.post("/loket/tutup/", {"day": day.strftime("%d.%m.%Y"), "reason": ""})

    assert response.status_code == 400
    page = response.content.decode()
    assert _error_beside(page, "id_close_reason")
    assert 'id="id_close_day_error"' not in page  # the day was fine
    assert f'value="{day:%d.%m.%Y}"' in page
    assert not Closure.objects.filter(office=office, date=day).exists()


def test_the_invitation_list_reads_the_day_first_and_shows_it_back(client, clerk, office, frozen_today):
    day = ambiguous_day_after(frozen_today)
    client.force_login(clerk)

    for spelling in (day.strftime("%d-%m-%Y"), day.strftime("%-d/%-m/%Y"), day.isoformat()):
        response = client.get("/loket/undangan/daftar/", {"day": spelling})
        assert response.status_code == 200
        assert response.context["day"] == day, spelling
        assert f'value="{day:%d-%m-%Y}"' in response.content.decode()


def test_an_unreadable_day_on_the_invitation_list_is_a_field_error(client, clerk, office):
    client.force_login(clerk)

    response = client.get("/loket/undangan/daftar/", {"day": "31-02-2028"})

    page = response.content.decode()
    assert _error_beside(page, "id_day") == DAY_FIRST_ERROR
    assert response.context["day"] == invitations.invitation_first_day(office=office)


def test_the_request_list_filters_the_appointment_day_typed_day_first(client, clerk, office, frozen_today):
    day = ambiguous_day_after(frozen_today)
    other_day = day + timedelta(days=1) if day.weekday() < 4 else day + timedelta(days=3)
    on_day = CardRequestFactory(resident=ResidentFactory(full_name="PADA HARINYA"), ready=True, counter=True)
    on_other = CardRequestFactory(resident=ResidentFactory(full_name="HARI LAIN"), ready=True, counter=True)
    appointment_for(on_day, day=day, by=clerk)
    appointment_for(on_other, day=other_day, by=clerk)
    client.force_login(clerk)

    response = client.get("/permohonan/", {"antrean": "semua", "appointment_day": day.strftime("%d-%m-%Y")})

    page = response.content.decode()
    assert "PADA HARINYA" in page and "HARI LAIN" not in page
    assert f'value="{day:%d-%m-%Y}"' in page
    assert 'type="date"' not in page
