"""The CDS Hooks 2.0 JWT: an EHR signs each call with its private key (``Authorization: Bearer <JWT>``) and the
service checks it with the EHR's public key, configured in PORTAL_CDS_JWT_ISSUERS (README "CDS Hooks safety check").

PyJWT verifies the signature and the claims; this module only picks the key, the audience and the replay check.
Keys come from a file the operator installed, never from a ``jku`` URL in the token: the service does not fetch
keys from addresses a caller names.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import jwt
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from interfaces import tokens
from interfaces.endpoint import Caller, Denied
from interfaces.models import InterfaceToken
from portal.env import join_url

# Asymmetric algorithms only (CDS Hooks: the client SHOULD use ES384 or RS384); never "none" or a shared secret.
ALGORITHMS = ["ES384", "RS384", "ES256", "RS256", "ES512", "RS512"]
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
LEEWAY_SECONDS = 30  # clock difference between the EHR and the portal


def _keys(key_file: str, kid: str | None) -> list:
    """The issuer's public keys: from a JWKS file, those with the token's ``kid`` (all when it has none); from a
    PEM file, its one key."""
    text = Path(key_file).read_text()
    if text.lstrip().startswith("{"):
        found = [k for k in jwt.PyJWKSet.from_json(text).keys if kid is None or k.key_id == kid]
        return [k.key for k in found]
    return [text]


def _decode(secret: str, keys: list, *, issuer: str, audience: str) -> dict:
    for key in keys:
        try:
            return jwt.decode(
                secret,
                key,
                algorithms=ALGORITHMS,
                audience=audience,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidSignatureError:
            continue  # another of the issuer's keys may have signed it
        except jwt.ExpiredSignatureError:
            raise Denied("The JWT has expired.") from None
        except jwt.InvalidAudienceError:
            raise Denied(f"The JWT's audience (aud) must be {audience}.") from None
        except jwt.PyJWTError as exc:
            raise Denied(f"The JWT is not valid ({type(exc).__name__}).") from None
    raise Denied("The JWT's signature does not match the issuer's key.")


def cds_jwt_caller(request: HttpRequest) -> Caller | None:
    """The caller a CDS Hooks JWT names, None when JWTs are not configured or the bearer value is not a JWT, or
    ``Denied`` with the reason (unknown issuer, bad signature, expired, wrong audience, replayed ``jti``)."""
    issuers = settings.PORTAL_CDS_JWT_ISSUERS
    secret = tokens.bearer_secret(request)
    if not issuers or secret is None or secret.count(".") != 2:
        return None
    try:
        header = jwt.get_unverified_header(secret)
        issuer = jwt.decode(secret, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise Denied("The JWT cannot be read.") from None
    if not isinstance(issuer, str) or issuer not in issuers:
        raise Denied("The JWT's issuer (iss) is not configured in PORTAL_CDS_JWT_ISSUERS.")
    config = issuers[issuer]
    try:
        keys = _keys(config["key_file"], header.get("kid"))
    except (OSError, ValueError, jwt.PyJWKError, jwt.PyJWKSetError):
        raise Denied("The issuer's public key file cannot be read.") from None
    claims = _decode(secret, keys, issuer=issuer, audience=join_url(settings.PORTAL_BASE_URL, request.path))
    # Each JWT once (jti), remembered until it expires: a copied token cannot be replayed.
    seen_for = max(1, int(claims["exp"] - time.time()) + LEEWAY_SECONDS)
    key = "interfaces:cds:jti:" + hashlib.sha256(f"{issuer}\n{claims['jti']}".encode()).hexdigest()
    if not cache.add(key, 1, timeout=seen_for):
        raise Denied("The JWT was used before (jti).")
    token = (
        InterfaceToken.objects.select_related("clinic").filter(name=config["token"], revoked_at__isnull=True).first()
    )
    if token is None:
        raise Denied("The interface token this issuer is configured with is missing or revoked.")
    return Caller(clinic=token.clinic, token=token)
