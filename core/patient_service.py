"""PatientService: registering patients and recording their consents.

Each write is one transaction and records the acting user in the history.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import clock, locks
from core.guardian_service import GuardianDetails, GuardianService, one_name
from core.history_writes import save_with_history
from core.models import Consent, Patient, Tenant, User, check_mrn, normalise_mrn


class PatientError(ValidationError):
    """A patient or consent write broke a rule (duplicate MRN, impossible dates, revoked twice)."""


class PatientService:
    """The only writer of patients and consents outside the admin."""

    @staticmethod
    @transaction.atomic
    def register_patient(
        *,
        tenant: Tenant,
        mrn: str,
        first_name_en: str,
        last_name_en: str,
        date_of_birth: datetime.date,
        first_name_ar: str = "",
        last_name_ar: str = "",
        sex: str = "",
        guardian_name: str = "",
        guardian_relation: str = "",
        guardian_phone: str = "",
        user: User | None = None,
    ) -> Patient:
        """Register a patient of ``tenant``, the MRN normalised (``normalise_mrn``), and with a
        guardian's name or phone their primary guardian (``GuardianService.add_guardian``).

        PatientError: the MRN is blank or too long once normalised, another patient of
        ``tenant`` has it, or the birth date is in the future. An MRN used in another
        tenant is no obstacle (and the refusal never says whether one exists).
        GuardianError: a phone without a name, or one that is no phone number; nothing is
        registered then.
        """
        mrn = normalise_mrn(mrn)
        try:
            check_mrn(mrn)
        except ValidationError as error:
            raise PatientError(error.messages) from error
        if date_of_birth > clock.today():
            raise PatientError(_("The date of birth is in the future."))
        if Patient.objects.filter(tenant=tenant, mrn=mrn).exists():
            raise PatientError(_("A patient with MRN %(mrn)s already exists.") % {"mrn": mrn})
        patient = Patient(
            tenant=tenant,
            mrn=mrn,
            first_name_en=first_name_en,
            last_name_en=last_name_en,
            first_name_ar=first_name_ar,
            last_name_ar=last_name_ar,
            date_of_birth=date_of_birth,
            sex=sex,
        )
        try:
            # The (tenant, MRN) unique index decides between two clerks registering at once.
            with transaction.atomic():
                save_with_history(patient, user)
        except IntegrityError as error:
            raise PatientError(_("A patient with MRN %(mrn)s already exists.") % {"mrn": mrn}) from error
        if guardian_name.strip() or guardian_phone.strip():
            name_en, name_ar = one_name(guardian_name)
            details = GuardianDetails(
                name_en=name_en,
                name_ar=name_ar,
                relation=guardian_relation,
                phone=guardian_phone,
                is_primary=True,
            )
            GuardianService.add_guardian(patient, details, user=user)
        return patient

    @staticmethod
    @transaction.atomic
    def add_consent(
        patient: Patient,
        consent_type: str,
        signed_by: str,
        signed_at: datetime.datetime | None = None,
        expires_at: datetime.datetime | None = None,
        user: User | None = None,
    ) -> Consent:
        """Record a signed consent. Raises PatientError when it would expire before it is signed."""
        signed_at = signed_at or clock.now()
        if expires_at is not None and expires_at < signed_at:
            raise PatientError(_("A consent can't expire before it is signed."))
        consent = Consent(
            patient=patient,
            consent_type=consent_type,
            signed_by=signed_by,
            signed_at=signed_at,
            expires_at=expires_at,
        )
        save_with_history(consent, user)
        return consent

    @staticmethod
    @transaction.atomic
    def revoke_consent(consent: Consent, user: User | None = None) -> Consent:
        """Revoke from now on. Raises PatientError when it is already revoked."""
        # Row lock: two clicks on "revoke" record one revocation time.
        locked = locks.lock_row(Consent, consent.pk)
        if locked.revoked_at is not None:
            raise PatientError(_("This consent was already revoked."))
        locked.revoked_at = clock.now()
        save_with_history(locked, user, ["revoked_at"])
        consent.revoked_at = locked.revoked_at
        return consent
