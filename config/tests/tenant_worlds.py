"""Two organisations with a row of every model each, for the cross-tenant walk.

``build_world(CANARY)`` makes tenant B: every text field of its rows carries a canary
(``CANARY-B-<field>``; the tenant code ``CANARYB`` sits inside its MRNs and
appointment numbers), and so do the history rows the services write with them. A page
that shows a tenant-A user anything of B shows a canary. ``build_world(PLAIN)`` makes
tenant A the same way, without canaries.

``World.rows`` maps every model the admin registers to one of its rows: the walk asks
it for the id to use, and fails for a model it has no row for.
"""

import contextlib
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib.auth.models import Group, Permission
from django.db.models import Model
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from aba.models import ABABehaviourRecord, ABANoteAddendum, ABASession, ABASkillTarget
from appointments.appointment_service import AppointmentService
from appointments.exceptions import CheckInBlocked
from appointments.models import (
    Appointment,
    AppointmentNumberCounter,
    CheckInRefusal,
    SeriesEnrolment,
    SeriesSkippedDate,
    Session,
    SessionParticipant,
    SessionSeries,
    WaitlistEntry,
)
from appointments.notes.models import ClinicalNote
from appointments.notes.services import NoteService
from appointments.reminders.models import MessageTemplate, Reminder, ReminderRule
from appointments.session_service import SessionService
from core.break_glass import start_break_glass
from core.models import (
    AccessLog,
    AuditSeal,
    BreakGlassGrant,
    Clinic,
    ClinicHoliday,
    Consent,
    Guardian,
    OpeningHours,
    OpeningHoursOverride,
    Patient,
    Provider,
    ProviderLeave,
    ProviderWorkingHours,
    Room,
    ServiceName,
    Tenant,
    User,
    UserPrivilegeChange,
)
from ot.models import OTNoteAddendum, OTSession, OTTargetSkill
from psychology.models import PsychologyNoteAddendum, PsychologySession

Role = User.Role
CANARY_MARK = "CANARY"  # every canary contains it, in any letter case


@dataclass(frozen=True)
class Flavour:
    """How one organisation's data is spelt: its code, usernames and the text of each field."""

    code: str
    prefix: str  # usernames
    text_prefix: str

    def text(self, name: str) -> str:
        return f"{self.text_prefix}{name}"


CANARY = Flavour(code="CANARYB", prefix="canary-b", text_prefix="CANARY-B-")
PLAIN = Flavour(code="ALPHA", prefix="alpha", text_prefix="Alpha ")

CLINICIAN_ROLE = {
    Clinic.Specialty.PSYCHOLOGY: Role.PSYCHOLOGIST,
    Clinic.Specialty.OT: Role.OCCUPATIONAL_THERAPIST,
    Clinic.Specialty.ABA: Role.ABA_THERAPIST,
}
WALKED_ROLES = (Role.ADMIN, Role.FRONT_DESK, Role.FINANCE, *CLINICIAN_ROLE.values())


@dataclass
class World:
    tenant: Tenant
    users: dict[str, User]  # by role
    rows: dict[type[Model], Model]  # one row of every model, the one whose id the walk uses
    notes: dict[str, ClinicalNote]  # by specialty
    extra_rows: list[Model] = field(default_factory=list)  # rows carrying the other canaries

    def row(self, model: type[Model]) -> Model:
        assert model in self.rows, f"teach config/tests/tenant_worlds.py to build a {model._meta.label}"
        return self.rows[model]

    def staff_rows(self) -> dict[str, object]:
        """The rows the staff URLs name, by the kind their URL names start with (see ``url_for``)."""
        session = self.rows[Session]
        return {
            "session": session,
            "participant": self.rows[SessionParticipant],
            "appointment": self.rows[Appointment],
            "patient": self.rows[Patient],
            "consent": self.rows[Consent],
            "guardian": self.rows[Guardian],
            "reminder": self.rows[Reminder],
            "note": self.notes[Clinic.Specialty.PSYCHOLOGY],
            "series": self.rows[SessionSeries],
            "waitlist": self.rows[WaitlistEntry],
            "leave": self.rows[ProviderLeave],
        }


