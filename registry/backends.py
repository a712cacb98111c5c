from __future__ import annotations

from axes.backends import AxesBackend
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from registry.models import User


class StaffBackend(AxesBackend):
    """The one authentication backend: django-axes' lockout check, then username and password.

    It also loads the account together with its office (the account's scope) in one query.
    """

    def authenticate(self, request: HttpRequest, username: str | None = None, password: str | None = None, **kwargs):
        super().authenticate(request, username=username, password=password, **kwargs)  # raises when locked out
        return ModelBackend.authenticate(self, request, username=username, password=password, **kwargs)

    def get_user(self, user_id: int) -> User | None:
        try:
            user = User._default_manager.select_related("office").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
