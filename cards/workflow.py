"""The one owner of a card request's status.

Every move of `CardRequest.status` goes through `card_move`, along an edge of `CardRequest.TRANSITIONS` that
lists the actor asking: a clerk, a UPTD operator, the resident by message, or a process (booking, printing,
dispatch, shipment, the day-end job). Queueing, printing, dispatch and delivery ask; none of them writes the
status (tests/test_architecture.py fails if one does).

Each move has one shape: inside a transaction, the row re-read with select_for_update; the status checked
against the one the caller saw (a second clerk gets a clear message, a process's compare-and-set that matched
nothing raises and writes nothing); the edge, the actor and the guards checked; save(update_fields); one
timeline event; the resident's message; and, when the request closes or leaves route 1, the release of what it
held. The apps above register those releases (`release_hook`), so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cards.models import (
    Actor,
    CardKind,
    CardRequest,
    CardRequestEvent,
    CentralStatus,
    DispatchItem,
    Handover,
    Requirement,
    Route,
)
from messaging.messages import notification_write, render_message
from messaging.system_text import fit, raw_value, system_text, system_text_join
from registry import clock
from registry.models import Office, Resident, Role, User

Status = CardRequest.Status


class CardRequestError(Exception):
    """A refused action on a card request; the message is for the clerk, in their language."""


class StaleCardRequest(CardRequestError):
    """Somebody else changed the request since the caller read it (a compare-and-set that matched nothing)."""


# --- what the request holds elsewhere ---------------------------------------------------------------------

# (card_request, by, reason, closing) -> None. Registered by the apps above in their AppConfig.ready():
# queueing gives back an appointment's place and a place in an unprinted batch, delivery ends a suket.
ReleaseHook = Callable[..., None]
_release_hooks: list[ReleaseHook] = []


def release_hook(hook: ReleaseHook) -> ReleaseHook:
    """Register what to give back when a request closes or leaves route 1 (idempotent per function)."""
    if hook not in _release_hooks:
        _release_hooks.append(hook)
    return hook


def _release(card_request: CardRequest, *, by: User | None, reason: str, closing: bool) -> None:
    for hook in _release_hooks:
        hook(card_request, by=by, reason=reason, closing=closing)


# --- who is asking --------------------------------------------------------------------------------------


def actor_of(user: User) -> Actor:
    """The workflow actor a staff member acts as."""
    if user.role == Role.UPTD_OPERATOR:
        return Actor.UPTD_OPERATOR
    if not user.has_perm("cards.verify_cardrequest"):
        raise CardRequestError(_("Anda tidak berwenang memproses permohonan."))
    return Actor.CLERK


def _check_actor(actor: str, by: User | None, card_request: CardRequest, source: str, target: str) -> None:
    if not CardRequest.can_move(source, target, actor):
        if CardRequest.can_move(source, target, Actor.CLERK) and actor == Actor.UPTD_OPERATOR:
            raise CardRequestError(_("Operator UPTD tidak dapat memindahkan permohonan ke status ini."))
        if CardRequest.can_move(source, target):
            raise CardRequestError(str(_HOW_ELSE.get(target, _("Langkah ini dilakukan lewat halaman lain."))))
        raise CardRequestError(
            _("Permohonan %(number)s berstatus '%(source)s' dan tidak dapat diubah menjadi '%(target)s'.")
            % {"number": card_request.number, "source": Status(source).label, "target": Status(target).label}
        )
    if actor == Actor.UPTD_OPERATOR and by is not None:
        if target == Status.CANCELLED and card_request.submitted_by_id != by.pk:
            raise CardRequestError(_("Operator UPTD hanya dapat membatalkan permohonan yang diajukannya sendiri."))
        if target == Status.HANDED_OVER and card_request.pickup_office_id != by.office_id:
            raise CardRequestError(_("Kartu ini tidak dikirim ke UPTD Anda."))


# Why a clerk cannot take an edge that exists for a process: where to do it instead (lazy: in the reader's
# language when raised, not the language of the import).
_HOW_ELSE = {
    Status.SCHEDULED: gettext_lazy(
        "Jadwal kedatangan diambil lewat formulir jadwal, undangan atau nomor antrean di loket."
    ),
    Status.PRINTED: gettext_lazy(
        "Kartu dicetak lewat loket (satu kartu) atau batch cetak, yang mengambil satu blangko."
    ),
    Status.SENT_TO_UPTD: gettext_lazy("Kartu dikirim ke UPTD lewat halaman kiriman, supaya UPTD dapat mengonfirmasi."),
    Status.SHIPPED: gettext_lazy("Kartu dikirim lewat halaman pengiriman Pos."),
    Status.HANDED_OVER: gettext_lazy("Kartu ini diserahkan oleh pihak lain (UPTD atau kurir Pos)."),
    Status.READY_FOR_PICKUP: gettext_lazy("Kartu yang kembali dari Pos dicatat lewat halaman pengiriman."),
}


def _check_route(card_request: CardRequest, source: str, target: str) -> None:
    route = card_request.route
    refusals = {
        Status.SCHEDULED: route != Route.COUNTER,
        Status.SENT_TO_UPTD: route != Route.UPTD,
        Status.SHIPPED: route != Route.POST,
        Status.READY_FOR_PICKUP: route in (Route.UPTD, Route.POST) and source == Status.PRINTED,
    }
    if refusals.get(target):
        raise CardRequestError(
            _("Rute kartu ini '%(route)s': langkah '%(target)s' bukan untuk rute ini.")
            % {"route": card_request.get_route_display(), "target": Status(target).label}
        )
    if source == Status.PRINTED and target == Status.HANDED_OVER and route != Route.COUNTER:
        raise CardRequestError(_("Hanya kartu yang dicetak di loket yang langsung diserahkan setelah dicetak."))


# --- guards ---------------------------------------------------------------------------------------------


def requirements_unmet(card_request: CardRequest, stage: str, met_ids: Iterable[int]) -> list[Requirement]:
    met = set(met_ids)
    active = Requirement.objects.filter(kind=card_request.kind, stage=stage, is_active=True)
    return [r for r in active if r.pk not in met]


def missing_documents(card_request: CardRequest) -> list[Requirement]:
    attached = card_request.attachments.exclude(requirement=None).values_list("requirement_id", flat=True)
    return requirements_unmet(card_request, Requirement.Stage.DOCUMENT, attached)


def unticked_handover(card_request: CardRequest) -> list[Requirement]:
    ticked = card_request.requirement_checks.values_list("requirement_id", flat=True)
    return requirements_unmet(card_request, Requirement.Stage.HANDOVER, ticked)


def central_status_of(resident: Resident) -> str | None:
    """The centre's answer on the resident's latest recording: None when never recorded here (an imported
    record: the card existed, so the centre has it), else pending, PRR or duplicate."""
    latest = resident.biometric_recordings.order_by("-recorded_at", "-id").first()
    return latest.central_status if latest else None


def print_ready_problem(card_request: CardRequest, *, on: date) -> str | None:
    """Why the card cannot be printed on that day, or None. Pemula needs a recording that the centre answered
    print-ready (PRR), and the resident must be wajib KTP on that day."""
    resident = card_request.resident
    if card_request.kind != CardKind.PEMULA:
        return None
    if not resident.biometric_recorded:
        return _("Penduduk belum perekaman biometrik; catat perekaman dulu.")
    central = central_status_of(resident)
    if central == CentralStatus.PENDING:
        return _("Rekaman biometrik masih menunggu jawaban pusat (PRR).")
    if central == CentralStatus.DUPLICATE:
        return _("Pusat menjawab rekaman ganda (duplicate record): selesaikan dulu sebelum dicetak.")
    if not resident.is_wajib_ktp_on(on):
        # No date: beside a masked NIK the 17th birthday is the birth date, and the NIK's serial is small.
        return _(
            "Penduduk belum wajib KTP; kartu dicetak sejak ulang tahun ke-17 (tanggalnya tampil saat NIK lengkap "
            "dibuka)."
        )
    return None


@dataclass
class HandoverInfo:
    """What the person handing the card over attests."""

    method: str = Handover.Method.IN_PERSON
    fingerprint_verified: bool = False
    activated: bool = False
    note: str = ""


def _check_guards(
    card_request: CardRequest,
    source: str,
    target: str,
    *,
    actor: str,
    note: str,
    missing_items: list[str],
    handover: HandoverInfo | None,
) -> None:
    if target in CardRequest.NEEDS_REASON and not note.strip():
        raise CardRequestError(_("Tulis alasannya; penduduk akan menerimanya dalam pesan."))
    if target == Status.INCOMPLETE and not missing_items:
        raise CardRequestError(_("Sebutkan apa saja yang kurang; daftar itu dikirim ke penduduk."))
    if target == Status.READY_TO_PRINT and source == Status.VERIFYING:
        if missing := missing_documents(card_request):
            raise CardRequestError(
                _("Dokumen persyaratan belum diunggah: %(names)s.") % {"names": ", ".join(r.name for r in missing)}
            )
        if card_request.kind == CardKind.PEMULA:
            resident = card_request.resident
            if not resident.biometric_recorded:
                raise CardRequestError(_("Penduduk belum perekaman biometrik; catat perekaman dulu."))
            if central_status_of(resident) in (CentralStatus.PENDING, CentralStatus.DUPLICATE):
                raise CardRequestError(_("Siap cetak untuk pemula menunggu jawaban pusat: rekaman harus PRR."))
    if target == Status.PRINTED and (problem := print_ready_problem(card_request, on=clock.today(card_request.office))):
        raise CardRequestError(problem)
    if target == Status.HANDED_OVER:
        if actor == Actor.SHIPMENT:
            if handover is None or handover.method != Handover.Method.BY_POST:
                raise CardRequestError(_("Kiriman Pos ditutup sebagai diterima lewat Pos."))
            return  # the courier collects the old card; no fingerprint, no activation by post
        if unticked := unticked_handover(card_request):
            raise CardRequestError(
                _("Belum dicentang: %(names)s. Penyerahan ditolak.") % {"names": ", ".join(r.name for r in unticked)}
            )
        if source == Status.SENT_TO_UPTD:
            item = DispatchItem.objects.filter(card_request=card_request).first()
            if item is None or item.received_at is None:
                raise CardRequestError(_("Konfirmasi dulu bahwa kartu ini sudah diterima di UPTD."))
        if handover is None or not (handover.fingerprint_verified and handover.activated):
            raise CardRequestError(
                _("Kartu hanya diserahkan kepada pemiliknya sendiri: centang verifikasi sidik jari dan aktivasi.")
            )


# --- messages -------------------------------------------------------------------------------------------


def _default_message(card_request: CardRequest, source: str, target: str, *, actor: str) -> str | None:
    route = card_request.route
    if target == Status.READY_TO_PRINT:
        if source == Status.SCHEDULED:
            return None  # the appointment's end has its own message (no-show, cancelled, moved)
        resident = card_request.resident
        if card_request.kind == CardKind.PEMULA and not resident.is_wajib_ktp_on(clock.today(card_request.office)):
            return "ready_waits_wajib_ktp"
        return {
            Route.COUNTER: "ready_counter",
            Route.COLLECT: "ready_collect",
            Route.UPTD: "ready_uptd",
            Route.POST: "ready_post",
        }[route]
    if target == Status.HANDED_OVER:
        return "request_delivered" if actor == Actor.SHIPMENT else "request_handed_over"
    if target == Status.READY_FOR_PICKUP:
        return "request_returned_by_post" if source == Status.SHIPPED else "request_ready_for_pickup"
    return {
        Status.INCOMPLETE: "request_incomplete",
        Status.SHIPPED: "request_shipped",
        Status.REJECTED: "request_rejected",
        Status.CANCELLED: "request_cancelled",
    }.get(target)


# --- the move -------------------------------------------------------------------------------------------


@dataclass
class Message:
    """A message the caller writes instead of the default one for the move (None in `message=`: none)."""

    template: str
    values: dict[str, object] = field(default_factory=dict)


_DEFAULT = object()


def card_request_locked(card_request_id: int) -> CardRequest:
    """The request, locked for the rest of the caller's transaction (with what messages need)."""
    return (
        CardRequest.objects.select_for_update(of=("self",))
        .select_related("resident", "pickup_office", "office")
        .get(pk=card_request_id)
    )


