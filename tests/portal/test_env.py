import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.env import (
    DEV_TOTP_KEY,
    ConfigError,
    parse_bool,
    parse_cache_url,
    parse_database_url,
    parse_fernet_keys,
    read_env,
)

BASE = Path("/srv/jak")
ROOT = Path(__file__).resolve().parents[2]
KEY_A = "VGhpcnR5LXR3byBieXRlcyBvZiB0ZXN0IGtleSBBISE="  # base64 of 32 bytes
KEY_B = "VGhpcnR5LXR3byBieXRlcyBvZiB0ZXN0IGtleSBCISE="


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, False),
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("0", False),
        ("off", False),
        ("", False),
    ],
)
def test_parse_bool_good(raw, expected):
    assert parse_bool("X", raw, default=False) is expected


@pytest.mark.parametrize("raw", ["2", "maybe", "truthy", "enable"])
def test_parse_bool_bad_names_the_variable(raw):
    with pytest.raises(ConfigError, match="DJANGO_DEBUG"):
        parse_bool("DJANGO_DEBUG", raw, default=False)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/demo.sqlite3", {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE / "var/demo.sqlite3"}),
        ("sqlite:////tmp/x.sqlite3", {"ENGINE": "django.db.backends.sqlite3", "NAME": Path("/tmp/x.sqlite3")}),
        ("sqlite:///:memory:", {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}),
    ],
)
def test_sqlite_urls(url, expected):
    assert parse_database_url(url, base_dir=BASE) == expected


def test_postgres_url_with_options():
    cfg = parse_database_url("postgres://jak:s%40cret@db.internal:5433/jak_portal?sslmode=require", base_dir=BASE)
    assert cfg == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "jak_portal",
        "USER": "jak",
        "PASSWORD": "s@cret",
        "HOST": "db.internal",
        "PORT": "5433",
        "OPTIONS": {"sslmode": "require"},
    }


def test_postgres_unix_socket():
    cfg = parse_database_url("postgresql:///jak?host=/var/run/postgresql", base_dir=BASE)
    assert cfg["HOST"] == "/var/run/postgresql"
    assert cfg["OPTIONS"] == {}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@h/db", "not supported"),
        ("postgres://u:p@h:5432/", "database name"),
        ("postgres://u:p@h:notaport/db", "could not be parsed"),
        ("sqlite://hostname/db.sqlite3", "no host"),
        ("sqlite:///", "file path"),
        ("   ", "empty"),
        ("just-a-name", "not supported"),
    ],
)
def test_bad_database_urls(url, message):
    with pytest.raises(ConfigError, match=message):
        parse_database_url(url, base_dir=BASE)


def test_bad_database_url_never_echoes_the_password():
    with pytest.raises(ConfigError) as info:
        parse_database_url("postgres://u:TopSecretPw@h:99999/db", base_dir=BASE)
    assert "TopSecretPw" not in str(info.value)


def test_defaults():
    env = read_env({"DJANGO_SECRET_KEY": "k" * 50, "PORTAL_TOTP_KEY": KEY_A}, base_dir=BASE)
    assert env["debug"] is False
    assert env["demo"] is False
    assert env["jurisdiction"] == "US"
    assert env["allowed_hosts"] == []
    assert env["database"] == {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE / "var" / "portal.sqlite3"}


def test_secret_key_required_outside_debug_and_demo():
    with pytest.raises(ConfigError, match="DJANGO_SECRET_KEY is required"):
        read_env({}, base_dir=BASE)
    assert read_env({"PORTAL_DEMO": "1"}, base_dir=BASE)["secret_key"] == ""
    assert read_env({"DJANGO_DEBUG": "true"}, base_dir=BASE)["debug"] is True


def test_allowed_hosts_and_jurisdiction():
    env = read_env(
        {"PORTAL_DEMO": "1", "DJANGO_ALLOWED_HOSTS": "portal.example.org, ,10.0.0.5", "PORTAL_JURISDICTION": "eu"},
        base_dir=BASE,
    )
    assert env["allowed_hosts"] == ["portal.example.org", "10.0.0.5"]
    assert env["jurisdiction"] == "EU"


def test_bad_jurisdiction():
    with pytest.raises(ConfigError, match="PORTAL_JURISDICTION"):
        read_env({"PORTAL_DEMO": "1", "PORTAL_JURISDICTION": "UK"}, base_dir=BASE)


def test_trusted_proxies():
    assert read_env({"PORTAL_DEMO": "1"}, base_dir=BASE)["trusted_proxies"] == []
    env = read_env({"PORTAL_DEMO": "1", "PORTAL_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1,,"}, base_dir=BASE)
    assert env["trusted_proxies"] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]


@pytest.mark.parametrize("raw", ["nginx", "127.0.0.1:8080", "10.0.0.0/33", "256.1.1.1"])
def test_bad_trusted_proxies(raw):
    with pytest.raises(ConfigError, match="PORTAL_TRUSTED_PROXIES .*IP addresses or networks"):
        read_env({"PORTAL_DEMO": "1", "PORTAL_TRUSTED_PROXIES": raw}, base_dir=BASE)


