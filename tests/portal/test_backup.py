"""manage.py backup and verify_backup (issue 17): a dump restores into a fresh PostgreSQL database with the same row
counts and audit checksum, and a changed restore is caught.

pg_dump and pg_restore run against the real test database, so the data must be committed: transactional tests.
"""

import io
import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from portal import backup, roles
from portal.audit import audit_record
from portal.models import AuditEvent
from tests.factories import CANARY, make_clinic, make_patient, make_user

ON_PG = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
needs_pg = pytest.mark.skipif(not ON_PG, reason="pg_dump/pg_restore back up PostgreSQL only (SQLite: sqlite3 .backup)")


def _params(dbname=None):
    params = backup.connection_params(connection.settings_dict)
    if dbname:
        params["dbname"] = dbname
    return params


def _url(dbname):
    s = connection.settings_dict
    host = s["HOST"] or "127.0.0.1"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{host}:{s['PORT'] or 5432}/{dbname}"


@pytest.fixture
def fresh_database():
    """A new, empty database next to the test database (the test role has CREATEDB); dropped afterwards."""
    name = f"jak_restore_{uuid.uuid4().hex[:12]}"
    admin = {**_params(), "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def clinic_data():
    """Staff, a patient and audit rows of several kinds, committed."""
    clinic = make_clinic()
    derm = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    patient = make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Given")
    audit_record(actor=derm, action=AuditEvent.Action.VIEW, obj=patient, summary="Viewed the record")
    audit_record(actor=derm, action=AuditEvent.Action.CHANGE, obj=patient, changes={"family_name": ["A", "B"]})
    audit_record(actor=None, action=AuditEvent.Action.LOGIN_FAILED, summary="Failed log-in")
    return patient


def _backup(tmp_path):
    call_command("backup", output=tmp_path / "backups", stdout=io.StringIO())
    (dump,) = (tmp_path / "backups").glob("jak-portal-*.dump")
    return dump


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_fresh_database_with_matching_counts_and_audit_checksum(
    tmp_path, clinic_data, fresh_database, capsys
):
    dump = _backup(tmp_path)
    assert dump.name.startswith("jak-portal-")
    assert len(dump.stem) == len("jak-portal-20261204-011044")
    assert oct(dump.stat().st_mode & 0o777) == "0o600"  # a dump holds every patient's record
    manifest = json.loads(backup.manifest_path(dump).read_text())
    assert manifest["row_counts"]["portal_auditevent"] == AuditEvent.objects.count() >= 3
    assert manifest["row_counts"]["patients_patient"] == 1
    assert manifest["audit"]["rows"] == AuditEvent.objects.count()
    assert "portal.0001_initial" in manifest["migrations"]
    assert manifest["portal_version"]
    assert manifest["dump_sha256"] == backup.sha256_file(dump)
    assert settings.DATABASES["default"]["PASSWORD"] not in json.dumps(manifest)

    call_command("verify_backup", str(dump), database_url=_url(fresh_database))
    out = capsys.readouterr().out
    assert "Backup verified" in out
    with psycopg.connect(**_params(fresh_database)) as conn:
        restored = conn.execute("SELECT given_name FROM patients_patient").fetchall()
        audit_rows = conn.execute("SELECT count(*) FROM portal_auditevent").fetchone()[0]
    assert restored == [(f"{CANARY}Given",)]
    assert audit_rows == manifest["audit"]["rows"]


@needs_pg
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("UPDATE portal_auditevent SET summary = 'Nothing happened' WHERE id = (SELECT min(id) FROM portal_auditevent)",
         "audit checksum of portal_auditevent differs"),
        ("DELETE FROM portal_auditevent WHERE id = (SELECT max(id) FROM portal_auditevent)",
         "table portal_auditevent: 2 rows restored, 3 backed up"),
        ("UPDATE portal_auditevent SET at = at + '1s' WHERE id = (SELECT max(id) FROM portal_auditevent t)",
         "audit checksum of portal_auditevent differs"),
        ("DELETE FROM django_migrations WHERE app = 'portal' AND name = '0001_initial'",
         "migration state differs"),
    ],
)  # fmt: skip
def test_a_changed_restore_fails_verification(tmp_path, clinic_data, fresh_database, tamper, message):
    dump = _backup(tmp_path)
    call_command("verify_backup", str(dump), database_url=_url(fresh_database), stdout=io.StringIO())
    with psycopg.connect(**_params(fresh_database), autocommit=True) as conn:
        conn.execute(tamper)
    with pytest.raises(CommandError, match=message):
        call_command("verify_backup", str(dump), database_url=_url(fresh_database), no_restore=True)


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_verify_refuses_a_database_that_is_not_empty(tmp_path, clinic_data):
    dump = _backup(tmp_path)
    with pytest.raises(CommandError, match="is not empty .* Restore into a new empty database"):
        call_command("verify_backup", str(dump), database_url=_url(connection.settings_dict["NAME"]))


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_a_changed_dump_or_manifest_fails_before_anything_is_restored(tmp_path, clinic_data, fresh_database):
    dump = _backup(tmp_path)
    manifest_file = backup.manifest_path(dump)
    manifest = json.loads(manifest_file.read_text())
    manifest["row_counts"]["patients_patient"] = 2
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="table patients_patient: 1 rows restored, 2 backed up"):
        call_command("verify_backup", str(dump), database_url=_url(fresh_database))

    with dump.open("ab") as handle:
        handle.write(b"\0")
    with psycopg.connect(**_params(fresh_database), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    with pytest.raises(CommandError, match="does not match the SHA-256 in its manifest"):
        call_command("verify_backup", str(dump), database_url=_url(fresh_database))
    with psycopg.connect(**_params(fresh_database)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


@needs_pg
@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_while_staff_write_describes_exactly_its_own_dump(
    tmp_path, clinic_data, fresh_database, monkeypatch
):
    """Counts, checksum and dump share one snapshot: a row committed in between is in neither."""
    original_summarise = backup.summarise

    def summarise_then_write(cur):
        summary = original_summarise(cur)
        # Django's own connection, not the backup's: committed at once (transactional test, autocommit).
        AuditEvent.objects.create(action=AuditEvent.Action.LOGIN, summary="committed during the backup")
        return summary

    monkeypatch.setattr(backup, "summarise", summarise_then_write)
    dump = _backup(tmp_path)
    monkeypatch.setattr(backup, "summarise", original_summarise)
    call_command("verify_backup", str(dump), database_url=_url(fresh_database), stdout=io.StringIO())
    assert AuditEvent.objects.filter(summary="committed during the backup").exists()
    with psycopg.connect(**_params(fresh_database)) as conn:
        assert conn.execute("SELECT count(*) FROM portal_auditevent WHERE summary LIKE 'committed%'").fetchone()[0] == 0


def test_sqlite_is_refused_with_the_sqlite_procedure():
    with pytest.raises(backup.BackupError, match=r"this database is SQLite.*sqlite3 /srv/jak/var/portal.sqlite3 "):
        backup.connection_params({"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/jak/var/portal.sqlite3"})


def test_a_backup_through_pgbouncer_is_refused_with_what_to_do_instead():
    from pathlib import Path

    from portal.env import parse_database_connections, parse_database_url

    database = parse_database_url("postgres://jak:pw@pgbouncer:6432/jak_portal", base_dir=Path("/srv/jak"))
    through_pgbouncer = parse_database_connections({"PORTAL_DB_PGBOUNCER": "1"}, database)
    with pytest.raises(backup.BackupError, match="pg_dump needs a session.*PORTAL_DB_PGBOUNCER=0 manage.py backup"):
        backup.connection_params(through_pgbouncer)
    assert backup.connection_params(parse_database_connections({}, database))["host"] == "pgbouncer"


def test_the_password_goes_to_the_environment_never_the_command_line():
    params = backup.connection_params(
        {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "jak_portal",
            "USER": "jak",
            "PASSWORD": "TopSecretPw",
            "HOST": "db.internal",
            "PORT": "5433",
            "OPTIONS": {"sslmode": "require", "pool": {"min_size": 1}, "server_side_binding": True},
        }
    )
    conninfo, env = backup.tool_environment(params)
    assert "TopSecretPw" not in conninfo
    assert env["PGPASSWORD"] == "TopSecretPw"
    assert psycopg.conninfo.conninfo_to_dict(conninfo) == {
        "dbname": "jak_portal",
        "user": "jak",
        "host": "db.internal",
        "port": "5433",
        "sslmode": "require",
    }


def test_compare_lists_every_difference():
    backed_up = {
        "row_counts": {"a": 1, "b": 2, "gone": 0},
        "audit": {"sha256": "x"},
        "migrations": ["portal.0001", "portal.0002"],
    }
    restored = {"row_counts": {"a": 1, "b": 3, "new": 5}, "audit": {"sha256": "y"}, "migrations": ["portal.0001"]}
    assert backup.compare(backed_up, backed_up) == []
    assert backup.compare(backed_up, restored) == [
        "table b: 3 rows restored, 2 backed up",
        "table gone is missing from the restored database",
        "table new is in the restored database but not in the manifest",
        "audit checksum of portal_auditevent differs: restored y, backed up x",
        "migration state differs (missing: ['portal.0002']; extra: none)",
    ]


def test_manifest_sits_beside_the_dump():
    stamp = datetime(2026, 12, 4, 1, 10, 44, tzinfo=UTC).strftime("%Y%m%d-%H%M%S")
    dump = backup.BASE_DIR / f"jak-portal-{stamp}.dump"
    assert backup.manifest_path(dump).name == "jak-portal-20261204-011044.manifest.json"


def _fake_tool(directory, name, version_line):
    tool = directory / name
    tool.write_text(f"#!/bin/sh\necho '{version_line}'\n")
    tool.chmod(0o755)
    return tool


def test_a_pg_dump_older_than_the_server_is_refused(tmp_path):
    _fake_tool(tmp_path, "pg_dump", "pg_dump (PostgreSQL) 14.11")
    with pytest.raises(
        backup.BackupError, match="version 14, older than the PostgreSQL 15 server.*postgresql-client-15"
    ):
        backup.find_tool("pg_dump", 15, str(tmp_path))
    assert backup.find_tool("pg_dump", 14, str(tmp_path)) == str(tmp_path / "pg_dump")
    assert backup.find_tool("pg_dump", 13, str(tmp_path)) == str(tmp_path / "pg_dump")  # newer than the server: fine


def test_a_missing_pg_restore_says_what_to_install(tmp_path):
    with pytest.raises(backup.BackupError, match="pg_restore not found.*apt-get install postgresql-client-16"):
        backup.find_tool("pg_restore", 16, str(tmp_path))
