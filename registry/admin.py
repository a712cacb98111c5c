"""Admin for administrators: offices, staff accounts and their roles. Every list is scoped like the app.

Only a platform superuser (a superuser without an office) governs the platform: superusers, staff flags,
permissions, the region and kind of an office. A kabupaten administrator manages the offices and accounts of
its own kabupaten, through forms that accept nothing outside it (issue 12). NIK and KK numbers are shown
masked; the full number is revealed only on the app's resident page, where the reveal is audited.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry import clock
from registry.admin_scoping import (
    BIRTH_DATE_FIELDS,
    NoNumberInUrlMixin,
    ProjectModelAdmin,
    ScopedForeignKeysMixin,
    ScopedModelAdmin,
)
from registry.forms import (
    FamilyChangeForm,
    FamilyForm,
    OfficeForm,
    ResidentChangeForm,
    ResidentForm,
    StaffChangeForm,
    StaffCreationForm,
)
from registry.models import AccessLog, Family, Office, Region, Resident, User
from registry.roles import is_platform_superuser, staff_assign_role, staff_role_clear
from registry.staff import (
    StaffError,
    staff_active_set,
    staff_password_change_detail,
    staff_password_problem,
    staff_role_problem,
    staff_visible_to,
)
from registry.tables import remask_old_masks
from registry.web import access_log_record, client_ip


class ReadOnlyAdminMixin:
    """Rows that come from a decree or record what happened: visible, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _resident_page_link(resident_id: int | None, masked: str) -> str:
    """A masked number and the way to the full one: the resident's page, whose reveal is a POST and a row of the
    access log. The number itself is never in the link."""
    if resident_id is None:
        return masked
    return format_html(
        '{} &nbsp;<a href="{}">{}</a>',
        masked,
        reverse("registry:resident_detail", args=[resident_id]),
        _("Buka halaman penduduk (NIK lengkap dibuka di sana dan tercatat di log akses)"),
    )


@admin.register(Region)
class RegionAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ("code", "name", "kind", "postal_code", "decree")
    list_filter = ("level",)
    search_fields = ("code", "name")
    show_full_result_count = False


