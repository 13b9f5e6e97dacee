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
    if database_url is None:
        database = {"ENGINE": "django.db.backends.sqlite3", "NAME": base_dir / "var" / "portal.sqlite3"}
    else:
        database = parse_database_url(database_url, base_dir=base_dir)
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
    }
