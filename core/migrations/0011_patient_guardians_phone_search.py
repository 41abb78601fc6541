"""Each patient's guardian name and phone become their primary guardian; the phone search moves to guardians.

A name with an Arabic letter goes to ``name_ar``, any other to ``name_en``; a phone without a name
gets a placeholder name in both languages, plain to see on the chart. The phone is stored in E.164,
read with ``phonenumbers`` in ``settings.PHONE_DEFAULT_REGION`` (Arabic-Indic digits folded first);
one that is no valid number is kept as typed in ``phone_as_entered``, flagged for review, the phone
left blank. Consent to be contacted stays unrecorded (False): staff record it, nobody assumes it.
Every guardian written here gets its history row, naming this migration.

Going back copies each primary guardian's name and phone to the patient, and keeps the guardians
(the table stays), so going forward again adds none twice.

``Patient.search_text`` no longer holds the phone. ``core_historicalpatient`` keeps its
``guardian_name`` and ``phone`` columns in the database (out of Django's state): every history row
is hashed into the audit chain (``core.row_hashes``), and dropping a column would make each older
row report as changed. New history rows write '' there.
"""

import re

import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.functions.text
import phonenumbers
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
PLACEHOLDER_EN = "Name not recorded"
PLACEHOLDER_AR = "الاسم غير مسجل"
CHANGE_REASON = "From the patient record (migration core 0011)"
BATCH = 1000


def e164(raw: str) -> str | None:
    """``raw`` in E.164, or None when ``phonenumbers`` finds no valid number in it."""
    text = raw.translate(ARABIC_DIGITS).strip()
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def guardian_of(guardian_model, patient):
    name = patient.guardian_name.strip()
    raw_phone = patient.phone.strip()
    phone = e164(raw_phone) if raw_phone else ""
    arabic = bool(ARABIC_LETTER.search(name))
    if not name:
        name_en, name_ar = PLACEHOLDER_EN, PLACEHOLDER_AR
    elif arabic:
        name_en, name_ar = "", name
    else:
        name_en, name_ar = name, ""
    return guardian_model(
        patient_id=patient.pk,
        name_en=name_en,
        name_ar=name_ar,
        phone=phone or "",
        phone_as_entered=raw_phone if phone is None else "",
        phone_needs_review=phone is None,
        preferred_language="ar" if arabic or not name else "en",
        consent_to_contact=False,
        is_primary=True,
    )


def save_batch(apps, guardians) -> None:
    guardian_model = apps.get_model("core", "Guardian")
    history_model = apps.get_model("core", "HistoricalGuardian")
    created = guardian_model.objects.bulk_create(guardians)
    now = timezone.now()
    fields = [field.attname for field in guardian_model._meta.concrete_fields]
    history_model.objects.bulk_create(
        history_model(
            **{field: getattr(guardian, field) for field in fields},
            history_date=now,
            history_type="+",
            history_change_reason=CHANGE_REASON,
        )
        for guardian in created
    )


def patients_to_guardians(apps, schema_editor):
    patient_model = apps.get_model("core", "Patient")
    guardian_model = apps.get_model("core", "Guardian")
    patients = (
        patient_model.objects.exclude(guardian_name="", phone="")
        .exclude(guardians__is_primary=True)
        .only("pk", "guardian_name", "phone")
        .order_by("pk")
    )
    batch = []
    for patient in patients.iterator(chunk_size=BATCH):
        batch.append(guardian_of(guardian_model, patient))
        if len(batch) == BATCH:
            save_batch(apps, batch)
            batch = []
    if batch:
        save_batch(apps, batch)


def guardians_to_patients(apps, schema_editor):
    patient_model = apps.get_model("core", "Patient")
    guardian_model = apps.get_model("core", "Guardian")
    changed = []
    for guardian in guardian_model.objects.filter(is_primary=True).order_by("pk").iterator(chunk_size=BATCH):
        name = guardian.name_ar or guardian.name_en
        changed.append(
            patient_model(
                pk=guardian.patient_id,
                guardian_name="" if name in (PLACEHOLDER_EN, PLACEHOLDER_AR) else name,
                phone=guardian.phone or guardian.phone_as_entered,
            )
        )
    patient_model.objects.bulk_update(changed, ["guardian_name", "phone"], batch_size=BATCH)


