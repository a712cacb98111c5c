"""The thread page's forms (templates/_field.html): a refused answer or NIK comes back on the page with its
error beside the field (status 400) and nothing is sent or linked; the answer stays as typed, a NIK is never
written back into the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from intake.inbox import ANSWER_MAX_CHARS
from intake.models import Thread
from messaging.models import Notification
from tests.intake.inbox_rows import arrive, office_number, sender


@pytest.fixture
def question(frozen_now, ponorogo):
    contact = sender(at=frozen_now - timedelta(hours=1), name="Bu Siti")
    return arrive(office_number(ponorogo), contact, at=frozen_now - timedelta(hours=1), text="KTP saya kapan jadi?")


def _error_of(page: str, field_id: str) -> str:
    assert page.index(f'id="{field_id}"') < page.index(f'id="{field_id}_error"')  # after its field
    error = page[page.index(f'id="{field_id}_error"') :]
    return error[error.index(">") + 1 : error.index("</div>")]


def test_an_answer_too_long_comes_back_as_typed_with_its_error_beside_it(client, question, clerk):
    client.force_login(clerk)
    answer = "Terima kasih. " + "x" * ANSWER_MAX_CHARS

    response = client.post(reverse("intake:thread_answer", args=[question.thread_id]), {"text": answer})

    assert response.status_code == 400
    page = response.content.decode()
    assert str(ANSWER_MAX_CHARS) in _error_of(page, "id_text")
    assert answer in page  # the clerk's text is not lost
    assert 'aria-describedby="id_text_error"' in page
    assert not Notification.objects.exists()


def test_a_wrong_nik_is_refused_beside_the_field_and_not_written_back(client, question, clerk):
    client.force_login(clerk)
    typed = "3502019999999999"

    response = client.post(reverse("intake:thread_link_resident", args=[question.thread_id]), {"nik": typed})

    assert response.status_code == 400
    page = response.content.decode()
    assert _error_of(page, "id_nik")
    assert typed not in page
    assert Thread.objects.get(pk=question.thread_id).resident is None
