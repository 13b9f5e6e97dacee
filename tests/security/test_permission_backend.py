"""The portal's permission read (portal/security/backends.py): the same answer as Django's ModelBackend, and the
user's roles, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal import roles
from portal.models import User
from portal.security.backends import PortalModelBackend
from tests.factories import make_user


def _fresh(user) -> User:
    return User.objects.get(pk=user.pk)  # no permission or role cache


def _django(user) -> set[str]:
    return ModelBackend().get_all_permissions(_fresh(user))


@pytest.fixture
def mixed(clinic):
    """A nurse who also holds one permission of their own and belongs to a group that is not a role."""
    user = make_user(role=roles.NURSE, clinic=clinic)
    user.user_permissions.add(Permission.objects.get(codename="change_patient"))
    other = Group.objects.create(name="Researchers")
    other.permissions.add(Permission.objects.get(codename="view_auditevent"))
    user.groups.add(other)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("role", roles.ROLES)
def test_each_role_gets_what_django_gives(clinic, role):
    user = make_user(role=role, clinic=clinic)
    assert PortalModelBackend().get_all_permissions(_fresh(user)) == _django(user)
    assert _django(user)  # not trivially equal: every role holds permissions


@pytest.mark.django_db
def test_own_permissions_and_every_group_count(mixed):
    found = PortalModelBackend().get_all_permissions(_fresh(mixed))
    assert found == _django(mixed)
    assert {"patients.change_patient", "portal.view_auditevent", "patients.view_patient"} <= found
    assert "patients.add_patient" not in found


@pytest.mark.django_db
def test_permissions_and_roles_in_one_query(mixed):
    user = _fresh(mixed)
    with CaptureQueriesContext(connection) as ctx:
        assert user.has_perm("patients.view_patient")
        assert not user.has_perm("patients.add_patient")
        assert user.role_names == [roles.NURSE]  # "Researchers" is not a role
    assert len(ctx) == 1
    assert _fresh(mixed).role_names == [roles.NURSE]  # the same as the roles' own query


@pytest.mark.django_db
def test_no_groups_no_permissions(clinic):
    user = make_user(clinic=clinic)
    user.groups.clear()
    fresh = _fresh(user)
    assert fresh.get_all_permissions() == set()
    assert fresh.role_names == []


@pytest.mark.django_db
def test_inactive_users_and_superusers_stay_djangos(clinic, mixed):
    mixed.is_active = False
    mixed.save()
    assert PortalModelBackend().get_all_permissions(_fresh(mixed)) == set()
    boss = User.objects.create_superuser("boss-test", password="x" * 20)  # noqa: S106
    assert PortalModelBackend().get_all_permissions(_fresh(boss)) == _django(boss)
    assert len(_django(boss)) == Permission.objects.count()
