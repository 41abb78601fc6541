"""The week calendar: a provider's, room's or clinic's week, its event feed, and moving a session by drag.

The page draws the week with FullCalendar (``static/js/calendar.js``), configured through
``json_script`` (the Content-Security-Policy allows no inline script). The calendar shows the
installation's wall-clock times as they are stored, in FullCalendar's UTC mode, so no
browser's own time zone shifts a session. The feed answers JSON: sessions coloured by status
(their children's names as text, which FullCalendar renders as text), legacy appointments,
and a provider's leave as shaded background. Dragging a session asks for confirmation, then
posts to ``calendar_move``, which goes through ``SessionService.reschedule_session``.
"""

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import get_text_list
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_stubs_ext import StrOrPromise

from appointments.access import access_session
from appointments.calendar_forms import CalendarFeedForm, CalendarMoveForm, CalendarPickerForm
from appointments.calendar_selectors import (
    Owner,
    OwnerKind,
    WeekBooking,
    leave_blocks,
    week_bookings,
    weekly_hours,
)
from appointments.exceptions import SchedulingError
from appointments.models import Session
from appointments.session_service import SessionService
from core import clock
from core.models import Clinic, Provider, Room, User
from core.permissions import Capability, StaffRequest, has_capability, require_capability
from core.service_names import service_name

# FullCalendar hands its locale to the browser's Intl: British English writes dates day first,
# and Arabic with the Latin numbering system keeps Latin digits (its default is Arabic-Indic).
CALENDAR_LOCALES = {"ar": "ar-u-nu-latn"}
DEFAULT_CALENDAR_LOCALE = "en-GB"
# Without opening or working hours, the grid spans these; calendar.js widens it for a booking outside.
DEFAULT_DAY = (datetime.time(7), datetime.time(21))


def _default_owner(user: User) -> tuple[OwnerKind, Owner] | None:
    """A clinician's own week; anyone else's first clinic; None in an organisation without clinics."""
    own = Provider.objects.for_user(user).filter(user=user).first()
    if own is not None:
        return "provider", own
    clinic = Clinic.objects.for_user(user).first()
    return ("clinic", clinic) if clinic is not None else None


def _js_weekday(weekday: int) -> int:
    """``date.weekday()`` (Monday 0) as JavaScript counts days (Sunday 0)."""
    return (weekday + 1) % 7


def _clock(moment: datetime.time) -> str:
    return moment.strftime("%H:%M")


def _hour_floor(moment: datetime.time) -> str:
    return f"{moment.hour:02d}:00:00"


def _hour_ceiling(moment: datetime.time) -> str:
    hours = moment.hour + (1 if (moment.minute or moment.second) else 0)
    return f"{hours:02d}:00:00"


def _prefill(kind: OwnerKind, owner: Owner) -> dict[str, int]:
    """What a booking form started from a free slot knows: the owner, and its clinic where there is one."""
    if isinstance(owner, Room):
        return {"room": owner.pk, "clinic": owner.clinic_id}
    if isinstance(owner, Provider):
        clinics = list(owner.clinics.values_list("pk", flat=True)[:2])
        return {"provider": owner.pk, **({"clinic": clinics[0]} if len(clinics) == 1 else {})}
    return {kind: owner.pk}


def _config(user: User, kind: OwnerKind, owner: Owner, day: datetime.date) -> dict[str, Any]:
    hours = weekly_hours(user, owner)
    intervals = [interval for day_intervals in hours.values() for interval in day_intervals]
    first = min((opens for opens, _closes in intervals), default=DEFAULT_DAY[0])
    last = max((closes for _opens, closes in intervals), default=DEFAULT_DAY[1])
    can_book = has_capability(user, Capability.BOOK)
    return {
        "feedUrl": reverse("appointments:calendar_events"),
        "owner": {kind: owner.pk},
        "initialDate": day.isoformat(),
        "now": clock.now().replace(tzinfo=None).isoformat(timespec="seconds"),
        "locale": CALENDAR_LOCALES.get((get_language() or "").split("-")[0], DEFAULT_CALENDAR_LOCALE),
        "direction": "rtl" if get_language_bidi() else "ltr",
        "businessHours": [
            {"daysOfWeek": [_js_weekday(weekday)], "startTime": _clock(opens), "endTime": _clock(closes)}
            for weekday, day_intervals in hours.items()
            for opens, closes in day_intervals
        ]
        or False,
        "slotMinTime": _hour_floor(first),
        "slotMaxTime": _hour_ceiling(last),
        "canBook": can_book,
        "booking": {
            "groupUrl": reverse("appointments:session_create"),
            "individualUrl": reverse("appointments:session_book_individual"),
            "prefill": _prefill(kind, owner) if can_book else {},
        },
        "buttonText": {
            "prev": _("Previous"),
            "next": _("Next"),
            "today": _("Today"),
            "week": _("Week"),
            "day": _("Day"),
        },
        "messages": {
            "networkError": _("The calendar could not reach the server; nothing was changed. Try again."),
        },
    }


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def calendar_week(request: StaffRequest) -> HttpResponse:
    """The week of the provider, room or clinic picked (a clinician's own by default), around ``date``."""
    form = CalendarPickerForm(request.GET, user=request.user)
    valid = form.is_valid()
    owner = (form.owner() if valid else None) or _default_owner(request.user)
    day = (form.cleaned_data.get("date") if valid else None) or clock.today()
    context: dict[str, Any] = {"form": form, "day": day, "owner": owner}
    if owner is not None:
        kind, row = owner
        context["picker"] = CalendarPickerForm(initial={kind: row.pk, "date": day}, user=request.user)
        context["config"] = _config(request.user, kind, row, day)
    return render(request, "appointments/calendar_week.html", context)


