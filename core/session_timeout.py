"""Sessions end after ``SESSION_IDLE_MINUTES`` without activity, and ``SESSION_COOKIE_AGE`` after signing in.

A shared clinic computer left signed in shows children's records to whoever sits down.
The session keeps two stamps (seconds since the epoch, from ``core.clock``): when the
user signed in, and their last activity. The activity stamp is written at most once a
minute, so an active user costs one session write a minute, not one per request.

Requests that a page makes by itself - the idle check and a note's autosave, sent with
``X-Background-Request: 1`` (``static/js/idle.js``) - never count as activity: a page
left open would otherwise keep its session alive for ever.

When a session has run out, it is flushed and the request goes on signed out: a page
is sent to the login by ``LoginRequiredMiddleware`` with a message saying why, a
background request gets a 401. Only this session ends: unlike a logout, a timeout on
one computer doesn't sign the user out of the others.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from core import clock

LAST_ACTIVITY_KEY = "last_activity"
SIGNED_IN_KEY = "signed_in_at"
BACKGROUND_HEADER = "X-Background-Request"
# The activity stamp is rewritten only when older than this.
STAMP_EVERY_SECONDS = 60


def _now() -> int:
    return int(clock.now().timestamp())


def idle_seconds() -> int:
    return settings.SESSION_IDLE_MINUTES * 60


def is_background(request: HttpRequest) -> bool:
    """A request the page made by itself, not the user (see the module docstring)."""
    return request.headers.get(BACKGROUND_HEADER) == "1"


def seconds_left(request: HttpRequest) -> int:
    """Seconds until this session ends unless the user does something (0: it has ended)."""
    now = _now()
    session = request.session
    last = session.get(LAST_ACTIVITY_KEY, now)
    signed_in = session.get(SIGNED_IN_KEY, now)
    left = min(idle_seconds() - (now - last), settings.SESSION_COOKIE_AGE - (now - signed_in))
    return max(left, 0)


def stamp_sign_in(sender: type, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """user_logged_in: both stamps start now."""
    now = _now()
    request.session[SIGNED_IN_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now


class IdleTimeoutMiddleware:
    """End a session idle ``SESSION_IDLE_MINUTES`` (or signed in ``SESSION_COOKIE_AGE`` ago); stamp activity.

    Goes after ``MessageMiddleware`` (the message outlives the flushed session in its
    cookie) and before anything that reads the user in ``process_view``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            if seconds_left(request) <= 0:
                return self.signed_out(request)
            self.stamp_activity(request)
        return self.get_response(request)

    def stamp_activity(self, request: HttpRequest) -> None:
        now = _now()
        session = request.session
        if SIGNED_IN_KEY not in session:
            # A session opened before these stamps existed: its 12 hours start now.
            session[SIGNED_IN_KEY] = now
        last = session.get(LAST_ACTIVITY_KEY)
        if last is None or (not is_background(request) and now - last >= STAMP_EVERY_SECONDS):
            session[LAST_ACTIVITY_KEY] = now

    def signed_out(self, request: HttpRequest) -> HttpResponse:
        idle = _now() - request.session.get(LAST_ACTIVITY_KEY, 0) >= idle_seconds()
        request.session.flush()
        request.user = AnonymousUser()
        if idle:
            message = _("You were signed out after %(minutes)d minutes without activity.") % {
                "minutes": settings.SESSION_IDLE_MINUTES
            }
        else:
            message = _("You were signed out %(hours)d hours after signing in. Please sign in again.") % {
                "hours": settings.SESSION_COOKIE_AGE // 3600
            }
        messages.warning(request, message)
        if is_background(request):
            return JsonResponse({"signed_out": True}, status=401)
        return self.get_response(request)
