"""Send the reminders that came due: `manage.py send_reminders` (cron, where no Celery beat runs)."""

from argparse import ArgumentParser
from dataclasses import fields
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from appointments.reminders.sending import SendReport, send_due_reminders

# The report's outcomes of the rows a round claimed.
CLAIMED = ("sent", "failed", "retrying", "voided", "unreachable")


class Command(BaseCommand):
    help = (
        "Write the reminders that came due under each clinic's rules, then claim and send every due "
        "one, --batch-size at a time, until none is left; failures wait for their retry. The same "
        "work as the Celery task send_due_reminders. Idempotent: a row is claimed before it is sent, "
        "so a second run, or a worker running beside it, never sends one twice. No --dry-run: a "
        "message sent can't be rolled back."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=200, help="Rows claimed and sent per round (default 200)."
        )

    def handle(self, *args: Any, batch_size: int, verbosity: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1 (got %(value)d).") % {"value": batch_size})
        total = SendReport()
        with tqdm(desc=_("Sending reminders"), unit=_(" messages"), disable=verbosity == 0) as bar:
            while True:
                report = send_due_reminders(limit=batch_size)
                claimed = sum(getattr(report, name) for name in CLAIMED)
                for field in fields(SendReport):
                    setattr(total, field.name, getattr(total, field.name) + getattr(report, field.name))
                bar.update(claimed)
                if claimed < batch_size:
                    break
        self.stdout.write(
            _(
                "Reminders: %(planned)d written, %(sent)d sent, %(retrying)d to retry, %(failed)d failed, "
                "%(unreachable)d with no one to send to, %(voided)d voided, %(stale)d stale shown failed."
            )
            % vars(total)
        )
