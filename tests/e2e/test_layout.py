"""The header and the worklist at phone (390 px), tablet (820 px) and laptop (1366 px) widths, with axe-core.

Testers found the header wrapping at 1366 px, "Log out" cut off at 820 px and the worklist's Action column out
of sight on a phone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Session


@pytest.fixture
def at_width(browser, live_server):
    contexts = []

    def open_at(width: int, height: int = 900) -> Session:
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return Session(page, live_server.url)

    yield open_at
    for context in contexts:
        context.close()


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


def _patient_path() -> str:
    from patients.models import Patient

    return (
        Patient.objects.filter(dermatologist__username="demo-derm").order_by("record_number").first().get_absolute_url()
    )


@pytest.mark.parametrize("user", ["demo-derm", "demo-nurse"])
def test_header_is_one_line_with_log_out_in_view_at_1366(user, demo, at_width):
    session = at_width(1366)
    page = session.login(user)
    for name, path in (
        ("home", "/"),
        ("patients", "/patients/"),
        ("worklist", "/monitoring/worklist/"),
        ("patient", _patient_path()),
    ):
        session.go(path)
        logout = page.get_by_role("button", name="Log out")
        assert logout.is_visible(), name
        assert _in_view(page, logout), name
        tops = {
            round(b["y"])
            for b in (el.bounding_box() for el in page.locator("nav.portal-nav .nav-link, nav.portal-nav .btn").all())
        }
        assert max(tops) - min(tops) < 12, (name, tops)  # every link on the same line
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, name
        session.check_accessibility(f"{name}-{user}-1366")
    session.assert_accessible()


@pytest.mark.parametrize("user", ["demo-derm", "demo-nurse"])
def test_log_out_is_in_the_menu_at_820(user, demo, at_width):
    session = at_width(820)
    page = session.login(user)
    for name, path in (
        ("home", "/"),
        ("patients", "/patients/"),
        ("worklist", "/monitoring/worklist/"),
        ("patient", _patient_path()),
    ):
        session.go(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 820, name  # nothing runs off the side
        session.check_accessibility(f"{name}-{user}-820")
    page.click("button.navbar-toggler")
    logout = page.get_by_role("button", name="Log out")
    logout.wait_for(state="visible")
    assert _in_view(page, logout)
    session.check_accessibility(f"menu-open-{user}-820")
    logout.click()
    page.wait_for_url("**/accounts/login/**")
    session.assert_accessible()


def test_a_worklist_action_is_in_view_on_a_phone(demo, at_width):
    session = at_width(390, 844)
    page = session.login("demo-nurse")
    session.go("/monitoring/worklist/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    action = page.locator("td[data-label=Action] a.btn").first
    action.scroll_into_view_if_needed()
    assert action.is_visible()
    assert _in_view(page, action)
    href = action.get_attribute("href")
    action.click()
    page.wait_for_url(f"**{href}")


def test_nurse_marks_a_patients_checks_recalled_in_the_browser(demo, at_width):
    from monitoring.models import RecallContact

    session = at_width(1366)
    page = session.login("demo-nurse")
    session.go("/monitoring/worklist/")
    page.locator("input[name=patient]").first.check()
    page.click("button:has-text('Mark recalled')")
    page.wait_for_url("**/monitoring/worklist/**")
    assert "marked recalled" in page.locator(".alert-success").inner_text()
    assert RecallContact.objects.filter(kind="recalled").exists()
    assert "Recalled " in page.locator("table.worklist").inner_text()
    session.check_accessibility("worklist-after-recall-1366")
    session.assert_accessible()
