"""Load the demo organisation (idempotent): `manage.py seed_demo`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from appointments.demo import demo_steps, load_demo
from core import locks


class DryRunRollback(Exception):
    """Raised to roll back a --dry-run after the real code ran."""


class Command(BaseCommand):
    help = "Create the AGDAR demo: clinics, staff, 60 patients and two weeks of sessions. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo12345", help="Password of every demo login.")
        parser.add_argument("--dry-run", action="store_true", help="Run everything, then roll back.")
        parser.add_argument(
            "--force", action="store_true", help="Allow loading known demo passwords with DEBUG off."
        )

    def handle(self, *args, password, dry_run, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo logins with DEBUG off; pass --force to insist.")
        with tqdm(total=demo_steps(), desc="Demo data", disable=options["verbosity"] == 0) as bar:
            try:
                # One transaction books two weeks, holding the number counter while it
                # locks the next provider: out of core.locks' order. Harmless here: it
                # locks only the demo organisation's rows, which it creates in this
                # transaction (invisible to others until it commits) and nobody else books.
                with transaction.atomic(), locks.order_unchecked("the demo locks only its own rows"):
                    summary = load_demo(password, progress=bar.update)
                    if dry_run:
                        raise DryRunRollback
            except DryRunRollback:
                pass
        if not summary.created:
            self.stdout.write("Demo data already loaded; nothing changed.")
        else:
            prefix = "Dry run (rolled back): would create" if dry_run else "Created"
            self.stdout.write(
                f"{prefix} {summary.patients} patients, {summary.sessions} sessions, "
                f"{summary.participants} participants, {summary.appointments} legacy appointments "
                f"and {summary.notes} clinical notes."
            )
        self.stdout.write("Demo logins: " + ", ".join(f"{user} / {pw}" for user, pw in summary.logins))
        if summary.operator_login is not None:
            user, pw = summary.operator_login
            self.stdout.write(f"Operator (superuser) login: {user} / {pw}")