def _stale(card_request: CardRequest) -> StaleCardRequest:
    last = card_request.events.filter(action=CardRequestEvent.Action.STATUS).select_related("by").last()
    who = (last.by.get_full_name() or last.by.username) if last and last.by else _("pihak lain")
    return StaleCardRequest(
        _("Permohonan %(number)s baru saja diubah oleh %(who)s menjadi '%(status)s'. Halaman dimuat ulang.")
        % {"number": card_request.number, "who": who, "status": card_request.get_status_display()}
    )


def card_move(
    *,
    card_request_id: int,
    to_status: str,
    actor: str,
    by: User | None,
    expected_status: str | None,
    note: str = "",
    missing_items: Iterable[str] = (),
    handover: HandoverInfo | None = None,
    message: Message | None | object = _DEFAULT,
    event_note: str | None = None,
) -> CardRequest:
    """Move a request along the transitions table, as `actor`.

    Invariants: only edges of CardRequest.TRANSITIONS that list the actor; the status is the one the caller
    saw (`expected_status`; None only for bulk clerk actions, which re-check each row under the lock); the
    event, the message, the handover record and the release of what a closing request held are written in
    the same transaction as the new status, or not at all.
    """
    target = Status(to_status)
    missing = [item.strip() for item in missing_items if item and item.strip()]
    with transaction.atomic():
        card_request = card_request_locked(card_request_id)
        source = card_request.status
        if expected_status is not None and source != expected_status:
            raise _stale(card_request)
        _check_actor(actor, by, card_request, source, target)
        _check_route(card_request, source, target)
        _check_guards(card_request, source, target, actor=actor, note=note, missing_items=missing, handover=handover)

        now = clock.now()
        card_request.status = target
        card_request.status_changed_at = now
        fields = ["status", "status_changed_at", "updated_at"]
        if target == Status.INCOMPLETE:
            card_request.missing_items = missing
            fields.append("missing_items")
        elif source == Status.INCOMPLETE:
            card_request.missing_items = []
            fields.append("missing_items")
        if target in CardRequest.NEEDS_REASON:
            card_request.status_reason = note.strip()
            fields.append("status_reason")
        if source == Status.SHIPPED and target == Status.READY_FOR_PICKUP:
            # Back from the post office: collected at the printing office like route 2.
            card_request.route = Route.COLLECT
            card_request.pickup_office = card_request.office
            fields += ["route", "pickup_office"]
        card_request.save(update_fields=fields)

        text = event_note if event_note is not None else note.strip()
        if missing:
            # Each missing item is a requirement's name: a catalogue msgid when seeded, shown translated.
            text = system_text_join([text, *(system_text_join(["-", system_text(m)]) for m in missing)], "\n")
        CardRequestEvent.objects.create(
            card_request=card_request,
            at=now,
            by=by,
            action=CardRequestEvent.Action.STATUS,
            from_status=source,
            to_status=target,
            note=text,
        )
        if target == Status.HANDED_OVER:
            info = handover or HandoverInfo()
            Handover.objects.create(
                card_request=card_request,
                method=info.method,
                office=card_request.pickup_office,
                at=now,
                by=by,
                fingerprint_verified=info.fingerprint_verified,
                activated=info.activated,
                old_card_collected=card_request.requirement_checks.exists(),
                note=fit(info.note, 300),
            )
        if message is _DEFAULT:
            template = _default_message(card_request, source, target, actor=actor)
            message = Message(template) if template else None
        if message is not None:
            _write_message(card_request, message, note=note, missing=missing)
        if target in CardRequest.CLOSED_STATUSES:
            _release(card_request, by=by, reason=note.strip() or system_text(Status(target).label), closing=True)
    return card_request


