"""Create the provider's users and the portal's client registration: ``python -m tests.oidc_provider.seed``.

Reads from the environment: OIDC_PROVIDER_CLIENT_ID, OIDC_PROVIDER_CLIENT_SECRET, OIDC_PROVIDER_REDIRECT_URI,
OIDC_PROVIDER_LOGOUT_REDIRECT_URI and OIDC_PROVIDER_USERS (JSON: [{"username", "password", "first_name",
"last_name", "email", "groups"}]).
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

for row in json.loads(os.environ["OIDC_PROVIDER_USERS"]):
    user = User.objects.create_user(
        row["username"],
        email=row["email"],
        password=row["password"],
        first_name=row["first_name"],
        last_name=row["last_name"],
    )
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in row["groups"]])

Application.objects.create(
    name="JAK Portal",
    client_id=os.environ["OIDC_PROVIDER_CLIENT_ID"],
    client_secret=os.environ["OIDC_PROVIDER_CLIENT_SECRET"],
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=os.environ["OIDC_PROVIDER_REDIRECT_URI"],
    post_logout_redirect_uris=os.environ["OIDC_PROVIDER_LOGOUT_REDIRECT_URI"],
    algorithm=Application.RS256_ALGORITHM,
    skip_authorization=False,
)
