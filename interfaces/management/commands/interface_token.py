"""manage.py interface_token create --name NAME --clinic "CLINIC" | list | revoke --name NAME"""

from django.core.management.base import BaseCommand, CommandError

from interfaces import tokens
from interfaces.models import InterfaceToken
from portal.models import Clinic


class Command(BaseCommand):
    help = "Create, list or revoke the bearer tokens labs and EHRs use for the interfaces."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token; prints it once, on the last line.")
        create.add_argument("--name", required=True)
        create.add_argument("--clinic", required=True, help="The clinic's name, exactly as in the portal")
        sub.add_parser("list", help="List the tokens (never the secrets).")
        revoke = sub.add_parser("revoke", help="Revoke a token at once.")
        revoke.add_argument("--name", required=True)

    def handle(self, *args, **options):
        action = options["action"]
        try:
            if action == "create":
                clinic = Clinic.objects.filter(name=options["clinic"]).first()
                if clinic is None:
                    names = ", ".join(Clinic.objects.values_list("name", flat=True)) or "none"
                    raise CommandError(f"No clinic is named {options['clinic']!r} (clinics: {names}).")
                new = tokens.create_token(name=options["name"], clinic=clinic)
                self.stdout.write(f"Token {new.token.name} for {clinic.name}. Store it now; it is not shown again:")
                self.stdout.write(new.secret)
            elif action == "revoke":
                token = tokens.revoke_token(name=options["name"])
                self.stdout.write(f"Token {token.name} revoked.")
            else:
                for token in InterfaceToken.objects.select_related("clinic"):
                    state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
                    used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                    self.stdout.write(f"{token.name}\t{token.clinic.name}\t{token.prefix}…\t{state}\tlast used {used}")
        except tokens.TokenError as exc:
            raise CommandError(str(exc)) from exc
