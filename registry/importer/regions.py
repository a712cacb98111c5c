"""Finding a row's desa/kelurahan from whatever the export gives: a Kemendagri code, SIAK's split
NO_PROP/NO_KAB/NO_KEC/NO_KEL numbers, or names (desa within a kecamatan), limited to the importer's region."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from messaging.system_text import system_text
from registry.models import Region

Found = tuple[str, str] | tuple[None, str, str]
"""(desa code, kecamatan code), or (None, value as given, reason)."""

_SPACES = re.compile(r"\s+")
_DOTTED_DESA = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
_DOTTED_KEC = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")
_NAME_PREFIX = re.compile(r"^(DESA|KELURAHAN|KEL\.?|KECAMATAN|KEC\.?)\s+")


def _name_key(text: str) -> str:
    return _NAME_PREFIX.sub("", _SPACES.sub(" ", text).strip().upper())


def _dotted(text: str, *, digits: int) -> str | None:
    """A dotted Kemendagri code from "35.02.01.2001" or "3502012001" (digits=10), or None."""
    text = text.strip()
    pattern = _DOTTED_DESA if digits == 10 else _DOTTED_KEC
    if pattern.fullmatch(text):
        return text
    if _DIGITS.fullmatch(text) and len(text) == digits:
        cuts = (2, 4, 6, 10)[: 3 if digits == 6 else 4]
        pieces, start = [], 0
        for end in cuts:
            pieces.append(text[start:end])
            start = end
        return ".".join(pieces)
    return None


class RegionIndex:
    """The kecamatan and desa inside `scope` (a dotted code; None for the whole country), held in memory
    (83,762 desa at most, a few MB) with every answer cached."""

    def __init__(self, scope: str | None) -> None:
        self.scope = scope
        regions = Region.objects.filter(level__in=[Region.Level.KECAMATAN, Region.Level.DESA])
        if scope:
            regions = regions.filter(code__startswith=f"{scope}.")
        self.desa_parent: dict[str, str] = {}
        self.kec_by_name: dict[str, list[str]] = {}
        self.desa_by_name: dict[tuple[str, str], list[str]] = {}
        self.kec_names: dict[str, str] = {}
        for code, level, parent, name in regions.values_list("code", "level", "parent_id", "name").iterator(5000):
            if level == Region.Level.KECAMATAN:
                self.kec_by_name.setdefault(_name_key(name), []).append(code)
                self.kec_names[code] = name
            else:
                self.desa_parent[code] = parent
                self.desa_by_name.setdefault((parent, _name_key(name)), []).append(code)
        self._cache: dict[tuple, Found] = {}
        # Every known code, so that telling "outside your region" from "unknown" needs no query while rows
        # stream into COPY (the connection is busy then).
        self._known: set[str] = set(Region.objects.values_list("code", flat=True).iterator(20000)) if scope else set()

    def _outside(self, code: str, value: str, what: str) -> Found:
        if code in self._known:
            return (
                None,
                value,
                system_text(gettext_noop("%(what)s %(code)s di luar wilayah kantor Anda"), what=what, code=code),
            )
        return None, value, system_text(gettext_noop("kode %(what)s %(code)s tidak dikenal"), what=what, code=code)

    def desa_from_code(self, text: str, kec_text: str = "") -> Found:
        key = ("code", text, kec_text)
        if key not in self._cache:
            self._cache[key] = self._desa_from_code(text, kec_text)
        return self._cache[key]

    def _desa_from_code(self, text: str, kec_text: str) -> Found:
        code = _dotted(text, digits=10)
        if code is None:
            return None, text, _("kode desa harus 10 digit, misalnya 35.02.01.2001 atau 3502012001")
        kecamatan = self.desa_parent.get(code)
        if kecamatan is None:
            return self._outside(code, text, system_text(gettext_noop("desa")))
        if kec_text:
            given = _dotted(kec_text, digits=6)
            if given != kecamatan:
                return (
                    None,
                    text,
                    system_text(
                        gettext_noop("desa %(desa)s tidak berada di kecamatan %(kec)s"), desa=code, kec=kec_text
                    ),
                )
        return code, kecamatan

    def desa_from_parts(self, prop: str, kab: str, kec: str, kel: str) -> Found:
        key = ("parts", prop, kab, kec, kel)
        if key not in self._cache:
            value = "/".join((prop, kab, kec, kel))
            if not all(_DIGITS.fullmatch(p) for p in (prop, kab, kec, kel)):
                self._cache[key] = None, value, _("NO_PROP/NO_KAB/NO_KEC/NO_KEL harus angka")
            else:
                code = f"{int(prop):02d}.{int(kab):02d}.{int(kec):02d}.{int(kel):04d}"
                kecamatan = self.desa_parent.get(code)
                self._cache[key] = (
                    (code, kecamatan) if kecamatan else self._outside(code, value, system_text(gettext_noop("desa")))
                )
        return self._cache[key]

    def desa_from_names(self, desa_name: str, kec_code: str, kec_name: str) -> Found:
        key = ("names", desa_name, kec_code, kec_name)
        if key not in self._cache:
            self._cache[key] = self._desa_from_names(desa_name, kec_code, kec_name)
        return self._cache[key]

    def _desa_from_names(self, desa_name: str, kec_code: str, kec_name: str) -> Found:
        if not desa_name:
            return None, "", _("kode atau nama desa wajib diisi")
        if kec_code:
            kecamatan = _dotted(kec_code, digits=6)
            if kecamatan is None:
                return None, kec_code, _("kode kecamatan harus 6 digit, misalnya 35.02.01 atau 350201")
            if kecamatan not in self.kec_names:
                return self._outside(kecamatan, kec_code, system_text(gettext_noop("kecamatan")))
        else:
            candidates = self.kec_by_name.get(_name_key(kec_name), [])
            if not candidates:
                return (
                    None,
                    kec_name,
                    system_text(
                        gettext_noop("kecamatan %(name)s tidak ditemukan di wilayah kantor Anda"), name=kec_name
                    ),
                )
            if len(candidates) > 1:
                return (
                    None,
                    kec_name,
                    system_text(
                        gettext_noop("nama kecamatan %(name)s ada lebih dari satu (%(codes)s); pakai kode desa"),
                        name=kec_name,
                        codes=", ".join(candidates),
                    ),
                )
            kecamatan = candidates[0]
        desa = self.desa_by_name.get((kecamatan, _name_key(desa_name)), [])
        if len(desa) != 1:
            reason = (
                gettext_noop("desa %(desa)s tidak ditemukan di kecamatan %(kec)s")
                if not desa
                else gettext_noop("nama desa %(desa)s ada lebih dari satu di kecamatan %(kec)s; pakai kode desa")
            )
            kec = self.kec_names.get(kecamatan, kecamatan)
            return None, desa_name, system_text(reason, desa=desa_name, kec=kec)
        return desa[0], kecamatan
