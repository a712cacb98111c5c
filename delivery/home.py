"""Today's figures for the home page, per permission (permissions decide, not role names): what is waiting,
each figure with the address of the list that shows exactly the rows it counts.

A fixed number of queries whatever the data size: one aggregate per table with conditional counts, and only
open rows are read (open requests, threads waiting, today's appointments, the last 14 days' prints), so the
closed history never grows the page's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Exists, Min, OuterRef, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cards.models import CardRequest, DataSyncRequest
from cards.tables import queue_condition
from delivery import outbox
from intake import inbox
from messaging.models import Notification, OfficeNumber
from queueing.calendar import printing_office
from queueing.models import (
    BlankMovement,
    BlankStock,
    Booking,
    CallStatus,
    OpeningHours,
    QuotaDefault,
    ServiceDay,
    WalkInTicket,
)
from registry import clock, staff
from registry.mfa import MFA_ROLES
from registry.models import Office, User

S = CardRequest.Status
# The print rate that tells how long the blanks in stock last.
PRINT_RATE_DAYS = 14
# Blanks lasting fewer working days than this are flagged.
BLANKS_LOW_DAYS = 10
MISSING_ITEMS_SHOWN = 5
# The coming weeks an administrator's home checks for open days without print places.
COMING_DAYS = 28
# The request stages a UPTD operator and a supervisor follow: work-queue tabs (key, label).
# Lazy: read when a page is rendered, in the reader's language (gettext here would run once, at import).
STAGES = [
    ("verifikasi", gettext_lazy("Menunggu verifikasi")),
    ("belum-lengkap", gettext_lazy("Belum lengkap")),
    ("siap-cetak", gettext_lazy("Siap cetak")),
    ("terjadwal", gettext_lazy("Terjadwal di loket")),
    ("dicetak", gettext_lazy("Dicetak")),
    ("penyerahan", gettext_lazy("Menunggu penyerahan")),
]


@dataclass(frozen=True)
class Figure:
    """One number on the home page and the list behind it."""

    key: str
    label: str
    value: int | None
    url: str
    note: str = ""
    # Drawn in the warning colour when the figure asks for action (a non-zero backlog, blanks running out).
    alert: bool = False


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    # A breakdown shown under the figures: (text, count).
    details: list[tuple[str, int]] = field(default_factory=list)
    details_title: str = ""


def _url(name: str, **query: str) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def _url_or(names: list[tuple[str, dict]]) -> str:
    """The first of `names` that exists (a page another part of the product adds), with its query string."""
    for name, query in names:
        try:
            return _url(name, **query)
        except NoReverseMatch:
            continue
    return ""


# --- requests ---------------------------------------------------------------------------------------------


def open_request_counts(*, user: User) -> dict[str, int]:
    """Open requests in the user's scope, per work-queue tab (the tab's own condition, so the figure and the
    tab's rows agree), plus the cards sent to a UPTD. One query over open rows only."""
    keys = [key for key, _label in STAGES] + ["mendesak", "semua"]
    counts = {key.replace("-", "_"): Count("id", filter=queue_condition(key)) for key in keys}
    counts["sent_to_uptd"] = Count("id", filter=Q(status=S.SENT_TO_UPTD))
    return CardRequest.objects.visible_to(user).open().aggregate(**counts)


def cards_not_confirmed_received(*, user: User) -> int:
    """Cards sent to a UPTD in the user's scope whose arrival the UPTD has not confirmed yet."""
    return (
        CardRequest.objects.visible_to(user)
        .filter(status=S.SENT_TO_UPTD, dispatch_item__received_at__isnull=True)
        .count()
    )


