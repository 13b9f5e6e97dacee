import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse

from portal import roles
from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_accounts_ensure
from portal.models import User


@pytest.mark.django_db
def test_migrations_create_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Dermatologist", "Nurse", "Catalogue admin"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", roles.ROLES)
def test_role_permissions_match_the_policy_table(role):
    group = Group.objects.get(name=role)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted == set(roles.ROLE_PERMISSIONS[role])


@pytest.mark.django_db
@pytest.mark.parametrize("role", roles.ROLES)
def test_user_permissions_follow_the_role(role, django_user_model):
    from tests.factories import make_user

    user = make_user(role=role)
    user = User.objects.get(pk=user.pk)  # fresh permission cache
    assert user.role_names == [role]
    for perm in roles.ROLE_PERMISSIONS[role]:
        assert user.has_perm(perm)
    others = {p for r, perms in roles.ROLE_PERMISSIONS.items() if r != role for p in perms}
    for perm in others - set(roles.ROLE_PERMISSIONS[role]):
        assert not user.has_perm(perm)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fixture", "role"), [("derm", "Dermatologist"), ("nurse", "Nurse"), ("catalogue_admin", "Catalogue admin")]
)
def test_home_page_names_the_role(client, request, fixture, role):
    client.force_login(request.getfixturevalue(fixture))
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert f"Your role: {role}".encode() in response.content


@pytest.mark.django_db
def test_home_page_for_user_without_role(client, no_role_user):
    client.force_login(no_role_user)
    assert b"has no role yet" in client.get(reverse("portal:home")).content


@pytest.mark.django_db
def test_admin_is_for_superusers_only(client, derm, superuser):
    client.force_login(derm)
    assert client.get("/admin/").status_code == 302
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/portal/user/").status_code == 200


@pytest.mark.django_db
def test_nav_shows_admin_link_only_to_superusers(client, derm, superuser):
    client.force_login(derm)
    assert b"Django admin" not in client.get(reverse("portal:home")).content
    client.force_login(superuser)
    assert b"Django admin" in client.get(reverse("portal:home")).content


@pytest.mark.django_db
def test_demo_accounts_only_in_demo_mode(settings):
    settings.PORTAL_DEMO = False
    with pytest.raises(ImproperlyConfigured):
        demo_accounts_ensure()
    assert not User.objects.filter(username__startswith="demo-").exists()


@pytest.mark.django_db
def test_demo_accounts_are_idempotent_and_can_log_in(client, settings):
    settings.PORTAL_DEMO = True
    call_command("setup_demo", verbosity=0)
    call_command("setup_demo", verbosity=0)
    assert User.objects.filter(username__startswith="demo-").count() == 3
    for username, _first, _last, role in DEMO_ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.role_names == [role]
        # Through the real log-in page: django-axes needs the request that Client.login() does not pass.
        response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302
        assert client.get(reverse("portal:home")).status_code == 200


@pytest.mark.django_db
def test_dermatologists_of_a_clinic():
    from tests.factories import make_clinic, make_user

    clinic, other = make_clinic(), make_clinic()
    second = make_user(role=roles.DERMATOLOGIST, clinic=clinic, last_name="Zed")
    first = make_user(role=roles.DERMATOLOGIST, clinic=clinic, last_name="Abel")
    first.groups.add(Group.objects.get(name=roles.NURSE))  # two roles: still listed once
    make_user(role=roles.NURSE, clinic=clinic)
    make_user(role=roles.DERMATOLOGIST, clinic=other)
    assert list(User.objects.dermatologists_of(clinic.pk)) == [first, second]
    assert list(User.objects.dermatologists_of(None)) == []


@pytest.mark.django_db
def test_dermatologists_of_a_clinic_are_its_own_by_name_each_once():
    from tests.factories import make_clinic, make_user

    clinic, other = make_clinic(), make_clinic()
    zed = make_user(role=roles.DERMATOLOGIST, clinic=clinic, first_name="Ann", last_name="Zed")
    abe = make_user(role=roles.DERMATOLOGIST, clinic=clinic, first_name="Bob", last_name="Abe")
    abe.groups.add(Group.objects.get(name=roles.NURSE))  # a second role does not list him twice
    make_user(role=roles.NURSE, clinic=clinic)
    elsewhere = make_user(role=roles.DERMATOLOGIST, clinic=other)
    assert list(User.objects.dermatologists_of(clinic.pk)) == [abe, zed]
    assert list(User.objects.dermatologists_of(other.pk)) == [elsewhere]  # the query built once serves every clinic
    assert list(User.objects.dermatologists_of(None)) == []
    assert list(User.objects.dermatologists_of(clinic.pk).filter(is_active=True).values_list("pk", flat=True)) == [
        abe.pk,
        zed.pk,
    ]


@pytest.mark.django_db
def test_dermatologist_choices_name_them_as_str_does():
    from portal.models import dermatologist_choices
    from tests.factories import make_clinic, make_user

    clinic = make_clinic()
    named = make_user(role=roles.DERMATOLOGIST, clinic=clinic, first_name="Ada", last_name="Abel")
    unnamed = make_user(role=roles.DERMATOLOGIST, clinic=clinic, first_name="", last_name="")
    make_user(role=roles.NURSE, clinic=clinic)
    expected = [(u.pk, str(u)) for u in User.objects.dermatologists_of(clinic.pk)]
    assert dermatologist_choices(clinic.pk) == expected
    assert dict(expected) == {named.pk: "Ada Abel", unnamed.pk: unnamed.username}
    assert dermatologist_choices(None) == []
