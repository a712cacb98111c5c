"""Role × URL matrix: every URL pattern of the project is exercised for anonymous, out-of-scope, wrong
method and allowed access. A new URL not listed here fails `test_every_url_pattern_is_in_the_matrix`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # may contain {a} (a resident in kecamatan A)
    method: str = "get"
    data: dict = field(default_factory=dict)
    public: bool = False
    allowed: tuple[str, ...] = ("clerk", "supervisor", "administrator", "uptd_a")
    ok_status: int = 200
    # A UPTD operator of kecamatan B asking for kecamatan A's object: 404 (never 403: no leak).
    scoped_object: bool = False
    # A role not in `allowed` gets this status.
    denied_status: int = 403
    # What a signed-in user gets where that differs from ok_status (the login page redirects them home).
    signed_in_status: int | None = None
    wrong_method: str | None = "delete"


# A POST that, without data, redirects back to its page with a message.
POSTED_IN_SCOPE = {"method": "post", "ok_status": 302, "wrong_method": "get", "scoped_object": True}
POSTED_BY_CLERKS = {"allowed": ("clerk", "supervisor", "administrator"), "ok_status": 302, "wrong_method": "get"}
# A POST without data that comes back as its page, each error beside its field (400), nothing changed.
REFUSED_IN_SCOPE = {**POSTED_IN_SCOPE, "ok_status": 400}
REFUSED_BY_CLERKS = {**POSTED_BY_CLERKS, "ok_status": 400}
# The inbox of the kabupaten office: its threads are not a UPTD's (404 for both UPTD operators).
INBOX_STAFF = {"allowed": ("clerk", "supervisor", "administrator"), "scoped_object": True}
INBOX_POSTED = {"method": "post", "ok_status": 302, "wrong_method": "get", "denied_status": 404, **INBOX_STAFF}

CASES = [
    Case("home", "/"),
    Case("login", "/masuk/", public=True, wrong_method="delete", signed_in_status=302),
    Case("logout", "/keluar/", method="post", ok_status=302, wrong_method="put"),
    Case(
        "set_language",
        "/bahasa/",
        method="post",
        data={"language": "en"},
        public=True,
        ok_status=302,
        wrong_method="put",
    ),
    Case("healthz", "/healthz", public=True, wrong_method="post"),
    # Provider endpoints: public, and 403 for anyone without Meta's verify token or signature / the SMS token.
    Case("webhook:whatsapp", "/webhook/whatsapp/", public=True, ok_status=403, wrong_method="put"),
    Case("webhook:sms", "/webhook/sms/", method="post", public=True, ok_status=403, wrong_method="get"),
    Case("registry:mfa_account", "/akun/2fa/"),
    Case("registry:mfa_enrol", "/akun/2fa/daftar/"),
    Case("registry:mfa_verify", "/akun/2fa/verifikasi/", ok_status=302),  # no device to ask a code of: home
    Case(
        "registry:mfa_reset",
        "/akun/2fa/petugas/{u}/reset/",
        method="post",
        allowed=("administrator",),
        ok_status=302,
        wrong_method="get",
    ),
    Case("registry:password_change", "/akun/kata-sandi/"),
    # Staff accounts and office settings: the administrator's (registry.add_user/change_user, change_office).
    Case("registry:staff_list", "/petugas/", allowed=("administrator",)),
    Case("registry:staff_create", "/petugas/baru/", allowed=("administrator",)),
    Case("registry:staff_edit", "/petugas/{u}/", allowed=("administrator",)),
    Case("registry:staff_password_reset", "/petugas/{u}/kata-sandi/", allowed=("administrator",)),
    *(
        Case(name, path, method="post", allowed=("administrator",), ok_status=302, wrong_method="get")
        for name, path in (
            ("registry:staff_deactivate", "/petugas/{u}/nonaktifkan/"),
            ("registry:staff_reactivate", "/petugas/{u}/aktifkan/"),
            ("registry:staff_unlock", "/petugas/{u}/buka-kunci/"),
        )
    ),
    Case("registry:office_settings", "/kantor/pengaturan/", allowed=("administrator",)),
    Case("registry:resident_list", "/penduduk/"),
    Case("registry:resident_detail", "/penduduk/{a}/", scoped_object=True),
    Case(
        "registry:resident_reveal_nik",
        "/penduduk/{a}/nik/",
        method="post",
        scoped_object=True,
        wrong_method="get",
    ),
    Case(
        "registry:resident_marital_status_set",
        "/penduduk/{a}/status-perkawinan/",
        method="post",
        allowed=("clerk", "supervisor", "administrator"),
        scoped_object=True,
        ok_status=302,
        wrong_method="get",
    ),
    Case("registry:region_desa_options", "/wilayah/desa/?kecamatan=35.02.01"),
    Case("registry:accesslog_list", "/audit/akses/", allowed=("supervisor", "administrator")),
    Case("registry:accesslog_export", "/audit/akses/ekspor.csv", allowed=("supervisor", "administrator")),
    Case("registry:import_list", "/penduduk/impor/", allowed=("supervisor", "administrator")),
    Case("registry:import_sample", "/penduduk/impor/contoh.csv", allowed=("supervisor", "administrator")),
    Case("registry:import_detail", "/penduduk/impor/{i}/", allowed=("supervisor", "administrator")),
    Case(
        "registry:import_cancel",
        "/penduduk/impor/{i}/batal/",
        method="post",
        allowed=("supervisor", "administrator"),
        ok_status=302,
        wrong_method="get",
    ),
    Case("registry:import_report", "/penduduk/impor/{i}/laporan.csv", allowed=("supervisor", "administrator")),
    Case("cards:cardrequest_list", "/permohonan/"),
    Case("cards:cardrequest_export", "/permohonan/ekspor.xlsx"),
    Case("cards:cardrequest_bulk", "/permohonan/massal/", method="post", **POSTED_BY_CLERKS),
    Case("cards:cardrequest_create", "/permohonan/baru/"),
    Case("cards:cardrequest_recording_queue", "/permohonan/perekaman/"),
    Case("cards:cardrequest_detail", "/permohonan/{r}/", scoped_object=True),
    Case("cards:cardrequest_transition", "/permohonan/{r}/status/", **POSTED_IN_SCOPE),
    Case("cards:cardrequest_route", "/permohonan/{r}/rute/", method="post", **POSTED_BY_CLERKS),
    Case("cards:cardrequest_central_answer", "/permohonan/{r}/jawaban-pusat/", method="post", **POSTED_BY_CLERKS),
    Case("cards:cardrequest_attachment_add", "/permohonan/{r}/lampiran/", **REFUSED_IN_SCOPE),
    Case("cards:cardrequest_attachment", "/permohonan/{r}/lampiran/{t}/", scoped_object=True),
    Case("cards:cardrequest_requirement_tick", "/permohonan/{r}/persyaratan/", **POSTED_IN_SCOPE),
    Case("cards:cardrequest_urgent_ask", "/permohonan/{r}/mendesak/", **REFUSED_IN_SCOPE),
    Case(
        "cards:cardrequest_urgent_decide",
        "/permohonan/{r}/mendesak/keputusan/",
        method="post",
        allowed=("supervisor", "administrator"),
        ok_status=302,
        wrong_method="get",
    ),
    Case("cards:cardrequest_biometrics", "/permohonan/{r}/perekaman/", **POSTED_IN_SCOPE),
    Case("cards:dispatch_list", "/kiriman/"),
    Case("cards:dispatch_create", "/kiriman/baru/", method="post", **POSTED_BY_CLERKS),
    Case("cards:dispatch_detail", "/kiriman/{d}/", scoped_object=True),
    Case(
        "cards:dispatch_item_receive",
        "/kiriman/{d}/kartu/{di}/terima/",
        method="post",
        allowed=("uptd_a",),
        scoped_object=True,
        ok_status=302,
        wrong_method="get",
    ),
    Case("cards:datasync_list", "/sinkronisasi/", allowed=("clerk", "supervisor", "administrator")),
    Case("cards:datasync_create", "/sinkronisasi/baru/", allowed=("clerk", "supervisor", "administrator")),
    Case("cards:datasync_detail", "/sinkronisasi/{n}/", allowed=("clerk", "supervisor", "administrator")),
    Case("cards:datasync_request_documents", "/sinkronisasi/{n}/minta-dokumen/", method="post", **POSTED_BY_CLERKS),
    Case("cards:datasync_mark_synchronised", "/sinkronisasi/{n}/disinkronkan/", method="post", **POSTED_BY_CLERKS),
    Case("cards:datasync_refuse", "/sinkronisasi/{n}/tolak/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:counter", "/loket/", allowed=("clerk", "supervisor", "administrator")),
    Case("queueing:ticket_issue", "/loket/tiket/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:ticket_print", "/loket/tiket/{k}/", allowed=("clerk", "supervisor", "administrator")),
    Case("queueing:ticket_call_next", "/loket/panggil/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:check_in", "/loket/hadir/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:call_end", "/loket/panggilan/selesai/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:walk_in_serve", "/loket/tiket/{k}/layani/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:walk_in_wrong_day", "/loket/hadir/hari-ini/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:invitation_list", "/loket/undangan/daftar/", allowed=("clerk", "supervisor", "administrator")),
    Case(
        "queueing:invitation_letters",
        "/loket/undangan/surat.pdf",
        allowed=("clerk", "supervisor", "administrator"),
        ok_status=302,
    ),
    # The coming days: every role reads its own scope's calendar and day list (any day: a fixed one here).
    Case("queueing:coming_days", "/kalender/"),
    Case("queueing:day_expected", "/kalender/2030-01-07/"),
    Case("queueing:day_export", "/kalender/2030-01-07/ekspor.csv"),
    Case("queueing:quota_settings", "/kalender/kuota/", allowed=("supervisor", "administrator")),
    Case("queueing:booking_create", "/permohonan/{r}/jadwal/", method="post", **REFUSED_BY_CLERKS),
    Case("queueing:booking_cancel", "/permohonan/{r}/jadwal/batal/", method="post", **POSTED_BY_CLERKS),
    Case(
        "queueing:day_close",
        "/loket/tutup/",
        method="post",
        allowed=("supervisor", "administrator"),
        ok_status=400,
        wrong_method="get",
    ),
    Case("queueing:invitations_send", "/loket/undangan/", method="post", **REFUSED_BY_CLERKS),
    Case(
        "queueing:booking_letter",
        "/permohonan/{r}/jadwal/surat.pdf",
        allowed=("clerk", "supervisor", "administrator"),
        ok_status=302,  # that request has no booking: back to its page with a message
    ),
    Case("delivery:suket_create", "/permohonan/{r}/suket/", method="post", **POSTED_BY_CLERKS),
    Case("delivery:suket_pdf", "/suket/{s}/surat.pdf", allowed=("clerk", "supervisor", "administrator")),
    Case("delivery:suket_verify", "/suket/cek/{v}/", public=True, wrong_method="post"),
    Case("delivery:suket_register", "/suket/"),
    Case("delivery:suket_register_export", "/suket/ekspor.csv"),
    Case("queueing:blanks", "/blangko/", allowed=("clerk", "supervisor", "administrator")),
    Case(
        "queueing:blank_ledger_export", "/blangko/mutasi/ekspor.csv", allowed=("clerk", "supervisor", "administrator")
    ),
    Case(
        "queueing:blanks_receive",
        "/blangko/terima/",
        method="post",
        allowed=("supervisor", "administrator"),
        ok_status=400,
        wrong_method="get",
    ),
    Case(
        "queueing:blanks_spoil",
        "/blangko/rusak/",
        method="post",
        allowed=("supervisor", "administrator"),
        ok_status=400,
        wrong_method="get",
    ),
    Case("queueing:print_batch_create", "/blangko/cetak/", method="post", **REFUSED_BY_CLERKS),
    Case("queueing:print_batch_print", "/blangko/cetak/{p}/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:print_batch_detail", "/blangko/batch/{p}/", allowed=("clerk", "supervisor", "administrator")),
    Case(
        "queueing:printbatch_export", "/blangko/batch/{p}/ekspor.xlsx", allowed=("clerk", "supervisor", "administrator")
    ),
    Case(
        "queueing:print_batch_sheet", "/blangko/batch/{p}/lembar.pdf", allowed=("clerk", "supervisor", "administrator")
    ),
    Case("queueing:print_batch_store", "/blangko/batch/{p}/simpan/", method="post", **REFUSED_BY_CLERKS),
    Case("queueing:counter_print", "/permohonan/{r}/cetak/", method="post", **POSTED_BY_CLERKS),
    Case("queueing:print_misprint", "/permohonan/{r}/gagal-cetak/", method="post", **POSTED_BY_CLERKS),
    Case("delivery:pickup_list", "/pengambilan/", allowed=("clerk", "supervisor", "administrator")),
    Case("delivery:shipment_list", "/pos/", allowed=("clerk", "supervisor", "administrator")),
    Case("delivery:shipment_create", "/permohonan/{r}/pos/", method="post", **REFUSED_BY_CLERKS),
    Case("delivery:shipment_delivered", "/permohonan/{r}/pos/diterima/", method="post", **POSTED_BY_CLERKS),
    Case("delivery:shipment_failed", "/permohonan/{r}/pos/gagal/", method="post", **POSTED_BY_CLERKS),
    Case("delivery:outbox_list", "/pesan-keluar/gagal/"),
    Case("delivery:outbox_resend", "/pesan-keluar/kirim-ulang/", method="post", ok_status=302, wrong_method="get"),
    Case("intake:thread_list", "/kotak-pesan/"),
    Case("intake:thread_detail", "/kotak-pesan/{th}/", denied_status=404, **INBOX_STAFF),
    Case("intake:thread_claim", "/kotak-pesan/{th}/ambil/", **INBOX_POSTED),
    Case("intake:thread_release", "/kotak-pesan/{th}/lepas/", **INBOX_POSTED),
    Case("intake:thread_answer", "/kotak-pesan/{th}/jawab/", **{**INBOX_POSTED, "ok_status": 400}),
    Case("intake:thread_link_resident", "/kotak-pesan/{th}/penduduk/", method="post", **REFUSED_BY_CLERKS),
    Case("intake:message_media", "/kotak-pesan/pesan/{m}/berkas/", denied_status=404, **INBOX_STAFF),
    Case("intake:message_attach", "/kotak-pesan/pesan/{m}/lampirkan/", **INBOX_POSTED),
    Case(
        "intake:message_reveal",
        "/kotak-pesan/pesan/{m}/buka/",
        method="post",
        wrong_method="get",
        denied_status=404,
        **INBOX_STAFF,
    ),
    Case("admin:index", "/admin/", allowed=("administrator",), denied_status=302, wrong_method=None),
]

# Patterns the admin site generates for every model: covered by admin:index's row (same permission gate).
EXEMPT_PREFIXES = ("admin:",)
EXEMPT_NAMES = {"admin:index"}


def _pattern_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            child_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _pattern_names(entry, child_ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
        elif isinstance(entry, URLPattern):
            names.add(f"{namespace}<unnamed {entry.pattern}>")
    return names


def test_every_url_pattern_is_in_the_matrix():
    listed = {case.name for case in CASES}
    missing = {
        name
        for name in _pattern_names(get_resolver())
        if name not in listed and not (name.startswith(EXEMPT_PREFIXES) and name not in EXEMPT_NAMES)
    }
    assert not missing, f"URL patterns without a row in the role × URL matrix: {sorted(missing)}"


@pytest.fixture
def an_import(supervisor):
    """A finished import of the supervisor's office, with one refused row."""
    from registry.models import ImportRowError, ResidentImport

    job = ResidentImport.objects.create(
        office=supervisor.office, created_by=supervisor, file_name="siak.csv", status="done", rows_refused=1
    )
    ImportRowError.objects.create(resident_import=job, row_number=2, column_name="NIK", value="1", reason="x")
    return job


