"""Who writes to the office: one `Contact` per WhatsApp user (keyed by the business-scoped user id, the BSUID,
with the phone number optional) or SMS sender (a phone number).

Identity rules (no merges: a merge would move threads, messages and a clerk's resident link behind their back):
- The BSUID is the key. A message from a known BSUID is that contact, whatever number it now comes with.
- A phone number belongs to whoever WhatsApp says holds it now. When a *different* WhatsApp user (another
  BSUID) writes from a number an older contact held, the number was given to someone else: the old contact
  loses it (keeping its history and resident link) and the new user gets a contact of their own. A
  number held by a contact without a BSUID (an SMS sender, or a WhatsApp contact from before BSUIDs) is never
  taken from it by an ordinary message: both rows stay, as two contacts.
- `user_changed_user_id` moves the BSUID to its new value; `user_changed_number` moves the number. Both are
  harmless when replayed.

Both unique constraints (user_id, phone) can be raced by two workers creating the same sender at once: each
function runs in a savepoint and tries again after an IntegrityError, when the other worker's row is there.

This app is the lowest layer: it imports no project app and reads no clock (`at` is the caller's instant).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from django.db import IntegrityError, transaction

from messaging.models import Contact

_T = TypeVar("_T")
_NOT_DIGIT = re.compile(r"[^0-9]")
# A BSUID: a two-letter country code, a dot, then letters and digits (`ID.1502…`, parent ids `US.ENT.…`).
_BSUID = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9.]{1,150}$")
ATTEMPTS = 3


class ContactError(ValueError):
    """A contact cannot be found or made from what was given (no user id and no number)."""


def phone_normalized(raw: str | None) -> str:
    """A phone number as contacts keep it: digits only, with the country code; '' when there are none.
    "+62 812-3456-7890", "0812 3456 7890" and "6281234567890" are the same number (a national number, with
    its leading 0, is Indonesian). Short codes (an SMS centre's 5-digit number) stay as they are. A number
    without 0 or country code is left alone: "81…" is also Japan's country code."""
    digits = _NOT_DIGIT.sub("", raw or "")
    if digits.startswith("0"):
        digits = "62" + digits.lstrip("0")
    return digits[:20]


def is_user_id(value: str | None) -> bool:
    """Whether `value` is a BSUID rather than a phone number (Meta may put a BSUID where a number was)."""
    return bool(value and _BSUID.match(value))


def contact_for_whatsapp(
    *,
    user_id: str,
    phone: str,
    username: str = "",
    profile_name: str = "",
    parent_user_id: str = "",
    at: datetime,
) -> Contact:
    """The contact for a WhatsApp sender, created on their first message: found by BSUID first, then by
    number; what was missing (the number of a username-only sender, the BSUID of a contact known by number) is
    filled in. Marks them as having WhatsApp and moves their 24-hour window to `at` (never backwards).

    Invariant: one row per BSUID and per number; an existing row is never merged into another."""
    user_id = (user_id or "").strip()
    phone = phone_normalized(phone)
    if not user_id and not phone:
        raise ContactError("A WhatsApp sender needs a user id or a phone number.")
    return _retrying(
        lambda: _contact_for_whatsapp(
            user_id=user_id,
            phone=phone,
            username=(username or "").strip().lstrip("@")[:100],
            profile_name=(profile_name or "").strip()[:150],
            parent_user_id=(parent_user_id or "").strip()[:160],
            at=at,
        )
    )


def contact_for_sms(*, phone: str, at: datetime) -> Contact:
    """The contact for an SMS sender (created on their first message), with `last_sms_at` moved to `at`."""
    phone = phone_normalized(phone)
    if not phone:
        raise ContactError("An SMS sender needs a phone number.")
    return _retrying(lambda: _contact_for_sms(phone=phone, at=at))


def contact_user_id_changed(
    *, previous_user_id: str, user_id: str, at: datetime, parent_user_id: str = ""
) -> Contact | None:
    """WhatsApp's `user_changed_user_id`: the contact known by `previous_user_id` is known by `user_id` from
    now on. Returns the contact holding `user_id` afterwards, or None when neither id is known.

    Replayed, or arriving after a message from the new id already made a contact of it, it changes nothing:
    the contact holding the new id stays as it is (the old one keeps its history; no merge)."""
    user_id = (user_id or "").strip()
    previous_user_id = (previous_user_id or "").strip()
    if not user_id:
        return None
    return _retrying(
        lambda: _contact_user_id_changed(
            previous_user_id=previous_user_id, user_id=user_id, parent_user_id=parent_user_id.strip(), at=at
        )
    )


def contact_number_changed(*, user_id: str, previous_phone: str, phone: str, at: datetime) -> Contact | None:
    """WhatsApp's `user_changed_number`: the sender (by BSUID, else by the old number) now has `phone`. The
    number moves to this contact (a contact that held it before loses it). Returns the contact, or None when
    the sender is unknown. Replays change nothing."""
    phone = phone_normalized(phone)
    previous_phone = phone_normalized(previous_phone)
    user_id = (user_id or "").strip()
    if not phone:
        return None
    return _retrying(
        lambda: _contact_number_changed(user_id=user_id, previous_phone=previous_phone, phone=phone, at=at)
    )


def contact_user_id_learn(*, phone: str, user_id: str) -> bool:
    """A status callback or a send response told us the BSUID of a number we write to: a contact known only
    by that number gets it. Nothing changes when the BSUID is already someone's or the contact has another.
    Returns whether a contact was updated."""
    phone = phone_normalized(phone)
    user_id = (user_id or "").strip()
    if not (phone and is_user_id(user_id)):
        return False
    if Contact.objects.filter(user_id=user_id).exists():
        return False
    try:
        with transaction.atomic():
            return bool(Contact.objects.filter(phone=phone, user_id__isnull=True).update(user_id=user_id))
    except IntegrityError:  # another worker gave the BSUID to a contact meanwhile
        return False


# --- internals --------------------------------------------------------------------------------------------------


def _retrying(work: Callable[[], _T]) -> _T:
    """`work` in a savepoint, once more after an IntegrityError (another worker created the same row)."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _later(old: datetime | None, at: datetime) -> datetime:
    return at if old is None or at > old else old


def _locked(**lookup) -> Contact | None:
    return Contact.objects.select_for_update().filter(**lookup).first()


def _phone_release(phone: str, *, keep: Contact) -> bool:
    """Take `phone` from whichever other contact holds it, if that one is a different WhatsApp user (a
    number given to someone else). Returns whether `keep` may now have the number."""
    holder = _locked(phone=phone)
    if holder is None or holder.pk == keep.pk:
        return True
    if holder.user_id is None:
        return False  # an SMS sender or a pre-BSUID contact: not taken away by a message
    holder.phone = None
    holder.save(update_fields=["phone"])
    return True


def _contact_for_whatsapp(
    *, user_id: str, phone: str, username: str, profile_name: str, parent_user_id: str, at: datetime
) -> Contact:
    contact = _locked(user_id=user_id) if user_id else None
    if contact is None and phone:
        by_phone = _locked(phone=phone)
        if by_phone is not None and by_phone.user_id and user_id and by_phone.user_id != user_id:
            # Another WhatsApp user holds the number now: the old contact keeps its history, not the number.
            by_phone.phone = None
            by_phone.save(update_fields=["phone"])
            by_phone = None
        contact = by_phone
    if contact is None:
        return Contact.objects.create(
            user_id=user_id or None,
            phone=phone or None,
            username=username,
            profile_name=profile_name,
            parent_user_id=parent_user_id,
            whatsapp=Contact.WhatsApp.YES,
            last_whatsapp_at=at,
        )
    changed: list[str] = []
    if user_id and not contact.user_id:
        contact.user_id = user_id
        changed.append("user_id")
    if phone and contact.phone != phone and _phone_release(phone, keep=contact):
        contact.phone = phone
        changed.append("phone")
    for field, value in (("username", username), ("profile_name", profile_name), ("parent_user_id", parent_user_id)):
        if value and getattr(contact, field) != value:
            setattr(contact, field, value)
            changed.append(field)
    if contact.whatsapp != Contact.WhatsApp.YES:
        contact.whatsapp = Contact.WhatsApp.YES
        changed.append("whatsapp")
    if (window := _later(contact.last_whatsapp_at, at)) != contact.last_whatsapp_at:
        contact.last_whatsapp_at = window
        changed.append("last_whatsapp_at")
    if changed:
        contact.save(update_fields=changed)
    return contact


def _contact_for_sms(*, phone: str, at: datetime) -> Contact:
    contact = _locked(phone=phone)
    if contact is None:
        return Contact.objects.create(phone=phone, last_sms_at=at)
    if (last := _later(contact.last_sms_at, at)) != contact.last_sms_at:
        contact.last_sms_at = last
        contact.save(update_fields=["last_sms_at"])
    return contact


def _contact_user_id_changed(
    *, previous_user_id: str, user_id: str, parent_user_id: str, at: datetime
) -> Contact | None:
    current = _locked(user_id=user_id)
    if current is not None:
        return current  # a replay, or the new id wrote first: nothing to move
    previous = _locked(user_id=previous_user_id) if previous_user_id else None
    if previous is None:
        return None
    previous.user_id = user_id
    changed = ["user_id"]
    if parent_user_id and previous.parent_user_id != parent_user_id:
        previous.parent_user_id = parent_user_id
        changed.append("parent_user_id")
    previous.save(update_fields=changed)
    return previous


def _contact_number_changed(*, user_id: str, previous_phone: str, phone: str, at: datetime) -> Contact | None:
    contact = _locked(user_id=user_id) if user_id else None
    if contact is None and previous_phone:
        contact = _locked(phone=previous_phone)
    if contact is None:
        return None
    if contact.phone != phone:
        holder = _locked(phone=phone)
        if holder is not None and holder.pk != contact.pk:
            holder.phone = None  # WhatsApp says the number is this user's now
            holder.save(update_fields=["phone"])
        contact.phone = phone
        contact.save(update_fields=["phone"])
    return contact
