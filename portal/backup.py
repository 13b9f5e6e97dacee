"""Backups of the PostgreSQL database: pg_dump with a manifest, and a restore that proves the dump is whole.

``manage.py backup`` writes ``jak-portal-YYYYmmdd-HHMMSS.dump`` (pg_dump's custom format) and a manifest
``….manifest.json`` beside it: the row count of every table, a SHA-256 of the audit table in id order, the applied
migrations, the portal version and the dump file's own SHA-256. Counts, checksum and dump come from one snapshot
(``pg_export_snapshot()`` in a REPEATABLE READ transaction that pg_dump joins with ``--snapshot``), so the
manifest describes exactly what is in the file even while staff keep working.

``manage.py verify_backup`` restores the file into an empty database with pg_restore and recomputes the same
summary there; any difference fails. pg_dump and pg_restore do the dumping and restoring; this module only
finds the right binaries, passes the connection (the password through PGPASSWORD, never on a command line) and
computes and compares the summary, which neither tool does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

MANIFEST_FORMAT = "jak-portal-backup/1"
AUDIT_TABLE = "portal_auditevent"
FILE_PREFIX = "jak-portal-"
BASE_DIR = Path(__file__).resolve().parent.parent

# The row text of the audit table depends on these session settings (timestamps above all); fixing them makes the
# checksum the same on any server and any client time zone.
_STABLE_SESSION = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'iso_8601'",
    "SET LOCAL extra_float_digits = 1",
)


class BackupError(Exception):
    """A backup or its verification cannot go on; the message says what to do."""


# --- Connections ---------------------------------------------------------------------------------------------------


_LIBPQ_KEYWORDS = frozenset(o.keyword.decode() for o in psycopg.pq.Conninfo.get_defaults())


def connection_params(settings_dict: Mapping[str, Any]) -> dict[str, str]:
    """libpq keywords (host, port, user, dbname, sslmode…) of a Django DATABASES entry, password included.

    Django-only OPTIONS (pool, isolation_level, server_side_binding…) are left out: pg_dump would reject them.
    """
    engine = settings_dict.get("ENGINE", "")
    if not engine.endswith("postgresql"):
        name = settings_dict.get("NAME", "")
        raise BackupError(
            "Backups here are for PostgreSQL; this database is SQLite. Copy the SQLite file with its own online "
            f"backup instead, e.g.: sqlite3 {name} \".backup '/var/backups/jak-portal/portal.sqlite3'\""
        )
    if settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):  # set by PORTAL_DB_PGBOUNCER only (portal/env.py)
        raise BackupError(
            "PORTAL_DB_PGBOUNCER is on: DATABASE_URL points at PgBouncer in transaction mode, and pg_dump needs a "
            "session of its own. Run the backup against PostgreSQL itself: DATABASE_URL=postgres://…@<server>/… "
            "PORTAL_DB_PGBOUNCER=0 manage.py backup."
        )
    params = {str(k): str(v) for k, v in settings_dict.get("OPTIONS", {}).items() if k in _LIBPQ_KEYWORDS}
    for key, setting in (("dbname", "NAME"), ("user", "USER"), ("password", "PASSWORD")):
        if settings_dict.get(setting):
            params[key] = str(settings_dict[setting])
    for key, setting in (("host", "HOST"), ("port", "PORT")):
        if settings_dict.get(setting):
            params[key] = str(settings_dict[setting])
    return params


def tool_environment(params: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The conninfo string for pg_dump/pg_restore ``--dbname`` without the password, and their environment with
    the password in PGPASSWORD (a command line is visible to every user of the machine in ``ps``)."""
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    public = {k: v for k, v in params.items() if k != "password"}
    if "password" in params:
        env["PGPASSWORD"] = params["password"]
    return psycopg.conninfo.make_conninfo(**public), env


def describe(params: Mapping[str, str]) -> str:
    """The database for messages: ``name on host:port``, never the password."""
    return f"{params.get('dbname', '?')} on {params.get('host', 'local socket')}:{params.get('port', '5432')}"


def connect(params: Mapping[str, str]) -> psycopg.Connection:
    try:
        return psycopg.connect(psycopg.conninfo.make_conninfo(**params))
    except psycopg.OperationalError as exc:
        raise BackupError(f"Cannot connect to the database {describe(params)}: {exc}".strip()) from None


def server_major(conn: psycopg.Connection) -> int:
    return conn.info.server_version // 10000


