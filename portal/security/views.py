"""Account security pages: the log-in page, the second-factor step, authenticator enrolment, session keep-alive,
unlocking."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import user_passes_test
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from portal.security import backends, devices, lockout, oidc, twofactor
from portal.web import require_get_post

logger = logging.getLogger(__name__)


class LoginForm(AuthenticationForm):
    """Django's log-in form; says plainly when a demo account is refused because demo mode is off."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "demo_account_off": "Demo accounts cannot log in on this server. Log in with your own account.",
    }

    def get_invalid_login_error(self):
        if getattr(self.request, backends.DEMO_REFUSED_ATTR, False):
            return ValidationError(self.error_messages["demo_account_off"], code="demo_account_off")
        return super().get_invalid_login_error()


class LoginView(auth_views.LoginView):
    """The one log-in page (password step); the second step is ``otp_verify``."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sso = settings.PORTAL_OIDC
        if sso is not None:  # a "Sign in with ..." button next to the form (portal/security/oidc.py)
            query = urlencode({"next": context.get("next") or reverse("portal:home")})
            context["sso"] = {"name": sso["name"], "url": f"{reverse('oidc_authentication_init')}?{query}"}
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if not twofactor.needs_second_step(user):  # the log-in is complete: this browser is a known device now
            devices.remember(self.request, response, user)
        return response


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only); a single sign-on session then goes on to log out at the identity provider too,
    so the next person at a shared workstation is not signed in as the last one by the provider's session."""

    def post(self, request, *args, **kwargs):
        at_provider = oidc.provider_logout_url(request)
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class EnrolForm(forms.Form):
    token = forms.RegexField(
        label="Code from the app",
        regex=r"^\s*\d{6}\s*$",
        max_length=20,
        error_messages={"invalid": "Enter the 6-digit code the app shows now."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class EnrolmentCodeForm(forms.Form):
    enrolment_code = forms.CharField(
        label="Enrolment code",
        max_length=40,
        help_text="The one-time code an administrator gave you for setting up two-step log-in (e.g. abcd-efgh-jkmn).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}),
    )


class FactorChangeForm(forms.Form):
    """Replacing the app or the backup codes: the password and a current code, in one form."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    token = forms.CharField(
        label="Current code",
        max_length=20,
        help_text="The 6-digit code your current authenticator app shows, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )

    _ERRORS = {
        twofactor.Authorisation.WRONG_PASSWORD: ("password", "That password is not right. Nothing was changed."),
        twofactor.Authorisation.WRONG_CODE: ("token", "That code is not right. Nothing was changed."),
        twofactor.Authorisation.THROTTLED: ("token", "Too many wrong codes. Wait a little, then try again."),
        twofactor.Authorisation.NO_DEVICE: (None, "There is no authenticator app to replace."),
    }

    def authorise(self, user) -> bool:
        """Check the password and code (``is_valid`` first); adds the field error and returns False if refused."""
        result = twofactor.factor_change_authorise(
            user=user,
            password=self.cleaned_data["password"],
            token=self.cleaned_data["token"].strip().replace(" ", ""),
        )
        if result is twofactor.Authorisation.OK:
            return True
        field, message = self._ERRORS[result]
        self.add_error(field, message)
        return False


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("portal:home")


@never_cache
@require_get_post
def otp_verify(request):
    """Second step of the log-in: a code from the authenticator app or an unused backup code."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    device = twofactor.confirmed_device(user)
    if device is None:
        return _self_with_next(request, "otp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip().replace(" ", "")
        result = twofactor.second_factor_verify(user=user, device_id=device.pk, token=token)
        if result is twofactor.Verification.THROTTLED:
            form.add_error("token", "Too many wrong codes. Wait a little, then try again.")
        elif result is twofactor.Verification.WRONG:
            form.add_error("token", "That code is not right. Check the app and try again.")
        else:
            if result is twofactor.Verification.BACKUP_CODE:
                left = twofactor.unused_backup_code_count(user)
                messages.warning(request, f"You used a backup code; {left} left. Set up the app again if it is lost.")
            otp_login(request, device)
            request.session.cycle_key()
            response = redirect(_next_url(request))
            devices.remember(request, response, user)
            return response
    return render(request, "registration/otp_verify.html", {"form": form, "next": _next_url(request)})


def _self_with_next(request, name: str):
    return redirect(f"{reverse(name)}?{urlencode({'next': _next_url(request)})}")


@never_cache
@require_get_post
def otp_enrol(request):
    """Set up an authenticator app. First unlock (an account without one: the enrolment code an administrator
    issued; replacing one: the password and a current code), then scan the QR code of a fresh secret shown only to
    this session, type a code to confirm, and note the backup codes."""
    user = request.user
    replacing = twofactor.has_confirmed_device(user)
    if replacing and not user.is_verified():
        return _self_with_next(request, "otp_verify")
    device = twofactor.pending_device(user=user, session=request.session)
    if device is None:
        return _enrol_unlock(request, replacing=replacing)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and not device.verify_is_allowed()[0]:
        form.add_error("token", "Too many wrong codes. Wait a little, then try again.")
    elif request.method == "POST" and form.is_valid():
        confirmed = twofactor.totp_enrol_confirm(
            user=user, session=request.session, token=form.cleaned_data["token"].strip()
        )
        if confirmed is not None:
            device, codes = confirmed
            otp_login(request, device)
            request.session.cycle_key()
            response = render(
                request,
                "registration/otp_backup_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
            devices.remember(request, response, user)
            return response
        form.add_error("token", "That code does not match. Check the app's clock and enter the current code.")
    context = {
        "form": form,
        "qr_data_uri": twofactor.qr_code_data_uri(device),
        "manual_key": twofactor.manual_key(device),
        "next": _next_url(request),
        "replacing": replacing,
    }
    return render(request, "registration/otp_enrol.html", context)


def _enrol_unlock(request, *, replacing: bool):
    """The step before a secret is shown; passing it starts a new enrolment attempt bound to this session."""
    user = request.user
    form: forms.Form
    if replacing:
        form = FactorChangeForm(request.POST or None)
        passed = request.method == "POST" and form.is_valid() and form.authorise(user)
    else:
        form = EnrolmentCodeForm(request.POST or None)
        passed = request.method == "POST" and form.is_valid()
        if passed and not twofactor.enrolment_code_redeem(user=user, code=form.cleaned_data["enrolment_code"]):
            form.add_error(
                "enrolment_code",
                "That enrolment code is not right, has expired or was used already. "
                "Ask an administrator for a new one.",
            )
            passed = False
    if passed:
        twofactor.enrolment_attempt_start(user=user, session=request.session)
        return _self_with_next(request, "otp_enrol")
    context = {"form": form, "replacing": replacing, "next": _next_url(request)}
    return render(request, "registration/otp_enrol_unlock.html", context)


@never_cache
@require_get_post
def otp_backup_codes(request):
    """New backup codes instead of the old ones, with the password and a current code; shown once."""
    user = request.user
    if not twofactor.has_confirmed_device(user):
        return _self_with_next(request, "otp_enrol")
    if not user.is_verified():  # under /accounts/two-step/, which SecondFactorMiddleware lets through
        return _self_with_next(request, "otp_verify")
    form = FactorChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.authorise(user):
        codes = twofactor.backup_codes_regenerate(user=user)
        context = {"codes": codes, "next": _next_url(request), "regenerated": True}
        return render(request, "registration/otp_backup_codes.html", context)
    return render(request, "registration/otp_backup_codes_new.html", {"form": form, "next": _next_url(request)})


@require_POST
def session_keepalive(request):
    """ "Stay signed in": any authenticated request renews the idle timer (SESSION_SAVE_EVERY_REQUEST)."""
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"status": "ok"})
    return redirect(_next_url(request))


def _superuser(user) -> bool:
    if not (user.is_active and user.is_superuser):
        raise PermissionDenied("Superusers only.")
    return True


@user_passes_test(_superuser)
@require_get_post
def unlock(request):
    """Superusers see locked-out usernames and unlock them; each unlock goes to the audit trail."""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        if not username:
            return HttpResponse("No username given.", status=400)
        lockout.username_unlock(actor=request.user, username=username)
        messages.success(request, f"Log-in unlocked for {username}.")
        return redirect("portal:unlock")
    return render(request, "portal/unlock.html", {"locked": lockout.locked_usernames()})
