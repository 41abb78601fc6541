"""core 0011: each patient's guardian name and phone become their primary guardian, and back.

The database is put at core 0010 (guardians exist, patients still hold ``guardian_name`` and
``phone``), filled, then migrated forward and back.
"""

import datetime

import pytest
from django.db import connection

BEFORE = ("core", "0010_guardians_quiet_hours")
AFTER = ("core", "0011_patient_guardians_phone_search")


def add_patient(apps, mrn: str, guardian_name: str, phone: str):
    tenant = apps.get_model("core", "Tenant").objects.get_or_create(code="AGDAR", name_en="Agdar")[0]
    return apps.get_model("core", "Patient").objects.create(
        tenant=tenant,
        mrn=mrn,
        first_name_en="Child",
        last_name_en=mrn,
        date_of_birth=datetime.date(2019, 1, 1),
        guardian_name=guardian_name,
        phone=phone,
    )


@pytest.mark.django_db(transaction=True)
def test_guardian_migration_makes_primary_guardians_flags_bad_phones_and_goes_back(migrator):
    # given patients as the desk typed them: English and Arabic names, local, spaced and Arabic-digit
    # phones, a phone that is no number, a phone without a name, and a child with neither
    old = migrator.apply_initial_migration(BEFORE)
    rows = {
        "english": add_patient(old.apps, "AG-1", "Huda Ali", "0501234567"),
        "arabic": add_patient(old.apps, "AG-2", " هدى العتيبي ", "+966 55 111 2233"),
        "arabic_digits": add_patient(old.apps, "AG-3", "Mona", "٠٥٠٧٦٥٤٣٢١"),
        "invalid": add_patient(old.apps, "AG-4", "Reem", "call the school"),
        "no_name": add_patient(old.apps, "AG-5", "", "0509998887"),
        "nothing": add_patient(old.apps, "AG-6", "", ""),
    }

    # when
    new = migrator.apply_tested_migration(AFTER)

    # then each child with a name or a phone has one primary guardian, not (yet) consenting
    guardian_model = new.apps.get_model("core", "Guardian")
    found = {guardian.patient_id: guardian for guardian in guardian_model.objects.all()}
    assert set(found) == {
        rows[key].pk for key in ("english", "arabic", "arabic_digits", "invalid", "no_name")
    }
    assert all(guardian.is_primary and not guardian.consent_to_contact for guardian in found.values())
    summary = {
        key: (
            found[row.pk].name_en,
            found[row.pk].name_ar,
            found[row.pk].phone,
            found[row.pk].phone_as_entered,
            found[row.pk].phone_needs_review,
        )
        for key, row in rows.items()
        if row.pk in found
    }
    assert summary == {
        "english": ("Huda Ali", "", "+966501234567", "", False),
        "arabic": ("", "هدى العتيبي", "+966551112233", "", False),
        "arabic_digits": ("Mona", "", "+966507654321", "", False),
        "invalid": ("Reem", "", "", "call the school", True),
        "no_name": ("Name not recorded", "الاسم غير مسجل", "+966509998887", "", False),
    }
    assert found[rows["arabic"].pk].preferred_language == "ar"
    assert found[rows["english"].pk].preferred_language == "en"
    # and each has a history row naming the migration
    history = new.apps.get_model("core", "HistoricalGuardian").objects.all()
    assert sorted((row.id, row.history_type, row.history_change_reason) for row in history) == sorted(
        (guardian.pk, "+", "From the patient record (migration core 0011)") for guardian in found.values()
    )
    # and the patient no longer holds them, nor searches by them
    patient_fields = {field.name for field in new.apps.get_model("core", "Patient")._meta.get_fields()}
    assert {"guardian_name", "phone"}.isdisjoint(patient_fields)
    search_text = new.apps.get_model("core", "Patient").objects.get(pk=rows["english"].pk).search_text
    assert "0501234567" not in search_text
    # while the sealed history table keeps its columns (so older rows still verify)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'core_historicalpatient' AND column_name IN ('guardian_name', 'phone')"
        )
        assert sorted(row[0] for row in cursor.fetchall()) == ["guardian_name", "phone"]

    # when going back
    back = migrator.apply_tested_migration(BEFORE)

    # then each patient has their guardian's name and phone again (in E.164, or as typed)
    patients = back.apps.get_model("core", "Patient").objects.order_by("mrn")
    assert [(patient.mrn, patient.guardian_name, patient.phone) for patient in patients] == [
        ("AG-1", "Huda Ali", "+966501234567"),
        ("AG-2", "هدى العتيبي", "+966551112233"),
        ("AG-3", "Mona", "+966507654321"),
        ("AG-4", "Reem", "call the school"),
        ("AG-5", "", "+966509998887"),
        ("AG-6", "", ""),
    ]

    # and forward again adds no second primary guardian
    again = migrator.apply_tested_migration(AFTER)
    assert again.apps.get_model("core", "Guardian").objects.count() == 5
