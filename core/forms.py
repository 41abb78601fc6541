"""Forms of the patient pages; PatientService does the writing."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import clock
from core.guardians import normalise_phone
from core.models import Consent, Guardian, Patient, Tenant, User, check_mrn, normalise_mrn
from core.permissions import effective_tenant

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("Name in English or Arabic, MRN or guardian's phone"), "autofocus": True}
        ),
    )


class TenantPickForm(forms.Form):
    tenant = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Tenant.objects.order_by("code"),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the organisations listed.")},
    )


def clean_phone(typed: str) -> str:
    """A typed mobile number in E.164, "" when blank; a clear error when it is no phone number."""
    if not typed.strip():
        return ""
    phone = normalise_phone(typed)
    if phone is None:
        raise forms.ValidationError(
            _("This is not a mobile number we can read. Type it as 0501234567 or +966501234567."),
            code="phone",
        )
    return phone


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = [
            "mrn",
            "first_name_en",
            "last_name_en",
            "first_name_ar",
            "last_name_ar",
            "date_of_birth",
            "sex",
        ]
        widgets = {"date_of_birth": DATE_WIDGET}

    # The primary guardian, registered with the child (PatientService.register_patient); the chart
    # adds the rest of their details and more guardians.
    guardian_name = forms.CharField(label=_("Guardian's name"), max_length=200, required=False)
    guardian_relation = forms.ChoiceField(
        label=_("Relation"), choices=[("", "---------"), *Guardian.Relation.choices], required=False
    )
    guardian_phone = forms.CharField(
        label=_("Guardian's mobile phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Patients are registered in the organisation the user works in (a superuser's pick).
        self.tenant = effective_tenant(user)
        if self.tenant is not None:
            self.instance.tenant = self.tenant

    def clean_mrn(self) -> str:
        """The MRN normalised; taken only if a patient of the same organisation has it."""
        mrn = normalise_mrn(self.cleaned_data["mrn"])
        check_mrn(mrn)
        if self.tenant is not None and Patient.objects.filter(tenant=self.tenant, mrn=mrn).exists():
            raise forms.ValidationError(_("Another patient already has this MRN."), code="unique")
        return mrn

    def clean(self):
        cleaned = super().clean()
        if self.tenant is None:
            raise forms.ValidationError(
                _("Your account belongs to no organisation, so it can't register patients."),
                code="no_tenant",
            )
        return cleaned

    def clean_date_of_birth(self) -> datetime.date:
        born = self.cleaned_data["date_of_birth"]
        if born > clock.today():
            raise forms.ValidationError(_("The date of birth is in the future."))
        return born

    def clean_guardian_phone(self) -> str:
        return clean_phone(self.cleaned_data["guardian_phone"])

    def clean_guardian_name(self) -> str:
        name = self.cleaned_data["guardian_name"].strip()
        if not name and self.data.get(self.add_prefix("guardian_phone"), "").strip():
            raise forms.ValidationError(_("Give the name of the guardian whose phone this is."))
        return name


class ConsentForm(forms.Form):
    consent_type = forms.ChoiceField(label=_("Consent type"), choices=Consent.ConsentType.choices)
    signed_by = forms.CharField(label=_("Signed by"), max_length=200)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE_WIDGET)
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=DATE_WIDGET,
        required=False,
        help_text=_("Leave empty if it doesn't expire."),
    )

    def clean_signed_on(self) -> datetime.date:
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > clock.today():
            raise forms.ValidationError(_("A consent can't be signed in the future."))
        return signed_on

    def clean(self):
        cleaned = super().clean()
        signed_on, expires_on = cleaned.get("signed_on"), cleaned.get("expires_on")
        if signed_on and expires_on and expires_on < signed_on:
            self.add_error("expires_on", _("A consent can't expire before it is signed."))
        return cleaned

    def signed_at(self) -> datetime.datetime:
        """Now when signed today, else the start of the signing day (installation time)."""
        signed_on = self.cleaned_data["signed_on"]
        if signed_on == clock.today():
            return clock.now()
        return timezone.make_aware(
            datetime.datetime.combine(signed_on, datetime.time.min), timezone.get_default_timezone()
        )

    def expires_at(self) -> datetime.datetime | None:
        """The end of the expiry day: a consent expiring on a day still covers that day."""
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is None:
            return None
        return timezone.make_aware(
            datetime.datetime.combine(expires_on, datetime.time(23, 59, 59)), timezone.get_default_timezone()
        )


class BreakGlassForm(forms.Form):
    """Why a clinician needs to read a child's notes of other disciplines (core.break_glass)."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("An administrator reviews every break-the-glass access and its reason."),
        error_messages={"required": _("Say why you need to read this child's other notes.")},
    )


class TwoFactorCodeForm(forms.Form):
    """A code from the authenticator app, or one of the backup codes (core.two_factor)."""

    otp_token = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "dir": "ltr"}),
        error_messages={"required": _("Enter the code.")},
    )


class GuardianForm(forms.Form):
    """A guardian's details on the staff pages; ``details()`` hands them to GuardianService."""

    name_en = forms.CharField(label=_("Name (English)"), max_length=200, required=False)
    name_ar = forms.CharField(
        label=_("Name (Arabic)"), max_length=200, required=False, widget=forms.TextInput(attrs={"dir": "rtl"})
    )
    relation = forms.ChoiceField(
        label=_("Relation"), choices=[("", "---------"), *Guardian.Relation.choices], required=False
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        required=False,
        help_text=_("Saved in international form, e.g. +966501234567."),
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        widget=forms.EmailInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=Guardian.Language.choices)
    preferred_channel = forms.ChoiceField(label=_("Preferred channel"), choices=Guardian.Channel.choices)
    consent_to_contact = forms.BooleanField(
        label=_("Consents to be contacted"),
        required=False,
        help_text=_("Tick only once the guardian has agreed to reminders by text message or e-mail."),
    )
    may_receive_appointment_info = forms.BooleanField(
        label=_("May receive appointment information"),
        required=False,
        help_text=Guardian._meta.get_field("may_receive_appointment_info").help_text,
    )
    is_primary = forms.BooleanField(
        label=_("Primary guardian"),
        required=False,
        help_text=_("The patient's one primary guardian; ticking it here unticks the previous one."),
    )

    @classmethod
    def initial_of(cls, guardian: Guardian) -> dict[str, object]:
        """The form's initial data for ``guardian``: a phone kept for review shows as it was typed."""
        initial: dict[str, object] = {name: getattr(guardian, name) for name in cls.base_fields}
        initial["phone"] = guardian.phone or guardian.phone_as_entered
        return initial

    def clean_phone(self) -> str:
        return clean_phone(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("name_en") or cleaned.get("name_ar")):
            raise forms.ValidationError(_("Give the guardian's name in English or Arabic."), code="name")
        return cleaned
