"""Patient MRNs: stored normalised, unique within a tenant instead of across all tenants.

Order matters: the global unique index goes first (normalising "ag-1" in one tenant
must not clash with "AG-1" of another), then every MRN is normalised, then the
per-tenant unique constraint and the check that keeps MRNs normalised are added.

Two patients of one tenant whose MRNs differ only in case, surrounding spaces or
Arabic digits ("ag-1" and " AG-1") would share one MRN once normalised. The
migration does not guess which child keeps it: it stops, lists them (and any MRN
that would be blank or too long), and changes nothing; an administrator renumbers
or merges them and migrates again.

Each patient whose MRN changes gets a history row, as any other change would.
Backwards, the per-tenant rules are dropped and the global unique index comes back
(which fails if two tenants now share an MRN); the MRNs stay normalised.
"""

from collections import defaultdict

from django.db import migrations, models
from django.db.models.functions import Trim, Upper
from django.utils import timezone

# A frozen copy of core.models.normalise_mrn as it was when this migration was written.
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
CHANGE_REASON = "MRN normalised (migration core 0002)"
BATCH_SIZE = 1000
MAX_LENGTH = 30


class MrnCollision(Exception):
    """MRNs that can't be normalised: shared within a tenant once normalised, blank, or too long."""


def normalise_mrn(mrn):
    return mrn.strip().translate(ARABIC_DIGITS).upper()


def refusal_message(collisions, unstorable, tenant_codes):
    lines = [
        "Can't store patient MRNs normalised (trimmed, upper case, ASCII digits) and unique per "
        "tenant. Nothing was changed. Give each of these children an MRN of its own, or merge the "
        "duplicates, then migrate again:"
    ]
    for (tenant_id, mrn), patients in sorted(collisions.items()):
        stored = ", ".join(f"patient {pk} ({raw!r})" for pk, raw in sorted(patients))
        lines.append(f"  tenant {tenant_codes[tenant_id]}: MRN {mrn!r} would be shared by {stored}")
    for pk, raw in sorted(unstorable):
        lines.append(f"  patient {pk} ({raw!r}): blank, or over {MAX_LENGTH} characters, once normalised")
    return "\n".join(lines)


def normalise_patient_mrns(apps, schema_editor):
    patient_model = apps.get_model("core", "Patient")
    history_model = apps.get_model("core", "HistoricalPatient")
    tenant_model = apps.get_model("core", "Tenant")

    by_key = defaultdict(list)
    for pk, tenant_id, raw in patient_model.objects.values_list("pk", "tenant_id", "mrn").iterator():
        by_key[tenant_id, normalise_mrn(raw)].append((pk, raw))
    collisions = {key: patients for key, patients in by_key.items() if len(patients) > 1}
    unstorable = [
        patient
        for (_, normalised), patients in by_key.items()
        if not normalised or len(normalised) > MAX_LENGTH
        for patient in patients
    ]
    if collisions or unstorable:
        tenant_codes = dict(tenant_model.objects.values_list("pk", "code"))
        raise MrnCollision(refusal_message(collisions, unstorable, tenant_codes))

    changed_pks = [
        pk for (_, normalised), patients in by_key.items() for pk, raw in patients if raw != normalised
    ]
    copied = [field.attname for field in patient_model._meta.concrete_fields]
    now = timezone.now()
    for start in range(0, len(changed_pks), BATCH_SIZE):
        patients = list(patient_model.objects.filter(pk__in=changed_pks[start : start + BATCH_SIZE]))
        for patient in patients:
            patient.mrn = normalise_mrn(patient.mrn)
        patient_model.objects.bulk_update(patients, ["mrn"])
        history_model.objects.bulk_create(
            history_model(
                **{name: getattr(patient, name) for name in copied},
                history_date=now,
                history_type="~",
                history_change_reason=CHANGE_REASON,
            )
            for patient in patients
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalpatient",
            name="mrn",
            field=models.CharField(max_length=30, verbose_name="medical record number"),
        ),
        migrations.AlterField(
            model_name="patient",
            name="mrn",
            field=models.CharField(max_length=30, verbose_name="medical record number"),
        ),
        migrations.RunPython(normalise_patient_mrns, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(
                fields=("tenant", "mrn"),
                name="patient_unique_mrn_per_tenant",
                violation_error_message="Another patient already has this MRN.",
            ),
        ),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("mrn", Upper(Trim("mrn"))),
                    models.Q(("mrn", ""), _negated=True),
                    models.Q(("mrn__regex", "^\\s|\\s$|[٠-٩۰-۹]"), _negated=True),
                ),
                name="patient_mrn_normalised",
                violation_error_message="The MRN is not normalised.",
            ),
        ),
    ]