def _write_message(card_request: CardRequest, message: Message, *, note: str, missing: list[str]) -> None:
    place = card_request.pickup_office  # the UPTD for route 3, the printing office otherwise
    values = {
        "ready_from": clock.today(card_request.office).strftime("%d-%m-%Y"),
        "number": card_request.number,
        "missing": "\n".join(f"- {m}" for m in missing),
        "reason": note.strip(),
        "place": place.name,
        "office": card_request.office.name,
        "fee": f"{card_request.office.cod_fee:,}".replace(",", "."),
        **message.values,
    }
    notification_write(resident=card_request.resident, card_request=card_request, template=message.template, **values)


# --- the same move for processes under contention (booking) -------------------------------------------------

# Edges a process may take as one compare-and-set statement, and what the statement itself checks besides the
# source status. Only edges whose guards are all expressible there: booking's ready to print → scheduled needs
# route 1 (the appointment's day was checked against wajib KTP by the booking before it took a place).
SET_BASED_EDGES: dict[tuple[str, str], dict[str, str]] = {
    (Status.READY_TO_PRINT, Status.SCHEDULED): {"route": Route.COUNTER},
}
# Where the resident's name goes into a message rendered before the statement knows it.
_NAME_MARK = "\u2063NAMA\u2063"

# PostgreSQL: the move, its timeline event and the resident's message in ONE statement (the booking of 200
# bookers at once waits on round trips, not on rows): all or nothing, and nothing when the status (or the
# route) is not the one expected.
_MOVE_SQL = """
WITH moved AS (
    UPDATE registry_cardrequest cr
       SET status = %(to)s, status_changed_at = %(now)s, updated_at = %(now)s
      FROM registry_resident r
     WHERE cr.id = %(id)s AND cr.status = %(from)s AND cr.route = %(route)s AND r.id = cr.resident_id
 RETURNING cr.id, cr.resident_id, cr.office_id, r.full_name, r.whatsapp
), event AS (
    INSERT INTO registry_cardrequestevent (card_request_id, at, by_id, action, from_status, to_status, note)
    SELECT id, %(now)s, %(by)s, 'status', %(from)s, %(to)s, %(note)s FROM moved
), message AS (
    INSERT INTO delivery_notification
           (resident_id, card_request_id, office_id, contact_id, channel, recipient, template, text, status,
            is_reply, attempts, last_error, created_at)
    SELECT resident_id, id, office_id, (SELECT c.id FROM messaging_contact c WHERE c.phone = moved.whatsapp),
           'whatsapp', whatsapp, %(template)s, replace(%(text)s, %(mark)s, full_name),
           CASE WHEN whatsapp <> '' THEN 'pending' ELSE 'no_contact' END, false, 0, '', %(now)s
      FROM moved WHERE %(template)s <> ''
){attached}
SELECT id, {attached_id} FROM moved
"""


