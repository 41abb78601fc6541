"""Skill-acquisition targets: trials, correct responses, prompt level."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('aba', '0002_behaviour_records'),
    ]

    operations = [
        migrations.CreateModel(
            name='ABASkillTarget',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('target', models.CharField(max_length=200, verbose_name='target')),
                ('trials', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(0, message="Trials can't be negative.")], verbose_name='trials')),
                ('correct', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(0, message="Correct responses can't be negative.")], verbose_name='correct')),
                ('prompt_level', models.CharField(blank=True, choices=[('independent', 'Independent'), ('gestural', 'Gestural'), ('verbal', 'Verbal'), ('model', 'Model'), ('partial_physical', 'Partial physical'), ('full_physical', 'Full physical')], max_length=20, verbose_name='prompt level')),
                ('note', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='skill_targets', to='aba.abasession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'skill target',
                'verbose_name_plural': 'skill targets',
                'ordering': ['note', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalABASkillTarget',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('target', models.CharField(max_length=200, verbose_name='target')),
                ('trials', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(0, message="Trials can't be negative.")], verbose_name='trials')),
                ('correct', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(0, message="Correct responses can't be negative.")], verbose_name='correct')),
                ('prompt_level', models.CharField(blank=True, choices=[('independent', 'Independent'), ('gestural', 'Gestural'), ('verbal', 'Verbal'), ('model', 'Model'), ('partial_physical', 'Partial physical'), ('full_physical', 'Full physical')], max_length=20, verbose_name='prompt level')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('note', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='aba.abasession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'historical skill target',
                'verbose_name_plural': 'historical skill targets',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
    ]
