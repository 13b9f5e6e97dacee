from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from portal import roles
from tests.factories import CANARY, make_clinic, make_user

_LOG_CAPTURE: dict[str, Path] = {}

# Property tests: CI runs the same examples every time (a red run is reproducible, never a lucky draw), a developer's
# run explores new ones. Either way a failure prints the blob that replays it (@reproduce_failure). HYPOTHESIS_PROFILE
# picks one explicitly. Loaded here, before the test modules build their own settings on top of the profile.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_report_header(config):
    """Name the database engine and version the suite runs on."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    try:
        if engine == "sqlite3":
            import sqlite3

            version = sqlite3.sqlite_version
        else:
            import psycopg

            params = {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"]}
            params.update({"port": db["PORT"]} if db["PORT"] else {})
            with psycopg.connect(**params, connect_timeout=5) as conn:
                version = conn.info.parameter_status("server_version")
    except Exception as exc:  # the header must never stop the run
        version = f"unknown ({exc.__class__.__name__})"
    return f"database: {engine} {version}"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: the database is emptied between tests, so catalogue versions repeat,
    and a label cached by one test would otherwise be served to the next under the same version."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def clinic(db):
    return make_clinic("Test Dermatology Clinic")


@pytest.fixture
def derm(clinic):
    return make_user(role=roles.DERMATOLOGIST, clinic=clinic)


@pytest.fixture
def nurse(clinic):
    return make_user(role=roles.NURSE, clinic=clinic)


@pytest.fixture
def catalogue_admin(db):
    return make_user(role=roles.CATALOGUE_ADMIN)


@pytest.fixture
def superuser(db):
    return make_user(is_superuser=True, is_staff=True)


@pytest.fixture
def no_role_user(db):
    return make_user()


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


class _FlushingFileHandler(logging.FileHandler):
    def emit(self, record):
        super().emit(record)
        self.flush()


@pytest.fixture(scope="session", autouse=True)
def log_canary_capture(tmp_path_factory):
    """Every log record of the whole run also goes to one file, scanned for CANARY at the end of the session.

    The handler sits on the root logger and on every logger that does not propagate (django.request,
    django.security), at the levels the portal's LOGGING configures, so it sees what production would log.
    The check is in ``pytest_sessionfinish`` below; the canary tests in
    tests/security/test_audit_and_canary.py prove it works.
    """
    path = tmp_path_factory.getbasetemp() / "all-log-records.txt"
    handler = _FlushingFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in loggers:
        logger.addHandler(handler)
    _LOG_CAPTURE["path"] = path
    yield path
    for logger in loggers:
        logger.removeHandler(handler)
    handler.close()


def canary_hits(path: Path, canary: str = CANARY) -> list[str]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", errors="replace") as lines:
        return [line.rstrip() for line in lines if canary.lower() in line.lower()]


def pytest_sessionfinish(session, exitstatus):
    """Fail the run if any log record of the session contains the patient-name canary."""
    path = _LOG_CAPTURE.get("path")
    if path is None:
        return
    hits = canary_hits(path)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if hits:
        if reporter:
            reporter.write_line(
                f"LOG CANARY: {len(hits)} log line(s) contain {CANARY!r} (patient data in logs):", red=True
            )
            for line in hits[:20]:
                reporter.write_line("  " + line[:300], red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter:
        size = path.stat().st_size if path.exists() else 0
        reporter.write_line(f"log canary: scanned {size} bytes of log records, no {CANARY!r} found")
