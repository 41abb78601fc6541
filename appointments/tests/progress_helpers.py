"""Set-up shared by the disciplines' progress tests (``aba``, ``ot`` and ``psychology``'s
``tests/test_progress.py``): a clinician of the discipline, notes on given days (signed
unless told), and the charts' lines as plain values to compare."""

from appointments.notes.services import NoteService
from core.tests.factories import ClinicFactory, ProviderFactory


def clinician(tenant, specialty):
    """A clinician in a clinic of ``specialty``."""
    return ProviderFactory(clinic=ClinicFactory(tenant=tenant, specialty=specialty))


def written_note(note_factory, patient, provider, day, *, rows=(), sign=True, **fields):
    """A note made by ``note_factory`` on ``day`` with ``fields`` and its child ``rows``
    ((row factory, row fields), ...), signed by ``provider`` unless told."""
    note = note_factory(patient=patient, provider=provider, session_date=day, **fields)
    for row_factory, row_fields in rows:
        row_factory(note=note, **row_fields)
    if sign:
        NoteService.sign_note(note, user=provider.user)
    return note


def lines_of(charts):
    """Each line's points as (day, value, detail in words), by the line's label."""
    return {
        str(line.label): [(point.day, point.value, str(point.detail)) for point in line.points]
        for chart in charts
        for line in chart.lines
    }
