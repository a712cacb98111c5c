"""Who a message is from (messaging.contacts): one contact per BSUID and per number, the phone optional, the
other key filled in when it comes, a number given to someone else taken from its old holder, identity moves
that are harmless when replayed, and never a merge of two existing contacts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from messaging.contacts import (
    ContactError,
    contact_for_sms,
    contact_for_whatsapp,
    contact_number_changed,
    contact_user_id_changed,
    contact_user_id_learn,
    is_user_id,
    phone_normalized,
)
from messaging.models import Contact
from tests.dates import FROZEN_NOW

AT = FROZEN_NOW
USER = "ID.1502739184265530117"
OTHER_USER = "ID.8800112233445566778"
PHONE = "6281234567890"
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+62 812-3456-7890", PHONE),
        ("0812 3456 7890", PHONE),
        ("6281234567890", PHONE),
        ("819012345678", "819012345678"),  # a Japanese number, not an Indonesian one without its 0
        ("+972 98-765-4321", "972987654321"),
        ("93456", "93456"),  # an SMS centre's short code
        ("", ""),
        (None, ""),
    ],
)
def test_phone_numbers_are_kept_as_62_digits(raw, normalized):
    assert phone_normalized(raw) == normalized


def test_a_bsuid_is_told_from_a_phone_number():
    assert is_user_id(USER)
    assert is_user_id("US.ENT.11815799212886844830")
    assert not is_user_id(PHONE)
    assert not is_user_id("")


def test_a_new_sender_is_created_with_whatever_keys_came():
    contact = contact_for_whatsapp(user_id=USER, phone="", username="@budi_s", profile_name="Budi", at=AT)
    assert (contact.user_id, contact.phone, contact.username) == (USER, None, "budi_s")
    assert contact.whatsapp == Contact.WhatsApp.YES
    assert contact.last_whatsapp_at == AT


def test_neither_key_is_refused():
    with pytest.raises(ContactError):
        contact_for_whatsapp(user_id="", phone="", at=AT)


def test_a_username_only_sender_gets_the_number_when_it_appears():
    contact = contact_for_whatsapp(user_id=USER, phone="", at=AT)
    again = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT + timedelta(minutes=1))
    assert again.pk == contact.pk
    assert Contact.objects.get().phone == PHONE


def test_the_same_sender_by_number_then_by_bsuid_is_one_contact():
    by_number = contact_for_whatsapp(user_id="", phone=PHONE, at=AT)
    both = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    assert both.pk == by_number.pk
    assert Contact.objects.get().user_id == USER


def test_a_number_written_from_by_another_whatsapp_user_is_taken_from_its_old_holder():
    old = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    new = contact_for_whatsapp(user_id=OTHER_USER, phone=PHONE, at=AT)
    old.refresh_from_db()
    assert new.pk != old.pk
    assert (new.user_id, new.phone) == (OTHER_USER, PHONE)
    assert (old.user_id, old.phone) == (USER, None)  # keeps its history (and a clerk's link), not the number


def test_a_number_held_by_an_sms_sender_is_not_taken_by_a_username_only_contact():
    sms = contact_for_sms(phone=PHONE, at=AT)
    whatsapp = contact_for_whatsapp(user_id=USER, phone="", at=AT)
    again = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    sms.refresh_from_db()
    assert again.pk == whatsapp.pk
    assert (sms.phone, whatsapp.phone) == (PHONE, None)
    assert Contact.objects.count() == 2  # no merge


def test_an_sms_sender_who_writes_on_whatsapp_is_the_same_contact():
    sms = contact_for_sms(phone="0812 3456 7890", at=AT)
    whatsapp = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    assert whatsapp.pk == sms.pk
    assert whatsapp.whatsapp == Contact.WhatsApp.YES


def test_the_window_and_the_last_sms_never_move_backwards():
    contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT - timedelta(days=2))
    contact_for_sms(phone=PHONE, at=AT)
    contact_for_sms(phone=PHONE, at=AT - timedelta(days=2))
    contact = Contact.objects.get()
    assert (contact.last_whatsapp_at, contact.last_sms_at) == (AT, AT)


def test_user_id_changed_moves_the_bsuid_and_is_harmless_replayed():
    contact = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    moved = contact_user_id_changed(previous_user_id=USER, user_id=OTHER_USER, at=AT)
    assert moved.pk == contact.pk
    assert Contact.objects.get().user_id == OTHER_USER
    replayed = contact_user_id_changed(previous_user_id=USER, user_id=OTHER_USER, at=AT)
    assert replayed.pk == contact.pk
    assert Contact.objects.get().user_id == OTHER_USER


def test_user_id_changed_after_the_new_id_already_wrote_merges_nothing():
    old = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    new = contact_for_whatsapp(user_id=OTHER_USER, phone="", at=AT)
    assert contact_user_id_changed(previous_user_id=USER, user_id=OTHER_USER, at=AT).pk == new.pk
    old.refresh_from_db()
    assert old.user_id == USER
    assert Contact.objects.count() == 2


def test_user_id_changed_for_unknown_ids_is_none():
    assert contact_user_id_changed(previous_user_id=USER, user_id=OTHER_USER, at=AT) is None
    assert not Contact.objects.exists()


def test_number_changed_moves_the_number_even_from_another_holder():
    contact = contact_for_whatsapp(user_id=USER, phone=PHONE, at=AT)
    holder = contact_for_sms(phone="6285712345678", at=AT)
    moved = contact_number_changed(user_id=USER, previous_phone=PHONE, phone="085712345678", at=AT)
    holder.refresh_from_db()
    assert moved.pk == contact.pk
    assert Contact.objects.get(pk=contact.pk).phone == "6285712345678"
    assert holder.phone is None


def test_number_changed_finds_the_sender_by_the_old_number_and_ignores_strangers():
    contact = contact_for_whatsapp(user_id="", phone=PHONE, at=AT)
    assert contact_number_changed(user_id="", previous_phone=PHONE, phone="6285712345678", at=AT).pk == contact.pk
    assert contact_number_changed(user_id="", previous_phone="6280000000000", phone="6281111111111", at=AT) is None


def test_a_status_teaches_a_bsuid_only_to_a_contact_without_one():
    contact = contact_for_sms(phone=PHONE, at=AT)
    assert contact_user_id_learn(phone=PHONE, user_id=USER)
    assert not contact_user_id_learn(phone=PHONE, user_id=OTHER_USER)  # it has one now
    assert not contact_user_id_learn(phone="6289999999999", user_id=OTHER_USER)  # nobody has that number
    contact.refresh_from_db()
    assert contact.user_id == USER
