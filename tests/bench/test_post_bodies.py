"""The benchmark's POST pages send a body of their own with every request, so every request is a save.

Without that, wrk's second request onwards measured a refusal: a CBC panel already recorded that day answers 200
with the form, and a repeated one-time token is answered with a redirect to the first save (nothing stored)."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bench.management.commands.bench_data import bench_users
from bench.pages import CBC_VARIANTS, PAGES, ClientRequests, bench_date, fixtures, nth_body
from patients.models import Assessment, LabResult

pytestmark = pytest.mark.django_db
BY_KEY = {page.key: page for page in PAGES}
SALT = "ab" * 10


@pytest.fixture
def fx(settings):
    settings.PORTAL_DEMO = True
    call_command("bench_data", "--patients", "3", stdout=StringIO())
    return fixtures()


def requests(key: str, fx: dict, salt: str = SALT) -> ClientRequests:
    page = BY_KEY[key]
    client = Client()
    client.force_login(bench_users()[page.user])
    query = page.query(fx)
    url = reverse(page.url_name, args=page.args(fx)) + (f"?{query}" if query else "")
    return ClientRequests(page, fx, client=client, url=url, salt=salt)


def test_nth_body_fills_in_a_date_and_a_token_of_its_own():
    bodies = ["d=__date__&t=__token__&v=1", "d=__date__&t=__token__&v=2"]
    today = timezone.localdate()
    made = [nth_body(bodies, n, today=today, salt=SALT) for n in range(6)]
    assert len(set(made)) == 6
    assert made[0] == f"d={today.isoformat()}&t={SALT}000000000000&v=1"
    assert made[3] == f"d={bench_date(today, 3, 2).isoformat()}&t={SALT}000000000003&v=2"
    assert bench_date(today, 3, 2) == today - timezone.timedelta(days=1)
    assert uuid.UUID(f"{SALT}00000000002a").hex == f"{SALT}00000000002a"  # the token is a valid key


def test_cbc_panels_differ_in_every_analyte_and_stay_plausible():
    make_forms = BY_KEY["lab_panel_post"].form
    assert make_forms is not None
    forms = make_forms({})
    assert len(forms) == CBC_VARIANTS
    for analyte in ("v_wbc", "v_anc", "v_alc", "v_hb", "v_platelets"):
        assert len({form[analyte] for form in forms}) == CBC_VARIANTS, analyte
    for form in forms:
        assert float(form["v_anc"]) + float(form["v_alc"]) < float(form["v_wbc"])
        assert 12.0 <= float(form["v_hb"]) <= 15.0
        assert 200 <= int(form["v_platelets"]) <= 350


def test_every_cbc_panel_request_saves_and_a_second_run_goes_on_after_the_first(fx):
    patient_results = LabResult.objects.filter(patient__public_id=fx["post_patient"])
    before = patient_results.count()
    hit = requests("lab_panel_post", fx)
    assert hit.seq == before  # fresh: the patient's result count
    sent = CBC_VARIANTS + 2  # past the first day: 30 panels a day, then one day earlier
    assert [hit().status_code for _ in range(sent)] == [302] * sent
    assert patient_results.count() == before + 5 * sent
    assert patient_results.filter(collected_on=fx["today"] - timezone.timedelta(days=before // 30 + 1)).exists()

    again = requests("lab_panel_post", fixtures(), salt="cd" * 10)
    assert again.seq == before + 5 * sent
    assert again().status_code == 302
    # What the numbering prevents: the same panel and date again, even with a new token, is refused (200, form).
    repeat = nth_body(again.bodies, before, today=fx["today"], salt="ef" * 10)
    response = again.client.post(again.url, repeat, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "already recorded" in response.content.decode()


def test_every_assessment_request_stores_a_new_assessment(fx):
    stored = Assessment.objects.filter(patient__public_id=fx["post_patient"])
    before = stored.count()
    hit = requests("assessment_post", fx)
    assert [hit().status_code for _ in range(3)] == [302] * 3
    assert stored.count() == before + 3
    # What the token prevents: the same body again is a resent form, answered by a redirect without a save.
    repeat = nth_body(hit.bodies, hit.seq - 1, today=fx["today"], salt=SALT)
    response = hit.client.post(hit.url, repeat, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert stored.count() == before + 3
