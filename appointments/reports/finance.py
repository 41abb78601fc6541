"""Finance: bookings by clearance state, billable no-shows and late cancellations, and
auto-closed sessions still to review.

Clearance counts the bookings of ``appointments.reports.events`` (each appointment number
once) in clinics that require finance clearance at check-in, as the clearance queue does
(``appointments.clearance_selectors``); a clinic that doesn't require it needs no clearance
and is left out. Cancelled bookings (late or not) and children turned away need no
clearance either and are left out; booked, confirmed, arrived, attended and no-show are
counted. Consent is a separate gate and not counted here.

Billable items are the participants the services flagged (``SessionService``): a no-show,
or a family's late cancellation, still billable (``billable``), or waived by finance
(``billing_waived_at``; an auto-closed session's no-show waived during its review counts as a
waived no-show). Legacy appointments carry no billing flags. Auto-closed sessions to review
are their no-shows still waiting for confirmation (``billing_review_pending``), as on the
home pages' review queue (``appointments.selectors.billing_review_queue``).

Four aggregate or list queries over the participants, one over the legacy appointments,
and one for the clinics named: six, whatever the number of rows. The two lists stop at
``LIST_LIMIT`` rows; their totals come from the counts.
"""

from collections import Counter
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments.models import ParticipantStatus, SessionParticipant
from appointments.reports.base import Chart, Column, Dataset, Kind, Report, ReportFilters, Table, rate
from appointments.reports.events import COUNTED_ONCE, Outcome, appointment_events, participant_events
from appointments.reports.grouping import (
    by_name,
    child_cells,
    child_columns,
    clinic_names,
    limited_title,
    summed,
)
from core.models import User

ParticipantEvents = QuerySet[SessionParticipant]
# The longest list shown; the totals above it count every row.
LIST_LIMIT = 500

# Cancelled (late or not) and turned away: no seat is used, so no clearance is needed.
CLEARANCE_OUTCOMES = (Outcome.ATTENDED.value, Outcome.NO_SHOW.value, Outcome.PENDING.value)
BILLED_OUTCOMES = (Outcome.NO_SHOW, Outcome.LATE_CANCELLATION)
WAIVED = Q(billing_waived_at__isnull=False)
TO_REVIEW = Q(billing_review_pending=True, session__auto_closed=True)

CLEARANCE_COUNTS = {
    "cleared": Count("pk", filter=Q(finance_cleared=True)),
    "not_cleared": Count("pk", filter=Q(finance_cleared=False)),
}


def _clearance_rows(events: "QuerySet[Any]", slot: str) -> list[dict[str, Any]]:
    """Cleared and not cleared bookings per clinic (``by_clinic``) of one kind of event."""
    return list(
        events.filter(
            Q(outcome__in=CLEARANCE_OUTCOMES), **{f"{slot}clinic__requires_finance_clearance": True}
        )
        .order_by()
        .values(by_clinic=F(f"{slot}clinic_id"))
        .annotate(**CLEARANCE_COUNTS)
    )


def _clearance_by_clinic(user: User, filters: ReportFilters) -> dict[int, Counter[str]]:
    """Cleared and not cleared bookings per clinic id: participants and legacy appointments added up."""
    return summed(
        (row["by_clinic"], Counter({state: row[state] for state in CLEARANCE_COUNTS}))
        for row in [
            *_clearance_rows(participant_events(user, filters), "session__"),
            *_clearance_rows(appointment_events(user, filters), ""),
        ]
    )


def _clearance_cells(cleared: int, not_cleared: int) -> dict[str, object]:
    total = cleared + not_cleared
    return {"cleared": cleared, "not_cleared": not_cleared, "total": total, "share": rate(cleared, total)}


def _clearance_total(by_clinic: dict[int, Counter[str]]) -> dict[str, int]:
    """Cleared and not cleared bookings of every clinic added up."""
    return {state: sum(counts[state] for counts in by_clinic.values()) for state in CLEARANCE_COUNTS}


