"""Fuzz: every URL of the site and of the admin, for every role, with 1,200 bad inputs.

The URLs come from the resolver (site and admin, named or not) and their path
parameters from its converters: real ids, and junk ids of every size where the
converter lets them through. Each URL is sent the fields its own page names (its forms'
fields, its links' query parameters, as a superuser sees the page) and the few every
page may read (``COMMON_NAMES``); what each field takes comes from the forms behind it -
every form class of the apps, each admin's add and change forms with their inlines,
its changelist's filters, search, ordering and actions (``admin.site._registry``). Each
field gets a plausible value, junk of its kind or nothing: huge numbers, ids that are
no numbers, dates out of range, times that don't exist, ``next`` addresses of other
sites, 10,000-character strings, NUL and right-to-left override characters, in query
strings and POST bodies. ``request_plan`` spreads the 1,200 requests over every URL and
role; Hypothesis draws the inputs, derandomized and seeded per URL: the same 1,200
requests on every run.

Each request runs in a savepoint rolled back afterwards, so every request starts from
the same rows. It must not answer 500 (nor raise), and a refused request - status 400
or more, a form shown again with its errors, an action answered with error messages
only, a redirect to the login - must not change a row of any table but the sessions
(``EXEMPT_TABLES``); a GET changes nothing at all. Rows changed are counted by
PostgreSQL (``pg_stat_xact_user_tables``), which also counts writes rolled back inside
the request: a refusal writes nothing, not even for a while.

Run it alone with ``pytest -m fuzz``; it is part of the whole suite too. What went
wrong is listed request by request (role, method, URL, query, body, what happened).
"""

import copy
import datetime
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils.regex_helper import normalize
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from aba.models import ABASession
from appointments.forms import PatientByMrnField
from appointments.notes.registry import note_kinds
from appointments.notes.services import NoteService
from appointments.tests.factories import under_way
from core import clock
from core.models import Clinic, User
from core.tests.admin_helpers import tenant_admin_staff
from core.tests.factories import ClinicFactory, ProviderFactory, RoomFactory, UserFactory
from core.tests.view_helpers import booked, group_series, group_session, legacy_appointment, staff_member
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Specialty = Clinic.Specialty

TOTAL_REQUESTS = 1300
# Chunks of the plan, one test each, so pytest-xdist shares the fuzz between workers.
CHUNKS = 10
SUPERUSER, TENANT_ADMIN = "superuser", "tenant_admin"
ADMIN_ROLES = (SUPERUSER, TENANT_ADMIN)  # staff who may use Django admin
ROLES = (
    *ADMIN_ROLES,
    Role.FRONT_DESK,
    Role.FINANCE,
    Role.PSYCHOLOGIST,
    Role.OCCUPATIONAL_THERAPIST,
    Role.ABA_THERAPIST,
)
# Tables a refused request may write to: the session, and records of the refusal itself (a
# check-in refused at a gate is recorded: appointments.CheckInRefusal).
EXEMPT_TABLES = frozenset(
    {
        "django_session",
        "core_accesslog",
        "axes_accessattempt",
        "axes_accessfailurelog",
        "axes_accesslog",
        "appointments_checkinrefusal",
    }
)
OUR_APPS = ("core", "appointments", "psychology", "ot", "aba")
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
# Logging out goes to the login page by design, and writes: it ends the user's other
# sessions (core.privileges.end_other_sessions raises User.session_generation).
LOGOUT_PAGE = "/accounts/logout/"


