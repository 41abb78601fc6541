"""Finance's clearance queue: every booking waiting for clearance, filtered, paged and cleared in bulk.

For finance and administrators (``Capability.CLEAR_FINANCE``). The bulk action clears each
ticked row through its own service call (``clearance_service``), then goes back to the page it
was sent from, which shows each row's result once (post/redirect/get, the results kept in the
user's session meanwhile).
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from appointments.clearance_forms import BulkClearForm, ClearanceQueueForm
from appointments.clearance_selectors import QueueFilters, queue_page, queue_rows
from appointments.clearance_service import clear_finance_many
from appointments.forms import NextPageForm
from core import clock
from core.permissions import Capability, StaffRequest, require_capability

PAGE_SIZE = 25
# The session key keeping the last bulk clearing's results until the queue shows them.
RESULTS = "clearance_results"


@require_capability(Capability.CLEAR_FINANCE)
@require_GET
def clearance_queue(request: StaffRequest) -> HttpResponse:
    today = clock.today()
    default = QueueFilters.default(today)
    filtering = any(name in request.GET for name in ClearanceQueueForm.base_fields)
    form = ClearanceQueueForm(
        request.GET if filtering else None,
        user=request.user,
        today=today,
        initial={"date_from": default.date_from, "date_to": default.date_to},
    )
    filters = form.queue_filters()
    page_obj = Paginator(queue_rows(request.user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    results = request.session.pop(RESULTS, [])
    context = {
        "form": form,
        "filters": filters,
        "page_obj": page_obj,
        "rows": queue_page(request.user, page_obj.object_list),
        "results": results,
        "cleared_count": sum(1 for result in results if result["cleared"]),
    }
    return render(request, "appointments/clearance_queue.html", context)


@require_capability(Capability.CLEAR_FINANCE)
@require_POST
def clearance_clear(request: StaffRequest) -> HttpResponse:
    """Clear the ticked rows, each on its own, and go back to the queue page they were ticked on."""
    back = NextPageForm(request.POST, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    page = back.next_page() or reverse("appointments:clearance_queue")
    form = BulkClearForm(request.POST)
    if not form.is_valid():
        for error in form.errors["rows"]:
            messages.error(request, str(error))
        return redirect(page)
    results = clear_finance_many(form.cleaned_data["rows"], user=request.user)
    request.session[RESULTS] = [
        {"number": r.number, "patient": r.patient, "cleared": r.cleared, "message": r.message}
        for r in results
    ]
    return redirect(page)
