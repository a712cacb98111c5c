from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = _("Penyerahan kartu")

    def ready(self) -> None:
        # What a closing request held here is given back by the workflow (cards sits below delivery).
        from cards.workflow import release_hook
        from delivery.services import sukets_release

        release_hook(sukets_release)

        # Celery autodiscovers delivery.tasks only: the reminder tasks register themselves on import.
        import delivery.reminder_tasks  # noqa: F401
