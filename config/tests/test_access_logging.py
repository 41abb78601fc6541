"""Reads of patient and clinical data are logged, declared once: the URL-conf test and the rows it proves.

Every page of the site is found by walking the URL resolver (``test_views_access``'s
walker): it must be wrapped by ``core.access_logging.logs_access`` in its URL conf, or be
listed in ``NOT_LOGGED`` with the reason it shows no patient or clinical data. So a page
added later can't forget. Every admin the admin site registers is walked the same way:
a model whose rows name a patient (or a group session) must have its admin built on
``AccessLoggedAdminMixin``.

Then each logged page, requested by a user the permission matrix allows, writes exactly
one row saying who read what, for which child, from where and in which request; a refused
attempt writes one ``denied`` row under the requesting user's organisation with the id
they asked for, and never the other organisation's patient.
"""

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Model
from django.http import Http404, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.test import RequestFactory, override_settings
from django.urls import reverse

from appointments.models import SeriesSkippedDate, Session, WaitlistEntry
from appointments.notes.services import NoteService
from config.tests.tenant_worlds import PLAIN, build_world
from core.access_log import client_ip, mark_break_glass_read
from core.access_logging import ACCESS_LOGGED, AccessLoggedAdminMixin, logs_access
from core.models import AccessLog, Clinic, Patient, User
from core.tests import test_views_access as access_walk
from core.tests.admin_helpers import admin_url
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.test_views_access import MATRIX, SESSION_PROVIDER, login_as, url_for, walked_urls
from core.tests.view_helpers import booked, consented_patient, group_session, staff_member, superuser, work_in
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
# One row of each kind a staff URL points to: the access walk's fixture, shared.
rows = access_walk.rows

Role = User.Role
CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR

# Pages that show no patient or clinical data, so they log nothing; each says why.
NOT_LOGGED = {
    "login": "signing in shows no one's data",
    "logout": "signing out shows no one's data",
    "password_change": "the user's own password",
    "password_change_done": "the user's own password",
    "two_factor": "the user's own second factor",
    "two_factor_verify": "the user's own second factor",
    "set_language": "the language of the pages",
    "healthz": "the load balancer's health check answers ok and nothing else",
    "core:tenant_pick": "a superuser picks the organisation to work in; it names no child",
    "core:session_status": "how long the user's own session has left",
    "core:patient_create": "a blank registration form; the chart it leads to logs the new patient",
    "appointments:session_create": "a blank group-session form: clinics, providers and rooms, no child",
    "appointments:session_book_individual": (
        "a blank booking form (an MRN typed comes back as typed); the session it books logs"
    ),
    "appointments:appointment_book": (
        "a blank booking form (an MRN typed comes back as typed); the appointment it books logs"
    ),
    "appointments:leave_create": "a blank leave form: providers, dates and a reason, no child",
    "reports:index": "the names of the reports the user may open; no figure, no child",
    "family:sms_inbound": "the SMS gateway's replies (STOP): they answer 204 and show nothing",
}
# Public pages that write their own rows, under an actor without a user; each says where they are proven.
LOGGED_BY_THEIR_VIEW = {
    "family:link": (
        "a family's confirm-or-cancel link: one row per child, actor 'guardian link', no user "
        "(appointments/tests/test_family_link.py)"
    ),
}


def logged_pages() -> dict[str, str]:
    """Each page wrapped by ``logs_access``, with the object type it declares."""
    return {
        name: getattr(pattern.callback, ACCESS_LOGGED)
        for name, pattern in walked_urls().items()
        if hasattr(pattern.callback, ACCESS_LOGGED)
    }


def test_every_page_of_the_site_logs_its_reads_or_says_why_it_shows_no_patient_data():
    walked = set(walked_urls())
    logged = set(logged_pages())

    assert walked - logged - set(NOT_LOGGED) - set(LOGGED_BY_THEIR_VIEW) == set(), (
        "wrap these pages with logs_access in their URL conf"
    )
    assert logged & set(NOT_LOGGED) == set()
    assert set(NOT_LOGGED) | set(LOGGED_BY_THEIR_VIEW) <= walked