def missing_items_top(*, user: User, limit: int = MISSING_ITEMS_SHOWN) -> list[tuple[str, int]]:
    """What incomplete requests in the user's scope still miss, the most frequent first: (item, requests).
    One query (the items are unnested in the database)."""
    queryset = CardRequest.objects.visible_to(user).filter(queue_condition("belum-lengkap")).values("missing_items")
    sql, params = queryset.query.sql_with_params()
    if connection.vendor == "postgresql":
        unnest = "CROSS JOIN LATERAL jsonb_array_elements_text(r.missing_items) AS m(item)"
        item = "m.item"
    else:
        unnest = "CROSS JOIN json_each(r.missing_items) AS m"
        item = "m.value"
    statement = (
        f"SELECT {item}, COUNT(*) FROM ({sql}) AS r {unnest} "  # noqa: S608 (Django's own SQL, parameters bound)
        f"GROUP BY {item} ORDER BY COUNT(*) DESC, {item} LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, limit])
        return [(str(text), int(n)) for text, n in cursor.fetchall()]


# --- the counter today ------------------------------------------------------------------------------------


def arrivals_today(*, office: Office) -> dict[str, int]:
    """Today's arrivals at the printing office, counted as the counter's day list counts them: appointments
    expected today, residents who arrived (checked in, or took a walk-in number), and those served. Two
    queries (appointments, walk-in numbers)."""
    office = printing_office(office)
    today = clock.today(office)
    B = Booking.Status
    bookings = Booking.objects.filter(office=office, date=today, ticket__isnull=True).aggregate(
        expected=Count("id", filter=Q(status__in=[B.BOOKED, B.CHECKED_IN, B.NO_SHOW])),
        not_come=Count("id", filter=Q(status=B.BOOKED)),
        checked_in=Count("id", filter=Q(status=B.CHECKED_IN)),
        served=Count("id", filter=Q(status=B.CHECKED_IN, call_status=CallStatus.SERVED)),
    )
    tickets = WalkInTicket.objects.filter(day__office=office, day__date=today).aggregate(
        issued=Count("id"), served=Count("id", filter=Q(status=CallStatus.SERVED))
    )
    return {
        "expected": bookings["expected"],
        "not_come": bookings["not_come"],
        "arrived": bookings["checked_in"] + tickets["issued"],
        "served": bookings["served"] + tickets["served"],
        "walk_in": tickets["issued"],
    }


# --- the inbox, the outbox, SINKRONISASI ------------------------------------------------------------------


def inbox_waiting(*, user: User) -> dict:
    """Threads waiting for an answer in the user's scope and the arrival of the oldest unanswered message."""
    return (
        inbox.threads_visible_to(user)
        .filter(waiting_since__isnull=False)
        .aggregate(threads=Count("pk"), oldest=Min("waiting_since"))
    )


def dead_messages(*, user: User) -> int:
    """Messages the outbox gave up on, in the user's scope."""
    return outbox.notifications_visible_to(user).filter(status=Notification.Status.DEAD).count()


def data_sync_open(*, user: User) -> int:
    return DataSyncRequest.objects.visible_to(user).open().count()


# --- blanks -----------------------------------------------------------------------------------------------


def blanks_outlook(*, office: Office) -> dict:
    """Blanks in stock at the printing office, cards printed in the last PRINT_RATE_DAYS days, and the days
    the stock lasts at that rate (None when nothing was printed). Two queries."""
    office = printing_office(office)
    stock = BlankStock.objects.filter(office=office).values_list("quantity", flat=True).first() or 0
    since = clock.now() - timedelta(days=PRINT_RATE_DAYS)
    printed = -(
        BlankMovement.objects.filter(office=office, kind=BlankMovement.Kind.PRINT, created_at__gte=since).aggregate(
            total=Sum("quantity")
        )["total"]
        or 0
    )
    days = int(max(stock, 0) * PRINT_RATE_DAYS / printed) if printed else None
    return {"stock": stock, "printed": printed, "days": days}


# --- staff and settings -----------------------------------------------------------------------------------


def staff_attention(*, user: User) -> dict[str, int]:
    """Active staff accounts the administrator manages (registry.staff: the staff page's own scope and
    annotations, so each figure equals the page's `?perhatian=` rows) that need a look: never signed in, locked
    out by failed logins now, and supervisors or administrators without a second factor. One query over the
    accounts (tens per office), none over requests."""
    accounts = staff.staff_list_annotated(staff.staff_visible_to(user)).filter(is_active=True)
    # Counted here from one row per account (an office has tens of accounts): Django aggregates over these
    # Exists annotations in a subquery that leaves them out, so a database count of them fails.
    counts = dict.fromkeys(["total", "never_signed_in", "locked_out", "without_2fa"], 0)
    for last_login, role, has_mfa, locked_out in accounts.values_list("last_login", "role", "has_mfa", "locked_out"):
        counts["total"] += 1
        counts["never_signed_in"] += last_login is None
        counts["locked_out"] += locked_out
        counts["without_2fa"] += role in MFA_ROLES and not has_mfa
    return counts


def offices_attention(*, user: User) -> dict[str, int]:
    """Active offices in the administrator's scope with settings missing: Disdukcapil offices (they print and
    keep the calendar) without opening hours, or with an opening weekday without a print quota or a coming date
    (within COMING_DAYS) open without print places; Disdukcapil
    offices whose letterhead lacks a part (as Office.letterhead_missing: a UPTD prints under its Disdukcapil's);
    Disdukcapil offices without an active WhatsApp/SMS number. One query."""
    offices = Office.objects.visible_to(user).filter(is_active=True)
    hours = OpeningHours.objects.filter(office=OuterRef("pk"))
    quota_of_day = QuotaDefault.objects.filter(
        office=OuterRef("office"), weekday=OuterRef("weekday"), print_capacity__gt=0
    )
    day_without_quota = OpeningHours.objects.filter(office=OuterRef("pk")).filter(~Exists(quota_of_day))
    # A coming date already set up (its own row: a supervisor's figure for that day) open without print places.
    today = clock.today()
    coming_day_without_quota = ServiceDay.objects.filter(
        office=OuterRef("pk"),
        date__gte=today,
        date__lt=today + timedelta(days=COMING_DAYS),
        is_open=True,
        print_capacity=0,
    )
    number = OfficeNumber.objects.filter(office=OuterRef("pk"), is_active=True)
    head = Q(kind=Office.Kind.DISDUKCAPIL)
    return offices.aggregate(
        without_hours=Count("pk", filter=head & ~Exists(hours)),
        without_quota=Count("pk", filter=head & (Exists(day_without_quota) | Exists(coming_day_without_quota))),
        letterhead_incomplete=Count(
            "pk",
            filter=head
            & (Q(government_line="") | Q(address="") | Q(phone="") | Q(head_name="") | Q(head_nip="") | Q(logo="")),
        ),
        without_number=Count("pk", filter=head & ~Exists(number)),
    )


# --- the sections -----------------------------------------------------------------------------------------


def _age(since) -> str:
    return inbox.age_text(clock.now() - since) if since else ""


def _requests_url(queue: str, **query: str) -> str:
    return _url("cards:cardrequest_list", antrean=queue, **query)


def _work_section(user: User, counts: dict[str, int]) -> Section:
    """A clerk's (and a supervisor's) requests to act on: urgent ones to decide, to verify, incomplete."""
    section = Section("work", _("Permohonan yang menunggu Anda"))
    if user.has_perm("cards.approve_urgent_cardrequest"):
        section.figures.append(
            Figure(
                "urgent",
                _("Mendesak menunggu persetujuan"),
                counts["mendesak"],
                _requests_url("mendesak"),
                alert=bool(counts["mendesak"]),
            )
        )
    section.figures += [
        Figure(
            "verify",
            _("Perlu diverifikasi"),
            counts["verifikasi"],
            _requests_url("verifikasi"),
            alert=bool(counts["verifikasi"]),
        ),
        Figure(
            "incomplete",
            _("Belum lengkap, menunggu penduduk"),
            counts["belum_lengkap"],
            _requests_url("belum-lengkap"),
        ),
    ]
    return section


def _arrivals_section(office: Office) -> Section:
    arrivals = arrivals_today(office=office)
    counter = reverse("queueing:counter")
    walk_in = _("termasuk %(n)d nomor datang langsung") % {"n": arrivals["walk_in"]} if arrivals["walk_in"] else ""
    return Section(
        "arrivals",
        _("Kedatangan hari ini"),
        [
            Figure(
                "expected",
                _("Dijadwalkan hari ini"),
                arrivals["expected"],
                counter,
                note=_("%(n)d belum datang") % {"n": arrivals["not_come"]},
            ),
            Figure("arrived", _("Sudah hadir"), arrivals["arrived"], counter, note=walk_in),
            Figure("served", _("Selesai dilayani"), arrivals["served"], counter),
        ],
    )


def _messages_section(user: User, *, oversight: bool) -> Section:
    waiting = inbox_waiting(user=user)
    oldest = _age(waiting["oldest"])
    section = Section(
        "messages",
        _("Pesan"),
        [
            Figure(
                "inbox",
                _("Percakapan belum dijawab"),
                waiting["threads"],
                _url("intake:thread_list", tampil="menunggu"),
                note=_("pesan terlama menunggu %(age)s") % {"age": oldest} if oldest else "",
                alert=bool(waiting["threads"]),
            )
        ],
    )
    if oversight:
        dead = dead_messages(user=user)
        section.figures.append(
            Figure(
                "dead",
                _("Pesan gagal terkirim (berhenti dicoba)"),
                dead,
                _url("delivery:outbox_list", status=Notification.Status.DEAD),
                alert=bool(dead),
            )
        )
        if user.has_perm("cards.view_datasyncrequest"):
            sync = data_sync_open(user=user)
            section.figures.append(
                Figure("sync", _("Sinkronisasi data terbuka"), sync, _url("cards:datasync_list", status="terbuka"))
            )
    return section


def _stages_section(counts: dict[str, int]) -> Section:
    """Every stage of the open requests in scope: a UPTD operator follows its residents', a supervisor the
    office's."""
    figures = [
        Figure(f"stage-{key}", str(label), counts[key.replace("-", "_")], _requests_url(key)) for key, label in STAGES
    ]
    figures.append(Figure("stage-semua", _("Semua yang berjalan"), counts["semua"], _requests_url("semua")))
    return Section("stages", _("Permohonan berjalan per tahap"), figures)


def _uptd_section(user: User, counts: dict[str, int]) -> Section:
    unconfirmed = cards_not_confirmed_received(user=user)
    note = _("%(n)d belum dikonfirmasi diterima (Kiriman UPTD)") % {"n": unconfirmed} if unconfirmed else ""
    return Section(
        "uptd",
        _("Untuk diserahkan dan dilengkapi"),
        [
            Figure(
                "handover",
                _("Kartu dikirim ke UPTD, menunggu diserahkan"),
                counts["sent_to_uptd"],
                _requests_url("penyerahan", status=S.SENT_TO_UPTD),
                note=note,
                alert=bool(counts["sent_to_uptd"]),
            ),
            Figure(
                "incomplete",
                _("Belum lengkap, menunggu penduduk"),
                counts["belum_lengkap"],
                _requests_url("belum-lengkap"),
                alert=bool(counts["belum_lengkap"]),
            ),
        ],
    )


def _blanks_section(office: Office) -> Section:
    blanks = blanks_outlook(office=office)
    if blanks["days"] is None:
        note = _("tidak ada kartu dicetak dalam %(n)d hari terakhir") % {"n": PRINT_RATE_DAYS}
    else:
        note = _("%(printed)d kartu dicetak dalam %(n)d hari terakhir") % {
            "printed": blanks["printed"],
            "n": PRINT_RATE_DAYS,
        }
    blanks_url = reverse("queueing:blanks")
    return Section(
        "blanks",
        _("Blangko"),
        [
            Figure("stock", _("Blangko tersedia"), blanks["stock"], blanks_url, note=note, alert=blanks["stock"] <= 0),
            Figure(
                "days",
                _("Cukup untuk (hari) pada laju cetak 14 hari terakhir"),
                blanks["days"],
                blanks_url,
                note="" if blanks["days"] is not None else _("laju cetak belum diketahui"),
                alert=blanks["days"] is not None and blanks["days"] < BLANKS_LOW_DAYS,
            ),
        ],
    )


def _admin_section(user: User) -> Section:
    section = Section("admin", _("Akun dan pengaturan yang perlu diperiksa"))
    if staff.staff_may_manage(user):
        accounts = staff_attention(user=user)
        for key, label, attention in [
            ("never-signed-in", _("Akun belum pernah masuk"), "belum-masuk"),
            ("locked-out", _("Akun terkunci karena salah sandi"), "terkunci"),
            ("without-2fa", _("Kepala bidang/administrator tanpa 2FA"), "tanpa-2fa"),
        ]:
            value = accounts[key.replace("-", "_")]
            section.figures.append(
                Figure(key, label, value, _url("registry:staff_list", perhatian=attention), alert=bool(value))
            )
        section.figures.append(
            Figure("staff", _("Akun aktif"), accounts["total"], _url("registry:staff_list", status="active"))
        )
    if user.has_perm("registry.change_office"):
        offices = offices_attention(user=user)
        settings_url = reverse("registry:office_settings")
        calendar_url = _url_or([("queueing:quota_settings", {}), ("admin:queueing_openinghours_changelist", {})])
        for key, label, value, url in [
            ("without-hours", _("Kantor tanpa jam layanan"), offices["without_hours"], calendar_url),
            ("without-quota", _("Kantor dengan hari buka tanpa kuota cetak"), offices["without_quota"], calendar_url),
            ("letterhead", _("Kantor dengan kop surat belum lengkap"), offices["letterhead_incomplete"], settings_url),
            (
                "without-number",
                _("Kantor tanpa nomor WhatsApp/SMS aktif"),
                offices["without_number"],
                _url_or([("admin:messaging_officenumber_changelist", {})]),
            ),
        ]:
            section.figures.append(Figure(key, label, value, url, alert=bool(value)))
    return section


def home_sections(*, user: User) -> list[Section]:
    """The home page's sections for `user`, by permission. A fixed number of queries for a given account,
    whatever the number of rows."""
    sections: list[Section] = []
    office = user.office
    oversight = user.has_perm("cards.approve_urgent_cardrequest")
    if user.has_perm("cards.view_cardrequest"):
        counts = open_request_counts(user=user)
        incomplete_section = None
        if user.has_perm("cards.verify_cardrequest"):
            incomplete_section = _work_section(user, counts)
            sections.append(incomplete_section)
        if office is not None and user.has_perm("queueing.view_booking"):
            sections.append(_arrivals_section(office))
        if user.has_perm("cards.receive_cardrequest") and not user.has_perm("cards.verify_cardrequest"):
            incomplete_section = _uptd_section(user, counts)
            sections.append(incomplete_section)
        if oversight or user.has_perm("cards.receive_cardrequest"):
            sections.append(_stages_section(counts))
        if incomplete_section is not None:
            incomplete_section.details = missing_items_top(user=user)
            incomplete_section.details_title = _("Yang paling sering kurang (permohonan belum lengkap)")
        sections.append(_messages_section(user, oversight=oversight))
    if office is not None and oversight and user.has_perm("queueing.view_blankstock"):
        sections.append(_blanks_section(office))
    if staff.staff_may_manage(user) or user.has_perm("registry.change_office"):
        # An administrator's own work first: accounts and settings; the office's figures follow.
        sections.insert(0, _admin_section(user))
    return sections
