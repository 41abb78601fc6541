"""Forms of the patient pages; PatientService does the writing."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import clock
from core.models import Consent, Patient, Tenant, User, check_mrn, normalise_mrn
from core.permissions import effective_tenant

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("Name in English or Arabic, or MRN"), "autofocus": True}
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
            "guardian_name",
            "phone",
        ]
        widgets = {"date_of_birth": DATE_WIDGET}

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