def _user(flavour: Flavour, tenant: Tenant, role: str) -> User:
    name = role.replace("_", "-")
    user = User.objects.create(
        username=f"{flavour.prefix}-{name}",
        first_name=flavour.text(f"{name}-first_name"),
        last_name=flavour.text(f"{name}-last_name"),
        email=f"{flavour.prefix}-{name}@example.org",
        tenant=tenant,
        role=role,
        # Staff, with every permission of Django's tables: only the role may open admin pages.
        is_staff=True,
    )
    user.set_password("a-Long-pass-9021")
    user.save(update_fields=["password"])
    user.user_permissions.set(Permission.objects.all())
    return user


def _patient(flavour: Flavour, tenant: Tenant, number: int) -> Patient:
    patient = Patient.objects.create(
        tenant=tenant,
        mrn=f"{flavour.code}-MRN-{number}",
        first_name_en=flavour.text(f"patient{number}-first_name_en"),
        last_name_en=flavour.text(f"patient{number}-last_name_en"),
        first_name_ar=flavour.text(f"patient{number}-first_name_ar"),
        last_name_ar=flavour.text(f"patient{number}-last_name_ar"),
        date_of_birth=datetime.date(2018, 5, 1),
        sex=Patient.Sex.FEMALE,
    )
    Guardian.objects.create(
        patient=patient,
        name_en=flavour.text(f"patient{number}-guardian-name_en"),
        name_ar=flavour.text(f"patient{number}-guardian-name_ar"),
        phone=f"+96650000{number:04d}",
        # As the migration from Patient.phone keeps a number it can't read: shown on the chart.
        phone_as_entered=flavour.text("phone")[:30],
        phone_needs_review=True,
        email=f"{flavour.prefix}-guardian{number}@example.org",
        is_primary=True,
    )
    Consent.objects.create(
        patient=patient,
        consent_type=Consent.ConsentType.GENERAL,
        signed_by=flavour.text(f"patient{number}-signed_by"),
        signed_at=datetime.datetime(2020, 1, 5, 9, 0, tzinfo=datetime.UTC),
    )
    return patient


def _audit_rows(flavour: Flavour, tenant: Tenant, users: dict[str, User], patient: Patient) -> dict:
    """A read of ``patient``'s record, a role change and a break-the-glass access."""
    text = flavour.text
    return {
        AccessLog: AccessLog.objects.create(
            tenant=tenant,
            user=users[Role.PSYCHOLOGIST],
            actor=text("accesslog-actor"),
            patient=patient,
            action=AccessLog.Action.VIEW,
            object_type=text("accesslog-object_type"),
            object_id=text("accesslog-object_id"),
            ip="192.0.2.7",
            request_id=text("accesslog-request_id"),
        ),
        UserPrivilegeChange: UserPrivilegeChange.objects.create(
            tenant=tenant,
            user=users[Role.FRONT_DESK],
            field=UserPrivilegeChange.Field.ROLE,
            old_value=text("privilege-old_value"),
            new_value=text("privilege-new_value"),
            changed_by=users[Role.ADMIN],
        ),
        BreakGlassGrant: start_break_glass(
            user=users[Role.PSYCHOLOGIST], patient=patient, reason=text("breakglass-reason")
        ),
    }


