"""ABA notes as they were before the session consolidation: linked to legacy appointments only."""

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
            name='ABASession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('session_date', models.DateField(verbose_name='session date')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('signed', 'Signed')], default='draft', editable=False, max_length=10, verbose_name='status')),
                ('signed_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='signed at')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('session_summary', models.TextField(blank=True, verbose_name='session summary')),
                ('caregiver_training', models.TextField(blank=True, verbose_name='caregiver training')),
                ('appointment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='aba_sessions', to='appointments.appointment', verbose_name='appointment')),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(app_label)s_notes', to='core.patient', verbose_name='patient')),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(app_label)s_notes', to='core.provider', verbose_name='provider')),
                ('signed_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='signed by')),
            ],
            options={
                'verbose_name': 'ABA note',
                'verbose_name_plural': 'ABA notes',
                'ordering': ['-session_date', '-created_at'],
            },
        ),
        migrations.CreateModel(
            name='ABANoteAddendum',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField(verbose_name='text')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author')),
                ('note', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='addenda', to='aba.abasession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'ABA note addendum',
                'verbose_name_plural': 'ABA note addenda',
                'ordering': ['created_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalABANoteAddendum',
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
                ('note', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='aba.abasession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'historical ABA note addendum',
                'verbose_name_plural': 'historical ABA note addenda',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalABASession',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('session_date', models.DateField(verbose_name='session date')),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('signed', 'Signed')], default='draft', editable=False, max_length=10, verbose_name='status')),
                ('signed_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='signed at')),
                ('created_at', models.DateTimeField(blank=True, editable=False, verbose_name='created at')),
                ('updated_at', models.DateTimeField(blank=True, editable=False, verbose_name='updated at')),
                ('session_summary', models.TextField(blank=True, verbose_name='session summary')),
                ('caregiver_training', models.TextField(blank=True, verbose_name='caregiver training')),
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
                'verbose_name': 'historical ABA note',
                'verbose_name_plural': 'historical ABA notes',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddConstraint(
            model_name='abasession',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['draft', 'signed'])), name='aba_note_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='abasession',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('signed_at__isnull', True), ('signed_by__isnull', True), ('status', 'draft')), models.Q(('signed_at__isnull', False), ('signed_by__isnull', False), ('status', 'signed')), _connector='OR'), name='aba_note_signature_matches_status', violation_error_message='A signed note records who signed it and when.'),
        ),
        migrations.AddConstraint(
            model_name='abanoteaddendum',
            constraint=models.CheckConstraint(condition=models.Q(('text__regex', '\\S')), name='aba_addendum_text_not_blank', violation_error_message='Write the text of the addendum.'),
        ),
    ]
