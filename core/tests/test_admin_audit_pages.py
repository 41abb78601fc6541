"""The admin's audit pages: access log, privilege changes, break-the-glass accesses (core.audit_admin).

Who accessed patient X, what user Y read, privilege changes, break-the-glass accesses with
their acknowledgement and the refused attempts: for administrators only, inside their
organisation, read-only, with a fixed number of queries, and exported to CSV with the
export itself logged.
"""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.break_glass import start_break_glass
from core.models import AccessLog, BreakGlassGrant, Patient, Tenant, User, UserPrivilegeChange
from core.tests.admin_helpers import admin_url, message_texts, tenant_admin_staff
from core.tests.factories import PatientFactory, TenantFactory, UserFactory
from core.tests.test_translations import arabic_catalogue, catalogue, compiled_locale  # noqa: F401 (fixtures)
from core.tests.view_helpers import superuser

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
AUDIT_MODELS = (AccessLog, UserPrivilegeChange, BreakGlassGrant)
RIYADH = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def at(day: int, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """A moment of March 2026, installation time."""
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=RIYADH)


def log(tenant: Tenant, user: User, patient: Patient | None = None, **fields) -> AccessLog:
    values = {
        "action": AccessLog.Action.VIEW,
        "object_type": "chart",
        "object_id": str(patient.pk) if patient else "",
        "ip": "192.0.2.10",
        "at": at(10),
        **fields,
    }
    return AccessLog.objects.create(tenant=tenant, user=user, actor=user.username, patient=patient, **values)


def privilege_change(tenant: Tenant, user: User, by: User | None = None, **fields) -> UserPrivilegeChange:
    values = {
        "field": UserPrivilegeChange.Field.ROLE,
        "old_value": "front_desk",
        "new_value": "finance",
        **fields,
    }
    return UserPrivilegeChange.objects.create(tenant=tenant, user=user, changed_by=by, **values)


def psychologist(tenant: Tenant, username: str) -> User:
    return UserFactory(
        username=username, tenant=tenant, role=Role.PSYCHOLOGIST, first_name="Huda", last_name="Saleh"
    )


def rows_shown(client, model, query: str = "") -> list:
    response = client.get(admin_url(model, "changelist") + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def exported(client, model, query: str = "") -> tuple[str, list[list[str]]]:
    """The export's raw text and its rows (header first)."""
    response = client.get(admin_url(model, "export") + query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    text = b"".join(response.streaming_content).decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def other_tenant():
    return TenantFactory(code="OTHER", name_en="Other Centre")


@pytest.fixture
def admin_staff(tenant):
    return tenant_admin_staff(tenant)


@pytest.fixture
def signed_in_admin(client, admin_staff):
    client.force_login(admin_staff)
    return client


@pytest.fixture
def patient(tenant):
    return PatientFactory(tenant=tenant, mrn="AG-001", first_name_ar="سارة", last_name_ar="العتيبي")


@pytest.fixture
def foreign_patient(other_tenant):
    # The same MRN in another organisation: a tenant administrator never reaches it.
    return PatientFactory(tenant=other_tenant, mrn="AG-001", first_name_en="Foreign", last_name_en="Child")


# Who may use the pages ----------------------------------------------------------------------------


def staff_with_every_permission(tenant: Tenant, role: str) -> User:
    """Staff holding every permission of Django's tables: only the role may open admin pages."""
    user = tenant_admin_staff(tenant, username=f"staff-{role}")
    user.role = role
    user.save(update_fields=["role"])
    return user


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.FINANCE, Role.PSYCHOLOGIST, Role.ABA_THERAPIST])
@pytest.mark.parametrize("view", ["changelist", "export"])
def test_audit_pages_refuse_staff_who_are_not_administrators(client, tenant, model, role, view):
    client.force_login(staff_with_every_permission(tenant, role))

    assert client.get(admin_url(model, view)).status_code == 403
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda model: model.__name__)
def test_audit_pages_send_users_without_admin_access_to_the_admin_login(client, tenant, model):
    client.force_login(UserFactory(tenant=tenant, role=Role.PSYCHOLOGIST))

    response = client.get(admin_url(model, "export"))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda model: model.__name__)
