"""Print a one-time enrolment code for an account, so it can set up two-step log-in (the first superuser too)."""

from django.core.management import BaseCommand, CommandError

from portal.models import User
from portal.security import twofactor


class Command(BaseCommand):
    help = (
        "Issue a one-time enrolment code for USERNAME (earlier unused codes stop working) and print it. The account "
        "enters it at log-in before setting up its authenticator app. Audited; the user is emailed."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No account named {options['username']!r}.") from None
        if not user.is_active:
            raise CommandError(f"The account {user.username!r} is deactivated; activate it first.")
        code, expires = twofactor.enrolment_code_issue(actor=None, user=user)
        self.stdout.write(f"Enrolment code for {user.username}: {code}")
        self.stdout.write(f"Valid once, until {expires:%Y-%m-%d %H:%M} UTC. Give it to the user in person or by phone.")
