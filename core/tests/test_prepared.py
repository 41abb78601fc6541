"""core.prepared and locks.PreparedRowLock: the compiled-once queries read what the ORM reads."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from appointments.models import Session
from appointments.tests.factories import GroupSessionFactory
from core import locks
from core.models import Consent, Patient
from core.prepared import PreparedQuery
from core.tests.factories import ConsentFactory, PatientFactory, ProviderFactory

pytestmark = pytest.mark.django_db

_lock_session = locks.PreparedRowLock(
    lambda: Session.objects.select_related("clinic__tenant").only(
        "status", "clinic__name_en", "clinic__tenant"
    )
)
_lock_patient = locks.PreparedRowLock(lambda: Patient)
_consents = PreparedQuery(lambda patient_id: Consent.objects.filter(patient_id=patient_id))


def test_a_prepared_lock_reads_the_row_and_its_joins_as_the_queryset_does():
    session = GroupSessionFactory()
    with transaction.atomic():
        locked = _lock_session(session.pk)
        with CaptureQueriesContext(connection) as again:
            locked_again = _lock_session(str(session.pk))  # a pk given as text, as .get() takes it
    expected = Session.objects.select_related("clinic__tenant").get(pk=session.pk)
    assert (locked.pk, locked.status, locked.clinic.name_en, locked.clinic.tenant.pk) == (
        expected.pk,
        expected.status,
        expected.clinic.name_en,
        expected.clinic.tenant.pk,
    )
    assert (
        locked.get_deferred_fields()
        == Session.objects.select_related("clinic__tenant")
        .only("status", "clinic__name_en", "clinic__tenant")
        .get(pk=session.pk)
        .get_deferred_fields()
    )
    assert locked_again.pk == session.pk
    assert len(again) == 1
    assert again[0]["sql"].endswith('FOR UPDATE OF "appointments_session"')


def test_a_prepared_lock_refuses_a_missing_row():
    with (
        transaction.atomic(),
        pytest.raises(Session.DoesNotExist, match="Session matching query does not exist."),
    ):
        _lock_session(0)


def test_a_prepared_lock_keeps_the_lock_order_check():
    provider = ProviderFactory()
    patient = PatientFactory()
    with transaction.atomic():
        _lock_patient(patient.pk)
        with pytest.raises(locks.LockOrderError, match="a provider is locked before a patient"):
            locks.lock_row(type(provider), provider.pk)
    with transaction.atomic():
        locks.lock_row(type(provider), provider.pk)
        _lock_patient(patient.pk)
        assert locks.held_locks()[-1] == ("core.Patient", patient.pk)


def test_a_prepared_query_returns_the_rows_of_the_queryset_for_each_value():
    first, second = PatientFactory(), PatientFactory()
    ConsentFactory.create_batch(2, patient=first)
    ConsentFactory(patient=second)
    for patient in (first, second):
        expected = list(Consent.objects.filter(patient=patient).values_list("pk", "signed_at"))
        assert [(consent.pk, consent.signed_at) for consent in _consents.rows(patient.pk)] == expected
    assert _consents.rows(0) == []
