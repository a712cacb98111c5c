"""Calendar and quotas, edited by administrators until their own pages come."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from queueing.models import Booking, Closure, OpeningHours, QuotaDefault, ServiceDay
from registry.admin_scoping import ProjectModelAdmin
from registry.models import Office
from registry.roles import is_platform_superuser


class OfficeScopedAdmin(ProjectModelAdmin):
    """Administrators see and edit only the offices of their region (national closures are visible to all,
    editable by platform superusers). The office field offers and accepts only offices of the scope
    (ScopedForeignKeysMixin)."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_superuser(request.user):
            return queryset
        return queryset.filter(office__in=Office.objects.visible_to(request.user))


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
        queryset = ProjectModelAdmin.get_queryset(self, request)
        if is_platform_superuser(request.user):
            return queryset
        return queryset.filter(Q(office__isnull=True) | Q(office__in=Office.objects.visible_to(request.user)))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.office_id is None and not is_platform_superuser(request.user):
            return False
        return super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # A closure without an office closes every office in the country: the platform's to add.
        if "office" in form.base_fields and not is_platform_superuser(request.user):
            form.base_fields["office"].required = True
        return form

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
