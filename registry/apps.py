from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_role_groups(sender, using="default", **kwargs) -> None:
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from registry.roles import role_groups_sync

    # Roles also hold permissions of apps migrated after this one (queueing, delivery): create them first.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    role_groups_sync()


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registrasi penduduk")

    def ready(self) -> None:
        # Groups need the permissions that auth creates after migrating this app.
        post_migrate.connect(_sync_role_groups, sender=self, dispatch_uid="registry_role_groups")