# The URLs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern: the resolver patterns from the root to the view."""

    key: str  # the URL's name, or its route when it has none
    patterns: tuple[Any, ...]

    @property
    def route(self) -> str:
        return "".join(str(pattern) for pattern in self.patterns)

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")

    def parameters(self) -> list[str]:
        names: list[str] = []
        for pattern in self.patterns:
            if isinstance(pattern, RoutePattern):
                names += list(pattern.converters)
            else:
                names += normalize(pattern._regex)[0][1]
        return names

    def path(self, values: dict[str, str]) -> str | None:
        """The URL with ``values`` for its parameters; None when a converter or regex refuses one."""
        pieces = []
        for pattern in self.patterns:
            if isinstance(pattern, RoutePattern):
                converters = pattern.converters
                if not all(re.fullmatch(converters[name].regex, values[name]) for name in converters):
                    return None
                pieces.append(fill_route(str(pattern), converters, values))
            else:
                assert isinstance(pattern, RegexPattern), f"teach the fuzz about {pattern!r}"
                template, names = normalize(pattern._regex)[0]
                piece = template % {name: values[name] for name in names}
                if not pattern.regex.fullmatch(piece):
                    return None
                pieces.append(piece)
        return "/" + quote("".join(pieces), safe="/:@!$&'()*+,;=~")


ROUTE_PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")


def fill_route(route: str, converters: dict, values: dict[str, str]) -> str:
    """``route`` (``<int:pk>/edit/``) with each parameter's value as its converter writes it."""
    return ROUTE_PARAMETER.sub(
        lambda match: converters[match["name"]].to_url(
            converters[match["name"]].to_python(values[match["name"]])
        ),
        route,
    )


def walk(entries, patterns=(), namespaces=()) -> Iterator[Route]:
    for entry in entries:
        chain = (*patterns, entry.pattern)
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from walk(entry.url_patterns, chain, inner)
        else:
            name = ":".join((*namespaces, entry.name)) if entry.name else ""
            yield Route(name or "".join(str(pattern) for pattern in chain), chain)


def every_route() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


def admin_model(route: Route) -> type[Model] | None:
    """The model whose admin serves ``route`` (``admin/<app>/<model>/...``), if any."""
    for model in admin.site._registry:
        if route.route.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    return None


@dataclass(frozen=True)
class Planned:
    role: str
    route: Route
    method: str


def request_plan(routes: list[Route], total: int = TOTAL_REQUESTS) -> list[Planned]:
    """``total`` requests walking every URL: each staff page once for every role (GET and POST
    by turns), each admin page by both admin roles (GET by one, POST by the other); then, while
    requests are left, admin pages again by the admin roles the other way round, then by the
    other roles."""
    site = [route for route in routes if not route.is_admin]
    admin_routes = [route for route in routes if route.is_admin]
    plan = [
        Planned(role, route, ("GET", "POST")[(number + index) % 2])
        for number, route in enumerate(site)
        for index, role in enumerate(ROLES)
    ]
    plan += [Planned(SUPERUSER, route, "GET") for route in admin_routes]
    plan += [Planned(TENANT_ADMIN, route, "POST") for route in admin_routes]
    assert len(plan) <= total, f"{len(plan)} requests are needed to walk every URL: raise TOTAL_REQUESTS"
    others = [role for role in ROLES if role not in ADMIN_ROLES]
    extra = [Planned(SUPERUSER, route, "POST") for route in admin_routes]
    extra += [Planned(TENANT_ADMIN, route, "GET") for route in admin_routes]
    extra += [
        Planned(others[number % len(others)], route, ("GET", "POST")[number % 2])
        for number, route in enumerate(admin_routes * len(others))
    ]
    return plan + extra[: total - len(plan)]


def chunk_of(plan: list[Planned], chunk: int) -> dict[str, list[Planned]]:
    """Every tenth URL with its planned requests: one chunk of the fuzz."""
    by_route: dict[str, list[Planned]] = {}
    for planned in plan:
        by_route.setdefault(planned.route.key, []).append(planned)
    return {key: by_route[key] for key in list(by_route)[chunk::CHUNKS]}


# The inputs -------------------------------------------------------------------------------------


