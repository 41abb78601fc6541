"""Moving a session: ``SessionService.reschedule_session``, its page, its admin action, "moved from".

Tuesday's group moves to Wednesday: every child keeps their booking and number, the new
slot is checked for the provider, the room, the clinic's hours and each child's other
bookings - every clash listed at once - and the session keeps where it was until the
families are told. The legacy ``AppointmentService.reschedule`` follows the same rules.
The concurrency tests race real threads (``threads.run_together``) on committed rows.
"""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils.formats import date_format

from appointments import booking_rules
from appointments.appointment_service import AppointmentService
from appointments.exceptions import ConflictError, InvalidTransition, OutOfScope, SlotTimeError
from appointments.integrity import check_integrity
from appointments.models import Appointment, AppointmentNumberCounter, Session, SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import check_in
from appointments.tests.threads import run_together
from core import locks
from core.models import OpeningHours, OpeningHoursOverride, User
from core.opening_hours import outside_hours_message
from core.tests.admin_helpers import admin_url, message_texts, tenant_admin_staff
from core.tests.factories import (
    ClinicFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    TenantFactory,
)
from core.tests.view_helpers import messages_of, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status
# frozen_today is Sunday 15 March 2026: the group meets on Tuesday and moves to Wednesday.
TUESDAY = datetime.date(2026, 3, 17)
WEDNESDAY = datetime.date(2026, 3, 18)


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def short(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def child(tenant, first: str, last: str):
    return PatientFactory(tenant=tenant, first_name_en=first, last_name_en=last)


def session_at(provider, clinic, day, start, *, room=None, capacity=6, service_type="Social Skills Group"):
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=60,
        service_type=service_type,
        max_capacity=capacity,
        room=room,
    )


def book_legacy(provider, clinic, patient, day, start, room=None):
    return AppointmentService.book_appointment(
        patient=patient,
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=60,
        service_type="Assessment",
        room=room,
    )


@pytest.fixture
def children(tenant):
    return [child(tenant, "Sara", "Ali"), child(tenant, "Omar", "Hassan"), child(tenant, "Lina", "Khalid")]


@pytest.fixture
def tuesday_group(provider, clinic, room, children):
    """Tuesday 10:00-11:00 in the room, with Sara, Omar and Lina booked."""
    session = session_at(provider, clinic, TUESDAY, at(10), room=room)
    for patient in children:
        SessionService.add_patient_to_session(session, patient)
    return session


def participants_of(session: Session) -> list[tuple]:
    return list(
        session.participants.order_by("pk").values_list("pk", "patient_id", "appointment_number", "status")
    )


def slot_of(session: Session) -> tuple:
    session.refresh_from_db()
    return (
        session.scheduled_date,
        session.scheduled_time,
        session.duration,
        session.provider_id,
        session.room_id,
        session.moved_at,
    )


def open_on(clinic, weekday: int, opens: datetime.time, closes: datetime.time) -> None:
    OpeningHours.objects.create(clinic=clinic, weekday=weekday, opens_at=opens, closes_at=closes)


# The move


def test_reschedule_session_keeps_every_participant_and_their_number(tuesday_group, tenant):
    desk = staff_member(tenant, User.Role.FRONT_DESK)
    cancelled = SessionService.add_patient_to_session(tuesday_group, PatientFactory(tenant=tenant))
    SessionService.cancel_participant(cancelled, "Family moved away")
    SessionService.confirm_participant(tuesday_group.participants.first())
    before = participants_of(tuesday_group)
    numbers_issued = AppointmentNumberCounter.objects.get().last_number

    moved = SessionService.reschedule_session(
        tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(11), reason="Room painted", user=desk
    )

    assert moved is tuesday_group
    assert participants_of(tuesday_group) == before
    assert AppointmentNumberCounter.objects.get().last_number == numbers_issued
    tuesday_group.refresh_from_db()
    assert (tuesday_group.scheduled_date, tuesday_group.scheduled_time, tuesday_group.duration) == (
        WEDNESDAY,
        at(11),
        60,
    )
    assert tuesday_group.status == Session.Status.SCHEDULED
    assert tuesday_group.current_capacity == 3


