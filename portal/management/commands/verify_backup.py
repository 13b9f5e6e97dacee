"""``manage.py verify_backup``: restore a backup into an empty database and compare it with its manifest."""

from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError

from portal import backup
from portal.env import ConfigError, parse_database_url


class Command(BaseCommand):
    help = (
        "Restore DUMP (from manage.py backup) with pg_restore into the EMPTY database --database-url, then compare "
        "the row count of every table, the audit table's SHA-256 and the migrations with the manifest. Fails on any "
        "difference. The restored database is left in place: it is a usable restore."
    )

    def add_arguments(self, parser):
        parser.add_argument("dump", type=Path, help="The .dump file; its .manifest.json is read from beside it.")
        parser.add_argument(
            "--database-url",
            required=True,
            help="postgres://user:password@host:port/name of an empty database to restore into.",
        )
        parser.add_argument("--manifest", type=Path, help="The manifest, if it is not beside the dump.")
        parser.add_argument(
            "--no-restore",
            action="store_true",
            help="Do not restore: compare a database restored earlier with the manifest.",
        )
        parser.add_argument(
            "--pg-bin-dir",
            help="Directory holding pg_restore (default: /usr/lib/postgresql/<server version>/bin, then PATH).",
        )

    def handle(self, *args, **options):
        dump = options["dump"]
        if not dump.is_file():
            raise CommandError(f"No backup file {dump}.")
        try:
            target = parse_database_url(options["database_url"], base_dir=settings.BASE_DIR)
        except ConfigError as exc:
            raise CommandError(str(exc).replace("DATABASE_URL", "--database-url")) from None
        try:
            params = backup.connection_params(target)
            manifest = backup.load_manifest(options["manifest"] or backup.manifest_path(dump))
            summary = backup.verify(
                dump, manifest, params, restore=not options["no_restore"], bin_dir=options["pg_bin_dir"]
            )
        except backup.BackupError as exc:
            raise CommandError(f"Backup verification FAILED.\n{exc}") from None
        rows = sum(summary["row_counts"].values())
        action = "Checked" if options["no_restore"] else "Restored"
        self.stdout.write(
            f"{action} {dump.name} into {backup.describe(params)}: {len(summary['row_counts'])} tables and {rows} "
            f"rows match the manifest, audit SHA-256 {summary['audit']['sha256']} matches, "
            f"{len(summary['migrations'])} migrations match. Backup verified."
        )