def find_tool(name: str, major: int, bin_dir: str | None = None) -> str:
    """pg_dump or pg_restore at least as new as the server (an older pg_dump refuses a newer server).

    Looks in ``bin_dir`` if given, then Debian's /usr/lib/postgresql/<server major>/bin, then PATH.
    """
    if bin_dir:
        candidates = [Path(bin_dir) / name]
    else:
        candidates = [Path(f"/usr/lib/postgresql/{major}/bin") / name]
        found = shutil.which(name)
        if found:
            candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            break
    else:
        raise BackupError(
            f"{name} not found ({', '.join(str(c) for c in candidates) or 'not on PATH'}): install the PostgreSQL "
            f"{major} client tools (Debian: apt-get install postgresql-client-{major}) or pass --pg-bin-dir."
        )
    out = subprocess.run([str(candidate), "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.search(r"\(PostgreSQL\) (\d+)", out)
    tool_major = int(match.group(1)) if match else 0
    if tool_major < major:
        raise BackupError(
            f"{candidate} is version {tool_major or 'unknown'}, older than the PostgreSQL {major} server: install "
            f"postgresql-client-{major} or pass --pg-bin-dir with its bin directory."
        )
    return str(candidate)


# --- The summary: row counts, audit checksum, migrations --------------------------------------------------------


@contextmanager
def snapshot(conn: psycopg.Connection) -> Iterator[psycopg.Cursor]:
    """A read-only REPEATABLE READ transaction with the stable session settings: one consistent view."""
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            for statement in _STABLE_SESSION:
                cur.execute(statement)
            yield cur
        finally:
            cur.execute("ROLLBACK")


def user_tables(cur: psycopg.Cursor) -> list[str]:
    cur.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY c.relname"
    )
    return [row[0] for row in cur.fetchall()]


def summarise(cur: psycopg.Cursor) -> dict[str, Any]:
    """Row counts of every table, the audit table's checksum and the applied migrations, in ``cur``'s snapshot."""
    counts = {}
    for table in user_tables(cur):
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cur.fetchone()[0]  # type: ignore[index]  # count(*) always returns one row
    migrations: list[str] = []
    if "django_migrations" in counts:
        cur.execute("SELECT app || '.' || name FROM django_migrations ORDER BY app, name")
        migrations = [row[0] for row in cur.fetchall()]
    return {
        "row_counts": counts,
        "audit": {"table": AUDIT_TABLE, "rows": counts.get(AUDIT_TABLE, 0), "sha256": audit_checksum(cur, counts)},
        "migrations": migrations,
    }


def audit_checksum(cur: psycopg.Cursor, counts: Mapping[str, int]) -> str:
    """SHA-256 over the audit table's rows as PostgreSQL prints them, one a line, in id order.

    Every column counts, so a changed summary, actor or time changes the checksum. Rows are read in batches so a
    large audit table is never held in memory at once.
    """
    digest = hashlib.sha256()
    if AUDIT_TABLE not in counts:
        return digest.hexdigest()
    last_id = 0
    query = sql.SQL("SELECT t.id, t::text FROM {} AS t WHERE t.id > %s ORDER BY t.id LIMIT 5000").format(
        sql.Identifier(AUDIT_TABLE)
    )
    while True:
        cur.execute(query, [last_id])
        rows = cur.fetchall()
        if not rows:
            return digest.hexdigest()
        for row_id, text in rows:
            digest.update(text.encode("utf-8") + b"\n")
            last_id = row_id


def compare(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    """Every difference between a manifest's summary and a restored database's, in words; empty when they match."""
    problems = []
    want_counts, have_counts = expected["row_counts"], got["row_counts"]
    for table in sorted(set(want_counts) | set(have_counts)):
        if table not in have_counts:
            problems.append(f"table {table} is missing from the restored database")
        elif table not in want_counts:
            problems.append(f"table {table} is in the restored database but not in the manifest")
        elif want_counts[table] != have_counts[table]:
            problems.append(f"table {table}: {have_counts[table]} rows restored, {want_counts[table]} backed up")
    if expected["audit"]["sha256"] != got["audit"]["sha256"]:
        problems.append(
            f"audit checksum of {AUDIT_TABLE} differs: restored {got['audit']['sha256']}, "
            f"backed up {expected['audit']['sha256']}"
        )
    if list(expected["migrations"]) != list(got["migrations"]):
        missing = sorted(set(expected["migrations"]) - set(got["migrations"]))
        extra = sorted(set(got["migrations"]) - set(expected["migrations"]))
        problems.append(f"migration state differs (missing: {missing or 'none'}; extra: {extra or 'none'})")
    return problems


# --- Files ---------------------------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name.removesuffix(".dump") + ".manifest.json")


def portal_version() -> str:
    with (BASE_DIR / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def git_commit() -> str:
    """The deployed commit when the portal runs from a git clone, else empty."""
    if not (BASE_DIR / ".git").exists() or shutil.which("git") is None:
        return ""
    result = subprocess.run(  # noqa: S603
        ["git", "-C", str(BASE_DIR), "rev-parse", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 before a tool writes into it: a dump holds every patient's record."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)


# --- The two operations ------------------------------------------------------------------------------------------


def backup(params: Mapping[str, str], output_dir: Path, *, bin_dir: str | None = None, now: datetime | None = None):
    """Dump the database to ``output_dir``; return (dump path, manifest dict). Nothing is left behind on failure."""
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    dump = output_dir / f"{FILE_PREFIX}{stamp}.dump"
    if dump.exists():
        raise BackupError(f"{dump} already exists; wait a second or choose another --output directory.")
    partial = dump.with_name(dump.name + ".partial")
    conninfo, env = tool_environment(params)
    with connect(params) as conn:
        pg_dump = find_tool("pg_dump", server_major(conn), bin_dir)
        with snapshot(conn) as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot_id = cur.fetchone()[0]  # type: ignore[index]  # always one row
            summary = summarise(cur)
            _private_file(partial)
            try:
                result = subprocess.run(  # noqa: S603
                    [
                        pg_dump,
                        "--format=custom",
                        f"--snapshot={snapshot_id}",
                        "--no-password",
                        f"--file={partial}",
                        f"--dbname={conninfo}",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if result.returncode != 0:
                    raise BackupError(f"pg_dump failed (exit {result.returncode}): {result.stderr.strip()}")
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        server_version = conn.info.parameter_status("server_version") or ""
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "dump_file": dump.name,
        "dump_sha256": sha256_file(partial),
        "dump_bytes": partial.stat().st_size,
        "database": params.get("dbname", ""),
        "server_version": server_version,
        "portal_version": portal_version(),
        "git_commit": git_commit(),
        **summary,
    }
    partial.rename(dump)
    # The manifest last: a dump without one is an unfinished backup.
    target = manifest_path(dump)
    _private_file(target)
    target.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return dump, manifest


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"No manifest {path}: the backup is unfinished, or pass --manifest.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(f"The manifest {path} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{path} is not a JAK Portal backup manifest ({MANIFEST_FORMAT}).")
    return manifest


def is_empty(cur: psycopg.Cursor) -> int:
    """The number of tables, views and sequences outside the system schemas (0: a fresh database)."""
    cur.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'"
    )
    return cur.fetchone()[0]  # type: ignore[index]  # count(*) is one row


def verify(
    dump: Path,
    manifest: Mapping[str, Any],
    params: Mapping[str, str],
    *,
    restore: bool = True,
    bin_dir: str | None = None,
) -> dict[str, Any]:
    """Restore ``dump`` into the empty database ``params`` (unless ``restore`` is off) and compare it with the
    manifest. Returns the restored summary; raises BackupError listing every difference."""
    if sha256_file(dump) != manifest["dump_sha256"]:
        raise BackupError(f"{dump.name} does not match the SHA-256 in its manifest: the file was changed or cut off.")
    with connect(params) as conn:
        if restore:
            conn.autocommit = True
            with conn.cursor() as cur:
                objects = is_empty(cur)
            if objects:
                raise BackupError(
                    f"The database {describe(params)} is not empty ({objects} tables, views or sequences). Restore "
                    "into a new empty database (createdb -O <role> <name>), or pass --no-restore to check a database "
                    "restored earlier."
                )
            pg_restore = find_tool("pg_restore", server_major(conn), bin_dir)
            conninfo, env = tool_environment(params)
            result = subprocess.run(  # noqa: S603
                [
                    pg_restore,
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-password",
                    f"--dbname={conninfo}",
                    str(dump),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed (exit {result.returncode}): {result.stderr.strip()}")
        with snapshot(conn) as cur:
            summary = summarise(cur)
    problems = compare(manifest, summary)
    if problems:
        raise BackupError("The restored database does not match the backup:\n  - " + "\n  - ".join(problems))
    return summary
