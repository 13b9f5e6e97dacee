"""Encryption at rest for authenticator secrets: Fernet (AES-128-CBC + HMAC-SHA256) with the PORTAL_TOTP_KEY keys.

The first key encrypts; every key decrypts (MultiFernet), so a key is rotated by putting the new key first, running
``manage.py rotate_totp_key`` and then dropping the old key (README "Accounts and security").
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret could not be decrypted with any configured key (wrong or missing PORTAL_TOTP_KEY)."""


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def _current_box() -> MultiFernet:
    return _box(tuple(settings.PORTAL_TOTP_KEYS))


def encrypt(secret: bytes) -> str:
    return _current_box().encrypt(secret).decode("ascii")


def decrypt(token: str) -> bytes:
    try:
        return _current_box().decrypt(token.encode("ascii"))
    except InvalidToken:
        raise SecretUnreadable("An authenticator secret does not decrypt with any key in PORTAL_TOTP_KEY.") from None


def rotate(token: str) -> str:
    """``token`` re-encrypted with the first (newest) key."""
    try:
        return _current_box().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("An authenticator secret does not decrypt with any key in PORTAL_TOTP_KEY.") from None
