"""A superuser works on the staff pages inside one organisation, so no page mixes tenants' children.

Staff belong to one organisation and see only its rows. A superuser belongs to the
platform: in Django admin they keep seeing every organisation, but on the staff
pages (schedule, patients, notes) they act as one organisation at a time - the one
picked on ``core:tenant_pick`` (kept in the session), by default their own. A
superuser with neither is sent to the picker first. ``core.permissions.effective_tenant``
reads the result; every tenant scope goes through it.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin

ACTING_TENANT_SESSION_KEY = "acting_tenant_id"
# Pages that show no organisation's rows: signing in and out, the password, the second factor,
# the language and the session's time left, and the picker itself; and the families' public
# pages, whose token, not the signed-in user, names the organisation. Django admin (its own
# namespace) shows every organisation to superusers.
PAGES_WITHOUT_TENANT = frozenset(
    {
        "family:link",
        "family:sms_inbound",
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "set_language",
        "core:tenant_pick",
        "two_factor",
        "two_factor_verify",
        "core:session_status",
    }
)
ADMIN_NAMESPACE = "admin"


class ActingTenantMiddleware(MiddlewareMixin):
    """Set ``user.acting_tenant_id`` for a superuser on a staff page; without one, redirect to the picker.

    Goes after ``LoginRequiredMiddleware``, so anonymous visitors are sent to the login first.
    """

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if not request.user.is_authenticated or not request.user.is_superuser:
            return None
        match = request.resolver_match
        if match is None or ADMIN_NAMESPACE in match.namespaces:
            return None
        user = request.user
        user.acting_tenant_id = request.session.get(ACTING_TENANT_SESSION_KEY) or user.tenant_id
        if user.acting_tenant_id is None and match.view_name not in PAGES_WITHOUT_TENANT:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('core:tenant_pick')}?{query}")
        return None


class RequestIdMiddleware:
    """Give each request an id, shared by its access-log rows and returned as ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # core.access_log imports the models, which aren't ready when middleware modules load.
        from core.access_log import REQUEST_ID_HEADER, request_id

        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id(request)
        return response
