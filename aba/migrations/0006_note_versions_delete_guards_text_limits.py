"""Notes that never lose a word: versions, signed notes kept, texts within a limit.

- ``version`` on every note (and its history); PostgreSQL refuses a change that doesn't
  move it on by one from the stored version, so a save from an older version can't
  write over a newer one. A signed note's version still moves on with each addendum.
- A signed note, its rows and its addenda can't be deleted, nor can the session or the
  participation a signed note belongs to (row triggers; Django deletes a cascade's
  notes row by row, so the note's trigger refuses a cascade too).
- Each text holds at most 20,000 characters (check constraints; validators in forms).
"""

import appointments.notes.models
import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models

PREFIX = 'aba'
NOTES = 'aba_abasession'
LABEL = 'ABA note'
ADDENDA = 'aba_abanoteaddendum'
# (trigger name prefix, table) of the note's rows.
ROWS = [('aba_behaviour_record', 'aba_ababehaviourrecord'), ('aba_skill_target', 'aba_abaskilltarget')]


def signed_update_function(loose: list[str]) -> str:
    """The signed note's guard of 0001/0003/0004, with the columns it lets change."""
    columns = ", ".join(f"'{column}'" for column in loose)
    return f"""
        CREATE OR REPLACE FUNCTION {PREFIX}_note_refuse_signed_update() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            old_row jsonb := to_jsonb(OLD);
            new_row jsonb := to_jsonb(NEW);
            links text[] := ARRAY[{columns}];
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
                RAISE EXCEPTION '{LABEL} % is signed and can''t be changed; add an addendum', OLD.id
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END;
        $$;
    """


LINKS = ["appointment_id", "session_id", "session_participant_id", "updated_at"]

VERSION_SQL = f"""
    CREATE OR REPLACE FUNCTION {PREFIX}_note_check_version() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        -- What changes without a new version: the links, the time stamp, and the
        -- author link cleared when that user is deleted.
        loose text[] := ARRAY['appointment_id', 'session_id', 'session_participant_id', 'updated_at',
                              'created_by_id', 'version'];
    BEGIN
        IF NEW.version = OLD.version + 1
            OR (NEW.version = OLD.version AND (to_jsonb(NEW) - loose) = (to_jsonb(OLD) - loose))
        THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{LABEL} %: version % written over version %; a change moves the version on by one',
            OLD.id, NEW.version, OLD.version
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = '{PREFIX}_note_version_moves_on';
    END;
    $$;
    -- AFTER: the table's check constraints and the other guards speak first.
    CREATE TRIGGER {PREFIX}_note_version_moves_on AFTER UPDATE ON {NOTES}
        FOR EACH ROW EXECUTE FUNCTION {PREFIX}_note_check_version();
"""

DELETE_SQL = f"""
    CREATE OR REPLACE FUNCTION {PREFIX}_note_refuse_signed_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'signed' THEN
            RAISE EXCEPTION '{LABEL} % is signed and can''t be deleted', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = '{PREFIX}_note_signed_is_kept';
        END IF;
        RETURN OLD;
    END;
    $$;
    CREATE TRIGGER {PREFIX}_note_signed_is_kept BEFORE DELETE ON {NOTES}
        FOR EACH ROW EXECUTE FUNCTION {PREFIX}_note_refuse_signed_delete();

    CREATE OR REPLACE FUNCTION {PREFIX}_addendum_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{LABEL} addendum % is part of the record and can''t be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = '{PREFIX}_addendum_is_kept';
    END;
    $$;
    CREATE TRIGGER {PREFIX}_addendum_is_kept BEFORE DELETE ON {ADDENDA}
        FOR EACH ROW EXECUTE FUNCTION {PREFIX}_addendum_refuse_delete();

    -- The session or participation of a signed note: TG_ARGV[0] is the note's column
    -- pointing at the row, TG_ARGV[1] what the row is called in the message.
    CREATE OR REPLACE FUNCTION {PREFIX}_booking_refuse_delete_with_signed_notes() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        signed_ids text;
    BEGIN
        EXECUTE format(
            'SELECT string_agg(id::text, '', '' ORDER BY id) FROM {NOTES} WHERE status = ''signed'' AND %I = $1',
            TG_ARGV[0]
        ) INTO signed_ids USING OLD.id;
        IF signed_ids IS NOT NULL THEN
            RAISE EXCEPTION '% % has signed {LABEL}s (%) and can''t be deleted', TG_ARGV[1], OLD.id, signed_ids
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = '{PREFIX}_note_signed_is_kept';
        END IF;
        RETURN OLD;
    END;
    $$;
    CREATE TRIGGER {PREFIX}_signed_notes_keep_their_session BEFORE DELETE ON appointments_session
        FOR EACH ROW EXECUTE FUNCTION {PREFIX}_booking_refuse_delete_with_signed_notes('session_id', 'session');
    CREATE TRIGGER {PREFIX}_signed_notes_keep_their_participant BEFORE DELETE ON appointments_sessionparticipant
        FOR EACH ROW EXECUTE FUNCTION {PREFIX}_booking_refuse_delete_with_signed_notes(
            'session_participant_id', 'participant'
        );
"""