def test_reschedule_session_keeps_where_it_was_and_the_history(tuesday_group, tenant):
    desk = staff_member(tenant, User.Role.FRONT_DESK)

    SessionService.reschedule_session(
        tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(11), reason="Room painted", user=desk
    )

    tuesday_group.refresh_from_db()
    assert (tuesday_group.moved_from_date, tuesday_group.moved_from_time) == (TUESDAY, at(10))
    assert tuesday_group.moved_at is not None
    assert tuesday_group.families_told_at is None
    latest = tuesday_group.history.latest()
    assert (
        latest.scheduled_date,
        latest.scheduled_time,
        latest.history_user,
        latest.history_change_reason,
    ) == (
        WEDNESDAY,
        at(11),
        desk,
        "Room painted",
    )
    previous = latest.prev_record
    assert (previous.scheduled_date, previous.scheduled_time) == (TUESDAY, at(10))


def test_reschedule_session_twice_keeps_the_last_place_and_asks_to_tell_the_families_again(tuesday_group):
    SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(11))
    SessionService.mark_families_told(tuesday_group)

    SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(14))

    tuesday_group.refresh_from_db()
    assert (tuesday_group.moved_from_date, tuesday_group.moved_from_time) == (WEDNESDAY, at(11))
    assert tuesday_group.families_told_at is None
    assert [version.scheduled_time for version in tuesday_group.history.order_by("history_id")][-3:] == [
        at(11),
        at(11),
        at(14),
    ]


def test_reschedule_session_to_another_provider_room_and_duration(tuesday_group, clinic, room):
    colleague, other_room = ProviderFactory(clinic=clinic), RoomFactory(clinic=clinic)

    SessionService.reschedule_session(
        tuesday_group,
        scheduled_date=WEDNESDAY,
        scheduled_time=at(9),
        duration=90,
        provider=colleague,
        room=other_room,
    )

    tuesday_group.refresh_from_db()
    assert (tuesday_group.provider, tuesday_group.room, tuesday_group.duration) == (colleague, other_room, 90)


def test_reschedule_session_overlapping_its_own_old_slot_allowed(tuesday_group):
    SessionService.reschedule_session(tuesday_group, scheduled_date=TUESDAY, scheduled_time=at(10, 30))

    tuesday_group.refresh_from_db()
    assert tuesday_group.scheduled_time == at(10, 30)


def test_reschedule_session_frees_the_old_slot(tuesday_group, provider, clinic, room, children):
    SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    taken_over = session_at(provider, clinic, TUESDAY, at(10), room=room)
    SessionService.add_patient_to_session(taken_over, children[0])

    assert taken_over.participants.count() == 1


def test_reschedule_session_ignores_children_who_hold_no_seat(tuesday_group, tenant, clinic):
    gone = SessionService.add_patient_to_session(tuesday_group, child(tenant, "Huda", "Nasser"))
    SessionService.cancel_participant(gone, "Moved away")
    elsewhere = session_at(ProviderFactory(clinic=clinic), clinic, WEDNESDAY, at(10))
    SessionService.add_patient_to_session(elsewhere, gone.patient)

    SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    tuesday_group.refresh_from_db()
    assert tuesday_group.scheduled_date == WEDNESDAY


# Clashes: nothing changes, every clash is named


def test_reschedule_session_clashing_for_one_child_of_the_group_changes_nothing_and_names_the_child(
    tuesday_group, clinic, children
):
    omar = children[1]
    elsewhere = session_at(ProviderFactory(clinic=clinic), clinic, WEDNESDAY, at(10, 30))
    SessionService.add_patient_to_session(elsewhere, omar)
    before, slot, versions = (
        participants_of(tuesday_group),
        slot_of(tuesday_group),
        tuesday_group.history.count(),
    )

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    assert refused.value.messages == [f"Omar Hassan is already booked {short(WEDNESDAY)} 10:30-11:30."]
    assert (participants_of(tuesday_group), slot_of(tuesday_group)) == (before, slot)
    assert tuesday_group.history.count() == versions


