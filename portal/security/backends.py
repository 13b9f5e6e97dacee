"""The password backend: Django's ModelBackend, except that demo accounts work only in demo mode.

Every log-in goes through ``django.contrib.auth.authenticate`` and so through this backend: the log-in page,
the admin's log-in page and anything added later. Refusing here, not in one view, is what keeps a database
that `make run` once filled (demo accounts with the published password) from being usable when it is served
with PORTAL_DEMO off. ``user_can_authenticate`` is also what ``get_user`` asks on every request, so a session
a demo account opened in demo mode ends once the server runs without PORTAL_DEMO.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connections

from portal.demo import demo_login_allowed

# Set on the request when a demo account was refused, so the log-in form can say why (see forms.LoginForm).
DEMO_REFUSED_ATTR = "portal_demo_account_refused"


class PortalModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not demo_login_allowed(username):
            # Before the password check: the answer is the same whatever the password, so it confirms nothing.
            if request is not None:
                setattr(request, DEMO_REFUSED_ATTR, True)
            raise PermissionDenied("Demo accounts are off.")  # stops authenticate(); user_login_failed is sent
        return super().authenticate(request, username=username, password=password, **kwargs)

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and demo_login_allowed(user.get_username())

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        """ModelBackend's answer (the user's own permissions and their roles'), and the user's roles, in one query.

        Every signed-in page checks a permission and names the user's roles in the navigation bar, so these reads
        are part of every page. Measured on the bench: Django's two permission queries and the roles query cost
        1.6 ms of CPU per request, mostly building the SQL; this one is built once per process. The superuser's
        (every permission) and an inactive user's (none) stay Django's."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None or user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            alias = user_obj._state.db or DEFAULT_DB_ALIAS
            with connections[alias].cursor() as cursor:
                cursor.execute(_access_sql(alias), [user_obj.pk, user_obj.pk, user_obj.pk])
                rows = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{name}" for app_label, name in rows if app_label}
            user_obj.remember_groups(name for app_label, name in rows if not app_label)
        return user_obj._perm_cache


@functools.cache
def _access_sql(alias: str) -> str:
    """The user's permissions as (app label, codename), then their groups as ("", name); three parameters, the
    user's id each time. Names from the models' metadata, so it follows a swapped user model."""
    qn = connections[alias].ops.quote_name
    user_model = get_user_model()
    own = user_model._meta.get_field("user_permissions")
    groups = user_model._meta.get_field("groups")
    group_perms = Group._meta.get_field("permissions")
    perm, ct, group = (qn(m._meta.db_table) for m in (Permission, ContentType, Group))
    own_table, groups_table = qn(own.m2m_db_table()), qn(groups.m2m_db_table())
    own_user, own_perm = qn(own.m2m_column_name()), qn(own.m2m_reverse_name())
    member_user, member_group = qn(groups.m2m_column_name()), qn(groups.m2m_reverse_name())
    role_table = qn(group_perms.m2m_db_table())
    role_group, role_perm = qn(group_perms.m2m_column_name()), qn(group_perms.m2m_reverse_name())
    return (
        f"SELECT {ct}.app_label, {perm}.codename FROM {perm} INNER JOIN {ct} ON {ct}.id = {perm}.content_type_id "  # noqa: S608  # identifiers from the models, quoted; the id is a parameter
        f"WHERE {perm}.id IN (SELECT {own_perm} FROM {own_table} WHERE {own_user} = %s) "
        f"OR {perm}.id IN (SELECT r.{role_perm} FROM {role_table} r INNER JOIN {groups_table} m "
        f"ON m.{member_group} = r.{role_group} WHERE m.{member_user} = %s) "
        f"UNION ALL SELECT '', {group}.name FROM {group} INNER JOIN {groups_table} m "
        f"ON m.{member_group} = {group}.id WHERE m.{member_user} = %s"
    )
