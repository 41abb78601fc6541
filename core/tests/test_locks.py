"""core.locks: the lock order, its check, and what "the current transaction" is.

Most tests run inside pytest-django's TestCase atomic blocks (``django_db``), where
each ``transaction.atomic`` block of the test (or of a service) stands for a
transaction of its own. The ``transactional`` tests commit and roll back for real.
"""

import re
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from appointments.models import AppointmentNumberCounter, Session
from appointments.tests.factories import GroupSessionFactory
from core import locks
from core.models import Consent, Patient, Provider, Room, Tenant
from core.patient_service import PatientService
from core.tests.factories import ConsentFactory, PatientFactory, ProviderFactory

pytestmark = pytest.mark.django_db

transactional = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    """Raised to roll a block back."""


@transaction.atomic
def lock_in_its_own_transaction(model, pk):
    """Like a service method: the decorator reuses one Atomic object for every call."""
    return locks.lock_row(model, pk)


def lock_then_roll_back(model, pk):
    """Lock a row in an atomic block (a savepoint when nested) that is rolled back."""
    with transaction.atomic():
        locks.lock_row(model, pk)
        raise Boom


def two_providers(clinic):
    return sorted([ProviderFactory(clinic=clinic), ProviderFactory(clinic=clinic)], key=lambda p: p.pk)


def broken(wanted: str, held: str, why: str) -> str:
    return re.escape(
        f"Lock order broken: locking {wanted} while this transaction holds {held}; {why} "
        "(the order is in core/locks.py)."
    )


def test_locks_order_is_the_documented_one():
    assert locks.lock_order() == [
        "core.Provider",
        "core.Room",
        "appointments.SessionSeries",
        "appointments.Session",
        "appointments.Appointment",
        "appointments.SessionParticipant",
        "appointments.WaitlistEntry",
        "core.Patient",
        "core.Consent",
        "psychology.PsychologySession",
        "ot.OTSession",
        "aba.ABASession",
        "appointments.Reminder",
        "appointments.AppointmentNumberCounter",
    ]


def test_locks_in_order_pass_and_are_recorded(provider, room, tenant):
    patient = PatientFactory(tenant=tenant)
    consent = ConsentFactory(patient=patient)

    with transaction.atomic():
        locks.lock_row(Provider, provider.pk)
        locks.lock_row(Room, room.pk)
        locks.lock_row(Patient, patient.pk)
        locks.lock_row(Consent, consent.pk)
        held = locks.held_locks()

    assert held == [
        ("core.Provider", provider.pk),
        ("core.Room", room.pk),
        ("core.Patient", patient.pk),
        ("core.Consent", consent.pk),
    ]


