"""Headers that keep patient data out of caches and switch off browser features no page uses.

Nearly every page of the platform shows a child's data, and the few that don't (the
login, the language switch, redirects) gain nothing from being cached. So every
response the app itself produces is ``Cache-Control: no-store``: no browser, proxy or
back-button cache keeps a copy, and a page added later can't forget it. Static files
are served before the middleware runs (the web server, or ``runserver``'s static
handler) and stay cacheable.

The Content-Security-Policy comes from django-csp (``CONTENT_SECURITY_POLICY``), and
``nosniff`` and ``Referrer-Policy`` from Django's ``SecurityMiddleware``; this adds
what neither sends: ``Permissions-Policy`` (``PERMISSIONS_POLICY``) and ``no-store``.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

PERMISSIONS_POLICY_HEADER = "Permissions-Policy"


class SecurityHeadersMiddleware:
    """Mark every response ``no-store`` and give it the configured ``Permissions-Policy``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault(PERMISSIONS_POLICY_HEADER, settings.PERMISSIONS_POLICY)
        return response
