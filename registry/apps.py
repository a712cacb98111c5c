from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate, post_save, pre_save
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registrasi penduduk")

    def ready(self) -> None:
        # Groups need the permissions that auth creates after migrating this app (registry.roles imports
        # models, so it is imported here, once the app registry is ready).
        from registry.roles import role_groups_sync_after_migrate

        post_migrate.connect(role_groups_sync_after_migrate, sender=self, dispatch_uid="registry_role_groups")

        # A resident saved into another kecamatan is announced (registry.signals.residents_moved).
        from registry import signals
        from registry.models import Resident

        pre_save.connect(signals.resident_kecamatan_before_save, sender=Resident, dispatch_uid="resident_moves_before")
        post_save.connect(signals.resident_moved_after_save, sender=Resident, dispatch_uid="resident_moves_after")

        # The second factor's state of a session is read once, at login (registry.mfa).
        from registry.mfa import mfa_session_start

        user_logged_in.connect(mfa_session_start, dispatch_uid="registry_mfa_session_start")
