"""Delete access-log rows past the retention period: `manage.py prune_access_log [--dry-run]`."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from tqdm import tqdm

from core.audit_chain import prune_access_log


class Command(BaseCommand):
    help = (
        "Delete access-log rows older than ACCESS_LOG_RETENTION_YEARS that are already sealed, and sign a "
        "retention seal so verify_audit_chain expects them gone. Run as the database owner. Idempotent."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Delete and seal, print the result, roll back."
        )

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        with tqdm(desc=_("Pruning the access log"), unit=_(" rows"), disable=verbosity == 0) as bar:

            def on_batch(rows: int, total: int) -> None:
                bar.total = total
                bar.update(rows)

            pruned = prune_access_log(dry_run=dry_run, on_batch=on_batch)
        values = {
            "rows": pruned.rows,
            "years": settings.ACCESS_LOG_RETENTION_YEARS,
            "cutoff": pruned.cutoff.isoformat(timespec="seconds"),
            "last": pruned.last_id,
        }
        if pruned.seal is None:
            message = _(
                "Nothing to prune: no sealed access-log row is older than %(years)d years (%(cutoff)s)."
            )
        elif dry_run:
            message = _(
                "Dry run, rolled back: %(rows)d access-log rows up to id %(last)d would be deleted "
                "(older than %(years)d years, %(cutoff)s)."
            )
        else:
            message = _(
                "Deleted %(rows)d access-log rows up to id %(last)d (older than %(years)d years, "
                "%(cutoff)s); retention seal %(seal)d."
            )
        self.stdout.write(message % {**values, "seal": pruned.seal.pk if pruned.seal else 0})
