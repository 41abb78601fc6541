"""The base of the disciplines' note factories: patient, provider and date follow the links given.

A note made with ``session_participant=``, ``session=`` (individual) or ``appointment=``
takes that booking's patient, provider and date, as the seed's examples write them;
a note given none gets a fresh patient and provider.
"""

import datetime

import factory

from core.tests.factories import PatientFactory, ProviderFactory

SEED_DAY = datetime.date(2025, 11, 15)


def _booking(note):
    if note.session_participant is not None:
        return note.session_participant
    if note.session is not None:
        return note.session.participants.exclude(status="cancelled").first()
    return note.appointment


def _slot(note):
    if note.session_participant is not None:
        return note.session_participant.session
    return note.session or note.appointment


def booked_patient(note):
    booking = _booking(note)
    return booking.patient if booking is not None else PatientFactory()


def booking_provider(note):
    slot = _slot(note)
    return slot.provider if slot is not None else ProviderFactory()


def booking_day(note):
    slot = _slot(note)
    return slot.scheduled_date if slot is not None else SEED_DAY


class ClinicalNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    session = None
    session_participant = None
    appointment = None
    patient = factory.LazyAttribute(booked_patient)
    provider = factory.LazyAttribute(booking_provider)
    session_date = factory.LazyAttribute(booking_day)
