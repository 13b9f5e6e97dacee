"""URLs for tests/portal/test_views_errors.py: the portal's own error handlers in front of failing views."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns
from tests.portal.test_views_errors import boom, db_down

urlpatterns = [path("boom/", boom), path("db-down/", db_down), *portal_urlpatterns]
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
