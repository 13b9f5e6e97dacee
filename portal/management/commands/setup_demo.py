"""Everything `make run` needs after migrate: the catalogue, demo accounts and the demo clinic (idempotent)."""

from django.conf import settings
from django.core.management import BaseCommand, call_command

from portal.demo import demo_accounts_ensure


class Command(BaseCommand):
    help = "Load the catalogue and, with PORTAL_DEMO on, the demo accounts and the synthetic demo clinic."

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        call_command("load_catalogue", verbosity=verbosity)
        if not settings.PORTAL_DEMO:
            self.stdout.write("PORTAL_DEMO is off: catalogue loaded; no demo accounts or demo data created.")
            return
        users = demo_accounts_ensure()
        call_command("seed_demo_clinic", verbosity=verbosity)
        call_command("seed_demo_therapy", verbosity=verbosity)
        call_command("seed_demo_monitoring", verbosity=verbosity)
        self.stdout.write(f"Demo accounts ready: {', '.join(u.username for u in users)}")