def _names(entry: WeekBooking) -> str:
    return str(get_text_list([child.full_name for child in entry.children], _("and")))


def _title(request: HttpRequest, kind: OwnerKind, entry: WeekBooking) -> str:
    """Plain text (FullCalendar sets it as text): provider (unless it is their week), service, children."""
    booking = entry.booking
    what = service_name(request, booking.service_type)
    if isinstance(booking, Session) and booking.is_group:
        what = f"{what} ({len(entry.children)}/{booking.max_capacity})"
    parts = [] if kind == "provider" else [str(booking.provider)]
    parts.extend(part for part in (what, _names(entry)) if part)
    return " · ".join(parts)


def _booking_event(
    request: HttpRequest, kind: OwnerKind, entry: WeekBooking, can_move: bool
) -> dict[str, Any]:
    booking = entry.booking
    is_session = isinstance(booking, Session)
    movable = can_move and is_session and booking.status == Session.Status.SCHEDULED
    label: StrOrPromise = booking.get_status_display()
    return {
        "id": f"{'session' if is_session else 'appointment'}-{booking.pk}",
        "title": _title(request, kind, entry),
        "start": booking.starts_at.isoformat(),
        "end": booking.ends_at.isoformat(),
        "url": booking.get_absolute_url(),
        "classNames": [
            "cal-booking",
            f"cal-status-{booking.status}",
            *([] if is_session else ["cal-appointment"]),
        ],
        "startEditable": movable,
        "extendedProps": {
            "kind": "session" if is_session else "appointment",
            "status": booking.status,
            "statusLabel": str(
                label if is_session else _("Appointment (legacy): %(status)s") % {"status": label}
            ),
            "moveUrl": reverse("appointments:calendar_move", args=[booking.pk]) if movable else "",
        },
    }


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def calendar_events(request: StaffRequest) -> JsonResponse:
    """The events of one owner's window (``start`` to ``end``, whole days): ``{"events": [...]}``.

    Input that names no owner of the user's organisation, or no valid window, gets no events.
    """
    form = CalendarFeedForm(request.GET, user=request.user)
    owner = form.owner() if form.is_valid() else None
    if owner is None:
        return JsonResponse({"events": []})
    kind, row = owner
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    can_move = has_capability(request.user, Capability.BOOK)
    events = [
        _booking_event(request, kind, entry, can_move)
        for entry in week_bookings(request.user, kind, row, start, end)
    ]
    if isinstance(row, Provider):
        events.extend(
            {
                "id": f"leave-{block.leave.pk}",
                "title": _("Leave: %(reason)s") % {"reason": block.leave.reason},
                "start": block.starts.isoformat(),
                "end": block.ends.isoformat(),
                "display": "background",
                "classNames": ["cal-leave"],
            }
            for block in leave_blocks(request.user, row, start, end)
        )
    return JsonResponse({"events": events})


def _refused(message: str) -> JsonResponse:
    return JsonResponse({"moved": False, "message": message})


@require_capability(Capability.BOOK)
@require_POST
def calendar_move(request: StaffRequest, pk: int) -> JsonResponse:
    """Move a session dragged on the week to the day and time posted: ``{"moved": ..., "message": ...}``.

    The reschedule page's rules for the slot (``CalendarMoveForm``), then the service's: a clash
    comes back with its reason, and the page puts the session back where it was.
    """
    session = access_session(request.user, pk, Capability.BOOK)
    form = CalendarMoveForm(request.POST, session=session)
    if not form.is_valid():
        return _refused(" ".join(str(message) for errors in form.errors.values() for message in errors))
    try:
        SessionService.reschedule_session(
            session,
            scheduled_date=form.cleaned_data["scheduled_date"],
            scheduled_time=form.cleaned_data["scheduled_time"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
    except SchedulingError as error:
        return _refused(" ".join(error.messages))
    return JsonResponse(
        {
            "moved": True,
            "message": _(
                "Session moved; every child keeps their booking. "
                "Tell the families, then record it on the session's page."
            ),
        }
    )