# The row of each page ----------------------------------------------------------------------------

# What each logged GET page writes for the rows of ``test_views_access.rows``:
# (object type, object id, patient), from those rows.
EXPECTED = {
    "home": lambda r: ("home", "", None),
    "core:patient_search": lambda r: ("patient_list", "", None),
    "core:patient_lookup": lambda r: ("patient_lookup", "", None),
    "core:patient_chart": lambda r: ("patient", r["patient"].pk, r["patient"].pk),
    "core:patient_add_consent": lambda r: ("patient", r["patient"].pk, r["patient"].pk),
    "core:patient_break_glass": lambda r: ("patient", r["patient"].pk, r["patient"].pk),
    "core:guardian_add": lambda r: ("patient", r["patient"].pk, r["patient"].pk),
    "core:guardian_edit": lambda r: ("guardian", r["guardian"].pk, r["patient"].pk),
    "core:guardian_history": lambda r: ("guardian", r["guardian"].pk, r["patient"].pk),
    # The progress report's form names the child (the report itself: PRINTS below).
    "core:patient_progress_print_options": lambda r: ("patient_progress", r["patient"].pk, r["patient"].pk),
    "appointments:session_list": lambda r: ("session_list", "", None),
    "appointments:session_available": lambda r: ("session_available", "", None),
    # The session page shows its children's notes; it is about many children, so names none.
    "appointments:session_detail": lambda r: ("session", r["session"].pk, None),
    "appointments:session_add_patient": lambda r: ("session_add_patient", f"pk={r['session'].pk}", None),
    # Completing asks first, naming each child's outcome: about many children, it names none.
    "appointments:session_complete": lambda r: ("session", r["session"].pk, None),
    "appointments:session_reschedule": lambda r: ("session", r["session"].pk, None),
    "appointments:session_waitlist_add": lambda r: ("session_waitlist_add", f"pk={r['session'].pk}", None),
    "appointments:series_list": lambda r: ("series_list", "", None),
    # The blank form names no one; its plan, posted, names the child of an individual series.
    "appointments:series_create": lambda r: ("series_create", "", None),
    # A group series is about many children, so names none; one child's series names the child.
    "appointments:series_detail": lambda r: ("series", r["series"].pk, None),
    "appointments:series_enrol": lambda r: ("series_enrol", f"pk={r['series'].pk}", None),
    "appointments:schedule_by_provider": lambda r: ("schedule_by_provider", "", None),
    "appointments:schedule_by_room": lambda r: ("schedule_by_room", "", None),
    # The week's frame names no child; its events (the children's names) come from the feed.
    "appointments:calendar_week": lambda r: ("calendar_week", "", None),
    "appointments:calendar_events": lambda r: ("calendar_events", "", None),
    "appointments:leave_list": lambda r: ("leave_list", "", None),
    # The bookings under a leave name their children: about many children, it names none.
    "appointments:leave_detail": lambda r: ("leave", r["leave"].pk, None),
    "appointments:free_slots": lambda r: ("free_slots", "", None),
    "appointments:appointment_list": lambda r: ("appointment_list", "", None),
    "appointments:clearance_queue": lambda r: ("clearance_queue", "", None),
    "appointments:reminders": lambda r: ("reminders", "", None),
    "appointments:appointment_detail": lambda r: (
        "appointment",
        r["appointment"].pk,
        r["appointment"].patient_id,
    ),
    "appointments:appointment_reschedule": lambda r: (
        "appointment",
        r["appointment"].pk,
        r["appointment"].patient_id,
    ),
    "notes:participant_note_write": lambda r: (
        "participant",
        r["participant"].pk,
        r["participant"].patient_id,
    ),
    "notes:note_detail": lambda r: ("psychology_note", r["note"].pk, r["note"].patient_id),
    "notes:note_edit": lambda r: ("psychology_note", r["note"].pk, r["note"].patient_id),
    # A report lists many children: its filters are its query, no one child.
    "reports:report": lambda r: ("report_finance", "key=finance", None),
    "reports:export": lambda r: ("report_notes_queue", "fmt=csv&key=notes_queue", None),
}
# Pages shown as a file: logged as an export, not a view.
EXPORTS = {"reports:export"}
# Pages for paper: without the choices they need they redirect to their form and log nothing;
# with them, a print (appointments/tests/test_progress_print.py checks the row).
PRINTS = {"core:patient_progress_print"}
# The matrix's allowed user tried first: an administrator reads everything but writes no note.
PREFERRED_ROLES = (Role.ADMIN, SESSION_PROVIDER, Role.PSYCHOLOGIST)