@admin.register(Office)
class OfficeAdmin(ScopedModelAdmin):
    """The region, kind and parent of an existing office are the platform's: they decide the scope of every
    account of the office. A kabupaten administrator adds UPTDs on its own kecamatan only."""

    form = OfficeForm
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
        # The letterhead; the logo is uploaded on the office settings page, which re-encodes it.
        (
            _("Kop surat"),
            {
                "fields": (
                    "government_line",
                    "agency_line",
                    "email",
                    "website",
                    "head_name",
                    "head_title",
                    "head_nip",
                    "logo",
                )
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Office | None = None):
        if obj is not None and not is_platform_superuser(request.user):
            return ("kind", "region", "parent", "logo")
        return ("logo",)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if not is_platform_superuser(request.user):
            # Adding: a UPTD on a kecamatan of the editor's scope that has no office yet, under a Disdukcapil
            # of the scope (OfficeForm checks that the kecamatan is that Disdukcapil's).
            if db_field.name == "region":
                kwargs["queryset"] = Region.objects.filter(level=Region.Level.KECAMATAN, office__isnull=True)
            elif db_field.name == "parent":
                kwargs["queryset"] = Office.objects.filter(kind=Office.Kind.DISDUKCAPIL)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "kind" and not is_platform_superuser(request.user):
            kwargs["choices"] = [(Office.Kind.UPTD, Office.Kind.UPTD.label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(User)
class StaffAdmin(NoNumberInUrlMixin, ScopedForeignKeysMixin, UserAdmin):
    """Staff accounts of the editor's scope. Outside the platform, the role is the only grant: groups, staff
    flag and permissions follow it (`staff_assign_role`), and nobody changes their own role or office or
    deactivates themselves. Every role or office change, every deactivation or reactivation
    (`staff_active_set`) and every password set here is a STAFF_CHANGE row of the access log."""

    form = StaffChangeForm
    add_form = StaffCreationForm
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
    # An administrator's view of an account: no superuser or staff flag, no groups, no permissions.
    staff_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Data pribadi"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
        (_("Kantor dan peran"), {"fields": ("office", "role")}),
    )
    staff_add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Kantor dan peran"), {"fields": ("first_name", "last_name", "email", "office", "role")}),
    )

    def get_queryset(self, request: HttpRequest):
        # Superuser accounts are the platform's, even one attached to an office of the scope (registry/staff.py).
        return super().get_queryset(request).filter(pk__in=staff_visible_to(request.user).values("pk"))

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None):
        if is_platform_superuser(request.user):
            return super().get_fieldsets(request, obj)
        return self.staff_add_fieldsets if obj is None else self.staff_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None):
        readonly = [] if is_platform_superuser(request.user) else ["last_login", "date_joined"]
        if obj is not None and obj.pk == request.user.pk:
            # Nobody grants themselves a role, moves their own scope or deactivates themselves.
            readonly += ["office", "role", "is_active"]
        elif obj is not None and staff_role_problem(by=request.user, account=obj):
            readonly += ["office", "role"]  # a peer administrator's are the platform's (registry/staff.py)
        return readonly

    def get_form(self, request: HttpRequest, obj: User | None = None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not is_platform_superuser(request.user):
            # Outside the platform every account has an office in the scope and a role.
            for name in ("office", "role"):
                if name in form.base_fields:
                    form.base_fields[name].required = True
        return form

    def may_set_password(self, request: HttpRequest, account: User) -> bool:
        """The app's rule (`staff_password_problem`): outside the platform, passwords are set for the roles below
        the editor's, never a peer administrator's (nor their own here, without the old password: that is the
        admin's own "change password" page)."""
        return staff_password_problem(by=request.user, account=account) is None

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        """Set an account's password (UserAdmin's form). Invariant: every password set or disabled here is a
        STAFF_CHANGE row of the access log, written in the transaction that stores the new hash."""
        account = self.get_object(request, unquote(id))
        if account is not None and not self.may_set_password(request, account):
            raise PermissionDenied
        if account is None or request.method != "POST":
            return super().user_change_password(request, id, form_url)
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            stored = User.objects.filter(pk=account.pk).values_list("password", flat=True).first()
            if stored != account.password:
                if account.pk != request.user.pk:  # the owner chooses their own at the next login
                    User.objects.filter(pk=account.pk).update(password_change_required=True)
                disabled = bool(stored and stored.startswith(UNUSABLE_PASSWORD_PREFIX))
                detail = staff_password_change_detail(account=account, disabled=disabled)
                access_log_record(request, action=AccessLog.Action.STAFF_CHANGE, detail=detail)
        return response

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        # The role and office are written by staff_assign_role (in save_related, after the form's groups), so
        # that the audit row sees the stored values as "old".
        form.staff_role_requested = (obj.role, obj.office)
        form.staff_active_requested = None
        if change:
            stored = User.objects.only("role", "office", "is_active").get(pk=obj.pk)
            obj.role, obj.office_id = stored.role, stored.office_id
            # Deactivating or reactivating goes through staff_active_set (compare-and-set, STAFF_CHANGE row).
            if obj.is_active != stored.is_active:
                form.staff_active_requested, obj.is_active = obj.is_active, stored.is_active
        else:
            obj.role, obj.office = "", None
            obj.password_change_required = True  # the owner chooses their own password at the first login
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance
        role, office = form.staff_role_requested
        if role and office is not None:
            staff_assign_role(user=user, role=role, office=office, by=request.user, client_address=client_ip(request))
        elif user.role or user.office_id:
            staff_role_clear(user=user, by=request.user, client_address=client_ip(request))
        if form.staff_active_requested is not None:
            try:
                staff_active_set(
                    by=request.user,
                    account_id=user.pk,
                    active=form.staff_active_requested,
                    client_address=client_ip(request),
                )
            except StaffError as exc:
                messages.error(request, str(exc))
            else:
                user.is_active = form.staff_active_requested


@admin.register(Resident)
class ResidentAdmin(ScopedModelAdmin):
    """Residents of the scope. The NIK is typed in once, when the resident is added; afterwards it is shown
    masked, and revealed only on the resident's page (audited). Search is by name only: a NIK in an admin URL
    would sit in the address bar and the server logs."""

    form = ResidentForm
    list_select_related = ("desa",)
    search_fields = ("full_name",)
    raw_id_fields = ("desa", "family")
    show_full_result_count = False
    # A stored resident's birth date is neither shown nor edited here: beside the masked NIK, with the kecamatan
    # and the sex known, it leaves only the small serial to guess (issue 12). The change form shows the age; the
    # date is typed in once, on the add form, and read only through the audited reveal of the resident's page.
    change_fields = (
        "nik_masked",
        *(name for name in ResidentChangeForm.Meta.fields if name not in BIRTH_DATE_FIELDS),
    )

    def get_form(self, request: HttpRequest, obj: Resident | None = None, **kwargs):
        if obj is not None:
            kwargs["form"] = ResidentChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Resident | None = None):
        if obj is None:
            return ResidentForm.Meta.fields
        first, *rest = self.change_fields
        return (first, self._age_field(request), *rest)

    def get_readonly_fields(self, request: HttpRequest, obj: Resident | None = None):
        return () if obj is None else ("nik_masked", self._age_field(request))

    def _age_field(self, request: HttpRequest):
        """The age on the editor's office day, one callable per request (the form's fields and its read-only
        fields must name the same object)."""
        if (field := getattr(request, "_resident_age_field", None)) is None:
            today = clock.today(request.user.office)

            # An age, not a birth date, beside the masked number: a birth date completes a NIK's digits 7-12.
            @admin.display(description=_("umur"))
            def age(obj: Resident) -> str:
                return _("%(years)d tahun") % {"years": obj.age_on(today)}

            request._resident_age_field = field = age
        return field

    def get_list_display(self, request: HttpRequest):
        today = clock.today(request.user.office)

        # An age, not a birth date, beside the masked number: a birth date completes a NIK's digits 7-12.
        @admin.display(description=_("umur"))
        def age(obj: Resident) -> int:
            return obj.age_on(today)

        return ("full_name", "masked_nik", age, "sex", "desa")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        for warning in getattr(form, "nik_warnings", []):
            self.message_user(request, warning, level="warning")

    @admin.display(description=_("NIK"))
    def masked_nik(self, obj: Resident) -> str:
        return obj.masked_nik

    @admin.display(description=_("NIK"))
    def nik_masked(self, obj: Resident) -> str:
        return _resident_page_link(obj.pk, obj.masked_nik)