def test_reschedule_session_lists_every_clash_at_once(tuesday_group, provider, clinic, room, children):
    sara, omar, _lina = children
    colleague = ProviderFactory(clinic=clinic)
    own_other = session_at(provider, clinic, WEDNESDAY, at(14, 30), service_type="Parent training")
    in_the_room = session_at(colleague, clinic, WEDNESDAY, at(14, 45), room=room)
    SessionService.add_patient_to_session(in_the_room, sara)
    appointment = book_legacy(ProviderFactory(clinic=clinic), clinic, omar, WEDNESDAY, at(14))
    open_on(clinic, WEDNESDAY.weekday(), at(8), at(14, 30))

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(14))

    day = short(WEDNESDAY)
    assert refused.value.messages == [
        outside_hours_message(clinic, WEDNESDAY, at(14), 60),
        f"{provider} already has a booking {day} 14:30-15:30.",
        f"Room {room.name} is already booked {day} 14:45-15:45.",
        f"Sara Ali is already booked {day} 14:45-15:45.",
        f"Omar Hassan already has appointment {appointment.appointment_number} {day} 14:00-15:00.",
    ]
    assert own_other.provider == provider
    assert slot_of(tuesday_group)[:2] == (TUESDAY, at(10))


def test_reschedule_session_onto_a_booking_of_the_provider_refused(tuesday_group, provider, clinic):
    book_legacy(provider, clinic, PatientFactory(tenant=clinic.tenant), WEDNESDAY, at(9, 30))

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    assert refused.value.messages == [f"{provider} already has a booking {short(WEDNESDAY)} 09:30-10:30."]


def test_reschedule_session_into_a_busy_room_refused(tuesday_group, clinic):
    gym = RoomFactory(clinic=clinic, name="Gym")
    session_at(ProviderFactory(clinic=clinic), clinic, WEDNESDAY, at(10), room=gym)

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(
            tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10, 45), room=gym
        )

    assert refused.value.messages == [f"Room Gym is already booked {short(WEDNESDAY)} 10:00-11:00."]
    assert slot_of(tuesday_group)[4] != gym.pk


def test_reschedule_session_outside_opening_hours_refused(tuesday_group, clinic):
    open_on(clinic, WEDNESDAY.weekday(), at(8), at(12))
    open_on(clinic, WEDNESDAY.weekday(), at(13), at(17))

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(11, 30))

    assert refused.value.messages == [outside_hours_message(clinic, WEDNESDAY, at(11, 30), 60)]
    assert "08:00-12:00" in refused.value.messages[0]
    assert slot_of(tuesday_group)[:2] == (TUESDAY, at(10))


def test_reschedule_session_to_a_closed_day_refused_and_inside_the_hours_accepted(tuesday_group, clinic):
    open_on(clinic, WEDNESDAY.weekday(), at(8), at(16))
    thursday = WEDNESDAY + datetime.timedelta(days=1)
    OpeningHoursOverride.objects.create(clinic=clinic, date=thursday, closed=True, note="National day")

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=thursday, scheduled_time=at(10))
    SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(15))

    assert refused.value.messages == [outside_hours_message(clinic, thursday, at(10), 60)]
    assert slot_of(tuesday_group)[:2] == (WEDNESDAY, at(15))


def test_reschedule_session_database_constraint_backs_up_the_check(
    tuesday_group, provider, clinic, monkeypatch
):
    session_at(provider, clinic, WEDNESDAY, at(10))
    monkeypatch.setattr(booking_rules, "slot_clashes", lambda **slot: [])

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    assert refused.value.messages == [f"{provider} or the room is already booked at that time."]
    assert slot_of(tuesday_group)[:2] == (TUESDAY, at(10))


# Refusals before any clash


