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
    env = read_env({"DJANGO_SECRET_KEY": "k" * 50, "PORTAL_DEMO": "0", "DJANGO_DEBUG": "1"}, base_dir=BASE)
    assert env["demo"] is False
    assert env["jurisdiction"] == "US"
    assert env["allowed_hosts"] == []
    assert env["database"] == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE / "var" / "portal.sqlite3",
        "OPTIONS": {},
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
    }


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
        PORTAL_BASE_URL="https://portal.example.org",
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


# --- Issue 18: DATABASE_URL required in production, PORTAL_BASE_URL, SMTP settings. ----------------------------

# Imported here, not at the top, so this block merges cleanly with other work on this file.
from portal.env import SMTP_BACKEND as SMTP  # noqa: E402
from portal.env import join_url, parse_base_url, parse_email_settings  # noqa: E402

PROD = {
    "DJANGO_SECRET_KEY": "k" * 50,
    "DATABASE_URL": "postgres://u:p@db/jak",
    "PORTAL_BASE_URL": "https://p.example",
    "PORTAL_TOTP_KEY": KEY_A,
}


def test_production_requires_database_url():
    with pytest.raises(ConfigError, match="DATABASE_URL is required when DJANGO_DEBUG and PORTAL_DEMO are off"):
        read_env({k: v for k, v in PROD.items() if k != "DATABASE_URL"}, base_dir=BASE)
    assert read_env(PROD, base_dir=BASE)["database"]["ENGINE"] == "django.db.backends.postgresql"
    for mode in ({"PORTAL_DEMO": "1"}, {"DJANGO_DEBUG": "1"}):
        assert read_env(mode, base_dir=BASE)["database"]["NAME"] == BASE / "var" / "portal.sqlite3"


def test_production_without_database_url_refuses_to_start():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_")) and k != "DATABASE_URL"}
    env.update(
        DJANGO_SECRET_KEY="x7" * 30,
        DJANGO_ALLOWED_HOSTS="p.example",
        PORTAL_BASE_URL="https://p.example",
        PORTAL_TOTP_KEY=KEY_A,
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DATABASE_URL is required when DJANGO_DEBUG and PORTAL_DEMO are off" in result.stderr


@pytest.mark.parametrize(
    ("raw", "production", "expected"),
    [
        (None, False, "http://127.0.0.1:8000/"),
        ("", False, "http://127.0.0.1:8000/"),
        ("https://portal.clinic.example", True, "https://portal.clinic.example/"),
        ("https://Portal.Clinic.Example/", True, "https://portal.clinic.example/"),
        ("https://clinic.example/jak", True, "https://clinic.example/jak/"),
        ("https://clinic.example//jak//portal/", True, "https://clinic.example/jak/portal/"),
        ("https://clinic.example:8443", True, "https://clinic.example:8443/"),
        ("http://127.0.0.1:8000", True, "http://127.0.0.1:8000/"),  # loopback: http allowed in production
        ("http://localhost:8000/", True, "http://localhost:8000/"),
        ("http://[::1]:8000", True, "http://[::1]:8000/"),
        ("http://portal.internal", False, "http://portal.internal/"),  # demo/debug: http anywhere
        ("  https://p.example  ", True, "https://p.example/"),
    ],
)
def test_base_url(raw, production, expected):
    assert parse_base_url(raw, production=production) == expected


@pytest.mark.parametrize(
    ("raw", "production", "message"),
    [
        (None, True, "PORTAL_BASE_URL is required"),
        ("  ", True, "PORTAL_BASE_URL is required"),
        ("http://portal.clinic.example", True, "PORTAL_BASE_URL must use https:// in production"),
        ("ftp://portal.clinic.example", False, "must be an http:// or https:// URL"),
        ("portal.clinic.example", False, "must be an http:// or https:// URL"),
        ("https://", False, "needs a host name"),
        ("https:///jak/", False, "needs a host name"),
        ("https://p.example/?next=/", False, "without \\?query or #fragment"),
        ("https://p.example/#top", False, "without \\?query or #fragment"),
        ("https://p.example:99999/", False, "could not be parsed"),
        ("https://user:TopSecretPw@p.example/", False, "must not contain a user name or password"),
        ("https://p.example/a/../b", False, "must not contain . or .."),
    ],
)
def test_bad_base_urls(raw, production, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_base_url(raw, production=production)
    assert "TopSecretPw" not in str(info.value)


def test_read_env_base_url():
    assert read_env(PROD, base_dir=BASE)["base_url"] == "https://p.example/"
    with pytest.raises(ConfigError, match="PORTAL_BASE_URL is required"):
        read_env({k: v for k, v in PROD.items() if k != "PORTAL_BASE_URL"}, base_dir=BASE)
    assert read_env({"PORTAL_DEMO": "1"}, base_dir=BASE)["base_url"] == "http://127.0.0.1:8000/"


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("https://p.example/", "/monitoring/worklist/", "https://p.example/monitoring/worklist/"),
        ("https://p.example/", "/", "https://p.example/"),
        ("https://c.example/jak/", "/monitoring/alerts/x/", "https://c.example/jak/monitoring/alerts/x/"),
        ("https://c.example/jak/", "/jak/monitoring/", "https://c.example/jak/monitoring/"),  # reverse() under it
        ("https://c.example/jak/", "/jakarta/", "https://c.example/jak/jakarta/"),
        ("http://127.0.0.1:8000/", "/a/?b=1", "http://127.0.0.1:8000/a/?b=1"),
    ],
)
def test_join_url(base, path, expected):
    assert join_url(base, path) == expected


