"""Settings for the e-KTP back office, read from the environment (django-environ).

One module for every environment. The embedded default (no variables set) runs on SQLite in WAL mode and
Celery's filesystem broker under var/, with production-safe values: DEBUG off and a secret key of its own
generated under var/ on the first run; `make run` adds DJANGO_DEBUG=True for the laptop demo. Production sets
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis); a
DJANGO_SECRET_KEY that is set but not a real key stops it from starting.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.secret_key import secret_key_from_file, secret_key_problem

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

# Local state of the embedded default: SQLite database, Celery broker folders, beat schedule.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# Production-safe unless told otherwise: `make run` (scripts/run.sh) and the test suite (tests/settings.py) set
# DJANGO_DEBUG=True for the demo.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# DJANGO_SECRET_KEY when set (it must then be a real key); otherwise this installation's own key, generated on
# the first run in VAR_DIR/secret_key (config/secret_key.py). No key is published with the code.
if "DJANGO_SECRET_KEY" in os.environ:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    if problem := secret_key_problem(SECRET_KEY):
        raise ImproperlyConfigured(f"DJANGO_SECRET_KEY {problem}; unset it to use the key in VAR_DIR/secret_key.")
else:
    SECRET_KEY = secret_key_from_file(VAR_DIR)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Reverse proxies in front of the app that append X-Forwarded-For (0: the app faces clients directly). The
# access log and the login lockout (django-axes) both take the client's address from registry.web.client_ip:
# the address the outermost of them saw. The one setting for both; django-axes' own AXES_PROXY_COUNT is gone.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
if "AXES_PROXY_COUNT" in os.environ:
    raise ImproperlyConfigured("AXES_PROXY_COUNT is no longer read: set DJANGO_TRUSTED_PROXY_COUNT instead.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "template_partials",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "messaging",
    "registry",
    "cards",
    "queueing",
    "intake",
    "delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "registry.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "registry.middleware.IdleSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "registry.mfa_middleware.MfaRequiredMiddleware",
    "registry.password_middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registry.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# Embedded default: SQLite with WAL and IMMEDIATE transactions (writers queue instead of failing with
# "database is locked"). Production: DATABASE_URL=postgres://... (psycopg 3).
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ektp.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
    )
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str("SQLITE_TEST_NAME", default=None)
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "registry.User"

# --- Cache ----------------------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://ektp")}

# --- Authentication, sessions, lockout -----------------------------------------------------------
AUTHENTICATION_BACKENDS = ["registry.backends.StaffBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 idle minutes: the cookie is renewed on every request (SAVE_EVERY_REQUEST)
# and IdleSessionTimeoutMiddleware also checks the last activity server-side.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Failed logins are throttled twice (registry/lockout.py): 5 failures lock one account from that address, and
# 20 failures from one address over all accounts lock that address, each for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "registry.lockout.AddressLimitedAxesHandler"
AXES_CLIENT_IP_CALLABLE = "registry.web.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "username"]

# Second factor (TOTP, django-otp) for supervisors, administrators and platform superusers: with MFA_REQUIRED
# they must enrol an authenticator app before any page; off in the demo (DEBUG), where enrolment is optional.
# Whoever has a confirmed device enters its 6-digit code after the password, required or not.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="e-KTP Disdukcapil")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret key

# --- Security (production) -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # htmx adds its indicator styles inline.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

# --- Internationalisation: Bahasa Indonesia first, English available ------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Jakarta")
USE_I18N = True
USE_TZ = True

# --- Static files: Bootstrap, icons and Chart.js come from npm (package-lock.json) ----------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/vanillajs-datepicker", NODE_MODULES / "vanillajs-datepicker" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "private"))  # uploads; never served as static
# Resident imports: the largest upload accepted. Uploads stream to a temporary file, not into memory; with
# several web hosts, MEDIA_ROOT must be storage the Celery workers share.
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=1024)
# Every other upload (request attachments) is cut off at ATTACHMENT_MAX_MB, at most 5 (the attachments table's own
# limit). registry/uploads.py stops storing a file the moment it passes its page's limit and the form says so.
ATTACHMENT_MAX_MB = min(env.int("ATTACHMENT_MAX_MB", default=5), 5)
# The pages with a limit of their own: URL name -> the setting that holds it.
UPLOAD_LIMIT_SETTING_BY_VIEW = {"registry:import_list": "IMPORT_MAX_UPLOAD_MB"}
FILE_UPLOAD_HANDLERS = [
    "registry.uploads.LimitedMemoryFileUploadHandler",
    "registry.uploads.LimitedTemporaryFileUploadHandler",
]
# Refused-row reports quote NIKs: they are deleted this many days after their import ended.
IMPORT_REPORT_RETENTION_DAYS = env.int("IMPORT_REPORT_RETENTION_DAYS", default=90)
# Retention (UU PDP 27/2022 art. 42-44): the nightly purge-personal-data job (delivery.tasks) deletes what is past
# its period. Attachments: days after their request closed (handed over, rejected, cancelled). Messages to
# residents: days after they were sent or given up (the text and number are blanked; the row stays). Resident change
# history: days after the change. The request timeline and the access log are records the app never purges.
ATTACHMENT_RETENTION_DAYS = env.int("ATTACHMENT_RETENTION_DAYS", default=365)
MESSAGE_RETENTION_DAYS = env.int("MESSAGE_RETENTION_DAYS", default=90)
RESIDENT_CHANGE_RETENTION_DAYS = env.int("RESIDENT_CHANGE_RETENTION_DAYS", default=5 * 365)

# --- Celery --------------------------------------------------------------------------------------
# Embedded default: the filesystem broker (no server) with its folders under var/celery. Production:
# CELERY_BROKER_URL=redis://... Tasks take ids and deliver what the database already holds, so a
# broker outage delays work and loses none.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_DATA_DIR = VAR_DIR / "celery"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (CELERY_DATA_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "purge-saved-searches": {"task": "registry.tasks.purge_saved_searches", "schedule": 60.0 * 60},
    "resume-resident-imports": {"task": "registry.tasks.resume_resident_imports", "schedule": 60.0},
    "purge-import-reports": {"task": "registry.tasks.purge_import_reports", "schedule": 24 * 60 * 60.0},
    "purge-personal-data": {"task": "delivery.tasks.purge_personal_data", "schedule": crontab(hour=2, minute=15)},
    # After the counters close: no-shows of the day (re-invited once), then the next day's invitations.
    "close-past-days": {"task": "queueing.tasks.close_past_days", "schedule": crontab(hour=17, minute=0)},
    "send-invitations": {"task": "queueing.tasks.send_invitations", "schedule": crontab(hour=17, minute=30)},
    # Reminders (appointment tomorrow, card uncollected, documents missing): hourly; each office acts once its
    # own local time has passed 08:00 (WIB, WITA, WIT), idempotently (delivery/reminders.py).
    "send-reminders": {"task": "delivery.reminder_tasks.send_reminders", "schedule": crontab(minute=10)},
    # Webhook payloads the broker never got (or that failed), and media not downloaded yet.
    "intake-payload-sweep": {"task": "intake.tasks.payload_sweep", "schedule": 60.0},
    # Messages to residents that are due and not in the broker (never reached it, retries, a killed worker's).
    "outbox-sweep": {
        "task": "delivery.tasks.outbox_sweep",
        "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=60.0),
    },
    "worker-heartbeat": {
        "task": "delivery.tasks.record_worker_heartbeat",
        "schedule": env.float("CELERY_HEARTBEAT_SECONDS", default=60.0),
    },
}

# --- WhatsApp and SMS webhooks (intake) ---------------------------------------------------------
# WhatsApp Cloud API webhook (webhook/whatsapp/): the verify token typed into Meta's app dashboard for the GET
# handshake, and the app secret every POST is signed with (X-Hub-Signature-256). Unset: the endpoint refuses
# everything with 403.
WHATSAPP_VERIFY_TOKEN = env.str("WHATSAPP_VERIFY_TOKEN", default="")
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET", default="")
# The Graph API (residents' photos and documents are downloaded from it at once: media ids expire in 7 days):
# base URL, version and the system user's access token (Bearer).
WHATSAPP_GRAPH_URL = env.str("WHATSAPP_GRAPH_URL", default="https://graph.facebook.com")
WHATSAPP_GRAPH_VERSION = env.str("WHATSAPP_GRAPH_VERSION", default="v24.0")
WHATSAPP_ACCESS_TOKEN = env.str("WHATSAPP_ACCESS_TOKEN", default="")
# The SMS gateway's inbound endpoint (webhook/sms/) takes this token in `Authorization: Bearer …`,
# `X-Gateway-Token` or a `token` form field (never in the URL). Unset: every post is refused with 403.
SMS_INBOUND_TOKEN = env.str("SMS_INBOUND_TOKEN", default="")
# A webhook body larger than this is refused (413) before it is read.
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
# A payload whose processing failed is tried again by the sweep (intake.tasks.payload_sweep) this many times in
# all; it then stays stored and visible as failed.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=5)
# Voice notes and other media that are neither an image nor a PDF are kept only up to this size, in MB.
INBOUND_AUDIO_MAX_MB = env.int("INBOUND_AUDIO_MAX_MB", default=2)

# --- Gateways messages leave by (messaging/gateways.py) ------------------------------------------
# Per channel: "cloud" (WhatsApp Cloud API: WHATSAPP_GRAPH_URL/_VERSION/_ACCESS_TOKEN above) or "http" (one HTTP SMS
# gateway), or the embedded "file" (JSON lines in MESSAGE_GATEWAY_FILE, with numbers and texts) or "console"
# (a log line without them); a dotted path names a class of one's own. WHATSAPP_PHONE_NUMBER_ID is the Cloud
# API id of the number used when an office has no WhatsApp number marked for updates.
MESSAGE_GATEWAY_WHATSAPP = env.str("MESSAGE_GATEWAY_WHATSAPP", default="file")
MESSAGE_GATEWAY_SMS = env.str("MESSAGE_GATEWAY_SMS", default="file")
MESSAGE_GATEWAY_FILE = env.str("MESSAGE_GATEWAY_FILE", default=str(VAR_DIR / "outbox.jsonl"))
MESSAGE_GATEWAY_TIMEOUT_SECONDS = env.float("MESSAGE_GATEWAY_TIMEOUT_SECONDS", default=10.0)
WHATSAPP_PHONE_NUMBER_ID = env.str("WHATSAPP_PHONE_NUMBER_ID", default="")
# The SMS gateway: POST {"to", "text", "sender"} as JSON with `Authorization: Bearer SMS_GATEWAY_TOKEN`, answer {"id"}.
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_SENDER = env.str("SMS_GATEWAY_SENDER", default="")
if MESSAGE_GATEWAY_WHATSAPP == "cloud" and not WHATSAPP_ACCESS_TOKEN:
    raise ImproperlyConfigured("MESSAGE_GATEWAY_WHATSAPP=cloud needs WHATSAPP_ACCESS_TOKEN.")
if MESSAGE_GATEWAY_SMS == "http" and not SMS_GATEWAY_URL:
    raise ImproperlyConfigured("MESSAGE_GATEWAY_SMS=http needs SMS_GATEWAY_URL.")

# --- Outbox: delivering messages to residents (delivery/outbox.py) -------------------------------
# A failed send is tried again after BASE x 2^(attempts-1) seconds (capped at MAX, with jitter; a provider's
# retry-after is honoured) and given up (dead, for clerks to see and resend) after MESSAGE_MAX_ATTEMPTS.
MESSAGE_MAX_ATTEMPTS = env.int("MESSAGE_MAX_ATTEMPTS", default=8)
MESSAGE_BACKOFF_BASE_SECONDS = env.float("MESSAGE_BACKOFF_BASE_SECONDS", default=30.0)
MESSAGE_BACKOFF_MAX_SECONDS = env.float("MESSAGE_BACKOFF_MAX_SECONDS", default=3600.0)
# A worker holds a row this long while it sends (longer than the deliver task's time limit); a killed worker's
# row is handed out again after it. A row handed to the broker longer ago than MESSAGE_QUEUED_STALE_SECONDS and
# still pending is handed out again by the sweep (lost with a broker restart).
MESSAGE_LEASE_SECONDS = env.int("MESSAGE_LEASE_SECONDS", default=150)
MESSAGE_QUEUED_STALE_SECONDS = env.int("MESSAGE_QUEUED_STALE_SECONDS", default=300)
# ... when the broker's queue is empty; while it still holds a backlog, only after this long (delivery/tasks.py).
MESSAGE_QUEUED_LOST_SECONDS = env.int("MESSAGE_QUEUED_LOST_SECONDS", default=3600)
MESSAGE_SWEEP_BATCH = env.int("MESSAGE_SWEEP_BATCH", default=500)
MESSAGE_SWEEP_MAX_BATCHES = env.int("MESSAGE_SWEEP_MAX_BATCHES", default=40)
# What the office starts (updates, reminders) is not sent between these times, office local time.
QUIET_HOURS_START = env.str("QUIET_HOURS_START", default="21:00")
QUIET_HOURS_END = env.str("QUIET_HOURS_END", default="06:00")
# Outside WhatsApp's 24-hour window a message goes as this approved template (its one body parameter is the
# text) unless the office named its own for the message (MessageTemplate.wa_template_name). Empty: such messages
# go by SMS, or are given up when the contact has no number.
WHATSAPP_UPDATE_TEMPLATE = env.str("WHATSAPP_UPDATE_TEMPLATE", default="pemberitahuan_layanan")
WHATSAPP_UPDATE_TEMPLATE_LANGUAGE = env.str("WHATSAPP_UPDATE_TEMPLATE_LANGUAGE", default="id")
# The Cloud API's throughput per sending number (80/s; 20/s for a number shared with the WhatsApp Business app),
# enforced with a token bucket in Redis when the broker is Redis.
WHATSAPP_RATE_PER_SECOND = env.float("WHATSAPP_RATE_PER_SECOND", default=80.0)

# /healthz answers from the report each process made in the last N seconds (delivery/health.py).
HEALTHZ_CACHE_SECONDS = env.int("HEALTHZ_CACHE_SECONDS", default=10)

# --- Tables --------------------------------------------------------------------------------------
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}

# --- Logging: no personal data (NIK, names) in log lines -----------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Demo logins printed by `make run` (seed_demo); never used outside DEBUG.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo-ektp-2026")
