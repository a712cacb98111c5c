"""The admin as a kabupaten administrator of Ponorogo, with a second kabupaten (Pacitan, 35.01) in the database
(issue 12, "Critical: the admin" and "The admin bypasses the NIK rules").

Every registered admin is walked (admin.site._registry): its add and change forms accept no platform flag, no
row outside the editor's scope, and show no full NIK or KK number; a foreign row's URLs answer like a missing
row; the search takes no number through the query string; requirements are the platform's; every role or
office change is in the access log.
"""

from __future__ import annotations

import importlib
import re
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.forms import ModelChoiceField
from django.test import RequestFactory
from django.urls import reverse

from cards.models import Requirement
from intake.models import InboundMessage, WebhookPayload
from messaging.models import Contact, MessageTemplate, OfficeNumber
from queueing.models import Booking, Closure, OpeningHours, QuotaDefault, ServiceDay
from registry.models import AccessLog, Family, Office, Region, Resident, Role, User
from registry.offices import offices_create_for_kabupaten
from registry.regions import region_codes, regions_load
from registry.roles import ROLE_GROUP_NAMES, ROLE_PERMISSIONS, staff_assign_role
from tests.dates import FROZEN_NOW
from tests.factories import CardRequestFactory, FamilyFactory, ResidentFactory, UserFactory, open_calendar
from tests.registry.test_nik_mask import MIN_CANDIDATES, candidates_left, read_shown

PACITAN = "35.01"
PACITAN_KEC = "35.01.01"  # Donorojo
PACITAN_DESA = "35.01.01.2001"  # Widoro
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
CLIENT_ADDRESS = "203.0.113.7"
# Models with rows shared by every kabupaten: national rules and national holidays, visible to all.
NATIONAL = {Requirement, Closure}


@pytest.fixture
def pacitan(ponorogo) -> Office:
    regions_load(within=PACITAN)
    region_codes.cache_clear()
    head, _branches = offices_create_for_kabupaten(kabupaten_code=PACITAN)
    return head


@pytest.fixture
def pacitan_resident(pacitan) -> Resident:
    family = FamilyFactory(desa_id=PACITAN_DESA)
    resident = ResidentFactory(desa_id=PACITAN_DESA, full_name="PARJO DARI PACITAN", family=family)
    family.head = resident
    family.save(update_fields=["head"])
    return resident


@pytest.fixture
def pacitan_clerk(pacitan) -> User:
    return staff_assign_role(user=UserFactory(username="petugas.pacitan"), role=Role.CLERK, office=pacitan, by=None)


@pytest.fixture
def foreign(pacitan, pacitan_resident, pacitan_clerk) -> dict[type, list]:
    """A Pacitan row of every model the admin lists."""
    open_calendar(pacitan)
    day = ServiceDay.objects.create(office=pacitan, date=FROZEN_NOW.date(), print_capacity=10)
    card_request = CardRequestFactory(resident=pacitan_resident)
    booking = Booking.objects.create(
        card_request=card_request, day=day, office=pacitan, date=day.date, channel="whatsapp", number=1
    )
    log = AccessLog.objects.append(
        user=pacitan_clerk, action=AccessLog.Action.REVEAL_NIK, resident=pacitan_resident, detail="uji"
    )
    # A superuser attached to a Ponorogo office is still the platform's account, not the administrator's.
    office_superuser = UserFactory(username="super.ponorogo", is_superuser=True, is_staff=True)
    office_superuser.office = Office.objects.get(region_id="35.02")
    office_superuser.save()
    return {
        Region: [Region.objects.get(code=PACITAN), Region.objects.get(code=PACITAN_KEC), pacitan_resident.desa],
        Office: [pacitan, Office.objects.get(region_id=PACITAN_KEC)],
        User: [pacitan_clerk, office_superuser],
        Resident: [pacitan_resident],
        Family: [pacitan_resident.family],
        AccessLog: [log],
        OpeningHours: [OpeningHours.objects.filter(office=pacitan).first()],
        QuotaDefault: [QuotaDefault.objects.filter(office=pacitan).first()],
        ServiceDay: [day],
        Booking: [booking],
        **desk_rows(pacitan, resident=pacitan_resident, phone_number_id="99999"),
    }