@pytest.mark.parametrize("close", ["start", "complete", "cancel"])
def test_reschedule_session_not_scheduled_refused(provider, clinic, close):
    session = session_at(provider, clinic, datetime.date(2026, 3, 15), at(9))
    {
        "start": lambda: SessionService.start_session(session),
        "complete": lambda: SessionService.complete_session(session),
        "cancel": lambda: SessionService.cancel_session(session, "Provider ill"),
    }[close]()
    status = session.get_status_display().lower()

    with pytest.raises(InvalidTransition) as refused:
        SessionService.reschedule_session(session, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    assert refused.value.messages == [f"Only a scheduled session can be rescheduled; this one is {status}."]
    assert slot_of(session)[:2] == (datetime.date(2026, 3, 15), at(9))


def test_reschedule_session_with_a_child_checked_in_refused(provider, clinic, children):
    session = session_at(provider, clinic, datetime.date(2026, 3, 15), at(9))
    sara = SessionService.add_patient_to_session(session, children[0])
    check_in(sara)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.reschedule_session(session, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    assert refused.value.messages == [
        "Attendance is already recorded for Sara Ali; a session under way can't be moved."
    ]


def test_reschedule_session_to_the_same_slot_refused(tuesday_group):
    with pytest.raises(InvalidTransition) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=TUESDAY, scheduled_time=at(10))

    assert refused.value.messages == ["The session is already at that time, with that provider and room."]
    assert slot_of(tuesday_group)[5] is None


def test_reschedule_session_to_a_provider_or_room_of_another_clinic_refused(tuesday_group, clinic):
    elsewhere = ClinicFactory(tenant=clinic.tenant)
    stranger, far_room = ProviderFactory(clinic=elsewhere), RoomFactory(clinic=elsewhere, name="Far")

    with pytest.raises(OutOfScope) as wrong_provider:
        SessionService.reschedule_session(
            tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10), provider=stranger
        )
    with pytest.raises(OutOfScope) as wrong_room:
        SessionService.reschedule_session(
            tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10), room=far_room
        )

    assert wrong_provider.value.messages == [f"{stranger} does not work in {clinic}."]
    assert wrong_room.value.messages == [f"Room Far is not in {clinic}."]


def test_reschedule_session_into_a_clock_change_refused(tuesday_group, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    spring_forward = datetime.date(2026, 3, 29)

    with pytest.raises(SlotTimeError) as refused:
        SessionService.reschedule_session(
            tuesday_group, scheduled_date=spring_forward, scheduled_time=at(2, 30)
        )

    assert refused.value.messages == [
        f"02:30 on {short(spring_forward)} doesn't exist in Europe/Berlin: the clocks go forward that night. "
        "Choose another start time."
    ]


def test_reschedule_session_changed_by_someone_else_meanwhile_refused(tuesday_group):
    # Another front desk moved it after this caller read it.
    Session.objects.filter(pk=tuesday_group.pk).update(scheduled_time=at(12))

    with pytest.raises(ConflictError) as refused:
        SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(10))

    assert refused.value.messages == [
        "This session was changed while you were rescheduling it; reload it and try again."
    ]
    assert slot_of(tuesday_group)[:2] == (TUESDAY, at(12))


def test_reschedule_session_locks_providers_rooms_session_participants_then_patients(
    tuesday_group, provider, clinic, room
):
    colleague, other_room = ProviderFactory(clinic=clinic), RoomFactory(clinic=clinic)
    participants = list(tuesday_group.participants.order_by("pk"))

    with transaction.atomic():
        SessionService.reschedule_session(
            tuesday_group,
            scheduled_date=WEDNESDAY,
            scheduled_time=at(10),
            provider=colleague,
            room=other_room,
        )
        held = locks.held_locks()

    assert held == [
        *(("core.Provider", pk) for pk in sorted([provider.pk, colleague.pk])),
        *(("core.Room", pk) for pk in sorted([room.pk, other_room.pk])),
        ("appointments.Session", tuesday_group.pk),
        *(("appointments.SessionParticipant", p.pk) for p in participants),
        *(("core.Patient", pk) for pk in sorted(p.patient_id for p in participants)),
    ]


# Families told


def test_mark_families_told_records_when_and_stops_asking(tuesday_group, tenant):
    desk = staff_member(tenant, User.Role.FRONT_DESK)
    SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(11))

    SessionService.mark_families_told(tuesday_group, user=desk)
    told_at = tuesday_group.families_told_at
    SessionService.mark_families_told(tuesday_group, user=desk)

    tuesday_group.refresh_from_db()
    assert told_at is not None
    assert tuesday_group.families_told_at == told_at
    assert tuesday_group.history.latest().history_user == desk