def card_move_set_based(
    *,
    card_request_id: int,
    from_status: str,
    to_status: str,
    actor: str,
    by: User | None,
    event_note: str,
    message: Message | None,
    attached_sql: str = "",
    attached_params: dict | None = None,
) -> int | None:
    """The workflow's move as one compare-and-set, for a process that moves cards under contention.

    Same rules as `card_move` for the edges in SET_BASED_EDGES: the actor must be listed for the edge, and the
    status (and route) must be the expected ones; the event and the message are written with the move or not
    at all. Returns None, having written nothing, when the request was not in the expected state; else the id
    the attached statement returned (or the request's id).

    `attached_sql` (PostgreSQL) is the caller's own write that must happen exactly when the move does, sent
    in the same statement: an `INSERT ... SELECT ... FROM moved ... RETURNING id` into the caller's table,
    reading `moved(id)`. The workflow still writes only what it owns; the statement is shared to save round
    trips. On SQLite the caller writes its row in its own transaction around this call instead.
    """
    source, target = Status(from_status), Status(to_status)
    if not CardRequest.can_move(source, target, actor) or (source, target) not in SET_BASED_EDGES:
        raise CardRequestError(_("Langkah ini tidak dapat dilakukan sebagai satu pernyataan."))
    condition = SET_BASED_EDGES[(source, target)]
    number = f"PKTP-{card_request_id:06d}"
    text = render_message(message.template, name=_NAME_MARK, number=number, **message.values) if message else ""
    now = clock.now()
    if connection.vendor == "postgresql":
        params = {
            "id": card_request_id, "from": source, "to": target, "route": condition["route"], "now": now,
            "by": by.pk if by else None, "note": raw_value(event_note), "template": message.template if message else "",
            "text": text, "mark": _NAME_MARK, **(attached_params or {}),
        }  # fmt: skip
        sql = _MOVE_SQL.format(
            attached=f", attached AS (\n{attached_sql}\n)" if attached_sql else "",
            attached_id="(SELECT id FROM attached)" if attached_sql else "id",
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[1] if row else None
    # SQLite (one writer at a time): the same compare-and-set, event and message in one transaction.
    with transaction.atomic():
        moved = CardRequest.objects.filter(pk=card_request_id, status=source, **condition).update(
            status=target, status_changed_at=now, updated_at=now
        )
        if not moved:
            return None
        card_request = CardRequest.objects.select_related("resident").get(pk=card_request_id)
        CardRequestEvent.objects.create(
            card_request=card_request, at=now, by=by, action=CardRequestEvent.Action.STATUS, from_status=source,
            to_status=target, note=event_note,
        )  # fmt: skip
        if message is not None:
            notification_write(
                resident=card_request.resident, card_request=card_request, template=message.template,
                number=number, **message.values,
            )  # fmt: skip
    return card_request_id


def card_move_as(
    user: User,
    *,
    card_request_id: int,
    to_status: str,
    expected_status: str | None,
    note: str = "",
    missing_items: Iterable[str] = (),
    handover: HandoverInfo | None = None,
) -> CardRequest:
    """A staff member's move from a page: the actor follows from their role."""
    return card_move(
        card_request_id=card_request_id,
        to_status=to_status,
        actor=actor_of(user),
        by=user,
        expected_status=expected_status,
        note=note,
        missing_items=missing_items,
        handover=handover,
    )


def card_request_moves_for(user: User, card_request: CardRequest) -> list[str]:
    """The moves the request page offers this user: the table's next statuses that pass the same who-and-where
    checks as the move (the other guards depend on what the form sends)."""
    try:
        actor = actor_of(user)
    except CardRequestError:
        return []
    moves = []
    for target in card_request.next_statuses(actor):
        try:
            _check_actor(actor, user, card_request, card_request.status, target)
            _check_route(card_request, card_request.status, target)
        except CardRequestError:
            continue
        moves.append(target)
    return moves


# --- the route ------------------------------------------------------------------------------------------


def route_for(*, channel: str, submitted_by_uptd: bool, office: Office) -> Route:
    """The route a new request gets: a UPTD submission through its UPTD, a walk-in at the counter, a message
    by the office's setting."""
    if submitted_by_uptd:
        return Route.UPTD
    if channel in ("whatsapp", "sms"):
        return Route(office.message_route)
    if channel == "outreach":
        return Route.COLLECT
    return Route.COUNTER


def card_request_route_set(*, card_request_id: int, route: str, by: User, expected_route: str) -> CardRequest:
    """A clerk changes how the card reaches the resident, until it is printed. Invariant: leaving route 1
    gives back the appointment (its place, and the request returns to ready to print); route 3 is collected
    at the resident's UPTD, every other route at the printing office."""
    route = Route(route)
    if actor_of(by) != Actor.CLERK:
        raise CardRequestError(_("Hanya petugas kabupaten yang dapat mengubah rute kartu."))
    with transaction.atomic():
        card_request = card_request_locked(card_request_id)
        if card_request.route != expected_route:
            raise _stale(card_request)
        if card_request.status not in CardRequest.BEFORE_PRINTING:
            raise CardRequestError(_("Kartu sudah dicetak: rutenya tidak dapat diubah lagi."))
        if route == card_request.route:
            return card_request
        old = card_request.route
        if route == Route.UPTD:
            uptd = Office.objects.filter(region_id=card_request.kecamatan_id, kind=Office.Kind.UPTD).first()
            if uptd is None:
                raise CardRequestError(_("Kecamatan penduduk ini tidak punya UPTD."))
            card_request.pickup_office = uptd
        else:
            card_request.pickup_office = card_request.office
        card_request.route = route
        card_request.save(update_fields=["route", "pickup_office", "updated_at"])
        CardRequestEvent.objects.create(
            card_request=card_request,
            at=clock.now(),
            by=by,
            action=CardRequestEvent.Action.ROUTE,
            note=system_text_join([Route(old).label, route.label], " → "),
        )
        notification_write(
            resident=card_request.resident,
            card_request=card_request,
            template="route_changed",
            number=card_request.number,
            route=route.label,
            place=card_request.pickup_office.name,
        )
        _release(card_request, by=by, reason=system_text(gettext_noop("Rute kartu diubah")), closing=False)
    return card_request