def _clearance_table(user: User, by_clinic: dict[int, Counter[str]]) -> Table:
    clinics = clinic_names(user, by_clinic)
    rows = [
        {"clinic": clinics[pk], **_clearance_cells(**by_clinic[pk])} for pk in by_name(by_clinic, clinics)
    ]
    if rows:
        rows.append({"clinic": _("All clinics"), **_clearance_cells(**_clearance_total(by_clinic))})
    return Table(
        key="clearance",
        title=_("Bookings by finance clearance"),
        columns=(
            Column("clinic", _("Clinic")),
            Column("cleared", _("Finance cleared"), Kind.NUMBER),
            Column("not_cleared", _("Not cleared"), Kind.NUMBER),
            Column("total", _("Bookings"), Kind.NUMBER),
            Column("share", _("Cleared"), Kind.PERCENT),
        ),
        rows=rows,
        empty_message=_("No bookings needing finance clearance in this range."),
    )


def _billing_counts(participants: ParticipantEvents) -> dict[str, int]:
    """Billable and waived items of each outcome, and the no-shows of auto-closed sessions to review."""
    counts: dict[str, Any] = {"to_review": Count("pk", filter=TO_REVIEW)}
    for outcome in BILLED_OUTCOMES:
        counts[f"{outcome.value}_billable"] = Count("pk", filter=Q(outcome=outcome.value, billable=True))
        counts[f"{outcome.value}_waived"] = Count("pk", filter=Q(outcome=outcome.value) & WAIVED)
    return participants.aggregate(**counts)


def _billed(counts: dict[str, int], outcome: Outcome) -> tuple[int, int]:
    """The billable and the waived items of ``outcome`` among ``_billing_counts``."""
    return counts[f"{outcome.value}_billable"], counts[f"{outcome.value}_waived"]


def _billing_summary(counts: dict[str, int]) -> Table:
    rows = []
    for outcome in BILLED_OUTCOMES:
        billable, waived = _billed(counts, outcome)
        rows.append(
            {"outcome": outcome.label, "billable": billable, "waived": waived, "total": billable + waived}
        )
    return Table(
        key="billing_summary",
        title=_("Billable no-shows and late cancellations"),
        columns=(
            Column("outcome", _("Outcome")),
            Column("billable", _("Billable, not waived"), Kind.NUMBER),
            Column("waived", _("Waived"), Kind.NUMBER),
            Column("total", _("Total"), Kind.NUMBER),
        ),
        rows=rows,
    )


def _waiver(participant: SessionParticipant) -> tuple[StrOrPromise, str]:
    """Who waived the charge (or "Not waived") and why."""
    if participant.billing_waived_at is None:
        return _("Not waived"), ""
    waived_by = participant.billing_waived_by
    return (str(waived_by) if waived_by is not None else ""), participant.billing_waived_reason


def _participant_cells(participant: SessionParticipant) -> dict[str, object]:
    """What both lists show of a participant and its session, linked to the session's page."""
    session = participant.session
    return {
        "day": session.scheduled_date,
        "time": session.scheduled_time.strftime("%H:%M"),
        **child_cells(participant.patient),
        "number": participant.appointment_number,
        "clinic": str(session.clinic),
        "provider": str(session.provider),
        "url": reverse("appointments:session_detail", args=[session.pk]),
    }


SLOT_COLUMNS = (
    Column("day", _("Date"), Kind.DATE),
    Column("time", _("Time")),
    *child_columns(),
    Column("number", _("Appointment number")),
    Column("clinic", _("Clinic")),
    Column("provider", _("Provider")),
)


def _outcome_label(participant: SessionParticipant) -> StrOrPromise:
    if participant.status == ParticipantStatus.NO_SHOW:
        return Outcome.NO_SHOW.label
    return Outcome.LATE_CANCELLATION.label


