"""bench/wrk.lua under wrk builds the same request bodies as bench.pages.nth_body, never one twice, and names the
first request number it left unused (skipped where wrk is not installed)."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.pages import nth_body
from bench.run import wrk

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: list[str] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        Recorder.bodies.append(self.rfile.read(length).decode())
        self.send_response(302)
        self.send_header("Location", "/saved")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.bodies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/post"
    httpd.shutdown()
    httpd.server_close()


def test_every_body_is_its_own_and_the_next_run_goes_on(server):
    # The 1st of March: going back a day every 3 requests crosses into February (and a leap-year-free month end).
    bodies = ["d=__date__&v=1&k=__token__", "d=__date__&v=2&k=__token__", "d=__date__&v=%2C3&k=__token__"]
    page = {
        "method": "POST",
        "headers": ["Content-Type: application/x-www-form-urlencoded"],
        "bodies": bodies,
        "seq": 7,
        "today": "2027-03-01",
        "salt": "ab" * 10,
    }
    summary = wrk(server, page, seconds=1, connections=2, threads=2)
    first = list(Recorder.bodies)
    assert summary["requests"] > 6
    assert summary["errors_status"] == 0
    assert len(first) == len(set(first)) >= summary["requests"]
    expected = {nth_body(bodies, n, today=dt.date(2027, 3, 1), salt="ab" * 10): n for n in range(7, page["seq"])}
    assert set(first) <= set(expected)  # each one as nth_body builds it, for a number below next_seq
    assert page["seq"] == summary["next_seq"] > max(expected[b] for b in first)
    assert any("d=2027-02-" in b for b in first)
    assert "v=%2C3" in "".join(first)

    wrk(server, page, seconds=1, connections=2, threads=2)
    assert not set(first) & set(Recorder.bodies[len(first) :])  # the second run repeats none of the first's
