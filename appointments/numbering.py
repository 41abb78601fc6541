"""Appointment numbers: APT-<TENANT>-<YEAR>-<NNNNN>, gap-free per tenant and year."""

from django.db import transaction

from appointments.models import AppointmentNumberCounter
from core import clock, locks
from core.models import Tenant


def issue_appointment_number(tenant: Tenant) -> str:
    """Draw the next number from the tenant's counter for the current year (installation time).

    Must run inside the transaction that inserts the booking: the counter row stays
    locked until that transaction ends, so a rolled-back booking returns its number
    and numbers have no gaps. The counter row is created race-free first (ON CONFLICT
    DO NOTHING), then locked - last in core.locks' order.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_appointment_number must run inside transaction.atomic")
    year = clock.today().year
    AppointmentNumberCounter.objects.bulk_create(
        [AppointmentNumberCounter(tenant=tenant, year=year)], ignore_conflicts=True
    )
    counter = locks.lock_unique(AppointmentNumberCounter, tenant=tenant, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"APT-{tenant.code}-{year}-{counter.last_number:05d}"
