"""factory_boy factories whose NIKs and KK numbers pass the validator and agree with the record."""

from __future__ import annotations

import itertools
from datetime import date

import factory

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
