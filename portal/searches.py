"""Search terms kept on the server, out of URLs (issue 18, F7).

A name or date of birth in a query string (``?q=``) reaches every access log: runserver, gunicorn, nginx, the
proxy's, and the browser history. A search form therefore POSTs its term; the view keeps the term in the user's
session under a random opaque id and redirects to ``?s=<id>``. That address pages with GET, works with back and
forward and can be bookmarked for as long as the session lasts; it says nothing about what was searched.

The session is server-side (database sessions, ``SESSION_ENGINE``), ends at log-out or after the idle limit, and
keeps the last ``KEEP`` terms only.
"""

from __future__ import annotations

import secrets

SESSION_KEY = "portal_searches"
KEEP = 20
MAX_TERM = 100


def remember(request, scope: str, term: str) -> str:
    """Store ``term`` for this session; return the opaque id that finds it again."""
    stored: dict[str, list[str]] = dict(request.session.get(SESSION_KEY, {}))
    search_id = secrets.token_urlsafe(12)
    stored[search_id] = [scope, term[:MAX_TERM]]
    while len(stored) > KEEP:  # dicts keep insertion order: drop the oldest
        stored.pop(next(iter(stored)))
    request.session[SESSION_KEY] = stored
    return search_id


def recall(request, scope: str, search_id: str) -> str | None:
    """The term stored under ``search_id`` for ``scope`` in this session; None if unknown (or another session's)."""
    entry = request.session.get(SESSION_KEY, {}).get(search_id[:40])
    if not isinstance(entry, list) or len(entry) != 2 or entry[0] != scope:
        return None
    return str(entry[1])
