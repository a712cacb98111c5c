"""The product's URLs plus the baseline: a bare view that reads the posted body and answers 200, public and
CSRF-exempt like the webhook, so both pass the same middleware with the same request."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@login_not_required
def bare(request: HttpRequest) -> HttpResponse:
    request.body  # noqa: B018 - read like the webhook reads it
    return HttpResponse("OK", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *project_urlpatterns]
