"""telcodesk settings: one module, configured by environment variables.

Embedded mode (nothing set): a SQLite file under var/, a secret key generated once and
kept under var/, tasks run in-process after commit. Production: set DATABASE_URL,
SECRET_KEY, ALLOWED_HOSTS and TELCODESK_DEBUG=0; telcodesk refuses to start without a
real secret key when debug is off.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from telcodesk.core.env import (
    ConfigurationError,
    env_bool,
    env_file,
    env_int,
    env_list,
    env_str,
    env_url,
)

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(env_str("TELCODESK_HOME", str(Path.cwd())))
VAR_DIR = Path(env_str("TELCODESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("TELCODESK_DEBUG", default=True)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 50 or len(set(key)) < 5:
            raise ConfigurationError(
                "SECRET_KEY must be at least 50 characters with at least 5 distinct ones"
            )
        return key
    if not DEBUG:
        raise ConfigurationError(
            "SECRET_KEY is required when TELCODESK_DEBUG is off (production mode)"
        )
    # Embedded mode: generate once, keep it so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "ninja",  # serves the API docs page's assets locally (no CDN)
    "telcodesk.core",
    "telcodesk.accounts",
    "telcodesk.customers",
    "telcodesk.packs",
    "telcodesk.automation",
    "telcodesk.pipelines",
    "telcodesk.messaging",
    "telcodesk.inbox",
    "telcodesk.coverage",
    "telcodesk.mailsandbox",
    "telcodesk.network",
    "telcodesk.tickets",
    "telcodesk.playbooks",
    "telcodesk.visits",
    "telcodesk.nps",
]

MIDDLEWARE = [
    "telcodesk.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "telcodesk.accounts.middleware.UserPreferencesMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "telcodesk.urls"
WSGI_APPLICATION = "telcodesk.wsgi.application"
ASGI_APPLICATION = "telcodesk.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "customers:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "telcodesk.accounts.context_processors.console",
                "telcodesk.inbox.context_processors.inbox",
                "telcodesk.pipelines.context_processors.leads",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------
_default_db = f"sqlite:///{VAR_DIR / 'telcodesk.sqlite3'}"
DATABASE_URL = env_url(
    "DATABASE_URL", _default_db, schemes=("sqlite", "postgres", "postgresql", "pgsql")
)
if DATABASE_URL.startswith("sqlite:///"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
        ),
    }
    # A file (not :memory:) so that a real worker process can share the test database;
    # one per process so that concurrent test runs do not trample each other.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DATABASE_PREPARE_STATEMENTS", default=True
    ):
        # Server-side parameters and prepared statements: psycopg prepares a statement
        # run five times on a connection, so PostgreSQL parses and plans the hot ones
        # once. Off behind a pooler that cannot keep prepared statements (PgBouncer
        # before 1.21 in transaction mode).
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work ------------------------------------------------------------------
BROKER_URL = env_url("TELCODESK_BROKER_URL", schemes=("redis", "rediss", "amqp", "amqps", "memory"))
CELERY_BROKER_URL = BROKER_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
# The tick that fires due timers (automation app). Pending work lives in the database;
# beat only wakes the workers. In the embedded mode `telcodesk serve` runs the tick.
TIMER_TICK_SECONDS = env_int("TELCODESK_TIMER_TICK_SECONDS", 5, minimum=1, maximum=3600)
CELERY_BEAT_SCHEDULE = {
    "automation-tick": {
        "task": "telcodesk.automation.tick",
        "schedule": float(TIMER_TICK_SECONDS),
    },
    # Webhook events still pending after a minute (a lost broker message, a dead worker).
    "messaging-webhook-sweep": {
        "task": "telcodesk.messaging.process_pending_webhook_events",
        "schedule": 60.0,
    },
    # Outbound messages whose broker message was lost or whose worker died mid-send.
    "messaging-outbox-sweep": {
        "task": "telcodesk.messaging.sweep_outbox",
        "schedule": 60.0,
    },
}

# E-mail channels read over IMAP every N seconds by beat (0: off; `telcodesk email_poll`).
EMAIL_POLL_SECONDS = env_int("TELCODESK_EMAIL_POLL_SECONDS", 0, minimum=0, maximum=86400)
if EMAIL_POLL_SECONDS:
    CELERY_BEAT_SCHEDULE["messaging-email-poll"] = {
        "task": "telcodesk.messaging.poll_email",
        "schedule": float(EMAIL_POLL_SECONDS),
    }

# Channel limits: request bodies and provider timeouts (read by messaging).
TELCODESK_WHATSAPP_WEBHOOK_MAX_BYTES = env_int(
    "TELCODESK_WHATSAPP_WEBHOOK_MAX_BYTES", 1_048_576, minimum=1024, maximum=104_857_600
)
TELCODESK_WHATSAPP_TIMEOUT_SECONDS = env_int(
    "TELCODESK_WHATSAPP_TIMEOUT_SECONDS", 10, minimum=1, maximum=300
)
TELCODESK_SMS_TIMEOUT_SECONDS = env_int("TELCODESK_SMS_TIMEOUT_SECONDS", 10, minimum=1, maximum=300)
TELCODESK_SMS_WEBHOOK_MAX_BYTES = env_int(
    "TELCODESK_SMS_WEBHOOK_MAX_BYTES", 65_536, minimum=1024, maximum=10_485_760
)
TELCODESK_WEBHOOK_PROCESS_THREADS = env_int(
    "TELCODESK_WEBHOOK_PROCESS_THREADS", 0, minimum=0, maximum=64
)
TELCODESK_EMAIL_INBOUND_MAX_BYTES = env_int(
    "TELCODESK_EMAIL_INBOUND_MAX_BYTES", 10_485_760, minimum=1024, maximum=104_857_600
)
TELCODESK_EMAIL_TIMEOUT_SECONDS = env_int(
    "TELCODESK_EMAIL_TIMEOUT_SECONDS", 20, minimum=1, maximum=300
)
# PEM bundle trusted for SMTP/IMAP TLS besides the system's CAs (an internal relay).
TELCODESK_EMAIL_CA_FILE = env_file("TELCODESK_EMAIL_CA_FILE")

# The demo OLTs' SNMP agent (snmpsim), started by `telcodesk serve` in sandbox mode.
TELCODESK_DEMO_SNMP_PORT = env_int("TELCODESK_DEMO_SNMP_PORT", 1161, minimum=1, maximum=65535)

# The WhatsApp sandbox (a local Graph API stand-in and phone simulator): on in the
# embedded/demo mode, off in production unless asked for.
SANDBOX_ENABLED = env_bool("TELCODESK_SANDBOX", default=DEBUG)
TELCODESK_MAIL_SANDBOX_PORT = env_int("TELCODESK_MAIL_SANDBOX_PORT", 8025, minimum=1, maximum=65535)

# --- cache (login throttling falls back to the database, see accounts.throttle) --------
REDIS_CACHE_URL = env_url("TELCODESK_CACHE_URL", schemes=("redis", "rediss"))
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_MAX_FAILURES = env_int("TELCODESK_LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("TELCODESK_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)

# --- i18n / time ----------------------------------------------------------------------
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("pt-br", _("Brazilian Portuguese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- static ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- security (production values when debug is off) -----------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("TELCODESK_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("TELCODESK_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SILENCED_SYSTEM_CHECKS = ["security.W021"] if DEBUG else []

# --- logging: one JSON object a line, with the request id -----------------------------
LOG_LEVEL = env_str("TELCODESK_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ConfigurationError(f"TELCODESK_LOG_LEVEL={LOG_LEVEL!r} is not a logging level")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "telcodesk.core.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "telcodesk.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- API ------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 25
NINJA_PAGINATION_MAX_PER_PAGE = 200
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
