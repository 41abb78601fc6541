"""Expire the waiting-list offers whose time ran out: `manage.py expire_waitlist_offers` (run from cron)."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from tqdm import tqdm

from appointments.selectors import sessions_with_lapsed_offers
from appointments.session_service import SessionService
from core import clock


class Command(BaseCommand):
    help = (
        "Expire every waiting-list offer whose time ran out; each seat passes to the next waiting "
        "child who fits, booked or offered as the clinic is set. Each session in its own "
        "transaction; a second run expires nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Expire the offers, print the summary, then roll back."
        )

    def handle(self, *args: Any, dry_run: bool, verbosity: int, **options: Any) -> None:
        now = clock.now()
        sessions = sessions_with_lapsed_offers(now)
        expired = 0
        with tqdm(
            total=len(sessions), desc=_("Expiring offers"), unit=_(" sessions"), disable=verbosity == 0
        ) as bar:
            for session in sessions:
                with transaction.atomic():
                    expired += SessionService.expire_waitlist_offers(now, session=session)
                    if dry_run:
                        transaction.set_rollback(True)
                bar.update()
        self.stdout.write(summary_line(expired, len(sessions), dry_run=dry_run))


def summary_line(expired: int, sessions: int, *, dry_run: bool) -> str:
    counts = {"count": expired, "sessions": sessions}
    offers = ngettext("%(count)d waiting-list offer", "%(count)d waiting-list offers", expired) % counts
    in_sessions = ngettext("%(sessions)d session", "%(sessions)d sessions", sessions) % counts
    if dry_run:
        return _("Dry run, rolled back: %(offers)s in %(sessions)s would expire.") % {
            "offers": offers,
            "sessions": in_sessions,
        }
    return _("Expired %(offers)s in %(sessions)s.") % {
        "offers": offers,
        "sessions": in_sessions,
    }