def _run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    full_env.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_bad_setting_stops_startup_with_a_clear_message():
    result = _run_manage("check", DJANGO_DEBUG="perhaps")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="x7" * 20 + "production-like-key-for-test",
        DJANGO_ALLOWED_HOSTS="portal.example.org",
        DATABASE_URL="sqlite:///:memory:",
        PORTAL_TOTP_KEY=KEY_A,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_hashing_and_security_settings():
    from portal import settings as prod

    assert prod.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert prod.USE_TZ is True
    assert prod.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert prod.DATABASES["default"]["ATOMIC_REQUESTS"] is True
    assert "django.contrib.auth.middleware.LoginRequiredMiddleware" in prod.MIDDLEWARE
    assert prod.MESSAGE_STORAGE.endswith("SessionStorage")


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        (None, "locmem.LocMemCache", "jak-portal"),
        ("", "locmem.LocMemCache", "jak-portal"),
        ("locmem://", "locmem.LocMemCache", "jak-portal"),
        ("dummy://", "dummy.DummyCache", "jak-portal"),
        ("redis://cache.internal:6379/1", "redis.RedisCache", "redis://cache.internal:6379/1"),
        ("rediss://:pw@cache.internal:6380/0", "redis.RedisCache", "rediss://:pw@cache.internal:6380/0"),
        ("memcached://cache.internal:11211", "memcached.PyMemcacheCache", "cache.internal:11211"),
    ],
)
def test_cache_urls(url, backend, location, monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())  # as if redis/pymemcache were installed
    assert parse_cache_url(url) == {"BACKEND": f"django.core.cache.backends.{backend}", "LOCATION": location}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///tmp/cache", "scheme 'file' is not supported"),
        ("redis://", "needs a host"),
        ("redis://:TopSecretPw@h:99999/0", "could not be parsed"),
    ],
)
def test_bad_cache_urls(url, message):
    with pytest.raises(ConfigError, match=message) as exc:
        parse_cache_url(url)
    assert "TopSecretPw" not in str(exc.value)


@pytest.mark.parametrize(("url", "package"), [("redis://h:6379/0", "redis"), ("memcached://h:11211", "pymemcache")])
def test_a_shared_cache_without_its_client_package_is_refused_at_start(url, package, monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=f"needs the {package} package"):
        parse_cache_url(url)


def test_cache_defaults_to_local_memory():
    env = read_env({"PORTAL_DEMO": "1"}, base_dir=BASE)
    assert env["cache"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (KEY_A, [KEY_A]),
        (f" {KEY_A} ", [KEY_A]),
        (f"{KEY_B},{KEY_A}", [KEY_B, KEY_A]),  # rotation: the new key first, the old one still decrypts
        (f"{KEY_B}, {KEY_A},", [KEY_B, KEY_A]),
    ],
)
def test_totp_keys_good(raw, expected):
    assert parse_fernet_keys("PORTAL_TOTP_KEY", raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "is empty"),
        (" , ", "is empty"),
        ("not-a-key", "key 1 is not a Fernet key"),
        (KEY_A[:-4], "key 1 is not a Fernet key"),  # too short
        (f"{KEY_A},{KEY_A[:20]}!!!", "key 2 is not a Fernet key"),
        ("é" * 44, "key 1 is not a Fernet key"),
        (f"{KEY_A},{KEY_A}", "the same key twice"),
    ],
)
def test_totp_keys_bad_never_echo_the_value(raw, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_fernet_keys("PORTAL_TOTP_KEY", raw)
    assert "PORTAL_TOTP_KEY" in str(info.value)
    if raw.strip(" ,"):
        assert raw.strip(" ,")[:20] not in str(info.value)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"PORTAL_DEMO": "1"}, [DEV_TOTP_KEY]),
        ({"DJANGO_DEBUG": "1"}, [DEV_TOTP_KEY]),
        ({"PORTAL_DEMO": "1", "PORTAL_TOTP_KEY": KEY_A}, [KEY_A]),
        ({"DJANGO_SECRET_KEY": "k" * 50, "PORTAL_TOTP_KEY": KEY_A}, [KEY_A]),
    ],
)
def test_totp_key_from_environment(environ, expected):
    assert read_env(environ, base_dir=BASE)["totp_keys"] == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_production_refuses_to_start_without_a_totp_key(raw):
    environ = {"DJANGO_SECRET_KEY": "k" * 50}
    if raw is not None:
        environ["PORTAL_TOTP_KEY"] = raw
    with pytest.raises(ConfigError, match="PORTAL_TOTP_KEY is required when DJANGO_DEBUG and PORTAL_DEMO are off"):
        read_env(environ, base_dir=BASE)


def test_dev_totp_key_is_a_valid_fernet_key():
    assert parse_fernet_keys("X", DEV_TOTP_KEY) == [DEV_TOTP_KEY]


def test_missing_totp_key_stops_production_startup_with_a_clear_message():
    result = _run_manage("check", DJANGO_SECRET_KEY="x7" * 30, DATABASE_URL="sqlite:///:memory:")
    assert result.returncode != 0
    assert "PORTAL_TOTP_KEY is required" in result.stderr
