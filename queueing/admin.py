"""Calendar and quotas, edited by administrators until their own pages come."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from queueing.models import Booking, Closure, OpeningHours, QuotaDefault, ServiceDay
from registry.models import Office


class OfficeScopedAdmin(admin.ModelAdmin):
    """Administrators see and edit only the offices of their region (national closures are visible to all,
    editable by platform superusers)."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser and request.user.office_id is None:
            return queryset
        return queryset.filter(office__in=Office.objects.visible_to(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = Office.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(OpeningHours)
class OpeningHoursAdmin(OfficeScopedAdmin):
    list_display = ("office", "weekday", "opens_at", "closes_at")
    list_filter = ("weekday",)


@admin.register(Closure)
class ClosureAdmin(OfficeScopedAdmin):
    """Closing a day that has bookings is done on the counter page, which moves them; here holidays are
    checked and local closures added ahead."""

    list_display = ("date", "name", "kind", "office", "from_package")

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser and request.user.office_id is None:
            return queryset
        return queryset.filter(Q(office__isnull=True) | Q(office__in=Office.objects.visible_to(request.user)))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.office_id is None and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    has_delete_permission = has_change_permission
    list_filter = ("kind", "from_package")
    date_hierarchy = "date"


@admin.register(QuotaDefault)
class QuotaDefaultAdmin(OfficeScopedAdmin):
    list_display = ("office", "weekday", "print_capacity", "whatsapp", "walk_in", "invitation", "uptd")


@admin.register(ServiceDay)
class ServiceDayAdmin(OfficeScopedAdmin):
    """A date's override: change its capacities or close it. Counters are kept by the booking service."""

    list_display = ("date", "office", "is_open", "print_capacity", "booked_total", "batch_printed", "last_number")
    list_filter = ("is_open",)
    date_hierarchy = "date"
    readonly_fields = (
        "booked_total", "booked_whatsapp", "booked_walk_in", "booked_invitation", "booked_uptd", "booked_urgent",
        "batch_printed", "last_number", "last_ticket",
    )  # fmt: skip


@admin.register(Booking)
class BookingAdmin(OfficeScopedAdmin):
    list_display = ("date", "number", "office", "channel", "status", "card_request")
    list_filter = ("status", "channel")
    date_hierarchy = "date"
    raw_id_fields = ("card_request", "day")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
