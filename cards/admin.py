"""Admin for card-request settings: what each kind of request needs."""

from __future__ import annotations

from django.contrib import admin

from cards.models import Requirement
from registry.admin_scoping import ProjectModelAdmin
from registry.roles import is_platform_superuser


@admin.register(Requirement)
class RequirementAdmin(ProjectModelAdmin):
    """What each kind of request needs. Retire a requirement (uncheck "berlaku") rather than delete it:
    past requests keep pointing at it.

    Requirements are national rules: one row serves every kabupaten, so only a platform superuser (no office)
    adds or changes them; administrators read them (issue 12: one kabupaten edited every kabupaten's)."""

    list_display = ("name", "kind", "stage", "is_active", "position")
    list_editable = ("is_active", "position")
    list_filter = ("kind", "stage", "is_active")
    search_fields = ("name", "code")

    def has_add_permission(self, request):
        return is_platform_superuser(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_platform_superuser(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
