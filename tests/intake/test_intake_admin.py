"""The desk's admin (issue 13, "Several numbers per office" and "Replies … from templates administrators edit"):
a kabupaten administrator manages its own offices' numbers and wording, sees what arrived for its numbers with
NIKs masked, and processes a failed payload again; nothing of another kabupaten."""

from __future__ import annotations

import pytest
from django.urls import reverse

from intake import tasks
from intake.models import InboundMessage, WebhookPayload
from messaging.messages import TEMPLATES
from messaging.models import MessageTemplate, OfficeNumber
from tests.factories import UserFactory
from tests.intake.inbox_rows import arrive, office_number, sender
from tests.other_office import clerk_of_another_kabupaten

NIK = "3502015205900002"


def _url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.fixture
def as_administrator(client, frozen_now, administrator):
    client.force_login(administrator)
    return client


@pytest.fixture
def elsewhere(ponorogo):
    """Another kabupaten's office (Trenggalek) with a number."""
    office = clerk_of_another_kabupaten().office
    return office_number(office, number="6281100077777")


def _number_post(office, **overrides) -> dict:
    data = {
        "office": office.pk, "channel": "whatsapp", "number": "62 811 0000 1234", "label": "KTP",
        "phone_number_id": "109876543210", "is_active": "on", "accepts_request": "on", "accepts_status": "on",
    }  # fmt: skip
    return data | overrides


# --- numbers --------------------------------------------------------------------------------------------------


def test_an_administrator_adds_a_number_for_its_own_office_only(as_administrator, ponorogo, elsewhere):
    response = as_administrator.post(_url(OfficeNumber, "add"), _number_post(ponorogo))
    assert response.status_code == 302
    added = OfficeNumber.objects.get(number="628110000" + "1234")
    assert (added.office, added.accepts_request, added.accepts_booking) == (ponorogo, True, False)

    response = as_administrator.post(_url(OfficeNumber, "add"), _number_post(elsewhere.office, number="628119"))
    assert response.status_code == 200
    assert "office" in response.context["adminform"].form.errors
    listed = as_administrator.get(_url(OfficeNumber, "changelist")).content.decode()
    assert added.number in listed and elsewhere.number not in listed
    assert as_administrator.get(_url(OfficeNumber, "change", elsewhere.pk)).status_code in (302, 404)


def test_a_number_is_in_the_62_format_and_a_whatsapp_number_has_its_cloud_api_id(as_administrator, ponorogo):
    response = as_administrator.post(
        _url(OfficeNumber, "add"), _number_post(ponorogo, number="0811-2345", phone_number_id="")
    )
    errors = response.context["adminform"].form.errors
    assert "number" in errors and "phone_number_id" in errors
    response = as_administrator.post(
        _url(OfficeNumber, "add"), _number_post(ponorogo, channel="sms", number="6281155566", phone_number_id="")
    )
    assert response.status_code == 302


# --- wording --------------------------------------------------------------------------------------------------


def _template_post(office, **overrides) -> dict:
    data = {"office": office.pk, "code": "request_received", "text": "Yth. {name}, permohonan {number} diterima.",
            "wa_template_name": "", "wa_template_language": "id"}  # fmt: skip
    return data | overrides


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Permohonan {nomor} diterima.", "{nomor} tidak dikenal"),
        ("Permohonan {number diterima.", "tidak berpasangan"),
        ("Hai {name.__class__}", "tidak dikenal"),
        ("Hai {0}", "{0} tidak dikenal"),
        ("Hai {name!r}", "{name!r} tidak dikenal"),
    ],
)
def test_a_placeholder_the_message_does_not_have_is_a_field_error(as_administrator, ponorogo, text, problem):
    response = as_administrator.post(_url(MessageTemplate, "add"), _template_post(ponorogo, text=text))
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors.get("text", []))
    assert problem in errors
    assert "{kind}" in errors or "kurawal" in errors  # the placeholders available are named
    assert not MessageTemplate.objects.exists()


