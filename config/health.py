"""The load balancer's health check: ``/healthz`` answers "ok" while the database does.

A load balancer asks every few seconds, without signing in, by the address of the app
server (so with a Host header ``ALLOWED_HOSTS`` doesn't list) and over plain HTTP
behind the TLS it terminates. So the check is answered by a middleware placed before
the sessions, the login requirement and ``CommonMiddleware``'s host validation (and
exempt from the HTTPS redirect, ``SECURE_REDIRECT_EXEMPT``): no cookie is set, no
session row read, and the response still passes out through the security headers'
middleware (CSP, ``no-store``). It names nothing but "ok": no version, no row.
"""

import logging
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_safe

HEALTH_CHECK_PATH = "/healthz"

logger = logging.getLogger(__name__)


@login_not_required
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 "ok" after a trivial query; 503 when the database doesn't answer it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database did not answer", exc_info=True)
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


class HealthCheckMiddleware:
    """Answer ``HEALTH_CHECK_PATH`` with ``healthz`` before host validation and the session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info == HEALTH_CHECK_PATH:
            return healthz(request)
        return self.get_response(request)