def reader_of(name: str) -> str:
    _method, allowed = MATRIX[name]
    return next(role for role in PREFERRED_ROLES if role in allowed)


def last_id() -> int:
    return AccessLog.objects.aggregate(last=Max("pk"))["last"] or 0


def rows_since(first: int) -> list[dict]:
    """The access-log rows written after row ``first``, as the fields a test compares."""
    fields = ("action", "object_type", "object_id", "patient_id", "tenant_id", "user_id", "actor", "ip")
    return list(AccessLog.objects.filter(pk__gt=first).order_by("pk").values(*fields, "request_id"))


def row(user: User | None, action: str, object_type: str, object_id: object, patient_id, tenant_id, response):
    return {
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "patient_id": patient_id,
        "tenant_id": tenant_id,
        "user_id": user.pk if user else None,
        "actor": user.username if user else "anonymous",
        "ip": CLIENT_IP,
        "request_id": response["X-Request-ID"],
    }


def test_every_logged_page_read_with_get_is_expected_here():
    pages = {name for name in logged_pages() if MATRIX[name][0] == "get"} - PRINTS

    assert pages == set(EXPECTED), "teach EXPECTED what the page logs"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_page_writes_one_row_saying_who_read_what_of_which_child(client, tenant, rows, name):
    user = login_as(client, reader_of(name), tenant, session_provider=rows["session"].provider.user)
    first = last_id()

    response = client.get(url_for(name, walked_urls()[name], rows))

    assert response.status_code == 200
    object_type, object_id, patient_id = EXPECTED[name](rows)
    action = "export" if name in EXPORTS else "view"
    assert rows_since(first) == [row(user, action, object_type, object_id, patient_id, tenant.pk, response)]


def test_list_keeps_its_query_not_its_children(client, tenant, rows):
    user = login_as(client, Role.FRONT_DESK, tenant)
    first = last_id()

    response = client.get(reverse("core:patient_search"), {"q": "Sara", "page": "2"})

    assert rows_since(first) == [
        row(user, "view", "patient_list", "q=Sara&page=2", None, tenant.pk, response)
    ]


def test_superuser_reads_are_logged_in_the_organisation_they_work_in(client, tenant, rows):
    user = superuser()
    client.force_login(user)
    work_in(client, tenant)
    first = last_id()

    response = client.get(reverse("core:patient_chart", args=[rows["patient"].pk]))

    patient = rows["patient"].pk
    assert rows_since(first) == [row(user, "view", "patient", patient, patient, tenant.pk, response)]


def test_redirect_after_a_done_action_logs_nothing(client, tenant, rows):
    login_as(client, Role.FRONT_DESK, tenant)
    first = last_id()

    response = client.post(reverse("appointments:participant_confirm", args=[rows["participant"].pk]))

    assert response.status_code == 302
    assert rows_since(first) == []


POSTED_ACTIONS = sorted(name for name in MATRIX if MATRIX[name][0] == "post" and name != "logout")


def test_every_action_is_logged_when_refused():
    assert set(POSTED_ACTIONS) <= set(logged_pages())


