"""Writing SIAK-style exports: the sample file in docs/, the benchmark's million rows, test fixtures."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator

from registry.demo import DEMO_KABUPATEN, _NikSerials, households_generate
from registry.models import Family, FamilyRelation, MaritalStatus, Region, Resident

EXPORT_HEADER = (
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "TMPT_LHR",
    "TGL_LHR",
    "JENIS_KLMIN",
    "AGAMA",
    "ALAMAT",
    "NO_RT",
    "NO_RW",
    "KODE_DESA",
    "NAMA_KEC",
    "NAMA_KEL",
    "STAT_HBKEL",
    "NO_HP",
    "STAT_KWN",
    "STAT_REKAM",
)
_SEX = {"L": "LAKI-LAKI", "P": "PEREMPUAN"}
_RELIGION = {"katolik": "KATHOLIK", "buddha": "BUDHA", "kepercayaan": "KEPERCAYAAN"}
_RELATION = {"kepala": "KEPALA KELUARGA", "orang_tua": "ORANG TUA", "famili_lain": "FAMILI LAIN"}
_MARITAL = {
    MaritalStatus.NEVER_MARRIED: "BELUM KAWIN",
    MaritalStatus.MARRIED: "KAWIN",
    MaritalStatus.DIVORCED: "CERAI HIDUP",
    MaritalStatus.WIDOWED: "CERAI MATI",
}
_SPOUSES = {FamilyRelation.HUSBAND, FamilyRelation.WIFE}


def marital_status_of(resident: Resident, members: list[Resident]) -> str:
    """The resident's status, or one that fits the household when none is stored (the synthetic households
    carry none): spouses and a head with a spouse are married, a head alone widowed, children never married."""
    if resident.marital_status:
        return resident.marital_status
    if resident.relation_to_head in _SPOUSES:
        return MaritalStatus.MARRIED
    if resident.relation_to_head == FamilyRelation.HEAD:
        has_spouse = any(m.relation_to_head in _SPOUSES for m in members)
        return MaritalStatus.MARRIED if has_spouse else MaritalStatus.WIDOWED
    if resident.relation_to_head == FamilyRelation.CHILD:
        return MaritalStatus.NEVER_MARRIED
    return ""


def export_rows(households: Iterable[tuple[Family, list[Resident]]]) -> Iterator[list[str]]:
    """One row per resident, as SIAK writes them (upper-case labels, DD-MM-YYYY dates, 0-prefixed phones)."""
    names = dict(Region.objects.filter(level__gte=Region.Level.KECAMATAN).values_list("code", "name"))
    for family, members in households:
        for r in members:
            yield [
                r.nik,
                family.kk_number,
                r.full_name,
                r.birth_place,
                f"{r.birth_date:%d-%m-%Y}",
                _SEX[r.sex],
                _RELIGION.get(r.religion, r.religion.upper()),
                r.address,
                r.rt,
                r.rw,
                r.desa_id,
                names[r.kecamatan_id],
                names[r.desa_id],
                _RELATION.get(r.relation_to_head, r.relation_to_head.upper()),
                f"0{r.whatsapp[2:]}" if r.whatsapp else "",
                _MARITAL.get(marital_status_of(r, members), ""),
                "SUDAH REKAM" if r.biometric_recorded else "BELUM REKAM",
            ]


def export_write(
    f, *, count: int, seed: int = 2026, kabupaten: str = DEMO_KABUPATEN, delimiter: str = ",", fresh: bool = True
) -> int:
    """Write `count` synthetic residents to the text file `f`; returns the number of rows written.

    fresh=True numbers NIKs/KKs from serial 1 (a file for an empty database, the benchmark); False
    continues after the numbers already stored.
    """
    serials = {"nik_serials": _NikSerials(iter(())), "kk_serials": _NikSerials(iter(()))} if fresh else {}
    households = households_generate(count=count, rng=random.Random(seed), kabupaten=kabupaten, **serials)
    writer = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    written = 0
    for row in export_rows(households):
        writer.writerow(row)
        written += 1
    return written