@admin.register(Family)
class FamilyAdmin(ScopedModelAdmin):
    """Families of the scope; the KK number is typed in when the family is added, then shown masked."""

    form = FamilyForm
    list_display = ("__str__", "address", "desa")
    list_select_related = ("desa",)
    search_fields = ("head__full_name", "address")
    raw_id_fields = ("head", "desa")
    show_full_result_count = False
    change_fields = ("kk_masked", *FamilyChangeForm.Meta.fields)

    def get_form(self, request: HttpRequest, obj: Family | None = None, **kwargs):
        if obj is not None:
            kwargs["form"] = FamilyChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Family | None = None):
        return FamilyForm.Meta.fields if obj is None else self.change_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Family | None = None):
        return () if obj is None else ("kk_masked",)

    @admin.display(description=_("Nomor KK"))
    def kk_masked(self, obj: Family) -> str:
        return _resident_page_link(obj.head_id, obj.masked_kk)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, ProjectModelAdmin):
    """Reads of the scope's residents, and rows about no resident (exports, staff role and office changes)
    made by accounts of the scope's offices."""

    list_display = ("at", "user", "action", "resident", "ip_address", "detail_shown")
    list_filter = ("action",)
    list_select_related = ("user", "resident")
    show_full_result_count = False
    fields = ("at", "user", "action", "resident", "ip_address", "detail_shown")
    readonly_fields = ("detail_shown",)

    @admin.display(description=_("keterangan"))
    def detail_shown(self, obj: AccessLog) -> str:
        """Rows are append-only: one written with the old mask (head and serial) is re-masked when shown."""
        return remask_old_masks(obj.detail)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_superuser(request.user):
            return queryset
        return queryset.filter(
            Q(resident__in=Resident.objects.visible_to(request.user))
            | Q(resident__isnull=True, user__office__in=Office.objects.visible_to(request.user))
        )