def test_mark_families_told_of_a_session_never_moved_refused(tuesday_group):
    with pytest.raises(InvalidTransition) as refused:
        SessionService.mark_families_told(tuesday_group)

    assert refused.value.messages == ["This session was never moved; there is nothing to tell the families."]


# The legacy appointment follows the same rules


def test_appointment_reschedule_outside_opening_hours_refused(provider, clinic):
    appointment = book_legacy(provider, clinic, PatientFactory(tenant=clinic.tenant), TUESDAY, at(10))
    open_on(clinic, WEDNESDAY.weekday(), at(8), at(12))

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, WEDNESDAY, at(11, 30))

    assert refused.value.messages == [outside_hours_message(clinic, WEDNESDAY, at(11, 30), 60)]
    appointment.refresh_from_db()
    assert (appointment.scheduled_date, appointment.reschedule_count) == (TUESDAY, 0)


def test_appointment_reschedule_lists_hours_provider_and_the_patients_session_at_once(provider, clinic):
    patient = child(clinic.tenant, "Yara", "Saad")
    appointment = book_legacy(provider, clinic, patient, TUESDAY, at(10))
    session_at(provider, clinic, WEDNESDAY, at(12, 30))
    group = session_at(ProviderFactory(clinic=clinic), clinic, WEDNESDAY, at(13))
    SessionService.add_patient_to_session(group, patient)
    open_on(clinic, WEDNESDAY.weekday(), at(8), at(13))

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, WEDNESDAY, at(12, 15))

    day = short(WEDNESDAY)
    assert refused.value.messages == [
        outside_hours_message(clinic, WEDNESDAY, at(12, 15), 60),
        f"{provider} already has a booking {day} 12:30-13:30.",
        f"Yara Saad is already booked {day} 13:00-14:00.",
    ]


def test_appointment_reschedule_of_an_appointment_moved_meanwhile_refused(provider, clinic):
    appointment = book_legacy(provider, clinic, PatientFactory(tenant=clinic.tenant), TUESDAY, at(10))
    Appointment.objects.filter(pk=appointment.pk).update(scheduled_date=WEDNESDAY)

    with pytest.raises(ConflictError) as refused:
        AppointmentService.reschedule(appointment, TUESDAY, at(12))

    assert refused.value.messages == [
        "This appointment was changed while you were rescheduling it; reload it and try again."
    ]


# The page


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    return client


def reschedule_url(session: Session) -> str:
    return reverse("appointments:session_reschedule", args=[session.pk])


def form_data(session: Session, **overrides) -> dict[str, object]:
    data = {
        "scheduled_date": WEDNESDAY.isoformat(),
        "scheduled_time": "11:00",
        "duration": session.duration,
        "provider": session.provider_id,
        "room": session.room_id or "",
        "reason": "",
    }
    return data | overrides


def test_session_reschedule_page_offers_the_sessions_slot_and_clinic_only(desk, tuesday_group, clinic, room):
    RoomFactory(clinic=ClinicFactory(tenant=clinic.tenant), name="Elsewhere")
    outsider = ProviderFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    response = desk.get(reschedule_url(tuesday_group))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["scheduled_date"] == TUESDAY
    assert form.initial["provider"] == tuesday_group.provider_id
    assert list(form.fields["room"].queryset) == [room]
    assert outsider not in form.fields["provider"].queryset


def test_session_reschedule_page_moves_the_session_and_the_session_page_says_from_where(desk, tuesday_group):
    response = desk.post(
        reschedule_url(tuesday_group), form_data(tuesday_group, reason="Room painted"), follow=True
    )

    assert response.redirect_chain == [(tuesday_group.get_absolute_url(), 302)]
    assert messages_of(response) == [
        "Session moved; every child keeps their booking. Tell the families, then record it here."
    ]
    html = response.content.decode()
    assert "Moved from Tuesday 17 March 2026 10:00" in html
    assert reverse("appointments:session_families_told", args=[tuesday_group.pk]) in html
    assert slot_of(tuesday_group)[:2] == (WEDNESDAY, at(11))
    assert tuesday_group.history.latest().history_change_reason == "Room painted"


