"""Login lockout with two limits: one account from one address (AXES_FAILURE_LIMIT failures), and one address
over all accounts (AXES_ADDRESS_FAILURE_LIMIT failures), both counted within AXES_COOLOFF_TIME.

django-axes 8 compares one number, the largest failure count over its AXES_LOCKOUT_PARAMETERS combinations,
with one limit; listing ["ip_address"] beside ["username", "ip_address"] would lock an address after 5
failures on any accounts (a typo-prone office shares one NAT address). So axes keeps the account lock, and
this handler adds the address count: once an address reached its own limit, it reports that address as having
reached the account limit too, which makes axes refuse every login from it (also a correct one) and answer
with its lockout page.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the request's address (registry.web.client_ip, as axes saw it) within the cool-off,
    over every username tried."""
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class AddressLimitedAxesHandler(AxesDatabaseHandler):
    """axes' database handler, plus the per-address limit (see the module docstring)."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        account_failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(account_failures, get_failure_limit(request, credentials))
        return account_failures
