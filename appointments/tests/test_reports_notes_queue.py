"""The notes queue: attendances with no note or an unsigned one, 48 hours after the session ended.

The fixed data (the clock at Sunday 15/03/2026 10:00, Riyadh), in a psychology clinic:

- Dr Amira Saleh's group on Friday 13/03 08:00-09:00 (ended 49 hours ago): Amal attended with
  no note, Badr attended with a draft, Dana attended with a signed note, Fahd a no-show;
- her group on Friday 13/03 10:00-11:00 (ended 47 hours ago): Huda attended, no note;
- her legacy appointment on Thursday 12/03 15:00-15:45, completed and back-filled: Khalid,
  no note (one entry, as the participant);
- Dr Basim Nasser's group on Tuesday 10/03 09:00-10:00: Jana attended, no note;
- his legacy appointment on Wednesday 11/03 09:00-09:45, completed, not back-filled, with a
  draft note: Lina.

A speech therapy clinic (no notes kept here) has an attended child with no note, and so has
another organisation's psychology clinic: neither is ever listed.
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from appointments.backfill_service import BackfillScope, backfill_sessions
from appointments.models import SessionParticipant
from appointments.notes.services import NoteService
from appointments.reports.base import ReportFilters
from appointments.reports.notes_queue import notes_queue_report
from appointments.session_service import SessionService
from appointments.tests.report_fixtures import (
    FORTNIGHT,
    FRIDAY,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    attend,
    attended_group,
    child,
    completed_appointment,
    individual_attended,
    other_organisation,
    queries_run,
    table,
)
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, ProviderFactory
from core.tests.view_helpers import booked, group_session, staff_member
from psychology.models import PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)
NOW = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=ZONE)


def draft_note(participant: SessionParticipant, provider) -> PsychologySession:
    return NoteService.create_note(
        PsychologySession,
        participant=participant,
        provider=provider,
        user=provider.user,
        presenting_issues="Separation anxiety",
    )


def report(user, filters: ReportFilters = FORTNIGHT):
    with time_machine.travel(NOW, tick=False):
        return notes_queue_report(user, filters)


def entries(built) -> list[tuple]:
    return [
        (row["day"], row["child"], row["clinician"], str(row["state"]), row["overdue"])
        for row in table(built, "entries").rows
    ]


def summary(built) -> list[tuple]:
    return [
        (row["clinician"], row["missing"], row["unsigned"], row["total"], row["oldest"])
        for row in table(built, "clinicians").rows
    ]


@pytest.fixture
def admin(tenant):
    return staff_member(tenant, User.Role.ADMIN)


@pytest.fixture
def psychology(tenant):
    return ClinicFactory(tenant=tenant, name_en="Psychology clinic")


@pytest.fixture
def amira(psychology):
    return ProviderFactory(clinic=psychology, user__first_name="Amira", user__last_name="Saleh")


@pytest.fixture
def basim(psychology):
    return ProviderFactory(clinic=psychology, user__first_name="Basim", user__last_name="Nasser")


@pytest.fixture
def friday(tenant, psychology, amira):
    """Amira's two Friday groups: Amal, Badr (draft), Dana (signed), Fahd (no-show); then Huda."""
    session = group_session(amira, psychology, day=FRIDAY, hour=8)
    came = {
        name: attend(session, child(tenant, name, arabic))
        for name, arabic in (("Amal", "أمل"), ("Badr", "بدر"), ("Dana", "دانة"))
    }
    fahd = booked(session, child(tenant, "Fahd"))
    SessionService.mark_participant_no_show(fahd)
    SessionService.complete_session(session)
    came["Badr"].refresh_from_db()
    came["Dana"].refresh_from_db()
    came["Badr_note"] = draft_note(came["Badr"], amira)
    NoteService.sign_note(draft_note(came["Dana"], amira), user=amira.user)
    came.update(attended_group(amira, psychology, FRIDAY, 10, "Huda"))
    return came


@pytest.fixture
def khalid(tenant, psychology, amira):
    """Amira's legacy appointment, completed and back-filled: its participant."""
    appointment = completed_appointment(amira, psychology, child(tenant, "Khalid"), THURSDAY)
    backfill_sessions(BackfillScope(clinic=psychology, since=THURSDAY, until=THURSDAY))
    return SessionParticipant.objects.get(legacy_appointment=appointment)