def test_session_families_told_button_ends_the_moved_from_notice(desk, tuesday_group):
    SessionService.reschedule_session(tuesday_group, scheduled_date=WEDNESDAY, scheduled_time=at(11))

    response = desk.post(reverse("appointments:session_families_told", args=[tuesday_group.pk]), follow=True)

    assert messages_of(response) == ["Recorded: the families know the session moved."]
    assert "Moved from" not in response.content.decode()
    tuesday_group.refresh_from_db()
    assert tuesday_group.families_told_at is not None


def test_session_families_told_of_a_session_never_moved_shows_the_refusal(desk, tuesday_group):
    response = desk.post(reverse("appointments:session_families_told", args=[tuesday_group.pk]), follow=True)

    assert messages_of(response) == ["This session was never moved; there is nothing to tell the families."]


def test_session_reschedule_page_shows_the_clash_naming_the_child_and_keeps_the_input(
    desk, tuesday_group, clinic, children
):
    elsewhere = session_at(ProviderFactory(clinic=clinic), clinic, WEDNESDAY, at(11))
    SessionService.add_patient_to_session(elsewhere, children[2])

    response = desk.post(reschedule_url(tuesday_group), form_data(tuesday_group))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Lina Khalid is already booked {short(WEDNESDAY)} 11:00-12:00."
    ]
    assert 'value="11:00"' in response.content.decode()
    assert slot_of(tuesday_group)[:2] == (TUESDAY, at(10))


def test_session_reschedule_page_refuses_a_past_day_and_a_slot_past_midnight(desk, tuesday_group):
    past = desk.post(reschedule_url(tuesday_group), form_data(tuesday_group, scheduled_date="2026-03-14"))
    late = desk.post(
        reschedule_url(tuesday_group), form_data(tuesday_group, scheduled_time="23:30", duration=60)
    )

    assert past.context["form"].errors == {
        "scheduled_date": ["The date is in the past; choose today or a later day."]
    }
    assert list(late.context["form"].errors) == ["scheduled_time"]
    assert slot_of(tuesday_group)[5] is None


def test_session_reschedule_page_refuses_a_room_of_another_clinic(desk, tuesday_group, clinic):
    far_room = RoomFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    response = desk.post(reschedule_url(tuesday_group), form_data(tuesday_group, room=far_room.pk))

    assert list(response.context["form"].errors) == ["room"]
    assert slot_of(tuesday_group)[4] != far_room.pk


def test_session_reschedule_page_of_a_started_session_shows_the_refusal(desk, provider, clinic):
    session = session_at(provider, clinic, datetime.date(2026, 3, 15), at(9))
    SessionService.start_session(session)

    response = desk.post(reschedule_url(session), form_data(session))

    assert response.context["form"].non_field_errors() == [
        "Only a scheduled session can be rescheduled; this one is in progress."
    ]


def test_session_page_offers_reschedule_to_the_front_desk_while_scheduled(client, tenant, tuesday_group):
    button = f'href="{reschedule_url(tuesday_group)}"'
    seen = {}
    for role in (User.Role.FRONT_DESK, User.Role.ADMIN, User.Role.FINANCE, User.Role.PSYCHOLOGIST):
        client.force_login(staff_member(tenant, role))
        seen[role] = button in client.get(tuesday_group.get_absolute_url()).content.decode()
    SessionService.cancel_session(tuesday_group, "Provider ill")
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    seen["cancelled"] = button in client.get(tuesday_group.get_absolute_url()).content.decode()

    assert seen == {
        User.Role.FRONT_DESK: True,
        User.Role.ADMIN: True,
        User.Role.FINANCE: False,
        User.Role.PSYCHOLOGIST: False,
        "cancelled": False,
    }


