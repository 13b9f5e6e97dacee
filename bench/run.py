"""`make bench`: build the synthetic bench clinic, serve it with gunicorn, measure the pages with wrk, write a report.

Environment (the Makefile sets the first two from scripts/pg_start.sh):
  DATABASE_URL              the bench database (its name must contain "bench")
  BENCH_TINY_DATABASE_URL   a second bench database for the query counts at a tiny size
  BENCH_PATIENTS            patients in the bench clinic (default 10000; SIZE=small means 1000)
  BENCH_DURATION / BENCH_WARMUP   seconds of wrk per page / of warm-up before it (default 10 / 2)
  BENCH_CONNECTIONS / BENCH_THREADS / BENCH_WORKERS   wrk -c / wrk -t / gunicorn workers (default workers / 2 / 2)

Internal mode: ``run.py --prepare`` runs inside Django (on $DATABASE_URL): resolves the fixtures and URLs, creates
the sessions, counts the SQL queries per page with the test client, and prints JSON, with each POST page's bodies
and the first request number left unused. The live probe takes the next number, then each wrk run goes on from
the number the previous one left (bench/wrk.lua), so no POST body is sent twice (bench/pages.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIR = ROOT / "bench" / "report"
PY = sys.executable
TINY_PATIENTS = 20
SIZES = {"small": 1_000, "default": 10_000, "large": 10_000}
JSON_MARK = "BENCH_JSON "


def log(text: str) -> None:
    sys.stderr.write(f"[bench] {text}\n")
    sys.stderr.flush()


# Inside Django --------------------------------------------------------------------------------------------------


def prepare() -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from bench.management.commands.bench_data import bench_users
    from bench.pages import PAGES, ClientRequests, fixtures
    from patients.models import Patient

    fx = fixtures()
    users = bench_users()
    csrf = _get_new_csrf_string()
    cookies = {}
    clients = {}
    for role, user in users.items():
        # A real log-in: the signals store the log-in time that the session limit checks.
        clients[role] = Client(HTTP_HOST="127.0.0.1")
        clients[role].force_login(user)
        cookies[role] = clients[role].cookies[settings.SESSION_COOKIE_NAME].value
    clients[""] = Client(HTTP_HOST="127.0.0.1")

    out = []
    for page in PAGES:
        names = page.url_name if isinstance(page.url_name, tuple) else (page.url_name,)
        path = None
        for name in names:
            try:
                path = reverse(name, args=page.args(fx))
                break
            except NoReverseMatch:
                continue
        entry: dict[str, Any] = {
            "key": page.key,
            "title": page.title,
            "kind": page.kind,
            "method": page.method,
            "url_name": names[0],
            "target": page.target,
            "faster_than": list(page.faster_than) if page.faster_than else None,
        }
        if path is None:
            entry["present"] = False
            out.append(entry)
            continue
        query = page.query(fx)
        url = f"{path}?{query}" if query else path
        # POSTs: each with a body of its own (two here; then the live probe and wrk go on from hit.seq). The salt is
        # this run's and this page's: two pages' request numbers overlap, and a form token is one form's only.
        salt = secrets.token_hex(10)
        hit = ClientRequests(
            page, fx, client=clients[page.user], url=url, salt=salt, extra={"csrfmiddlewaretoken": csrf}
        )

        error = ""
        try:
            hit()  # warm caches (content types, permissions) as a running server would have them
            with CaptureQueriesContext(connection) as ctx:
                response = hit()
            status, queries = response.status_code, len(ctx.captured_queries)
        except Exception as exc:  # a broken page is reported, never stops the benchmark
            status, queries, error = 0, None, f"{exc.__class__.__name__}: {exc}"[:200]
        headers = []
        cookie = f"csrftoken={csrf}"
        if page.user:
            cookie = f"sessionid={cookies[page.user]}; {cookie}"
        headers.append(f"Cookie: {cookie}")
        if page.method == "POST":
            headers.append("Content-Type: application/x-www-form-urlencoded")
        entry.update(
            present=True,
            url=url,
            user=page.user,
            headers=headers,
            bodies=hit.bodies,
            seq=hit.seq,
            today=fx["today"].isoformat(),
            salt=salt,
            status=status,
            expect=list(page.expect),
            queries=queries,
            error=error,
        )
        out.append(entry)
    return {"pages": out, "patients": Patient.objects.filter(clinic__name="Bench Synthetic Clinic").count()}


# Orchestration --------------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "ram_gb": round(ram_gb, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def manage(env: dict, *args: str, timeout: int = 3600) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=timeout)  # noqa: S603


def run_prepare(env: dict) -> dict:
    result = subprocess.run(  # noqa: S603
        [PY, str(Path(__file__)), "--prepare"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    for line in result.stdout.splitlines():
        if line.startswith(JSON_MARK):
            return json.loads(line[len(JSON_MARK) :])
    raise RuntimeError(f"prepare printed no result:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def next_body(page: dict) -> str:
    """The body of the page's next request number, which is then used up (bench.pages.nth_body)."""
    from bench.pages import nth_body

    page["seq"] += 1
    today = dt.date.fromisoformat(page["today"])
    return nth_body(page["bodies"], page["seq"] - 1, today=today, salt=page["salt"])