def overlong(text: str) -> str:
    return text * (10_001 // len(text) + 1)


JUNK_IDS = (
    "0",
    "-1",
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    "9" * 40,
    "abc",
    "1.5",
    "1e9",
    "١",
    " 1 ",
    "\x00",
    "1\x00",
    "\u202e1",
    "%",
    "x" * 10_001,
)
BAD_DATES = (
    "0000-01-01",
    "0001-01-01",
    "1-1-1",
    "1899-12-31",
    "2101-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "2026-13-01",
    "-2026-03-16",
    "2026-03-16T10:00",
)
BAD_TIMES = ("24:00", "25:61", "23:59:60", "-1:00", "99:99", "23:59:59.999999", "02:30")
BAD_NEXTS = (
    "https://evil.example",
    "//evil",
    "javascript:alert(1)",
    "\\\\evil",
    "/\\evil",
    "http://testserver@evil.example",
    "/\r\nLocation: //evil",
    " /",
    "data:text/html,x",
    "confirm",
    "../admin/",
)
OVERLONG = st.sampled_from(("x", "ي", "٣", "\u202e", "%", "<b>", "\x00", "9")).map(overlong)
NUL = st.sampled_from(("\x00", "a\x00b", "1\x00", "\x002026-03-16", "MRN\x00"))
RTL = st.sampled_from(("\u202e", "abc\u202edef", "\u202e1", "\u200f١٢٣", "gnp.\u202eexe", "\u202b\u202c"))
GENERIC = st.one_of(OVERLONG, NUL, RTL, st.text(max_size=30))


def mostly(kind: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Junk of ``kind`` three times in four, any junk the fourth."""
    return st.one_of(kind, kind, kind, GENERIC)


IDS = mostly(st.sampled_from(JUNK_IDS))
NUMBERS = mostly(
    st.one_of(
        st.sampled_from(("NaN", "inf", "-0", "1e309", "99999", *JUNK_IDS)),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )
)
DATES = mostly(st.sampled_from(BAD_DATES))
TIMES = mostly(st.sampled_from(BAD_TIMES))
NEXTS = mostly(st.sampled_from(BAD_NEXTS))
ANY_JUNK = st.one_of(IDS, NUMBERS, DATES, TIMES, NEXTS)
# Each field is sent a plausible value, junk, or nothing.
MODES = st.sampled_from(("plausible", "plausible", "junk", "omit"))
# Longest junk value of a field that isn't the request's one overlong field.
SHORT_JUNK = 300
# Fields every page may read besides those its own page names: the one-click actions' fields
# (posted from another page), "next", paging, search, the day and a patient picked elsewhere.
COMMON_NAMES = ("next", "page", "q", "day", "patient", "reason", "max_capacity", "group_notes", "text")
NAME_ATTRIBUTE = re.compile(r'\bname="([^"]+)"')
LINK_PARAMETER = re.compile(r"[?&](?:amp;)?([A-Za-z_][\w-]*)=")
# What a POST also carries in its query string.
QUERY_NAMES = ("next", "day", "q", "page", "_changelist_filters", "_popup")


@dataclass(frozen=True)
class Param:
    name: str
    plausible: tuple[str, ...]
    junk: st.SearchStrategy[str]


def merged(params: list[Param]) -> list[Param]:
    """One Param per name: a name several forms use takes each one's values."""
    by_name: dict[str, list[Param]] = {}
    for param in params:
        by_name.setdefault(param.name, []).append(param)
    return [
        Param(
            name,
            tuple(dict.fromkeys(value for param in same for value in param.plausible)),
            st.one_of(*(param.junk for param in same)),
        )
        for name, same in sorted(by_name.items())
    ]


class World:
    """The rows every request starts from, and what a form field's plausible value is there."""

    def __init__(self, tenant) -> None:
        self.tenant = tenant
        clinics = {
            specialty: ClinicFactory(tenant=tenant, specialty=specialty)
            for specialty in (Specialty.PSYCHOLOGY, Specialty.OT, Specialty.ABA)
        }
        RoomFactory(clinic=clinics[Specialty.PSYCHOLOGY])
        self.users: dict[str, User] = {
            SUPERUSER: UserFactory(tenant=tenant, role=Role.ADMIN, is_superuser=True, is_staff=True),
            TENANT_ADMIN: tenant_admin_staff(tenant),
            Role.FRONT_DESK: staff_member(tenant, Role.FRONT_DESK),
            Role.FINANCE: staff_member(tenant, Role.FINANCE),
        }
        notes = []
        for hour, (role, specialty, note_model, content) in enumerate(
            (
                (
                    Role.PSYCHOLOGIST,
                    Specialty.PSYCHOLOGY,
                    PsychologySession,
                    {"presenting_issues": "Worries"},
                ),
                (
                    Role.OCCUPATIONAL_THERAPIST,
                    Specialty.OT,
                    OTSession,
                    {
                        "activities": "Beads",
                        "target_skills": [{"skill": "Grip", "rating": 5, "comments": ""}],
                    },
                ),
                (
                    Role.ABA_THERAPIST,
                    Specialty.ABA,
                    ABASession,
                    {
                        "session_summary": "Waiting",
                        "behaviour_records": [
                            {
                                "antecedent": "Toy removed",
                                "behaviour": "Crying",
                                "consequence": "Redirection",
                                "frequency": 2,
                                "duration_seconds": 30,
                                "intensity": "mild",
                            }
                        ],
                        "skill_targets": [
                            {"target": "Labels", "trials": 10, "correct": 7, "prompt_level": "verbal"}
                        ],
                    },
                ),
            ),
            start=9,
        ):
            user = self.users[role] = staff_member(tenant, role)
            provider = ProviderFactory(clinic=clinics[specialty], user=user)
            session = group_session(provider, clinics[specialty], hour=hour)
            draft = NoteService.create_note(
                note_model, participant=booked(session), provider=provider, **content
            )
            signed = NoteService.create_note(  # of a child who came, the session under way: signable
                note_model, participant=under_way(booked(session)), provider=provider, **content
            )
            NoteService.sign_note(signed, user=user)
            NoteService.add_addendum(signed, text="Seen again the next day.", user=user)
            notes.append(draft)
        psychology_note = notes[0]
        session = psychology_note.session
        participant = psychology_note.session_participant
        self.rows: dict[str, Model] = {
            "session": session,
            "participant": participant,
            "appointment": legacy_appointment(session.provider, session.clinic, hour=15),
            "patient": participant.patient,
            "consent": participant.patient.consents.get(),
            "note": psychology_note,
            "series": group_series(session.provider, session.clinic, hour=17),
        }
        self._first_pk: dict[type[Model], str] = {}

    def first_pk(self, model: type[Model]) -> str:
        if model not in self._first_pk:
            pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
            self._first_pk[model] = "" if pk is None else str(pk)
        return self._first_pk[model]

    # Path parameters

    def path_values(self, route: Route, name: str) -> tuple[str, ...]:
        """Real values of a path parameter of ``route``: the rows the URL is about."""
        model = admin_model(route)
        if name in ("object_id", "_0", "id") and model is not None:
            return (self.first_pk(model) or "1",)
        if name == "_1" and model is not None and hasattr(model, "history"):
            return (str(model.history.order_by("history_id").values_list("history_id", flat=True).first()),)
        if name == "pk":
            kind = route.key.split(":")[-1].split("_")[0]
            row = self.rows.get(kind, self.rows["session"])
            return (str(row.pk),)
        if name == "specialty":
            return (self.rows["note"].specialty,)
        if name == "app_label":
            return OUR_APPS
        if name == "content_type_id":
            return (str(ContentType.objects.get_for_model(type(self.rows["patient"])).pk),)
        if name == "url":
            return ("core/patient/", "nothing/here/")
        return ("1",)

    # Form fields

    def field_params(self, name: str, field: forms.Field) -> list[Param]:
        if isinstance(field, forms.MultiValueField) and isinstance(field.widget, forms.MultiWidget):
            return [
                param
                for suffix, part in zip(field.widget.widgets_names, field.fields, strict=True)
                for param in self.field_params(name + suffix, part)
            ]
        tomorrow = (clock.today() + datetime.timedelta(days=1)).isoformat()
        if isinstance(field, PatientByMrnField):
            return [Param(name, (self.rows["patient"].mrn,), GENERIC)]
        if isinstance(field, forms.ModelChoiceField):
            pk = self.first_pk(field.queryset.model) if field.queryset is not None else ""
            return [Param(name, (pk,) if pk else (), IDS)]
        if isinstance(field, forms.DateTimeField):
            return [Param(name, (f"{tomorrow} 10:00",), DATES)]
        if isinstance(field, forms.DateField):
            return [Param(name, (tomorrow,), DATES)]
        if isinstance(field, forms.TimeField):
            return [Param(name, ("11:00",), TIMES)]
        if isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField):
            low = field.min_value if field.min_value is not None else 1
            high = field.max_value if field.max_value is not None else 60
            return [Param(name, (str(min(max(60, low), high)),), NUMBERS)]
        if isinstance(field, forms.BooleanField):
            return [Param(name, ("on",), GENERIC)]
        if isinstance(field, forms.ChoiceField):
            values = [str(value) for value, _label in flat_choices(field.choices) if value not in ("", None)]
            return [Param(name, tuple(values[:1]), st.one_of(IDS, GENERIC))]
        return [Param(name, ("Fuzz text",), GENERIC)]

    def form_params(self, form_class: type[forms.BaseForm], prefix: str = "") -> list[Param]:
        return [
            param
            for name, field in form_class.base_fields.items()
            for param in self.field_params(prefix + name, field)
        ]

    def formset_params(self, formset_class) -> list[Param]:
        prefix = formset_class.get_default_prefix()
        management = [
            Param(f"{prefix}-{name}", (value,), NUMBERS)
            for name, value in (("TOTAL_FORMS", "1"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"))
        ]
        row = [Param(f"{prefix}-0-{name}", ("",), IDS) for name in ("id", "DELETE")]
        return management + row + self.form_params(formset_class.form, f"{prefix}-0-")

    def site_params(self) -> list[Param]:
        params = [
            Param("next", ("/appointments/sessions/",), NEXTS),
            Param("page", ("2",), NUMBERS),
            Param("q", ("Sara",), GENERIC),
            Param("day", ("2026-03-16",), DATES),
            Param("language", ("ar", "en"), GENERIC),
            Param("tenant", (str(self.tenant.pk),), IDS),
        ]
        for form_class in app_form_classes():
            params += self.form_params(form_class)
        for form_class in (AuthenticationForm, PasswordChangeForm):
            params += self.form_params(form_class)
        for kind in note_kinds().values():
            for formset_class in kind.formsets:
                params += self.formset_params(formset_class)
        return merged(params)

    def admin_params(self, model: type[Model], model_admin: admin.ModelAdmin, request) -> list[Param]:
        obj = model._default_manager.order_by("pk").first()
        pk = self.first_pk(model)
        params = [
            Param("q", ("a",), GENERIC),
            Param("o", ("1", "-2.1"), st.one_of(IDS, GENERIC)),
            Param("p", ("1",), NUMBERS),
            Param("all", ("",), GENERIC),
            Param("e", ("1",), GENERIC),
            Param(
                "_to_field", ("id",), st.one_of(st.sampled_from(("password", "pk", "tenant__code")), GENERIC)
            ),
            Param("_popup", ("1",), GENERIC),
            Param(
                "_changelist_filters",
                ("q=a",),
                st.one_of(st.sampled_from(("o=99", "p=-1", "e=\x00")), GENERIC),
            ),
            Param("action", tuple(model_admin.get_actions(request)), GENERIC),
            Param("_selected_action", (pk,) if pk else (), IDS),
            Param("index", ("0",), NUMBERS),
            Param("select_across", ("0", "1"), GENERIC),
            Param("post", ("yes",), GENERIC),
            Param("_save", ("Save",), GENERIC),
            Param("_continue", ("1",), GENERIC),
            Param("_saveasnew", ("1",), GENERIC),
        ]
        for spec in model_admin.list_filter:
            if isinstance(spec, str | tuple):
                path = spec if isinstance(spec, str) else spec[0]
                for lookup in ("exact", "id__exact", "isnull", "gte", "lt", "in"):
                    params.append(Param(f"{path}__{lookup}", (), st.one_of(IDS, DATES, GENERIC)))
            else:
                params.append(Param(spec.parameter_name, (), st.one_of(IDS, GENERIC)))
        if model_admin.date_hierarchy:
            for part, value in (("year", "2026"), ("month", "3"), ("day", "15")):
                params.append(Param(f"{model_admin.date_hierarchy}__{part}", (value,), NUMBERS))
        for instance in (None, obj):
            params += self.form_params(model_admin.get_form(request, instance, change=instance is not None))
            for formset_class, _inline in model_admin.get_formsets_with_inlines(request, instance):
                params += self.formset_params(formset_class)
        return merged(params + ADMIN_SITE_PARAMS)


ADMIN_SITE_PARAMS = [
    Param("username", ("admin",), GENERIC),
    Param("password", ("wrong-password",), GENERIC),
    Param("next", ("/admin/",), NEXTS),
    Param("app_label", ("appointments",), GENERIC),
    Param("model_name", ("sessionparticipant",), GENERIC),
    Param("field_name", ("patient",), GENERIC),
    Param("term", ("Sa",), GENERIC),
    Param("page", ("1",), NUMBERS),
    Param("old_password", ("wrong-password",), GENERIC),
    Param("new_password1", ("a-Long-pass-9021",), GENERIC),
    Param("new_password2", ("a-Long-pass-9021",), GENERIC),
    Param("usable_password", ("true",), GENERIC),
    Param("language", ("ar",), GENERIC),
]


def flat_choices(choices) -> Iterator[tuple[Any, Any]]:
    for value, label in choices:
        if isinstance(label, list | tuple):
            yield from flat_choices(label)
        else:
            yield value, label


def app_form_classes() -> list[type[forms.BaseForm]]:
    """Every form class of the apps' pages (admin forms are the admins' own, see admin_params)."""
    found: list[type[forms.BaseForm]] = []
    pending = [forms.BaseForm]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            module = subclass.__module__
            if module.split(".")[0] in OUR_APPS and ".tests" not in module and not module.endswith("admin"):
                found.append(subclass)
    return sorted(set(found), key=lambda form_class: (form_class.__module__, form_class.__qualname__))


def draw_params(data, params: list[Param]) -> dict[str, str]:
    """A value (or none) for each param; at least one is junk, and only that one may be overlong
    (pages repeat their query string in every link: one 10,000-character value is enough)."""
    target = data.draw(st.sampled_from(params), label="junk field")
    chosen = {}
    for param in params:
        mode = "junk" if param is target else data.draw(MODES)
        if mode == "plausible" and param.plausible:
            chosen[param.name] = data.draw(st.sampled_from(param.plausible))
        elif mode == "junk":
            value = data.draw(param.junk)
            chosen[param.name] = value if param is target else value[:SHORT_JUNK]
    return chosen


# The checks -------------------------------------------------------------------------------------


def table_writes() -> dict[str, int]:
    """Rows inserted, updated or deleted per table so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
        return dict(cursor.fetchall())


def refusal(method: str, response: HttpResponse) -> str | None:
    """Why ``response`` refused the request, or None if it went through."""
    if response.status_code >= 400:
        return f"answered {response.status_code}"
    if method == "POST" and response.status_code == 200 and shows_form_errors(response):
        return "showed the form again with errors"
    if response.status_code == 302 and response.url.startswith(LOGIN_PAGES):
        return None if response.wsgi_request.path == LOGOUT_PAGE else "sent to log in"
    levels = {message.level for message in messages.get_messages(response.wsgi_request)}
    if messages.ERROR in levels and messages.SUCCESS not in levels:
        return "reported errors only"
    return None


def shows_form_errors(response: HttpResponse) -> bool:
    """Whether the page rendered a submitted form (or formset, admin or note form) with errors."""
    contexts = response.context if isinstance(response.context, list) else [response.context]
    return any(
        has_errors(value)
        for context in contexts
        if context is not None
        for value in context.flatten().values()
    )


def has_errors(value: object, depth: int = 0) -> bool:
    if isinstance(value, forms.BaseForm):
        return value.is_bound and bool(value.errors)
    if isinstance(value, forms.BaseFormSet):
        return value.is_bound and value.total_error_count() > 0
    if depth < 2 and isinstance(value, list | tuple):
        return any(has_errors(item, depth + 1) for item in value)
    # Admin wrappers (AdminForm, InlineAdminFormSet) and the note pages' NoteForms hold theirs.
    parts = [getattr(value, name) for name in ("form", "formset", "formsets") if hasattr(value, name)]
    return depth < 2 and any(has_errors(part, depth + 1) for part in parts)


def shown(value: object, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


@dataclass
class Fuzz:
    """The requests of one chunk, each checked; what went wrong is collected, not raised."""

    world: World
    clients: dict[str, Client]
    known_params: dict[str, list[Param]]

    def __post_init__(self) -> None:
        self.sent: list[str] = []
        self.failures: list[str] = []

    def run_route(self, planned: list[Planned]) -> None:
        """The planned requests of one URL, one per Hypothesis example.

        What is drawn depends only on the URL (its parameters and fields), so Hypothesis
        sees one strategy per run; the role and method of each example come from the
        plan, in order. Seeded from the URL, so two URLs with the same fields get
        different inputs; the same on every run.
        """
        sent_before = len(self.sent)
        names, status = self.names_on_page(planned[0].route)
        params = self.page_params(planned[0].route, names)
        if status == 405:  # a one-click action: nothing but POST gets past the method check
            planned = [Planned(entry.role, entry.route, "POST") for entry in planned]

        @seed(zlib.crc32(planned[0].route.key.encode()))
        @settings(
            max_examples=len(planned),
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.large_base_example,
            ],
        )
        @given(data=st.data())
        def requests(data):
            self.run_one(planned[(len(self.sent) - sent_before) % len(planned)], params, data)

        requests()

    def page_params(self, route: Route, names_on_page: set[str]) -> list[Param]:
        """The fields the URL's own page names (its forms' fields, its links' query parameters) and
        COMMON_NAMES; a name no form of ours declares gets junk of every kind."""
        known = {param.name: param for param in self.known_params[route.key]}
        names = set(COMMON_NAMES) | names_on_page
        return [known.get(name) or Param(name, (), ANY_JUNK) for name in sorted(names)]

    def names_on_page(self, route: Route) -> tuple[set[str], int]:
        """The field and link parameter names on the URL's page (as a superuser sees it), and its status."""
        path = route.path({name: self.world.path_values(route, name)[0] for name in route.parameters()})
        client = self.clients[SUPERUSER]
        cookies = copy.deepcopy(client.cookies)
        with transaction.atomic():
            response = client.get(path)
            transaction.set_rollback(True)
        client.cookies = cookies
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return set(), response.status_code
        html = response.content.decode(errors="replace")
        names = set(NAME_ATTRIBUTE.findall(html)) | set(LINK_PARAMETER.findall(html))
        return names - {"csrfmiddlewaretoken"}, response.status_code

    def run_one(self, planned: Planned, params: list[Param], data) -> None:
        route = planned.route
        values = {name: data.draw(self.path_value(route, name)) for name in route.parameters()}
        path = route.path(values) or route.path(
            {name: self.world.path_values(route, name)[0] for name in values}
        )
        assert path is not None, f"{route.key}: no real value fits the URL"
        fields = draw_params(data, params)
        names = data.draw(st.lists(st.sampled_from(QUERY_NAMES), max_size=2, unique=True))
        extra = {name: data.draw(NEXTS if name == "next" else GENERIC) for name in names}
        # A GET sends the fields in its query string; a POST in its body, with junk in its query string too.
        query, fields = (fields, {}) if planned.method == "GET" else (extra, fields)
        client = self.clients[planned.role]
        cookies = copy.deepcopy(client.cookies)
        request = f"{planned.role} {planned.method} {shown(path, 120)} {shown(query)} {shown(fields)}"
        with transaction.atomic():
            self.check(client, planned.method, path, query, fields, request)
            transaction.set_rollback(True)
        client.cookies = cookies
        self.sent.append(route.key)

    def path_value(self, route: Route, name: str) -> st.SearchStrategy[str]:
        return st.one_of(st.sampled_from(self.world.path_values(route, name)), st.sampled_from(JUNK_IDS))

    def check(self, client: Client, method: str, path: str, query: dict, fields: dict, request: str) -> None:
        before = table_writes()
        try:
            if method == "GET":
                response = client.get(path, query)
            else:
                response = client.post(f"{path}?{urlencode(query)}" if query else path, fields)
        except Exception as error:  # noqa: BLE001 - the fuzz reports every way a request fails
            self.failures.append(f"{request}: raised {error!r}")
            return
        if response.status_code == 500:
            exc_info = getattr(response, "exc_info", None)
            cause = repr(exc_info[1]) if exc_info else "no exception recorded"
            self.failures.append(f"{request}: 500 {shown(cause)}")
            return
        try:
            after = table_writes()
        except DatabaseError as error:
            self.failures.append(f"{request}: left the transaction broken ({error!r})")
            return
        changed = {
            table: after[table] - before.get(table, 0)
            for table in after
            if after[table] != before.get(table, 0) and table not in EXEMPT_TABLES
        }
        why = "a GET" if method == "GET" else refusal(method, response)
        if changed and why:
            self.failures.append(f"{request}: {why} ({response.status_code}) yet changed rows {changed}")


# The test ---------------------------------------------------------------------------------------


def known_params(world: World, routes: list[Route]) -> dict[str, list[Param]]:
    """Each URL's fields as the forms behind it declare them: the site's forms, or its admin's."""
    request = RequestFactory().get("/admin/")
    request.user = world.users[SUPERUSER]
    site = world.site_params()
    by_model = {
        model: world.admin_params(model, model_admin, request)
        for model, model_admin in admin.site._registry.items()
    }
    admin_site = merged(ADMIN_SITE_PARAMS)
    params = {}
    for route in routes:
        model = admin_model(route)
        params[route.key] = site if not route.is_admin else by_model[model] if model else admin_site
    return params


def test_request_plan_walks_every_url_for_every_role():
    routes = every_route()
    plan = request_plan(routes)

    assert len(plan) == TOTAL_REQUESTS
    assert {planned.route.key for planned in plan} == {route.key for route in routes}
    assert {planned.role for planned in plan} == set(ROLES)
    assert {planned.method for planned in plan} == {"GET", "POST"}
    chunks = [chunk_of(plan, chunk) for chunk in range(CHUNKS)]
    assert sum(len(entries) for chunk in chunks for entries in chunk.values()) == TOTAL_REQUESTS


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_fuzz_no_server_error_and_no_write_on_refusal(tenant, chunk):
    world = World(tenant)
    routes = every_route()
    chunk_plan = chunk_of(request_plan(routes), chunk)
    clients = {}
    for role in ROLES:
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(world.users[role])
    fuzz = Fuzz(world, clients, known_params(world, routes))

    for planned in chunk_plan.values():
        fuzz.run_route(planned)

    assert len(fuzz.sent) == sum(len(planned) for planned in chunk_plan.values())
    assert set(fuzz.sent) == set(chunk_plan)
    assert not fuzz.failures, f"{len(fuzz.failures)} failed requests:\n" + "\n".join(fuzz.failures)
