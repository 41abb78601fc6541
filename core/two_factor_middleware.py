"""Administrators pass the second factor before any page, Django admin included (``core.two_factor``).

Goes after ``OTPMiddleware`` (which says whether the session is verified) and
``LoginRequiredMiddleware`` (anonymous visitors are sent to the login first), and
before ``ActingTenantMiddleware``: a superuser gives the code before choosing an
organisation. A user who must give a code and has no authenticator app yet is sent
to set one up; one who has is sent to the code page (their devices page stays closed
until they give it). Signing in and out, the language, the code page and the session's
time left (which the code page's idle timer asks for, ``core.session_timeout``) stay open;
the code page itself sends a user without an authenticator to set one up.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin

ENROL_PAGE = "two_factor"
VERIFY_PAGE = "two_factor_verify"
OPEN_BEFORE_THE_SECOND_FACTOR = frozenset(
    {"login", "logout", "set_language", "admin:logout", "core:session_status"}
)


class TwoFactorRequiredMiddleware(MiddlewareMixin):
    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        # core.two_factor imports the models, which aren't ready when middleware modules load.
        from core.two_factor import authenticator, passed_two_factor

        user = request.user
        if passed_two_factor(user):  # type: ignore[arg-type]  # a signed-in user is a core.User
            return None
        match = request.resolver_match
        page = match.view_name if match is not None else None
        if page in OPEN_BEFORE_THE_SECOND_FACTOR or page == VERIFY_PAGE:
            return None
        target = VERIFY_PAGE if authenticator(user) is not None else ENROL_PAGE  # type: ignore[arg-type]
        if page == target:
            return None
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
