"""The bench's settings: the product's production settings, with the URLs of bench/webhook/urls.py (the product's
plus a bare view, the baseline measured in the same run under the same server). BENCH_CONN_HEALTH_CHECKS=off
measures the product without Django's per-request connection check (a `SELECT 1` before the first query of
every request)."""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.webhook.urls"
if os.environ.get("BENCH_CONN_HEALTH_CHECKS") == "off":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
