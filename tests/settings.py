"""Test settings: production settings with a fixed test key, a fast hasher and plain static storage."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")
os.environ.setdefault("PORTAL_TOTP_KEY", "dGVzdC1vbmx5IFRPVFAga2V5LCBub3QgZm9yIHByb2Q=")  # 32 bytes, tests only
# Production requires these two (issue 18); the tests run production settings on SQLite unless DATABASE_URL is set.
os.environ.setdefault("DATABASE_URL", "sqlite:///var/portal.sqlite3")
os.environ.setdefault("PORTAL_BASE_URL", "https://portal.test.invalid")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP; the deploy check covers the redirect
PORTAL_REQUIRE_2FA = False  # production default is on; tests/security flips it back on to test the flow

if "bench" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405  # tests/bench builds a small bench clinic