@pytest.fixture
def ids(resident_a, an_import, uptd_a, clerk, settings, tmp_path):
    """Ids for the path placeholders: {a} resident in kecamatan A, {i} import, {r} a request of that resident
    submitted by UPTD A, {t} its attachment, {d}/{di} a dispatch to UPTD A and its card, {n} a SINKRONISASI,
    {k} a walk-in ticket of the kabupaten office, {u} the clerk's account, {th}/{m} an inbox thread of the kabupaten
    office and its photo message."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cards import data_sync, dispatch, services
    from cards.models import CardRequest
    from tests.documents import PDF

    settings.MEDIA_ROOT = tmp_path
    card_request = services.card_request_create(resident=resident_a, kind="hilang", by=uptd_a)
    attachment = services.attachment_add(
        card_request=card_request, upload=SimpleUploadedFile("surat.pdf", PDF), by=uptd_a
    )
    other = services.card_request_create(resident=resident_a, kind="pemula", by=uptd_a)
    CardRequest.objects.filter(pk=other.pk).update(status="printed")
    batch, _refused = dispatch.dispatch_create(uptd=uptd_a.office, card_request_ids=[other.pk], by=clerk)
    link = data_sync.data_sync_open(
        office=clerk.office,
        nik=resident_a.nik,
        kk_number=resident_a.family.kk_number,
        purpose="BPJS",
        channel="walk_in",
        by=clerk,
    )
    from django.utils import timezone

    from queueing.models import ServiceDay, WalkInTicket

    day = ServiceDay.objects.create(
        office=clerk.office, date=timezone.localdate(), print_capacity=1, cap_walk_in=1, booked_walk_in=1,
        booked_total=1, last_ticket=1,
    )  # fmt: skip
    ticket = WalkInTicket.objects.create(day=day, number=1, issued_by=clerk)
    from queueing.models import PrintBatch

    batch_to_print = PrintBatch.objects.create(office=clerk.office, date=day.date, created_by=clerk)
    from cards.models import CardRequest as Requests
    from delivery.services import suket_issue

    Requests.objects.filter(pk=card_request.pk).update(status="ready_to_print")
    suket = suket_issue(card_request_id=card_request.pk, by=clerk)
    Requests.objects.filter(pk=card_request.pk).update(status="received")
    from tests.documents import JPEG
    from tests.intake.inbox_rows import arrive, office_number, sender

    inbox_message = arrive(
        office_number(clerk.office), sender(at=timezone.now()), at=timezone.now(), kind="image", media=JPEG
    )
    return {
        "th": inbox_message.thread_id,
        "m": inbox_message.pk,
        "u": clerk.pk,
        "s": suket.pk,
        "v": suket.verify_code,
        "p": batch_to_print.pk,
        "k": ticket.pk,
        "a": resident_a.pk,
        "i": an_import.pk,
        "r": card_request.pk,
        "t": attachment.pk,
        "d": batch.pk,
        "di": batch.items.get().pk,
        "n": link.pk,
    }


def _request(client, case: Case, ids: dict, method: str | None = None):
    path = case.path.format(**ids)
    return getattr(client, method or case.method)(path, data=case.data or None)


ROLES = (ANONYMOUS, "clerk", "supervisor", "administrator", "uptd_a", "uptd_b")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_role_url_matrix(case: Case, role: str, client, request, ids):
    if role != ANONYMOUS:
        client.force_login(request.getfixturevalue(role))
    response = _request(client, case, ids)

    if role == ANONYMOUS and not case.public:
        assert response.status_code == 302
        assert "/masuk/" in response["Location"] or "/admin/login/" in response["Location"]
        return
    if role == "uptd_b" and case.scoped_object:
        assert response.status_code == 404
        return
    if case.public or role in case.allowed or (role == "uptd_b" and "uptd_a" in case.allowed):
        expected = case.signed_in_status if case.signed_in_status and role != ANONYMOUS else case.ok_status
        assert response.status_code == expected, response.content[:300]
    else:
        assert response.status_code == case.denied_status


@pytest.mark.parametrize("case", [c for c in CASES if c.wrong_method], ids=lambda c: c.name)
def test_wrong_method_is_405(case: Case, client, clerk, supervisor, ids):
    if not case.public:
        client.force_login(supervisor if "clerk" not in case.allowed else clerk)
    response = _request(client, case, ids, method=case.wrong_method)
    assert response.status_code == 405
