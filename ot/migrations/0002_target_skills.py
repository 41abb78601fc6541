"""Target skills worked on in a session, each rated 0-10."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ot', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalOTTargetSkill',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('skill', models.CharField(max_length=200, verbose_name='target skill')),
                ('rating', models.PositiveSmallIntegerField(help_text='0 = not achieved, 10 = fully independent.', validators=[django.core.validators.MinValueValidator(0, message='Rate each skill from 0 (not achieved) to 10 (fully independent).'), django.core.validators.MaxValueValidator(10, message='Rate each skill from 0 (not achieved) to 10 (fully independent).')], verbose_name='rating')),
                ('comments', models.TextField(blank=True, verbose_name='comments')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('note', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='ot.otsession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'historical target skill',
                'verbose_name_plural': 'historical target skills',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='OTTargetSkill',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('skill', models.CharField(max_length=200, verbose_name='target skill')),
                ('rating', models.PositiveSmallIntegerField(help_text='0 = not achieved, 10 = fully independent.', validators=[django.core.validators.MinValueValidator(0, message='Rate each skill from 0 (not achieved) to 10 (fully independent).'), django.core.validators.MaxValueValidator(10, message='Rate each skill from 0 (not achieved) to 10 (fully independent).')], verbose_name='rating')),
                ('comments', models.TextField(blank=True, verbose_name='comments')),
                ('note', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='target_skills', to='ot.otsession', verbose_name='note')),
            ],
            options={
                'verbose_name': 'target skill',
                'verbose_name_plural': 'target skills',
                'ordering': ['note', 'pk'],
            },
        ),
    ]
