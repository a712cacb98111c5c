"""The product's URLs plus the baseline: a bare view that reads the posted body and answers 200, public and
CSRF-exempt like the webhook, so both pass the same middleware with the same request.

The bare view sits right beside the webhook's include, so Django tries as many patterns before reaching either:
the comparison measures the views, not their place in the URLconf (reaching `webhook/` costs ~0.3 ms of URL
resolution where it is mounted now, after the pages' includes; see the bench's notes in docs/PERFORMANCE.md)."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import URLResolver, path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@login_not_required
def bare(request: HttpRequest) -> HttpResponse:
    request.body  # noqa: B018 - read like the webhook reads it
    return HttpResponse("OK", content_type="text/plain")


def _beside_the_webhook(patterns: list) -> list:
    at = next(
        i for i, entry in enumerate(patterns) if isinstance(entry, URLResolver) and str(entry.pattern) == "webhook/"
    )
    return [*patterns[:at], path("bench/bare/", bare), *patterns[at:]]


urlpatterns = _beside_the_webhook(list(project_urlpatterns))
