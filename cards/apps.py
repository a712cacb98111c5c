from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = _("Permohonan e-KTP")

    def ready(self) -> None:
        # registry cannot import cards: it announces a resident's move, and open requests follow here.
        from cards.services import residents_moved_received
        from registry.signals import residents_moved

        residents_moved.connect(residents_moved_received, dispatch_uid="cards_requests_follow_residents")
