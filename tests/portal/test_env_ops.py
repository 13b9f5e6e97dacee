"""portal/env.py, operations settings (issue 17): PORTAL_LOG_FORMAT and PORTAL_METRICS_TOKEN, table by table."""

from pathlib import Path

import pytest

from portal.env import ConfigError, parse_log_format, parse_metrics_token, read_env

TOKEN = "t0ken-for-tests-only-0123456789abcdef"


@pytest.mark.parametrize(
    ("raw", "production", "expected"),
    [
        (None, True, "json"),
        (None, False, "plain"),
        ("", True, "json"),
        ("  ", False, "plain"),
        ("json", False, "json"),
        ("JSON", False, "json"),
        ("plain", True, "plain"),
        (" Plain ", True, "plain"),
    ],
)
def test_log_format(raw, production, expected):
    assert parse_log_format(raw, production=production) == expected


@pytest.mark.parametrize("raw", ["text", "logfmt", "yes", "1"])
def test_bad_log_format_names_the_variable(raw):
    with pytest.raises(ConfigError, match="PORTAL_LOG_FORMAT must be one of json, plain"):
        parse_log_format(raw, production=True)


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, ""), ("", ""), ("   ", ""), (TOKEN, TOKEN), (f" {TOKEN}\n", TOKEN)]
)
def test_metrics_token(raw, expected):
    assert parse_metrics_token(raw) == expected


@pytest.mark.parametrize("raw", ["short", "x" * 31, "with space in the middle of a long token value", "ä" * 40])
def test_bad_metrics_token_is_refused_without_echoing_it(raw):
    with pytest.raises(ConfigError, match="PORTAL_METRICS_TOKEN must be at least 32") as info:
        parse_metrics_token(raw)
    assert raw not in str(info.value)


def test_read_env_defaults_by_mode():
    demo = read_env({"PORTAL_DEMO": "1"}, base_dir=Path("/srv/jak"))
    assert (demo["log_format"], demo["metrics_token"]) == ("plain", "")
    production = read_env(
        {
            "DJANGO_SECRET_KEY": "k" * 50,
            "DATABASE_URL": "postgres://u:p@db/jak",
            "PORTAL_BASE_URL": "https://portal.clinic.example",
            "PORTAL_TOTP_KEY": "VGhpcnR5LXR3byBieXRlcyBvZiB0ZXN0IGtleSBBISE=",
            "PORTAL_METRICS_TOKEN": TOKEN,
        },
        base_dir=Path("/srv/jak"),
    )
    assert (production["log_format"], production["metrics_token"]) == ("json", TOKEN)


# --- Database connections: PORTAL_DB_CONN_MAX_AGE, PORTAL_DB_POOL, PORTAL_DB_PGBOUNCER. --------------------------

from portal.env import parse_database_connections, parse_database_url  # noqa: E402

PG = parse_database_url("postgres://jak:pw@db.internal:5432/jak_portal?sslmode=require", base_dir=Path("/srv/jak"))
SQLITE = parse_database_url("sqlite:///var/portal.sqlite3", base_dir=Path("/srv/jak"))


@pytest.fixture
def pool_installed(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "psycopg_pool" else real(name))


def _connections(environ, database=PG):
    got = parse_database_connections(environ, database)
    return {k: got[k] for k in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")} | {
        "pool": got["OPTIONS"].get("pool"),
        "no_server_cursors": got.get("DISABLE_SERVER_SIDE_CURSORS", False),
    }


