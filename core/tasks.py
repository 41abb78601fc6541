"""The core app's background job: sealing the audit tables (README, Audit trail), as
`manage.py seal_audit` does, on celery beat's schedule (``CELERY_BEAT_SCHEDULE``).

Idempotent (a run that finds no new row writes nothing) and serialised by the advisory lock
``core.audit_chain.seal`` takes; transactions still open past its wait, or a database that
doesn't answer, are tried again later with backoff.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from core.audit_chain import TransactionsStillOpen, chain_head, seal

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError, TransactionsStillOpen),
    retry_backoff=60,
    retry_backoff_max=15 * 60,
    max_retries=4,
)
def seal_audit() -> int:
    """Seal every audit table's new rows; the number of rows sealed. The chain head, to keep
    outside the database, goes to the log."""
    seals = seal()
    head = chain_head()
    rows = sum(written.row_count for written in seals)
    logger.info(
        "Sealed %d rows in %d seals. Chain head: %s",
        rows,
        len(seals),
        f"{head.pk}:{bytes(head.chain_hash).hex()}" if head else "none yet",
    )
    return rows
