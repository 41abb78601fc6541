"""Core admin: every page loads, patient search, consent validity, tenant scoping, service refusals."""

import datetime

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from core import clock
from core.admin import REFUSAL, ConsentAdmin, ServiceAdmin, ServiceRefusal, showing_refusal
from core.audit_admin import AuditAdmin, AuditSealAdmin
from core.models import (
    AccessLog,
    AuditSeal,
    BreakGlassGrant,
    Clinic,
    ClinicHoliday,
    Consent,
    OpeningHours,
    OpeningHoursOverride,
    Patient,
    Provider,
    ProviderLeave,
    ProviderWorkingHours,
    Room,
    ServiceName,
    Tenant,
    User,
    UserPrivilegeChange,
)
from core.tests.admin_helpers import (
    admin_url,
    concrete_models,
    form_data,
    registered_admins,
    tenant_admin_staff,
)
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def core_rows(room, provider):
    """At least one row of every core model (tenant, clinic and users come with room and provider)."""
    tenant = room.clinic.tenant
    patient = PatientFactory(tenant=tenant)
    ConsentFactory(patient=patient)
    OpeningHours.objects.create(
        clinic=room.clinic, weekday=6, opens_at=datetime.time(8), closes_at=datetime.time(12)
    )
    OpeningHoursOverride.objects.create(clinic=room.clinic, date=datetime.date(2026, 3, 20), closed=True)
    ClinicHoliday.objects.create(clinic=room.clinic, date=datetime.date(2026, 3, 21), name="Eid al-Fitr")
    ServiceName.objects.create(tenant=tenant, name_en="Assessment", name_ar="تقييم")
    ProviderWorkingHours.objects.create(
        provider=provider,
        clinic=room.clinic,
        weekday=6,
        starts_at=datetime.time(8),
        ends_at=datetime.time(12),
    )
    ProviderLeave.objects.create(
        provider=provider,
        starts_at=clock.now() + datetime.timedelta(days=7),
        ends_at=clock.now() + datetime.timedelta(days=8),
        reason="Annual leave",
    )
    AccessLog.objects.create(
        tenant=tenant, user=provider.user, actor="reader", patient=patient, action="view", object_type="chart"
    )
    UserPrivilegeChange.objects.create(
        tenant=tenant, user=provider.user, field="role", old_value="front_desk", new_value="psychologist"
    )
    BreakGlassGrant.objects.create(
        tenant=tenant,
        user=provider.user,
        patient=patient,
        reason="crisis",
        expires_at=clock.now() + datetime.timedelta(hours=1),
    )
    AuditSeal.objects.create(
        table_name="core_accesslog",
        first_id=1,
        last_id=1,
        row_count=1,
        chain_hash=bytes(32),
        signature="0" * 64,
    )


@pytest.fixture
def other_tenant():
    return TenantFactory(code="OTHER", name_en="Other Centre")


def changelist_rows(client, model) -> list:
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


# Edited only inline, on their patient's page (core.admin.GuardianInline).
INLINE_ONLY = {"core.Guardian"}


def test_admin_registers_every_core_model():
    models = {model for model in concrete_models("core") if model._meta.label not in INLINE_ONLY}
    assert models == set(registered_admins("core"))


