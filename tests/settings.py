"""The test suite's settings: config.settings as `make run` reads them, with DJANGO_DEBUG=True unless the
environment says otherwise.

config/settings.py defaults to production values (DEBUG off: HTTPS redirects, secure cookies, the static
manifest), which the test client's plain HTTP cannot use; pytest-django still runs each test with DEBUG off.
Tests of the production values start their own process with config.settings (tests/test_settings.py).
"""

import os
import tempfile

os.environ.setdefault("DJANGO_DEBUG", "True")

from config.settings import *  # noqa: E402, F403

# /healthz probes on every call in tests (tests change the broker URL and the clock between calls); the cache
# has its own tests, which turn it on (tests/delivery/test_healthz.py).
HEALTHZ_CACHE_SECONDS = 0

# The file gateway (the embedded default for WhatsApp and SMS) appends to a scratch file, not var/outbox.jsonl.
MESSAGE_GATEWAY_FILE = os.path.join(tempfile.gettempdir(), "ektp-tests", "outbox.jsonl")
