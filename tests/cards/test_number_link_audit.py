"""SINKRONISASI: recording a request matches a NIK+KK pair and shows the resident's name and number, so every
match is an audited lookup (AccessLog LOOKUP): one row per request, naming the resident when the pair
matched, none when it did not (a miss is still a probe of the register), and never carrying the numbers."""

from __future__ import annotations

from django.urls import reverse

from cards.models import NumberLinkRequest
from registry.models import AccessLog

URL = reverse("cards:numberlink_list")


def _post(client, resident, *, kk_number: str):
    return client.post(
        URL,
        {
            "phone": "0812-3456-7890",
            "nik": resident.nik,
            "kk_number": kk_number,
            "purpose": "BPJS",
            "channel": "whatsapp",
        },
    )


def test_a_matching_pair_writes_exactly_one_lookup_row_naming_the_resident(client, clerk, resident_a):
    client.force_login(clerk)
    response = _post(client, resident_a, kk_number=resident_a.family.kk_number)
    assert response.status_code == 302
    link = NumberLinkRequest.objects.get()
    assert link.resident == resident_a
    (row,) = AccessLog.objects.all()
    assert (row.action, row.user, row.resident) == (AccessLog.Action.LOOKUP, clerk, resident_a)
    assert f"#{link.pk}" in row.detail and "cocok" in row.detail
    assert resident_a.nik not in row.detail and resident_a.family.kk_number not in row.detail
    assert resident_a.nik[-4:] not in row.detail  # not even a masked number
    # The list that shows the match reads what was recorded; it looks nothing up again.
    assert resident_a.full_name in client.get(URL).content.decode()
    assert AccessLog.objects.count() == 1


def test_a_pair_that_matches_nobody_writes_a_lookup_row_without_a_resident(client, clerk, resident_a, resident_b):
    client.force_login(clerk)
    _post(client, resident_a, kk_number=resident_b.nik)  # a valid number, but not resident_a's KK
    link = NumberLinkRequest.objects.get()
    assert link.resident is None
    (row,) = AccessLog.objects.all()
    assert (row.action, row.user, row.resident) == (AccessLog.Action.LOOKUP, clerk, None)
    assert "tidak cocok" in row.detail and resident_a.nik not in row.detail and resident_b.nik not in row.detail


def test_input_refused_before_any_lookup_writes_no_row(client, clerk, resident_a):
    client.force_login(clerk)
    response = client.post(
        URL, {"phone": "12", "nik": "123", "kk_number": "1" * 16, "purpose": "x", "channel": "whatsapp"}
    )
    assert response.status_code == 200
    assert not NumberLinkRequest.objects.exists()
    assert not AccessLog.objects.exists()
