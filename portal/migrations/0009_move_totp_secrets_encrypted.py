"""Move every django-otp TOTPDevice into AuthenticatorDevice with its secret encrypted (PORTAL_TOTP_KEY), then
delete the plain-text rows. Sessions verified with an old device ask for a code again."""

from django.db import migrations

_COPIED = (
    "user_id",
    "name",
    "confirmed",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "created_at",
    "last_used_at",
)


def encrypt_and_move(apps, schema_editor):
    from portal.security import secretbox

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AuthenticatorDevice = apps.get_model("portal", "AuthenticatorDevice")
    for old in TOTPDevice.objects.order_by("pk").iterator():
        AuthenticatorDevice.objects.create(
            encrypted_key=secretbox.encrypt(bytes.fromhex(old.key)), **{f: getattr(old, f) for f in _COPIED}
        )
    TOTPDevice.objects.all().delete()


def decrypt_and_move_back(apps, schema_editor):
    from portal.security import secretbox

    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    AuthenticatorDevice = apps.get_model("portal", "AuthenticatorDevice")
    for new in AuthenticatorDevice.objects.order_by("pk").iterator():
        TOTPDevice.objects.create(
            key=secretbox.decrypt(new.encrypted_key).hex(), **{f: getattr(new, f) for f in _COPIED}
        )
    AuthenticatorDevice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0008_authenticator_device_enrolment_code"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(encrypt_and_move, decrypt_and_move_back)]
