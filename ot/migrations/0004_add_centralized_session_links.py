"""Seed Phase 1: link notes to the central Session and SessionParticipant (nullable; nothing is lost)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError
from django.db.models import Q


def refuse_if_links_set(apps, schema_editor):
    """Going back drops the link columns, and every link with them: refuse while any is set."""
    linked = Q(session__isnull=False) | Q(session_participant__isnull=False)
    notes = apps.get_model("ot", "OTSession").objects.filter(linked).count()
    records = apps.get_model("ot", "HistoricalOTSession").objects.filter(linked).count()
    if notes or records:
        raise IrreversibleError(
            f"OT notes: {notes} linked to sessions (and {records} history records); migrating back "
            f"past 0004_add_centralized_session_links would drop those links. Stay on this migration "
            f"(restore a backup to go back), or unlink the notes first."
        )


class Migration(migrations.Migration):

    dependencies = [
        ('ot', '0003_content_constraints_and_signed_note_guards'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalotsession',
            name='session',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='Link to centralized session for scheduling', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='appointments.session', verbose_name='Session'),
        ),
        migrations.AddField(
            model_name='historicalotsession',
            name='session_participant',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='For group sessions: which participant these notes are for', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='appointments.sessionparticipant', verbose_name='Session Participant'),
        ),
        migrations.AddField(
            model_name='otsession',
            name='session',
            field=models.ForeignKey(blank=True, help_text='Link to centralized session for scheduling', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='ot_notes', to='appointments.session', verbose_name='Session'),
        ),
        migrations.AddField(
            model_name='otsession',
            name='session_participant',
            field=models.ForeignKey(blank=True, help_text='For group sessions: which participant these notes are for', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='ot_notes', to='appointments.sessionparticipant', verbose_name='Session Participant'),
        ),
        migrations.AddConstraint(
            model_name='otsession',
            constraint=models.CheckConstraint(condition=models.Q(('session_participant__isnull', True), ('session__isnull', False), _connector='OR'), name='ot_note_participant_needs_session', violation_error_message='A note for a participant is also linked to the session.'),
        ),
        migrations.AddConstraint(
            model_name='otsession',
            constraint=models.UniqueConstraint(fields=('session_participant',), name='ot_one_note_per_participant', violation_error_message='This participant already has a note of this discipline.'),
        ),
        # Invariant 7 in the database: the participant belongs to the note's session
        # and is the note's patient.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION ot_note_check_participant() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    booked record;
                BEGIN
                    IF NEW.session_participant_id IS NULL THEN
                        RETURN NEW;
                    END IF;
                    SELECT session_id, patient_id INTO booked
                        FROM appointments_sessionparticipant WHERE id = NEW.session_participant_id;
                    IF NOT FOUND THEN
                        RETURN NEW;
                    END IF;
                    -- A participant without a session is the check constraint's to refuse.
                    IF (NEW.session_id IS NOT NULL AND booked.session_id <> NEW.session_id)
                        OR booked.patient_id <> NEW.patient_id
                    THEN
                        RAISE EXCEPTION 'OT note %: participant % is not patient % in session %',
                            NEW.id, NEW.session_participant_id, NEW.patient_id, NEW.session_id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$;
                CREATE TRIGGER ot_note_participant_matches
                    BEFORE INSERT OR UPDATE OF session_id, session_participant_id, patient_id ON ot_otsession
                    FOR EACH ROW EXECUTE FUNCTION ot_note_check_participant();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS ot_note_participant_matches ON ot_otsession;
                DROP FUNCTION IF EXISTS ot_note_check_participant();
            """,
        ),
        # Unapplied first (operations are reversed): nothing is dropped while a link is set.
        migrations.RunPython(migrations.RunPython.noop, refuse_if_links_set),
    ]
