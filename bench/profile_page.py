"""Profile one bench page: render it N times through Django's test client and print where the time goes.

Kept out of ``make bench`` (wall-clock timings are noisy on a shared machine; CPU time and counts are not):

    DATABASE_URL=.../jak_bench_perf PORTAL_DEMO=1 PORTAL_BENCH=1 python bench/profile_page.py patient [--n 20]
    python bench/profile_page.py --list

The page names are the keys in ``bench/pages.py``. The database must hold a bench clinic
(``manage.py bench_data --patients 1000`` is enough). Prints, per page: the status, the SQL query count, the median
render time in CPU time (``time.process_time``) and in wall time, the number of template variable resolutions and
filter calls per request, and cProfile's top functions by cumulative and by own time. A POST page sends a body of
its own with every request (bench/pages.py), so each one is a save, and it runs only against a database whose name
contains "bench".
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _count_calls(counters: dict[str, int]):
    """Wrap Variable.resolve and FilterExpression filter calls to count them; returns an undo function."""
    from django.template import base

    original_resolve = base.Variable.resolve
    original_filter_resolve = base.FilterExpression.resolve

    def resolve(self, context):
        counters["variables"] += 1
        return original_resolve(self, context)

    def filter_resolve(self, context, ignore_failures=False):
        counters["filters"] += len(self.filters)
        return original_filter_resolve(self, context, ignore_failures)

    base.Variable.resolve = resolve  # type: ignore[method-assign]
    base.FilterExpression.resolve = filter_resolve  # type: ignore[method-assign]

    def undo() -> None:
        base.Variable.resolve = original_resolve  # type: ignore[method-assign]
        base.FilterExpression.resolve = original_filter_resolve  # type: ignore[method-assign]

    return undo


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("pages", nargs="*", help="page keys from bench/pages.py")
    parser.add_argument("--n", type=int, default=20, help="requests per page (default 20)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per table (default 25)")
    parser.add_argument("--list", action="store_true", help="list the page keys and stop")
    parser.add_argument("--callers", default="", help="also list who calls functions matching this pattern")
    parser.add_argument("--no-profile", action="store_true", help="only the counts and the medians")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_BENCH", "1")
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from bench.management.commands.bench_data import bench_users
    from bench.pages import PAGES, ClientRequests, fixtures

    # Static files uncollected: plain storage (no manifest) so templates render; the request log stays quiet.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    logging.disable(logging.INFO)
    by_key = {page.key: page for page in PAGES}
    if args.list or not args.pages:
        say("\n".join(f"{page.key:18} {page.title}" for page in PAGES))
        return 0
    unknown = [key for key in args.pages if key not in by_key]
    if unknown:
        sys.stderr.write(f"unknown page(s): {', '.join(unknown)}; see --list\n")
        return 2
    posts = [key for key in args.pages if by_key[key].method == "POST"]
    if posts and "bench" not in str(connection.settings_dict["NAME"]):
        # Every POST request saves (a body of its own each time): only ever into a bench database, as in run.py.
        sys.stderr.write(f"{', '.join(posts)}: POST pages save data; only into a database named *bench*\n")
        return 2

    fx = fixtures()
    salt = secrets.token_hex(10)
    users = bench_users()
    for key in args.pages:
        page = by_key[key]
        names = page.url_name if isinstance(page.url_name, tuple) else (page.url_name,)
        path = reverse(names[0], args=page.args(fx))
        query = page.query(fx)
        url = f"{path}?{query}" if query else path
        client = Client(HTTP_HOST="127.0.0.1")
        if page.user:
            client.force_login(users[page.user])
        # A POST sends a body of its own every time, so it measures a save, not the refusal of a repeat.
        hit = ClientRequests(page, fx, client=client, url=url, salt=salt)

        hit()  # warm the caches a running server would have warm
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = hit()
        counters = {"variables": 0, "filters": 0}
        undo = _count_calls(counters)
        try:
            hit()
        finally:
            undo()
        cpu, wall = [], []
        profiler = cProfile.Profile()
        for _ in range(args.n):
            c0, w0 = time.process_time(), time.perf_counter()
            if args.no_profile:
                hit()
            else:
                profiler.runcall(hit)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        say(f"== {key}: {page.title}  {page.method} {url}")
        say(
            f"status {response.status_code}  queries {len(queries)}  "
            f"variables {counters['variables']}  filters {counters['filters']}  "
            f"bytes {len(response.content)}"
        )
        note = "" if args.no_profile else " (under cProfile: inflated; compare runs of the same mode)"
        say(
            f"median over {args.n}: CPU {statistics.median(cpu) * 1000:.1f} ms  "
            f"wall {statistics.median(wall) * 1000:.1f} ms{note}"
        )
        if not args.no_profile:
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                stats.strip_dirs().sort_stats(order).print_stats(args.top)
                text = out.getvalue()
                say(f"-- top {args.top} by {order}")
                say(text[text.find("   ncalls") :].rstrip())
            if args.callers:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_callers(args.callers)
                say(f"-- callers of {args.callers}")
                say(out.getvalue().rstrip())
        say()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