def test_audit_pages_offer_no_add_change_or_delete_even_to_superusers(client, tenant, model, patient):
    reader = psychologist(tenant, "reader")
    row = {
        AccessLog: lambda: log(tenant, reader, patient),
        UserPrivilegeChange: lambda: privilege_change(tenant, reader),
        BreakGlassGrant: lambda: start_break_glass(user=reader, patient=patient, reason="crisis"),
    }[model]()
    for user in (tenant_admin_staff(tenant), superuser()):
        client.force_login(user)

        change_page = client.get(admin_url(model, "change", row.pk))
        assert change_page.status_code == 200
        assert 'name="_save"' not in change_page.content.decode()
        assert client.post(admin_url(model, "change", row.pk), {}).status_code == 403
        assert client.get(admin_url(model, "add")).status_code == 403
        assert client.post(admin_url(model, "add"), {}).status_code == 403
        assert client.get(admin_url(model, "delete", row.pk)).status_code == 403
        assert client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
        actions = client.get(admin_url(model, "changelist")).context["action_form"]
        offered = [name for name, _label in actions.fields["action"].choices] if actions else []
        assert "delete_selected" not in offered
    assert model.objects.filter(pk=row.pk).exists()


# The access log -----------------------------------------------------------------------------------


def test_access_log_shows_a_tenant_administrator_only_their_organisation(
    signed_in_admin, tenant, other_tenant, patient, foreign_patient
):
    own = log(tenant, psychologist(tenant, "ours"), patient)
    log(other_tenant, psychologist(other_tenant, "theirs"), foreign_patient)

    assert rows_shown(signed_in_admin, AccessLog) == [own]


def test_access_log_shows_a_superuser_every_organisation_with_its_tenant(
    client, tenant, other_tenant, patient, foreign_patient
):
    own = log(tenant, psychologist(tenant, "ours"), patient)
    foreign = log(other_tenant, psychologist(other_tenant, "theirs"), foreign_patient)
    client.force_login(superuser())

    response = client.get(admin_url(AccessLog, "changelist"))

    assert set(response.context["cl"].result_list) == {own, foreign}
    assert "tenant" in response.context["cl"].list_display


def test_access_log_by_mrn_answers_who_accessed_the_patient_day_first(
    signed_in_admin, admin_staff, tenant, patient
):
    reader = psychologist(tenant, "huda")
    seen = log(tenant, reader, patient, at=at(10, 14, 5), object_type="note", object_id="psychology/7")
    log(tenant, reader, PatientFactory(tenant=tenant), at=at(11))

    response = signed_in_admin.get(admin_url(AccessLog, "changelist") + "?mrn=ag-001")

    html = response.content.decode()
    assert list(response.context["cl"].result_list) == [seen]
    assert "10/03/2026 14:05:00" in html
    assert "huda (Huda Saleh)" in html
    assert "psychology/7" in html
    assert "192.0.2.10" in html
    assert str(patient) in html  # the box says whose trail this is


def test_access_log_by_mrn_logs_the_read_of_that_patients_trail(
    signed_in_admin, admin_staff, tenant, patient
):
    log(tenant, psychologist(tenant, "huda"), patient)

    signed_in_admin.get(admin_url(AccessLog, "changelist") + "?mrn=AG-001&action__exact=view")

    viewed = AccessLog.objects.get(object_type="access_log")
    assert (viewed.user, viewed.tenant, viewed.patient, viewed.action) == (
        admin_staff,
        tenant,
        patient,
        AccessLog.Action.VIEW,
    )
    assert viewed.object_id == "mrn=AG-001&action__exact=view"


def test_access_log_without_a_patient_filter_logs_no_read_of_a_trail(signed_in_admin, tenant, patient):
    log(tenant, psychologist(tenant, "huda"), patient)

    signed_in_admin.get(admin_url(AccessLog, "changelist") + "?action__exact=view")

    assert not AccessLog.objects.filter(object_type="access_log").exists()


def test_access_log_answers_another_organisations_mrn_as_an_unknown_one(
    signed_in_admin, tenant, other_tenant, foreign_patient
):
    log(other_tenant, psychologist(other_tenant, "theirs"), foreign_patient)
    foreign = signed_in_admin.get(admin_url(AccessLog, "changelist") + "?mrn=AG-001")
    unknown = signed_in_admin.get(admin_url(AccessLog, "changelist") + "?mrn=AG-404")

    for response in (foreign, unknown):
        html = response.content.decode()
        assert list(response.context["cl"].result_list) == []
        assert "No patient has this MRN." in html
        assert "Foreign" not in html
    assert not AccessLog.objects.filter(object_type="access_log").exists()


