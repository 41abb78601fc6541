"""The load test's own groups, on top of the demo: `python loadtest/prepare.py PLAN.json`.

Run as the database owner once `seed_demo` has loaded the demo. Each clinician of the
demo gets today's group sessions (through ``SessionService``, under every rule the pages
apply); the front-desk users then book into these few groups all at once, so bookings
contend for the same seats. Writes the plan locust reads: the groups, the demo's
children and clinics, by id.
"""

# ruff: noqa: T201 - a command-line step: its summary line is its output
import datetime
import json
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.serve")
django.setup()

from appointments.exceptions import SchedulingError  # noqa: E402
from appointments.models import Session  # noqa: E402
from appointments.session_service import SessionService  # noqa: E402
from core import clock  # noqa: E402
from core.models import Clinic, Patient, Provider, User  # noqa: E402

CLINICIANS = ("psychologist", "ot", "aba", "psychologist2", "ot2", "aba2")
GROUPS_PER_CLINICIAN = 2
SEATS = 8
DURATION_MINUTES = 45
# Every half hour of the working day, earliest first: the first slots the clinic's hours,
# the provider's and their bookings leave free become the groups.
CANDIDATE_TIMES = [datetime.time(hour, minute) for hour in range(8, 18) for minute in (0, 30)]


def service_type_of(clinic: Clinic) -> str:
    demo_group = Session.objects.filter(clinic=clinic, session_type=Session.SessionType.GROUP).first()
    return demo_group.service_type if demo_group else "Group therapy"


def groups_of(provider: Provider, desk: User, today: datetime.date) -> list[int]:
    clinic = provider.clinics.order_by("pk").first()
    if clinic is None:
        return []
    created: list[int] = []
    for start in CANDIDATE_TIMES:
        try:
            session = SessionService.create_group_session(
                provider=provider,
                clinic=clinic,
                scheduled_date=today,
                scheduled_time=start,
                duration=DURATION_MINUTES,
                service_type=service_type_of(clinic),
                max_capacity=SEATS,
                user=desk,
            )
        except SchedulingError:
            continue
        created.append(session.pk)
        if len(created) == GROUPS_PER_CLINICIAN:
            break
    return created


def main(plan_path: str) -> None:
    today = clock.today()
    desk = User.objects.get(username="frontdesk")
    groups = [
        pk
        for provider in Provider.objects.filter(user__username__in=CLINICIANS).order_by("pk")
        for pk in groups_of(provider, desk, today)
    ]
    if not groups:
        raise SystemExit("No group could be created today: the load test would book nothing.")
    plan = {
        "today": today.isoformat(),
        "groups": groups,
        "patients": list(Patient.objects.filter(tenant=desk.tenant).values_list("pk", flat=True)),
        "clinics": list(Clinic.objects.filter(tenant=desk.tenant).values_list("pk", flat=True)),
        "providers": list(Provider.objects.filter(user__tenant=desk.tenant).values_list("pk", flat=True)),
    }
    Path(plan_path).write_text(json.dumps(plan, indent=1))
    print(f"Load-test plan: {len(groups)} groups of {SEATS} seats today, {len(plan['patients'])} children.")


if __name__ == "__main__":
    main(sys.argv[1])