@pytest.fixture
def basims_bookings(tenant, psychology, basim):
    """Jana's group on Tuesday; Lina's legacy appointment on Wednesday, with a draft note."""
    jana = attended_group(basim, psychology, TUESDAY, 9, "Jana")["Jana"]
    appointment = completed_appointment(basim, psychology, child(tenant, "Lina"), WEDNESDAY, hour=9)
    note = PsychologySessionFactory(appointment=appointment)
    return jana, appointment, note


@pytest.fixture
def left_out(tenant):
    """An attended child with no note in a speech therapy clinic, and in another organisation."""
    speech = ClinicFactory(tenant=tenant, name_en="Speech clinic", specialty=Clinic.Specialty.SLP)
    attended_group(ProviderFactory(clinic=speech), speech, TUESDAY, 9, "Sami")
    their_clinic, their_provider = other_organisation(name_en="Their clinic")
    attended_group(their_provider, their_clinic, TUESDAY, 9, "Zaid")
    return their_clinic.tenant


@pytest.fixture
def example(friday, khalid, basims_bookings, left_out):
    return friday


def test_notes_queue_lists_missing_and_unsigned_notes_oldest_first(admin, example):
    built = report(admin)

    # Hours overdue count from 48 hours after the end: Jana's ended Tuesday 10:00 (120 h
    # ago), Lina's Wednesday 09:45 (96.25 h), Khalid's Thursday 15:45 (66.25 h), Friday's 09:00 (49 h).
    assert entries(built) == [
        (TUESDAY, "Jana Test", "Dr Basim Nasser", "No note", Decimal("72.0")),
        (WEDNESDAY, "Lina Test", "Dr Basim Nasser", "Unsigned draft", Decimal("48.3")),
        (THURSDAY, "Khalid Test", "Dr Amira Saleh", "No note", Decimal("18.3")),
        (FRIDAY, "Amal Test", "Dr Amira Saleh", "No note", Decimal("1.0")),
        (FRIDAY, "Badr Test", "Dr Amira Saleh", "Unsigned draft", Decimal("1.0")),
    ]


def test_notes_queue_summary_per_clinician(admin, example):
    assert summary(report(admin)) == [
        ("Dr Amira Saleh", 2, 1, 3, THURSDAY),
        ("Dr Basim Nasser", 1, 1, 2, TUESDAY),
    ]


def test_notes_queue_chart_stacks_missing_and_unsigned_per_clinician(admin, example):
    chart = report(admin).chart

    assert chart is not None
    assert chart.labels == ["Dr Amira Saleh", "Dr Basim Nasser"]
    assert chart.stacked
    assert [(str(dataset.label), dataset.values) for dataset in chart.datasets] == [
        ("Missing notes", [2, 1]),
        ("Unsigned notes", [1, 1]),
    ]


def test_notes_queue_entries_link_to_the_note_or_the_page_to_write_it(
    admin, example, khalid, basims_bookings
):
    jana, appointment, lina_note = basims_bookings

    urls = {row["child"]: row["url"] for row in table(report(admin), "entries").rows}

    assert urls == {
        "Jana Test": reverse("notes:participant_note_write", args=[jana.pk]),
        "Lina Test": reverse("notes:note_detail", args=["psychology", lina_note.pk]),
        "Khalid Test": reverse("notes:participant_note_write", args=[khalid.pk]),
        "Amal Test": reverse("notes:participant_note_write", args=[example["Amal"].pk]),
        "Badr Test": reverse("notes:note_detail", args=["psychology", example["Badr_note"].pk]),
    }


def test_notes_queue_entry_shows_the_appointment_number(admin, example, khalid):
    rows = table(report(admin), "entries").rows

    assert [row["number"] for row in rows if row["child"] == "Khalid Test"] == [khalid.appointment_number]
    assert [row["mrn"] for row in rows if row["child"] == "Khalid Test"] == ["MRN-KHALID"]


def test_notes_queue_48_hour_boundary(admin, example):
    children = {row["child"] for row in table(report(admin), "entries").rows}
    # An hour later Huda's session (ended Friday 11:00) is 48 hours behind: due, and listed.
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        later = {row["child"] for row in table(notes_queue_report(admin, FORTNIGHT), "entries").rows}

    assert "Huda Test" not in children  # ended 47 hours ago
    assert "Amal Test" in children  # ended 49 hours ago
    assert later - children == {"Huda Test"}


def test_notes_queue_signing_the_draft_removes_the_entry(admin, example, amira):
    NoteService.sign_note(example["Badr_note"], user=amira.user)

    built = report(admin)

    assert "Badr Test" not in [row["child"] for row in table(built, "entries").rows]
    assert summary(built)[0] == ("Dr Amira Saleh", 2, 0, 2, THURSDAY)


