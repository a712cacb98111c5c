"""The suket register: every suket issued, with its holder (masked NIK), its request, its validity and its
state today, filtered by state, issue date and number, within the user's scope.

A suket's state is read, never stored: it follows from `ended_at` (set by `sukets_release` when the request
closes), the request's status and today's date, so the register can never disagree with the suket's public
verification page (`Suket.is_valid_on`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.db import models
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cards.models import CardRequest
from delivery.models import Suket
from registry import clock
from registry.models import User
from registry.widgets import DateField


class SuketState(models.TextChoices):
    VALID = "valid", gettext_lazy("Berlaku")
    EXPIRED = "expired", gettext_lazy("Kedaluwarsa")
    REPLACED = "replaced", gettext_lazy("Diganti KTP-el")
    REVOKED = "revoked", gettext_lazy("Dicabut")


def suket_state_condition(state: str, *, today: date) -> Q:
    """The rows in `state` on `today`: valid until its last day included (as `Suket.is_valid_on`); an ended
    suket was replaced by the card when the card was handed over, and revoked when its request was refused or
    cancelled."""
    ended = Q(ended_at__isnull=False)
    handed_over = Q(card_request__status=CardRequest.Status.HANDED_OVER)
    return {
        SuketState.VALID: Q(ended_at__isnull=True, valid_until__gte=today),
        SuketState.EXPIRED: Q(ended_at__isnull=True, valid_until__lt=today),
        SuketState.REPLACED: ended & handed_over,
        SuketState.REVOKED: ended & ~handed_over,
    }[SuketState(state)]


def sukets_visible_to(user: User) -> QuerySet[Suket]:
    """Sukets of the requests the user may see (the request's kecamatan is the scope: a UPTD sees its own)."""
    return Suket.objects.filter(card_request__in=CardRequest.objects.visible_to(user).values("pk"))


def with_state(queryset: QuerySet[Suket], *, today: date) -> QuerySet[Suket]:
    """Each suket annotated with `state` (a SuketState value) as of `today`, in SQL so that it filters."""
    return queryset.annotate(
        state=Case(
            *(When(suket_state_condition(state, today=today), then=Value(state.value)) for state in SuketState),
            output_field=models.CharField(),
        )
    )


def _suket_pk(number: str) -> int | None:
    digits = number.strip().upper().removeprefix("SKT-").removeprefix("SKT").strip()
    return int(digits) if digits.isdigit() else None


class SuketRegisterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("Status"), choices=[("", gettext_lazy("Semua status")), *SuketState.choices], required=False
    )
    issued_from = DateField(label=gettext_lazy("Terbit dari"), required=False)
    issued_to = DateField(label=gettext_lazy("Terbit sampai"), required=False)
    number = forms.CharField(label=gettext_lazy("Nomor suket"), max_length=20, required=False)

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].strip()
        if number and _suket_pk(number) is None:
            raise forms.ValidationError(_("Tulis nomor suket seperti SKT-000123."))
        return number

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("issued_from"), cleaned.get("issued_to")
        if start and end and start > end:
            self.add_error("issued_to", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
        return cleaned


def suket_register(*, user: User, filters: dict) -> QuerySet[Suket]:
    """The register's rows for `user` with the cleaned `filters` of SuketRegisterForm, newest first, with what
    each row shows loaded in the same query."""
    office = user.office
    today = clock.today(office)
    zone = clock.zone_of(office)
    sukets = with_state(sukets_visible_to(user), today=today).select_related(
        "resident", "card_request", "office", "issued_by"
    )
    if state := filters.get("state"):
        sukets = sukets.filter(suket_state_condition(state, today=today))
    if start := filters.get("issued_from"):
        sukets = sukets.filter(issued_at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end := filters.get("issued_to"):
        sukets = sukets.filter(issued_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
    if number := filters.get("number"):
        sukets = sukets.filter(pk=_suket_pk(number))
    return sukets.order_by("-id")
