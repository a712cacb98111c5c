"""Admin for card-request settings: what each kind of request needs."""

from __future__ import annotations

from django.contrib import admin

from cards.models import Requirement


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    """What each kind of request needs. Retire a requirement (uncheck "berlaku") rather than delete it:
    past requests keep pointing at it."""

    list_display = ("name", "kind", "stage", "is_active", "position")
    list_editable = ("is_active", "position")
    list_filter = ("kind", "stage", "is_active")
    search_fields = ("name", "code")

    def has_delete_permission(self, request, obj=None):
        return False
