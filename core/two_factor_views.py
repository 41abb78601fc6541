"""The two-factor pages: set up an authenticator app and see its state; give a code after signing in.

Every signed-in user may set up their own second factor; ``core.two_factor`` decides
who must. The enrolment secret stays in the session until a code proves the app has
it; the backup codes are shown once, in the answer to that code.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from core.forms import TwoFactorCodeForm
from core.permissions import StaffRequest
from core.two_factor import (
    authenticator,
    backup_codes_left,
    enrol_authenticator,
    is_verified,
    new_secret,
    provisioning_uri,
    qr_code_svg,
    secret_text,
    verify_code,
)

PENDING_SECRET_SESSION_KEY = "two_factor_pending_secret"  # noqa: S105 - a session key's name, not a secret


def _next_page(request: HttpRequest) -> str:
    """Where to go once the code is given: the page asked for, if it is one of this site's."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed_hosts = {request.get_host()}
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts=allowed_hosts, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@require_http_methods(["GET", "POST"])
def two_factor(request: StaffRequest) -> HttpResponse:
    """The user's second factor: its state, or - without an authenticator app - setting one up."""
    user = request.user
    device = authenticator(user)
    if device is not None:
        context = {"device": device, "backup_codes_left": backup_codes_left(user)}
        return render(request, "core/two_factor.html", context)
    secret = request.session.get(PENDING_SECRET_SESSION_KEY) or new_secret()
    request.session[PENDING_SECRET_SESSION_KEY] = secret
    form = TwoFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = enrol_authenticator(user, key=secret, token=form.cleaned_data["otp_token"])
        except ValidationError as error:
            form.add_error("otp_token", error)
        else:
            del request.session[PENDING_SECRET_SESSION_KEY]
            otp_login(request, device)
            messages.success(request, _("Your authenticator app is set up."))
            context = {"backup_codes": codes, "next": _next_page(request)}
            return render(request, "core/two_factor_backup_codes.html", context)
    uri = provisioning_uri(user, secret)
    context = {
        "form": form,
        "secret": secret_text(secret),
        # segno's own SVG of our URI: markup we build, with no script in it.
        "qr_code": mark_safe(qr_code_svg(uri)),  # noqa: S308
        "next": _next_page(request),
    }
    return render(request, "core/two_factor_enrol.html", context)


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: StaffRequest) -> HttpResponse:
    """After the password: a code from the app, or a backup code; then on to the page asked for."""
    user = request.user
    if authenticator(user) is None:
        return redirect("two_factor")
    if request.method == "GET" and is_verified(user):
        return redirect(_next_page(request))
    form = TwoFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device = verify_code(user, form.cleaned_data["otp_token"])
        except ValidationError as error:
            form.add_error("otp_token", error)
        else:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = backup_codes_left(user)
                messages.warning(
                    request, _("You used a backup code. Backup codes left: %(count)d.") % {"count": left}
                )
            return redirect(_next_page(request))
    return render(request, "core/two_factor_verify.html", {"form": form, "next": _next_page(request)})