@pytest.mark.parametrize("typed", ["A" * 10_000, "\u202eAG-001", "AG-0O1"])
@pytest.mark.parametrize("view", ["changelist", "export"])
def test_access_log_mrn_no_patient_can_have_is_an_unknown_one(signed_in_admin, tenant, patient, typed, view):
    log(tenant, psychologist(tenant, "huda"), patient)

    response = signed_in_admin.get(admin_url(AccessLog, view), {"mrn": typed}, follow=True)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "No patient has this MRN." in response.content.decode()


def test_access_log_refuses_a_raw_patient_lookup_that_would_skip_the_logging(
    signed_in_admin, tenant, patient
):
    for query in (f"?patient={patient.pk}", f"?patient__id__exact={patient.pk}", f"?patient_id={patient.pk}"):
        assert signed_in_admin.get(admin_url(AccessLog, "changelist") + query).status_code == 400
    assert not AccessLog.objects.filter(object_type="access_log").exists()


@pytest.mark.parametrize(
    ("model", "query"),
    [
        (AccessLog, "action__exact=%00"),
        (AccessLog, "mrn=AG-001%00"),
        (UserPrivilegeChange, "field__exact=%00"),
        (BreakGlassGrant, "user=%00"),
    ],
)
@pytest.mark.parametrize("view", ["changelist", "export"])
def test_audit_pages_answer_a_nul_in_a_filter_as_a_bad_request(signed_in_admin, model, query, view):
    assert signed_in_admin.get(f"{admin_url(model, view)}?{query}").status_code == 400
    assert not AccessLog.objects.filter(action=AccessLog.Action.EXPORT).exists()


def test_access_log_user_filter_offers_only_the_organisations_users(
    signed_in_admin, tenant, other_tenant, patient, foreign_patient
):
    huda = psychologist(tenant, "huda")
    stranger = UserFactory(
        username="stranger", tenant=other_tenant, first_name="Canary", last_name="Stranger"
    )
    log(tenant, huda, patient)
    log(other_tenant, stranger, foreign_patient)

    response = signed_in_admin.get(admin_url(AccessLog, "changelist"))

    user_filter = next(spec for spec in response.context["cl"].filter_specs if spec.title == "user")
    offered = {label for _pk, label in user_filter.lookup_choices}
    assert "Huda Saleh" in offered
    assert "Canary Stranger" not in offered
    assert "Stranger" not in response.content.decode()
    # Picking the other organisation's user by id shows nothing of theirs.
    assert rows_shown(signed_in_admin, AccessLog, f"?user__id__exact={stranger.pk}") == []


def test_access_log_what_a_user_read_between_two_days(signed_in_admin, tenant, patient):
    huda, other = psychologist(tenant, "huda"), psychologist(tenant, "other")
    before = log(tenant, huda, patient, at=at(9, 23, 59))
    first = log(tenant, huda, patient, at=at(10, 0, 0))
    last = log(tenant, huda, patient, at=at(12, 23, 59))
    log(tenant, huda, patient, at=at(13, 0, 0))
    log(tenant, other, patient, at=at(11))

    shown = rows_shown(
        signed_in_admin, AccessLog, f"?user__id__exact={huda.pk}&date_from=2026-03-10&date_to=12/03/2026"
    )

    # Days of the installation's time zone, both ends included.
    assert shown == [last, first]
    assert before not in shown


@pytest.mark.parametrize("bad", ["2026-13-45", "yesterday", "03/15/2026", "9999-12-31"])
def test_access_log_date_the_filter_cannot_read_shows_an_error_and_no_rows(
    signed_in_admin, tenant, patient, bad
):
    log(tenant, psychologist(tenant, "huda"), patient)

    response = signed_in_admin.get(admin_url(AccessLog, "changelist"), {"date_from": bad})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert 'class="errornote"' in response.content.decode()


