"""Getting in line: when an office is open, how many cards it prints a day and for which channel, and the
bookings that take those places.

A `ServiceDay` row holds one office-day's capacities and counters; a booking takes a place with one
conditional UPDATE on that row (compare-and-set), and CHECK constraints make overbooking impossible even for
code that forgets the condition.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from messaging.system_text import SystemTextField
from registry import clock


class QueueChannel(models.TextChoices):
    """The channels a day's quota is split between (Ponorogo: 200 by WhatsApp + 100 walk-in)."""

    WHATSAPP = "whatsapp", _("WhatsApp")
    WALK_IN = "walk_in", _("Datang langsung")
    INVITATION = "invitation", _("Undangan")
    UPTD = "uptd", _("UPTD")


class OpeningHours(models.Model):
    """An office's service hours on one weekday; a weekday without a row is closed."""

    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(
        _("hari"),
        choices=[
            (0, _("Senin")),
            (1, _("Selasa")),
            (2, _("Rabu")),
            (3, _("Kamis")),
            (4, _("Jumat")),
            (5, _("Sabtu")),
            (6, _("Minggu")),
        ],
    )
    opens_at = models.TimeField(_("buka"))
    closes_at = models.TimeField(_("tutup"))

    class Meta:
        verbose_name = _("jam layanan")
        verbose_name_plural = _("jam layanan")
        ordering = ["office", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["office", "weekday"], name="openinghours_office_weekday"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="openinghours_weekday_range"),
            models.CheckConstraint(condition=Q(opens_at__lt=F("closes_at")), name="openinghours_opens_before_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Closure(models.Model):
    """A day without service: a national holiday or cuti bersama (office empty: every office), or a local
    closure of one office. Seeded from the `holidays` package, then edited by staff."""

    class Kind(models.TextChoices):
        NATIONAL_HOLIDAY = "national", _("Libur nasional")
        CUTI_BERSAMA = "cuti_bersama", _("Cuti bersama")
        LOCAL = "local", _("Penutupan lokal")

    office = models.ForeignKey(
        "registry.Office",
        verbose_name=_("kantor"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Kosong: berlaku untuk semua kantor."),
    )
    date = models.DateField(_("tanggal"))
    name = models.CharField(_("keterangan"), max_length=150)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices, default=Kind.LOCAL)
    from_package = models.BooleanField(_("dari paket holidays"), default=False)

    class Meta:
        verbose_name = _("hari libur/penutupan")
        verbose_name_plural = _("hari libur/penutupan")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="closure_office_date"),
            models.UniqueConstraint(fields=["date"], condition=Q(office__isnull=True), name="closure_national_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d-%m-%Y} {self.name}"


class QuotaDefault(models.Model):
    """An office's capacity on one weekday: the cards it can print, and each channel's share."""

    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("hari"), choices=OpeningHours._meta.get_field("weekday").choices)
    print_capacity = models.PositiveIntegerField(_("kapasitas cetak"))
    whatsapp = models.PositiveIntegerField(_("kuota WhatsApp"), default=0)
    walk_in = models.PositiveIntegerField(_("kuota datang langsung"), default=0)
    invitation = models.PositiveIntegerField(_("kuota undangan"), default=0)
    uptd = models.PositiveIntegerField(_("kuota UPTD"), default=0)

    class Meta:
        verbose_name = _("kuota harian baku")
        verbose_name_plural = _("kuota harian baku")
        ordering = ["office", "weekday"]
        constraints = [models.UniqueConstraint(fields=["office", "weekday"], name="quotadefault_office_weekday")]

    def __str__(self) -> str:
        return f"{self.office_id} {self.get_weekday_display()}: {self.print_capacity}"


