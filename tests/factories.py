"""factory_boy factories whose NIKs and KK numbers pass the validator and agree with the record."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

import factory

from registry import clock
from registry.models import Family, FamilyRelation, Resident, Sex, User
from registry.nik import make_kk, make_nik

_serials = itertools.count(1)


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family

    desa_id = "35.02.01.2001"
    kk_number = factory.LazyAttribute(
        lambda o: make_kk(
            kecamatan_code=o.desa_id.rsplit(".", 1)[0], registered_on=date(2015, 3, 9), serial=next(_serials)
        )
    )
    address = "Jl. Diponegoro No. 1"
    rt = "001"
    rw = "002"


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    class Params:
        serial = factory.LazyFunction(lambda: next(_serials))

    full_name = factory.Sequence(lambda n: f"WARGA PERCOBAAN {n:05d}")
    birth_place = "PONOROGO"
    birth_date = date(1990, 5, 12)
    sex = Sex.MALE
    desa_id = "35.02.01.2001"
    kecamatan_id = factory.LazyAttribute(lambda o: o.desa_id.rsplit(".", 1)[0])
    nik = factory.LazyAttribute(
        lambda o: make_nik(kecamatan_code=o.kecamatan_id, birth_date=o.birth_date, sex=o.sex, serial=o.serial)
    )
    address = "Jl. Diponegoro No. 1"
    rt = "001"
    rw = "002"
    religion = "islam"
    relation_to_head = FamilyRelation.HEAD
    biometric_recorded = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"staf{n}")
    password = factory.django.Password("kata-sandi-uji-123")


# --- card requests, appointments and the office calendar --------------------------------------------------
# Set-up data for tests that start mid-pipeline. Journey tests go through the real services instead.


class CardRequestFactory(factory.django.DjangoModelFactory):
    """A request at a given status and route, written directly (test set-up only: the code moves statuses
    through cards.workflow). `CardRequestFactory(ready=True, route="collect")`; the traits are the statuses."""

    class Meta:
        model = "cards.CardRequest"

    class Params:
        received = factory.Trait(status="received")
        verifying = factory.Trait(status="verifying")
        incomplete = factory.Trait(status="incomplete", missing_items=["Surat kehilangan dari kepolisian"])
        ready = factory.Trait(status="ready_to_print")
        scheduled = factory.Trait(status="scheduled")
        printed = factory.Trait(status="printed")
        ready_for_pickup = factory.Trait(status="ready_for_pickup")
        shipped = factory.Trait(status="shipped", route="post")
        sent_to_uptd = factory.Trait(status="sent_to_uptd", route="uptd")
        handed_over = factory.Trait(status="handed_over")
        counter = factory.Trait(route="counter")
        collect = factory.Trait(route="collect")
        uptd = factory.Trait(route="uptd")
        post = factory.Trait(route="post")
        urgent = factory.Trait(urgent_status="approved", urgent_reason="travel", is_urgent=True)

    resident = factory.SubFactory(ResidentFactory)
    kecamatan_id = factory.LazyAttribute(lambda o: o.resident.kecamatan_id)
    office = factory.LazyAttribute(lambda o: _head_office(o.resident.kecamatan_id))
    pickup_office = factory.LazyAttribute(
        lambda o: _uptd_office(o.resident.kecamatan_id) if o.route == "uptd" else o.office
    )
    kind = "rusak"
    channel = factory.LazyAttribute(lambda o: "uptd" if o.route == "uptd" else "whatsapp")
    submitted_by_kind = factory.LazyAttribute(lambda o: "uptd_operator" if o.route == "uptd" else "resident")
    status = "received"
    route = "counter"


def _head_office(kecamatan_code: str):
    from registry.models import Office

    return Office.objects.get(region_id=kecamatan_code.rsplit(".", 1)[0])


def _uptd_office(kecamatan_code: str):
    from registry.models import Office

    return Office.objects.get(region_id=kecamatan_code)


def open_calendar(
    office, *, print_capacity: int = 300, whatsapp: int = 200, walk_in: int = 100, invitation: int = 0,
    uptd: int = 0, weekdays=range(5), opens_at=time(8), closes_at=time(15),
) -> None:  # fmt: skip
    """An office open on `weekdays` (Monday = 0) with the same quota every day (default: Ponorogo's 300 =
    200 by message + 100 walk-in)."""
    from queueing.models import OpeningHours, QuotaDefault

    for weekday in weekdays:
        OpeningHours.objects.update_or_create(
            office=office, weekday=weekday, defaults={"opens_at": opens_at, "closes_at": closes_at}
        )
        QuotaDefault.objects.update_or_create(
            office=office,
            weekday=weekday,
            defaults={
                "print_capacity": print_capacity, "whatsapp": whatsapp, "walk_in": walk_in,
                "invitation": invitation, "uptd": uptd,
            },
        )  # fmt: skip


def appointment_for(card_request, *, day, channel: str = "whatsapp", by=None):
    """A route-1 request ready to print, booked on `day` through the real booking service."""
    from queueing.appointments import booking_book

    return booking_book(
        card_request_id=card_request.pk, channel=channel, by=by, wish=day, today=day - timedelta(days=1)
    )


# --- retention: rows the purge job deletes or blanks ------------------------------------------------------


class NotificationFactory(factory.django.DjangoModelFactory):
    """A message to a resident, sent by default (`status`, `sent_at`, `created_at` to place it in time)."""

    class Meta:
        model = "messaging.Notification"

    resident = factory.SubFactory(ResidentFactory)
    channel = "whatsapp"
    recipient = "6281234567890"
    template = "request_received"
    text = factory.LazyAttribute(lambda o: f"Yth. {o.resident.full_name}, permohonan KTP-el Anda kami terima.")
    status = "sent"


class ResidentChangeFactory(factory.django.DjangoModelFactory):
    """A history row of a resident's record: the old and new value of a field."""

    class Meta:
        model = "registry.ResidentChange"

    resident = factory.SubFactory(ResidentFactory)
    changes = factory.LazyFunction(lambda: {"address": ["JL. LAMA 1", "JL. BARU 2"]})


# --- suket (temporary certificates) ------------------------------------------------------------------------


class SuketFactory(factory.django.DjangoModelFactory):
    """A suket of a request, written directly (test set-up: the code issues through delivery.services.suket_issue).
    `issued_at`, `valid_until` and `ended_at` place it in time; the request's status says how an ended one
    ended."""

    class Meta:
        model = "delivery.Suket"

    card_request = factory.SubFactory(CardRequestFactory, ready=True, collect=True)
    resident = factory.LazyAttribute(lambda o: o.card_request.resident)
    office = factory.LazyAttribute(lambda o: o.card_request.office)
    issued_by = factory.LazyAttribute(lambda o: User.objects.filter(office=o.card_request.office).first())
    issued_at = factory.LazyFunction(lambda: clock.now())
    valid_until = factory.LazyAttribute(lambda o: o.issued_at.date() + timedelta(days=180))
    verify_code = factory.Sequence(lambda n: f"uji-suket-{n:08d}")
