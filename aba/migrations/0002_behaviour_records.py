"""Behaviour records (ABC data) of a session."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('aba', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='ABABehaviourRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('antecedent', models.TextField(blank=True, verbose_name='antecedent')),
                ('behaviour', models.CharField(max_length=200, verbose_name='behaviour')),
                ('consequence', models.TextField(blank=True, verbose_name='consequence')),
                ('frequency', models.PositiveIntegerField(default=1, help_text='Times the behaviour occurred in the session.', validators=[django.core.validators.MinValueValidator(0, message="Frequency can't be negative.")], verbose_name='frequency')),
                ('duration_seconds', models.PositiveIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(0, message="Duration can't be negative.")], verbose_name='duration (seconds)')),
                ('intensity', models.CharField(blank=True, choices=[('mild', 'Mild'), ('moderate', 'Moderate'), ('severe', 'Severe')], max_length=10, verbose_name='intensity')),
                ('note', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='behaviour_records', to='aba.abasession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'behaviour record',
                'verbose_name_plural': 'behaviour records',
                'ordering': ['note', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalABABehaviourRecord',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('antecedent', models.TextField(blank=True, verbose_name='antecedent')),
                ('behaviour', models.CharField(max_length=200, verbose_name='behaviour')),
                ('consequence', models.TextField(blank=True, verbose_name='consequence')),
                ('frequency', models.PositiveIntegerField(default=1, help_text='Times the behaviour occurred in the session.', validators=[django.core.validators.MinValueValidator(0, message="Frequency can't be negative.")], verbose_name='frequency')),
                ('duration_seconds', models.PositiveIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(0, message="Duration can't be negative.")], verbose_name='duration (seconds)')),
                ('intensity', models.CharField(blank=True, choices=[('mild', 'Mild'), ('moderate', 'Moderate'), ('severe', 'Severe')], max_length=10, verbose_name='intensity')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('note', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='aba.abasession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'historical behaviour record',
                'verbose_name_plural': 'historical behaviour records',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
    ]
