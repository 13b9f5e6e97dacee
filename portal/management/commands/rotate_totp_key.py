"""Re-encrypt every authenticator secret with the first key in PORTAL_TOTP_KEY (key rotation)."""

from django.core.management import BaseCommand

from portal.security import twofactor


class Command(BaseCommand):
    help = (
        "Re-encrypt the stored authenticator secrets with the first (newest) key in PORTAL_TOTP_KEY. Put the new key "
        "first, keep the old one after it, run this, then remove the old key."
    )

    def handle(self, *args, **options):
        count = twofactor.totp_keys_rotate()
        self.stdout.write(f"Re-encrypted {count} authenticator secret(s) with the first key in PORTAL_TOTP_KEY.")
