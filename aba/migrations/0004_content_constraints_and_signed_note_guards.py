"""0 <= correct <= trials and valid choices, and signed notes (with rows and addenda) read-only in the database."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('aba', '0003_skill_targets'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='ababehaviourrecord',
            constraint=models.CheckConstraint(condition=models.Q(('intensity__in', ['', 'mild', 'moderate', 'severe'])), name='aba_behaviour_intensity_valid'),
        ),
        migrations.AddConstraint(
            model_name='abaskilltarget',
            constraint=models.CheckConstraint(condition=models.Q(('correct__gte', 0), ('trials__gte', models.F('correct'))), name='aba_skill_target_correct_within_trials', violation_error_message="Correct responses can't exceed the trials run."),
        ),
        migrations.AddConstraint(
            model_name='abaskilltarget',
            constraint=models.CheckConstraint(condition=models.Q(('prompt_level__in', ['', 'independent', 'gestural', 'verbal', 'model', 'partial_physical', 'full_physical'])), name='aba_skill_target_prompt_level_valid'),
        ),
        # A signed note is frozen in the database too: only the back-fill may fill in a
        # missing session link, and deleting a legacy appointment may clear its link.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION aba_note_refuse_signed_update() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    old_row jsonb := to_jsonb(OLD);
                    new_row jsonb := to_jsonb(NEW);
                    links text[] := ARRAY['appointment_id', 'session_id', 'session_participant_id', 'updated_at'];
                BEGIN
                    IF OLD.status <> 'signed' THEN
                        RETURN NEW;
                    END IF;
                    IF (new_row - links) IS DISTINCT FROM (old_row - links)
                        OR (new_row ->> 'appointment_id' IS NOT NULL
                            AND new_row -> 'appointment_id' IS DISTINCT FROM old_row -> 'appointment_id')
                        OR (old_row ->> 'session_id' IS NOT NULL
                            AND new_row -> 'session_id' IS DISTINCT FROM old_row -> 'session_id')
                        OR (old_row ->> 'session_participant_id' IS NOT NULL
                            AND new_row -> 'session_participant_id' IS DISTINCT FROM old_row -> 'session_participant_id')
                    THEN
                        RAISE EXCEPTION 'ABA note % is signed and can''t be changed; add an addendum', OLD.id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$;
                CREATE TRIGGER aba_note_signed_is_read_only BEFORE UPDATE ON aba_abasession
                    FOR EACH ROW EXECUTE FUNCTION aba_note_refuse_signed_update();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS aba_note_signed_is_read_only ON aba_abasession;
                DROP FUNCTION IF EXISTS aba_note_refuse_signed_update();
            """,
        ),
        # An addendum is written once and never changed.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION aba_addendum_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'ABA note addendum % can''t be changed; add another one', OLD.id
                        USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$;
                CREATE TRIGGER aba_addendum_is_read_only BEFORE UPDATE ON aba_abanoteaddendum
                    FOR EACH ROW EXECUTE FUNCTION aba_addendum_refuse_update();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS aba_addendum_is_read_only ON aba_abanoteaddendum;
                DROP FUNCTION IF EXISTS aba_addendum_refuse_update();
            """,
        ),
        # The rows of a signed note (its content) are frozen with it.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION aba_note_rows_refuse_signed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM aba_abasession WHERE id = NEW.note_id AND status = 'signed')
                        OR (TG_OP = 'UPDATE'
                            AND EXISTS (SELECT 1 FROM aba_abasession WHERE id = OLD.note_id AND status = 'signed'))
                    THEN
                        RAISE EXCEPTION 'ABA note % is signed; its rows can''t be changed', NEW.note_id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$;
                CREATE TRIGGER aba_behaviour_record_signed_is_read_only BEFORE INSERT OR UPDATE ON aba_ababehaviourrecord
                    FOR EACH ROW EXECUTE FUNCTION aba_note_rows_refuse_signed();
                CREATE TRIGGER aba_skill_target_signed_is_read_only BEFORE INSERT OR UPDATE ON aba_abaskilltarget
                    FOR EACH ROW EXECUTE FUNCTION aba_note_rows_refuse_signed();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS aba_behaviour_record_signed_is_read_only ON aba_ababehaviourrecord;
                DROP TRIGGER IF EXISTS aba_skill_target_signed_is_read_only ON aba_abaskilltarget;
                DROP FUNCTION IF EXISTS aba_note_rows_refuse_signed();
            """,
        ),
    ]