@pytest.mark.parametrize("role", [User.Role.FINANCE, User.Role.PSYCHOLOGIST])
def test_session_reschedule_page_is_refused_to_roles_that_do_not_book(client, tenant, tuesday_group, role):
    client.force_login(staff_member(tenant, role))

    answers = [
        client.get(reschedule_url(tuesday_group)).status_code,
        client.post(reschedule_url(tuesday_group), form_data(tuesday_group)).status_code,
        client.post(reverse("appointments:session_families_told", args=[tuesday_group.pk])).status_code,
    ]

    assert answers == [403, 403, 403]
    assert slot_of(tuesday_group)[5] is None


def test_session_reschedule_page_of_another_organisation_is_not_found(client, tuesday_group):
    other = TenantFactory(code="OTHER")
    client.force_login(staff_member(other, User.Role.FRONT_DESK))

    assert client.get(reschedule_url(tuesday_group)).status_code == 404
    assert client.post(reschedule_url(tuesday_group), form_data(tuesday_group)).status_code == 404


# The admin action


def run_reschedule_action(client, sessions, **fields):
    data = {"action": "reschedule_session", "_selected_action": [str(session.pk) for session in sessions]}
    return client.post(admin_url(Session, "changelist"), data | fields, follow=True)


def test_session_admin_reschedule_action_asks_where_then_moves_through_the_service(
    admin_client, admin_user, tuesday_group
):
    page = run_reschedule_action(admin_client, [tuesday_group])
    done = run_reschedule_action(
        admin_client, [tuesday_group], apply="Reschedule", **form_data(tuesday_group, reason="Ramadan hours")
    )

    assert page.status_code == 200
    assert page.templates[0].name == "appointments/admin/session_reschedule.html"
    assert page.context["form"].initial["scheduled_time"] == at(10)
    assert message_texts(done) == [
        "Social Skills Group moved to Wednesday 18 March 2026 11:00; every child keeps their booking. "
        "Tell the families."
    ]
    assert slot_of(tuesday_group)[:2] == (WEDNESDAY, at(11))
    latest = tuesday_group.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "Ramadan hours")


def test_session_admin_reschedule_action_shows_the_clash_and_changes_nothing(
    admin_client, tuesday_group, clinic, children
):
    elsewhere = session_at(ProviderFactory(clinic=clinic), clinic, WEDNESDAY, at(11))
    SessionService.add_patient_to_session(elsewhere, children[0])

    response = run_reschedule_action(
        admin_client, [tuesday_group], apply="Reschedule", **form_data(tuesday_group)
    )

    assert response.templates[0].name == "appointments/admin/session_reschedule.html"
    assert response.context["form"].non_field_errors() == [
        f"Sara Ali is already booked {short(WEDNESDAY)} 11:00-12:00."
    ]
    assert slot_of(tuesday_group)[:2] == (TUESDAY, at(10))


def test_session_admin_reschedule_action_takes_one_session_at_a_time(
    admin_client, tuesday_group, provider, clinic
):
    other = session_at(provider, clinic, WEDNESDAY, at(15))

    response = run_reschedule_action(admin_client, [tuesday_group, other])

    assert message_texts(response) == ["Choose one session to reschedule."]
    assert slot_of(tuesday_group)[5] is None


def test_session_admin_reschedule_action_keeps_tenant_staff_to_their_sessions(client, tuesday_group):
    other = TenantFactory(code="OTHER")
    client.force_login(tenant_admin_staff(other))

    response = run_reschedule_action(client, [tuesday_group], apply="Reschedule", **form_data(tuesday_group))

    # Another organisation's session is not among the rows the action gets: none to move.
    assert message_texts(response) == ["Choose one session to reschedule."]
    assert slot_of(tuesday_group)[:2] == (TUESDAY, at(10))


# Concurrency: real threads, committed rows


