from __future__ import annotations

from registry.forms import FamilyForm, ResidentForm

VALID = {
    "full_name": "RINI LESTARI",
    "birth_place": "PONOROGO",
    "birth_date": "1990-05-12",
    "sex": "P",
    "religion": "islam",
    "address": "Jl. Pramuka 3",
    "rt": "001",
    "rw": "002",
    "desa": "35.02.01.2001",
    "relation_to_head": "kepala",
}


def test_invalid_nik_is_a_field_error_in_indonesian_and_nothing_is_saved(ponorogo):
    form = ResidentForm(data={**VALID, "nik": "3502015205900000"})
    assert not form.is_valid()
    assert "0000" in " ".join(form.errors["nik"])


def test_pasted_nik_is_normalised_and_kecamatan_follows_the_desa(ponorogo):
    form = ResidentForm(data={**VALID, "nik": "3502 0152 0590 0002"})
    assert form.is_valid(), form.errors
    resident = form.save()
    assert resident.nik == "3502015205900002"
    assert resident.kecamatan_id == "35.02.01"
    assert form.nik_warnings == []


def test_nik_disagreeing_with_the_record_saves_with_a_warning(ponorogo):
    form = ResidentForm(data={**VALID, "nik": "3502011205900002"})  # NIK says male
    assert form.is_valid(), form.errors
    assert len(form.nik_warnings) == 1
    assert "perempuan" in form.nik_warnings[0] or "laki-laki" in form.nik_warnings[0]


def test_a_kecamatan_is_not_a_desa(ponorogo):
    form = ResidentForm(data={**VALID, "nik": "3502015205900002", "desa": "35.02.01"})
    assert not form.is_valid()
    assert "desa" in form.errors


def test_invalid_kk_number_is_a_field_error(ponorogo):
    form = FamilyForm(data={"kk_number": "3502019913150001", "address": "x", "desa": "35.02.01.2001"})
    assert not form.is_valid()
    assert form.errors["kk_number"]
