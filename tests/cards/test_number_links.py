"""A clerk links a WhatsApp/SMS contact to a resident (cards/number_links.py): the contact becomes the
resident's, the resident's WhatsApp number becomes the contact's, the number that loses the resident's messages
is told, and the change is in the resident's history and the access log. Only staff of the resident's
kabupaten who may change residents."""

from __future__ import annotations

import pytest

from cards.number_links import contact_link_resident
from cards.workflow import CardRequestError
from messaging.models import Contact, Notification
from registry.models import AccessLog, ResidentChange
from tests.cards.pacitan import pacitan_clerk

OLD = "6281200001111"
NEW = "6281399998888"


@pytest.fixture
def registered(resident_a):
    """resident_a with a registered WhatsApp number."""
    resident_a.whatsapp = OLD
    resident_a.save(update_fields=["whatsapp"])
    return resident_a


@pytest.fixture
def writer(db) -> Contact:
    return Contact.objects.create(user_id="ID.writer", phone=NEW, whatsapp=Contact.WhatsApp.YES)


def test_the_contact_becomes_the_residents_and_the_old_number_is_told(clerk, registered, writer):
    contact_link_resident(contact_id=writer.pk, resident_id=registered.pk, by=clerk, client_address="10.0.0.7")
    registered.refresh_from_db()
    writer.refresh_from_db()
    assert (registered.whatsapp, writer.resident) == (NEW, registered)
    moved = Notification.objects.get(template="number_moved")
    assert (moved.recipient, moved.resident) == (OLD, registered)
    assert registered.full_name in moved.text and "tidak lagi dipakai" in moved.text
    linked = Notification.objects.get(template="number_linked")
    assert (linked.recipient, linked.contact) == (NEW, writer)
    assert Notification.objects.count() == 2
    (change,) = ResidentChange.objects.filter(resident=registered)
    assert change.changes["whatsapp"] == [OLD, NEW] and change.changes["contact"] == [None, writer.pk]
    (row,) = AccessLog.objects.all()
    assert (row.action, row.user, row.resident, row.ip_address) == (
        AccessLog.Action.LOOKUP, clerk, registered, "10.0.0.7",
    )  # fmt: skip
    assert f"#{writer.pk}" in row.detail and OLD not in row.detail and NEW not in row.detail


def test_other_contacts_of_the_resident_are_unlinked_and_told(supervisor, registered, writer):
    before = Contact.objects.create(phone=OLD, resident=registered)
    username_only = Contact.objects.create(user_id="ID.old", username="siti_lama", resident=registered)
    contact_link_resident(contact_id=writer.pk, resident_id=registered.pk, by=supervisor)
    assert list(Contact.objects.filter(resident=registered)) == [writer]
    moved = Notification.objects.filter(template="number_moved")
    # One message per address: the old number (its contact) and the username-only contact.
    assert sorted((n.contact_id, n.recipient) for n in moved) == sorted([(before.pk, OLD), (username_only.pk, "")])
    change = ResidentChange.objects.get(resident=registered).changes
    assert sorted(change["contact"][0]) == sorted([before.pk, username_only.pk])
    assert "2 kontak lain dilepas" in AccessLog.objects.get().detail


def test_a_contact_without_a_phone_is_linked_and_the_number_stays(clerk, registered):
    username_only = Contact.objects.create(user_id="ID.new", username="siti")
    contact_link_resident(contact_id=username_only.pk, resident_id=registered.pk, by=clerk)
    registered.refresh_from_db()
    assert registered.whatsapp == OLD  # nothing moved away from the registered number: it is not told
    assert not Notification.objects.filter(template="number_moved").exists()
    assert Notification.objects.get(template="number_linked").contact == username_only
    assert "whatsapp" not in ResidentChange.objects.get(resident=registered).changes


def test_linking_twice_changes_and_tells_nothing_the_second_time(clerk, registered, writer):
    contact_link_resident(contact_id=writer.pk, resident_id=registered.pk, by=clerk)
    contact_link_resident(contact_id=writer.pk, resident_id=registered.pk, by=clerk)
    assert Notification.objects.count() == 2
    assert ResidentChange.objects.filter(resident=registered).count() == 1
    assert AccessLog.objects.count() == 1


@pytest.mark.parametrize("who", ["pacitan", "uptd_a"])
def test_staff_outside_the_residents_kabupaten_or_without_the_right_cannot_link(request, registered, writer, who):
    by = pacitan_clerk() if who == "pacitan" else request.getfixturevalue(who)
    with pytest.raises(CardRequestError):
        contact_link_resident(contact_id=writer.pk, resident_id=registered.pk, by=by)
    registered.refresh_from_db()
    writer.refresh_from_db()
    assert (registered.whatsapp, writer.resident) == (OLD, None)
    assert not Notification.objects.exists() and not ResidentChange.objects.exists()
    assert not AccessLog.objects.exists()


def test_a_missing_contact_is_refused(clerk, registered):
    with pytest.raises(CardRequestError, match="Kontak"):
        contact_link_resident(contact_id=987654, resident_id=registered.pk, by=clerk)
