"""The bench's settings: the product's production settings, with the URLs of bench/webhook/urls.py (the product's
plus a bare view, the baseline measured in the same run under the same server)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhook.urls"