class ServiceDay(models.Model):
    """One office-day: open or not, its capacities (copied from the weekday default, then editable as that
    date's override) and how many places each channel has taken. `last_number` only grows, so queue numbers
    are unique within the day even when bookings are cancelled."""

    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("tanggal"))
    is_open = models.BooleanField(_("buka"), default=True)
    print_capacity = models.PositiveIntegerField(_("kapasitas cetak"), default=0)
    cap_whatsapp = models.PositiveIntegerField(_("kuota WhatsApp"), default=0)
    cap_walk_in = models.PositiveIntegerField(_("kuota datang langsung"), default=0)
    cap_invitation = models.PositiveIntegerField(_("kuota undangan"), default=0)
    cap_uptd = models.PositiveIntegerField(_("kuota UPTD"), default=0)
    booked_total = models.PositiveIntegerField(_("terpakai"), default=0)
    booked_whatsapp = models.PositiveIntegerField(default=0)
    booked_walk_in = models.PositiveIntegerField(default=0)
    booked_invitation = models.PositiveIntegerField(default=0)
    booked_uptd = models.PositiveIntegerField(default=0)
    # Approved urgent requests skip the channel quota; they still count in booked_total.
    booked_urgent = models.PositiveIntegerField(default=0)
    last_number = models.PositiveIntegerField(_("nomor antrean terakhir"), default=0)
    # Walk-in tickets are numbered on their own, 1, 2, 3 ... without gaps (they are never taken back).
    last_ticket = models.PositiveIntegerField(_("nomor tiket datang langsung terakhir"), default=0)
    # Places added above the print capacity by a supervisor for approved urgent requests (each one logged
    # on the request's timeline).
    capacity_overrides = models.PositiveIntegerField(_("tambahan kapasitas oleh kepala bidang"), default=0)
    # Cards printed in batches that day (routes 2-4): they use the print places route-1 appointments left.
    batch_printed = models.PositiveIntegerField(_("dicetak dalam batch"), default=0)

    class Meta:
        verbose_name = _("hari layanan")
        verbose_name_plural = _("hari layanan")
        ordering = ["office", "date"]
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="serviceday_office_date"),
            models.CheckConstraint(
                condition=Q(booked_total__lte=F("print_capacity")), name="serviceday_total_le_capacity"
            ),
            models.CheckConstraint(condition=Q(booked_whatsapp__lte=F("cap_whatsapp")), name="serviceday_wa_le_quota"),
            models.CheckConstraint(
                condition=Q(booked_walk_in__lte=F("cap_walk_in")), name="serviceday_walkin_le_quota"
            ),
            models.CheckConstraint(
                condition=Q(booked_invitation__lte=F("cap_invitation")), name="serviceday_invitation_le_quota"
            ),
            models.CheckConstraint(condition=Q(booked_uptd__lte=F("cap_uptd")), name="serviceday_uptd_le_quota"),
            models.CheckConstraint(
                condition=Q(last_ticket__lte=F("booked_walk_in")), name="serviceday_tickets_in_quota"
            ),
            models.CheckConstraint(
                condition=Q(booked_total__lte=F("print_capacity") - F("batch_printed")),
                name="serviceday_booked_and_batch_le_capacity",
            ),
            models.CheckConstraint(
                condition=Q(
                    booked_total=F("booked_whatsapp")
                    + F("booked_walk_in")
                    + F("booked_invitation")
                    + F("booked_uptd")
                    + F("booked_urgent")
                ),
                name="serviceday_total_is_sum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.date:%d-%m-%Y} {self.booked_total}/{self.print_capacity}"

    @property
    def print_places_left(self) -> int:
        """Print places nobody holds yet: the capacity minus route-1 appointments and batch-printed cards."""
        if not self.is_open:
            return 0
        return max(0, self.print_capacity - self.booked_total - self.batch_printed)

    def room(self, channel: str, *, urgent: bool = False) -> int:
        """Places left for a channel: its own quota, within the day's print capacity less what route-1
        appointments and batch printing already took. Approved urgent requests skip the channel quota."""
        if not self.is_open:
            return 0
        left = self.print_capacity - self.booked_total - self.batch_printed
        if not urgent:
            left = min(left, getattr(self, f"cap_{channel}") - getattr(self, f"booked_{channel}"))
        return max(0, left)


class QuotaChange(models.Model):
    """One change a supervisor made to an office's calendar in the app: a weekday's default (quota, print
    capacity, opening hours) or one date's override (quota, print capacity, a local closure). Never edited:
    the history of who changed what, when, from which value to which."""

    class Field(models.TextChoices):
        PRINT_CAPACITY = "print_capacity", _("Kapasitas cetak")
        WHATSAPP = "whatsapp", _("Kuota WhatsApp")
        WALK_IN = "walk_in", _("Kuota datang langsung")
        INVITATION = "invitation", _("Kuota undangan")
        UPTD = "uptd", _("Kuota UPTD")
        OPENING_HOURS = "opening_hours", _("Jam layanan")
        CLOSURE = "closure", _("Penutupan")

    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(
        _("hari"), null=True, blank=True, choices=OpeningHours._meta.get_field("weekday").choices
    )
    day = models.DateField(_("tanggal"), null=True, blank=True)
    field = models.CharField(_("yang diubah"), max_length=20, choices=Field.choices)
    old_value = models.CharField(_("semula"), max_length=160, blank=True)
    new_value = models.CharField(_("menjadi"), max_length=160, blank=True)
    changed_by = models.ForeignKey(
        "registry.User", verbose_name=_("diubah oleh"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    changed_at = models.DateTimeField(_("diubah"), default=timezone.now)

    class Meta:
        verbose_name = _("perubahan kuota")
        verbose_name_plural = _("perubahan kuota")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["office", "-changed_at"], name="quotachange_office_at")]
        constraints = [
            # A weekday's default or one date's override, never both nor neither.
            models.CheckConstraint(
                condition=Q(weekday__isnull=False, day__isnull=True) | Q(weekday__isnull=True, day__isnull=False),
                name="quotachange_weekday_or_day",
            )
        ]
        permissions = [
            ("view_calendar", _("Melihat kalender layanan dan daftar kedatangan")),
            ("plan_calendar", _("Mengatur kuota, jam layanan dan penutupan kantor")),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.get_field_display()}: {self.old_value} → {self.new_value}"


class CallStatus(models.TextChoices):
    """Where an entry of a day's one call queue stands: a checked-in appointment or a walk-in number waits,
    is called to a counter, and ends served (the card printed and handed over) or absent."""

    WAITING = "waiting", _("Menunggu")
    CALLED = "called", _("Dipanggil")
    SERVED = "served", _("Selesai dilayani")
    ABSENT = "absent", _("Tidak ada saat dipanggil")


class BookingQuerySet(models.QuerySet):
    def active(self) -> BookingQuerySet:
        return self.filter(status=Booking.Status.BOOKED)


class Booking(models.Model):
    """A card request's place on a day, with its queue number."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Terjadwal")
        CHECKED_IN = "checked_in", _("Sudah hadir")
        NO_SHOW = "no_show", _("Tidak hadir")
        CANCELLED = "cancelled", _("Dibatalkan")
        MOVED = "moved", _("Dipindah ke hari lain")

    card_request = models.ForeignKey(
        "cards.CardRequest", verbose_name=_("permohonan"), on_delete=models.PROTECT, related_name="bookings"
    )
    # Each booking insert maintains every index: (day, number) and (office, date, status) serve these keys.
    day = models.ForeignKey(
        ServiceDay, verbose_name=_("hari"), on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    office = models.ForeignKey(
        "registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    date = models.DateField(_("tanggal"))
    channel = models.CharField(_("saluran"), max_length=10, choices=QueueChannel.choices)
    urgent = models.BooleanField(_("mendesak"), default=False)
    number = models.PositiveIntegerField(_("nomor antrean"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_by = models.ForeignKey(
        "registry.User",
        verbose_name=_("dibuat oleh"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    ended_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("hadir"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        "registry.User",
        verbose_name=_("dicatat hadir oleh"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # A walk-in served the same day: the appointment made at the counter for the ticket's place (no second
    # place is taken). Its call-queue entry is the ticket.
    ticket = models.OneToOneField(
        "WalkInTicket",
        verbose_name=_("nomor antrean datang langsung"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booking",
    )
    # The call queue, from check-in on (blank before): waiting, called, then served or absent.
    call_status = models.CharField(_("panggilan"), max_length=10, choices=CallStatus.choices, blank=True)
    counter = models.CharField(_("loket"), max_length=20, blank=True)
    called_at = models.DateTimeField(_("dipanggil"), null=True, blank=True)
    called_by = models.ForeignKey(
        "registry.User",
        verbose_name=_("dipanggil oleh"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("jadwal kedatangan")
        verbose_name_plural = _("jadwal kedatangan")
        ordering = ["date", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="checked_in", checked_in_at__isnull=False) | ~Q(status="checked_in"),
                name="booking_checked_in_has_time",
            ),
            models.UniqueConstraint(fields=["day", "number"], name="booking_number_unique_per_day"),
            models.UniqueConstraint(
                fields=["card_request"], condition=Q(status="booked"), name="booking_one_active_per_request"
            ),
            models.CheckConstraint(
                condition=Q(status="checked_in") | Q(call_status=""), name="booking_only_checked_in_is_called"
            ),
        ]
        indexes = [models.Index(fields=["office", "date", "status"], name="booking_office_date_status")]

    def __str__(self) -> str:
        return f"{self.date:%d-%m-%Y} #{self.number} ({self.card_request_id})"

    @property
    def is_past(self) -> bool:
        return self.date < clock.today(self.office)

    @property
    def label(self) -> str:
        """What the counter calls out: the walk-in number for a walk-in, else the appointment's number."""
        return self.ticket.label if self.ticket_id else f"{self.number:03d}"


class WalkInTicket(models.Model):
    """A queue number handed out at the counter, up to the day's walk-in quota. Numbers run 1, 2, 3 ...
    without gaps per office and day; it waits in the day's one call queue, is called, tied to the resident's
    request at the counter, and ends served or absent."""

    Status = CallStatus

    day = models.ForeignKey(ServiceDay, verbose_name=_("hari"), on_delete=models.PROTECT, related_name="tickets")
    number = models.PositiveIntegerField(_("nomor"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    issued_at = models.DateTimeField(_("diambil"), default=timezone.now)
    issued_by = models.ForeignKey(
        "registry.User", verbose_name=_("dicetak oleh"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    counter = models.CharField(_("loket"), max_length=20, blank=True)
    called_at = models.DateTimeField(_("dipanggil"), null=True, blank=True)
    called_by = models.ForeignKey(
        "registry.User",
        verbose_name=_("dipanggil oleh"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # The resident's request, tied at the counter (found by NIK, or created there).
    card_request = models.ForeignKey(
        "cards.CardRequest",
        verbose_name=_("permohonan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="walk_in_tickets",
    )
    ended_at = models.DateTimeField(_("selesai"), null=True, blank=True)

    class Meta:
        verbose_name = _("tiket datang langsung")
        verbose_name_plural = _("tiket datang langsung")
        ordering = ["day", "number"]
        constraints = [models.UniqueConstraint(fields=["day", "number"], name="walkin_number_unique_per_day")]
        indexes = [models.Index(fields=["day", "status", "number"], name="walkin_day_status_number")]

    def __str__(self) -> str:
        return f"{self.day.date:%d-%m-%Y} A-{self.number:03d}"

    @property
    def label(self) -> str:
        return f"A-{self.number:03d}"


class BlankStock(models.Model):
    """How many blank cards (blangko) an office holds now. Never below zero (a database check); every change
    is a `BlankMovement` in the same transaction."""

    office = models.OneToOneField(
        "registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="blank_stock"
    )
    quantity = models.IntegerField(_("stok blangko"), default=0)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    class Meta:
        verbose_name = _("stok blangko")
        verbose_name_plural = _("stok blangko")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=0), name="blankstock_never_negative")]

    def __str__(self) -> str:
        return f"{self.office_id}: {self.quantity}"


class BlankMovement(models.Model):
    """One line of the blank-card ledger: a receipt from the centre (+), spoilage (−) or one printed card (−1,
    naming its request; a batch writes one line per card). Stock = receipts − spoilage − prints, always."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Penerimaan")
        SPOILAGE = "spoilage", _("Rusak/gagal cetak")
        PRINT = "print", _("Cetak")

    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("jenis"), max_length=10, choices=Kind.choices)
    quantity = models.IntegerField(_("jumlah"))
    reference = SystemTextField(_("referensi/alasan"), max_length=200)
    received_on = models.DateField(_("tanggal"), default=date.today)
    print_batch = models.ForeignKey(
        "PrintBatch", verbose_name=_("batch cetak"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The card printed (or misprinted) on this blank; empty for receipts and spoilage written off in bulk.
    card_request = models.ForeignKey(
        "cards.CardRequest",
        verbose_name=_("permohonan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="blank_movements",
    )
    created_by = models.ForeignKey(
        "registry.User", verbose_name=_("dicatat oleh"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("dicatat"), default=timezone.now)

    class Meta:
        verbose_name = _("mutasi blangko")
        verbose_name_plural = _("mutasi blangko")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["office", "created_at"], name="blankmovement_office_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="receipt", quantity__gt=0) | Q(kind__in=["spoilage", "print"], quantity__lt=0),
                name="blankmovement_sign_by_kind",
            ),
            # One delivery from the centre is received once: a receipt form submitted twice (a double click, a
            # reload) must not count its blanks twice. The reference is compared without case.
            models.UniqueConstraint(
                F("office"),
                Lower("reference"),
                condition=Q(kind="receipt"),
                name="blankmovement_receipt_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d}"


class PrintBatch(models.Model):
    """A day's print list for routes 2-4 (collected later, through the UPTD, by post): requests ready to print,
    up to the print places left that day. Printing it takes one blank and one print place per card in the same
    transaction, or nothing."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Daftar cetak")
        PRINTED = "printed", _("Sudah dicetak")

    office = models.ForeignKey("registry.Office", verbose_name=_("kantor"), on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("tanggal layanan"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    card_requests = models.ManyToManyField("cards.CardRequest", verbose_name=_("permohonan"), related_name="+")
    created_by = models.ForeignKey(
        "registry.User", verbose_name=_("dibuat oleh"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("dibuat"), default=timezone.now)
    printed_at = models.DateTimeField(_("dicetak"), null=True, blank=True)
    printed_by = models.ForeignKey(
        "registry.User",
        verbose_name=_("dicetak oleh"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("batch cetak")
        verbose_name_plural = _("batch cetak")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.date:%d-%m-%Y} ({self.get_status_display()})"

    @property
    def number(self) -> str:
        return f"BTC-{self.pk:05d}"
