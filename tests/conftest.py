from __future__ import annotations

import pytest

from portal import roles
from tests.factories import make_clinic, make_user


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