def test_locks_out_of_order_raises_naming_both_locks(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        locks.lock_row(Patient, patient.pk)
        with pytest.raises(
            locks.LockOrderError,
            match=broken(
                f"core.Provider pk={provider.pk}",
                f"core.Patient pk={patient.pk}",
                "a provider is locked before a patient",
            ),
        ):
            locks.lock_row(Provider, provider.pk)


def test_locks_lower_pk_after_higher_pk_of_one_model_raises(clinic):
    low, high = two_providers(clinic)

    with transaction.atomic():
        locks.lock_row(Provider, high.pk)
        with pytest.raises(
            locks.LockOrderError,
            match=broken(
                f"core.Provider pk={low.pk}",
                f"core.Provider pk={high.pk}",
                "rows of core.Provider are locked in ascending primary key",
            ),
        ):
            locks.lock_row(Provider, low.pk)


def test_locks_relocking_a_held_row_passes(provider, room, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        locks.lock_row(Provider, provider.pk)
        locks.lock_row(Patient, patient.pk)
        locks.lock_row_if_exists(Provider, provider.pk)
        locks.lock_row(Patient, patient.pk)
        held = locks.held_locks()

    assert held == [("core.Provider", provider.pk), ("core.Patient", patient.pk)]


def test_locks_a_row_between_held_ones_but_not_held_raises(clinic, room):
    first, second = two_providers(clinic)

    with transaction.atomic():
        locks.lock_row(Provider, first.pk)
        locks.lock_row(Room, room.pk)
        locks.lock_row(Provider, first.pk)  # held: fine
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a room"):
            locks.lock_row(Provider, second.pk)  # not held, and before the room


def test_locks_lock_rows_locks_in_ascending_pk_and_returns_that_order(clinic):
    providers = [ProviderFactory(clinic=clinic) for _ in range(3)]
    pks = sorted(provider.pk for provider in providers)

    with transaction.atomic():
        locked = locks.lock_rows(Provider.objects.filter(pk__in=pks).order_by("-pk"))
        held = locks.held_locks()

    assert [provider.pk for provider in locked] == pks
    assert held == [("core.Provider", pk) for pk in pks]


def test_locks_lock_rows_of_a_model_before_held_rows_raises(clinic, tenant):
    patient = PatientFactory(tenant=tenant)
    provider = ProviderFactory(clinic=clinic)

    with transaction.atomic():
        locks.lock_row(Patient, patient.pk)
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"):
            locks.lock_rows(Provider.objects.filter(pk=provider.pk))


def test_locks_missing_row_none_or_does_not_exist_and_nothing_recorded():
    with transaction.atomic():
        assert locks.lock_row_if_exists(Provider, 0) is None
        with pytest.raises(Provider.DoesNotExist):
            locks.lock_row(Provider, 0)
        held = locks.held_locks()

    assert held == []


def test_locks_out_of_order_raises_before_the_query_even_for_a_missing_row(tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        locks.lock_row(Patient, patient.pk)
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"):
            locks.lock_row_if_exists(Provider, 0)


def test_locks_lock_unique_finds_the_counter_by_its_lookups(tenant):
    AppointmentNumberCounter.objects.create(tenant=tenant, year=2025, last_number=7)

    with transaction.atomic():
        counter = locks.lock_unique(AppointmentNumberCounter, tenant=tenant, year=2025)
        held = locks.held_locks()

    assert counter.last_number == 7
    assert held == [("appointments.AppointmentNumberCounter", counter.pk)]


def test_locks_lock_unique_checks_the_order_once_the_row_is_read(tenant, provider):
    counter = AppointmentNumberCounter.objects.create(tenant=tenant, year=2025)

    with transaction.atomic():
        locks.lock_unique(AppointmentNumberCounter, pk=counter.pk)
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a counter"):
            locks.lock_row(Provider, provider.pk)


def test_locks_only_the_models_own_row_is_locked_not_the_joined_ones(provider, clinic):
    session = GroupSessionFactory(provider=provider, clinic=clinic)

    joined = Session.objects.select_related("clinic__tenant", "provider__user")

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        locked = locks.lock_row(joined, session.pk)

    assert locked.clinic.tenant == clinic.tenant
    (select,) = [query["sql"] for query in queries.captured_queries if "FOR UPDATE" in query["sql"]]
    assert select.endswith('FOR UPDATE OF "appointments_session"')


def test_locks_a_model_with_no_place_in_the_order_raises(tenant):
    with (
        transaction.atomic(),
        pytest.raises(
            locks.LockOrderError,
            match=re.escape(
                "core.Tenant has no place in the lock order; give it one in core/locks.py first."
            ),
        ),
    ):
        locks.lock_row(Tenant, tenant.pk)


def test_locks_rank_model_keeps_a_place_and_refuses_another_rank():
    locks.rank_model(Patient, locks.Rank.PATIENT)

    with pytest.raises(ValueError, match="core.Patient already ranks as patient, not note."):
        locks.rank_model(Patient, locks.Rank.NOTE)
    assert locks.lock_order().index("core.Patient") == 7


def test_locks_two_decorated_calls_in_one_test_are_two_transactions(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    lock_in_its_own_transaction(Patient, patient.pk)
    lock_in_its_own_transaction(Provider, provider.pk)  # a new transaction: no error


def test_locks_two_service_calls_in_one_test_dont_trip(provider, clinic, tenant):
    consent = ConsentFactory(patient=PatientFactory(tenant=tenant))
    session = GroupSessionFactory(provider=provider, clinic=clinic)

    PatientService.revoke_consent(consent)  # locks a consent
    lock_in_its_own_transaction(Provider, provider.pk)
    lock_in_its_own_transaction(Session, session.pk)


def test_locks_a_failed_call_leaves_no_locks_behind(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with pytest.raises(Boom):
        lock_then_roll_back(Patient, patient.pk)
    lock_in_its_own_transaction(Provider, provider.pk)


def test_locks_blocks_nested_in_one_call_are_one_transaction(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        lock_in_its_own_transaction(Patient, patient.pk)  # a savepoint, released: still held
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"):
            lock_in_its_own_transaction(Provider, provider.pk)


def test_locks_a_block_without_savepoint_belongs_to_its_parent(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        with transaction.atomic(savepoint=False):
            locks.lock_row(Patient, patient.pk)
        with (
            transaction.atomic(savepoint=False),
            pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"),
        ):
            locks.lock_row(Provider, provider.pk)


def test_locks_taken_straight_from_the_test_body_count_for_the_whole_test(provider, tenant):
    patient = PatientFactory(tenant=tenant)
    locks.lock_row(Patient, patient.pk)

    with pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"):
        locks.lock_row(Provider, provider.pk)


def test_locks_checks_off_record_and_refuse_nothing(settings, provider, tenant):
    settings.LOCK_ORDER_CHECKS = False
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        locks.lock_row(Patient, patient.pk)
        locks.lock_row(Provider, provider.pk)
        held = locks.held_locks()

    assert held == []


def test_locks_order_unchecked_lets_a_block_break_the_order(provider, room, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        locks.lock_row(Room, room.pk)
        with locks.order_unchecked("a test"):
            locks.lock_row(Patient, patient.pk)
            locks.lock_row(Provider, provider.pk)
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a room"):
            locks.lock_row(Provider, provider.pk)  # checked again, and not recorded as held


# --- real transactions ------------------------------------------------------------------


@transactional
def test_locks_a_committed_transaction_leaves_the_next_one_clean(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        locks.lock_row(Patient, patient.pk)
    with transaction.atomic():
        assert locks.held_locks() == []
        locks.lock_row(Provider, provider.pk)
        assert locks.held_locks() == [("core.Provider", provider.pk)]


@transactional
def test_locks_a_rolled_back_transaction_leaves_the_next_one_clean(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with pytest.raises(Boom):
        lock_then_roll_back(Patient, patient.pk)
    with transaction.atomic():
        assert locks.held_locks() == []
        locks.lock_row(Provider, provider.pk)


@transactional
def test_locks_consecutive_calls_of_one_decorated_function_are_separate_transactions(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    lock_in_its_own_transaction(Patient, patient.pk)
    lock_in_its_own_transaction(Provider, provider.pk)


@transactional
def test_locks_out_of_order_in_one_real_transaction_raises(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        lock_in_its_own_transaction(Patient, patient.pk)  # a savepoint, released: still held
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"):
            lock_in_its_own_transaction(Provider, provider.pk)


@transactional
def test_locks_a_rolled_back_savepoint_that_took_the_first_lock_releases_it(provider, tenant):
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        with pytest.raises(Boom):
            lock_then_roll_back(Patient, patient.pk)
        # PostgreSQL released the patient with the savepoint; so does the record.
        assert locks.held_locks() == []
        locks.lock_row(Provider, provider.pk)


@transactional
def test_locks_a_rolled_back_savepoint_after_earlier_locks_still_counts(provider, room, tenant):
    # The documented strict side: the record can't tell which locks a later savepoint
    # rollback released, so it keeps them until the transaction ends.
    patient = PatientFactory(tenant=tenant)

    with transaction.atomic():
        locks.lock_row(Room, room.pk)
        with pytest.raises(Boom):
            lock_then_roll_back(Patient, patient.pk)
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"):
            locks.lock_row(Provider, provider.pk)


@transactional
def test_locks_each_thread_has_its_own_record(provider, tenant):
    patient = PatientFactory(tenant=tenant)
    patient_locked = threading.Event()
    done = threading.Event()
    outcome: list[object] = []

    def hold_the_patient():
        try:
            with transaction.atomic():
                locks.lock_row(Patient, patient.pk)
                patient_locked.set()
                done.wait(timeout=60)
                outcome.append(locks.held_locks())
        finally:
            connection.close()

    thread = threading.Thread(target=hold_the_patient)
    thread.start()
    assert patient_locked.wait(timeout=60)
    try:
        with transaction.atomic():
            locks.lock_row(Provider, provider.pk)  # this thread holds no patient
            mine = locks.held_locks()
    finally:
        done.set()
        thread.join(timeout=60)

    assert mine == [("core.Provider", provider.pk)]
    assert outcome == [[("core.Patient", patient.pk)]]