def no_double_bookings() -> list:
    return check_integrity(["provider_overlap", "room_overlap", "patient_overlap"]).violations


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(4))
def test_concurrency_reschedule_races_bookings_into_the_new_slot_one_side_wins(
    provider, clinic, room, children, attempt
):
    # The reschedule takes the provider, the room, the session, its participants and their
    # patients; each booking the same provider, room or child: one order (core.locks), so they
    # queue instead of deadlocking, and whoever comes second finds the slot taken.
    sara, omar, _lina = children
    group = session_at(provider, clinic, TUESDAY, at(10), room=room)
    for patient in children:
        SessionService.add_patient_to_session(group, patient)
    other_group = session_at(ProviderFactory(clinic=clinic), clinic, WEDNESDAY, at(11))
    other_provider = ProviderFactory(clinic=clinic)
    newcomer = PatientFactory(tenant=clinic.tenant)
    mine = Session.objects.get(pk=group.pk)

    outcomes = run_together(
        [
            lambda: SessionService.reschedule_session(mine, scheduled_date=WEDNESDAY, scheduled_time=at(11)),
            lambda: session_at(provider, clinic, WEDNESDAY, at(11, 30)),  # the provider
            lambda: SessionService.add_patient_to_session(other_group, sara),  # a child
            lambda: book_legacy(other_provider, clinic, newcomer, WEDNESDAY, at(11), room=room),  # the room
        ]
    )

    rescheduled, *bookings = outcomes
    if isinstance(rescheduled, Session):
        assert all(isinstance(booking, ConflictError) for booking in bookings), outcomes
        assert slot_of(group)[:2] == (WEDNESDAY, at(11))
    else:
        assert isinstance(rescheduled, ConflictError), outcomes
        assert [type(booking) for booking in bookings] == [Session, SessionParticipant, Appointment]
        assert slot_of(group)[:2] == (TUESDAY, at(10))
    assert no_double_bookings() == []
    assert sorted(group.participants.values_list("patient_id", flat=True)) == sorted(c.pk for c in children)


@pytest.mark.django_db(transaction=True)
def test_concurrency_two_reschedules_of_one_session_at_once_one_wins(provider, clinic, room, children):
    group = session_at(provider, clinic, TUESDAY, at(10), room=room)
    for patient in children:
        SessionService.add_patient_to_session(group, patient)
    # Two front desks, each with the session as their page read it.
    first, second = Session.objects.get(pk=group.pk), Session.objects.get(pk=group.pk)

    outcomes = run_together(
        [
            lambda: SessionService.reschedule_session(first, scheduled_date=WEDNESDAY, scheduled_time=at(11)),
            lambda: SessionService.reschedule_session(
                second, scheduled_date=WEDNESDAY, scheduled_time=at(15)
            ),
        ]
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ConflictError", "Session"]
    (refusal,) = [outcome for outcome in outcomes if isinstance(outcome, ConflictError)]
    assert refusal.messages == [
        "This session was changed while you were rescheduling it; reload it and try again."
    ]
    (winner,) = [outcome for outcome in outcomes if isinstance(outcome, Session)]
    group.refresh_from_db()
    assert (group.scheduled_date, group.scheduled_time) == (WEDNESDAY, winner.scheduled_time)
    assert (group.moved_from_date, group.moved_from_time) == (TUESDAY, at(10))
    assert group.history.filter(moved_at__isnull=False).count() == 1
    assert group.participants.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrency_two_sessions_swapping_rooms_at_once_both_move(clinic):
    # Each locks both rooms, in id order: no deadlock, and both moves go through.
    blue, green = RoomFactory(clinic=clinic, name="Blue"), RoomFactory(clinic=clinic, name="Green")
    in_blue = session_at(ProviderFactory(clinic=clinic), clinic, TUESDAY, at(10), room=blue)
    in_green = session_at(ProviderFactory(clinic=clinic), clinic, TUESDAY, at(12), room=green)

    outcomes = run_together(
        [
            lambda: SessionService.reschedule_session(
                Session.objects.get(pk=in_blue.pk), scheduled_date=WEDNESDAY, scheduled_time=at(9), room=green
            ),
            lambda: SessionService.reschedule_session(
                Session.objects.get(pk=in_green.pk), scheduled_date=WEDNESDAY, scheduled_time=at(9), room=blue
            ),
        ]
    )

    assert [type(outcome) for outcome in outcomes] == [Session, Session]
    assert (slot_of(in_blue)[4], slot_of(in_green)[4]) == (green.pk, blue.pk)
    assert no_double_bookings() == []
