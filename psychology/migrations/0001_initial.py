"""Psychology notes as they were before the session consolidation: linked to legacy appointments only."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('appointments', '0002_initial'),
        ('core', '0001_initial'),
        ('core', '__first__'),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalPsychologySession',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('session_date', models.DateField(verbose_name='session date')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('signed', 'Signed')], default='draft', editable=False, max_length=10, verbose_name='status')),
                ('signed_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='signed at')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='updated at')),
                ('presenting_issues', models.TextField(blank=True, verbose_name='presenting issues')),
                ('interventions_used', models.TextField(blank=True, verbose_name='interventions used')),
                ('client_response', models.TextField(blank=True, verbose_name='client response')),
                ('progress', models.TextField(blank=True, verbose_name='progress')),
                ('homework', models.TextField(blank=True, verbose_name='homework')),
                ('risk_assessment', models.CharField(choices=[('none', 'None'), ('low', 'Low'), ('moderate', 'Moderate'), ('high', 'High')], default='none', max_length=10, verbose_name='risk assessment')),
                ('safety_plan', models.TextField(blank=True, help_text='Required when the risk is moderate or high.', verbose_name='safety plan')),
                ('plan_next_session', models.TextField(blank=True, verbose_name='plan for the next session')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('appointment', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='appointments.appointment', verbose_name='appointment')),
                ('created_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('patient', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.patient', verbose_name='patient')),
                ('provider', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.provider', verbose_name='provider')),
                ('signed_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='signed by')),
            ],
            options={
                'verbose_name': 'historical psychology note',
                'verbose_name_plural': 'historical psychology notes',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='PsychologySession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('session_date', models.DateField(verbose_name='session date')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('signed', 'Signed')], default='draft', editable=False, max_length=10, verbose_name='status')),
                ('signed_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='signed at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('presenting_issues', models.TextField(blank=True, verbose_name='presenting issues')),
                ('interventions_used', models.TextField(blank=True, verbose_name='interventions used')),
                ('client_response', models.TextField(blank=True, verbose_name='client response')),
                ('progress', models.TextField(blank=True, verbose_name='progress')),
                ('homework', models.TextField(blank=True, verbose_name='homework')),
                ('risk_assessment', models.CharField(choices=[('none', 'None'), ('low', 'Low'), ('moderate', 'Moderate'), ('high', 'High')], default='none', max_length=10, verbose_name='risk assessment')),
                ('safety_plan', models.TextField(blank=True, help_text='Required when the risk is moderate or high.', verbose_name='safety plan')),
                ('plan_next_session', models.TextField(blank=True, verbose_name='plan for the next session')),
                ('appointment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='psychology_sessions', to='appointments.appointment', verbose_name='appointment')),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(app_label)s_notes', to='core.patient', verbose_name='patient')),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(app_label)s_notes', to='core.provider', verbose_name='provider')),
                ('signed_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='signed by')),
            ],
            options={
                'verbose_name': 'psychology note',
                'verbose_name_plural': 'psychology notes',
                'ordering': ['-session_date', '-created_at'],
            },
        ),
        migrations.CreateModel(
            name='PsychologyNoteAddendum',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField(verbose_name='text')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author')),
                ('note', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='addenda', to='psychology.psychologysession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'psychology note addendum',
                'verbose_name_plural': 'psychology note addenda',
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalPsychologyNoteAddendum',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('text', models.TextField(verbose_name='text')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('author', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('note', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='psychology.psychologysession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'historical psychology note addendum',
                'verbose_name_plural': 'historical psychology note addenda',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddConstraint(
            model_name='psychologysession',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['draft', 'signed'])), name='psychology_note_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='psychologysession',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('signed_at__isnull', True), ('signed_by__isnull', True), ('status', 'draft')), models.Q(('signed_at__isnull', False), ('signed_by__isnull', False), ('status', 'signed')), _connector='OR'), name='psychology_note_signature_matches_status', violation_error_message='A signed note records who signed it and when.'),
        ),
        migrations.AddConstraint(
            model_name='psychologysession',
            constraint=models.CheckConstraint(condition=models.Q(('risk_assessment__in', ['none', 'low', 'moderate', 'high'])), name='psychology_risk_assessment_valid'),
        ),
        migrations.AddConstraint(
            model_name='psychologysession',
            constraint=models.CheckConstraint(condition=models.Q(('risk_assessment__in', ['none', 'low']), ('safety_plan__regex', '\\S'), _connector='OR'), name='psychology_risk_needs_safety_plan', violation_error_message='A moderate or high risk needs a safety plan.'),
        ),
        migrations.AddConstraint(
            model_name='psychologynoteaddendum',
            constraint=models.CheckConstraint(condition=models.Q(('text__regex', '\\S')), name='psychology_addendum_text_not_blank', violation_error_message='Write the text of the addendum.'),
        ),
        # A signed note is frozen in the database too: only the back-fill may fill in a
        # missing session link, and deleting a legacy appointment may clear its link.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION psychology_note_refuse_signed_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
                        RAISE EXCEPTION 'psychology note % is signed and can''t be changed; add an addendum', OLD.id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NEW;
                END;
                $$;
                CREATE TRIGGER psychology_note_signed_is_read_only BEFORE UPDATE ON psychology_psychologysession
                    FOR EACH ROW EXECUTE FUNCTION psychology_note_refuse_signed_update();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS psychology_note_signed_is_read_only ON psychology_psychologysession;
                DROP FUNCTION IF EXISTS psychology_note_refuse_signed_update();
            """,
        ),
        # An addendum is written once and never changed.
        migrations.RunSQL(
            sql="""
                CREATE OR REPLACE FUNCTION psychology_addendum_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'psychology note addendum % can''t be changed; add another one', OLD.id
                        USING ERRCODE = 'integrity_constraint_violation';
                END;
                $$;
                CREATE TRIGGER psychology_addendum_is_read_only BEFORE UPDATE ON psychology_psychologynoteaddendum
                    FOR EACH ROW EXECUTE FUNCTION psychology_addendum_refuse_update();
            """,
            reverse_sql="""
                DROP TRIGGER IF EXISTS psychology_addendum_is_read_only ON psychology_psychologynoteaddendum;
                DROP FUNCTION IF EXISTS psychology_addendum_refuse_update();
            """,
        ),
    ]
