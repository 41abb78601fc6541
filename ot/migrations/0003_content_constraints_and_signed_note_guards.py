"""Valid levels and ratings, and signed notes (with their rows and addenda) read-only in the database."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ot', '0002_target_skills'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='otsession',
            constraint=models.CheckConstraint(condition=models.Q(('attention_level__in', ['', 'poor', 'fair', 'good', 'excellent']), ('cooperation_level__in', ['', 'poor', 'fair', 'good', 'excellent'])), name='ot_note_levels_valid'),
        ),
        migrations.AddConstraint(
            model_name='ottargetskill',
            constraint=models.CheckConstraint(condition=models.Q(('rating__gte', 0), ('rating__lte', 10)), name='ot_target_skill_rating_on_scale', violation_error_message='Rate each skill from 0 (not achieved) to 10 (fully independent).'),
        ),
        # A signed note is frozen in the database too: only the back-fill may fill in a
        # missing session link, and deleting a legacy appointment may clear its link.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION ot_note_refuse_signed_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
                        RAISE EXCEPTION 'OT note % is signed and can''t be changed; add an addendum', OLD.id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$;
                CREATE TRIGGER ot_note_signed_is_read_only BEFORE UPDATE ON ot_otsession
                    FOR EACH ROW EXECUTE FUNCTION ot_note_refuse_signed_update();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS ot_note_signed_is_read_only ON ot_otsession;
                DROP FUNCTION IF EXISTS ot_note_refuse_signed_update();
            """,
        ),
        # An addendum is written once and never changed.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION ot_addendum_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'OT note addendum % can''t be changed; add another one', OLD.id
                        USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$;
                CREATE TRIGGER ot_addendum_is_read_only BEFORE UPDATE ON ot_otnoteaddendum
                    FOR EACH ROW EXECUTE FUNCTION ot_addendum_refuse_update();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS ot_addendum_is_read_only ON ot_otnoteaddendum;
                DROP FUNCTION IF EXISTS ot_addendum_refuse_update();
            """,
        ),
        # The rows of a signed note (its content) are frozen with it.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION ot_note_rows_refuse_signed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM ot_otsession WHERE id = NEW.note_id AND status = 'signed')
                        OR (TG_OP = 'UPDATE'
                            AND EXISTS (SELECT 1 FROM ot_otsession WHERE id = OLD.note_id AND status = 'signed'))
                    THEN
                        RAISE EXCEPTION 'OT note % is signed; its rows can''t be changed', NEW.note_id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$;
                CREATE TRIGGER ot_target_skill_signed_is_read_only BEFORE INSERT OR UPDATE ON ot_ottargetskill
                    FOR EACH ROW EXECUTE FUNCTION ot_note_rows_refuse_signed();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS ot_target_skill_signed_is_read_only ON ot_ottargetskill;
                DROP FUNCTION IF EXISTS ot_note_rows_refuse_signed();
            """,
        ),
    ]