@pytest.mark.parametrize(
    ("environ", "database", "expected"),
    [
        ({}, PG, {"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True, "pool": None, "no_server_cursors": False}),
        ({}, SQLITE, {"CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True, "pool": None, "no_server_cursors": False}),
        ({"PORTAL_DB_CONN_MAX_AGE": "0"}, PG, {"CONN_MAX_AGE": 0}),
        ({"PORTAL_DB_CONN_MAX_AGE": " 600 "}, PG, {"CONN_MAX_AGE": 600}),
        ({"PORTAL_DB_CONN_HEALTH_CHECKS": "off"}, PG, {"CONN_HEALTH_CHECKS": False}),
        ({"PORTAL_DB_PGBOUNCER": "1"}, PG, {"CONN_MAX_AGE": 0, "pool": None, "no_server_cursors": True}),
        ({"PORTAL_DB_PGBOUNCER": "yes", "PORTAL_DB_CONN_MAX_AGE": "0"}, PG, {"CONN_MAX_AGE": 0}),
        ({"PORTAL_DB_POOL": "0", "PORTAL_DB_PGBOUNCER": "0"}, PG, {"CONN_MAX_AGE": 60, "pool": None}),
    ],
)
def test_connection_settings(environ, database, expected):
    got = _connections(environ, database)
    assert {k: got[k] for k in expected} == expected


def test_pool_on_turns_persistent_connections_off_and_sizes_the_pool(pool_installed):
    got = parse_database_connections({"PORTAL_DB_POOL": "on"}, PG)
    assert got["CONN_MAX_AGE"] == 0
    assert got["OPTIONS"] == {"sslmode": "require", "pool": {"min_size": 1, "max_size": 4, "timeout": 10}}
    assert PG["OPTIONS"] == {"sslmode": "require"}  # the parsed URL is not changed in place
    sized = parse_database_connections(
        {
            "PORTAL_DB_POOL": "1",
            "PORTAL_DB_POOL_MIN_SIZE": "2",
            "PORTAL_DB_POOL_MAX_SIZE": "8",
            "PORTAL_DB_POOL_TIMEOUT": "5",
            "PORTAL_DB_CONN_MAX_AGE": "0",
        },
        PG,
    )
    assert sized["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 5}


@pytest.mark.parametrize(
    ("environ", "database", "message"),
    [
        (
            {"PORTAL_DB_POOL": "1", "PORTAL_DB_CONN_MAX_AGE": "60"},
            PG,
            "PORTAL_DB_POOL and PORTAL_DB_CONN_MAX_AGE > 0 cannot be combined.*Set PORTAL_DB_CONN_MAX_AGE=0",
        ),
        (
            {"PORTAL_DB_POOL": "1", "PORTAL_DB_PGBOUNCER": "1"},
            PG,
            "PORTAL_DB_POOL and PORTAL_DB_PGBOUNCER cannot both be on.*Turn PORTAL_DB_POOL off",
        ),
        (
            {"PORTAL_DB_PGBOUNCER": "1", "PORTAL_DB_CONN_MAX_AGE": "30"},
            PG,
            "PORTAL_DB_PGBOUNCER with PORTAL_DB_CONN_MAX_AGE > 0.*Set PORTAL_DB_CONN_MAX_AGE=0",
        ),
        ({"PORTAL_DB_POOL": "1"}, SQLITE, "PORTAL_DB_POOL needs a PostgreSQL DATABASE_URL"),
        ({"PORTAL_DB_PGBOUNCER": "1"}, SQLITE, "PORTAL_DB_PGBOUNCER needs a PostgreSQL DATABASE_URL"),
        ({"PORTAL_DB_CONN_MAX_AGE": "-1"}, PG, "PORTAL_DB_CONN_MAX_AGE must be a whole number from 0 to 86400"),
        ({"PORTAL_DB_CONN_MAX_AGE": "1.5"}, PG, "PORTAL_DB_CONN_MAX_AGE must be a whole number"),
        ({"PORTAL_DB_CONN_MAX_AGE": "forever"}, PG, "PORTAL_DB_CONN_MAX_AGE must be a whole number"),
        ({"PORTAL_DB_POOL": "maybe"}, PG, "PORTAL_DB_POOL must be one of"),
        ({"PORTAL_DB_PGBOUNCER": "transaction"}, PG, "PORTAL_DB_PGBOUNCER must be one of"),
        ({"PORTAL_DB_CONN_HEALTH_CHECKS": "2"}, PG, "PORTAL_DB_CONN_HEALTH_CHECKS must be one of"),
        (
            {"PORTAL_DB_POOL": "1", "PORTAL_DB_POOL_MIN_SIZE": "5", "PORTAL_DB_POOL_MAX_SIZE": "2"},
            PG,
            r"PORTAL_DB_POOL_MAX_SIZE \(2\) must be at least PORTAL_DB_POOL_MIN_SIZE \(5\)",
        ),
        ({"PORTAL_DB_POOL": "1", "PORTAL_DB_POOL_MAX_SIZE": "0"}, PG, "PORTAL_DB_POOL_MAX_SIZE must be a whole"),
        ({"PORTAL_DB_POOL": "1", "PORTAL_DB_POOL_TIMEOUT": "0"}, PG, "PORTAL_DB_POOL_TIMEOUT must be a whole"),
    ],
)
def test_bad_connection_settings_say_what_to_change(environ, database, message, pool_installed):
    with pytest.raises(ConfigError, match=message):
        parse_database_connections(environ, database)


def test_pool_without_psycopg_pool_is_refused_at_start(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "psycopg_pool" else real(name))
    with pytest.raises(ConfigError, match=r"PORTAL_DB_POOL needs the psycopg-pool package \(psycopg\[pool\]\)"):
        parse_database_connections({"PORTAL_DB_POOL": "1"}, PG)


def test_read_env_applies_the_connection_settings():
    environ = {"PORTAL_DEMO": "1", "DATABASE_URL": "postgres://u:p@db/jak", "PORTAL_DB_PGBOUNCER": "1"}
    database = read_env(environ, base_dir=Path("/srv/jak"))["database"]
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert database["CONN_MAX_AGE"] == 0


def test_django_accepts_the_pool_settings_it_is_given(pool_installed):
    """The dict this builds is what Django 5.2's PostgreSQL backend reads: pool options go to ConnectionPool."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    got = parse_database_connections({"PORTAL_DB_POOL": "1"}, PG)
    wrapper = DatabaseWrapper({**got, "TIME_ZONE": None, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False}, "x")
    params = wrapper.get_connection_params()
    assert "pool" not in params  # taken out of the connection keywords, used for the pool
    assert params["dbname"] == "jak_portal"
    assert params["sslmode"] == "require"
