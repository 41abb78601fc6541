"""Replies from the SMS gateway: a family's STOP ends their text messages.

The gateway posts each reply (form fields or JSON: ``from``, ``text``) with the shared secret
``settings.SMS_INBOUND_SECRET`` in the ``X-Gateway-Secret`` header. Without a configured
secret, or with another one, the address answers 404: it shows nothing to a stranger, not
even that it exists. No session, no CSRF token: the gateway is not a browser.
"""

import hmac
import json

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from appointments.reminders import channels

SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 (the header's name; the secret is in settings)


@login_not_required
@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    """204 once read; a STOP opts every guardian of the sender's phone out of text messages."""
    secret = settings.SMS_INBOUND_SECRET
    given = request.headers.get(SECRET_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        raise Http404
    fields = reply_fields(request)
    if channels.is_opt_out(str(fields.get("text", ""))):
        channels.record_sms_opt_out(str(fields.get("from", "")))
    return HttpResponse(status=204)


def reply_fields(request: HttpRequest) -> dict[str, object]:
    """The reply's fields, posted as a form or as a JSON object (anything else: none)."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(request.POST.items())
