"""manage.py hl7_listen --port N [--host 127.0.0.1] --token-name NAME: the MLLP listener for one lab's token."""

import asyncio
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from interfaces.hl7v2.mllp import Listener
from interfaces.models import InterfaceToken

NAME_ENV = "PORTAL_HL7_TOKEN_NAME"  # a token's name, not its secret


class Command(BaseCommand):
    help = (
        "Receive ORU^R01 lab results over MLLP (TCP) for one interface token, answering each with its ACK. "
        "The token's clinic is where the messages' patients are matched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, required=True, help="TCP port to listen on (e.g. 2575)")
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default: loopback only)")
        parser.add_argument(
            "--token-name",
            default=os.environ.get(NAME_ENV, ""),
            help=f"The interface token the messages are received for (default: ${NAME_ENV})",
        )

    def handle(self, *args, **options):
        name = (options["token_name"] or "").strip()
        if not name:
            raise CommandError(f"Give --token-name NAME (or set {NAME_ENV}); create one with interface_token create.")
        token = InterfaceToken.objects.select_related("clinic").filter(name=name).first()
        if token is None or not token.is_active:
            raise CommandError(f"No active interface token is named {name!r} (see: manage.py interface_token list).")
        if not 0 <= options["port"] <= 65535:
            raise CommandError("The port must be between 0 and 65535.")
        listener = Listener(
            token_name=name, host=options["host"], port=options["port"], max_bytes=settings.PORTAL_INTERFACE_MAX_BYTES
        )

        async def run():
            await listener.start()
            self.stdout.write(
                f"Listening for HL7 v2 (MLLP) on {options['host']}:{listener.port} for token {name} "
                f"({token.clinic.name}); at most {settings.PORTAL_INTERFACE_MAX_BYTES} bytes a message.",
            )
            self.stdout.flush()
            await listener.serve()

        try:
            asyncio.run(run())
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
