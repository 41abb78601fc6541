"""Sign-in lockout with django-axes: what a locked-out sign-in sees, and how an administrator unlocks it.

Five failed sign-ins within fifteen minutes (``AXES_FAILURE_LIMIT``, ``AXES_COOLOFF_TIME``)
lock the username on the staff login and the admin login alike, whether a user of that
name exists or not, so the lock itself tells nobody which usernames are real. Every
attempt is logged by axes (``AccessLog`` for sign-ins, ``AccessFailureLog`` for
failures; superusers read them in the admin).

The locked-out page is the login page the user was on, its form keeping the username,
with one message that is the same for every username: neither the wording nor the
status (429) depends on whether the user exists or the password was right.
"""

from http import HTTPStatus

from axes.utils import reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from core.models import User

STAFF_LOGIN_TEMPLATE = "registration/login.html"


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many failed sign-in attempts with this username. Try again in %(minutes)d minutes, "
        "or ask an administrator to unlock it."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the login page that was posted to, with the lockout message as its error.

    The staff and the admin login both answer with Django's ``LoginView``, whose response
    still holds its form: its errors are replaced by the lockout message (the form is not
    validated again, which would count one more failure).
    """
    context = getattr(original_response, "context_data", None) or {}
    if isinstance(original_response, TemplateResponse) and isinstance(
        context.get("form"), AuthenticationForm
    ):
        template = original_response.template_name
        context = dict(context)
    else:
        template = STAFF_LOGIN_TEMPLATE
        context = {"form": AuthenticationForm(request), "next": ""}
    form: AuthenticationForm = context["form"]
    form.errors.clear()
    form.errors[NON_FIELD_ERRORS] = form.error_class([lockout_message()], error_class="nonfield")
    response = TemplateResponse(request, template, context, status=HTTPStatus.TOO_MANY_REQUESTS)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    add_never_cache_headers(response)
    return response.render()


def unlock_logins(users: QuerySet[User]) -> list[str]:
    """Clear the failed sign-ins of ``users`` (an administrator's admin action): they may sign in again.

    Returns the usernames, in order.
    """
    usernames = sorted(users.values_list("username", flat=True))
    for username in usernames:
        reset(username=username)
    return usernames
