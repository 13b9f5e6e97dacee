"""The provider's claims: the standard profile ones plus ``groups`` and ``amr``, as a hospital IdP sends them.

A user's Django groups are the ``groups`` claim, except the marker group ``amr:mfa``: its members signed in "with
MFA" (``amr`` ["pwd", "mfa"]); everyone else with a password only (``amr`` ["pwd"]).
"""

from oauth2_provider.oauth2_validators import OAuth2Validator

MFA_GROUP = "amr:mfa"


class GroupsValidator(OAuth2Validator):
    # Which scope releases which claim; groups and amr come with openid itself.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "openid", "amr": "openid"}

    def get_additional_claims(self, request):
        user = request.user
        names = sorted(user.groups.values_list("name", flat=True))
        return {
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "email": user.email,
            "groups": [name for name in names if name != MFA_GROUP],
            "amr": ["pwd", "mfa"] if MFA_GROUP in names else ["pwd"],
        }
