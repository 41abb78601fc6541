"""GuardianService: adding and changing a patient's guardians.

Each write is one transaction and records the acting user in the guardian's history.
"""

import dataclasses
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import locks
from core.guardians import normalise_phone
from core.history_writes import save_with_history
from core.models import Guardian, Patient, User

# A name with an Arabic letter is written in Arabic (the registration form has one name box).
ARABIC_LETTER = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def one_name(name: str) -> tuple[str, str]:
    """(``name_en``, ``name_ar``) of a name typed in one box: Arabic when it has an Arabic letter."""
    name = name.strip()
    return ("", name) if ARABIC_LETTER.search(name) else (name, "")


class GuardianError(ValidationError):
    """A guardian write broke a rule (no name, a phone that is no phone number, no way to reach them)."""


@dataclasses.dataclass(frozen=True)
class GuardianDetails:
    """What staff record of a guardian; ``phone`` as typed (any form ``normalise_phone`` reads)."""

    name_en: str = ""
    name_ar: str = ""
    relation: str = ""
    phone: str = ""
    email: str = ""
    preferred_language: str = Guardian.Language.ARABIC
    preferred_channel: str = Guardian.Channel.SMS
    consent_to_contact: bool = False
    may_receive_appointment_info: bool = True
    is_primary: bool = False


def _phone(details: GuardianDetails) -> str:
    if not details.phone.strip():
        return ""
    phone = normalise_phone(details.phone)
    if phone is None:
        raise GuardianError(
            _("%(phone)s is not a mobile number we can read. Type it as 0501234567 or +966501234567.")
            % {"phone": details.phone.strip()},
            code="phone",
        )
    return phone


def _check(details: GuardianDetails, phone: str) -> None:
    if not (details.name_en.strip() or details.name_ar.strip()):
        raise GuardianError(_("Give the guardian's name in English or Arabic."), code="name")
    if not details.consent_to_contact:
        return
    if details.preferred_channel == Guardian.Channel.SMS and not phone:
        raise GuardianError(_("Text messages need a mobile number."), code="phone")
    if details.preferred_channel == Guardian.Channel.EMAIL and not details.email.strip():
        raise GuardianError(_("E-mail needs an e-mail address."), code="email")


def _take_primary(patient: Patient, guardian: Guardian, user: User | None) -> None:
    """Make ``guardian`` the patient's one primary guardian, the previous one no longer."""
    # The patient's row lock queues two desks making different guardians primary at once, so
    # the one-primary unique index never turns one of them into an error page.
    locks.lock_row(Patient, patient.pk)
    for previous in Guardian.objects.filter(patient=patient, is_primary=True).exclude(pk=guardian.pk):
        previous.is_primary = False
        save_with_history(previous, user)


def _apply(guardian: Guardian, details: GuardianDetails, phone: str) -> None:
    guardian.name_en = details.name_en.strip()
    guardian.name_ar = details.name_ar.strip()
    guardian.relation = details.relation
    guardian.phone = phone
    # Staff typed the number again (or left it out): whatever the migration kept for review is settled.
    guardian.phone_as_entered = ""
    guardian.phone_needs_review = False
    guardian.email = details.email.strip()
    guardian.preferred_language = details.preferred_language
    guardian.preferred_channel = details.preferred_channel
    guardian.consent_to_contact = details.consent_to_contact
    guardian.may_receive_appointment_info = details.may_receive_appointment_info
    guardian.is_primary = details.is_primary


class GuardianService:
    """The only writer of guardians outside the admin and the migration from ``Patient.phone``."""

    @staticmethod
    def checked_phone(details: GuardianDetails) -> str:
        """The phone of ``details`` in E.164 ("" when none), once they keep the rules; else GuardianError.

        The writes below check with it, and so does the admin's guardian form before it saves.
        """
        phone = _phone(details)
        _check(details, phone)
        return phone

    @staticmethod
    @transaction.atomic
    def add_guardian(patient: Patient, details: GuardianDetails, user: User | None = None) -> Guardian:
        """Add a guardian of ``patient``; a primary one takes over from the previous primary.

        The phone is stored in E.164. GuardianError: no name; a phone ``normalise_phone`` can't
        read; consent to be contacted by a channel the guardian has no phone or address for.
        """
        phone = GuardianService.checked_phone(details)
        guardian = Guardian(patient=patient)
        _apply(guardian, details, phone)
        if details.is_primary:
            _take_primary(patient, guardian, user)
        save_with_history(guardian, user)
        return guardian

    @staticmethod
    @transaction.atomic
    def update_guardian(guardian: Guardian, details: GuardianDetails, user: User | None = None) -> Guardian:
        """Change ``guardian`` to ``details``; the rules and errors of ``add_guardian``.

        Saving settles a phone kept for review: it is replaced by the number typed now.
        """
        phone = GuardianService.checked_phone(details)
        if details.is_primary:
            _take_primary(guardian.patient, guardian, user)
        _apply(guardian, details, phone)
        save_with_history(guardian, user)
        return guardian
