"""Refuse request input no database column can store, before any view sees it.

PostgreSQL rejects a NUL character (U+0000) in text, so a ``%00`` in a search box, a filter or a form field used
to reach the database and end as an HTTP 500. ``RejectNulMiddleware`` answers such a request with a 400 page that
says what was wrong, whatever the page: no view needs its own check, and none can forget it. CSV uploads are
files, not form fields: ``monitoring.lab_csv`` reports a NUL in a cell as that row's error.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

NUL = "\x00"
MESSAGE = (
    "The request contained a NUL character (%00), which no field of the portal accepts. It was not processed. "
    "Go back, remove it (it often comes from pasting text copied from another program) and try again."
)


def has_nul(request: HttpRequest) -> bool:
    """A NUL in the path, in any query or form field name, or in any of their values."""
    if NUL in request.path:
        return True
    for data in (request.GET, request.POST) if request.method == "POST" else (request.GET,):
        for key, values in data.lists():
            if NUL in key or any(NUL in value for value in values):
                return True
    return False


class RejectNulMiddleware:
    """HTTP 400 with a clear page for a NUL character anywhere in the path, the query string or the form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            return render(request, "400.html", {"reason": MESSAGE}, status=400)
        return self.get_response(request)