def test_access_log_denied_attempts_are_one_filter_away(signed_in_admin, tenant, patient):
    reader = psychologist(tenant, "huda")
    log(tenant, reader, patient)
    denied = log(tenant, reader, None, action=AccessLog.Action.DENIED, object_type="note", object_id="99")

    response = signed_in_admin.get(admin_url(AccessLog, "changelist"))
    action_filter = next(spec for spec in response.context["cl"].filter_specs if spec.title == "action")

    assert "?action__exact=denied" in [
        choice["query_string"] for choice in action_filter.choices(response.context["cl"])
    ]
    assert rows_shown(signed_in_admin, AccessLog, "?action__exact=denied") == [denied]


def test_access_log_never_shows_another_organisations_patient_named_by_a_row(
    signed_in_admin, tenant, foreign_patient
):
    # A refused attempt keeps the id asked for; the page must not name the child behind it.
    log(tenant, psychologist(tenant, "huda"), foreign_patient, action=AccessLog.Action.DENIED)

    html = signed_in_admin.get(admin_url(AccessLog, "changelist")).content.decode()

    assert "Foreign" not in html


def changelist_queries(client, model) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda model: model.__name__)
def test_audit_changelist_queries_do_not_grow_with_rows(signed_in_admin, tenant, model):
    def add_rows(count: int) -> None:
        for number in range(count):
            user = psychologist(tenant, f"{model.__name__}-{count}-{number}")
            patient = PatientFactory(tenant=tenant)
            if model is AccessLog:
                log(tenant, user, patient)
            elif model is UserPrivilegeChange:
                privilege_change(tenant, user, by=user)
            else:
                grant = start_break_glass(user=user, patient=patient, reason="crisis")
                if number % 2:
                    BreakGlassGrant.objects.filter(pk=grant.pk).update(
                        acknowledged_by=user, acknowledged_at=at(14)
                    )

    add_rows(10)
    with_ten = changelist_queries(signed_in_admin, model)
    add_rows(190)
    with_two_hundred = changelist_queries(signed_in_admin, model)

    assert with_ten == with_two_hundred


# The export ---------------------------------------------------------------------------------------


def test_export_is_the_filtered_list_as_csv_with_a_bom_day_first_and_arabic_names(
    signed_in_admin, tenant, other_tenant, patient, foreign_patient
):
    huda = psychologist(tenant, "huda")
    log(tenant, huda, patient, at=at(10, 14, 5), object_type="note", object_id="psychology/7")
    log(tenant, huda, PatientFactory(tenant=tenant), at=at(11))
    log(other_tenant, psychologist(other_tenant, "theirs"), foreign_patient)

    text, rows = exported(signed_in_admin, AccessLog, "?mrn=AG-001")

    assert text.startswith("\ufeff")
    assert rows[0] == [
        "at",
        "actor",
        "user",
        "action",
        "object type",
        "object id",
        "medical record number",
        "patient",
        "patient (Arabic)",
        "IP address",
        "request id",
        "tenant",
    ]
    # The export's own row (written as it starts) is not in the file.
    assert rows[1:] == [
        [
            "10/03/2026 14:05:00",
            "huda",
            "Huda Saleh",
            "Viewed",
            "note",
            "psychology/7",
            "AG-001",
            patient.full_name_en,
            "سارة العتيبي",
            "192.0.2.10",
            "",
            tenant.code,
        ]
    ]
    assert "Foreign" not in text


def test_export_writes_its_own_export_row_naming_the_query_and_patient(
    signed_in_admin, admin_staff, tenant, patient
):
    log(tenant, psychologist(tenant, "huda"), patient)

    exported(signed_in_admin, AccessLog, "?mrn=AG-001&date_from=2026-03-01")

    export = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (export.user, export.tenant, export.patient, export.object_type, export.object_id) == (
        admin_staff,
        tenant,
        patient,
        "access_log_export",
        "mrn=AG-001&date_from=2026-03-01",
    )


@pytest.mark.parametrize(
    ("model", "object_type"),
    [(UserPrivilegeChange, "privilege_change_export"), (BreakGlassGrant, "break_glass_export")],
)
def test_export_of_the_other_pages_is_logged_under_their_own_object_type(
    signed_in_admin, admin_staff, tenant, model, object_type
):
    exported(signed_in_admin, model, "?date_from=2026-03-01")

    export = AccessLog.objects.get(action=AccessLog.Action.EXPORT)
    assert (export.user, export.tenant, export.patient, export.object_type, export.object_id) == (
        admin_staff,
        tenant,
        None,
        object_type,
        "date_from=2026-03-01",
    )