def live_status(url: str, page: dict) -> tuple[int, str]:
    """One request as wrk will send it (a body of its own), redirects not followed: the status, and where a
    redirect points."""
    headers = dict(h.split(": ", 1) for h in page["headers"])
    data = next_body(page).encode() if page["method"] == "POST" else None
    request = urllib.request.Request(url, data=data, headers=headers, method=page["method"])  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def wrk(url: str, page: dict, *, seconds: int, connections: int, threads: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    cmd += ["-s", str(ROOT / "bench" / "wrk.lua")]
    for header in page["headers"]:
        cmd += ["-H", header]
    cmd.append(url)
    env = {**os.environ, "BENCH_METHOD": page["method"]}
    if page["method"] == "POST":  # bench/wrk.lua builds each request's body from these
        env.update(
            BENCH_BODIES="\n".join(page["bodies"]),
            BENCH_SEQ=str(page["seq"]),
            BENCH_STRIDE=str(threads),
            BENCH_TODAY=page["today"],
            BENCH_SALT=page["salt"],
        )
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    for line in result.stdout.splitlines():
        if line.startswith(JSON_MARK):
            summary = json.loads(line[len(JSON_MARK) :])
            if page["method"] == "POST":
                page["seq"] = summary["next_seq"]  # the next wrk run goes on from there
            return summary
    raise RuntimeError(f"wrk gave no summary: {result.stdout[-1000:]} {result.stderr[-1000:]}")


def main() -> int:
    if "--prepare" in sys.argv:
        sys.stdout.write(JSON_MARK + json.dumps(prepare(), default=str) + "\n")
        return 0
    sys.path.insert(0, str(ROOT))
    from bench.chart import bar_chart_svg
    from bench.pages import MAIN_TARGET
    from bench.report import BASELINE_KEY, median_ms, render_report

    database_url = os.environ.get("DATABASE_URL", "")
    tiny_url = os.environ.get("BENCH_TINY_DATABASE_URL", "")
    if "bench" not in database_url.rsplit("/", 1)[-1] or "bench" not in tiny_url.rsplit("/", 1)[-1]:
        log("DATABASE_URL and BENCH_TINY_DATABASE_URL must name bench databases (run it with `make bench`).")
        return 2
    if shutil.which("wrk") is None:
        log("wrk is not installed (`make bench` installs it; Debian: apt-get install wrk).")
        return 2
    size = os.environ.get("SIZE", "") or "default"
    if size not in SIZES:
        log(f"SIZE must be one of {', '.join(SIZES)}; got {size!r}.")
        return 2
    patients = int(os.environ.get("BENCH_PATIENTS") or SIZES[size])
    seconds = int(os.environ.get("BENCH_DURATION", "10"))
    warmup = int(os.environ.get("BENCH_WARMUP", "2"))
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    # One connection per worker: every worker busy, no request waiting in the queue, so the latency is what a
    # user of a busy server sees. More connections than workers measure the queue (BENCH_CONNECTIONS=8).
    connections = int(os.environ.get("BENCH_CONNECTIONS") or workers)
    threads = min(int(os.environ.get("BENCH_THREADS", "2")), connections)

    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "PORTAL_DEMO": "1",
        "PORTAL_BENCH": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    tiny_env = {**env, "DATABASE_URL": tiny_url}
    started = time.monotonic()

    log(f"Building the bench clinic: {patients} patients (reused if already built)")
    t0 = time.monotonic()
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    manage(env, "bench_data", "--patients", str(patients))
    generate_s = time.monotonic() - t0
    log(f"Building the tiny bench clinic ({TINY_PATIENTS} patients) for the query counts")
    manage(tiny_env, "migrate", "--no-input", "--verbosity", "0")
    manage(tiny_env, "bench_data", "--patients", str(TINY_PATIENTS), "--verbosity", "0")
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")

    log("Counting queries per page (Django test client, both sizes) and creating sessions")
    prepared = run_prepare(env)
    tiny = {p["key"]: p for p in run_prepare(tiny_env)["pages"]}
    pages = prepared["pages"]
    for page in pages:
        page["queries_tiny"] = tiny.get(page["key"], {}).get("queries")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    gunicorn = str(Path(PY).parent / "gunicorn")
    log(f"Starting gunicorn ({workers} workers) on {base}")
    server = subprocess.Popen(  # noqa: S603
        [gunicorn, "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60",
         "--error-logfile", str(REPORT_DIR / "gunicorn.log")],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    peak_mb = {}
    try:
        wait_ready(base)
        for page in pages:
            if not page["present"]:
                log(f"{page['key']}: not measured (page not present in this build)")
                continue
            url = base + page["url"]
            status, location = live_status(url, page)
            if status not in page["expect"]:
                # e.g. a session the server does not accept: every request would be a cheap redirect to log-in.
                page["present"] = False
                page["error"] = f"answered {status}{' to ' + location if location else ''}, expected {page['expect']}"
                log(f"{page['key']}: not measured: {page['error']}")
                continue
            if warmup:
                wrk(url, page, seconds=warmup, connections=connections, threads=threads)
            page["wrk"] = wrk(url, page, seconds=seconds, connections=connections, threads=threads)
            r = page["wrk"]
            log(
                f"{page['key']}: median {r['p50_us'] / 1000:.1f} ms, p95 {r['p95_us'] / 1000:.1f} ms, "
                f"{r['requests'] / (r['duration_us'] / 1e6):.0f} req/s, non-2xx/3xx {r['errors_status']}"
            )
        for pid in worker_pids(server.pid):
            peak_mb[pid] = vm_hwm_mb(pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)

    results = {
        "machine": machine(),
        "patients": patients,
        "generate_s": round(generate_s, 1),
        "total_s": round(time.monotonic() - started, 1),
        "wrk": {"seconds": seconds, "warmup": warmup, "connections": connections, "threads": threads},
        "workers": workers,
        "peak_worker_mb": max((v for v in peak_mb.values() if v), default=None),
        "worker_mb": {str(k): v for k, v in peak_mb.items()},
        "tiny_patients": TINY_PATIENTS,
        "pages": pages,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    (REPORT_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    floor = median_ms(pages, BASELINE_KEY)
    chart = bar_chart_svg(
        pages,
        target_ms=floor * MAIN_TARGET if floor else None,
        target_label=f"target {MAIN_TARGET:g}× minimal view:",
    )
    (REPORT_DIR / "chart.svg").write_text(chart)
    markdown = render_report(results)
    (REPORT_DIR / "REPORT.md").write_text(markdown)
    sys.stdout.write(markdown)
    sys.stdout.flush()
    log(f"Report: {REPORT_DIR / 'REPORT.md'} ({results['total_s']:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
