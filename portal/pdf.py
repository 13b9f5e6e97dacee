"""Server-side PDFs of the portal's printouts (WeasyPrint), rendered from the same templates as the pages.

WeasyPrint draws text with the system's Pango library. Where Pango is missing, importing WeasyPrint raises
``OSError``; the portal then keeps working: ``unavailable()`` says why in words, the page shows that beside its
Print button, and a request for the PDF gets the message instead of a 500.
"""

from __future__ import annotations

import importlib
import sys
import warnings

PANGO_MISSING = "PDF export needs the system's Pango library; use Print instead."
NOT_INSTALLED = "PDF export needs the WeasyPrint package; use Print instead."


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot be loaded on this machine; the message says what is missing."""


_MODULE = "portal.pdf_weasyprint"


def unavailable() -> str:
    """Why a PDF cannot be made here ("" when it can). Cheap after the first success: WeasyPrint stays loaded. A
    failed load is tried again on the next call, so installing Pango takes effect without a restart."""
    if _MODULE in sys.modules:
        return ""
    try:
        with warnings.catch_warnings():
            # WeasyPrint warns (DeprecationWarning) when libharfbuzz-subset is missing; it renders all the same.
            warnings.simplefilter("ignore", DeprecationWarning)
            importlib.import_module(_MODULE)
    except OSError:  # cffi could not open libpango-1.0 / libpangoft2-1.0 (or another of the libraries they need)
        return PANGO_MISSING
    except ImportError:
        return NOT_INSTALLED
    return ""


def render(html: str) -> bytes:
    """The PDF of a complete HTML document whose stylesheets and images are the portal's static files."""
    reason = unavailable()
    if reason:
        raise PdfUnavailable(reason)
    from portal import pdf_weasyprint

    return pdf_weasyprint.write_pdf(html)
