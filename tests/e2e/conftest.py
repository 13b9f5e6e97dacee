"""End-to-end tests: each role's journey through the real UI in headless Chromium, with an axe-core check.

They run whenever a Chromium is installed (Debian's `chromium`) and are required in CI (E2E_REQUIRED=1 there).
Set E2E_SCREENSHOTS=docs/screenshots to refresh the README's screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from portal.demo import DEMO_PASSWORD
from portal.roles import sync_roles

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("E2E_REQUIRED") == "1"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SHOTS = os.environ.get("E2E_SCREENSHOTS", "")
# Every page is checked at both widths: a tablet held upright (the nurses' iPad Air) and a laptop.
AXE_WIDTHS = (820, 1366)
# The layout settles on the next frame after a resize; then axe runs on what the user would see.
AXE_RUN = (
    "async () => { await new Promise(r => requestAnimationFrame(() => r()));"
    " return await axe.run(document, {runOnly: {type: 'tag', values: "
    "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}); }"
)
# Playwright's sync API runs an event loop in this thread; the ORM calls of the fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

if REQUIRED and not CHROMIUM:
    raise RuntimeError("E2E_REQUIRED=1 but no chromium on PATH: install Debian's chromium package.")

NO_CHROMIUM = "no Chromium on this machine (apt-get install chromium); CI requires these tests"
E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    """Skip this directory's tests without a Chromium. (A ``pytestmark`` in a conftest is ignored by pytest: that
    is how `make test` once failed with 6 errors on a machine without one.)"""
    if CHROMIUM:
        return
    skip = pytest.mark.skip(reason=NO_CHROMIUM)
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).parents:
            item.add_marker(skip)


LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(transactional_db, settings):
    """The demo clinic of `make run`: catalogue, demo accounts, patients, courses."""
    settings.PORTAL_DEMO = True
    sync_roles()  # transactional tests flush the groups the migrations created
    call_command("setup_demo", verbosity=0)


class Session:
    """A logged-in page with helpers for accessibility checks and screenshots."""

    def __init__(self, page, base_url):
        self.page = page
        self.base = base_url
        self.violations: list[dict] = []

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str, password: str = DEMO_PASSWORD):
        self.go("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return self.page

    def check_accessibility(self, name: str):
        """Run axe-core (WCAG 2.1 A/AA rules) on the current page at each of AXE_WIDTHS (a tablet held upright, a
        laptop), then restore the viewport; keep serious and critical violations, with the widths they occur at."""
        page = self.page
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(content=AXE.read_text())
        original = page.viewport_size
        found: dict[str, dict] = {}
        try:
            for width in AXE_WIDTHS:
                page.set_viewport_size({"width": width, "height": original["height"] if original else 900})
                result = page.evaluate(AXE_RUN)
                for violation in result["violations"]:
                    if violation["impact"] not in ("serious", "critical"):
                        continue
                    entry = found.setdefault(
                        violation["id"],
                        {
                            "page": name,
                            "id": violation["id"],
                            "impact": violation["impact"],
                            "widths": [],
                            "nodes": [n["target"] for n in violation["nodes"][:3]],
                        },
                    )
                    entry["widths"].append(width)
        finally:
            if original:
                page.set_viewport_size(original)
        self.violations.extend(found.values())
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)

    def assert_accessible(self):
        assert not self.violations, json.dumps(self.violations, indent=1)


@pytest.fixture
def session(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Session(page, live_server.url)
    context.close()


@pytest.fixture
def tablet(browser, live_server):
    context = browser.new_context(viewport={"width": 768, "height": 1024}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Session(page, live_server.url)
    context.close()
