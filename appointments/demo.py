"""The demo organisation: reference data, patients and two weeks of sessions.

Built through the same services staff use, so every number, status and history
row is one the product could have produced itself.
"""

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from appointments.appointment_service import AppointmentService
from appointments.models import Session
from appointments.session_service import SessionService
from core.models import Clinic, Consent, Patient, Provider, Room, Tenant, User

DEMO_TENANT_CODE = "AGDAR"
WORKING_WEEKDAYS = {6, 0, 1, 2, 3}  # Sunday to Thursday
FIRST_NAMES = [
    ("Sara", "سارة"), ("Omar", "عمر"), ("Layla", "ليلى"), ("Yusuf", "يوسف"), ("Noura", "نورة"),
    ("Faisal", "فيصل"), ("Huda", "هدى"), ("Khalid", "خالد"), ("Reem", "ريم"), ("Ali", "علي"),
    ("Maha", "مها"), ("Saad", "سعد"), ("Jana", "جنى"), ("Fahad", "فهد"), ("Lama", "لمى"),
]  # fmt: skip
LAST_NAMES = [
    ("Al-Otaibi", "العتيبي"), ("Al-Harbi", "الحربي"), ("Al-Qahtani", "القحطاني"),
    ("Al-Ghamdi", "الغامدي"),
]  # fmt: skip
CLINICS = [
    (Clinic.Specialty.PSYCHOLOGY, "Psychology Clinic", "عيادة علم النفس", User.Role.PSYCHOLOGIST,
     "Individual Therapy", "Social Skills Group"),
    (Clinic.Specialty.OT, "Occupational Therapy Clinic", "عيادة العلاج الوظيفي",
     User.Role.OCCUPATIONAL_THERAPIST, "OT Session", "Fine Motor Group"),
    (Clinic.Specialty.ABA, "ABA Clinic", "عيادة تحليل السلوك التطبيقي", User.Role.ABA_THERAPIST,
     "ABA Session", "Play Skills Group"),
]  # fmt: skip
STAFF = [
    ("admin", "Amal", "Admin", User.Role.ADMIN),
    ("frontdesk", "Fatimah", "Desk", User.Role.FRONT_DESK),
    ("finance", "Majed", "Finance", User.Role.FINANCE),
]
CLINICIANS = {
    Clinic.Specialty.PSYCHOLOGY: [("psychologist", "Sara", "Haddad"), ("psychologist2", "Nasser", "Saleh")],
    Clinic.Specialty.OT: [("ot", "Omar", "Rashid"), ("ot2", "Dana", "Yousef")],
    Clinic.Specialty.ABA: [("aba", "Layla", "Karim"), ("aba2", "Hisham", "Aziz")],
}
PATIENT_COUNT = 60
DAY_OFFSETS = range(-7, 8)  # a week back, today, a week ahead


@dataclass
class DemoSummary:
    created: bool
    logins: list[tuple[str, str]] = field(default_factory=list)
    patients: int = 0
    sessions: int = 0
    participants: int = 0
    appointments: int = 0


def demo_already_loaded() -> bool:
    return Session.objects.filter(clinic__tenant__code=DEMO_TENANT_CODE).exists()


@transaction.atomic
def load_demo(password: str, progress: Callable[[int], None] = lambda steps: None) -> DemoSummary:
    """Create the demo organisation once; later calls change nothing."""
    logins = [(username, password) for username, *_ in STAFF] + [
        (username, password) for people in CLINICIANS.values() for username, *_ in people
    ]
    if demo_already_loaded():
        return DemoSummary(created=False, logins=logins)
    tenant, _ = Tenant.objects.get_or_create(
        code=DEMO_TENANT_CODE, defaults={"name_en": "Agdar Child Therapy Centre", "name_ar": "مركز أجدر"}
    )
    for username, first, last, role in STAFF:
        _user(tenant, username, first, last, role, password, superuser=role == User.Role.ADMIN)
    clinics = [_clinic(tenant, password, *spec) for spec in CLINICS]
    patients = _patients(tenant)
    progress(1)
    summary = DemoSummary(created=True, logins=logins, patients=len(patients))
    finance = User.objects.get(username="finance")
    today = timezone.localdate()
    days = [today + datetime.timedelta(days=offset) for offset in DAY_OFFSETS]
    for day in days:
        if day.weekday() in WORKING_WEEKDAYS:
            _schedule_day(day, today, clinics, patients, finance, summary)
        progress(1)
    return summary


def demo_steps() -> int:
    """Progress steps of load_demo: the reference data, then one per day."""
    return 1 + len(DAY_OFFSETS)


