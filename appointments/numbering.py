"""Appointment numbers: APT-<TENANT>-<YEAR>-<NNNNN>, gap-free per tenant and year."""

from django.db import transaction

from appointments.models import AppointmentNumberCounter
from core import clock, locks
from core.models import Tenant


def issue_appointment_number(tenant: Tenant) -> str:
    """Draw the next number from the tenant's counter for the current year (installation time).

    Must run inside the transaction that inserts the booking: the counter row stays
    locked until that transaction ends, so a rolled-back booking returns its number
    and numbers have no gaps. One statement creates the row or advances it, and locks
    it - last in core.locks' order.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_appointment_number must run inside transaction.atomic")
    year = clock.today().year
    number = locks.increment(AppointmentNumberCounter, "last_number", tenant=tenant, year=year)
    return f"APT-{tenant.code}-{year}-{number:05d}"
