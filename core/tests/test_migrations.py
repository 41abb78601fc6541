"""core 0002: existing MRNs are normalised (with a history row each), or the migration refuses.

The database is put at core 0001 (MRNs globally unique, stored as typed), filled,
then migrated forward.
"""

import datetime
import importlib

import pytest
from django.db import IntegrityError, transaction

BEFORE = ("core", "0001_initial")
AFTER = ("core", "0002_patient_mrn_normalised_unique_per_tenant")
MIGRATION = importlib.import_module(f"core.migrations.{AFTER[1]}")


def add_patients(apps, tenant_code: str, *mrns: str) -> list:
    tenant = apps.get_model("core", "Tenant").objects.get_or_create(code=tenant_code, name_en=tenant_code)[0]
    patient_model = apps.get_model("core", "Patient")
    return [
        patient_model.objects.create(
            tenant=tenant,
            mrn=mrn,
            first_name_en="Child",
            last_name_en=f"No {number}",
            date_of_birth=datetime.date(2019, 1, 1 + number),
        )
        for number, mrn in enumerate(mrns)
    ]


@pytest.mark.django_db(transaction=True)
def test_patient_mrn_migration_normalises_every_mrn_and_keeps_history(migrator):
    # given MRNs as staff typed them, in two organisations
    old = migrator.apply_initial_migration(BEFORE)
    agdar = add_patients(old.apps, "AGDAR", " ag-1", "AG-٠٠٢", "AG-3")
    other = add_patients(old.apps, "OTHER", "AG-1 ", "b-۴")

    # when
    new = migrator.apply_tested_migration(AFTER)

    # then every MRN is normalised; the same MRN lives on in both organisations
    patient_model = new.apps.get_model("core", "Patient")
    assert dict(patient_model.objects.values_list("pk", "mrn")) == {
        agdar[0].pk: "AG-1",
        agdar[1].pk: "AG-002",
        agdar[2].pk: "AG-3",
        other[0].pk: "AG-1",
        other[1].pk: "B-4",
    }
    # and each changed patient has one history row saying why; the unchanged one none
    history = new.apps.get_model("core", "HistoricalPatient").objects.all()
    assert sorted(
        (row.id, row.mrn, row.history_type, row.history_change_reason) for row in history
    ) == sorted(
        (pk, mrn, "~", "MRN normalised (migration core 0002)")
        for pk, mrn in [
            (agdar[0].pk, "AG-1"),
            (agdar[1].pk, "AG-002"),
            (other[0].pk, "AG-1"),
            (other[1].pk, "B-4"),
        ]
    )
    assert {row.last_name_en for row in history} == {"No 0", "No 1"}
    # and from now on the database keeps it so
    with pytest.raises(IntegrityError), transaction.atomic():
        patient_model.objects.filter(pk=agdar[2].pk).update(mrn="ag-3")
    with pytest.raises(IntegrityError), transaction.atomic():
        patient_model.objects.filter(pk=agdar[2].pk).update(mrn="AG-1")


@pytest.mark.django_db(transaction=True)
def test_patient_mrn_migration_refuses_mrns_that_would_collide_and_changes_nothing(migrator):
    # given two children of one organisation whose MRNs differ only as typed, and one blank MRN
    old = migrator.apply_initial_migration(BEFORE)
    twins = add_patients(old.apps, "AGDAR", "ag-1", " AG-١ ", "AG-2")
    blank = add_patients(old.apps, "OTHER", "   ", "Ag-1")

    # when
    with pytest.raises(MIGRATION.MrnCollision, match="Nothing was changed") as refused:
        migrator.apply_tested_migration(AFTER)

    # then the refusal names them, and nothing was written
    assert str(refused.value).splitlines()[1:] == [
        f"  tenant AGDAR: MRN 'AG-1' would be shared by patient {twins[0].pk} ('ag-1'), "
        f"patient {twins[1].pk} (' AG-١ ')",
        f"  patient {blank[0].pk} ('   '): blank, or over 30 characters, once normalised",
    ]
    patient_model = old.apps.get_model("core", "Patient")
    assert sorted(patient_model.objects.values_list("mrn", flat=True)) == sorted(
        ["ag-1", " AG-١ ", "AG-2", "   ", "Ag-1"]
    )
    # and once an administrator renumbers them, the migration goes through
    patient_model.objects.filter(pk=twins[1].pk).update(mrn="AG-11")
    patient_model.objects.filter(pk=blank[0].pk).update(mrn="B-1")
    new = migrator.apply_tested_migration(AFTER)
    assert sorted(new.apps.get_model("core", "Patient").objects.values_list("mrn", flat=True)) == [
        "AG-1",
        "AG-1",
        "AG-11",
        "AG-2",
        "B-1",
    ]
