"""System-written texts are stored as a key with parameters and shown in the reader's language
(messaging/system_text.py)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_noop

from cards.models import CardRequestEvent, Route, UrgentReason
from messaging.system_text import MARK, SystemText, fit, render_system_text, system_text, system_text_join
from queueing.models import BlankMovement
from registry.audit import CHAIN_FIELDS, access_log_chain_verify
from registry.models import AccessLog
from registry.nik import parse_kk
from tests.factories import CardRequestFactory
from tests.test_translations import compiled_en_catalogue  # noqa: F401 (the fixture, built once)

CHECKED_IN = gettext_noop("Hadir, nomor antrean %(number)d")  # in the English catalogue


pytestmark = pytest.mark.usefixtures("compiled_en_catalogue")


def test_what_is_stored_does_not_depend_on_the_writers_language():
    with translation.override("en"):
        written_in_english = system_text(CHECKED_IN, number=7)
    with translation.override("id"):
        written_in_indonesian = system_text(CHECKED_IN, number=7)
    assert written_in_english.raw == written_in_indonesian.raw
    assert written_in_english.raw.startswith(MARK)
    assert (str(written_in_english), str(written_in_indonesian)) == (
        "Checked in, queue number 7",
        CHECKED_IN % {"number": 7},
    )


def test_a_stored_text_renders_in_the_readers_language():
    stored = system_text(CHECKED_IN, number=12).raw
    with translation.override("id"):
        assert render_system_text(stored) == "Hadir, nomor antrean 12"
    with translation.override("en"):
        assert render_system_text(stored) == "Checked in, queue number 12"


def test_a_translatable_parameter_is_stored_as_its_key_and_translated_too():
    text = system_text_join([Route.COUNTER.label, Route.POST.label], " → ")
    with translation.override("en"):
        english = render_system_text(text.raw)
        english_labels = f"{Route.COUNTER.label} → {Route.POST.label}"
    with translation.override("id"):
        indonesian = render_system_text(text.raw)
        indonesian_labels = f"{Route.COUNTER.label} → {Route.POST.label}"
    assert (english, indonesian) == (english_labels, indonesian_labels)
    assert english != indonesian


def test_text_typed_by_a_person_is_shown_as_typed_beside_a_translated_label():
    text = system_text_join([UrgentReason.TRAVEL.label, "berangkat haji tanggal 3"], ". ")
    with translation.override("en"):
        assert render_system_text(text.raw) == f"{UrgentReason.TRAVEL.label}. berangkat haji tanggal 3"
        assert str(UrgentReason.TRAVEL.label) != "Perjalanan ke luar negeri"


def test_old_rows_in_plain_indonesian_still_render():
    with translation.override("en"):
        assert render_system_text("catatan lama dari petugas") == "catatan lama dari petugas"
        assert render_system_text("Batal") == "Cancel"  # an old row equal to a msgid is translated
        assert render_system_text("") == ""


def test_a_long_parameter_is_shortened_so_the_stored_value_fits_its_column():
    text = system_text(gettext_noop("Gagal cetak: %(reason)s"), reason="x" * 400)
    fitted = fit(text, 200)
    assert isinstance(fitted, SystemText) and len(fitted.raw) <= 200
    assert fitted.raw.startswith(MARK) and fitted.endswith("…")
    assert fit("y" * 250, 200) == "y" * 200


@pytest.mark.django_db
def test_the_model_field_stores_the_key_and_reads_the_text_in_the_active_language(resident_a, clerk):
    card_request = CardRequestFactory(resident=resident_a)
    with translation.override("en"):  # written during an English request
        CardRequestEvent.objects.create(
            card_request=card_request,
            by=clerk,
            action=CardRequestEvent.Action.STATUS,
            note=system_text(CHECKED_IN, number=3),
        )
    stored = CardRequestEvent.objects.filter(card_request=card_request).values_list("note", flat=True)
    with translation.override("id"):
        assert CardRequestEvent.objects.get(card_request=card_request).note == "Hadir, nomor antrean 3"
    with translation.override("en"):
        assert CardRequestEvent.objects.get(card_request=card_request).note == "Checked in, queue number 3"
    assert next(iter(stored)).raw.startswith(MARK)


@pytest.mark.django_db
def test_the_template_filter_renders_stored_texts_and_plain_text(clerk, ponorogo):
    movement = BlankMovement.objects.create(
        office=clerk.office, kind=BlankMovement.Kind.SPOILAGE, quantity=-1, created_by=clerk,
        reference=system_text(gettext_noop("Dicetak ulang pada blangko baru")),
    )  # fmt: skip
    template = Template("{% load system_text %}{{ m.reference|system_text }}|{{ plain|system_text }}")
    with translation.override("en"):
        rendered = template.render(Context({"m": BlankMovement.objects.get(pk=movement.pk), "plain": "<b>x</b>"}))
    assert rendered == "Reprinted on a new blank|&lt;b&gt;x&lt;/b&gt;"


@pytest.mark.django_db(transaction=True)
def test_the_access_log_chain_covers_the_stored_key_not_its_rendering(clerk):
    AccessLog.objects.append(user=clerk, action=AccessLog.Action.EXPORT, detail="plain detail")
    AccessLog.objects.append(
        user=clerk,
        action=AccessLog.Action.SEARCH_NIK,
        detail=system_text(gettext_noop("Pencarian NIK/KK %(masked)s"), masked="3502************"),
    )
    for language in ("id", "en"):
        with translation.override(language):
            rows = AccessLog.objects.order_by("seq").values_list(*CHAIN_FIELDS)
            report = access_log_chain_verify(rows)
            assert report.broken is None and report.checked == 2
    with translation.override("en"):
        assert AccessLog.objects.get(seq=2).detail == "NIK/KK search 3502************"


def test_a_refused_kk_number_in_an_import_reads_in_the_readers_language():
    """The validator's reasons (registry/nik.py) are system texts, so an import refusal built from them
    (registry/importer/columns.py joins them) is stored as keys and shown in the reader's language."""
    with translation.override("id"):
        reason = system_text_join(parse_kk("3502011234").errors, " ")
        assert str(reason) == "Nomor KK harus 16 digit angka; yang dimasukkan 10 digit."
    with translation.override("en"):
        assert render_system_text(reason.raw) == "KK number must be 16 digits; you entered 10."


@pytest.mark.django_db(transaction=True)
def test_a_long_access_log_detail_is_fitted_before_it_is_hashed(clerk):
    """The hash covers what is stored: a system text too long for the column is shortened first, so the chain
    still verifies when the row is read back."""
    detail = system_text(gettext_noop("Lampiran %(name)s pada %(number)s"), name="x" * 400, number="PKTP-000001")
    row = AccessLog.objects.append(user=clerk, action=AccessLog.Action.VIEW_ATTACHMENT, detail=detail)
    stored = AccessLog.objects.get(pk=row.pk).detail
    assert len(stored.raw) <= 255 and stored.endswith("pada PKTP-000001") and "…" in stored
    report = access_log_chain_verify(AccessLog.objects.order_by("seq").values_list(*CHAIN_FIELDS))
    assert report.broken is None and report.checked == 1