@pytest.mark.usefixtures("core_rows")
@pytest.mark.parametrize(
    ("model", "model_admin"),
    registered_admins("core").items(),
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_admin_pages_load_for_core_model(admin_client, model, model_admin):
    obj = model._default_manager.first()
    assert obj is not None, f"core_rows makes no {model.__name__}"

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    # The audit pages are records: nobody adds to them by hand.
    assert admin_client.get(admin_url(model, "add")).status_code == (
        403 if isinstance(model_admin, (AuditAdmin, AuditSealAdmin)) else 200
    )
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    if isinstance(model_admin, SimpleHistoryAdmin):
        assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200


@pytest.mark.parametrize("term", ["MRN777001", "Sara", "Otaibi", "سارة", "العتيبي"])
def test_patient_admin_search_finds_by_mrn_english_or_arabic_name(admin_client, tenant, term):
    wanted = PatientFactory(
        tenant=tenant,
        mrn="MRN777001",
        first_name_en="Sara",
        last_name_en="Al-Otaibi",
        first_name_ar="سارة",
        last_name_ar="العتيبي",
    )
    PatientFactory(
        tenant=tenant, first_name_en="Omar", last_name_en="Rashid", first_name_ar="عمر", last_name_ar=""
    )

    response = admin_client.get(admin_url(Patient, "changelist"), {"q": term})

    assert list(response.context["cl"].result_list) == [wanted]


def test_consent_admin_shows_whether_each_consent_is_valid_today(admin_client, tenant):
    patient = PatientFactory(tenant=tenant)
    valid = ConsentFactory(patient=patient)
    revoked = ConsentFactory(patient=patient, revoked_at=timezone.now() - datetime.timedelta(days=1))
    consent_admin = ConsentAdmin(Consent, admin.site)

    response = admin_client.get(admin_url(Consent, "changelist"))

    assert (consent_admin.valid_today(valid), consent_admin.valid_today(revoked)) == (True, False)
    cells = response.content.decode().count('<td class="field-valid_today">')
    assert cells == 2
    assert 'alt="True"' in response.content.decode()
    assert 'alt="False"' in response.content.decode()


def test_user_admin_creates_a_user_with_tenant_and_role(admin_client, tenant):
    response = admin_client.post(
        admin_url(User, "add"),
        {
            "username": "reception2",
            "usable_password": "true",
            "password1": "a-Long-pass-9021",
            "password2": "a-Long-pass-9021",
            "tenant": str(tenant.pk),
            "role": User.Role.FRONT_DESK,
            "first_name": "Huda",
            "last_name": "Saeed",
            "email": "huda@example.org",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="reception2")
    assert (user.tenant, user.role, user.check_password("a-Long-pass-9021")) == (tenant, "front_desk", True)


def test_provider_admin_edits_clinics_with_filter_horizontal(admin_client, provider):
    second = ClinicFactory(tenant=provider.tenant)
    url = admin_url(Provider, "change", provider.pk)
    page = admin_client.get(url)

    response = admin_client.post(
        url, form_data(page) | {"clinics": [str(c.pk) for c in provider.clinics.all()] + [str(second.pk)]}
    )

    assert response.status_code == 302
    assert second in provider.clinics.all()
    assert 'class="selectfilter"' in page.content.decode()


# Tenant scoping ------------------------------------------------------------------------------


def test_core_admin_shows_tenant_staff_only_their_tenant(client, tenant, room, provider, other_tenant):
    own_patient = PatientFactory(tenant=tenant)
    ConsentFactory(patient=own_patient)
    other_clinic = ClinicFactory(tenant=other_tenant)
    RoomFactory(clinic=other_clinic)
    ProviderFactory(clinic=other_clinic)
    ConsentFactory(patient=PatientFactory(tenant=other_tenant))
    staff = tenant_admin_staff(tenant)
    client.force_login(staff)

    assert changelist_rows(client, Tenant) == [tenant]
    assert changelist_rows(client, Clinic) == [room.clinic]
    assert changelist_rows(client, Room) == [room]
    assert changelist_rows(client, Provider) == [provider]
    assert changelist_rows(client, Patient) == [own_patient]
    assert [consent.patient for consent in changelist_rows(client, Consent)] == [own_patient]
    assert set(changelist_rows(client, User)) == {staff, provider.user}


def test_core_admin_redirects_tenant_staff_away_from_another_tenants_rows(client, tenant, other_tenant):
    foreign_patient = PatientFactory(tenant=other_tenant)
    client.force_login(tenant_admin_staff(tenant))

    response = client.get(admin_url(Patient, "change", foreign_patient.pk))

    assert response.status_code == 302
    assert response.url == "/admin/"


def test_core_admin_offers_tenant_staff_only_their_tenants_choices(client, tenant, clinic, other_tenant):
    ClinicFactory(tenant=other_tenant)
    client.force_login(tenant_admin_staff(tenant))

    clinic_form = client.get(admin_url(Clinic, "add")).context["adminform"].form
    room_form = client.get(admin_url(Room, "add")).context["adminform"].form

    assert list(clinic_form.fields["tenant"].queryset) == [tenant]
    assert list(room_form.fields["clinic"].queryset) == [clinic]


def test_user_admin_keeps_platform_powers_from_tenant_staff(client, tenant, other_tenant):
    colleague = UserFactory(tenant=tenant, username="colleague")
    staff = tenant_admin_staff(tenant)
    client.force_login(staff)
    url = admin_url(User, "change", colleague.pk)
    page = client.get(url)

    response = client.post(url, form_data(page) | {"is_superuser": "on", "tenant": str(other_tenant.pk)})

    colleague.refresh_from_db()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert "is_superuser" not in page.context["adminform"].form.fields
    assert (colleague.is_superuser, colleague.tenant) == (False, tenant)


def test_user_admin_puts_users_added_by_tenant_staff_in_their_tenant(client, tenant, other_tenant):
    client.force_login(tenant_admin_staff(tenant))

    response = client.post(
        admin_url(User, "add"),
        {
            "username": "reception3",
            "usable_password": "true",
            "password1": "a-Long-pass-9021",
            "password2": "a-Long-pass-9021",
            "tenant": str(other_tenant.pk),
            "role": User.Role.FINANCE,
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="reception3")
    assert (user.tenant, user.role, user.is_superuser) == (tenant, "finance", False)


def test_tenant_admin_lets_only_superusers_add_tenants(client, admin_client, tenant):
    client.force_login(tenant_admin_staff(tenant))

    assert client.get(admin_url(Tenant, "add")).status_code == 403
    assert admin_client.get(admin_url(Tenant, "add")).status_code == 200


def test_user_admin_shows_tenant_staff_no_groups_or_permissions(client, admin_client, tenant):
    colleague = UserFactory(tenant=tenant, username="colleague")
    client.force_login(tenant_admin_staff(tenant))

    tenant_form = client.get(admin_url(User, "change", colleague.pk)).context["adminform"].form
    superuser_form = admin_client.get(admin_url(User, "change", colleague.pk)).context["adminform"].form

    assert {"groups", "user_permissions"} & set(tenant_form.fields) == set()
    assert {"groups", "user_permissions"} <= set(superuser_form.fields)


def tenant_filter_choices(client, model) -> list[str]:
    """The organisations a changelist's tenant filter offers (Django hides a filter with one choice)."""
    filters = client.get(admin_url(model, "changelist")).context["cl"].filter_specs
    return [label for spec in filters if spec.field_path == "tenant" for _pk, label in spec.lookup_choices]


def test_admin_list_filters_offer_tenant_staff_only_their_tenant(
    client, admin_client, tenant, clinic, other_tenant
):
    ClinicFactory(tenant=other_tenant)
    client.force_login(tenant_admin_staff(tenant))

    for model in (Clinic, Patient, User):
        assert set(tenant_filter_choices(admin_client, model)) == {str(tenant), str(other_tenant)}, model
        assert tenant_filter_choices(client, model) in ([], [str(tenant)]), model


def test_admin_groups_are_for_superusers_only(client, admin_client, tenant):
    group = Group.objects.create(name="Platform operators")
    client.force_login(tenant_admin_staff(tenant))

    assert client.get(admin_url(Group, "changelist")).status_code == 403
    assert client.get(admin_url(Group, "change", group.pk)).status_code == 403
    assert "auth" not in {app["app_label"] for app in client.get("/admin/").context["app_list"]}
    assert admin_client.get(admin_url(Group, "change", group.pk)).status_code == 200


def test_history_pages_answer_another_tenants_row_as_an_unknown_one(client, tenant, other_tenant):
    foreign_patient = PatientFactory(tenant=other_tenant, first_name_en="Hidden")
    version = foreign_patient.history.get().history_id
    client.force_login(tenant_admin_staff(tenant))

    for foreign, unknown in [
        (admin_url(Patient, "history", foreign_patient.pk), admin_url(Patient, "history", 987654)),
        (
            admin_url(Patient, "simple_history", foreign_patient.pk, version),
            admin_url(Patient, "simple_history", 987654, 987654),
        ),
    ]:
        for method in ("get", "post"):
            answers = getattr(client, method)(foreign), getattr(client, method)(unknown)
            assert [answer.status_code for answer in answers] == [404, 404]
            assert "Hidden" not in answers[0].content.decode()
    foreign_patient.refresh_from_db()
    assert foreign_patient.first_name_en == "Hidden"


def test_reference_data_reverts_inside_the_tenant(client, tenant, clinic):
    version = clinic.history.get().history_id
    clinic.name_en = "Renamed"
    clinic.save()
    client.force_login(tenant_admin_staff(tenant))
    url = admin_url(Clinic, "simple_history", clinic.pk, version)
    form = client.get(url).context["adminform"].form

    response = client.post(url, {name: form[name].value() for name in form.fields if form[name].value()})

    clinic.refresh_from_db()
    assert response.status_code == 302
    assert clinic.name_en != "Renamed"


# Service refusals -------------------------------------------------------------------------


class BookingForm(forms.Form):
    patient = forms.CharField()


def test_showing_refusal_fails_only_the_refused_form_on_its_field(rf):
    request = rf.post("/")
    setattr(request, REFUSAL, ServiceRefusal(["Session is full (2 of 2)."], "rows-1", "patient"))
    form_class = showing_refusal(BookingForm, request)

    refused = form_class({"rows-1-patient": "Sara"}, prefix="rows-1")
    other = form_class({"rows-0-patient": "Omar"}, prefix="rows-0")

    assert refused.errors == {"patient": ["Session is full (2 of 2)."]}
    assert refused["patient"].value() == "Sara"
    assert other.is_valid()
    assert showing_refusal(BookingForm, rf.post("/")) is BookingForm


def test_service_admin_shows_a_refusal_again_on_the_pages_own_form_when_its_form_is_gone(rf):
    """The refused form left the page between the two passes: the page's own form carries it."""
    seen = []

    def view(request, *args):
        refusal = getattr(request, REFUSAL, None)
        seen.append(None if refusal is None else (refusal.prefix, refusal.messages))
        if len(seen) < 3:
            raise ServiceRefusal(["Session is full (2 of 2)."], "rows-1", "patient")
        return HttpResponse("shown again")

    response = ServiceAdmin(Patient, admin.site).showing_refusals(view, rf.post("/"))

    assert response.content == b"shown again"
    assert seen == [
        None,
        ("rows-1", ["Session is full (2 of 2)."]),
        (None, ["Session is full (2 of 2)."]),
    ]
