"""Check the audit tables against their row hashes and seals: `manage.py verify_audit_chain [--full]`."""

from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from core.audit_chain import verify
from core.audit_tables import audit_tables


def head(text: str) -> tuple[int, bytes]:
    """``SEAL_ID:CHAIN_HASH_HEX``, as ``seal_audit`` prints the chain head."""
    seal_id, _colon, chain_hash = text.partition(":")
    try:
        return int(seal_id), bytes.fromhex(chain_hash)
    except ValueError:
        raise ArgumentTypeError(_("expected SEAL_ID:CHAIN_HASH, as seal_audit prints it")) from None


class Command(BaseCommand):
    help = (
        "Report audit rows modified, deleted, inserted or reordered since they were sealed, and seals "
        "with a bad signature or a broken link, with ids; exit with status 1 on any. Incremental "
        "(the seals since the last clean run, and the rows not sealed yet) unless --full."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--full", action="store_true", help="Check every seal and every row.")
        parser.add_argument(
            "--expect-head",
            type=head,
            metavar="SEAL_ID:CHAIN_HASH",
            help="A chain head seal_audit printed earlier, kept outside the database: fail if it is gone.",
        )

    def handle(
        self, *args: Any, full: bool, expect_head: tuple[int, bytes] | None, verbosity: int, **options: Any
    ) -> None:
        with tqdm(
            total=len(audit_tables()), desc=_("Verifying"), unit=_(" tables"), disable=verbosity == 0
        ) as bar:
            report = verify(full, expect_head=expect_head, on_table=lambda _table: bar.update())
        for finding in report.findings:
            self.stdout.write(f"{finding.kind}: {finding.message}")
        values = {
            "mode": _("full") if full else _("incremental"),
            "seals": report.seals_checked,
            "rows": report.rows_checked,
            "seconds": report.seconds,
            "head": f"{report.head.pk}:{bytes(report.head.chain_hash).hex()}"
            if report.head
            else _("none yet"),
        }
        if report.ok:
            self.stdout.write(
                _(
                    "Audit chain intact (%(mode)s): %(seals)d seals, %(rows)d rows checked, %(seconds).1f s. "
                    "Chain head: %(head)s"
                )
                % values
            )
            return
        raise CommandError(
            _("Audit chain damaged (%(mode)s): %(count)d findings (%(kinds)s), %(seconds).1f s.")
            % {
                **values,
                "count": len(report.findings),
                "kinds": ", ".join(f"{kind} {count}" for kind, count in sorted(report.counts().items())),
            },
            returncode=1,
        )
