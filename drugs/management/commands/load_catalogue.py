from pathlib import Path

from django.core.management import BaseCommand, CommandError

from drugs.seed import SEED_PATH, SeedError, load_seed, read_seed
from drugs.updates import UpdateError, UpdateReport, apply_updates


class Command(BaseCommand):
    help = (
        "Load the drug catalogue seed file, then the versioned catalogue updates in drugs/data/updates/ "
        "(idempotent: existing entries and admin edits are kept; each update is applied once, as a catalogue version)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=SEED_PATH, help="TOML seed file (default: the bundled one)")

    def handle(self, *args, **options):
        try:
            report = load_seed(read_seed(options["file"]))
            # The updates correct the bundled seed; a custom seed file (tests, a local catalogue) gets none.
            updates = apply_updates() if options["file"] == SEED_PATH else UpdateReport()
        except (SeedError, UpdateError, OSError, ValueError) as exc:
            raise CommandError(f"Catalogue not loaded: {exc}") from None
        if options["verbosity"]:
            self.stdout.write(
                f"Catalogue: {len(report.drugs_created)} drugs loaded, {len(report.drugs_kept)} already present; "
                f"{report.lab_tests_created} lab tests, {report.classes_created} drug classes, "
                f"{report.medicines_created} medicines added; {report.sources} sources."
            )
            if updates.applied:
                self.stdout.write(f"Catalogue updates applied: {', '.join(updates.applied)}.")
            for line in updates.skipped:
                self.stdout.write(f"Catalogue update row left alone: {line}")