@pytest.mark.parametrize("name", POSTED_ACTIONS)
def test_refused_action_writes_one_denied_row_without_a_patient(client, tenant, rows, name):
    user = login_as(client, "no_role", tenant)  # a role of none of ours: refused everywhere
    pattern = walked_urls()[name]
    first = last_id()

    response = client.post(url_for(name, pattern, rows))

    assert response.status_code == 403
    if "pk" in pattern.pattern.converters:
        kind = access_walk.row_kind(name)
        object_type, object_id = ("psychology_note" if kind == "note" else kind), rows[kind].pk
    else:  # an action on many rows (the clearance queue's bulk clearing) names no one row
        object_type, object_id = logged_pages()[name], ""
    assert rows_since(first) == [row(user, "denied", object_type, object_id, None, tenant.pk, response)]


# Refused reads -------------------------------------------------------------------------------------


@pytest.fixture
def other_world():
    """Another organisation's child with a signed-in-elsewhere psychology note."""
    other = TenantFactory(code="OTHER")
    clinic = ClinicFactory(tenant=other, specialty=Clinic.Specialty.PSYCHOLOGY)
    provider = ProviderFactory(clinic=clinic)
    session = group_session(provider, clinic)
    participant = booked(session)
    note = NoteService.create_note(
        PsychologySession, participant=participant, provider=provider, presenting_issues="Worries"
    )
    return {"patient": participant.patient, "note": note}


@pytest.mark.parametrize(
    ("url", "object_type"),
    [
        (lambda w: reverse("core:patient_chart", args=[w["patient"].pk]), "patient"),
        (lambda w: reverse("notes:note_detail", args=["psychology", w["note"].pk]), "psychology_note"),
    ],
    ids=["chart", "note"],
)
def test_another_organisations_record_is_denied_under_the_readers_organisation_without_its_patient(
    client, tenant, other_world, url, object_type
):
    reader = staff_member(tenant, Role.ADMIN)
    client.force_login(reader)
    first = last_id()

    response = client.get(url(other_world))

    assert response.status_code == 404
    requested = other_world["note" if object_type.endswith("note") else "patient"].pk
    assert rows_since(first) == [row(reader, "denied", object_type, requested, None, tenant.pk, response)]


def test_note_of_another_discipline_is_denied_by_role(client, tenant, rows):
    reader = login_as(client, Role.OCCUPATIONAL_THERAPIST, tenant)
    first = last_id()

    response = client.get(reverse("notes:note_detail", args=["psychology", rows["note"].pk]))

    assert response.status_code == 403
    assert rows_since(first) == [
        row(reader, "denied", "psychology_note", rows["note"].pk, None, tenant.pk, response)
    ]


# The decorator on its own ---------------------------------------------------------------------------


@pytest.fixture
def reader(tenant):
    return staff_member(tenant, Role.PSYCHOLOGIST)