@pytest.mark.parametrize("path", ["monitoring/", "https://evil.example/", "//evil.example/x", ""])
def test_join_url_refuses_anything_but_a_site_path(path):
    with pytest.raises(ValueError, match="site path"):
        join_url("https://p.example/", path)


def test_email_defaults_print_to_the_console():
    assert parse_email_settings({}) == {
        "backend": "django.core.mail.backends.console.EmailBackend",
        "host": "localhost",
        "port": 25,
        "user": "",
        "password": "",
        "use_tls": False,
        "use_ssl": False,
        "timeout": 30,
        "default_from": "jak-portal@localhost",
    }


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"EMAIL_HOST": "smtp.clinic.example"}, {"backend": SMTP, "host": "smtp.clinic.example", "port": 25}),
        ({"EMAIL_HOST": "smtp.c.example", "EMAIL_USE_TLS": "1"}, {"backend": SMTP, "port": 587, "use_tls": True}),
        ({"EMAIL_HOST": "smtp.c.example", "EMAIL_USE_SSL": "yes"}, {"port": 465, "use_ssl": True, "use_tls": False}),
        ({"EMAIL_HOST": "smtp.c.example", "EMAIL_PORT": " 2525 "}, {"port": 2525}),
        ({"EMAIL_HOST": "10.0.0.25", "EMAIL_TIMEOUT": "10"}, {"host": "10.0.0.25", "timeout": 10}),
        (
            {"EMAIL_HOST": "smtp.c.example", "EMAIL_HOST_USER": "jak", "EMAIL_HOST_PASSWORD": " s3cret "},
            {"user": "jak", "password": " s3cret "},
        ),
        (
            {"EMAIL_HOST": "smtp.c.example", "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
            {"backend": "django.core.mail.backends.locmem.EmailBackend"},
        ),
        (
            {"DEFAULT_FROM_EMAIL": "JAK Portal <noreply@clinic.example>"},
            {"default_from": "JAK Portal <noreply@clinic.example>"},
        ),
        ({"DJANGO_DEFAULT_FROM_EMAIL": "noreply@clinic.example"}, {"default_from": "noreply@clinic.example"}),
        (
            {"DEFAULT_FROM_EMAIL": "a@clinic.example", "DJANGO_DEFAULT_FROM_EMAIL": "b@clinic.example"},
            {"default_from": "a@clinic.example"},
        ),
    ],
)
def test_email_settings(environ, expected):
    got = parse_email_settings(environ)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on"),
        ({"EMAIL_USE_TLS": "maybe"}, "EMAIL_USE_TLS must be one of"),
        ({"EMAIL_USE_SSL": "2"}, "EMAIL_USE_SSL must be one of"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT must be a whole number from 1 to 65535"),
        ({"EMAIL_PORT": "0"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_PORT": "70000"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_PORT": "-25"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT must be a whole number from 1 to 600"),
        ({"EMAIL_TIMEOUT": "1.5"}, "EMAIL_TIMEOUT must be a whole number"),
        ({"EMAIL_HOST": "smtp://smtp.c.example"}, "EMAIL_HOST must be a host name"),
        ({"EMAIL_HOST": "smtp c.example"}, "EMAIL_HOST must be a host name"),
        ({"EMAIL_HOST_PASSWORD": "TopSecretPw"}, "EMAIL_HOST_PASSWORD is set but EMAIL_HOST_USER is not"),
        ({"DEFAULT_FROM_EMAIL": "nobody"}, "DEFAULT_FROM_EMAIL must be an email address"),
        ({"DEFAULT_FROM_EMAIL": "a@b.example\nBcc: x@y.example"}, "DEFAULT_FROM_EMAIL must be an email address"),
        ({"DJANGO_DEFAULT_FROM_EMAIL": "x@localhost"}, "DJANGO_DEFAULT_FROM_EMAIL must be an email address"),
        ({"DJANGO_EMAIL_BACKEND": SMTP}, "EMAIL_HOST is not set"),
    ],
)
def test_bad_email_settings_name_the_variable_and_never_the_password(environ, message):
    environ = {"EMAIL_HOST_PASSWORD": "TopSecretPw", "EMAIL_HOST_USER": "jak", **environ}
    if "is set but" in message:
        del environ["EMAIL_HOST_USER"]
    with pytest.raises(ConfigError, match=message) as info:
        parse_email_settings(environ)
    assert "TopSecretPw" not in str(info.value)


def test_read_env_email():
    env = read_env({**PROD, "EMAIL_HOST": "smtp.c.example", "EMAIL_USE_TLS": "on"}, base_dir=BASE)
    assert env["email"]["backend"] == SMTP
    assert env["email"]["port"] == 587


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
        ({**PROD, "PORTAL_TOTP_KEY": KEY_A}, [KEY_A]),
    ],
)
def test_totp_key_from_environment(environ, expected):
    assert read_env(environ, base_dir=BASE)["totp_keys"] == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_production_refuses_to_start_without_a_totp_key(raw):
    environ = {k: v for k, v in PROD.items() if k != "PORTAL_TOTP_KEY"}
    if raw is not None:
        environ["PORTAL_TOTP_KEY"] = raw
    with pytest.raises(ConfigError, match="PORTAL_TOTP_KEY is required when DJANGO_DEBUG and PORTAL_DEMO are off"):
        read_env(environ, base_dir=BASE)


