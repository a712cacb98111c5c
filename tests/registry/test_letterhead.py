"""The office's letterhead and signatory (registry.Office letterhead fields, templates/_letterhead.html and
_signatory.html) on every page the office prints, and the settings page where its administrator fills them in."""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from delivery.services import suket_issue
from queueing import invitations, printing
from queueing.models import ServiceDay, WalkInTicket
from registry.demo import demo_letterhead_fill
from registry.models import Office, nip_spaced
from tests.conftest import KEC_A
from tests.dates import THURSDAY, next_weekday
from tests.documents import PDF
from tests.factories import CardRequestFactory, ResidentFactory, open_calendar
from tests.other_office import clerk_of_another_kabupaten

pytestmark = pytest.mark.django_db

GOVERNMENT = "PEMERINTAH KABUPATEN PONOROGO"
AGENCY = "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL"
ADDRESS = "Jl. Alun-Alun Utara No. 1, Ponorogo 63411"
HEAD = "Drs. SUPRIYANTO, M.Si."
NIP = "197005121995031002"
NIP_PRINTED = "19700512 199503 1 002"


def png_bytes(size: tuple[int, int] = (60, 80), color: str = "green") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def letterhead(ponorogo, settings, tmp_path) -> Office:
    settings.MEDIA_ROOT = tmp_path
    Office.objects.filter(pk=ponorogo.pk).update(
        government_line=GOVERNMENT,
        agency_line=AGENCY,
        address=ADDRESS,
        phone="(0352) 481000",
        head_name=HEAD,
        head_title="Kepala Dinas Kependudukan dan Pencatatan Sipil Kabupaten Ponorogo",
        head_nip=NIP,
    )
    ponorogo.refresh_from_db()
    return ponorogo


def pdf_text(response) -> str:
    assert response.status_code == 200 and response.content.startswith(b"%PDF"), response.content[:200]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return re.sub(r"[ \t]+", " ", text).replace("NIP .", "NIP.")


def assert_letterhead_and_signatory(text: str) -> None:
    assert GOVERNMENT in text and AGENCY in text
    assert ADDRESS in text
    assert HEAD in text and f"NIP. {NIP_PRINTED}" in text


# --- every printed page ------------------------------------------------------------------------------------


def test_suket_carries_letterhead_and_signatory(client, clerk, letterhead, frozen_now):
    card_request = CardRequestFactory(ready=True, collect=True, kind="rusak")
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)  # no blank in stock: a suket
    client.force_login(clerk)
    text = pdf_text(client.get(reverse("delivery:suket_pdf", args=[suket.pk])))
    assert_letterhead_and_signatory(text)
    assert re.search(r"(?m)^Ponorogo, \d{1,2} \w+ \d{4}$", text)  # signed at the town, in Indonesian


def test_invitation_letters_and_cover_sheet_carry_letterhead_and_signatory(client, clerk, letterhead, frozen_today):
    open_calendar(clerk.office, print_capacity=10, whatsapp=5, walk_in=3, invitation=5)
    card_request = CardRequestFactory(
        ready=True, resident=ResidentFactory(desa_id="35.02.01.2001", whatsapp="6281234567890")
    )
    day = next_weekday(frozen_today, THURSDAY)
    invitations.invitations_send(office=clerk.office, day=day, by=clerk)
    client.force_login(clerk)
    grouped = pdf_text(client.get(reverse("queueing:invitation_letters") + f"?day={day.isoformat()}"))
    assert_letterhead_and_signatory(grouped)
    assert grouped.count(GOVERNMENT) == 2 and grouped.count(NIP_PRINTED) == 2  # the desa's cover sheet and the letter
    single = pdf_text(client.get(reverse("queueing:booking_letter", args=[card_request.pk])))
    assert_letterhead_and_signatory(single)


def test_print_batch_sheet_carries_letterhead_and_signatory(client, clerk, letterhead, frozen_today):
    open_calendar(clerk.office, print_capacity=5)
    CardRequestFactory(ready=True, collect=True, kind="rusak")
    printing.blanks_receive(office=clerk.office, quantity=5, reference="K-1", received_on=frozen_today, by=clerk)
    batch = printing.print_batch_create(office=clerk.office, day=frozen_today, by=clerk)
    client.force_login(clerk)
    text = pdf_text(client.get(reverse("queueing:print_batch_sheet", args=[batch.pk])))
    assert_letterhead_and_signatory(text)
    assert "Mengetahui," in text


