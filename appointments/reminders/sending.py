"""Sending: claim due rows in a transaction of their own, send after it commits, record the outcome.

OWNER: helper "reminder-engine". Interface used by the tasks (keep the names):

    send_due_reminders(now: datetime | None = None, *, limit: int = 200) -> SendReport
        plans rows that came due, claims and sends them (siblings together), retries
        failures with backoff, and marks rows left "sending" past the timeout as failed.
    send_reminder(reminder_id: int) -> None     one row (idempotent: only a due pending row)
"""
