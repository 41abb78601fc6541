"""The family's confirm-or-cancel page: public, reached only by the token in a message.

No login: the token is the key (``link_actions.open_link`` checks it on every request). The
page speaks the guardian's language, names each child by first name only, and answers with
``no-store``, ``no-referrer`` and ``noindex`` (``family_headers``). Each client address may
ask ``FAMILY_LINK_RATE_LIMIT`` times in ten minutes, counted in the shared cache, so tokens
can't be guessed at speed. Every page shown and every action writes access-log rows under
the actor "guardian link" and no user; the rows name the booking's number, never the token.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from appointments.reminders import link_actions
from appointments.reminders.link_actions import CancelForm, FamilyLink, LinkedBooking, LinkRefused
from core import clock
from core.access_log import client_ip, record_actor_access
from core.models import AccessLog

ACTOR = "guardian link"
RATE_WINDOW_SECONDS = 10 * 60
RATE_KEY = "family-link-rate:{address}"
LEVELS = {"success": messages.SUCCESS, "info": messages.INFO, "error": messages.ERROR}


def family_headers(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Keep the page out of caches, search engines and the next site's Referer (the token is its URL)."""

    @wraps(view)
    def headed(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        patch_cache_control(response, no_store=True)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex"
        return response

    return headed


def rate_limited(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """429 once a client address has asked ``FAMILY_LINK_RATE_LIMIT`` times in the window.

    The count lives in the shared cache, so every web process counts together; the window
    starts with an address's first request.
    """

    @wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = RATE_KEY.format(address=client_ip(request) or "unknown")
        cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
            count = 1
        if count > settings.FAMILY_LINK_RATE_LIMIT:
            return render(request, "family/rate_limited.html", status=429)
        return view(request, *args, **kwargs)

    return limited


class NullOriginCsrfMiddleware(CsrfViewMiddleware):
    """Django's CSRF check, taking ``Origin: null`` for a page under ``Referrer-Policy: no-referrer``.

    Under that policy a browser posts the page's own forms with ``Origin: null`` (the Fetch
    standard serialises the origin so) and with no Referer, and Django's origin check refuses
    "null". The secret token - the cookie and the form's field - is still required, and a page
    elsewhere can't read it; any other origin is still checked and refused.
    """

    def _origin_verified(self, request: HttpRequest) -> bool:
        # django-stubs doesn't declare this private method of CsrfViewMiddleware.
        verified: bool = super()._origin_verified(request)  # type: ignore[misc]
        return request.META.get("HTTP_ORIGIN") == "null" or verified


csrf_protect_null_origin = decorator_from_middleware(NullOriginCsrfMiddleware)


@login_not_required
@csrf_exempt  # from the site's check only: csrf_protect_null_origin checks the token
@family_headers
@rate_limited
@require_http_methods(["GET", "POST"])
@csrf_protect_null_origin
def family_link(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        link = link_actions.open_link(token)
    except LinkRefused as refused:
        with translation.override(refused.language or translation.get_language()):
            return render(
                request,
                "family/link_refused.html",
                {"message": refused.message},
                status=410 if refused.gone else 404,
            )
    with translation.override(link.language):
        if request.method == "POST":
            return act(request, token, link)
        return show(request, link)


def show(request: HttpRequest, link: FamilyLink, form: CancelForm | None = None) -> HttpResponse:
    """The page; with ``?cancel=<booking>`` (or a form that came back with errors), the cancel form."""
    cancel_key = request.POST.get("booking") if form is not None else request.GET.get("cancel", "")
    cancelling = link.chosen(cancel_key or "")
    if form is None and cancelling:
        form = CancelForm(late=is_late(cancelling))
    log_access(request, link, link.bookings, "family_link")
    return render(
        request,
        "family/link.html",
        {
            "link": link,
            "form": form if cancelling else None,
            "cancel_key": cancel_key,
            "cancelling": cancelling,
            "all_key": link_actions.ALL,
        },
    )


def act(request: HttpRequest, token: str, link: FamilyLink) -> HttpResponse:
    """Confirm or cancel what the form names, then back to the page (post/redirect/get)."""
    key = request.POST.get("booking", "")
    chosen = link.chosen(key)
    if request.POST.get("step") == "cancel":
        form = CancelForm(request.POST, late=is_late(chosen))
        # Validated even when nothing is chosen, so cleaned_data exists; cancel() then says why.
        if not form.is_valid() and chosen:
            return show(request, link, form)
        notices = link_actions.cancel(
            link,
            key,
            reason=form.cleaned_data.get("reason", ""),
            category=form.cleaned_data.get("category", ""),
        )
        log_access(request, link, chosen, "family_link_cancel")
    elif request.POST.get("step") == "confirm":
        notices = link_actions.confirm(link, key)
        log_access(request, link, chosen, "family_link_confirm")
    else:
        notices = []
    for level, text in notices:
        messages.add_message(request, LEVELS[level], text)
    return redirect("family:link", token)


def is_late(bookings: tuple[LinkedBooking, ...]) -> bool:
    now = clock.now()
    return any(booking.cancelling_is_late(now) for booking in bookings)


def log_access(
    request: HttpRequest, link: FamilyLink, bookings: tuple[LinkedBooking, ...], object_type: str
) -> None:
    """One row per child: the link reads (or changes) each child's booking."""
    for booking in bookings:
        record_actor_access(
            request,
            actor=ACTOR,
            action=AccessLog.Action.VIEW,
            object_type=object_type,
            object_id=booking.number,
            patient_id=booking.patient.pk,
            tenant_id=link.tenant.pk,
        )
