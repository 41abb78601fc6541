"""The seed's Phase 1 migrations: a database from before the consolidation loses nothing.

The database is put at the state just before each app's ``*_add_centralized_session_links``
(psychology 0002, OT 0004, ABA 0005), filled with legacy appointments and notes of all
three disciplines (drafts and signed notes, rows, addenda, history), then migrated
forward, back and forward again. Every row of every table is compared column by column.

Going back drops the link columns, so it is refused while any note (or history record)
of the discipline is linked to a session: the round trip never wipes a link. And the
later migrations (versions, delete guards, text limits) go forward and back over the
same data losing nothing either.
"""

import datetime

import pytest
from django.db import connection
from django.db.migrations.exceptions import IrreversibleError

BEFORE_LINKS = [
    ("psychology", "0001_initial"),
    ("ot", "0003_content_constraints_and_signed_note_guards"),
    ("aba", "0004_content_constraints_and_signed_note_guards"),
]
WITH_LINKS = [
    ("psychology", "0002_add_centralized_session_links"),
    ("ot", "0004_add_centralized_session_links"),
    ("aba", "0005_add_centralized_session_links"),
]
WITH_VERSIONS = [
    ("psychology", "0003_note_versions_delete_guards_text_limits"),
    ("ot", "0005_note_versions_delete_guards_text_limits"),
    ("aba", "0006_note_versions_delete_guards_text_limits"),
]
NOTE_MODELS = ["psychology.PsychologySession", "ot.OTSession", "aba.ABASession"]
HISTORICAL_NOTE_MODELS = [
    "psychology.HistoricalPsychologySession",
    "ot.HistoricalOTSession",
    "aba.HistoricalABASession",
]
OTHER_MODELS = [
    "appointments.Appointment",
    "psychology.PsychologyNoteAddendum",
    "ot.OTTargetSkill",
    "ot.OTNoteAddendum",
    "aba.ABABehaviourRecord",
    "aba.ABASkillTarget",
    "aba.ABANoteAddendum",
]
LINK_COLUMNS = ("session_id", "session_participant_id")
DAY = datetime.date(2025, 11, 15)
SIGNED_AT = datetime.datetime(2025, 11, 15, 12, 0, tzinfo=datetime.UTC)


def build_legacy_clinic(apps) -> None:
    """What a clinic on the legacy model holds: appointments, notes of every discipline, history."""
    tenant = apps.get_model("core", "Tenant").objects.create(code="AGDAR", name_en="Agdar Centre")
    clinic = apps.get_model("core", "Clinic").objects.create(
        tenant=tenant, name_en="Psychology Clinic", specialty="psychology"
    )
    user_model = apps.get_model("core", "User")
    provider_model = apps.get_model("core", "Provider")
    providers = []
    for number, specialty in enumerate(["psychology", "ot", "aba"]):
        user = user_model.objects.create(username=f"clinician{number}", tenant=tenant, role="admin")
        provider = provider_model.objects.create(user=user, specialty=specialty, title="Dr")
        provider.clinics.add(clinic)
        providers.append(provider)
    patients = [
        apps.get_model("core", "Patient").objects.create(
            tenant=tenant,
            mrn=f"MRN{number:06d}",
            first_name_en=f"Child{number}",
            last_name_en="Al-Otaibi",
            first_name_ar="سارة",
            last_name_ar="العتيبي",
            date_of_birth=datetime.date(2018, 5, 1),
        )
        for number in range(3)
    ]
    appointment_model = apps.get_model("appointments", "Appointment")
    appointments = [
        appointment_model.objects.create(
            patient=patient,
            provider=provider,
            clinic=clinic,
            scheduled_date=DAY,
            scheduled_time=datetime.time(9 + number, 0),
            duration=60,
            service_type="Individual Therapy",
            status="completed",
            appointment_number=f"APT-AGDAR-2025-{number + 1:05d}",
        )
        for number, (patient, provider) in enumerate(zip(patients, providers, strict=True))
    ]
    content = {
        "psychology.PsychologySession": {
            "presenting_issues": "Anxiety symptoms",
            "interventions_used": "CBT techniques",
            "risk_assessment": "high",
            "safety_plan": "Crisis line; daily check-in",
            "plan_next_session": "Exposure ladder",
        },
        "ot.OTSession": {
            "activities": "Obstacle course",
            "attention_level": "good",
            "home_programme": "Putty",
        },
        "aba.ABASession": {"session_summary": "Manding", "caregiver_training": "First-then board"},
    }
    for label, appointment, provider in zip(NOTE_MODELS, appointments, providers, strict=True):
        note_model = apps.get_model(label)
        draft = note_model.objects.create(
            patient=appointment.patient,
            provider=provider,
            session_date=DAY,
            appointment=appointment,
            created_by=provider.user,
            **content[label],
        )
        signed = note_model.objects.create(
            patient=appointment.patient,
            provider=provider,
            session_date=DAY,
            appointment=appointment,
            status="signed",
            signed_by=provider.user,
            signed_at=SIGNED_AT,
            **content[label],
        )
        note_model.objects.create(patient=patients[0], provider=provider, session_date=DAY, **content[label])
        addendum_model = note_model._meta.get_field("addenda").related_model
        addendum_model.objects.create(note=signed, text="Mother reported better sleep.", author=provider.user)
        history_model = apps.get_model(label.replace(".", ".Historical"))
        for note in (draft, signed):
            values = {field.attname: getattr(note, field.attname) for field in note._meta.concrete_fields}
            history_model.objects.create(
                **values, history_date=SIGNED_AT, history_type="+", history_user=provider.user
            )
    ot_note, aba_note = (apps.get_model(label).objects.order_by("pk").first() for label in NOTE_MODELS[1:])
    target_skill = apps.get_model("ot", "OTTargetSkill")
    target_skill.objects.create(note=ot_note, skill="Pencil grasp", rating=0)
    target_skill.objects.create(note=ot_note, skill="Scissors", rating=10)
    apps.get_model("aba", "ABABehaviourRecord").objects.create(
        note=aba_note,
        antecedent="Demand",
        behaviour="Elopement",
        frequency=2,
        duration_seconds=30,
        intensity="mild",
    )
    apps.get_model("aba", "ABASkillTarget").objects.create(
        note=aba_note, target="Mand for break", trials=10, correct=7, prompt_level="verbal"
    )


