"""The front desk's reminders page: the messages that failed or had no one to go to, with "Try again".

For the front desk and administrators (``Capability.BOOK``): they call the family when a
message didn't reach them. "Try again" puts a failed reminder back in the queue, due now, through
``appointments.reminders.sending.retry_failed``, and comes back to the page (post/redirect/get).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from appointments.forms import NextPageForm
from appointments.reminders import sending
from appointments.reminders.models import Reminder
from appointments.reminders.selectors import reminders_needing_attention
from core import clock
from core.paging import page_without_count
from core.permissions import Capability, StaffRequest, require_capability

PAGE_SIZE = 25


@require_capability(Capability.BOOK)
@require_GET
def reminder_list(request: StaffRequest) -> HttpResponse:
    rows = reminders_needing_attention(request.user, clock.now())
    page_obj = page_without_count(rows, request.GET.get("page"), PAGE_SIZE)
    return render(request, "appointments/reminder_list.html", {"page_obj": page_obj})


@require_capability(Capability.BOOK)
@require_POST
def reminder_retry(request: StaffRequest, pk: int) -> HttpResponse:
    """Queue failed reminder ``pk`` to be sent again; 404 outside the user's organisation."""
    reminder = get_object_or_404(Reminder.objects.for_user(request.user), pk=pk)
    try:
        sending.retry_failed(reminder.pk)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        # Back in the queue, due now: the next round of sending takes it (every minute).
        messages.success(request, _("The reminder will be sent again within a minute."))
    back = NextPageForm(request.POST, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(back.next_page() or reverse("appointments:reminders"))
