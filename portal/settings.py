"""JAK Portal settings: one module, every value from the environment (see README, "Settings")."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portal.env import ConfigError, read_env

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    ENV = read_env(os.environ, base_dir=BASE_DIR)
except ConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from None

DEBUG = ENV["debug"]
PORTAL_DEMO = ENV["demo"]
PORTAL_JURISDICTION = ENV["jurisdiction"]
# Benchmark only (`make bench`): adds the minimal signed-in page /bench/ok that the benchmark compares pages with.
PORTAL_BENCH = ENV["bench"]


def _local_secret_key() -> str:
    """Debug/demo only: a random key kept under var/ so sessions survive a restart of `make run`."""
    path = BASE_DIR / "var" / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = ENV["secret_key"] or _local_secret_key()

ALLOWED_HOSTS = ENV["allowed_hosts"] or (["127.0.0.1", "localhost", "[::1]"] if DEBUG or PORTAL_DEMO else [])

# HTTPS-only protections apply whenever the portal runs as a real deployment (not debug, not the demo).
PRODUCTION = not DEBUG and not PORTAL_DEMO

INSTALLED_APPS = [
    "portal",
    "drugs",
    "patients",
    "therapy",
    "monitoring",
    "interfaces",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_otp",
    "django_otp.plugins.otp_totp",  # only for migration portal 0009, which moved its plain-text rows out
    "axes",
    # Background jobs (README "Jobs"): the django-tasks backport of Django's task framework, its database backend.
    "django_tasks",
    "django_tasks_db",
]
if PORTAL_BENCH:
    INSTALLED_APPS.append("bench")  # manage.py bench_data

MIDDLEWARE = [
    # The request id first, so every log line of the request carries it (portal/requestlog.py).
    "portal.requestlog.RequestIdMiddleware",
    # Prometheus: times every request; answers an allowed /metrics scrape before the HTTPS redirect (portal/metrics.py).
    "portal.metrics.MetricsMiddleware",
    # Health probes next: answered before the HTTPS redirect and the ALLOWED_HOSTS check (portal/health.py).
    "portal.health.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view or form reads the input (CSRF reads the form in process_view, after every __call__).
    "portal.input_guard.RejectNulMiddleware",
    "portal.middleware.SessionLimitMiddleware",
    "portal.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.NoStoreMiddleware",
    # django-axes must come last: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# The connection lifetime, health checks, the psycopg pool and PgBouncer mode come from PORTAL_DB_* (portal/env.py
# parse_database_connections; README "Settings", "Database connections").
DATABASES = {"default": ENV["database"]}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# The catalogue's drug labels, built once per catalogue version (drugs/selectors.py): in each process's memory by
# default; CACHE_URL names a cache the app servers share (README "Settings"). Keys name the catalogue version, so a
# server never serves a label of an older catalogue, shared cache or not.
CACHES = {"default": ENV["cache"]}
# Background jobs (README "Jobs"): a queue table in the portal's own database, so no extra server. `manage.py
# db_worker` (portal's wrapper of django-tasks-db's worker) runs them and enqueues the periodic ones (portal/jobs.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
# django-axes first: it refuses locked-out usernames before the password is checked. The portal's ModelBackend
# refuses the demo accounts unless PORTAL_DEMO is on. The single sign-on backend (portal/security/oidc.py) accepts
# only the OIDC callback's arguments, never a username and password; its refusals are exceptions of its own, so
# they are not counted as wrong passwords (the identity provider guards its own passwords).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.security.backends.PortalModelBackend",
    "portal.security.oidc.PortalOIDCBackend",
]
LOGIN_URL = "login"
# Single sign-on (OpenID Connect, portal/security/oidc.py, README "Single sign-on"): None unless PORTAL_OIDC_ISSUER
# is set. mozilla-django-oidc's own OIDC_* settings are derived from it and the provider's discovery document.
PORTAL_OIDC = ENV["oidc"]
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Sessions live in the database (stateless app servers); 15 minutes idle, renewed on each request (one statement
# a renewal: portal/sessions.py).
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# Absolute limit: sign in again 12 hours after the password step, however active the session is.
PORTAL_SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
# The browser warns this many seconds after the last page load (see static/js/session-timeout.js).
PORTAL_SESSION_WARNING_SECONDS = 13 * 60

# Second factor (TOTP through django-otp) for every role in production. A plain setting, not an environment
# variable, so it cannot be switched off by a deployment mistake; the test settings flip it.
PORTAL_REQUIRE_2FA = PRODUCTION
PORTAL_BACKUP_CODE_COUNT = 10
# Fernet keys (PORTAL_TOTP_KEY, newest first) that encrypt the authenticator secrets in the database; the first
# encrypts, all decrypt, so a key can be rotated (README "Accounts and security").
PORTAL_TOTP_KEYS = ENV["totp_keys"]
# An account without an authenticator enrols only with a one-time code an administrator issued; it expires.
PORTAL_ENROLMENT_CODE_HOURS = 72
PORTAL_ENROLMENT_CODE_ATTEMPTS = 5  # wrong codes in a row before the user's code stops working
OTP_TOTP_ISSUER = "JAK Portal"
OTP_TOTP_THROTTLE_FACTOR = 1

# Brute-force protection (django-axes): ten wrong passwords for one username from one address lock that pair for
# 15 minutes; other users behind the same address are unaffected. Independently of the address, one username
# gets at most PORTAL_USERNAME_FAILURE_CAP failures per PORTAL_USERNAME_FAILURE_WINDOW (address rotation).
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "portal.security.lockout.PortalAxesHandler"
AXES_LOCKOUT_CALLABLE = "portal.security.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "portal.security.lockout.axes_username"
AXES_HTTP_RESPONSE_CODE = 429
# The client address axes counts by: REMOTE_ADDR, or behind the reverse proxies listed in PORTAL_TRUSTED_PROXIES
# the right-most X-Forwarded-For address that is not one of them (portal/security/clientip.py).
PORTAL_TRUSTED_PROXIES = ENV["trusted_proxies"]
AXES_CLIENT_IP_CALLABLE = "portal.security.clientip.client_ip_address"
AXES_VERBOSE = False
PORTAL_USERNAME_FAILURE_CAP = 30
PORTAL_USERNAME_FAILURE_WINDOW = timedelta(hours=1)
# Known devices (portal/security/devices.py): a browser that completed a log-in keeps its own failure count, so a
# password spray against a username cannot lock its owner out there.
PORTAL_KNOWN_DEVICE_MAX_AGE = timedelta(days=90)
PORTAL_KNOWN_DEVICE_USERS = 5

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp 4.x): no inline scripts or styles anywhere; QR codes are data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if PORTAL_OIDC is not None:
    # The logout form's answer redirects to the identity provider's logout; browsers hold form redirects to
    # form-action too.
    _issuer = urlsplit(PORTAL_OIDC["issuer"])
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_issuer.scheme}://{_issuer.netloc}")
if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    # Load balancers probe the health paths over plain HTTP. HealthProbeMiddleware already answers them before
    # SecurityMiddleware; the exemption keeps that true if the middleware order ever changes.
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("PORTAL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Patient data never goes to logs: no request bodies, and error mails are off. PORTAL_LOG_FORMAT picks one JSON
# object a line (python-json-logger; the production default) or plain text; every record carries the request id
# (portal/requestlog.py), and portal.access writes one line per request (README "Logs").
PORTAL_LOG_FORMAT = ENV["log_format"]
# /metrics: readable with this bearer token, or from a loopback address (portal/metrics.py, README "Metrics").
PORTAL_METRICS_TOKEN = ENV["metrics_token"]
# Interfaces (interfaces/, README "Interfaces"): body size limit and requests per token (or address) a minute.
PORTAL_INTERFACE_MAX_BYTES = ENV["interface_max_bytes"]
PORTAL_INTERFACE_RATE_PER_MINUTE = ENV["interface_rate_per_minute"]
# CDS Hooks: the EHRs whose signed JWTs are accepted besides bearer tokens (README "CDS Hooks safety check").
PORTAL_CDS_JWT_ISSUERS = ENV["cds_jwt_issuers"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.requestlog.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": PORTAL_LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "axes": {"level": "WARNING"},  # lockouts and failures only; usernames and addresses are masked
    },
}
ADMINS: list[tuple[str, str]] = []

if DATABASES["default"]["ENGINE"].endswith("sqlite3") and DATABASES["default"]["NAME"] != ":memory:":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

# Email (README "Settings"): every email goes through the outbox (portal/outbox.py; `manage.py deliver_email`
# sends it). With EMAIL_HOST set the SMTP backend sends; without it the console backend prints. The links in emails
# are built on PORTAL_BASE_URL (portal.outbox.absolute_url).
PORTAL_BASE_URL = ENV["base_url"]
EMAIL_BACKEND = ENV["email"]["backend"]
EMAIL_HOST = ENV["email"]["host"]
EMAIL_PORT = ENV["email"]["port"]
EMAIL_HOST_USER = ENV["email"]["user"]
EMAIL_HOST_PASSWORD = ENV["email"]["password"]
EMAIL_USE_TLS = ENV["email"]["use_tls"]
EMAIL_USE_SSL = ENV["email"]["use_ssl"]
EMAIL_TIMEOUT = ENV["email"]["timeout"]
DEFAULT_FROM_EMAIL = ENV["email"]["default_from"]
