"""Notes queue: children who attended with no note, and unsigned notes, 48 hours after the session.

An attendance is a participant marked attended, or a legacy appointment completed and not
back-filled (``appointments.reports.events``: each appointment number once). Its note is the
note of the clinic's discipline linked to the participant (or, for a back-filled participant
whose note the back-fill has not linked yet, to its legacy appointment), or to the legacy
appointment. The note models come from ``appointments.notes.registry``: a clinic whose
discipline keeps no notes here (speech therapy, medical, nursing) expects none and is left out.

An attendance is overdue once 48 hours have passed since its session ended (its date and
start time in the installation's time zone, plus its minutes), with no note or only a draft.
The clinician is the session's (or appointment's) provider. A user with
``Capability.VIEW_REPORTS`` sees every clinician's queue; anyone else only their own.

Two aggregate queries (participants, legacy appointments), two list queries, then one
query each for the clinicians and children named: six, whatever the number of rows. The
list stops at ``LIST_LIMIT`` entries, oldest first; the counts cover every entry.
"""

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Case, CharField, Count, Exists, F, Min, OuterRef, Q, Subquery, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.notes.models import ClinicalNote
from appointments.notes.registry import note_models
from appointments.reports.base import Chart, Column, Dataset, Kind, Report, ReportFilters, Table, one_decimal
from appointments.reports.events import Outcome, appointment_events, participant_events
from appointments.reports.grouping import (
    by_name,
    child_cells,
    child_columns,
    limited_title,
    patients,
    provider_names,
)
from core import clock
from core.models import Clinic, User
from core.permissions import Capability, has_capability

NOTE_DUE_AFTER = datetime.timedelta(hours=48)
# The longest list shown; the summary counts every entry.
LIST_LIMIT = 500

MISSING = "missing"
UNSIGNED = "unsigned"
STATES = (MISSING, UNSIGNED)
STATE_LABELS = {MISSING: _("No note"), UNSIGNED: _("Unsigned draft")}
ONE_MICROSECOND = datetime.timedelta(microseconds=1)
MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)


def slot_end(slot: str) -> models.Func:
    """When a slot ends, as a moment: its date and start time read in the installation's
    time zone, plus its minutes (``(date + time) AT TIME ZONE zone + minutes``)."""
    joined = "(%(expressions)s)"
    start = models.Func(
        F(f"{slot}scheduled_date"),
        F(f"{slot}scheduled_time"),
        template=joined,
        arg_joiner=" + ",
        output_field=models.DateTimeField(),
    )
    moment = models.Func(
        start,
        Value(timezone.get_default_timezone_name()),
        template=joined,
        arg_joiner=" AT TIME ZONE ",
        output_field=models.DateTimeField(),
    )
    length = models.Func(
        F(f"{slot}duration"),
        template="(%(expressions)s * INTERVAL '1 minute')",
        output_field=models.DurationField(),
    )
    return models.Func(moment, length, template=joined, arg_joiner=" + ", output_field=models.DateTimeField())


