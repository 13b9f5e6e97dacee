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