def _user(tenant, username, first, last, role, password, superuser=False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "tenant": tenant,
            "role": role,
            "is_staff": superuser,
            "is_superuser": superuser,
            "email": f"{username}@agdar.example",
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@dataclass
class DemoClinic:
    clinic: Clinic
    providers: list[tuple[Provider, Room]]
    individual_service: str
    group_service: str


def _clinic(tenant, password, specialty, name_en, name_ar, role, individual_service, group_service):
    clinic, _ = Clinic.objects.get_or_create(
        tenant=tenant, name_en=name_en, defaults={"name_ar": name_ar, "specialty": specialty}
    )
    providers = []
    for index, (username, first, last) in enumerate(CLINICIANS[specialty], start=1):
        user = _user(tenant, username, first, last, role, password)
        provider, _ = Provider.objects.get_or_create(
            user=user, defaults={"specialty": specialty, "title": "Dr"}
        )
        provider.clinics.add(clinic)
        room, _ = Room.objects.get_or_create(clinic=clinic, name=f"{name_en.split()[0]} Room {index}")
        providers.append((provider, room))
    return DemoClinic(clinic, providers, individual_service, group_service)


def _patients(tenant) -> list[Patient]:
    names = itertools.product(LAST_NAMES, FIRST_NAMES)
    patients = []
    now = timezone.now()
    for number, ((last_en, last_ar), (first_en, first_ar)) in zip(
        range(1, PATIENT_COUNT + 1), names, strict=False
    ):
        patient, created = Patient.objects.get_or_create(
            mrn=f"AG{number:05d}",
            defaults={
                "tenant": tenant,
                "first_name_en": first_en,
                "last_name_en": last_en,
                "first_name_ar": first_ar,
                "last_name_ar": last_ar,
                "date_of_birth": datetime.date(2014 + number % 8, 1 + number % 12, 1 + number % 28),
                "sex": Patient.Sex.FEMALE if number % 2 else Patient.Sex.MALE,
                "guardian_name": f"{LAST_NAMES[number % 4][0]} family",
                "phone": f"+9665{number:08d}",
            },
        )
        if created:
            # Every tenth child's consent has lapsed, so the demo shows a refused check-in.
            lapsed = number % 10 == 0
            Consent.objects.create(
                patient=patient,
                consent_type=Consent.ConsentType.GENERAL,
                signed_by=patient.guardian_name,
                signed_at=now - datetime.timedelta(days=400),
                expires_at=now - datetime.timedelta(days=30) if lapsed else None,
            )
        patients.append(patient)
    return patients


def _schedule_day(day, today, clinics, patients, finance, summary: DemoSummary) -> None:
    for clinic_index, demo in enumerate(clinics):
        for provider_index, (provider, room) in enumerate(demo.providers):
            lane = clinic_index * 2 + provider_index
            # Each provider draws from their own ten children, so no child is booked twice at once.
            pool = patients[lane * 10 : lane * 10 + 10]
            shift = day.toordinal() % 10
            group_patients = [pool[(shift + k) % 10] for k in range(4)]
            individual_patient = pool[(shift + 5) % 10]
            group = SessionService.create_group_session(
                provider=provider,
                clinic=demo.clinic,
                scheduled_date=day,
                scheduled_time=datetime.time(10, 0),
                duration=60,
                service_type=demo.group_service,
                max_capacity=6,
                group_notes="Turn-taking and shared play." if day <= today else "",
                room=room,
            )
            participants = [SessionService.add_patient_to_session(group, child) for child in group_patients]
            individual = SessionService.create_individual_session(
                provider=provider,
                clinic=demo.clinic,
                patient=individual_patient,
                scheduled_date=day,
                scheduled_time=datetime.time(12, 0),
                duration=45,
                service_type=demo.individual_service,
                room=room,
            )
            legacy = AppointmentService.book_appointment(
                patient=pool[(shift + 7) % 10],
                provider=provider,
                clinic=demo.clinic,
                scheduled_date=day,
                scheduled_time=datetime.time(14, 0),
                duration=45,
                service_type=demo.individual_service,
                room=room,
            )
            summary.sessions += 2
            summary.participants += len(participants) + 1
            summary.appointments += 1
            _play_out(group, participants, day, today, finance, lane)
            _play_out(individual, list(individual.participants.all()), day, today, finance, lane)
            _play_out_appointment(legacy, day, today, finance, lane)


def _check_in_everyone(participants, finance) -> None:
    for participant in participants:
        SessionService.clear_finance(participant, user=finance)
        if participant.patient.consents.filter(expires_at__isnull=True).exists():
            SessionService.check_in_participant(participant)


def _play_out(session, participants, day, today, finance, lane) -> None:
    """Past days are done, today is under way, the future is booked - in every status."""
    if day < today:
        if (day.toordinal() + lane) % 7 == 0:
            SessionService.cancel_session(session, "Provider unwell")
            return
        _check_in_everyone(participants[:-1] if len(participants) > 1 else participants, finance)
        SessionService.complete_session(session)
    elif day == today:
        if lane % 2 == 0:
            SessionService.start_session(session)
            _check_in_everyone(participants[:2], finance)
        else:
            SessionService.confirm_participant(participants[0])
    else:
        SessionService.confirm_participant(participants[0])
        if len(participants) > 2:
            SessionService.cancel_participant(participants[-1], "Family travelling")


def _play_out_appointment(appointment, day, today, finance, lane) -> None:
    if day < today:
        if lane % 3 == 0:
            AppointmentService.mark_no_show(appointment)
            return
        AppointmentService.clear_finance(appointment, user=finance)
        if appointment.patient.consents.filter(expires_at__isnull=True).exists():
            AppointmentService.check_in(appointment)
            AppointmentService.start(appointment)
            AppointmentService.complete(appointment)
    elif day == today:
        AppointmentService.clear_finance(appointment, user=finance)
        if appointment.patient.consents.filter(expires_at__isnull=True).exists():
            AppointmentService.check_in(appointment)
            if lane % 2 == 0:
                AppointmentService.start(appointment)
    elif lane % 4 == 1:
        AppointmentService.cancel(appointment, "Rebooked as a group place")
    else:
        AppointmentService.confirm(appointment)