def test_an_office_wording_is_saved_with_who_changed_it_and_shows_the_built_in_text(
    as_administrator, administrator, ponorogo, elsewhere
):
    html = as_administrator.get(_url(MessageTemplate, "add")).content.decode()
    assert all(f'value="{code}"' in html for code in ("request_received", "booking_confirmed", "request_rejected"))
    response = as_administrator.post(_url(MessageTemplate, "add"), _template_post(ponorogo))
    assert response.status_code == 302
    saved = MessageTemplate.objects.get()
    assert (saved.office, saved.updated_by) == (ponorogo, administrator)
    html = as_administrator.get(_url(MessageTemplate, "change", saved.pk)).content.decode()
    assert TEMPLATES["request_received"].split("{")[0] in html

    response = as_administrator.post(_url(MessageTemplate, "add"), _template_post(elsewhere.office))
    assert "office" in response.context["adminform"].form.errors


# --- what arrived ---------------------------------------------------------------------------------------------


@pytest.fixture
def failed_payloads(ponorogo, elsewhere):
    ours = office_number(ponorogo)
    body = '{"entry":[{"changes":[{"value":{"metadata":{"phone_number_id":"%s"},"messages":[{"text":{"body":"#STATUS#%s"}}]}}]}]}'  # noqa: E501
    mine = WebhookPayload.objects.create(
        source="whatsapp", body=body % (ours.phone_number_id, NIK), status="failed", attempts=5, error="KeyError"
    )
    theirs = WebhookPayload.objects.create(
        source="whatsapp", body=body % (elsewhere.phone_number_id, NIK), status="failed", attempts=5
    )
    return mine, theirs


def test_failed_payloads_of_the_offices_numbers_are_listed_masked_and_processed_again(
    as_administrator, failed_payloads, monkeypatch, django_capture_on_commit_callbacks
):
    mine, theirs = failed_payloads
    listed = as_administrator.get(_url(WebhookPayload, "changelist"), {"status__exact": "failed"})
    assert listed.status_code == 200
    assert list(listed.context["cl"].queryset) == [mine]
    page = as_administrator.get(_url(WebhookPayload, "change", mine.pk)).content.decode()
    assert NIK not in page and "3502************" in page
    assert as_administrator.get(_url(WebhookPayload, "change", theirs.pk)).status_code in (302, 404)

    sent = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: sent.append((task.name, args)) or True)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_administrator.post(
            _url(WebhookPayload, "changelist"),
            {"action": "process_again", "_selected_action": [mine.pk, theirs.pk], "index": 0},
        )
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.attempts) == ("pending", 0)
    assert theirs.status == "failed"  # not in the administrator's list: not touched
    assert sent == [(tasks.process_payload.name, (mine.pk,))]


def test_inbound_messages_are_read_only_and_masked(as_administrator, frozen_now, ponorogo, elsewhere):
    message = arrive(office_number(ponorogo), sender(at=frozen_now), at=frozen_now, text=f"#STATUS#{NIK}")
    foreign = arrive(elsewhere, sender(at=frozen_now), at=frozen_now, text="dari kabupaten lain")
    listed = as_administrator.get(_url(InboundMessage, "changelist")).content.decode()
    assert "#STATUS#3502************" in listed and NIK not in listed and "kabupaten lain" not in listed
    page = as_administrator.get(_url(InboundMessage, "change", message.pk)).content.decode()
    assert NIK not in page and "3502************" in page
    assert as_administrator.get(_url(InboundMessage, "add")).status_code == 403
    assert as_administrator.get(_url(InboundMessage, "change", foreign.pk)).status_code in (302, 404)


def test_a_platform_superuser_sees_every_kabupaten(client, failed_payloads, elsewhere, ponorogo):
    client.force_login(UserFactory(username="platform", is_superuser=True, is_staff=True))
    listed = client.get(_url(WebhookPayload, "changelist"))
    assert set(listed.context["cl"].queryset) == set(failed_payloads)
    assert elsewhere.number in client.get(_url(OfficeNumber, "changelist")).content.decode()
