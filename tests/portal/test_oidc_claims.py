"""The claim rules of single sign-on (portal/oidc_claims.py), table by table."""

import pytest

from portal.oidc_claims import Refusal, claim_values, decide, mfa_asserted

ROLE_MAP = {"jak-derm": "dermatologist", "jak-nurse": "nurse", "jak-catalogue": "catalogue_admin"}
CLINIC_MAP = {"jak-clinic-north": "North Dermatology Clinic", "jak-clinic-south": "South Skin Unit"}
AMR = ("mfa", "otp", "hwk")


def run(claims, *, clinic_map=CLINIC_MAP, acr=()):
    return decide(
        claims,
        groups_claim="groups",
        role_map=ROLE_MAP,
        clinic_claim="groups",
        clinic_map=clinic_map,
        amr_values=AMR,
        acr_values=acr,
    )


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"groups": ["a", "b"]}, ["a", "b"]),
        ({"groups": "a"}, ["a"]),  # a single value as a string
        ({"groups": ["a", 3, None]}, ["a"]),  # non-strings dropped
        ({"groups": {"a": 1}}, []),
        ({}, []),
    ],
)
def test_claim_values(claims, expected):
    assert claim_values(claims, "groups") == expected


@pytest.mark.parametrize(
    ("claims", "acr", "expected"),
    [
        ({"amr": ["pwd", "mfa"]}, (), True),
        ({"amr": ["pwd", "otp"]}, (), True),
        ({"amr": ["hwk"]}, (), True),
        ({"amr": ["pwd"]}, (), False),
        ({"amr": "mfa"}, (), True),
        ({}, (), False),
        ({"acr": "urn:hospital:loa:2"}, ("urn:hospital:loa:2",), True),
        ({"acr": "urn:hospital:loa:1"}, ("urn:hospital:loa:2",), False),
        ({"acr": "urn:hospital:loa:2"}, (), False),  # acr counts only when PORTAL_OIDC_MFA_ACR names it
        ({"amr": ["pwd"], "acr": "0"}, ("urn:hospital:loa:2",), False),
    ],
)
def test_mfa_asserted(claims, acr, expected):
    assert mfa_asserted(claims, amr_values=AMR, acr_values=acr) is expected


def test_roles_and_clinic_from_the_groups():
    decision = run({"groups": ["staff", "jak-derm", "jak-clinic-north"], "amr": ["pwd", "mfa"]})
    assert decision.refusal is None
    assert decision.roles == ("dermatologist",)
    assert decision.clinic == "North Dermatology Clinic"
    assert decision.mfa is True


def test_two_roles_are_both_given():
    decision = run({"groups": ["jak-nurse", "jak-catalogue", "jak-clinic-south", "jak-nurse"]})
    assert decision.roles == ("nurse", "catalogue_admin")
    assert decision.clinic == "South Skin Unit"


@pytest.mark.parametrize(
    ("groups", "refusal"),
    [
        (["finance", "jak-clinic-north"], Refusal.NO_ROLE),
        ([], Refusal.NO_ROLE),
        (["jak-derm"], Refusal.NO_CLINIC),  # a dermatologist needs a clinic
        (["jak-nurse"], Refusal.NO_CLINIC),
        (["jak-derm", "jak-clinic-north", "jak-clinic-south"], Refusal.TWO_CLINICS),
    ],
)
def test_refusals(groups, refusal):
    assert run({"groups": groups}).refusal is refusal


def test_a_catalogue_admin_needs_no_clinic():
    decision = run({"groups": ["jak-catalogue"]})
    assert decision.refusal is None
    assert decision.clinic is None


def test_without_a_clinic_map_the_clinic_is_left_alone():
    decision = run({"groups": ["jak-derm"]}, clinic_map={})
    assert decision.refusal is None
    assert decision.clinic is None
