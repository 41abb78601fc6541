"""Seal the audit tables' new rows: `manage.py seal_audit` (cron runs it; README, Audit trail)."""

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from core.audit_chain import WAIT_SECONDS, TransactionsStillOpen, chain_head, seal
from core.audit_tables import audit_tables


class Command(BaseCommand):
    help = (
        "Chain the row hashes of every audit table's new rows, in id order, into seals signed with "
        "AUDIT_SEAL_KEY, and print the chain head to keep outside the database. Idempotent."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--wait",
            type=float,
            default=WAIT_SECONDS,
            help=f"Seconds to wait for transactions older than the run (default {WAIT_SECONDS:.0f}).",
        )

    def handle(self, *args: Any, wait: float, verbosity: int, **options: Any) -> None:
        started = time.monotonic()
        with tqdm(
            total=len(audit_tables()), desc=_("Sealing"), unit=_(" tables"), disable=verbosity == 0
        ) as bar:
            try:
                seals = seal(wait_seconds=wait, on_table=lambda _table: bar.update())
            except TransactionsStillOpen as still_open:
                raise CommandError(str(still_open)) from still_open
        head = chain_head()
        self.stdout.write(
            _("Sealed %(rows)d rows in %(seals)d seals, %(seconds).1f s. Chain head: %(head)s")
            % {
                "rows": sum(written.row_count for written in seals),
                "seals": len(seals),
                "seconds": time.monotonic() - started,
                "head": f"{head.pk}:{bytes(head.chain_hash).hex()}" if head else _("none yet"),
            }
        )
