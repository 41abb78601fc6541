"""Create Sessions for legacy appointments and link their notes: `manage.py backfill_sessions`."""

import datetime
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from tqdm import tqdm

from appointments.backfill_service import (
    DEFAULT_BATCH_SIZE,
    BackfillAlreadyRunning,
    BackfillInterrupted,
    BackfillReport,
    BackfillScope,
    BatchResult,
    backfill_sessions,
    pending_appointments,
)
from core.models import Clinic


class Command(BaseCommand):
    help = (
        "Give every legacy appointment without a Session an individual Session and participant "
        "(same number), and point its clinical notes at them. Idempotent; resumable; dirty rows "
        "are reported and skipped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Run the back-fill, print the plan, then roll back."
        )
        parser.add_argument("--clinic", help="Only this clinic: its id or its English or Arabic name.")
        parser.add_argument("--since", help="Only appointments on or after this date (YYYY-MM-DD).")
        parser.add_argument("--until", help="Only appointments on or before this date (YYYY-MM-DD).")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Appointments per transaction (default {DEFAULT_BATCH_SIZE}).",
        )

    def handle(
        self,
        *args: Any,
        dry_run: bool,
        clinic: str | None,
        since: str | None,
        until: str | None,
        batch_size: int,
        verbosity: int,
        **options: Any,
    ) -> None:
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1 (got %(size)d).") % {"size": batch_size})
        scope = BackfillScope(
            clinic=find_clinic(clinic) if clinic else None,
            since=parse_day("--since", since),
            until=parse_day("--until", until),
        )
        if scope.since and scope.until and scope.since > scope.until:
            raise CommandError(_("--since must not be after --until."))
        plan: list[str] = []
        with tqdm(
            total=pending_appointments(scope).count(),
            desc=_("Back-filling sessions"),
            unit=_(" appointments"),
            disable=verbosity == 0,
        ) as bar:

            def on_batch(result: BatchResult) -> None:
                bar.update(result.seen)
                if dry_run or verbosity >= 2:
                    plan.extend(plan_lines(result, verbose=verbosity >= 2))

            try:
                report = backfill_sessions(scope, batch_size=batch_size, dry_run=dry_run, on_batch=on_batch)
            except BackfillAlreadyRunning as running:
                raise CommandError(
                    _("Another back-fill is running on this database; wait for it to finish.")
                ) from running
            except BackfillInterrupted as interrupted:
                bar.close()
                self.write_report(interrupted.report, plan)
                raise CommandError(interruption_message(interrupted, dry_run)) from interrupted
        self.write_report(report, plan)

    def write_report(self, report: BackfillReport, plan: list[str]) -> None:
        for line in plan:
            self.stdout.write(line)
        for row in sorted(report.skipped, key=lambda row: (row.kind, row.pk, row.reason)):
            self.stdout.write(
                _("skipped %(kind)s %(pk)d: %(reason)s (%(detail)s)")
                % {"kind": row.kind, "pk": row.pk, "reason": row.reason, "detail": row.detail}
            )
        self.stdout.write(summary_line(report))


def interruption_message(interrupted: BackfillInterrupted, dry_run: bool) -> str:
    committed = interrupted.batch_number - 1
    if dry_run or not committed:
        saved = _("nothing was saved")
    else:
        saved = _("batches 1-%(last)d are saved") % {"last": committed}
    return _("Batch %(batch)d failed and was rolled back (%(error)s); %(saved)s. Run again to resume.") % {
        "batch": interrupted.batch_number,
        "error": interrupted.__cause__,
        "saved": saved,
    }


def summary_line(report: BackfillReport) -> str:
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(report.skipped_by_reason.items()))
    values = {
        "seen": report.seen,
        "created": report.created,
        "linked": report.linked_notes,
        "skipped": len(report.skipped),
        "reasons": f" ({reasons})" if reasons else "",
        "seconds": report.seconds,
    }
    if report.dry_run:
        return (
            _(
                "Dry run, rolled back: %(seen)d appointments seen, %(created)d sessions would be created, "
                "%(linked)d notes would be linked, %(skipped)d skipped%(reasons)s, %(seconds).1f s."
            )
            % values
        )
    return (
        _(
            "Back-fill done: %(seen)d appointments seen, %(created)d sessions created, "
            "%(linked)d notes linked, %(skipped)d skipped%(reasons)s, %(seconds).1f s."
        )
        % values
    )


def plan_lines(result: BatchResult, verbose: bool) -> list[str]:
    lines = [
        _(
            "batch %(number)d: %(seen)d appointments, %(created)d sessions, %(linked)d notes linked, "
            "%(skipped)d skipped"
        )
        % {
            "number": result.number,
            "seen": result.seen,
            "created": len(result.created),
            "linked": result.linked_notes,
            "skipped": len(result.skipped),
        }
    ]
    if verbose:
        lines.extend(
            _(
                "  appointment %(appointment)d (%(number)s) -> session %(session)d %(session_status)s, "
                "participant %(participant)d %(participant_status)s"
            )
            % {
                "appointment": created.appointment_id,
                "number": created.appointment_number,
                "session": created.session_id,
                "session_status": created.session_status,
                "participant": created.participant_id,
                "participant_status": created.participant_status,
            }
            for created in result.created
        )
    return lines


def parse_day(option: str, value: str | None) -> datetime.date | None:
    if value is None:
        return None
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise CommandError(
            _("%(option)s must be a date written YYYY-MM-DD (got %(value)r).")
            % {"option": option, "value": value}
        )
    return day


def find_clinic(value: str) -> Clinic:
    value = value.strip()
    matches = Clinic.objects.filter(Q(name_en__iexact=value) | Q(name_ar=value))
    if value.isdigit():
        matches = Clinic.objects.filter(pk=int(value))
    found = list(matches.order_by("pk")[:10])
    if not found:
        raise CommandError(_("No clinic has the id or name %(value)r.") % {"value": value})
    if len(found) > 1:
        raise CommandError(
            _("Several clinics are named %(value)r (ids %(ids)s); pass the id instead.")
            % {"value": value, "ids": ", ".join(str(clinic.pk) for clinic in found)}
        )
    return found[0]