def test_export_keeps_a_typed_formula_from_running_in_a_spreadsheet(signed_in_admin, tenant, patient):
    start_break_glass(user=psychologist(tenant, "huda"), patient=patient, reason='=HYPERLINK("http://x","y")')

    _text, rows = exported(signed_in_admin, BreakGlassGrant)

    assert rows[1][rows[0].index("reason")] == '\'=HYPERLINK("http://x","y")'


def test_export_with_a_filter_it_cannot_read_goes_back_to_the_list_and_logs_nothing(signed_in_admin):
    response = signed_in_admin.get(admin_url(AccessLog, "export") + "?mrn=NOPE")

    assert response.status_code == 302
    assert response["Location"] == admin_url(AccessLog, "changelist") + "?mrn=NOPE"
    assert not AccessLog.objects.exists()


def test_export_for_a_superuser_spans_every_organisation(
    client, tenant, other_tenant, patient, foreign_patient
):
    log(tenant, psychologist(tenant, "ours"), patient)
    log(other_tenant, psychologist(other_tenant, "theirs"), foreign_patient)
    client.force_login(superuser())

    _text, rows = exported(client, AccessLog, "?action__exact=view")

    assert sorted(row[-1] for row in rows[1:]) == sorted([tenant.code, other_tenant.code])


@pytest.mark.usefixtures("arabic_catalogue")
def test_audit_page_and_its_export_are_arabic_for_an_arabic_administrator(signed_in_admin, tenant, patient):
    log(tenant, psychologist(tenant, "huda"), patient, at=at(10, 14, 5))
    signed_in_admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = signed_in_admin.get(admin_url(AccessLog, "changelist")).content.decode()
    _text, rows = exported(signed_in_admin, AccessLog, "?mrn=AG-001")

    assert "تصدير CSV" in html
    assert "المريض (رقم الملف الطبي)" in html
    assert rows[0][:4] == ["الوقت", "المنفِّذ", "مستخدم", "الإجراء"]
    assert rows[1][:4] == ["10/03/2026 14:05:00", "huda", "Huda Saleh", "اطّلع"]


def test_the_list_links_to_the_export_of_what_it_shows(signed_in_admin, patient):
    html = signed_in_admin.get(
        admin_url(AccessLog, "changelist") + "?mrn=AG-001&action__exact=view"
    ).content.decode()

    assert f'href="{admin_url(AccessLog, "export")}?action__exact=view&amp;mrn=AG-001"' in html


# Privilege changes --------------------------------------------------------------------------------


def test_privilege_changes_show_a_tenant_administrator_only_their_organisation(
    signed_in_admin, admin_staff, tenant, other_tenant
):
    ours = privilege_change(tenant, psychologist(tenant, "huda"), by=admin_staff, at=at(12, 8, 30))
    privilege_change(other_tenant, UserFactory(username="stranger", tenant=other_tenant))

    response = signed_in_admin.get(admin_url(UserPrivilegeChange, "changelist"))

    shown = list(response.context["cl"].result_list)
    # Creating users recorded their first values too: every row shown is of this organisation.
    assert ours in shown
    assert {change.tenant_id for change in shown} == {tenant.pk}
    assert "12/03/2026 08:30:00" in response.content.decode()
    user_filter = next(spec for spec in response.context["cl"].filter_specs if spec.title == "user")
    assert "stranger" not in {label for _pk, label in user_filter.lookup_choices}
    assert "stranger" not in response.content.decode()


def test_privilege_changes_filter_by_field_and_user(signed_in_admin, tenant):
    huda = psychologist(tenant, "huda")
    activation = privilege_change(
        tenant,
        huda,
        field=UserPrivilegeChange.Field.IS_ACTIVE,
        old_value="True",
        new_value="False",
        at=at(12),
    )
    privilege_change(tenant, huda, at=at(12))
    privilege_change(
        tenant, psychologist(tenant, "other"), field=UserPrivilegeChange.Field.IS_ACTIVE, at=at(12)
    )

    # Up to the 12th: the rows recorded when the users were created today stay out.
    shown = rows_shown(
        signed_in_admin,
        UserPrivilegeChange,
        f"?field__exact=is_active&user__id__exact={huda.pk}&date_to=2026-03-12",
    )

    assert shown == [activation]