@pytest.fixture
def in_scope(ponorogo, resident_a, resident_b, clerk, frozen_now) -> None:
    """Ponorogo rows of every model the admin lists, so that every change form has something to open."""
    open_calendar(ponorogo)
    ServiceDay.objects.create(office=ponorogo, date=frozen_now.date(), print_capacity=10)
    Closure.objects.create(office=ponorogo, date=frozen_now.date(), name="Rapat kerja", kind="local")
    AccessLog.objects.append(user=clerk, action=AccessLog.Action.REVEAL_NIK, resident=resident_a, detail="uji")
    desk_rows(ponorogo, resident=resident_a, phone_number_id="11111")


@pytest.fixture
def as_administrator(client, administrator):
    """The test client signed in as Ponorogo's administrator (request it after frozen_now: a session ends when
    the clock jumps past the idle timeout)."""
    client.force_login(administrator)
    return client


@pytest.fixture(autouse=True)
def _no_nested_loops(db):
    """The walk's changelists join several tables whose only rows are this test's own, uncommitted ones: the
    planner, with no statistics, estimates one row each and chose nested loops that, late in the whole suite,
    ran one changelist query for ten minutes. Hash joins are linear whatever the estimate (this transaction
    only; production plans from real statistics)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")


def desk_rows(office: Office, *, resident: Resident, phone_number_id: str) -> dict[type, list]:
    """The WhatsApp/SMS desk's rows of an office (intake/admin.py): a number, a wording, a failed payload naming
    the number, a message whose text and file name carry the resident's NIK."""
    number = OfficeNumber.objects.create(
        office=office, channel="whatsapp", number=f"62811{phone_number_id}", phone_number_id=phone_number_id
    )
    template = MessageTemplate.objects.create(office=office, code="request_received", text="Diterima: {number}.")
    body = f'{{"metadata": {{"phone_number_id": "{phone_number_id}"}}, "text": "#STATUS#{resident.nik}"}}'
    payload = WebhookPayload.objects.create(source="whatsapp", body=body, status="failed", error=resident.nik)
    contact = Contact.objects.create(phone=f"62812{phone_number_id}", user_id=f"ID.{phone_number_id}")
    message = InboundMessage.objects.create(
        source="whatsapp", provider_message_id=f"wamid.{phone_number_id}", office=office, office_number=number,
        contact=contact, sent_at=FROZEN_NOW, text=f"#STATUS#{resident.nik}", media_name=f"{resident.nik}.jpg",
        payload=payload,
    )  # fmt: skip
    return {OfficeNumber: [number], MessageTemplate: [template], WebhookPayload: [payload], InboundMessage: [message]}