@dataclass(frozen=True)
class Attendances:
    """How to read one kind of attendance (participants, legacy appointments) as queue entries."""

    events: "models.QuerySet[Any]"
    slot: str  # the path from a row to its date, time, clinic and provider
    note_link: Q  # a note's link to the row (through OuterRef)
    write_url: Callable[[int], str]  # the page to write the missing note of a row's id

    def _notes(self, user: User, model: type[ClinicalNote]) -> "models.QuerySet[ClinicalNote]":
        return model.objects.for_user(user).filter(self.note_link)

    def _specialty_is(self, specialty: str) -> Q:
        return Q(**{f"{self.slot}clinic__specialty": specialty})

    def _state(self, user: User) -> Case:
        """The entry's state: missing (no note of the clinic's discipline), unsigned (a draft), else ""."""
        whens = []
        for specialty, model in note_models().items():
            notes = self._notes(user, model)
            whens.append(When(self._specialty_is(specialty) & ~Exists(notes), then=Value(MISSING)))
            whens.append(
                When(
                    self._specialty_is(specialty) & Exists(notes.filter(status=ClinicalNote.Status.DRAFT)),
                    then=Value(UNSIGNED),
                )
            )
        return Case(*whens, default=Value(""), output_field=CharField())

    def _draft(self, user: User) -> Case:
        """The id of the attendance's draft note, if any."""
        return Case(
            *(
                When(
                    self._specialty_is(specialty),
                    then=Subquery(
                        self._notes(user, model).filter(status=ClinicalNote.Status.DRAFT).values("pk")[:1]
                    ),
                )
                for specialty, model in note_models().items()
            ),
            default=Value(None),
            output_field=models.IntegerField(),
        )

    def overdue(self, user: User, ended_by: datetime.datetime) -> "models.QuerySet[Any]":
        """The attendances of disciplines keeping notes here whose slot ended by ``ended_by``,
        with their ``state``, ``ends_at``, ``by_provider`` and ``specialty``."""
        slot = self.slot
        attended = self.events.filter(
            outcome=Outcome.ATTENDED.value,
            **{
                f"{slot}clinic__specialty__in": list(note_models()),
                # The end is never before the start's day: lets PostgreSQL bound the dates first.
                f"{slot}scheduled_date__lte": timezone.localdate(ended_by, timezone.get_default_timezone()),
            },
        )
        if not has_capability(user, Capability.VIEW_REPORTS):
            attended = attended.filter(**{f"{slot}provider__user": user})
        return (
            attended.annotate(
                ends_at=slot_end(slot),
                state=self._state(user),
                by_provider=F(f"{slot}provider_id"),
                specialty=F(f"{slot}clinic__specialty"),
            )
            .filter(ends_at__lte=ended_by)
            .order_by()
        )

    def counts(self, user: User, ended_by: datetime.datetime) -> list[dict[str, Any]]:
        """Entries and the oldest date per clinician and state (rows with no entry grouped apart)."""
        return list(
            self.overdue(user, ended_by)
            .values("by_provider", "state")
            .annotate(entries=Count("pk"), oldest=Min("day"))
        )

    def first_entries(self, user: User, ended_by: datetime.datetime) -> list[dict[str, Any]]:
        """The ``LIST_LIMIT`` oldest entries, each with its ``url``."""
        rows = list(
            self.overdue(user, ended_by)
            .filter(state__in=STATES)
            .annotate(draft=self._draft(user))
            .order_by("ends_at", "appointment_number")
            .values(
                "pk",
                "day",
                "ends_at",
                "patient_id",
                "by_provider",
                "appointment_number",
                "state",
                "draft",
                "specialty",
            )[:LIST_LIMIT]
        )
        for row in rows:
            row["url"] = (
                reverse("notes:note_detail", args=[row["specialty"], row["draft"]])
                if row["state"] == UNSIGNED
                else self.write_url(row["pk"])
            )
        return rows


def _participants(user: User, filters: ReportFilters) -> Attendances:
    return Attendances(
        participant_events(user, filters),
        "session__",
        Q(session_participant_id=OuterRef("pk")) | Q(appointment_id=OuterRef("legacy_appointment_id")),
        lambda pk: reverse("notes:participant_note_write", args=[pk]),
    )


def _legacy(user: User, filters: ReportFilters) -> Attendances:
    # Legacy notes are written in the legacy workflow: the entry opens the appointment.
    return Attendances(
        appointment_events(user, filters),
        "",
        Q(appointment_id=OuterRef("pk")),
        lambda pk: reverse("appointments:appointment_detail", args=[pk]),
    )


def _hours_overdue(ends_at: datetime.datetime, now: datetime.datetime) -> Decimal:
    """Hours since the note fell due, one decimal; in whole microseconds so no float rounds it."""
    overdue = (now - ends_at - NOTE_DUE_AFTER) // ONE_MICROSECOND
    return one_decimal(Decimal(overdue) / MICROSECONDS_PER_HOUR)


