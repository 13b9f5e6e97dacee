"""Strict parsing of settings from environment variables.

Plain Python (no Django imports) so it can be tested table by table. Every bad value raises
``ConfigError`` with a message naming the variable and what was expected; secrets are never echoed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib.util
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
FALSE_VALUES = frozenset({"0", "false", "no", "off", ""})
JURISDICTIONS = ("US", "EU")


class ConfigError(ValueError):
    """A setting in the environment has a value the portal cannot use."""


def parse_bool(name: str, raw: str | None, *, default: bool) -> bool:
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def parse_list(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [item.strip() for item in raw.split(",") if item.strip()]


def parse_networks(name: str, raw: str | None) -> list[str]:
    """A comma-separated list of IP addresses or networks (``127.0.0.1, 10.0.0.0/8, ::1``), normalised."""
    networks = []
    for item in parse_list(raw):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                f"{name} must be a comma-separated list of IP addresses or networks "
                f"(e.g. 127.0.0.1, 10.0.0.0/8); {item!r} is neither."
            ) from None
    return networks


def parse_choice(name: str, raw: str | None, *, choices: tuple[str, ...], default: str) -> str:
    if raw is None or not raw.strip():
        return default
    value = raw.strip().upper()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {raw!r}.")
    return value


_POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql"}


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """Turn a DATABASE_URL into a Django DATABASES entry.

    Accepted forms:
      sqlite:///var/portal.sqlite3     (relative to the project folder)
      sqlite:////abs/path/portal.sqlite3
      postgres://user:password@host:5432/name?sslmode=require
      postgres:///name?host=/var/run/postgresql   (Unix socket)
    """
    if not url or not url.strip():
        raise ConfigError("DATABASE_URL is empty; unset it for the SQLite default or give a database URL.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:  # bad port, bad IPv6 literal
        raise ConfigError(f"DATABASE_URL could not be parsed ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc:
            raise ConfigError(
                "DATABASE_URL for SQLite must look like sqlite:///relative/path.sqlite3 "
                "or sqlite:////absolute/path.sqlite3 (no host)."
            )
        raw_path = unquote(parts.path)
        if raw_path in ("", "/"):
            raise ConfigError("DATABASE_URL for SQLite needs a file path, e.g. sqlite:///var/portal.sqlite3.")
        if raw_path == "/:memory:":
            name: str | Path = ":memory:"
        elif raw_path.startswith("//"):
            name = Path(raw_path[1:])
        else:
            name = base_dir / raw_path.lstrip("/")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    if scheme in _POSTGRES_SCHEMES:
        options = dict(parse_qsl(parts.query, keep_blank_values=False))
        host = unquote(parts.hostname or "") if parts.hostname else ""
        host = options.pop("host", host)
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError("DATABASE_URL for PostgreSQL needs a database name, e.g. postgres://u:p@host/jak.")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": host,
            "PORT": str(port or ""),
            "OPTIONS": options,
        }
    shown = scheme or "(none)"
    raise ConfigError(f"DATABASE_URL scheme {shown!r} is not supported; use sqlite:// or postgres://.")


_CACHE_BACKENDS = {
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
    "redis": "django.core.cache.backends.redis.RedisCache",
    "rediss": "django.core.cache.backends.redis.RedisCache",
    "memcached": "django.core.cache.backends.memcached.PyMemcacheCache",
    "dummy": "django.core.cache.backends.dummy.DummyCache",
}


def parse_cache_url(url: str | None) -> dict:
    """Turn a CACHE_URL into a Django CACHES entry (the catalogue's drug labels live there).

    Accepted forms:
      (unset) or locmem://          each process keeps its own copy in memory (the default)
      redis://host:6379/0           one cache shared by every app server (rediss:// for TLS; needs the redis package)
      memcached://host:11211        the same with memcached (needs the pymemcache package)
      dummy://                      no caching: every request builds what it needs
    """
    if url is None or not url.strip():
        return {"BACKEND": _CACHE_BACKENDS["locmem"], "LOCATION": "jak-portal"}
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise ConfigError(f"CACHE_URL could not be parsed ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in _CACHE_BACKENDS:
        shown = scheme or "(none)"
        raise ConfigError(
            f"CACHE_URL scheme {shown!r} is not supported; use locmem://, redis://, memcached:// or dummy://."
        )
    if scheme in ("locmem", "dummy"):
        return {"BACKEND": _CACHE_BACKENDS[scheme], "LOCATION": parts.netloc or "jak-portal"}
    if not parts.hostname:
        raise ConfigError(f"CACHE_URL for {scheme} needs a host, e.g. {scheme}://cache-host.")
    client = "pymemcache" if scheme == "memcached" else "redis"
    if importlib.util.find_spec(client) is None:  # refuse at start-up, not on the first request
        raise ConfigError(f"CACHE_URL {scheme}:// needs the {client} package, which is not installed.")
    location = url.strip() if scheme.startswith("redis") else parts.netloc
    return {"BACKEND": _CACHE_BACKENDS[scheme], "LOCATION": location}


# Demo and debug only: a fixed, published key so a demo database keeps working across restarts. Never secret.
DEV_TOTP_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"jak-portal development TOTP key, not secret").digest()).decode(
    "ascii"
)


def parse_fernet_keys(name: str, raw: str | None) -> list[str]:
    """A comma-separated list of Fernet keys (url-safe base64 of 32 bytes), newest first; the first encrypts.

    Values are never echoed in the error: they are secrets.
    """
    keys = parse_list(raw)
    if not keys:
        raise ConfigError(
            f"{name} is empty; give one Fernet key (32 random bytes, url-safe base64), "
            "e.g. from: python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'."
        )
    for position, key in enumerate(keys, start=1):
        try:
            decoded = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            decoded = b""
        if len(decoded) != 32 or len(key) != 44:
            raise ConfigError(
                f"{name}: key {position} is not a Fernet key (44 characters of url-safe base64 encoding 32 bytes)."
            )
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{name} lists the same key twice.")
    return keys


def read_totp_keys(environ: Mapping[str, str], *, production: bool) -> list[str]:
    """PORTAL_TOTP_KEY: required in production; demo and debug fall back to the fixed development key."""
    raw = environ.get("PORTAL_TOTP_KEY")
    if raw is None or not raw.strip():
        if production:
            raise ConfigError(
                "PORTAL_TOTP_KEY is required when DJANGO_DEBUG and PORTAL_DEMO are off: it encrypts the "
                "authenticator secrets in the database. Generate one with: python -c 'import base64, os; "
                "print(base64.urlsafe_b64encode(os.urandom(32)).decode())' and keep it in your secret store."
            )
        return [DEV_TOTP_KEY]
    return parse_fernet_keys("PORTAL_TOTP_KEY", raw)


def read_env(environ: Mapping[str, str], *, base_dir: Path) -> dict:
    """Read every portal setting from ``environ``; raise ConfigError on the first bad value."""
    debug = parse_bool("DJANGO_DEBUG", environ.get("DJANGO_DEBUG"), default=False)
    demo = parse_bool("PORTAL_DEMO", environ.get("PORTAL_DEMO"), default=False)
    secret_key = environ.get("DJANGO_SECRET_KEY", "").strip()
    if not secret_key and not (debug or demo):
        raise ConfigError(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG and PORTAL_DEMO are off "
            "(use a random value of at least 50 characters)."
        )
    database_url = environ.get("DATABASE_URL")
    if database_url is None and not (debug or demo):
        raise ConfigError(
            "DATABASE_URL is required when DJANGO_DEBUG and PORTAL_DEMO are off "
            "(e.g. postgres://user:password@db-host:5432/jak_portal); the SQLite default is for debug and demo only."
        )
    if database_url is None:
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": base_dir / "var" / "portal.sqlite3"}
    else:
        database = parse_database_url(database_url, base_dir=base_dir)
    database = parse_database_connections(environ, database)
    return {
        "debug": debug,
        "demo": demo,
        "secret_key": secret_key,
        "allowed_hosts": parse_list(environ.get("DJANGO_ALLOWED_HOSTS")),
        "database": database,
        "cache": parse_cache_url(environ.get("CACHE_URL")),
        "jurisdiction": parse_choice(
            "PORTAL_JURISDICTION", environ.get("PORTAL_JURISDICTION"), choices=JURISDICTIONS, default="US"
        ),
        "bench": parse_bool("PORTAL_BENCH", environ.get("PORTAL_BENCH"), default=False),
        "trusted_proxies": parse_networks("PORTAL_TRUSTED_PROXIES", environ.get("PORTAL_TRUSTED_PROXIES")),
        "totp_keys": read_totp_keys(environ, production=not (debug or demo)),
        # Outbound email (issue 18): the links in emails and the SMTP server.
        "base_url": parse_base_url(environ.get("PORTAL_BASE_URL"), production=not (debug or demo)),
        "email": parse_email_settings(environ),
        # Operations (issue 17): log format and the metrics endpoint's token.
        "log_format": parse_log_format(environ.get("PORTAL_LOG_FORMAT"), production=not (debug or demo)),
        "metrics_token": parse_metrics_token(environ.get("PORTAL_METRICS_TOKEN")),
        # Interfaces (issue 19): the largest request body and the requests a token may send a minute.
        "interface_max_bytes": _parse_int(
            "PORTAL_INTERFACE_MAX_BYTES",
            environ.get("PORTAL_INTERFACE_MAX_BYTES", "1048576"),
            low=1024,
            high=50_000_000,
        ),
        "interface_rate_per_minute": _parse_int(
            "PORTAL_INTERFACE_RATE_PER_MINUTE",
            environ.get("PORTAL_INTERFACE_RATE_PER_MINUTE", "600"),
            low=1,
            high=100_000,
        ),
        "cds_jwt_issuers": parse_cds_jwt_issuers(environ.get("PORTAL_CDS_JWT_ISSUERS")),
        # Single sign-on (issue 17): None when PORTAL_OIDC_ISSUER is unset.
        "oidc": parse_oidc_settings(environ, production=not (debug or demo)),
    }


def parse_cds_jwt_issuers(raw: str | None) -> dict[str, dict[str, str]]:
    """PORTAL_CDS_JWT_ISSUERS: the EHRs whose CDS Hooks JWTs the CDS service accepts, comma-separated entries
    ``issuer=key-file=token-name``: the JWT's ``iss``, a file with the EHR's public key (a JWKS or a PEM), and the
    interface token whose clinic the calls belong to (revoking that token shuts the issuer out too).
    Empty: only bearer tokens are accepted. Split at the last two ``=``, so an issuer URL may contain one."""
    name = "PORTAL_CDS_JWT_ISSUERS"
    issuers: dict[str, dict[str, str]] = {}
    for entry in parse_list(raw):
        parts = [p.strip() for p in entry.rsplit("=", 2)]
        if len(parts) != 3 or not all(parts):
            raise ConfigError(
                f"{name} entries must be issuer=key-file=token-name, e.g. "
                f"https://ehr.example.org=/etc/jak/ehr-jwks.json=city-ehr; got {entry!r}."
            )
        issuer, key_file, token = parts
        if issuer in issuers:
            raise ConfigError(f"{name} names the issuer {issuer!r} twice.")
        issuers[issuer] = {"key_file": key_file, "token": token}
    return issuers


# --- Outbound email (issue 18): PORTAL_BASE_URL and the SMTP settings. -------------------------------------------

DEMO_BASE_URL = "http://127.0.0.1:8000/"
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_HOSTS or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_base_url(raw: str | None, *, production: bool) -> str:
    """PORTAL_BASE_URL, the address staff open the portal at, normalised to end in one slash.

    ``https://portal.clinic.example`` or ``https://clinic.example/jak/`` (a path prefix when the portal is served
    under one). Every link in an email is built on it. Required in production, where it must be https unless the
    host is a loopback address; debug and demo default to http://127.0.0.1:8000/.
    """
    name = "PORTAL_BASE_URL"
    if raw is None or not raw.strip():
        if production:
            raise ConfigError(
                f"{name} is required when DJANGO_DEBUG and PORTAL_DEMO are off: the address staff open the portal "
                "at, e.g. https://portal.clinic.example (links in emails are built on it)."
            )
        return DEMO_BASE_URL
    value = raw.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise ConfigError(f"{name} could not be parsed ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(
            f"{name} must be an http:// or https:// URL, e.g. https://portal.clinic.example; got {raw!r}."
        )
    if not parts.hostname:
        raise ConfigError(f"{name} needs a host name, e.g. https://portal.clinic.example; got {raw!r}.")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{name} must not contain a user name or password.")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ConfigError(f"{name} must be the portal's address only, without ?query or #fragment; got {raw!r}.")
    if production and scheme != "https" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{name} must use https:// in production (unless its host is a loopback address); got {raw!r}."
        )
    segments = [s for s in parts.path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        raise ConfigError(f"{name} path prefix must not contain . or .. segments; got {raw!r}.")
    prefix = "/" + "".join(f"{s}/" for s in segments)
    return f"{scheme}://{parts.netloc.lower()}{prefix}"


def join_url(base_url: str, path: str) -> str:
    """``base_url`` (as parse_base_url returns it) plus a site path such as ``/monitoring/worklist/``.

    A path that already starts with the base URL's prefix (reverse() inside a request served under it) is not
    prefixed twice. Only site paths are accepted: a full URL or a protocol-relative ``//host`` raises ValueError.
    """
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"expected a site path starting with one '/', got {path!r}")
    parts = urlsplit(base_url)
    prefix = parts.path or "/"
    if prefix != "/" and (path + "/").startswith(prefix):
        path = "/" + path[len(prefix) :]
    return f"{parts.scheme}://{parts.netloc}{prefix}{path.lstrip('/')}"


def _parse_int(name: str, raw: str, *, low: int, high: int) -> int:
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}; got {raw!r}.")
    return int(value)


def _parse_address(name: str, raw: str) -> str:
    value = raw.strip()
    # "JAK Portal <noreply@clinic.example>" or a bare address; no line breaks (header injection).
    address = value.rsplit("<", 1)[-1].rstrip(">").strip() if value.endswith(">") else value
    local, at, domain = address.partition("@")
    if any(c in value for c in "\r\n") or not at or not local or "." not in domain or " " in address:
        raise ConfigError(f"{name} must be an email address, e.g. JAK Portal <noreply@clinic.example>; got {raw!r}.")
    return value


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


def parse_email_settings(environ: Mapping[str, str]) -> dict:
    """Django's EMAIL_* settings from the environment.

    With EMAIL_HOST set the SMTP backend sends (unless DJANGO_EMAIL_BACKEND names another); without it emails are
    printed on the console. EMAIL_USE_TLS (STARTTLS, port 587 by default) and EMAIL_USE_SSL (port 465) exclude each
    other. EMAIL_HOST_PASSWORD is never part of an error message.
    """
    host = environ.get("EMAIL_HOST", "").strip()
    use_tls = parse_bool("EMAIL_USE_TLS", environ.get("EMAIL_USE_TLS"), default=False)
    use_ssl = parse_bool("EMAIL_USE_SSL", environ.get("EMAIL_USE_SSL"), default=False)
    if use_tls and use_ssl:
        raise ConfigError(
            "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on: use EMAIL_USE_TLS for STARTTLS (usually port 587) "
            "or EMAIL_USE_SSL for implicit TLS (usually port 465)."
        )
    if any(c.isspace() or c in "/@" for c in host):
        raise ConfigError(f"EMAIL_HOST must be a host name or IP address, e.g. smtp.clinic.example; got {host!r}.")
    raw_port = environ.get("EMAIL_PORT", "")
    if raw_port.strip():
        port = _parse_int("EMAIL_PORT", raw_port, low=1, high=65535)
    else:
        port = 465 if use_ssl else 587 if use_tls else 25
    raw_timeout = environ.get("EMAIL_TIMEOUT", "")
    timeout = _parse_int("EMAIL_TIMEOUT", raw_timeout, low=1, high=600) if raw_timeout.strip() else 30
    user = environ.get("EMAIL_HOST_USER", "").strip()
    password = environ.get("EMAIL_HOST_PASSWORD", "")
    if password and not user:
        raise ConfigError("EMAIL_HOST_PASSWORD is set but EMAIL_HOST_USER is not; set both or neither.")
    raw_from = environ.get("DEFAULT_FROM_EMAIL") or environ.get("DJANGO_DEFAULT_FROM_EMAIL")
    from_name = "DEFAULT_FROM_EMAIL" if environ.get("DEFAULT_FROM_EMAIL") else "DJANGO_DEFAULT_FROM_EMAIL"
    default_from = _parse_address(from_name, raw_from) if raw_from and raw_from.strip() else "jak-portal@localhost"
    backend = environ.get("DJANGO_EMAIL_BACKEND", "").strip() or (SMTP_BACKEND if host else CONSOLE_BACKEND)
    if backend == SMTP_BACKEND and not host:
        raise ConfigError("DJANGO_EMAIL_BACKEND is the SMTP backend but EMAIL_HOST is not set.")
    return {
        "backend": backend,
        "host": host or "localhost",
        "port": port,
        "user": user,
        "password": password,
        "use_tls": use_tls,
        "use_ssl": use_ssl,
        "timeout": timeout,
        "default_from": default_from,
    }


# --- Operations (issue 17): log format, metrics token. ------------------------------------------------------------

LOG_FORMATS = ("json", "plain")
METRICS_TOKEN_MIN_LENGTH = 32


def parse_log_format(raw: str | None, *, production: bool) -> str:
    """PORTAL_LOG_FORMAT: ``json`` (one JSON object a line, for a log collector) or ``plain`` (for a terminal).
    Defaults to json in production and plain in debug and demo."""
    if raw is None or not raw.strip():
        return "json" if production else "plain"
    value = raw.strip().lower()
    if value not in LOG_FORMATS:
        raise ConfigError(f"PORTAL_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}; got {raw!r}.")
    return value


def parse_metrics_token(raw: str | None) -> str:
    """PORTAL_METRICS_TOKEN: the bearer token a Prometheus server sends to read /metrics from another machine.
    Empty: only loopback clients may read it. The token itself is never part of an error message."""
    if raw is None or not raw.strip():
        return ""
    value = raw.strip()
    if len(value) < METRICS_TOKEN_MIN_LENGTH or not value.isascii() or any(c.isspace() for c in value):
        raise ConfigError(
            f"PORTAL_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} printable ASCII characters without "
            "spaces (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    return value


# --- Database connections (issue 17): lifetime, the psycopg pool, PgBouncer in transaction mode. -------------------

DEFAULT_POSTGRES_CONN_MAX_AGE = 60


def parse_database_connections(environ: Mapping[str, str], database: dict) -> dict:
    """The connection settings of the DATABASES entry ``database`` (as parse_database_url returns it), from:

    PORTAL_DB_CONN_MAX_AGE          seconds a connection is kept for the next request (0: closed after each
                                    request); 60 on PostgreSQL, 0 on SQLite, and 0 with the pool or PgBouncer
    PORTAL_DB_CONN_HEALTH_CHECKS    check a kept connection before reusing it (default on)
    PORTAL_DB_POOL                  Django 5.2's psycopg connection pool, one per process (default off); sized by
                                    PORTAL_DB_POOL_MIN_SIZE (1), PORTAL_DB_POOL_MAX_SIZE (4) and
                                    PORTAL_DB_POOL_TIMEOUT (seconds to wait for a free connection, 10)
    PORTAL_DB_PGBOUNCER             DATABASE_URL points at PgBouncer in transaction pooling mode: server-side
                                    cursors off; the pool and persistent connections are refused

    The pool and CONN_MAX_AGE > 0 exclude each other (Django refuses the pair on the first query; this refuses it
    at start-up, with the variable to change). Returns a new dict; ``database`` is not changed.
    """
    postgres = database["ENGINE"] == "django.db.backends.postgresql"
    pool = parse_bool("PORTAL_DB_POOL", environ.get("PORTAL_DB_POOL"), default=False)
    pgbouncer = parse_bool("PORTAL_DB_PGBOUNCER", environ.get("PORTAL_DB_PGBOUNCER"), default=False)
    raw_age = environ.get("PORTAL_DB_CONN_MAX_AGE", "")
    explicit_age = _parse_int("PORTAL_DB_CONN_MAX_AGE", raw_age, low=0, high=86_400) if raw_age.strip() else None
    if not postgres and (pool or pgbouncer):
        name = "PORTAL_DB_POOL" if pool else "PORTAL_DB_PGBOUNCER"
        raise ConfigError(f"{name} needs a PostgreSQL DATABASE_URL; turn it off for SQLite.")
    if pool and pgbouncer:
        raise ConfigError(
            "PORTAL_DB_POOL and PORTAL_DB_PGBOUNCER cannot both be on: PgBouncer already pools the connections. "
            "Turn PORTAL_DB_POOL off when DATABASE_URL points at PgBouncer (or point it at PostgreSQL itself)."
        )
    if pool and explicit_age:
        raise ConfigError(
            "PORTAL_DB_POOL and PORTAL_DB_CONN_MAX_AGE > 0 cannot be combined: the pool keeps the connections. "
            "Set PORTAL_DB_CONN_MAX_AGE=0 (or leave it unset), or turn PORTAL_DB_POOL off."
        )
    if pgbouncer and explicit_age:
        raise ConfigError(
            "PORTAL_DB_PGBOUNCER with PORTAL_DB_CONN_MAX_AGE > 0: in transaction mode a kept connection holds a "
            "PgBouncer client slot per worker for nothing, and connecting to PgBouncer is cheap. "
            "Set PORTAL_DB_CONN_MAX_AGE=0 (or leave it unset)."
        )
    if explicit_age is not None:
        conn_max_age = explicit_age
    else:
        conn_max_age = DEFAULT_POSTGRES_CONN_MAX_AGE if postgres and not (pool or pgbouncer) else 0
    result = {
        **database,
        "OPTIONS": dict(database.get("OPTIONS", {})),
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": parse_bool(
            "PORTAL_DB_CONN_HEALTH_CHECKS", environ.get("PORTAL_DB_CONN_HEALTH_CHECKS"), default=True
        ),
    }
    if pgbouncer:
        # Transaction pooling hands each transaction a different server connection, so a cursor declared outside
        # a transaction (QuerySet.iterator() on PostgreSQL) would vanish. Django already turns psycopg's prepared
        # statements off (prepare_threshold=None), the other thing transaction pooling breaks.
        result["DISABLE_SERVER_SIDE_CURSORS"] = True
    if pool:
        if importlib.util.find_spec("psycopg_pool") is None:  # refuse at start-up, not on the first request
            raise ConfigError(
                "PORTAL_DB_POOL needs the psycopg-pool package (psycopg[pool]), which is not installed; "
                "install it or turn PORTAL_DB_POOL off."
            )
        min_size = _parse_int("PORTAL_DB_POOL_MIN_SIZE", environ.get("PORTAL_DB_POOL_MIN_SIZE", "1"), low=0, high=100)
        max_size = _parse_int("PORTAL_DB_POOL_MAX_SIZE", environ.get("PORTAL_DB_POOL_MAX_SIZE", "4"), low=1, high=100)
        if max_size < min_size:
            raise ConfigError(
                f"PORTAL_DB_POOL_MAX_SIZE ({max_size}) must be at least PORTAL_DB_POOL_MIN_SIZE ({min_size})."
            )
        timeout = _parse_int("PORTAL_DB_POOL_TIMEOUT", environ.get("PORTAL_DB_POOL_TIMEOUT", "10"), low=1, high=600)
        result["OPTIONS"]["pool"] = {"min_size": min_size, "max_size": max_size, "timeout": timeout}
    return result


# --- Single sign-on (issue 17): OpenID Connect. --------------------------------------------------------------------

# The portal's three roles as the role map names them (portal.roles holds the group names; this module stays plain).
OIDC_ROLE_KEYS = ("dermatologist", "nurse", "catalogue_admin")
OIDC_DEFAULT_MFA_AMR = ("mfa", "otp", "hwk")


def _parse_map(name: str, raw: str | None, *, example: str) -> dict[str, str]:
    """``key=value`` pairs separated by commas, or by semicolons when any value needs a comma."""
    if raw is None or not raw.strip():
        return {}
    separator = ";" if ";" in raw else ","
    result: dict[str, str] = {}
    for item in raw.split(separator):
        if not item.strip():
            continue
        key, equals, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key or not value:
            raise ConfigError(f"{name} must be a list of name=value pairs, e.g. {example}; {item.strip()!r} is not.")
        if key in result:
            raise ConfigError(f"{name} names {key!r} twice.")
        result[key] = value
    return result


def parse_oidc_settings(environ: Mapping[str, str], *, production: bool) -> dict | None:
    """The PORTAL_OIDC_* variables, or None when PORTAL_OIDC_ISSUER is unset (single sign-on off).

    The issuer is the identity provider's issuer URL; the portal reads ``<issuer>/.well-known/openid-configuration``
    for the endpoints on the first sign-in (portal/security/oidc.py). The client secret is never echoed.
    """
    issuer_raw = environ.get("PORTAL_OIDC_ISSUER")
    if issuer_raw is None or not issuer_raw.strip():
        return None
    issuer = issuer_raw.strip().rstrip("/")
    try:
        parts = urlsplit(issuer)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise ConfigError(f"PORTAL_OIDC_ISSUER could not be parsed ({exc}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"PORTAL_OIDC_ISSUER must be the identity provider's issuer URL, e.g. https://idp.example/realms/clinic; "
            f"got {issuer_raw!r}."
        )
    if production and parts.scheme != "https" and not _is_loopback(parts.hostname):
        raise ConfigError("PORTAL_OIDC_ISSUER must be an https:// URL in production (tokens and codes travel on it).")
    client_id = environ.get("PORTAL_OIDC_CLIENT_ID", "").strip()
    if not client_id:
        raise ConfigError("PORTAL_OIDC_CLIENT_ID is required when PORTAL_OIDC_ISSUER is set.")
    client_secret = environ.get("PORTAL_OIDC_CLIENT_SECRET", "").strip()
    if not client_secret:
        raise ConfigError("PORTAL_OIDC_CLIENT_SECRET is required when PORTAL_OIDC_ISSUER is set.")
    role_map = _parse_map(
        "PORTAL_OIDC_ROLE_MAP",
        environ.get("PORTAL_OIDC_ROLE_MAP"),
        example="jak-derm=dermatologist,jak-nurse=nurse,jak-catalogue=catalogue_admin",
    )
    if not role_map:
        raise ConfigError(
            "PORTAL_OIDC_ROLE_MAP is required when PORTAL_OIDC_ISSUER is set: which identity-provider groups give "
            "which role, e.g. jak-derm=dermatologist,jak-nurse=nurse,jak-catalogue=catalogue_admin."
        )
    for group, role in role_map.items():
        if role not in OIDC_ROLE_KEYS:
            raise ConfigError(
                f"PORTAL_OIDC_ROLE_MAP maps {group!r} to {role!r}; the roles are {', '.join(OIDC_ROLE_KEYS)}."
            )
    groups_claim = environ.get("PORTAL_OIDC_GROUPS_CLAIM", "").strip() or "groups"
    amr_raw = environ.get("PORTAL_OIDC_MFA_AMR")
    mfa_amr = tuple(parse_list(amr_raw)) if amr_raw is not None else OIDC_DEFAULT_MFA_AMR
    scopes = environ.get("PORTAL_OIDC_SCOPES", "").strip() or "openid email profile"
    if "openid" not in scopes.split():
        raise ConfigError(f"PORTAL_OIDC_SCOPES must include openid; got {scopes!r}.")
    return {
        "issuer": issuer,
        "client_id": client_id,
        "client_secret": client_secret,
        "name": environ.get("PORTAL_OIDC_NAME", "").strip() or "single sign-on",
        "scopes": scopes,
        "groups_claim": groups_claim,
        "role_map": role_map,
        "clinic_claim": environ.get("PORTAL_OIDC_CLINIC_CLAIM", "").strip() or groups_claim,
        "clinic_map": _parse_map(
            "PORTAL_OIDC_CLINIC_MAP",
            environ.get("PORTAL_OIDC_CLINIC_MAP"),
            example="jak-clinic-north=North Dermatology Clinic",
        ),
        "mfa_amr": mfa_amr,
        "mfa_acr": tuple(parse_list(environ.get("PORTAL_OIDC_MFA_ACR"))),
        "timeout": _parse_int("PORTAL_OIDC_TIMEOUT", environ.get("PORTAL_OIDC_TIMEOUT", "10"), low=1, high=120),
    }
