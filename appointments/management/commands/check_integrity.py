"""Verify the DESIGN.md invariants over the whole database: `manage.py check_integrity`."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from appointments.integrity import all_checks, check_integrity


class Command(BaseCommand):
    help = (
        "Check capacity, active participations, appointment numbers, double bookings, clinical-note "
        "links and the audit chain (incremental) over the whole database; list every violation with ids "
        "and exit with status 1 if any. Read-only, but for the checkpoint a clean audit-chain check signs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="append",
            choices=[check.name for check in all_checks()],
            help="Run only this check (repeatable). Default: all.",
        )
        parser.add_argument(
            "--list", action="store_true", dest="list_checks", help="List the checks and what each verifies."
        )

    def handle(self, *args, check, list_checks, verbosity, **options):
        if list_checks:
            for known in all_checks():
                self.stdout.write(f"{known.name}: {known.invariant}")
            return
        with tqdm(total=len(check or all_checks()), desc=_("Checking"), disable=verbosity == 0) as bar:
            report = check_integrity(
                check,
                before_check=lambda running: bar.set_postfix_str(running.name),
                on_check=lambda _check: bar.update(),
            )
        # Diagnostics go to stderr: stdout lists the violations only.
        if verbosity > 0:
            for name, seconds in report.timings.items():
                self.stderr.write(f"{name:<28}{seconds:8.2f} s")
        for notice in report.notices:
            self.stderr.write(self.style.WARNING(f"{notice.check}: {notice.message}"))
        for violation in report.violations:
            self.stdout.write(f"{violation.check}: {violation.message}")
        if report.ok:
            self.stdout.write(
                _("Integrity check passed: %(checks)d checks, no violations, %(seconds).1f s.")
                % {"checks": len(report.checks), "seconds": report.seconds}
            )
            return
        by_check = Counter(violation.check for violation in report.violations)
        raise CommandError(
            _("Integrity check failed: %(count)d violations (%(checks)s), %(seconds).1f s.")
            % {
                "count": len(report.violations),
                "checks": ", ".join(f"{name} {count}" for name, count in sorted(by_check.items())),
                "seconds": report.seconds,
            },
            returncode=1,
        )
