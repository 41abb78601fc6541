"""Pages composing the directory with scheduling and notes: the home page by role, the patient chart."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from appointments.clearance_selectors import QueueFilters, queue_page, queue_rows
from appointments.notes.access import patient_notes_context
from appointments.progress_section import progress_section
from appointments.reminders.selectors import reminders_needing_attention
from appointments.selectors import (
    appointments_on,
    billing_queue,
    billing_review_queue,
    chart_for_patient,
    participant_status_counts,
    sessions_on,
)
from core import clock
from core.models import User
from core.permissions import (
    CLINICIAN_ROLES,
    Capability,
    StaffRequest,
    access_patient,
    is_admin,
    require_capability,
)
from core.selectors import patient_guardians

QUEUE_SIZE = 50
# The first rows of the clearance queue home shows; its page (appointments:clearance_queue) has all.
CLEARANCE_PREVIEW = 5


def _schedule_today(user: User, provider_user: User | None = None) -> dict:
    today = clock.today()
    sessions = list(sessions_on(user, today, provider_user))
    return {
        "today": today,
        "sessions": sessions,
        "appointments": list(appointments_on(user, today, provider_user)),
        "status_counts": participant_status_counts(user, today, provider_user),
        "open_group_seats": sum(s.available_spots for s in sessions if s.is_group and s.is_open),
    }


def _clearance_queue(user: User) -> dict:
    """The clearance queue's first rows and counts over its default span, so the total is what
    its "See all" link lists."""
    today = clock.today()
    rows = queue_rows(user, QueueFilters.default(today))
    return {
        "today": today,
        "queue": queue_page(user, rows[:CLEARANCE_PREVIEW]),
        "queue_total": rows.count(),
        "queue_today": queue_rows(user, QueueFilters(today, today)).count(),
    }


def _billing_queue(user: User, *, billable: bool = True) -> dict:
    """Auto-closed no-shows to review and, for finance, the billable items it may waive."""
    context = {"billing_review": list(billing_review_queue(user)[:QUEUE_SIZE])}
    if billable:
        context["billing_items"] = list(billing_queue(user, clock.today())[:QUEUE_SIZE])
    return context


@require_GET
def home(request: StaffRequest) -> HttpResponse:
    """Front desk: today's schedule; clinician: my sessions today; finance: clearance and billing
    queues; admin: all three. The front desk also sees the auto-closed no-shows to confirm, and how
    many reminders failed or had no one to go to."""
    user = request.user
    if is_admin(user):
        context = {"view": "admin", **_schedule_today(user), **_clearance_queue(user), **_billing_queue(user)}
    elif user.role == User.Role.FINANCE:
        context = {"view": "finance", **_clearance_queue(user), **_billing_queue(user)}
    elif user.role in CLINICIAN_ROLES:
        context = {"view": "clinician", **_schedule_today(user, provider_user=user)}
    elif user.role == User.Role.FRONT_DESK:
        context = {
            "view": "front_desk",
            **_schedule_today(user),
            **_billing_queue(user, billable=False),
            "reminders_to_follow_up": reminders_needing_attention(user, clock.now()).count(),
        }
    else:
        context = {"view": "no_role", "today": clock.today()}
    return render(request, "core/home.html", context)


@require_capability(Capability.VIEW_PATIENTS)
@require_GET
def patient_chart(request: StaffRequest, pk: int) -> HttpResponse:
    patient = access_patient(request.user, pk)
    context = {
        "patient": patient,
        "chart": chart_for_patient(
            patient,
            clock.today(),
            upcoming_page=request.GET.get("upcoming"),
            past_page=request.GET.get("page"),
        ),
        "guardians": patient_guardians(patient),
        **patient_notes_context(patient, request.user),
        **progress_section(request.user, patient, request.GET, clock.today()),
    }
    return render(request, "core/patient_chart.html", context)