def request_by(user: User, path: str = "/things/7/?x=1"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def answer(response):
    def view(request, **kwargs):
        if isinstance(response, Exception):
            raise response
        return response

    return view


@pytest.mark.parametrize(
    ("response", "action"),
    [
        (HttpResponse("shown"), "view"),
        (HttpResponseForbidden(), "denied"),
        (HttpResponse(status=404), "denied"),
        (HttpResponseRedirect("/"), None),
        (HttpResponse(status=400), None),
        (HttpResponse(status=405), None),
    ],
    ids=["200", "403", "404", "302", "400", "405"],
)
def test_decorator_writes_what_the_answer_calls_for(tenant, reader, response, action):
    view = logs_access("thing", patient=lambda request, kwargs: None)(answer(response))
    first = last_id()

    assert view(request_by(reader), pk=7) is response

    written = [(entry["action"], entry["object_id"]) for entry in rows_since(first)]
    assert written == ([(action, "7")] if action else [])


@pytest.mark.parametrize("raised", [Http404, PermissionDenied], ids=["404", "403"])
def test_decorator_logs_a_raised_refusal_and_raises_it_again(tenant, reader, raised):
    view = logs_access("thing")(answer(raised()))
    first = last_id()

    with pytest.raises(raised):
        view(request_by(reader), pk=7)

    assert [(entry["action"], entry["object_id"]) for entry in rows_since(first)] == [("denied", "7")]


def test_decorator_logs_a_read_under_break_the_glass_as_such(tenant, reader):
    def view(request, pk):
        mark_break_glass_read(request.user)
        return HttpResponse("another discipline's note")

    logged = logs_access("thing")(view)
    first = last_id()

    logged(request_by(reader), pk=7)

    assert [entry["action"] for entry in rows_since(first)] == ["break_glass"]


def test_decorator_names_the_view_for_the_url_conf_test_and_keeps_its_marks():
    def view(request):
        return HttpResponse()

    view.login_required = False

    logged = logs_access("{specialty}_note", listing=True)(view)

    assert getattr(logged, ACCESS_LOGGED) == "{specialty}_note"
    assert logged.login_required is False
    assert logged.__name__ == "view"


def test_decorator_cuts_and_cleans_what_the_url_brings(tenant, reader):
    view = logs_access("{specialty}_note")(answer(HttpResponse()))
    first = last_id()

    view(request_by(reader), pk="7\x00" + "9" * 400, specialty="s" * 200)

    [entry] = rows_since(first)
    assert entry["object_type"] == ("s" * 200 + "_note")[:80]
    assert entry["object_id"] == ("7\ufffd" + "9" * 400)[:300]


def test_decorator_keeps_a_lists_query_as_far_as_it_fits(tenant, reader):
    view = logs_access("thing_list", listing=True)(answer(HttpResponse()))
    first = last_id()

    view(request_by(reader, "/?q=" + "x" * 500 + "%00"))

    assert [entry["object_id"] for entry in rows_since(first)] == [("q=" + "x" * 500)[:300]]


# The client's address ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no trusted proxy: anyone can write the header
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the one proxy saw the last entry
        (2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (2, "198.51.100.66, 198.51.100.7, 203.0.113.9", "198.51.100.7"),  # the client's own entry is ignored
        (2, "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies: not through them
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip_honours_the_trusted_proxy_count(proxies, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_row_keeps_the_address_the_trusted_proxy_saw(client, tenant, rows):
    login_as(client, Role.FRONT_DESK, tenant)
    first = last_id()

    client.get(reverse("core:patient_search"), HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.9")

    assert [entry["ip"] for entry in rows_since(first)] == ["203.0.113.9"]


# Django admin ---------------------------------------------------------------------------------------

# Admins of models naming a patient that log their reads otherwise, and why.
NOT_LOGGED_ADMINS = {
    "core.accesslog": (
        "the audit trail's own page (core.audit_admin): a list filtered by a patient logs a read of "
        "that patient, and every export logs an export row"
    ),
}
# Models with no patient column whose rows are clinical all the same.
CLINICAL_WITHOUT_A_PATIENT = {Session: "a group session's notes and the children taking part"}


def names_a_patient(model: type[Model]) -> bool:
    """Whether ``model``'s rows name a patient, directly or through one of their links."""
    if model is Patient:
        return True
    links = [field.related_model for field in model._meta.concrete_fields if field.is_relation]
    return any(
        link is Patient
        or any(field.is_relation and field.related_model is Patient for field in link._meta.concrete_fields)
        for link in links
        if isinstance(link, type)
    )


def logged_admins() -> dict[type[Model], admin.ModelAdmin]:
    return {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, AccessLoggedAdminMixin)
    }


def test_every_admin_of_patient_or_clinical_data_logs_its_reads():
    required = {
        model
        for model in admin.site._registry
        if (names_a_patient(model) or model in CLINICAL_WITHOUT_A_PATIENT)
        and model._meta.label_lower not in NOT_LOGGED_ADMINS
    }

    unlogged = sorted(model._meta.label for model in required - set(logged_admins()))
    assert unlogged == [], "build these admins on core.access_logging.AccessLoggedAdminMixin"
    labels = {model._meta.label_lower for model in required}
    assert {"core.patient", "core.consent", "appointments.appointment", "ot.otnoteaddendum"} <= labels


def expected_patient(obj: Model) -> int | None:
    """The patient an admin page of ``obj`` is about (None: a group session, about many)."""
    if isinstance(obj, Patient):
        return obj.pk
    if isinstance(obj, Session):
        return None
    if hasattr(obj, "note"):
        return obj.note.patient_id
    if isinstance(obj, WaitlistEntry):  # its participant, once booked, is the same child
        return obj.patient_id
    if hasattr(obj, "participant"):
        return obj.participant.patient_id
    if isinstance(obj, SeriesSkippedDate):
        return obj.series.patient_id
    return obj.patient_id


@pytest.fixture
def world(frozen_today):
    return build_world(PLAIN, frozen_today)


def test_admin_pages_of_each_logged_model_write_one_row_each(client, world):
    administrator = world.users[Role.ADMIN]
    client.force_login(administrator)

    written, expected = {}, {}
    for model in logged_admins():
        obj = world.row(model)
        label = model._meta.label_lower
        pages = {
            "change": (admin_url(model, "change", obj.pk), label, obj.pk, expected_patient(obj)),
            "history": (admin_url(model, "history", obj.pk), label, obj.pk, expected_patient(obj)),
            "list": (admin_url(model, "changelist") + "?q=Alpha", f"{label}_list", "q=Alpha", None),
        }
        for page, (url, object_type, object_id, patient_id) in pages.items():
            first = last_id()
            response = client.get(url)
            written[label, page] = (response.status_code, rows_since(first))
            expected[label, page] = (
                200,
                [row(administrator, "view", object_type, object_id, patient_id, world.tenant.pk, response)],
            )

    assert written == expected


def test_admin_version_page_logs_a_read_of_the_object(client, world):
    administrator = world.users[Role.ADMIN]
    client.force_login(administrator)
    patient = world.row(Patient)
    version = patient.history.latest().history_id
    first = last_id()

    response = client.get(admin_url(Patient, "simple_history", patient.pk, version))

    assert response.status_code == 200
    assert rows_since(first) == [
        row(administrator, "view", "core.patient", patient.pk, patient.pk, world.tenant.pk, response)
    ]


def test_admin_page_of_another_organisations_patient_is_denied_under_the_readers_organisation(client, tenant):
    stranger = consented_patient(TenantFactory(code="OTHER"))
    administrator = staff_member(tenant, Role.ADMIN, is_staff=True)
    client.force_login(administrator)

    outcome = {}
    for page in ("change", "history", "delete"):
        first = last_id()
        response = client.get(admin_url(Patient, page, stranger.pk))
        outcome[page] = rows_since(first) == [
            row(administrator, "denied", "core.patient", stranger.pk, None, tenant.pk, response)
        ]

    assert outcome == {"change": True, "history": True, "delete": True}


def test_admin_list_refused_to_a_role_is_denied(client, tenant):
    desk = staff_member(tenant, Role.FRONT_DESK, is_staff=True)
    client.force_login(desk)
    first = last_id()

    response = client.get(admin_url(Patient, "changelist") + "?q=Sara")

    assert response.status_code == 403
    assert rows_since(first) == [
        row(desk, "denied", "core.patient_list", "q=Sara", None, tenant.pk, response)
    ]


def test_superuser_admin_read_goes_to_the_objects_organisation(client, world):
    root = superuser()
    client.force_login(root)
    patient = world.row(Patient)
    first = last_id()

    response = client.get(admin_url(Patient, "change", patient.pk))

    assert rows_since(first) == [
        row(root, "view", "core.patient", patient.pk, patient.pk, world.tenant.pk, response)
    ]


def test_admin_autocomplete_of_patients_is_a_logged_search(client, world):
    administrator = world.users[Role.ADMIN]
    client.force_login(administrator)
    query = "app_label=core&model_name=consent&field_name=patient&term=Alpha"
    first = last_id()

    response = client.get(f"{reverse('admin:autocomplete')}?{query}")

    assert response.status_code == 200
    assert rows_since(first) == [
        row(administrator, "view", "core.patient_list", query, None, world.tenant.pk, response)
    ]
