"""WeasyPrint itself, behind ``portal.pdf``: importing this module fails (``OSError``) where Pango is missing.

Rendering never touches the network. WeasyPrint's own fetcher would open any URL a document or stylesheet names
(http, https, ftp, file): a letter would then wait on a remote server, send a request from inside the clinic's
network wherever a URL got into the markup, or read any file the server can read. ``StaticFilesFetcher`` serves
only the portal's own static files, read from disk, and refuses everything else.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from weasyprint import HTML  # type: ignore[import-untyped]  # WeasyPrint ships no type hints
from weasyprint.urls import URLFetcher, URLFetcherResponse  # type: ignore[import-untyped]

# The documents' base URL. Nothing answers at it (.invalid is reserved, RFC 2606): it only gives the static URLs
# that templates write ("/static/css/print.css") an absolute form the fetcher recognises.
BASE_URL = "https://portal.invalid/"

# WeasyPrint logs each of its seven steps at INFO for every document; its warnings (a rule it ignores, a resource
# refused) still reach the log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _static_prefix() -> str:
    return "/" + settings.STATIC_URL.strip("/") + "/"


def static_file(url: str) -> Path | None:
    """The file on disk behind a static URL under ``BASE_URL`` (None for any other URL or a missing file).

    Collected files come first (production: the hashed names ``{% static %}`` writes exist only there), then the
    finders (development and tests, where nothing is collected). Both join paths safely; ".." is refused here."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(_static_prefix()):
        return None
    name = unquote(parts.path[len(_static_prefix()) :])
    if not name or any(segment in ("", ".", "..") for segment in name.split("/")) or "\\" in name:
        return None
    collected = Path(staticfiles_storage.path(name)) if settings.STATIC_ROOT else None
    if collected is not None and collected.is_file():
        return collected
    found = finders.find(name)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


class StaticFilesFetcher(URLFetcher):
    """Serves ``BASE_URL``'s static files from disk; any other URL is refused (WeasyPrint logs a warning and
    leaves that resource out)."""

    def fetch(self, url, headers=None):
        path = static_file(url)
        if path is None:
            raise ValueError(f"only the portal's static files are loaded into a PDF, not {url[:80]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})


def write_pdf(html: str) -> bytes:
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticFilesFetcher()).write_pdf()
