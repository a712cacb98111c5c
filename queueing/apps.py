from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueueingConfig(AppConfig):
    name = "queueing"
    verbose_name = _("Antrean, kuota dan cetak")

    def ready(self) -> None:
        # What a closing request held here is given back by the workflow (cards sits below queueing).
        from cards.workflow import release_hook
        from queueing.appointments import holdings_release
        from queueing.printing import print_batches_release

        release_hook(holdings_release)
        release_hook(print_batches_release)
