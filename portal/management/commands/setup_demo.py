"""Everything `make run` needs after migrate: the catalogue, demo accounts and the demo clinic (idempotent)."""

from django.conf import settings
from django.core.management import BaseCommand, call_command, get_commands

from portal.demo import demo_accounts_ensure

# Steps added by the apps, run in order when the command exists: (command name, needs PORTAL_DEMO).
STEPS = (
    ("load_catalogue", False),
    ("seed_demo_clinic", True),
)


class Command(BaseCommand):
    help = "Load the catalogue and, with PORTAL_DEMO on, the demo accounts and synthetic demo clinic."

    def handle(self, *args, **options):
        available = get_commands()
        for name, demo_only in STEPS:
            if demo_only and not settings.PORTAL_DEMO:
                continue
            if name in available:
                call_command(name, verbosity=options["verbosity"])
        if settings.PORTAL_DEMO:
            users = demo_accounts_ensure()
            self.stdout.write(f"Demo accounts ready: {', '.join(u.username for u in users)}")
        else:
            self.stdout.write("PORTAL_DEMO is off: catalogue loaded; no demo accounts or demo data created.")