def _url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def _request(user: User, method: str = "get"):
    request = getattr(RequestFactory(), method)("/admin/", REMOTE_ADDR=CLIENT_ADDRESS)
    request.user = user
    return request


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _user_post(user: User, **overrides) -> dict:
    """Everything the change form of an account might take, the old (UserAdmin's) fields included."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": "",
        "email": "",
        "is_active": "on",
        "office": user.office_id or "",
        "role": user.role,
        "date_joined_0": "2027-09-01",
        "date_joined_1": "08:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    return data | overrides


# --- staff accounts: no platform flag, no own role, an audit row per change --------------------------------


def test_no_platform_flag_on_the_account_forms(as_administrator, administrator, clerk):
    for url in (_url(User, "change", clerk.pk), _url(User, "change", administrator.pk), _url(User, "add")):
        html = as_administrator.get(url).content.decode()
        for field in ("is_superuser", "is_staff", "user_permissions", "groups"):
            assert f'name="{field}"' not in html, (url, field)


def test_posting_superuser_flags_grants_nothing(as_administrator, administrator, clerk):
    permission = Permission.objects.get(codename="delete_resident")
    group = Group.objects.get(name=ROLE_GROUP_NAMES[Role.ADMINISTRATOR])
    flags = {"is_superuser": "on", "is_staff": "on", "user_permissions": [permission.pk], "groups": [group.pk]}
    for account in (clerk, administrator):
        response = as_administrator.post(_url(User, "change", account.pk), _user_post(account, **flags))
        assert response.status_code == 302, response.content.decode()[:2000]
        account.refresh_from_db()
        assert not account.is_superuser
        assert not account.user_permissions.exists()
        assert not account.has_perm("registry.delete_resident")
    clerk.refresh_from_db()
    assert not clerk.is_staff
    assert list(clerk.groups.values_list("name", flat=True)) == [ROLE_GROUP_NAMES[Role.CLERK]]

    response = as_administrator.post(
        _url(User, "add"),
        {
            "username": "baru", "usable_password": "true", "password1": "kata-sandi-uji-123",
            "password2": "kata-sandi-uji-123", "office": administrator.office_id, "role": Role.CLERK, **flags,
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    new = User.objects.get(username="baru")
    assert (new.is_superuser, new.is_staff, new.user_permissions.exists()) == (False, False, False)


def test_nobody_changes_their_own_role_or_office(as_administrator, administrator, uptd_a):
    as_administrator.post(
        _url(User, "change", administrator.pk),
        _user_post(administrator, role=Role.UPTD_OPERATOR, office=uptd_a.office_id, first_name="GANTI"),
    )
    administrator.refresh_from_db()
    assert administrator.first_name == "GANTI"  # the rest of the form was saved
    assert (administrator.role, administrator.office_id) == (Role.ADMINISTRATOR, uptd_a.office.parent_id)
    html = as_administrator.get(_url(User, "change", administrator.pk)).content.decode()
    assert 'name="role"' not in html and 'name="office"' not in html


def test_an_account_cannot_be_moved_out_of_the_scope_or_left_without_office(as_administrator, clerk, pacitan):
    for office in (pacitan.pk, ""):
        response = as_administrator.post(_url(User, "change", clerk.pk), _user_post(clerk, office=office))
        assert response.status_code == 200
        assert "office" in response.context["adminform"].form.errors
        clerk.refresh_from_db()
        assert clerk.office.region_id == "35.02"


def test_every_role_or_office_change_is_in_the_access_log(as_administrator, administrator, clerk, uptd_a):
    response = as_administrator.post(
        _url(User, "change", clerk.pk), _user_post(clerk, role=Role.SUPERVISOR), REMOTE_ADDR=CLIENT_ADDRESS
    )
    assert response.status_code == 302
    row = AccessLog.objects.get(action=AccessLog.Action.STAFF_CHANGE)
    assert (row.user, row.resident, row.ip_address) == (administrator, None, CLIENT_ADDRESS)
    assert "petugas" in row.detail and "Petugas → Kepala bidang" in row.detail

    as_administrator.post(
        _url(User, "add"),
        {
            "username": "operator.baru", "usable_password": "true", "password1": "kata-sandi-uji-123",
            "password2": "kata-sandi-uji-123", "office": uptd_a.office_id, "role": Role.UPTD_OPERATOR,
        },
    )  # fmt: skip
    added = AccessLog.objects.filter(action=AccessLog.Action.STAFF_CHANGE, detail__contains="operator.baru").get()
    assert "- → Operator UPTD" in added.detail and uptd_a.office.name in added.detail

    # Saving an account without changing its role or office adds no row.
    as_administrator.post(_url(User, "change", clerk.pk), _user_post(clerk, role=Role.SUPERVISOR, first_name="X"))
    assert AccessLog.objects.filter(action=AccessLog.Action.STAFF_CHANGE).count() == 2


def test_staff_changes_are_listed_in_the_access_log_admin(client, administrator, clerk):
    staff_assign_role(user=clerk, role=Role.SUPERVISOR, office=clerk.office, by=administrator)
    other_admin = staff_assign_role(
        user=UserFactory(username="admin2"), role=Role.ADMINISTRATOR, office=clerk.office, by=None
    )
    client.force_login(other_admin)
    html = client.get(_url(AccessLog, "changelist")).content.decode()
    assert "Akun petugas" in html


# --- offices: region, kind and parent are the platform's ----------------------------------------------------


def _office_post(office: Office, **overrides) -> dict:
    data = {
        "kind": office.kind, "name": office.name, "region": office.region_id, "parent": office.parent_id or "",
        "address": "", "phone": "", "is_active": "on", "time_zone": office.time_zone,
        "message_route": office.message_route, "invitation_lead_days": office.invitation_lead_days,
        "cod_fee": office.cod_fee, "ration_blanks": "on",
    }  # fmt: skip
    return data | overrides


def test_office_region_kind_and_parent_cannot_be_repointed(as_administrator, ponorogo):
    slahung = Office.objects.get(region_id="35.02.01")
    for office, posted in (
        (slahung, {"region": "35", "kind": "disdukcapil", "parent": ""}),
        (ponorogo, {"region": "35", "time_zone": "Asia/Makassar"}),
    ):
        response = as_administrator.post(_url(Office, "change", office.pk), _office_post(office, **posted))
        assert response.status_code == 302
        before = (office.region_id, office.kind, office.parent_id)
        office.refresh_from_db()
        assert (office.region_id, office.kind, office.parent_id) == before
    assert ponorogo.time_zone == "Asia/Makassar"  # what an administrator may edit is still saved


def test_administrator_adds_a_uptd_only_on_a_kecamatan_of_the_kabupaten(as_administrator, ponorogo, pacitan):
    Office.objects.filter(region_id__in=["35.02.21", "35.01.12"]).delete()
    template = Office(kind="uptd", name="UPTD baru", time_zone="Asia/Jakarta", message_route="counter")
    refused = {
        "region": {"region": "35.01.12", "parent": pacitan.pk},  # a Pacitan kecamatan
        "parent": {"region": "35.02.21", "parent": pacitan.pk},  # under another kabupaten's Disdukcapil
    }
    for field, posted in refused.items():
        response = as_administrator.post(_url(Office, "add"), _office_post(template, **posted))
        assert response.status_code == 200 and field in response.context["adminform"].form.errors, field
    for posted in ({"region": "35.02.21", "parent": "", "kind": "disdukcapil"}, {"region": "35.02", "parent": ""}):
        response = as_administrator.post(_url(Office, "add"), _office_post(template, **posted))
        assert response.status_code == 200
    assert not Office.objects.filter(region_id__in=["35.02.21", "35.01.12", "35"]).exists()

    response = as_administrator.post(_url(Office, "add"), _office_post(template, region="35.02.21", parent=ponorogo.pk))
    assert response.status_code == 302
    assert Office.objects.get(region_id="35.02.21").parent == ponorogo


# --- every admin form: no foreign region, family, office, resident, account ----------------------------------


def test_every_admin_form_refuses_a_foreign_row(administrator, in_scope, foreign):
    request = _request(administrator)
    checked = set()
    for model, model_admin in _registered():
        forms = []
        if model_admin.has_add_permission(request):
            forms.append(None)
        obj = model_admin.get_queryset(request).first()
        if obj is not None and model_admin.has_change_permission(request, obj):
            forms.append(obj)
        for obj in forms:
            form_class = model_admin.get_form(request, obj)
            for name, field in form_class.base_fields.items():
                if not isinstance(field, ModelChoiceField) or field.queryset.model not in foreign:
                    continue
                for row in foreign[field.queryset.model]:
                    form = form_class(data={name: row.pk}, instance=obj)
                    codes = [error.code for error in form.errors.as_data().get(name, [])]
                    assert "invalid_choice" in codes, (model.__name__, obj, name, row)
                checked.add((model.__name__, name))
    assert {
        ("Resident", "desa"), ("Resident", "family"), ("Family", "head"), ("Family", "desa"), ("Office", "region"),
        ("Office", "parent"), ("User", "office"), ("OpeningHours", "office"), ("QuotaDefault", "office"),
        ("ServiceDay", "office"), ("Closure", "office"), ("OfficeNumber", "office"), ("MessageTemplate", "office"),
    } <= checked  # fmt: skip


def test_a_resident_cannot_be_created_in_another_kabupaten(as_administrator, pacitan_resident):
    count = Resident.objects.count()
    response = as_administrator.post(
        _url(Resident, "add"),
        {
            "nik": "3501015205900007", "full_name": "WARGA SELUNDUPAN", "birth_place": "PACITAN",
            "birth_date": "1990-05-12", "sex": "P", "religion": "islam", "address": "Jl. Baru", "rt": "001",
            "rw": "001", "desa": PACITAN_DESA, "family": pacitan_resident.family_id, "relation_to_head": "anak",
        },
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "desa" in errors and "family" in errors
    assert Resident.objects.count() == count


def test_a_closure_for_every_office_is_the_platforms(as_administrator):
    response = as_administrator.post(
        _url(Closure, "add"), {"date": "2027-09-20", "name": "Libur semua kantor", "kind": "local", "office": ""}
    )
    assert response.status_code == 200 and "office" in response.context["adminform"].form.errors
    assert not Closure.objects.filter(name="Libur semua kantor").exists()


def test_foreign_rows_answer_like_missing_rows(as_administrator, administrator, foreign):
    request = _request(administrator)
    viewable = {model for model, model_admin in _registered() if model_admin.has_view_permission(request)}
    assert viewable - NATIONAL <= set(foreign)  # a newly registered admin needs a foreign row here
    for model, rows in foreign.items():
        for row in rows:
            urls = [_url(model, action, row.pk) for action in ("change", "history", "delete")]
            if model is User:
                urls.append(reverse("admin:auth_user_password_change", args=[row.pk]))
            for url in urls:
                response = as_administrator.get(url)
                assert response.status_code in (302, 403, 404), (url, response.status_code)
                if response.status_code == 302:
                    assert response["Location"] in (reverse("admin:index"), "/admin/"), url


# --- NIK and KK numbers: masked, never in an admin URL ------------------------------------------------------


def _admin_pages(client, user: User):
    request = _request(user)
    for model, model_admin in _registered():
        if not model_admin.has_view_permission(request):
            continue
        yield _url(model, "changelist")
        if model_admin.has_add_permission(request):
            yield _url(model, "add")
        # Residents and families hold the numbers: several of each; one row of every other model.
        for obj in model_admin.get_queryset(request)[: 5 if model in (Resident, Family) else 1]:
            yield _url(model, "change", obj.pk)
            yield _url(model, "history", obj.pk)


def test_no_full_nik_or_kk_on_any_admin_page(in_scope, foreign, as_administrator, administrator):
    numbers = [*Resident.objects.values_list("nik", flat=True), *Family.objects.values_list("kk_number", flat=True)]
    pages = list(_admin_pages(as_administrator, administrator))
    assert _url(Resident, "change", Resident.objects.get(full_name="SITI AMINAH").pk) in pages
    for url in pages:
        response = as_administrator.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not SIXTEEN_DIGITS.search(html), url
        assert not [number for number in numbers if number in html], url


def test_the_resident_change_form_masks_the_nik_and_links_to_the_audited_reveal(as_administrator, resident_a):
    response = as_administrator.get(_url(Resident, "change", resident_a.pk))
    html = response.content.decode()
    assert resident_a.masked_nik in html and resident_a.nik not in html
    assert reverse("registry:resident_detail", args=[resident_a.pk]) in html
    assert 'name="nik"' not in html
    html = as_administrator.get(_url(Family, "change", resident_a.family_id)).content.decode()
    assert resident_a.family.kk_number not in html and 'name="kk_number"' not in html


def test_the_resident_list_shows_an_age_not_a_birth_date(frozen_now, as_administrator, resident_a):
    html = as_administrator.get(_url(Resident, "changelist")).content.decode()
    table = html[html.index('id="result_list"') :]
    assert f'<td class="field-age">{resident_a.age_on(frozen_now.date())}</td>' in table
    assert str(resident_a.birth_date.year) not in table


def test_admin_search_takes_no_nik_through_the_query_string(as_administrator, resident_a):
    family = resident_a.family
    for model, number in ((Resident, resident_a.nik), (Family, family.kk_number), (Resident, " ".join(resident_a.nik))):
        response = as_administrator.get(_url(model, "changelist"), {"q": number})
        assert response.status_code == 302
        assert not re.search(r"\d{5}", response["Location"])
        followed = as_administrator.get(response["Location"])
        html = followed.content.decode()
        assert reverse("registry:resident_list") in html  # the message points to the app's (POST) search
        assert number not in html
    for lookup in ("nik", "nik__startswith", "family__kk_number"):
        response = as_administrator.get(_url(Resident, "changelist"), {lookup: resident_a.nik[:6]})
        assert response.status_code == 400, lookup
    response = as_administrator.get(_url(Resident, "changelist"), {"nik": resident_a.nik})
    assert response.status_code == 302 and resident_a.nik not in response["Location"]
    # The name still finds the resident.
    assert "SITI AMINAH" in as_administrator.get(_url(Resident, "changelist"), {"q": "aminah"}).content.decode()


# --- requirements are national rules ------------------------------------------------------------------------


def test_requirements_are_the_platforms(as_administrator, client, administrator):
    requirement = Requirement.objects.first() or Requirement.objects.create(
        kind="rusak", code="uji", name="Surat uji", stage="document"
    )
    assert "cards.add_requirement" not in ROLE_PERMISSIONS[Role.ADMINISTRATOR]
    assert "cards.change_requirement" not in ROLE_PERMISSIONS[Role.ADMINISTRATOR]
    assert as_administrator.get(_url(Requirement, "changelist")).status_code == 200
    assert as_administrator.get(_url(Requirement, "add")).status_code == 403
    data = {"kind": requirement.kind, "code": requirement.code, "name": "DIUBAH", "stage": requirement.stage}
    assert as_administrator.post(_url(Requirement, "add"), data | {"code": "baru"}).status_code == 403
    response = as_administrator.post(_url(Requirement, "change", requirement.pk), data)
    assert response.status_code in (200, 403)
    requirement.refresh_from_db()
    assert requirement.name != "DIUBAH"
    assert not Requirement.objects.filter(code="baru").exists()

    platform = UserFactory(username="platform", is_superuser=True, is_staff=True)
    client.force_login(platform)
    assert client.get(_url(Requirement, "add")).status_code == 200


def test_platform_superuser_keeps_the_platform_fields_and_is_audited_too(client, clerk):
    platform = UserFactory(username="platform", is_superuser=True, is_staff=True)
    client.force_login(platform)
    html = client.get(_url(User, "change", clerk.pk)).content.decode()
    assert 'name="is_superuser"' in html and 'name="groups"' in html
    response = client.post(
        _url(User, "change", clerk.pk), _user_post(clerk, office="", role="", groups=[]), REMOTE_ADDR=CLIENT_ADDRESS
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert (clerk.role, clerk.office_id, clerk.groups.exists()) == ("", None, False)
    row = AccessLog.objects.get(action=AccessLog.Action.STAFF_CHANGE)
    assert (row.user, row.ip_address) == (platform, CLIENT_ADDRESS)
    assert "Petugas → -" in row.detail


# --- the birth date completes a masked NIK: not on the change form, not in a lookup (issue 12 review) --------


def _resident_post(resident: Resident, **overrides) -> dict:
    """Every field of the resident change form, and a birth date posted by hand."""
    data = {
        "full_name": resident.full_name, "birth_place": resident.birth_place, "sex": resident.sex,
        "religion": resident.religion, "address": resident.address, "rt": resident.rt, "rw": resident.rw,
        "desa": resident.desa_id, "whatsapp": resident.whatsapp, "family": resident.family_id or "",
        "relation_to_head": resident.relation_to_head, "biometric_recorded": "on",
    }  # fmt: skip
    return data | overrides


def test_the_resident_change_form_shows_an_age_not_the_birth_date(frozen_now, as_administrator, resident_a):
    html = as_administrator.get(_url(Resident, "change", resident_a.pk)).content.decode()
    shown = read_shown(html)
    assert resident_a.birth_date not in shown.dates and 'name="birth_date"' not in html
    assert f"{resident_a.age_on(frozen_now.date())} tahun" in html
    assert candidates_left(shown, nik=resident_a.nik, sex=resident_a.sex, today=frozen_now.date()) >= MIN_CANDIDATES
    # The add form still takes a birth date: it is typed in once, with the NIK.
    assert 'name="birth_date"' in as_administrator.get(_url(Resident, "add")).content.decode()


def test_a_birth_date_posted_to_the_resident_change_form_is_ignored(frozen_now, as_administrator, resident_a):
    born = resident_a.birth_date
    response = as_administrator.post(
        _url(Resident, "change", resident_a.pk), _resident_post(resident_a, birth_date="2001-01-30", rt="009")
    )
    assert response.status_code == 302
    resident_a.refresh_from_db()
    assert (resident_a.rt, resident_a.birth_date) == ("009", born)


@pytest.mark.parametrize(
    ("model", "lookup"),
    [
        (Resident, "birth_date"),
        (Resident, "birth_date__gte"),
        (Resident, "birth_date__year"),
        (Resident, "family__head__birth_date"),
        (Family, "head__birth_date"),
    ],
)
def test_no_admin_list_filters_on_a_birth_date(as_administrator, resident_a, model, lookup):
    value = resident_a.birth_date.isoformat() if not lookup.endswith("__year") else str(resident_a.birth_date.year)
    response = as_administrator.get(_url(model, "changelist"), {lookup: value})
    assert response.status_code == 400
    assert resident_a.full_name not in response.content.decode()


# --- passwords: an audit row each, and never a peer administrator's ----------------------------------------


NEW_PASSWORD = "Pw-baru-sekali-123"
PASSWORD_POST = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}


@pytest.fixture
def peer_administrator(ponorogo) -> User:
    account = UserFactory(username="admin.kedua")
    return staff_assign_role(
        user=account, role=Role.ADMINISTRATOR, office=Office.objects.get(region_id="35.02"), by=None
    )


def _password_url(user: User) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


@pytest.mark.parametrize("account_key", ["clerk", "supervisor", "uptd_a"])
def test_setting_a_password_is_in_the_access_log(request, frozen_now, as_administrator, administrator, account_key):
    account = request.getfixturevalue(account_key)
    assert as_administrator.get(_password_url(account)).status_code == 200
    response = as_administrator.post(_password_url(account), PASSWORD_POST, REMOTE_ADDR=CLIENT_ADDRESS)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    row = AccessLog.objects.get(action=AccessLog.Action.STAFF_CHANGE)
    assert (row.user, row.resident, row.ip_address) == (administrator, None, CLIENT_ADDRESS)
    assert row.detail == f"Kata sandi diganti: akun {account.username} (#{account.pk})"


def test_disabling_a_password_is_in_the_access_log(frozen_now, as_administrator, clerk):
    response = as_administrator.post(_password_url(clerk), {"usable_password": "false", "unset-password": "1"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert not clerk.has_usable_password()
    assert AccessLog.objects.get().detail == f"Kata sandi dinonaktifkan: akun petugas (#{clerk.pk})"


def test_a_refused_password_form_writes_no_row(frozen_now, as_administrator, clerk):
    response = as_administrator.post(_password_url(clerk), PASSWORD_POST | {"password2": "lain-sama-sekali-999"})
    assert response.status_code == 200
    assert not AccessLog.objects.exists()


def test_an_administrator_sets_no_peer_administrators_password(
    frozen_now, as_administrator, administrator, peer_administrator
):
    for account in (peer_administrator, administrator):  # their own too: that page asks for the old password
        assert as_administrator.get(_password_url(account)).status_code == 403
        assert as_administrator.post(_password_url(account), PASSWORD_POST).status_code == 403
        account.refresh_from_db()
        assert not account.check_password(NEW_PASSWORD)
    assert not AccessLog.objects.exists()


def test_deactivating_in_the_admin_is_a_staff_change_row_and_never_ones_own(
    frozen_now, as_administrator, administrator, clerk
):
    """The app's rules (registry/staff.py staff_active_set): a STAFF_CHANGE row, and nobody deactivates
    themselves, in the admin too."""
    response = as_administrator.post(
        _url(User, "change", clerk.pk), _user_post(clerk) | {"is_active": ""}, REMOTE_ADDR=CLIENT_ADDRESS
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert not clerk.is_active
    row = AccessLog.objects.get(action=AccessLog.Action.STAFF_CHANGE)
    assert (row.user, row.ip_address) == (administrator, CLIENT_ADDRESS)
    assert row.detail == f"Akun {clerk.username} (#{clerk.pk}) dinonaktifkan"
    as_administrator.post(_url(User, "change", administrator.pk), _user_post(administrator) | {"is_active": ""})
    administrator.refresh_from_db()
    assert administrator.is_active
    assert AccessLog.objects.filter(action=AccessLog.Action.STAFF_CHANGE).count() == 1


def test_an_administrator_does_not_demote_a_peer_administrator_in_the_admin(
    frozen_now, as_administrator, peer_administrator, ponorogo
):
    """Demoting the peer would open their password to a reset (and promoting them back hand the account over)."""
    response = as_administrator.post(
        _url(User, "change", peer_administrator.pk), _user_post(peer_administrator, role=Role.CLERK)
    )
    assert response.status_code in (200, 302)
    peer_administrator.refresh_from_db()
    assert peer_administrator.role == Role.ADMINISTRATOR
    assert not AccessLog.objects.filter(action=AccessLog.Action.STAFF_CHANGE).exists()


def test_the_platform_sets_an_administrators_password_audited(client, frozen_now, administrator):
    platform = UserFactory(username="platform", is_superuser=True, is_staff=True)
    client.force_login(platform)
    assert client.post(_password_url(administrator), PASSWORD_POST).status_code == 302
    administrator.refresh_from_db()
    assert administrator.check_password(NEW_PASSWORD)
    row = AccessLog.objects.get(action=AccessLog.Action.STAFF_CHANGE)
    assert row.user == platform and f"akun admin (#{administrator.pk})" in row.detail


# --- the old mask (head and serial) in what was stored before issue 12 --------------------------------------


def test_access_log_rows_with_the_old_mask_are_shown_remasked(frozen_now, as_administrator, clerk, resident_a):
    old = f"{resident_a.nik[:4]}********{resident_a.nik[-4:]}"
    row = AccessLog.objects.append(
        user=clerk, action=AccessLog.Action.SEARCH_NIK, resident=resident_a, detail=f"Pencarian NIK/KK {old}"
    )
    for url in (_url(AccessLog, "changelist"), _url(AccessLog, "change", row.pk)):
        html = as_administrator.get(url).content.decode()
        assert f"Pencarian NIK/KK {resident_a.nik[:4]}{'*' * 12}" in html, url
        assert old not in html and resident_a.nik[-4:] not in re.findall(r"\*{8}(\d{4})", html), url


def test_the_admin_log_is_remasked_by_migration_0018(frozen_now, as_administrator, administrator, resident_a):
    remask = importlib.import_module("registry.migrations.0018_remask_admin_log").remask_object_repr
    old = f"{resident_a.full_name} ({resident_a.nik[:4]}********{resident_a.nik[-4:]})"
    kept = "Disdukcapil Kabupaten Ponorogo (35.02)"
    entries = [
        LogEntry.objects.create(
            user=administrator,
            content_type=ContentType.objects.get_for_model(Resident),
            object_id=str(resident_a.pk),
            object_repr=text,
            action_flag=CHANGE,
            change_message="[]",
        )
        for text in (old, kept)
    ]
    assert old in as_administrator.get(reverse("admin:index")).content.decode()  # the "recent actions" box
    remask(django_apps, SimpleNamespace(connection=connection))
    assert [LogEntry.objects.get(pk=e.pk).object_repr for e in entries] == [
        f"{resident_a.full_name} ({resident_a.nik[:4]}{'*' * 12})",
        kept,
    ]
    html = as_administrator.get(reverse("admin:index")).content.decode()
    assert old not in html and resident_a.masked_nik in html
