"""Close past sessions nobody completed: `manage.py close_stale_sessions` (run nightly from cron)."""

import datetime
from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from appointments.exceptions import SchedulingError
from appointments.models import Session, SessionParticipant
from appointments.selectors import stale_sessions
from appointments.session_service import SessionService
from core import clock

# Day first, as the pages write dates, or ISO.
DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d")
Status = SessionParticipant.Status


class Command(BaseCommand):
    help = (
        "Complete every session still scheduled or in progress that ended on or before --until "
        "(default: yesterday), with complete_session's outcomes, and mark it closed automatically; "
        "its no-shows wait for a front-desk or finance user to confirm them before they are billable. "
        "Each session in its own transaction; a second run closes nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Close the sessions, print the summary, then roll back."
        )
        parser.add_argument(
            "--until",
            help="Close the sessions that ended on or before this day (DD/MM/YYYY or YYYY-MM-DD; "
            "default: yesterday). Sessions that have not ended yet are never closed.",
        )

    def handle(self, *args: Any, dry_run: bool, until: str | None, verbosity: int, **options: Any) -> None:
        now = clock.now()
        last_day = parse_day(until) if until is not None else now.date() - datetime.timedelta(days=1)
        day_after = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min)
        ended_by = min(timezone.make_aware(day_after, timezone.get_default_timezone()), now)
        sessions = stale_sessions(ended_by)
        outcomes: Counter[str] = Counter()
        closed = 0
        with tqdm(
            total=len(sessions), desc=_("Closing stale sessions"), unit=_(" sessions"), disable=verbosity == 0
        ) as bar:
            for session in sessions:
                try:
                    outcomes += close(session, dry_run=dry_run)
                except SchedulingError as error:
                    # Completed or cancelled by its staff since the list was read: theirs stands.
                    bar.write(
                        _("session %(pk)d skipped: %(error)s")
                        % {"pk": session.pk, "error": " ".join(error.messages)}
                    )
                else:
                    closed += 1
                bar.update()
        self.stdout.write(summary_line(closed, outcomes, dry_run=dry_run))


def close(session: Session, *, dry_run: bool) -> Counter[str]:
    """Close one session in its own transaction (rolled back on a dry run); its outcomes."""
    with transaction.atomic():
        SessionService.complete_session(session, auto_closed=True)
        outcomes = Counter(
            SessionParticipant.objects.filter(session=session).aggregate(
                attended=Count("pk", filter=Q(status=Status.ATTENDED)),
                review=Count("pk", filter=Q(billing_review_pending=True)),
                turned_away=Count("pk", filter=Q(status=Status.TURNED_AWAY)),
            )
        )
        if dry_run:
            transaction.set_rollback(True)
    return outcomes


def summary_line(closed: int, outcomes: Counter[str], *, dry_run: bool) -> str:
    values = {"count": closed, **{key: outcomes[key] for key in ("attended", "review", "turned_away")}}
    if dry_run:
        return (
            ngettext(
                "Dry run, rolled back: %(count)d session would be closed: %(attended)d attended, "
                "%(review)d no-shows to review, %(turned_away)d turned away.",
                "Dry run, rolled back: %(count)d sessions would be closed: %(attended)d attended, "
                "%(review)d no-shows to review, %(turned_away)d turned away.",
                closed,
            )
            % values
        )
    return (
        ngettext(
            "Closed %(count)d session: %(attended)d attended, %(review)d no-shows to review, "
            "%(turned_away)d turned away.",
            "Closed %(count)d sessions: %(attended)d attended, %(review)d no-shows to review, "
            "%(turned_away)d turned away.",
            closed,
        )
        % values
    )


def parse_day(value: str) -> datetime.date:
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value.strip(), date_format).date()  # noqa: DTZ007 (a day)
        except ValueError:
            continue
    raise CommandError(
        _("--until must be a date written DD/MM/YYYY or YYYY-MM-DD (got %(value)r).") % {"value": value}
    )
