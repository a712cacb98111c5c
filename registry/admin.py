"""Admin for administrators: offices, staff accounts and their roles. Every list is scoped like the app."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from registry.forms import FamilyForm, ResidentForm
from registry.models import AccessLog, Family, Office, Region, Resident, User
from registry.roles import RoleError, staff_assign_role


class ScopedAdminMixin:
    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).visible_to(request.user)


class ReadOnlyAdminMixin:
    """Rows that come from a decree or record what happened: visible, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "postal_code", "decree")
    list_filter = ("level",)
    search_fields = ("code", "name")
    show_full_result_count = False


@admin.register(Office)
class OfficeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "region", "parent", "time_zone", "message_route", "is_active", "health_emergency")
    list_filter = ("kind", "time_zone", "message_route", "is_active", "health_emergency")
    search_fields = ("name", "region__name", "region__code")
    raw_id_fields = ("region", "parent")
    list_select_related = ("region", "parent")
    fieldsets = (
        (None, {"fields": ("kind", "name", "region", "parent", "address", "phone", "is_active")}),
        # The office's wall clock: its "today", the end of its day and its daily jobs (WIB, WITA, WIT).
        (_("Waktu dan layanan"), {"fields": ("time_zone", "message_route", "invitation_lead_days", "cod_fee")}),
        (_("Blangko dan keadaan darurat"), {"fields": ("ration_blanks", "health_emergency")}),
    )


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "get_full_name", "role", "office", "is_active", "last_login")
    list_filter = ("role", "is_active", "office__kind")
    list_select_related = ("office",)
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Kantor dan peran"), {"fields": ("office", "role")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Kantor dan peran"), {"fields": ("first_name", "last_name", "office", "role")}),
    )

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if request.user.is_superuser and request.user.office_id is None:
            return queryset
        return queryset.filter(office__in=Office.objects.visible_to(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = Office.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.role and obj.office_id:
            try:
                staff_assign_role(user=obj, role=obj.role, office=obj.office)
            except RoleError as exc:
                self.message_user(request, str(exc), level="error")


@admin.register(Resident)
class ResidentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = ResidentForm
    list_display = ("full_name", "masked_nik", "birth_date", "sex", "desa")
    list_select_related = ("desa",)
    search_fields = ("=nik", "full_name")
    raw_id_fields = ("desa", "family")
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for warning in form.nik_warnings:
            self.message_user(request, warning, level="warning")

    @admin.display(description=_("NIK"))
    def masked_nik(self, obj: Resident) -> str:
        return obj.masked_nik


@admin.register(Family)
class FamilyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = FamilyForm
    list_display = ("__str__", "address", "desa")
    list_select_related = ("desa",)
    search_fields = ("=kk_number",)
    raw_id_fields = ("head", "desa")
    show_full_result_count = False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "action", "resident", "ip_address")
    list_filter = ("action",)
    list_select_related = ("user", "resident")
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(resident__in=Resident.objects.visible_to(request.user))