# Break the glass ----------------------------------------------------------------------------------


def test_break_glass_lists_unacknowledged_accesses_first(signed_in_admin, admin_staff, tenant, patient):
    huda = psychologist(tenant, "huda")
    old_open = start_break_glass(user=huda, patient=patient, reason="old, open")
    BreakGlassGrant.objects.filter(pk=old_open.pk).update(started_at=at(1), expires_at=at(1, 10))
    reviewed = start_break_glass(user=huda, patient=PatientFactory(tenant=tenant), reason="reviewed")
    BreakGlassGrant.objects.filter(pk=reviewed.pk).update(
        acknowledged_by=admin_staff, acknowledged_at=at(15, 9)
    )
    new_open = start_break_glass(user=huda, patient=PatientFactory(tenant=tenant), reason="new, open")

    assert rows_shown(signed_in_admin, BreakGlassGrant) == [new_open, old_open, reviewed]
    assert rows_shown(signed_in_admin, BreakGlassGrant, "?acknowledged=no") == [new_open, old_open]
    assert rows_shown(signed_in_admin, BreakGlassGrant, "?acknowledged=yes") == [reviewed]


def test_break_glass_acknowledge_action_acknowledges_once(signed_in_admin, admin_staff, tenant, patient):
    grant = start_break_glass(user=psychologist(tenant, "huda"), patient=patient, reason="crisis")
    acknowledge = {"action": "acknowledge", "_selected_action": [str(grant.pk)], "index": "0"}

    first = signed_in_admin.post(admin_url(BreakGlassGrant, "changelist"), acknowledge, follow=True)
    grant.refresh_from_db()
    acknowledged_at = grant.acknowledged_at
    second = signed_in_admin.post(admin_url(BreakGlassGrant, "changelist"), acknowledge, follow=True)
    grant.refresh_from_db()

    assert message_texts(first) == ["1 break-the-glass access acknowledged."]
    assert grant.acknowledged_by == admin_staff
    assert grant.acknowledged_at == acknowledged_at
    assert message_texts(second) == [f"{grant}: {admin_staff} already acknowledged this access."]
    assert grant.history.filter(acknowledged_by=admin_staff).count() == 1


def test_break_glass_acknowledge_action_never_reaches_another_organisations_access(
    signed_in_admin, other_tenant, foreign_patient
):
    foreign = start_break_glass(
        user=psychologist(other_tenant, "theirs"), patient=foreign_patient, reason="crisis"
    )

    def acknowledge(pk: int):
        return signed_in_admin.post(
            admin_url(BreakGlassGrant, "changelist"),
            {"action": "acknowledge", "_selected_action": [str(pk)], "index": "0"},
            follow=True,
        )

    answer, unknown = acknowledge(foreign.pk), acknowledge(987654321)
    foreign.refresh_from_db()

    # Answered as an unknown access is: nothing acknowledged, nothing said.
    assert message_texts(answer) == message_texts(unknown) == []
    assert foreign.acknowledged_at is None
    assert rows_shown(signed_in_admin, BreakGlassGrant) == []


def test_break_glass_superuser_acknowledges_in_any_organisation(client, other_tenant, foreign_patient):
    foreign = start_break_glass(
        user=psychologist(other_tenant, "theirs"), patient=foreign_patient, reason="crisis"
    )
    operator = superuser()
    client.force_login(operator)

    client.post(
        admin_url(BreakGlassGrant, "changelist"),
        {"action": "acknowledge", "_selected_action": [str(foreign.pk)], "index": "0"},
    )
    foreign.refresh_from_db()

    assert foreign.acknowledged_by == operator


def test_break_glass_page_shows_the_access_day_first_with_its_reason(signed_in_admin, tenant, patient):
    start_break_glass(
        user=psychologist(tenant, "huda"), patient=patient, reason="Child in crisis, therapist away"
    )

    html = signed_in_admin.get(admin_url(BreakGlassGrant, "changelist")).content.decode()

    assert "15/03/2026 10:" in html
    assert "Child in crisis, therapist away" in html
    assert "Huda Saleh" in html
    assert str(patient) in html
