"""Synthetic test data only: no real people."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group

from portal.models import User

_counter = itertools.count(1)
TEST_PASSWORD = "correct-horse-battery-staple-42"


def make_user(*, role: str | None = None, username: str | None = None, **fields) -> User:
    n = next(_counter)
    user = User.objects.create_user(
        username=username or f"staff{n}",
        password=TEST_PASSWORD,
        first_name=fields.pop("first_name", "Test"),
        last_name=fields.pop("last_name", f"Staff{n}"),
        **fields,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user
