"""``manage.py backup``: pg_dump of the configured PostgreSQL database with a manifest (portal/backup.py)."""

from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import connections

from portal import backup


class Command(BaseCommand):
    help = (
        "Dump the PostgreSQL database (pg_dump custom format) to --output as jak-portal-YYYYmmdd-HHMMSS.dump, with "
        "a manifest beside it: row counts per table, the audit table's SHA-256, the migrations, the portal version. "
        "Check a backup with manage.py verify_backup."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            type=Path,
            default=settings.BASE_DIR / "var" / "backups",
            help="Directory for the dump and its manifest (created with mode 0700). Default: var/backups.",
        )
        parser.add_argument(
            "--pg-bin-dir",
            help="Directory holding pg_dump (default: /usr/lib/postgresql/<server version>/bin, then PATH).",
        )

    def handle(self, *args, **options):
        try:
            params = backup.connection_params(connections["default"].settings_dict)
            dump, manifest = backup.backup(params, options["output"], bin_dir=options["pg_bin_dir"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(f"Backup written: {dump} ({manifest['dump_bytes']} bytes)")
        self.stdout.write(f"Manifest: {backup.manifest_path(dump)}")
        self.stdout.write(
            f"{len(manifest['row_counts'])} tables, {rows} rows, {manifest['audit']['rows']} audit rows, "
            f"audit SHA-256 {manifest['audit']['sha256']}"
        )
