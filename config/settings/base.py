"""Settings shared by every environment; environments differ only by variables."""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-local-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    # Django admin, with the platform's site: every admin page inside the tenant walls.
    "core.admin_site.ClinicAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    # Sign-in lockout and the sign-in log (core/logins.py).
    "axes",
    "simple_history",
    "crispy_forms",
    "crispy_bootstrap5",
    # TOTP second factor with static backup codes (core/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "core",
    "appointments",
    "psychology",
    "ot",
    "aba",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files, right after HTTPS as whitenoise asks: cacheable, no session, no no-store.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # no-store and Permissions-Policy on every response (core/security_headers.py).
    "core.security_headers.SecurityHeadersMiddleware",
    # /healthz for a load balancer, before the session, the login and the host check (config/health.py).
    "config.health.HealthCheckMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # With OTP_REQUIRED, administrators pass the second factor before any page.
    "core.two_factor_middleware.TwoFactorRequiredMiddleware",
    # After the login check: a superuser on a staff page works in one organisation.
    "core.middleware.ActingTenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: signs out an idle session with a message (core/session_timeout.py).
    "core.session_timeout.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# Two roles (README, Database roles): the app serves as DATABASE_URL's restricted role;
# migrations and set-up run as DATABASE_OWNER_URL's owner, chosen by DATABASE_ROLE=owner.
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clinic"
DATABASE_ROLE = os.environ.get("DATABASE_ROLE", "app")
if DATABASE_ROLE not in {"app", "owner"}:
    raise RuntimeError(f"DATABASE_ROLE must be app or owner, not {DATABASE_ROLE!r}")
if DATABASE_ROLE == "owner" and "DATABASE_OWNER_URL" not in os.environ:
    raise RuntimeError("DATABASE_ROLE=owner needs DATABASE_OWNER_URL")
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_OWNER_URL" if DATABASE_ROLE == "owner" else "DATABASE_URL",
        default=DEFAULT_DATABASE_URL,
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
# The role the owner grants to after each migrate (core/db_roles.py): DATABASE_URL's user
# when an owner is configured apart, else clinic_app (created when the owner may).
DATABASE_APP_ROLE = (
    dj_database_url.parse(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))["USER"]
    if "DATABASE_OWNER_URL" in os.environ
    else "clinic_app"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes first: it refuses a locked-out username before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in lockout (core/logins.py): 5 failures within 15 minutes lock the username, whether