def _billing_items(participants: ParticipantEvents, total: int) -> Table:
    items = (
        participants.filter(Q(outcome__in=[outcome.value for outcome in BILLED_OUTCOMES]))
        .filter(Q(billable=True) | WAIVED)
        .select_related("patient", "session__clinic", "session__provider__user", "billing_waived_by")
        .order_by("-session__scheduled_date", "-session__scheduled_time", "-pk")[:LIST_LIMIT]
    )
    rows = []
    for item in items:
        waived_by, reason = _waiver(item)
        rows.append(
            {
                **_participant_cells(item),
                "outcome": _outcome_label(item),
                "waived_by": waived_by,
                "reason": reason,
            }
        )
    return Table(
        key="billing_items",
        title=limited_title(_("Billable items"), len(rows), total, newest=True),
        columns=(
            *SLOT_COLUMNS,
            Column("outcome", _("Outcome")),
            Column("waived_by", _("Waived by")),
            Column("reason", _("Reason for waiving")),
        ),
        rows=rows,
        empty_message=_("No billable no-shows or late cancellations in this range."),
    )


def _review_items(participants: ParticipantEvents, total: int) -> Table:
    items = (
        participants.filter(TO_REVIEW)
        .select_related("patient", "session__clinic", "session__provider__user")
        .order_by("session__scheduled_date", "session__scheduled_time", "pk")[:LIST_LIMIT]
    )
    rows = [{**_participant_cells(item), "session": item.session.service_type} for item in items]
    return Table(
        key="to_review",
        title=limited_title(_("Auto-closed sessions to review"), len(rows), total, newest=False),
        columns=(*SLOT_COLUMNS[:2], Column("session", _("Session")), *SLOT_COLUMNS[2:]),
        rows=rows,
        empty_message=_("No auto-closed session waits for review in this range."),
    )


def _chart(by_clinic: dict[int, Counter[str]], counts: dict[str, int]) -> Chart:
    clearance = _clearance_total(by_clinic)
    no_shows_billable, no_shows_waived = _billed(counts, Outcome.NO_SHOW)
    late_billable, late_waived = _billed(counts, Outcome.LATE_CANCELLATION)
    bars: list[tuple[StrOrPromise, int]] = [
        (_("Finance cleared"), clearance["cleared"]),
        (_("Not cleared"), clearance["not_cleared"]),
        (_("No-shows, billable"), no_shows_billable),
        (_("No-shows, waived"), no_shows_waived),
        (_("Late cancellations, billable"), late_billable),
        (_("Late cancellations, waived"), late_waived),
        (_("No-shows to review"), counts["to_review"]),
    ]
    return Chart(
        kind="bar",
        labels=[label for label, _count in bars],
        datasets=[Dataset(_("Bookings"), [count for _label, count in bars])],
        y_title=_("Bookings"),
    )


def finance_report(user: User, filters: ReportFilters) -> Report:
    participants = participant_events(user, filters)
    by_clinic = _clearance_by_clinic(user, filters)
    counts = _billing_counts(participants)
    billed_total = sum(sum(_billed(counts, outcome)) for outcome in BILLED_OUTCOMES)
    return Report(
        key="finance",
        title=_("Finance"),
        description=_(
            "Bookings by finance clearance, billable no-shows and late cancellations (waived or not), "
            "and the no-shows of sessions closed automatically that are still to review."
        ),
        tables=(
            _clearance_table(user, by_clinic),
            _billing_summary(counts),
            _billing_items(participants, billed_total),
            _review_items(participants, counts["to_review"]),
        ),
        chart=_chart(by_clinic, counts),
        notes=(
            COUNTED_ONCE,
            _(
                "Clearance counts the bookings of clinics that require finance clearance at check-in: "
                "booked, confirmed, arrived, attended and no-shows. Cancellations and children turned "
                "away need no clearance and are left out."
            ),
            _(
                "Billable: a no-show, or a family's cancellation inside the clinic's late-cancellation "
                "window, not waived. Waived: one that finance waived, with who and why. Legacy "
                "appointments carry no billing flags."
            ),
            _(
                "To review: the no-shows of sessions closed automatically, waiting for the front desk "
                "or finance to confirm them as billable or waive them."
            ),
            _(
                "The lists show at most %(limit)d rows: billable items newest first, sessions to "
                "review oldest first. The counts above them cover every row."
            )
            % {"limit": LIST_LIMIT},
        ),
    )