def test_dev_totp_key_is_a_valid_fernet_key():
    assert parse_fernet_keys("X", DEV_TOTP_KEY) == [DEV_TOTP_KEY]


def test_missing_totp_key_stops_production_startup_with_a_clear_message():
    result = _run_manage(
        "check",
        DJANGO_SECRET_KEY="x7" * 30,
        DATABASE_URL="sqlite:///:memory:",
        PORTAL_BASE_URL="https://portal.example.org",
    )
    assert result.returncode != 0
    assert "PORTAL_TOTP_KEY is required" in result.stderr


# --- PORTAL_CDS_JWT_ISSUERS (CDS Hooks JWTs, issue 19) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, {}),
        ("", {}),
        (
            "https://ehr.example.org=/etc/jak/ehr.pem=city-ehr",
            {"https://ehr.example.org": {"key_file": "/etc/jak/ehr.pem", "token": "city-ehr"}},
        ),
        (
            "https://a.example/?t=1=/k/a.json=a, https://b.example=/k/b.pem=b",
            {
                "https://a.example/?t=1": {"key_file": "/k/a.json", "token": "a"},
                "https://b.example": {"key_file": "/k/b.pem", "token": "b"},
            },
        ),
    ],
)
def test_cds_jwt_issuers(raw, expected):
    from portal.env import parse_cds_jwt_issuers

    assert parse_cds_jwt_issuers(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["https://ehr.example.org=/etc/jak/ehr.pem", "https://ehr.example.org==city", "a=b=c, a=d=e"],
)
def test_cds_jwt_issuers_refuses_a_bad_entry_naming_the_variable(raw):
    from portal.env import parse_cds_jwt_issuers

    with pytest.raises(ConfigError, match="PORTAL_CDS_JWT_ISSUERS"):
        parse_cds_jwt_issuers(raw)