def notes_queue_report(user: User, filters: ReportFilters) -> Report:
    now = clock.now()
    ended_by = now - NOTE_DUE_AFTER
    kinds = (_participants(user, filters), _legacy(user, filters))

    per_clinician: dict[int, Counter[str]] = {}
    oldest: dict[int, datetime.date] = {}
    for kind in kinds:
        for row in kind.counts(user, ended_by):
            if row["state"] not in STATES:
                continue
            provider = row["by_provider"]
            per_clinician.setdefault(provider, Counter())[row["state"]] += row["entries"]
            oldest[provider] = min(oldest.get(provider, row["oldest"]), row["oldest"])
    total = sum(sum(counts.values()) for counts in per_clinician.values())

    first = sorted(
        (row for kind in kinds for row in kind.first_entries(user, ended_by)),
        key=lambda row: (row["ends_at"], row["appointment_number"]),
    )[:LIST_LIMIT]
    names = provider_names(user, [*per_clinician, *(row["by_provider"] for row in first)])
    children = patients(user, (row["patient_id"] for row in first))

    clinicians = by_name(per_clinician, names)
    summary_rows = [
        {
            "clinician": names[pk],
            MISSING: per_clinician[pk][MISSING],
            UNSIGNED: per_clinician[pk][UNSIGNED],
            "total": per_clinician[pk][MISSING] + per_clinician[pk][UNSIGNED],
            "oldest": oldest[pk],
        }
        for pk in clinicians
    ]
    entry_rows = [
        {
            "day": row["day"],
            **child_cells(children[row["patient_id"]]),
            "clinician": names[row["by_provider"]],
            "number": row["appointment_number"],
            "state": STATE_LABELS[row["state"]],
            "overdue": _hours_overdue(row["ends_at"], now),
            "url": row["url"],
        }
        for row in first
    ]
    return Report(
        key="notes_queue",
        title=_("Notes queue"),
        description=_(
            "Children who attended with no note, and notes still unsigned, 48 hours after "
            "the session ended, per clinician."
        ),
        tables=(
            Table(
                key="clinicians",
                title=_("By clinician"),
                columns=(
                    Column("clinician", _("Clinician")),
                    Column(MISSING, _("Missing notes"), Kind.NUMBER),
                    Column(UNSIGNED, _("Unsigned notes"), Kind.NUMBER),
                    Column("total", _("Total"), Kind.NUMBER),
                    Column("oldest", _("Oldest overdue"), Kind.DATE),
                ),
                rows=summary_rows,
                empty_message=_("No overdue notes."),
            ),
            Table(
                key="entries",
                title=limited_title(_("Overdue notes"), len(entry_rows), total, newest=False),
                columns=(
                    Column("day", _("Date"), Kind.DATE),
                    *child_columns(),
                    Column("clinician", _("Clinician")),
                    Column("number", _("Appointment number")),
                    Column("state", _("State")),
                    Column("overdue", _("Hours overdue"), Kind.HOURS),
                ),
                rows=entry_rows,
                empty_message=_("No overdue notes."),
            ),
        ),
        chart=Chart(
            kind="bar",
            labels=[names[pk] for pk in clinicians],
            datasets=[
                Dataset(_("Missing notes"), [per_clinician[pk][MISSING] for pk in clinicians]),
                Dataset(_("Unsigned notes"), [per_clinician[pk][UNSIGNED] for pk in clinicians]),
            ],
            stacked=True,
            y_title=_("Notes"),
        ),
        notes=(
            _(
                "Attended: a child marked attended, or a legacy appointment completed and not yet "
                "back-filled (each appointment number once)."
            ),
            _(
                "A note is due 48 hours after the session ends (its date and start time plus its "
                "length). Listed: no note of the clinic's discipline (missing), or only a draft "
                "(unsigned). Hours overdue count from the moment it fell due."
            ),
            _("Clinics keeping no notes in this system are left out: %(disciplines)s.")
            % {"disciplines": _without_notes()},
            _("The clinician is the session's provider. Clinicians see only their own queue."),
            _("The list shows the oldest %(limit)d entries at most; the counts cover every entry.")
            % {"limit": LIST_LIMIT},
        ),
    )


def _without_notes() -> str:
    registered = note_models()
    return ", ".join(
        str(specialty.label) for specialty in Clinic.Specialty if specialty.value not in registered
    )