def build_world(flavour: Flavour, day: datetime.date) -> World:
    """One organisation with three clinics (psychology, OT, ABA), staff of every role, patients,
    sessions, a legacy appointment and a signed note of each discipline with its rows and addendum."""
    text = flavour.text
    tenant = Tenant.objects.create(
        code=flavour.code, name_en=text("tenant-name_en"), name_ar=text("tenant-name_ar")
    )
    users = {role: _user(flavour, tenant, role) for role in (Role.ADMIN, Role.FRONT_DESK, Role.FINANCE)}
    clinics, providers, rooms = {}, {}, {}
    for specialty, role in CLINICIAN_ROLE.items():
        clinics[specialty] = Clinic.objects.create(
            tenant=tenant,
            name_en=text(f"{specialty}-clinic-name_en"),
            name_ar=text(f"{specialty}-clinic-name_ar"),
            specialty=specialty,
        )
        users[role] = _user(flavour, tenant, role)
        providers[specialty] = Provider.objects.create(
            user=users[role], specialty=specialty, title=text("title"), name_ar=text("provider-name_ar")
        )
        providers[specialty].clinics.add(clinics[specialty])
        rooms[specialty] = Room.objects.create(
            clinic=clinics[specialty],
            name=text(f"{specialty}-room-name"),
            name_ar=text(f"{specialty}-room-name_ar"),
        )
    patients = [_patient(flavour, tenant, number) for number in (1, 2, 3)]
    finance = users[Role.FINANCE]

    def at(hour: int) -> dict:
        return {"scheduled_date": day, "scheduled_time": datetime.time(hour, 0), "duration": 60}

    psychology, ot, aba = Clinic.Specialty.PSYCHOLOGY, Clinic.Specialty.OT, Clinic.Specialty.ABA
    group = SessionService.create_group_session(
        provider=providers[psychology],
        clinic=clinics[psychology],
        **at(11),
        service_type=text("group-service_type"),
        max_capacity=6,
        group_notes=text("group_notes"),
        room=rooms[psychology],
    )
    came = SessionService.add_patient_to_session(group, patients[0])
    SessionService.clear_finance(came, user=finance)
    SessionService.check_in_participant(came)
    left = SessionService.add_patient_to_session(group, patients[1])
    # Refused at check-in (finance hasn't cleared them; the message names the child), then cancelled.
    with contextlib.suppress(CheckInBlocked):
        SessionService.check_in_participant(left, user=users[Role.FRONT_DESK])
    # The family's late cancellation is billable; finance waives it (the waiver's reason is text).
    SessionService.cancel_participant(
        left, text("participant-cancel_reason"), cancelled_by=SessionParticipant.CancelledBy.FAMILY
    )
    SessionService.waive_billing(left, reason=text("participant-billing_waived_reason"), user=finance)
    cancelled = SessionService.create_group_session(
        provider=providers[psychology],
        clinic=clinics[psychology],
        **at(15),
        service_type=text("cancelled-service_type"),
        max_capacity=4,
        group_notes=text("cancelled-group_notes"),
    )
    SessionService.cancel_session(cancelled, text("session-cancel_reason"))
    individual = {
        specialty: SessionService.create_individual_session(
            provider=providers[specialty],
            clinic=clinics[specialty],
            patient=patients[0],
            **at(hour),
            service_type=text(f"{specialty}-service_type"),
            room=rooms[specialty],
        )
        for specialty, hour in ((ot, 12), (aba, 13))
    }
    appointment = AppointmentService.book_appointment(
        patient=patients[2],
        provider=providers[psychology],
        clinic=clinics[psychology],
        **at(16),
        service_type=text("appointment-service_type"),
        notes=text("appointment-notes"),
    )
    dropped = AppointmentService.book_appointment(
        patient=patients[2],
        provider=providers[psychology],
        clinic=clinics[psychology],
        **at(17),
        service_type=text("dropped-service_type"),
        notes=text("dropped-notes"),
    )
    AppointmentService.cancel(dropped, text("appointment-cancel_reason"))

    content = {
        PsychologySession: {
            name: text(name)
            for name in PsychologySession.CONTENT_FIELDS
            if not PsychologySession.content_field(name).choices
        },
        OTSession: {
            **{
                name: text(name)
                for name in OTSession.CONTENT_FIELDS
                if not OTSession.content_field(name).choices
            },
            "target_skills": [{"skill": text("skill"), "rating": 6, "comments": text("skill-comments")}],
        },
        ABASession: {
            **{
                name: text(name)
                for name in ABASession.CONTENT_FIELDS
                if not ABASession.content_field(name).choices
            },
            "behaviour_records": [
                {
                    "antecedent": text("antecedent"),
                    "behaviour": text("behaviour"),
                    "consequence": text("consequence"),
                    "frequency": 2,
                    "duration_seconds": 30,
                    "intensity": "mild",
                }
            ],
            "skill_targets": [
                {"target": text("target"), "trials": 5, "correct": 3, "prompt_level": "verbal"}
            ],
        },
    }
    participants = {
        psychology: came,
        ot: individual[ot].participants.get(),
        aba: individual[aba].participants.get(),
    }
    # A note is signed once its child came and its session started (appointments.timing).
    for specialty, participant in participants.items():
        if specialty != psychology:
            SessionService.clear_finance(participant, user=finance)
            SessionService.check_in_participant(participant)
    for session in (group, *individual.values()):
        SessionService.start_session(session)
    notes = {}
    for specialty, participant in participants.items():
        provider = providers[specialty]
        model = NoteService.note_model_for_specialty(specialty)
        assert model is not None
        note = NoteService.create_note(model, participant=participant, provider=provider, **content[model])
        note = NoteService.sign_note(note, user=provider.user)
        NoteService.add_addendum(note, text=text(f"{specialty}-addendum-text"), user=provider.user)
        notes[specialty] = type(note).objects.get(pk=note.pk)

    # Hours every day of the week that cover the bookings above and the walk's (18:00), and a
    # dated override a month on.
    week = [
        OpeningHours.objects.create(
            clinic=clinics[psychology],
            weekday=weekday,
            opens_at=datetime.time(7),
            closes_at=datetime.time(21),
        )
        for weekday in OpeningHours.Weekday.values
    ]
    override = OpeningHoursOverride.objects.create(
        clinic=clinics[psychology],
        date=day + datetime.timedelta(days=30),
        opens_at=datetime.time(9, 0),
        closes_at=datetime.time(15, 0),
        note=text("override-note"),
    )
    working = [
        ProviderWorkingHours.objects.create(
            provider=providers[psychology],
            clinic=clinics[psychology],
            weekday=weekday,
            starts_at=datetime.time(7),
            ends_at=datetime.time(21),
        )
        for weekday in OpeningHours.Weekday.values
    ]
    leave = ProviderLeave.objects.create(
        provider=providers[psychology],
        starts_at=timezone.make_aware(
            datetime.datetime.combine(day + datetime.timedelta(days=60), datetime.time(8))
        ),
        ends_at=timezone.make_aware(
            datetime.datetime.combine(day + datetime.timedelta(days=62), datetime.time(18))
        ),
        reason=text("leave-reason"),
        created_by=users[Role.FRONT_DESK],
    )
    holiday = ClinicHoliday.objects.create(
        clinic=clinics[psychology], date=day + datetime.timedelta(days=40), name=text("holiday-name")
    )
    # A group series whose sessions are the group above; rows written directly: the world
    # needs one of each, the series service is tested elsewhere.
    series = SessionSeries.objects.create(
        session_type=Session.SessionType.GROUP,
        provider=providers[psychology],
        clinic=clinics[psychology],
        room=rooms[psychology],
        service_type=text("series-service_type"),
        title=text("series-title"),
        start_date=day,
        scheduled_time=datetime.time(11),
        duration=60,
        max_capacity=6,
        group_notes=text("series-group_notes"),
        occurrence_count=1,
        created_by=users[Role.FRONT_DESK],
    )
    Session.objects.filter(pk=group.pk).update(series=series)
    group.series = series
    skipped = SeriesSkippedDate.objects.create(
        series=series,
        date=day + datetime.timedelta(days=7),
        why=SeriesSkippedDate.Why.CLASH,
        detail=text("skipped-detail"),
    )
    enrolment = SeriesEnrolment.objects.create(
        series=series,
        patient=patients[0],
        enrolled_by=users[Role.FRONT_DESK],
        withdraw_reason=text("enrolment-withdraw_reason"),
    )
    waiting = WaitlistEntry.objects.create(
        session=group, patient=patients[2], series=series, priority=1, added_by=users[Role.FRONT_DESK]
    )
    ot_note, aba_note = notes[ot], notes[aba]
    message_template = MessageTemplate.objects.create(
        tenant=tenant,
        name=text("template-name"),
        channel=Guardian.Channel.SMS,
        subject_en=text("template-subject_en"),
        subject_ar=text("template-subject_ar"),
        body_en=text("template-body_en") + " {link}",
        body_ar=text("template-body_ar") + " {link}",
    )
    reminder_rule = ReminderRule.objects.create(
        clinic=clinics[psychology], hours_before=48, channel=Guardian.Channel.SMS, template=message_template
    )
    came_at = timezone.make_aware(group.starts_at)
    # As the sender leaves a failed row (rows written directly: the sender is tested elsewhere).
    failed_reminder = Reminder.objects.create(
        tenant=tenant,
        rule=reminder_rule,
        participant=came,
        guardian=patients[0].guardians.get(),
        channel=Guardian.Channel.SMS,
        masked_address=text("reminder-masked_address"),
        template=message_template,
        scheduled_start=came_at,
        send_after=came_at - datetime.timedelta(hours=48),
        status=Reminder.Status.FAILED,
        attempts=1,
        message_key=text("reminder-message_key"),
        gateway_message_id=text("reminder-gateway_message_id"),
        last_error=text("reminder-last_error"),
    )
    rows: dict[type[Model], Model] = {
        Tenant: tenant,
        User: users[Role.FRONT_DESK],
        Clinic: clinics[psychology],
        OpeningHours: week[day.weekday()],
        OpeningHoursOverride: override,
        ProviderWorkingHours: working[day.weekday()],
        ProviderLeave: leave,
        ClinicHoliday: holiday,
        SessionSeries: series,
        SeriesSkippedDate: skipped,
        SeriesEnrolment: enrolment,
        WaitlistEntry: waiting,
        Room: rooms[psychology],
        Provider: providers[psychology],
        ServiceName: ServiceName.objects.create(
            tenant=tenant,
            specialty=psychology,
            name_en=text("group-service_type"),
            name_ar=text("service-name_ar"),
        ),
        Patient: patients[0],
        Consent: patients[0].consents.get(),
        Guardian: patients[0].guardians.get(),
        AppointmentNumberCounter: AppointmentNumberCounter.objects.get(tenant=tenant),
        Session: group,
        SessionParticipant: came,
        CheckInRefusal: CheckInRefusal.objects.get(participant=left),
        Appointment: appointment,
        PsychologySession: notes[psychology],
        PsychologyNoteAddendum: PsychologyNoteAddendum.objects.get(note=notes[psychology]),
        OTSession: ot_note,
        OTTargetSkill: OTTargetSkill.objects.get(note=ot_note),
        OTNoteAddendum: OTNoteAddendum.objects.get(note=ot_note),
        ABASession: aba_note,
        ABABehaviourRecord: ABABehaviourRecord.objects.get(note=aba_note),
        ABASkillTarget: ABASkillTarget.objects.get(note=aba_note),
        ABANoteAddendum: ABANoteAddendum.objects.get(note=aba_note),
        MessageTemplate: message_template,
        ReminderRule: reminder_rule,
        Reminder: failed_reminder,
        **_audit_rows(flavour, tenant, users, patients[0]),
    }
    if flavour is CANARY:
        # Platform rows: no tenant's staff may see them, whatever their tenant.
        rows[Group] = Group.objects.create(name=text("group-name"))
        # Two-factor devices (django-otp's admin) belong to no organisation either.
        rows[TOTPDevice] = TOTPDevice.objects.create(user=users[Role.ADMIN], name=text("totp-name"))
        rows[StaticDevice] = StaticDevice.objects.create(user=users[Role.ADMIN], name=text("static-name"))
        StaticToken.objects.create(device=rows[StaticDevice], token=text("token")[:16])
        # django-axes' sign-in records (superusers only): a username, not an organisation's row.
        sign_in = {
            "username": users[Role.FRONT_DESK].username,
            "ip_address": "192.0.2.8",
            "user_agent": text("axes-user_agent"),
            "http_accept": text("axes-http_accept"),
            "path_info": text("axes-path_info"),
        }
        attempt = {"get_data": text("axes-get_data"), "post_data": text("axes-post_data")}
        rows[AccessAttempt] = AccessAttempt.objects.create(**sign_in, **attempt, failures_since_start=1)
        rows[AxesAccessLog] = AxesAccessLog.objects.create(**sign_in, session_hash=text("axes-session_hash"))
        rows[AccessFailureLog] = AccessFailureLog.objects.create(**sign_in, locked_out=False)
        # The audit seals span every organisation (superusers only).
        rows[AuditSeal] = AuditSeal.objects.create(
            table_name=text("seal-table")[:63],
            first_id=1,
            last_id=1,
            row_count=1,
            chain_hash=bytes(32),
            signature=text("seal-signature")[:64],
        )
    return World(tenant=tenant, users=users, rows=rows, notes=notes, extra_rows=[cancelled, left, dropped])


# Text columns a check constraint keeps to digits: no canary fits (the guardian's E.164 phone).
NO_CANARY_FITS = {"core.Guardian.phone", "core.HistoricalGuardian.phone"}


def text_fields(model: type[Model]) -> list[str]:
    """The free-text columns of ``model``: a password hash, choice columns and simple-history's own
    columns (the change reason, which nothing writes) hold no canary."""
    return [
        column.attname
        for column in model._meta.concrete_fields
        if column.get_internal_type() in ("CharField", "TextField")
        and not column.choices
        and column.name != "password"
        and not column.name.startswith("history_")
        and f"{model._meta.label}.{column.name}" not in NO_CANARY_FITS
    ]


def missing_canaries(
    models: list[type[Model]], tenant_rows: Callable[[type[Model]], list[dict]]
) -> list[str]:
    """Text columns of ``models`` none of whose tenant-B rows holds a canary: the world needs teaching."""
    missing = []
    for model in models:
        rows = tenant_rows(model)
        for name in text_fields(model):
            if not any(CANARY_MARK.lower() in str(row[name] or "").lower() for row in rows):
                missing.append(f"{model._meta.label}.{name}")
    return missing