def test_walk_in_ticket_carries_the_letterhead(client, clerk, letterhead):
    day = ServiceDay.objects.create(
        office=clerk.office, date=timezone.localdate(), print_capacity=1, cap_walk_in=1, booked_walk_in=1,
        booked_total=1, last_ticket=1,
    )  # fmt: skip
    ticket = WalkInTicket.objects.create(day=day, number=1, issued_by=clerk)
    client.force_login(clerk)
    html = client.get(reverse("queueing:ticket_print", args=[ticket.pk])).content.decode()
    assert 'data-testid="letterhead"' in html
    assert GOVERNMENT in html and AGENCY in html and ADDRESS in html


def test_every_printed_template_includes_the_letterhead():
    """A new letter, suket, ticket or sheet must carry the kop: every document template (an @page rule, or the
    ticket's stylesheet) includes _letterhead.html."""
    root = django_settings.BASE_DIR / "templates"
    printed = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.html")
        if re.search(r"@page|ticket\.css", path.read_text())
    }
    documents = {"queueing/booking_letter.html", "delivery/suket.html", "queueing/printbatch_sheet.html"}
    assert documents | {"queueing/ticket.html"} <= printed
    missing = sorted(name for name in printed if "_letterhead.html" not in (root / name).read_text())
    assert not missing, f"printed pages without the letterhead: {missing}"


# --- a UPTD's letters ----------------------------------------------------------------------------------------


def test_a_uptd_prints_its_own_name_and_address_under_the_parents_lines(letterhead):
    uptd = Office.objects.get(region_id=KEC_A)
    Office.objects.filter(pk=uptd.pk).update(address="Jl. Raya Slahung No. 5")
    uptd.refresh_from_db()
    html = render_to_string("_letterhead.html", {"office": uptd})
    assert GOVERNMENT in html and AGENCY in html
    assert uptd.name in html and "Jl. Raya Slahung No. 5" in html
    assert ADDRESS not in html
    assert html.index(AGENCY) < html.index(uptd.name)  # its name under the agency line
    signature = render_to_string("_signatory.html", {"office": uptd})
    assert HEAD in signature and NIP_PRINTED in signature  # no head of its own: the Disdukcapil's head signs


def test_a_uptd_head_signs_its_own_letters(letterhead):
    uptd = Office.objects.get(region_id=KEC_A)
    Office.objects.filter(pk=uptd.pk).update(head_name="SITI ROHMAH, S.Sos.", head_nip="198003102005012003")
    uptd.refresh_from_db()
    signature = render_to_string("_signatory.html", {"office": uptd})
    assert "SITI ROHMAH, S.Sos." in signature and "19800310 200501 2 003" in signature and HEAD not in signature


def test_without_a_government_line_the_region_gives_it(ponorogo):
    assert ponorogo.letterhead.government_line == GOVERNMENT
    assert ponorogo.letterhead.agency_line == AGENCY


# --- the settings page ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, administrator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(administrator)
    return client


def settings_data(**changes) -> dict:
    return {
        "government_line": "pemerintah kabupaten ponorogo",
        "agency_line": AGENCY,
        "name": "Disdukcapil Kabupaten Ponorogo",
        "address": ADDRESS,
        "phone": "(0352) 481000",
        "email": "layanan@example.org",
        "website": "https://example.org",
        "head_name": HEAD,
        "head_title": "Kepala Dinas",
        "head_nip": "19700512 199503 1 002",
        "message_route": "counter",
        "invitation_lead_days": 3,
        "cod_fee": 9000,
        "ration_blanks": "on",
    } | changes


def test_administrator_fills_in_the_letterhead(admin_client, ponorogo):
    logo = SimpleUploadedFile("lambang.png", png_bytes(), content_type="image/png")
    response = admin_client.post(reverse("registry:office_settings"), settings_data(logo=logo))
    assert response.status_code == 302, response.context["form"].errors
    ponorogo.refresh_from_db()
    assert ponorogo.government_line == GOVERNMENT  # stored in capitals
    assert ponorogo.head_nip == NIP  # the printer's spaces dropped
    assert ponorogo.logo.name.startswith("kop/35.02/") and ponorogo.logo.name.endswith(".png")
    assert ponorogo.letterhead.logo_data_uri.startswith("data:image/png;base64,")
    page = admin_client.get(reverse("registry:office_settings")).content.decode()
    assert 'src="data:image/png;base64,' in page and NIP_PRINTED in page