SEARCH_TEXT_WITHOUT_PHONE = models.GeneratedField(
    db_persist=True,
    expression=django.db.models.functions.text.Concat(
        models.Func(
            django.db.models.functions.text.Lower(
                models.Func(
                    models.F("first_name_en"),
                    models.Value("أإآٱةىئؤ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ـًٌٍَُِّْٰ"),
                    models.Value("ااااهييو01234567890123456789"),
                    function="translate",
                )
            ),
            models.Value("[^0-9a-zÀ-ɏء-ي]+"),
            models.Value(" "),
            models.Value("g"),
            function="regexp_replace",
        ),
        models.Value(" "),
        models.Func(
            django.db.models.functions.text.Lower(
                models.Func(
                    models.F("last_name_en"),
                    models.Value("أإآٱةىئؤ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ـًٌٍَُِّْٰ"),
                    models.Value("ااااهييو01234567890123456789"),
                    function="translate",
                )
            ),
            models.Value("[^0-9a-zÀ-ɏء-ي]+"),
            models.Value(" "),
            models.Value("g"),
            function="regexp_replace",
        ),
        models.Value(" "),
        models.Func(
            django.db.models.functions.text.Lower(
                models.Func(
                    models.F("first_name_ar"),
                    models.Value("أإآٱةىئؤ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ـًٌٍَُِّْٰ"),
                    models.Value("ااااهييو01234567890123456789"),
                    function="translate",
                )
            ),
            models.Value("[^0-9a-zÀ-ɏء-ي]+"),
            models.Value(" "),
            models.Value("g"),
            function="regexp_replace",
        ),
        models.Value(" "),
        models.Func(
            django.db.models.functions.text.Lower(
                models.Func(
                    models.F("last_name_ar"),
                    models.Value("أإآٱةىئؤ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ـًٌٍَُِّْٰ"),
                    models.Value("ااااهييو01234567890123456789"),
                    function="translate",
                )
            ),
            models.Value("[^0-9a-zÀ-ɏء-ي]+"),
            models.Value(" "),
            models.Value("g"),
            function="regexp_replace",
        ),
        models.Value(" "),
        models.Func(
            django.db.models.functions.text.Lower(
                models.Func(
                    models.F("mrn"),
                    models.Value("أإآٱةىئؤ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ـًٌٍَُِّْٰ"),
                    models.Value("ااااهييو01234567890123456789"),
                    function="translate",
                )
            ),
            models.Value("[^0-9a-zÀ-ɏء-ي]+"),
            models.Value(" "),
            models.Value("g"),
            function="regexp_replace",
        ),
        models.Value(" "),
        models.Func(
            django.db.models.functions.text.Lower(
                models.Func(
                    models.F("mrn"),
                    models.Value("أإآٱةىئؤ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ـًٌٍَُِّْٰ"),
                    models.Value("ااااهييو01234567890123456789"),
                    function="translate",
                )
            ),
            models.Value("[^0-9a-z]+"),
            models.Value(""),
            models.Value("g"),
            function="regexp_replace",
        ),
    ),
    output_field=models.TextField(),
    verbose_name="search text",
)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0010_guardians_quiet_hours"),
    ]

    operations = [
        # Before the rows: PostgreSQL alters no table with inserts' constraint checks pending.
        migrations.RemoveIndex(model_name="guardian", name="guardian_phone_idx"),
        migrations.AddIndex(
            model_name="guardian",
            index=models.Index(
                fields=["phone"], name="guardian_phone_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ),
        migrations.RunPython(patients_to_guardians, guardians_to_patients, elidable=False),
        # A generated column can't be altered: dropped (with its index) and added back without the phone.
        migrations.RemoveIndex(model_name="patient", name="patient_search_text_idx"),
        migrations.RemoveField(model_name="patient", name="search_text"),
        migrations.RemoveField(model_name="patient", name="guardian_name"),
        migrations.RemoveField(model_name="patient", name="phone"),
        migrations.AddField(model_name="patient", name="search_text", field=SEARCH_TEXT_WITHOUT_PHONE),
        migrations.AddIndex(
            model_name="patient",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.SearchVector("search_text", config="simple"),
                name="patient_search_text_idx",
            ),
        ),
        # The sealed history rows keep their columns (see the docstring); only Django forgets them.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="historicalpatient", name="guardian_name"),
                migrations.RemoveField(model_name="historicalpatient", name="phone"),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE core_historicalpatient ALTER COLUMN guardian_name SET DEFAULT '', "
                    "ALTER COLUMN phone SET DEFAULT ''",
                    "ALTER TABLE core_historicalpatient ALTER COLUMN guardian_name DROP DEFAULT, "
                    "ALTER COLUMN phone DROP DEFAULT",
                )
            ],
        ),
    ]
