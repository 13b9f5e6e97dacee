"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit with OIDC on.

Its own Django project (settings, URLs, SQLite database in a temporary folder), run by tests/portal/oidc_live.py in
a subprocess with ``manage.py runserver``-style serving on a loopback port. Never part of the portal.
"""