def snapshot(apps) -> dict[str, list[dict]]:
    labels = [*NOTE_MODELS, *HISTORICAL_NOTE_MODELS, *OTHER_MODELS]
    return {label: list(apps.get_model(label).objects.order_by("pk").values()) for label in labels}


def without_links(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {
        label: [{k: v for k, v in row.items() if k not in LINK_COLUMNS} for row in table]
        for label, table in rows.items()
    }


def columns_of(apps, label: str) -> set[str]:
    table = apps.get_model(label)._meta.db_table
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


@pytest.mark.django_db(transaction=True)
def test_add_centralized_session_links_forward_back_and_forward_loses_nothing(migrator):
    # given a database at the state before the links, holding legacy data
    migrator.apply_initial_migration(BEFORE_LINKS)
    # The initial plan also runs whatever sorts before the last target; undo that.
    legacy_state = migrator.apply_tested_migration(BEFORE_LINKS)
    build_legacy_clinic(legacy_state.apps)
    legacy = snapshot(legacy_state.apps)
    assert not columns_of(legacy_state.apps, "ot.OTSession") & set(LINK_COLUMNS)
    assert [len(legacy[label]) for label in NOTE_MODELS] == [3, 3, 3]
    assert all(legacy.values())

    # when the links migrations run
    linked_state = migrator.apply_tested_migration(WITH_LINKS)
    linked = snapshot(linked_state.apps)

    # then every row and field is intact, the new links are null, the appointment links kept
    for label in [*NOTE_MODELS, *HISTORICAL_NOTE_MODELS]:
        assert LINK_COLUMNS[0] in columns_of(linked_state.apps, label)
        assert {(row["session_id"], row["session_participant_id"]) for row in linked[label]} == {(None, None)}
    assert without_links(linked) == legacy
    for label in NOTE_MODELS:
        note_model = linked_state.apps.get_model(label)
        related_name = f"{note_model._meta.app_label}_sessions"
        for appointment in linked_state.apps.get_model("appointments", "Appointment").objects.all():
            assert set(getattr(appointment, related_name).values_list("pk", flat=True)) == {
                row["id"] for row in legacy[label] if row["appointment_id"] == appointment.pk
            }

    # and back and forward again, nothing lost either way
    back_state = migrator.apply_tested_migration(BEFORE_LINKS)
    assert snapshot(back_state.apps) == legacy
    again_state = migrator.apply_tested_migration(WITH_LINKS)
    assert snapshot(again_state.apps) == linked


def link_a_note(apps, label: str) -> tuple[int, int, int]:
    """Book the patient of ``label``'s draft legacy note into a session and link the note to it,
    as the back-fill does. Returns (note, session, participant) ids."""
    note = (
        apps.get_model(label).objects.filter(status="draft", appointment__isnull=False).order_by("pk").first()
    )
    appointment = note.appointment
    session = apps.get_model("appointments", "Session").objects.create(
        session_type="individual",
        provider_id=appointment.provider_id,
        clinic_id=appointment.clinic_id,
        scheduled_date=appointment.scheduled_date,
        scheduled_time=appointment.scheduled_time,
        duration=appointment.duration,
        service_type=appointment.service_type,
        max_capacity=1,
        status="completed",
    )
    participant = apps.get_model("appointments", "SessionParticipant").objects.create(
        session=session,
        patient_id=appointment.patient_id,
        appointment_number=appointment.appointment_number,
        legacy_appointment=appointment,
        status="attended",
    )
    note.session, note.session_participant = session, participant
    note.save(update_fields=["session", "session_participant"])
    return note.pk, session.pk, participant.pk


def stored_links(label: str, apps) -> list[tuple[int, int | None, int | None]]:
    table = apps.get_model(label)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, session_id, session_participant_id FROM {table} ORDER BY id")  # noqa: S608
        return cursor.fetchall()


# Each discipline's links migration, as its refusal names the notes it would unlink.
LINKS_BY_DISCIPLINE = [
    ("psychology.PsychologySession", BEFORE_LINKS[0], WITH_LINKS[0], "psychology notes"),
    ("ot.OTSession", BEFORE_LINKS[1], WITH_LINKS[1], "OT notes"),
    ("aba.ABASession", BEFORE_LINKS[2], WITH_LINKS[2], "ABA notes"),
]


# One test for the refusals and the versions migrations: both start from the links over legacy
# data, and the refusals leave what the versions migrations start from (a note of every discipline
# linked, as the back-fill leaves them). Migrating an empty database up to the links (and on to the
# latest after) takes a minute or more, so it is done once here, not once per discipline and again
# for the versions.
@pytest.mark.django_db(transaction=True)
def test_linked_notes_refuse_going_back_and_keep_every_row_and_link_over_the_versions_migrations(migrator):
    # given the links migrations applied over legacy data
    migrator.apply_initial_migration(BEFORE_LINKS)
    build_legacy_clinic(migrator.apply_tested_migration(BEFORE_LINKS).apps)
    linked_state = migrator.apply_tested_migration(WITH_LINKS)

    # Going back past the links is refused while a note is linked: for each discipline in turn,
    # one of its notes linked (those of the disciplines before it stay linked), then its links
    # migration unapplied.
    for label, before, links, name in LINKS_BY_DISCIPLINE:
        note_id, session_id, participant_id = link_a_note(linked_state.apps, label)
        stored = stored_links(label, linked_state.apps)
        before_refusal = snapshot(linked_state.apps)

        with pytest.raises(IrreversibleError) as refused:
            migrator.apply_tested_migration([before])

        # then it is refused, naming what would be lost (its own discipline's note alone), and
        # every link (every row) is still there
        assert str(refused.value) == (
            f"{name}: 1 linked to sessions (and 0 history records); migrating back past {links[1]} "
            "would drop those links. Stay on this migration (restore a backup to go back), or unlink the "
            "notes first."
        )
        assert stored_links(label, linked_state.apps) == stored
        assert (note_id, session_id, participant_id) in stored
        assert snapshot(linked_state.apps) == before_refusal

    # The versions, delete guards and text limits keep every row and link: given linked legacy
    # notes of every discipline (above), as the back-fill leaves them
    linked = snapshot(linked_state.apps)

    # when the versions, delete guards and text limits come, go and come again
    versioned_state = migrator.apply_tested_migration(WITH_VERSIONS)
    versioned = snapshot(versioned_state.apps)
    back_state = migrator.apply_tested_migration(WITH_LINKS)
    again = snapshot(migrator.apply_tested_migration(WITH_VERSIONS).apps)

    # then every note starts at version 1, and nothing else changed either way
    for label in [*NOTE_MODELS, *HISTORICAL_NOTE_MODELS]:
        assert {row.pop("version") for row in versioned[label]} == {1}
        assert {row.pop("version") for row in again[label]} == {1}
    assert versioned == linked
    assert snapshot(back_state.apps) == linked
    assert again == linked
