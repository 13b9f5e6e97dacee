"""The GP letter as a server-side PDF (WeasyPrint): the download, what it says, its pages, who may have it, the
audit, no network, and the page when WeasyPrint cannot load.

The tests that render a real PDF need WeasyPrint with Pango, and poppler-utils to read the PDF back (pdftotext,
pdfinfo). Without them they skip with the reason; CI sets PDF_REQUIRED=1, which turns a missing piece into an error.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.abc
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat

from portal import pdf
from portal.models import AuditEvent, Clinic
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_scheduled_item, make_user, record_result
from therapy import letters

PHONE = "+44 20 7946 0000"
PDF_REQUIRED = os.environ.get("PDF_REQUIRED") == "1"
PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")


def _why_no_pdf() -> str:
    reason = pdf.unavailable()
    if not reason and not (PDFTOTEXT and PDFINFO):
        reason = "no pdftotext/pdfinfo to read the PDF back (apt-get install poppler-utils)"
    return reason


WHY_NO_PDF = _why_no_pdf()
if PDF_REQUIRED and WHY_NO_PDF:
    raise RuntimeError(f"PDF_REQUIRED=1 but {WHY_NO_PDF}")
renders = pytest.mark.skipif(
    bool(WHY_NO_PDF),
    reason=f"no PDF on this machine ({WHY_NO_PDF.rstrip('.')}); CI requires these tests (PDF_REQUIRED=1)",
)


@pytest.fixture
def course(clinic, derm, catalogue):
    Clinic.objects.filter(pk=clinic.pk).update(phone=PHONE, address="1 Test Street\nLondon N1 1AA")
    patient = make_patient(
        clinic=clinic,
        dermatologist=derm,
        given_name="Handa",
        family_name="Printwell",
        record_number="DERM/0042 A",
        date_of_birth=dt.date(1980, 3, 14),
    )
    course = make_course(patient, derm, dose="100")
    course.frequency = "once daily"
    course.save(update_fields=["frequency"])
    return course


def letter(course):
    return reverse("therapy:gp_letter", args=[course.public_id])


def letter_pdf(course):
    return reverse("therapy:gp_letter_pdf", args=[course.public_id])


def pdf_pages(body: bytes, tmp_path) -> list[str]:
    """The text of each page, columns kept on their line, runs of spaces made one (pdftotext -layout)."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(body)
    text = subprocess.run(
        [PDFTOTEXT, "-layout", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return ["\n".join(re.sub(r"\s+", " ", line).strip() for line in page.splitlines()) for page in pages]


def pdf_page_count(body: bytes, tmp_path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(body)
    info = subprocess.run([PDFINFO, str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))


def html_table_rows(body: str, heading_id: str) -> list[str]:
    """The rows of the letter page's table under ``heading_id``, each as its cells' text joined by spaces."""
    section = body[body.index(f'id="{heading_id}"') :]
    section = section[: section.index("</section>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", section[section.index("<tbody>") :], re.S):
        cells = [
            re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", c))).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        rows.append(" ".join(c for c in cells if c))
    return rows


# --- The download -------------------------------------------------------------------------------------------------


@renders
def test_the_letter_page_offers_the_pdf_next_to_print(client_as, nurse, course):
    body = client_as(nurse).get(letter(course)).content.decode()
    assert "data-print" in body
    assert f'href="{letter_pdf(course)}"' in body
    assert "Download PDF" in body


@renders
def test_the_pdf_is_an_attachment_named_for_the_record_and_never_cached(client_as, nurse, course):
    response = client_as(nurse).get(letter_pdf(course))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == f'attachment; filename="gp-letter-DERM-0042-A-{TODAY.isoformat()}.pdf"'
    assert response["Cache-Control"] == "no-store"


def test_the_file_name_keeps_only_safe_characters():
    day = dt.date(2026, 12, 4)
    assert letters.letter_filename("MRN-00123", day) == "gp-letter-MRN-00123-2026-12-04.pdf"
    assert letters.letter_filename('a"b\r\n/../c', day) == "gp-letter-a-b-c-2026-12-04.pdf"
    assert letters.letter_filename("///", day) == "gp-letter-record-2026-12-04.pdf"


# --- What it says: the letter page's content, on A4 pages with the patient on each -------------------------------


@renders
def test_the_pdf_says_what_the_letter_page_says(client_as, derm, nurse, course, tmp_path):
    make_scheduled_item(course, check_type="cbc", due=TODAY + dt.timedelta(days=14))
    make_scheduled_item(course, check_type="efficacy_review", due=TODAY + dt.timedelta(days=84))
    record_result(nurse, course.patient, "platelets", "240", on=TODAY - dt.timedelta(days=1))
    client = client_as(derm)
    page = client.get(letter(course)).content.decode()
    monitoring = html_table_rows(page, "l-monitoring")
    results = html_table_rows(page, "l-results")
    assert len(monitoring) == 2
    assert len(results) == 1

    pages = pdf_pages(client.get(letter_pdf(course)).content, tmp_path)
    text = "\n".join(pages)
    assert "Handa Printwell" in text
    assert "DERM/0042 A" in text
    assert "Abrocitinib 100 mg, once daily" in text
    assert "Atopic dermatitis" in text
    assert "Started " + dateformat.format(course.start_date, "j F Y") in text
    for row in monitoring + results:  # each row of the page's tables is one line of the PDF
        assert row in text.splitlines(), f"{row!r} not a line of the PDF"
    assert "Dermatology clinic (blood test)" in text
    assert "Serious infections" in text  # the boxed-warning summary
    assert "What we ask of you" in text
    assert "Page 1 of" in pages[0]
    # The clinic at the top of the first page; no navigation or staff strip.
    assert pages[0].splitlines()[0].startswith("Test Dermatology Clinic")
    assert "1 Test Street" in pages[0]
    assert PHONE in pages[0]
    for screen_part in ("Download PDF", "Patients", "Log out", "Print with Ctrl+P"):
        assert screen_part not in text


@renders
def test_the_pdf_marks_an_overdue_check(client_as, derm, course, tmp_path):
    make_scheduled_item(course, check_type="skin_exam", due=TODAY - dt.timedelta(days=20), window=7)
    lines = pdf_pages(client_as(derm).get(letter_pdf(course)).content, tmp_path)[0].splitlines()
    row = next(i for i, line in enumerate(lines) if "Skin examination" in line)
    assert lines[row].startswith(dateformat.format(TODAY - dt.timedelta(days=20), "j M Y"))
    assert lines[row + 1] == "overdue"


@renders
@pytest.mark.parametrize(("system", "shown"), [("SI", "135 g/L"), ("US", "13.5 g/dL")])
def test_the_pdf_gives_results_in_the_clinics_units(client_as, derm, nurse, clinic, course, tmp_path, system, shown):
    Clinic.objects.filter(pk=clinic.pk).update(unit_system=system)
    record_result(nurse, course.patient, "hb", "13.5")
    client = client_as(derm)
    assert shown in client.get(letter(course)).content.decode()
    text = "\n".join(pdf_pages(client.get(letter_pdf(course)).content, tmp_path))
    assert f"Haemoglobin (Hb) {shown} {dateformat.format(TODAY, 'j M Y')}" in text  # one line, the name capitalised


@renders
def test_a_long_letter_runs_onto_numbered_pages_each_naming_the_patient(client_as, derm, nurse, course, tmp_path):
    for i in range(60):
        make_scheduled_item(
            course, check_type=("cbc", "lipids", "liver")[i % 3], due=TODAY + dt.timedelta(days=7 * i + 7)
        )
    for analyte, value in (("platelets", "240"), ("hb", "13.5"), ("alt", "20"), ("wbc", "6.1")):
        record_result(nurse, course.patient, analyte, value)
    client = client_as(derm)
    shown = html_table_rows(client.get(letter(course)).content.decode(), "l-monitoring")
    body = client.get(letter_pdf(course)).content
    count = pdf_page_count(body, tmp_path)
    pages = pdf_pages(body, tmp_path)
    assert count >= 3, "60 checks do not fit on two A4 pages"
    assert len(pages) == count
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {count}" in page
        head = page.splitlines()[0]  # the running head, above the letter
        assert "Handa Printwell · born 14 Mar 1980 · record DERM/0042 A" in head
    dues = [
        line for page in pages for line in page.splitlines() if re.match(r"\d+ \w{3} \d{4} .* Dermatology clinic", line)
    ]
    assert len(shown) > 50
    assert dues == shown  # every check the page lists, in order, each row on a line of its own
    assert "Due Window Check Done by" in pages[1]  # the table's header repeated where it continues
    assert "Yours sincerely," in pages[-1]


@renders
def test_rendering_loads_every_stylesheet_and_nothing_fails(client_as, nurse, course, caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        assert client_as(nurse).get(letter_pdf(course)).status_code == 200
    failed = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint") and r.levelno >= logging.ERROR]
    assert not failed


# --- No network ---------------------------------------------------------------------------------------------------


@pytest.fixture
def listener():
    """A web server on this machine that counts what is asked of it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red; }")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


@renders
def test_rendering_fetches_nothing_but_the_portals_static_files(listener, caplog, settings):
    base, hits = listener
    document = (
        f'<html><head><link rel="stylesheet" href="{base}/style.css">'
        f"<style>@import url({base}/imported.css); p {{ background: url({base}/bg.png) }}</style></head>"
        f'<body><p>x</p><img src="{base}/logo.png"><img src="file:///etc/hostname">'
        '<link rel="stylesheet" href="/static/css/print.css"></body></html>'
    )
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        body = pdf.render(document)
    assert body.startswith(b"%PDF-")
    assert hits == []
    refused = " ".join(r.getMessage() for r in caplog.records)
    assert f"{base}/style.css" in refused
    assert "file:///etc/hostname" in refused
    assert "print.css" not in refused  # the portal's own stylesheet loads


@renders
def test_the_fetcher_maps_only_static_urls_to_files():
    from portal.pdf_weasyprint import BASE_URL, StaticFilesFetcher, static_file

    assert static_file(f"{BASE_URL}static/css/letter-pdf.css").name == "letter-pdf.css"
    for refused in (
        "https://example.org/static/css/print.css",  # another host
        f"{BASE_URL}static/../portal/settings.py",
        f"{BASE_URL}static/%2e%2e/portal/settings.py",
        f"{BASE_URL}static/css/none-such.css",
        f"{BASE_URL}media/x.css",
        "file:///etc/passwd",
        "data:text/css,body{}",
    ):
        assert static_file(refused) is None, refused
        with pytest.raises(ValueError, match="only the portal's static files"):
            StaticFilesFetcher().fetch(refused)


# --- Who may have it, and the audit -------------------------------------------------------------------------------


@renders
def test_the_download_is_audited_as_a_view_of_the_record(client_as, nurse, course):
    assert client_as(nurse).get(letter_pdf(course)).status_code == 200
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert event.actor == nurse
    assert event.object_type == "patients.patient"
    assert event.object_id == str(course.patient.pk)
    assert "Printwell" not in event.summary
    assert "DERM/0042" not in event.summary


def test_another_clinics_staff_get_a_404_and_nothing_is_audited(client_as, course):
    outsider = make_user(role="Dermatologist", clinic=make_clinic("Other Clinic"))
    assert client_as(outsider).get(letter_pdf(course)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_a_catalogue_admin_may_not_download_it(client_as, catalogue_admin, course):
    assert client_as(catalogue_admin).get(letter_pdf(course)).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_signed_out_the_download_goes_to_the_log_in_page(client, course):
    response = client.get(letter_pdf(course))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@renders
def test_the_pdf_needs_as_many_queries_as_the_page_whatever_the_record_holds(client_as, nurse, course):
    client = client_as(nurse)
    client.get(letter_pdf(course))  # warm the session and permission caches
    counts = []
    day = 0  # each result on a day of its own: the same value twice on one day is one result
    for n in (1, 6):
        for _ in range(n):
            day += 1
            record_result(nurse, course.patient, "platelets", "250", on=TODAY - dt.timedelta(days=60 - day))
            make_scheduled_item(course, check_type="lipids", due=TODAY + dt.timedelta(days=7 * day), window=3)
        counts.append(_queries(client, letter_pdf(course)))
    assert counts[0] == counts[1], counts
    assert counts[1] == _queries(client, letter(course))


# --- Where WeasyPrint cannot load (no Pango on the machine) -------------------------------------------------------


@pytest.fixture
def without_pango(monkeypatch):
    """This machine as one without Pango: importing WeasyPrint raises OSError, as cffi's dlopen does there."""

    class NoPango(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "weasyprint":
                raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")
            return None

    for name in list(sys.modules):
        if name in ("weasyprint", "portal.pdf_weasyprint") or name.startswith("weasyprint."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [NoPango(), *sys.meta_path])


def test_without_pango_the_page_says_to_print_instead(client_as, nurse, course, without_pango):
    response = client_as(nurse).get(letter(course))
    assert response.status_code == 200
    body = response.content.decode()
    assert "PDF export needs the system&#x27;s Pango library; use Print instead." in body
    assert f'href="{letter_pdf(course)}"' not in body  # no link that cannot work
    assert 'aria-describedby="pdf-unavailable"' in body  # the greyed-out "Download PDF" points at the reason
    assert "Handa Printwell" in body  # the letter itself is all there, to print


def test_without_pango_the_download_says_why_and_points_back_to_the_letter(client_as, nurse, course, without_pango):
    response = client_as(nurse).get(letter_pdf(course))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "PDF export needs the system&#x27;s Pango library; use Print instead." in body
    assert f'href="{letter(course)}"' in body
    assert "Printwell" not in body  # nothing of the record on an error page, so no view to audit
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def test_without_pango_another_clinic_still_gets_a_404(client_as, course, without_pango):
    outsider = make_user(role="Nurse", clinic=make_clinic("Other Clinic"))
    assert client_as(outsider).get(letter_pdf(course)).status_code == 404


def test_without_pango_rendering_raises_the_reason(without_pango):
    assert pdf.unavailable() == pdf.PANGO_MISSING
    with pytest.raises(pdf.PdfUnavailable, match="Pango"):
        pdf.render("<p>x</p>")