# it exists or not, on the staff and the admin login alike; every sign-in, failed or not,
# is logged (axes' access log and access failure log).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "core.logins.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.access_log.client_ip"
# axes.W006 asks for the client IP among the lockout keys, against attackers who rotate user
# agents or cookies. The lockout here is by username alone, whatever the address: rotating
# anything doesn't reset its count, and staff behind a clinic's one public address aren't
# locked out together by one colleague's typos.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# A session ends after SESSION_IDLE_MINUTES without activity (core/session_timeout.py) and,
# however active, SESSION_COOKIE_AGE after signing in.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "15"))
SESSION_COOKIE_AGE = 12 * 60 * 60

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Day-first dates, the 24-hour clock and Latin digits in both languages (config/formats).
FORMAT_MODULE_PATH = "config.formats"
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Riyadh")
# The day the free-slot finder (appointments/free_slots.py) searches where neither the
# clinic's opening hours nor the provider's working hours say when the day starts and ends.
SCHEDULE_DAY_START = datetime.time(8, 0)
SCHEDULE_DAY_END = datetime.time(18, 0)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Plain storage here (runserver, the tests: no collectstatic needed); production serves
# hashed, compressed copies through whitenoise (config/settings/production.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Stateless app processes (README, Scaling out): nothing a request leaves behind lives in
# one process's memory, so any of N processes on M machines can answer the next request.
# Sessions are rows (the default engine, named on purpose), and so are django-axes' failure
# counts (its database handler); the cache is a table (`manage.py createcachetable`) or,
# with REDIS_URL, Redis.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
    )
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Browser-side walls, in every environment (tests included; production adds HTTPS).
# Scripts only from our own static files: no inline script, no eval (htmx runs with
# allowEval false, see templates/base.html), data reaches scripts through json_script.
# Inline styles stay allowed (no style nonce): the templates use style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# Features no page uses, switched off for the page and anything it could embed.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# TOTP second factor (django-otp): with OTP_REQUIRED, administrators and superusers give a
# code from their authenticator app (or a backup code) after the password, before any page.
OTP_REQUIRED = env_bool("OTP_REQUIRED", False)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Child therapy centre")
# django-otp's admin pages (superusers only) never show a device's secret or its QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# core.locks records the row locks of each transaction and raises on one taken out of
# the documented order. A test-time check (on in test.py); production only pays a flag.
LOCK_ORDER_CHECKS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # A 403 is one warning line, without a traceback (core.log_filters).
        "refusal_without_traceback": {"()": "core.log_filters.RefusalWithoutTraceback"},
        # A family link's token (/family/<token>/) never reaches a log line (core.log_filters).
        "redact_family_tokens": {"()": "core.log_filters.RedactFamilyLinkTokens"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_family_tokens"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_family_tokens"],
        },
    },
    "loggers": {
        # Django's errors reach the root's console, and no e-mail: mail_admins would put the
        # request (a family link's token, and locals of a child's record) in the message.
        "django": {"handlers": [], "level": "INFO"},
        # Redacted where the record is made, before any handler sees it.
        "django.request": {"filters": ["refusal_without_traceback", "redact_family_tokens"]},
        "django.security.csrf": {"filters": ["redact_family_tokens"]},
        # runserver's request lines, as Django writes them, through the redacting handler.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Access log: the client address is REMOTE_ADDR unless this many reverse proxies, each
# appending to X-Forwarded-For, stand in front of the app.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# How long access-log rows are kept (`manage.py prune_access_log`); HIPAA asks for six years.
ACCESS_LOG_RETENTION_YEARS = int(os.environ.get("ACCESS_LOG_RETENTION_YEARS", "6"))
# The HMAC key that signs the audit seals (core.audit_chain, README "Audit trail"). Kept
# outside the database, so its owner can't forge a seal; production requires it.
AUDIT_SEAL_KEY = os.environ.get("AUDIT_SEAL_KEY", "insecure-development-audit-seal-key")

# Messages to families (README, Reminders). E-mail goes through Django's SMTP backend.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "reminders@localhost")
# Text messages: a backend class (appointments.reminders.channels). The console backend prints
# them (development); the file backend appends them to SMS_FILE_PATH; the HTTP gateway backend
# posts them to SMS_GATEWAY_URL with SMS_GATEWAY_TOKEN as the bearer token and SMS_SENDER_ID.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "appointments.reminders.channels.ConsoleSmsBackend")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", "")
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
SMS_SENDER_ID = os.environ.get("SMS_SENDER_ID", "")
SMS_GATEWAY_TIMEOUT = int(os.environ.get("SMS_GATEWAY_TIMEOUT", "15"))
# The gateway posts replies (STOP) to /family/sms/inbound/ with this secret; without it the
# address answers 404.
SMS_INBOUND_SECRET = os.environ.get("SMS_INBOUND_SECRET", "")
# Phones typed without a country code are read as numbers of this region (E.164 after that).
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "SA")
# The links in messages are absolute: this origin, e.g. https://clinic.example.org.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# A failed message is tried again after 5, 15 and 45 minutes, then shown to the front desk.
REMINDER_RETRY_DELAYS_MINUTES = (5, 15, 45)
# A row claimed this long ago and still "sending" (its worker died) is shown as failed.
REMINDER_SENDING_TIMEOUT_MINUTES = int(os.environ.get("REMINDER_SENDING_TIMEOUT_MINUTES", "15"))
# The family's page: at most this many requests per address in ten minutes (the shared cache).
FAMILY_LINK_RATE_LIMIT = int(os.environ.get("FAMILY_LINK_RATE_LIMIT", "30"))

# Background jobs (README, Reminders and background jobs): Celery workers take the tasks of
# appointments/tasks.py and core/tasks.py from a Redis broker; celery beat puts them there on
# this schedule. The tasks carry ids only. Production requires a broker (production.py).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "redis://127.0.0.1:6379/0"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Nothing reads a task's return value: each job's outcome is in the database and the log.
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it has run, so one whose worker died mid-run is delivered again
# (after the broker's visibility timeout); the tasks are idempotent, so running one twice does
# no harm. One task reserved at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Several installations (or test runs) can share one Redis: each its queue and key prefix.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "clinic")
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": os.environ.get("CELERY_KEY_PREFIX", "")}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Each run expires when the next is due, so runs missed while no worker was up don't pile up.
CELERY_BEAT_SCHEDULE = {
    "send-due-reminders": {
        "task": "appointments.tasks.send_due_reminders",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "close-stale-sessions": {
        "task": "appointments.tasks.close_stale_sessions",
        "schedule": 10 * 60.0,
        "options": {"expires": 10 * 60},
    },
    "expire-waitlist-offers": {
        "task": "appointments.tasks.expire_waitlist_offers",
        "schedule": 5 * 60.0,
        "options": {"expires": 5 * 60},
    },
    "seal-audit": {"task": "core.tasks.seal_audit", "schedule": 60 * 60.0, "options": {"expires": 60 * 60}},
}
