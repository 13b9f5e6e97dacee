"""portal.idurls.id_url gives exactly what reverse() gives, under a script prefix too."""

import uuid

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from portal.idurls import id_url

NAMES = ["patients:detail", "patients:screening", "therapy:course", "monitoring:lab_entry", "monitoring:alert"]


@pytest.mark.parametrize("name", NAMES)
def test_same_as_reverse(name):
    public_id = uuid.uuid4()
    assert id_url(name, public_id) == reverse(name, args=[public_id])


def test_follows_the_script_prefix():
    public_id = uuid.uuid4()
    try:
        set_script_prefix("/portal/")
        assert id_url("patients:detail", public_id) == f"/portal/patients/{public_id}/"
    finally:
        clear_script_prefix()
    assert id_url("patients:detail", public_id) == f"/patients/{public_id}/"


def test_refuses_a_url_without_one_public_id():
    with pytest.raises(Exception):  # noqa: B017, PT011  # NoReverseMatch or ValueError: either is a refusal
        id_url("patients:list", uuid.uuid4())