@pytest.mark.parametrize(
    "nip",
    ["19700512199503100", "1970051219950310021", "19701312199503100A", "197013121995031002", "197005121995033002"],
)
def test_an_invalid_nip_is_a_field_error(admin_client, ponorogo, nip):
    response = admin_client.post(reverse("registry:office_settings"), settings_data(head_nip=nip))
    assert response.status_code == 400
    assert response.context["form"].errors["head_nip"]
    ponorogo.refresh_from_db()
    assert ponorogo.head_nip == "" and ponorogo.head_name == ""  # nothing saved


def test_the_database_refuses_a_nip_that_is_not_18_digits(ponorogo):
    with pytest.raises(IntegrityError), transaction.atomic():
        Office.objects.filter(pk=ponorogo.pk).update(head_nip="12345")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("logo.png", PDF),  # a PDF named .png
        ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),  # a PNG header on nothing
    ],
)
def test_a_non_image_logo_is_refused(admin_client, ponorogo, name, content):
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = admin_client.post(reverse("registry:office_settings"), settings_data(logo=upload))
    assert response.status_code == 400
    assert response.context["form"].errors["logo"]
    ponorogo.refresh_from_db()
    assert not ponorogo.logo and ponorogo.address == ""


def test_a_logo_is_stored_as_its_pixels_only(admin_client, ponorogo):
    image = Image.new("RGB", (2000, 1000), "red")
    out = io.BytesIO()
    image.save(out, format="JPEG", comment=b"secret-comment")
    upload = SimpleUploadedFile("lambang.jpg", out.getvalue() + b"<script>alert(1)</script>", content_type="image/jpeg")
    admin_client.post(reverse("registry:office_settings"), settings_data(logo=upload))
    ponorogo.refresh_from_db()
    stored = ponorogo.logo.read()
    assert b"secret-comment" not in stored and b"<script" not in stored
    assert max(Image.open(io.BytesIO(stored)).size) == 600


def test_replacing_the_logo_removes_the_old_file(admin_client, ponorogo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("registry:office_settings"),
            settings_data(logo=SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")),
        )
    ponorogo.refresh_from_db()
    first = ponorogo.logo.name
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("registry:office_settings"),
            settings_data(logo=SimpleUploadedFile("b.png", png_bytes(color="blue"), content_type="image/png")),
        )
    ponorogo.refresh_from_db()
    assert ponorogo.logo.name != first
    assert not ponorogo.logo.storage.exists(first) and ponorogo.logo.storage.exists(ponorogo.logo.name)


def test_the_uptd_form_has_no_government_lines_and_saves_its_own_head(admin_client, ponorogo):
    uptd = Office.objects.get(region_id=KEC_A)
    url = reverse("registry:office_settings") + f"?kantor={uptd.pk}"
    form = admin_client.get(url).context["form"]
    assert "government_line" not in form.fields and "logo" not in form.fields and "head_nip" in form.fields
    response = admin_client.post(
        url,
        {"name": uptd.name, "address": "Jl. Raya Slahung No. 5", "phone": "", "email": "", "website": "",
         "head_name": "SITI ROHMAH", "head_title": "Kepala UPTD", "head_nip": "198003102005012003"},
    )  # fmt: skip
    assert response.status_code == 302
    uptd.refresh_from_db()
    assert (uptd.address, uptd.head_nip) == ("Jl. Raya Slahung No. 5", "198003102005012003")


def test_another_kabupatens_office_is_404(admin_client):
    other = clerk_of_another_kabupaten().office
    url = reverse("registry:office_settings") + f"?kantor={other.pk}"
    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url, settings_data()).status_code == 404
    other.refresh_from_db()
    assert other.address == ""


def test_nip_is_printed_in_its_four_groups():
    assert nip_spaced(NIP) == NIP_PRINTED
    assert nip_spaced("") == ""


def test_the_demo_fills_the_letterhead_and_keeps_what_was_typed(ponorogo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Office.objects.filter(pk=ponorogo.pk).update(phone="(0352) 999")
    head = demo_letterhead_fill(kabupaten_code="35.02")
    kop = head.letterhead
    assert (kop.government_line, kop.signatory_nip) == (GOVERNMENT, NIP_PRINTED)
    assert head.phone == "(0352) 999"  # typed by the office: kept
    assert kop.logo_data_uri.startswith("data:image/png;base64,")
    assert head.letterhead_missing == []
    assert all(uptd.address for uptd in Office.objects.filter(parent=head))
