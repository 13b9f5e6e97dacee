"""portal.idempotency.guard: the replay / claim / release / complete protocol in one place."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.test import RequestFactory

from portal import idempotency
from portal.errors import DomainError
from portal.models import IdempotencyKey
from tests.factories import make_user

SCOPE = "test:create"

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return make_user()


def _post(user, key=None):
    data = {idempotency.FIELD: str(key)} if key else {}
    request = RequestFactory().post("/things/new/", data)
    request.user = user
    return request


def _refused_write(request, error: Exception, *, claim: bool = True, complete: str = "") -> None:
    """A view body: claim (or not), maybe complete, then the service raises ``error``."""
    with idempotency.guard(request, SCOPE) as submission:
        if claim:
            assert submission.claim() is None
        if complete:
            submission.complete(complete)
        raise error


def test_a_get_has_no_earlier_submission_and_stores_nothing(user):
    request = RequestFactory().get("/things/new/")
    request.user = user
    with idempotency.guard(request, SCOPE) as submission:
        assert submission.earlier is None
    assert not IdempotencyKey.objects.exists()


def test_first_submission_claims_and_completes_then_a_resent_form_finds_it(user):
    key = uuid.uuid4()
    with idempotency.guard(_post(user, key), SCOPE) as submission:
        assert submission.earlier is None
        assert submission.claim() is None
        assert submission.complete("/things/1/") == "/things/1/"
    with idempotency.guard(_post(user, key), SCOPE) as again:
        assert again.earlier == "/things/1/"  # before validating
    with idempotency.guard(_post(user, key), "other:scope") as elsewhere:
        assert elsewhere.earlier is None


def test_a_twin_that_finished_while_this_one_was_validated_is_seen_after_validation(user):
    key = uuid.uuid4()
    with idempotency.guard(_post(user, key), SCOPE) as submission:
        assert submission.earlier is None  # before validating: nothing yet
        IdempotencyKey.objects.create(key=key, scope=SCOPE, user=user, result_url="/things/1/")  # the twin
        assert submission.earlier == "/things/1/"  # after validating


@pytest.mark.parametrize("result_url", ["/things/1/", ""])
def test_racing_twin_gets_the_first_ones_answer_from_claim(user, result_url):
    key = uuid.uuid4()
    IdempotencyKey.objects.create(key=key, scope=SCOPE, user=user, result_url=result_url)
    with idempotency.guard(_post(user, key), SCOPE) as submission:
        first = submission.claim()
    assert first == (result_url or "/things/new/")
    assert submission.earlier == first
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("error", [DomainError("Refused."), ValidationError("Invalid.")])
def test_a_refused_write_releases_the_claim_so_the_form_can_be_sent_again(user, error):
    key = uuid.uuid4()
    with pytest.raises(type(error)):
        _refused_write(_post(user, key), error)
    assert not IdempotencyKey.objects.exists()
    with idempotency.guard(_post(user, key), SCOPE) as again:
        assert again.earlier is None
        assert again.claim() is None


def test_other_errors_and_completed_submissions_are_not_released(user):
    key = uuid.uuid4()
    with pytest.raises(RuntimeError):
        _refused_write(_post(user, key), RuntimeError("a bug: the request transaction rolls back instead"))
    assert IdempotencyKey.objects.filter(key=key).exists()
    done = uuid.uuid4()
    with pytest.raises(DomainError):
        _refused_write(_post(user, done), DomainError("after the write"), complete="/things/2/")
    assert IdempotencyKey.objects.get(key=done).result_url == "/things/2/"


def test_an_unclaimed_submission_releases_nothing_of_another(user):
    key = uuid.uuid4()
    IdempotencyKey.objects.create(key=key, scope=SCOPE, user=user)  # claimed by a twin still writing
    with pytest.raises(DomainError):
        _refused_write(_post(user, key), DomainError("refused before claiming"), claim=False)
    assert IdempotencyKey.objects.filter(key=key).exists()


def test_forms_without_a_token_stay_unprotected(user):
    with idempotency.guard(_post(user), SCOPE) as submission:
        assert submission.earlier is None
        assert submission.claim() is None
        submission.complete("/things/1/")
    assert not IdempotencyKey.objects.exists()


def test_a_token_of_another_user_is_refused(user):
    key = uuid.uuid4()
    IdempotencyKey.objects.create(key=key, scope=SCOPE, user=make_user())
    with pytest.raises(SuspiciousOperation):
        _refused_write(_post(user, key), DomainError("never reached"))