DELETE_REVERSE_SQL = f"""
    DROP TRIGGER IF EXISTS {PREFIX}_signed_notes_keep_their_participant ON appointments_sessionparticipant;
    DROP TRIGGER IF EXISTS {PREFIX}_signed_notes_keep_their_session ON appointments_session;
    DROP FUNCTION IF EXISTS {PREFIX}_booking_refuse_delete_with_signed_notes();
    DROP TRIGGER IF EXISTS {PREFIX}_addendum_is_kept ON {ADDENDA};
    DROP FUNCTION IF EXISTS {PREFIX}_addendum_refuse_delete();
    DROP TRIGGER IF EXISTS {PREFIX}_note_signed_is_kept ON {NOTES};
    DROP FUNCTION IF EXISTS {PREFIX}_note_refuse_signed_delete();
"""

ROWS_DELETE_SQL = f"""
    CREATE OR REPLACE FUNCTION {PREFIX}_note_rows_refuse_signed_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM {NOTES} WHERE id = OLD.note_id AND status = 'signed') THEN
            RAISE EXCEPTION '{LABEL} % is signed; its rows can''t be deleted', OLD.note_id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = '{PREFIX}_note_signed_is_kept';
        END IF;
        RETURN OLD;
    END;
    $$;
""" + "".join(
    f"""
    CREATE TRIGGER {name}_signed_is_kept BEFORE DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {PREFIX}_note_rows_refuse_signed_delete();
"""
    for name, table in ROWS
)

ROWS_DELETE_REVERSE_SQL = "".join(
    f"""
    DROP TRIGGER IF EXISTS {name}_signed_is_kept ON {table};"""
    for name, table in ROWS
) + f"""
    DROP FUNCTION IF EXISTS {PREFIX}_note_rows_refuse_signed_delete();
"""



class Migration(migrations.Migration):

    dependencies = [
        ('aba', '0005_add_centralized_session_links'),
        ('appointments', '0004_overlap_constraints'),
        ('core', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='abasession',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False, help_text='Goes up by one with every saved change; a save from an older version is refused.', verbose_name='version'),
        ),
        migrations.AddField(
            model_name='historicalabasession',
            name='version',
            field=models.PositiveIntegerField(default=1, editable=False, help_text='Goes up by one with every saved change; a save from an older version is refused.', verbose_name='version'),
        ),
        migrations.AlterField(
            model_name='ababehaviourrecord',
            name='antecedent',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='antecedent'),
        ),
        migrations.AlterField(
            model_name='ababehaviourrecord',
            name='consequence',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='consequence'),
        ),
        migrations.AlterField(
            model_name='abanoteaddendum',
            name='text',
            field=models.TextField(validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='text'),
        ),
        migrations.AlterField(
            model_name='abasession',
            name='caregiver_training',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='caregiver training'),
        ),
        migrations.AlterField(
            model_name='abasession',
            name='session_summary',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='session summary'),
        ),
        migrations.AlterField(
            model_name='historicalababehaviourrecord',
            name='antecedent',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='antecedent'),
        ),
        migrations.AlterField(
            model_name='historicalababehaviourrecord',
            name='consequence',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='consequence'),
        ),
        migrations.AlterField(
            model_name='historicalabanoteaddendum',
            name='text',
            field=models.TextField(validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='text'),
        ),
        migrations.AlterField(
            model_name='historicalabasession',
            name='caregiver_training',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='caregiver training'),
        ),
        migrations.AlterField(
            model_name='historicalabasession',
            name='session_summary',
            field=models.TextField(blank=True, validators=[appointments.notes.models.NoteTextLengthValidator()], verbose_name='session summary'),
        ),
        migrations.AddConstraint(
            model_name='ababehaviourrecord',
            constraint=models.CheckConstraint(condition=models.Q(django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('antecedent'), 20000), django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('consequence'), 20000)), name='aba_behaviour_record_text_within_limit', violation_error_message='A text of this note is longer than the limit.'),
        ),
        migrations.AddConstraint(
            model_name='abanoteaddendum',
            constraint=models.CheckConstraint(condition=models.Q(django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('text'), 20000)), name='aba_addendum_text_within_limit', violation_error_message='A text of this note is longer than the limit.'),
        ),
        migrations.AddConstraint(
            model_name='abasession',
            constraint=models.CheckConstraint(condition=models.Q(('version__gte', 1)), name='aba_note_version_positive'),
        ),
        migrations.AddConstraint(
            model_name='abasession',
            constraint=models.CheckConstraint(condition=models.Q(django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('session_summary'), 20000), django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('caregiver_training'), 20000)), name='aba_note_text_within_limit', violation_error_message='A text of this note is longer than the limit.'),
        ),
        # A signed note's version moves on with each addendum: its guard lets the column change.
        migrations.RunSQL(
            sql=signed_update_function([*LINKS, "version"]),
            reverse_sql=signed_update_function(LINKS),
        ),
        # A change that doesn't move the version on by one is a save from an older version.
        migrations.RunSQL(
            sql=VERSION_SQL,
            reverse_sql=f"""
                DROP TRIGGER IF EXISTS {PREFIX}_note_version_moves_on ON {NOTES};
                DROP FUNCTION IF EXISTS {PREFIX}_note_check_version();
            """,
        ),
        # Signed notes, their addenda, and the sessions and participations they belong to stay.
        migrations.RunSQL(sql=DELETE_SQL, reverse_sql=DELETE_REVERSE_SQL),
        migrations.RunSQL(sql=ROWS_DELETE_SQL, reverse_sql=ROWS_DELETE_REVERSE_SQL),
    ]
