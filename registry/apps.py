from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registrasi penduduk")

    def ready(self) -> None:
        # Groups need the permissions that auth creates after migrating this app (registry.roles imports
        # models, so it is imported here, once the app registry is ready).
        from registry.roles import role_groups_sync_after_migrate

        post_migrate.connect(role_groups_sync_after_migrate, sender=self, dispatch_uid="registry_role_groups")
