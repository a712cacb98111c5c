"""Calendar and quotas, edited by administrators until their own pages come."""

from __future__ import annotations

from django.contrib import admin

from queueing.models import Booking, Closure, OpeningHours, QuotaDefault, ServiceDay


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ("office", "weekday", "opens_at", "closes_at")
    list_filter = ("weekday",)


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "kind", "office", "from_package")
    list_filter = ("kind", "from_package")
    date_hierarchy = "date"


@admin.register(QuotaDefault)
class QuotaDefaultAdmin(admin.ModelAdmin):
    list_display = ("office", "weekday", "print_capacity", "whatsapp", "walk_in", "invitation", "uptd")


@admin.register(ServiceDay)
class ServiceDayAdmin(admin.ModelAdmin):
    """A date's override: change its capacities or close it. Counters are kept by the booking service."""

    list_display = ("date", "office", "is_open", "print_capacity", "booked_total", "last_number")
    list_filter = ("is_open",)
    date_hierarchy = "date"
    readonly_fields = (
        "booked_total", "booked_whatsapp", "booked_walk_in", "booked_invitation", "booked_uptd", "booked_urgent",
        "last_number",
    )  # fmt: skip


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ("date", "number", "office", "channel", "status", "card_request")
    list_filter = ("status", "channel")
    date_hierarchy = "date"
    raw_id_fields = ("card_request", "day")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