def test_notes_queue_writing_a_note_turns_missing_into_unsigned(admin, example, amira):
    draft_note(example["Amal"], amira)

    states = {row["child"]: str(row["state"]) for row in table(report(admin), "entries").rows}

    assert states["Amal Test"] == "Unsigned draft"


def test_notes_queue_clinician_sees_only_their_own(example, amira, basim):
    assert summary(report(amira.user)) == [("Dr Amira Saleh", 2, 1, 3, THURSDAY)]
    assert [row[1] for row in entries(report(basim.user))] == ["Jana Test", "Lina Test"]
    # The filters can't widen it: Basim asking for Amira's queue gets nothing.
    assert (
        entries(
            report(basim.user, ReportFilters(FORTNIGHT.date_from, FORTNIGHT.date_to, provider_id=amira.pk))
        )
        == []
    )


def test_notes_queue_user_without_sessions_sees_nothing(tenant, example):
    assert table(report(staff_member(tenant, User.Role.PSYCHOLOGIST)), "entries").rows == []


def test_notes_queue_other_organisation_sees_only_its_own(example, left_out):
    their_admin = staff_member(left_out, User.Role.ADMIN)

    assert [row[1] for row in entries(report(their_admin))] == ["Zaid Test"]


def test_notes_queue_filters_narrow(admin, example, basim):
    only_basim = report(admin, ReportFilters(FORTNIGHT.date_from, FORTNIGHT.date_to, provider_id=basim.pk))
    late_week = report(admin, ReportFilters(THURSDAY, FRIDAY))
    speech = report(
        admin, ReportFilters(FORTNIGHT.date_from, FORTNIGHT.date_to, specialty=Clinic.Specialty.SLP)
    )

    assert [row[1] for row in entries(only_basim)] == ["Jana Test", "Lina Test"]
    assert [row[1] for row in entries(late_week)] == ["Khalid Test", "Amal Test", "Badr Test"]
    assert summary(late_week) == [("Dr Amira Saleh", 2, 1, 3, THURSDAY)]
    assert entries(speech) == []


def test_notes_queue_names_children_in_the_active_language(admin, example):
    with translation.override("ar"):
        built = report(admin)

    names = [row["child"] for row in table(built, "entries").rows]
    assert "أمل اختبار" in names
    assert "بدر اختبار" in names


def test_notes_queue_notes_name_the_disciplines_left_out(admin, example):
    notes = [str(note) for note in report(admin).notes]

    assert (
        "Clinics keeping no notes in this system are left out: Speech-language pathology, Medical, Nursing."
        in notes
    )


def test_notes_queue_bounded_list_says_so(admin, example, monkeypatch):
    monkeypatch.setattr("appointments.reports.notes_queue.LIST_LIMIT", 2)

    built = report(admin)

    assert [row[1] for row in entries(built)] == ["Jana Test", "Lina Test"]
    assert str(table(built, "entries").title) == "Overdue notes: the oldest 2 of 5"
    assert [row[3] for row in summary(built)] == [3, 2]


def more_data(tenant, psychology, amira, basim) -> None:
    """More of each kind: missing and unsigned notes of sessions, a legacy appointment with none."""
    came = attended_group(amira, psychology, TUESDAY, 14, "Yara", "Yusuf")
    draft_note(came["Yusuf"], amira)
    attended_group(basim, psychology, WEDNESDAY, 14, "Yasmin")
    completed_appointment(basim, psychology, child(tenant, "Yahya"), THURSDAY, hour=9)


def test_notes_queue_query_count_is_the_same_at_two_sizes(admin, example, tenant, psychology, amira, basim):
    small_report, small = queries_run(report, admin)
    more_data(tenant, psychology, amira, basim)
    larger_report, larger = queries_run(report, admin)

    assert len(table(larger_report, "entries").rows) == len(table(small_report, "entries").rows) + 4
    assert small == 6
    assert larger == 6


def test_notes_queue_session_types_are_both_listed(admin, example, tenant, psychology, amira):
    individual_attended(
        amira, psychology, child(tenant, "Omar"), TUESDAY, 16, duration=30, service_type="Assessment"
    )

    rows = table(report(admin), "entries").rows

    assert [(row["child"], row["overdue"]) for row in rows if row["child"] == "Omar Test"] == [
        ("Omar Test", Decimal("65.5"))
    ]
