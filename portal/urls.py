from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal import views
from portal.security import oidc
from portal.security import views as security_views
from portal.views import audit, clinic

portal_patterns = (
    [
        path("", views.home, name="home"),
        path("audit/", audit.audit_list, name="audit"),
        path("clinic/settings/", clinic.clinic_settings, name="clinic_settings"),
        path("accounts/unlock/", security_views.unlock, name="unlock"),
        path("session/keepalive/", security_views.session_keepalive, name="keepalive"),
    ],
    "portal",
)

urlpatterns = [
    path("", include(portal_patterns)),
    path("patients/", include("patients.urls")),
    # Health probes (portal/health.py): liveness, readiness, and /healthz, readiness under its first address.
    path("healthz", views.healthz_ready, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz_live"),
    path("healthz/ready", views.healthz_ready, name="healthz_ready"),
    path("metrics", views.metrics, name="metrics"),  # Prometheus: token or loopback only (portal/metrics.py)
    path("drugs/", include("drugs.urls")),
    path("", include("therapy.urls")),  # /patients/<id>/therapy/start/ and /therapy/<id>/...
    path("", include("monitoring.urls")),  # /patients/<id>/labs/..., /monitoring/...
    path("accounts/login/", security_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", security_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect); 404 unless PORTAL_OIDC_ISSUER is set. The names are mozilla-django-oidc's.
    path("accounts/sso/start/", oidc.SignOnStartView.as_view(), name="oidc_authentication_init"),
    path("accounts/sso/callback/", oidc.SignOnCallbackView.as_view(), name="oidc_authentication_callback"),
    path("accounts/two-step/", security_views.otp_verify, name="otp_verify"),
    path("accounts/two-step/setup/", security_views.otp_enrol, name="otp_enrol"),
    path("accounts/two-step/backup-codes/", security_views.otp_backup_codes, name="otp_backup_codes"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("", include("interfaces.urls")),  # HL7 v2 lab feed, FHIR R4, CDS Hooks (bearer tokens)
]

if settings.PORTAL_BENCH:
    # The benchmark's floor: a signed-in page through the whole middleware stack (session, user, CSRF), no work.
    urlpatterns.append(path("bench/ok", views.bench_ok, name="bench_ok"))

handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
