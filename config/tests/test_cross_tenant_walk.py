"""The cross-tenant walk: every admin and staff URL, with tenant B's ids, as a tenant-A user of every role.

Tenant B's rows (and their history) carry a canary in every text field
(``config/tests/tenant_worlds.py``). Signed in as tenant A's administrator (staff, not a
superuser), front desk, finance or clinician - each of them staff and holding every
permission of Django's tables, so only the code's rules stand between them and B - the
walk requests:

- every admin URL of every model in ``admin.site._registry`` (changelist, with each list
  filter's choices and B's ids as query strings, and each action posted on B's rows;
  add, with B's ids as initial values and posted; change, history, version
  (history-detail, where simple-history reverts), delete, password, the object
  redirect, autocomplete of every relation, "view on site") and every site URL;
- every staff URL the resolver knows (``core.tests.test_views_access.walked_urls``),
  GET and POST, with B's rows and B's ids in the form data.

It fails when a response shows a canary (B's text, B's code in a number), when any of
B's rows (history included) or the platform's groups changed, when a row of A points
at a row of B, when another organisation's id is answered otherwise than an unknown
id, and - positive control, so the walk can't pass because everything is refused -
when the same pages with A's ids don't answer the roles that may use them. A model
the admin registers without a row in the worlds, an admin URL it doesn't know or a
staff URL ``url_for`` can't fill fails it too, so later models and pages are walked.
"""

import datetime
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Model, Q
from django.forms import ModelChoiceField
from django.test import Client
from django.urls import URLPattern, resolve, reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from appointments.models import Session
from config.tests.tenant_worlds import CANARY, PLAIN, WALKED_ROLES, World, build_world, missing_canaries
from core.models import AuditSeal, Clinic, Patient, Provider, Room, User
from core.tenancy import tenant_path
from core.tests.admin_helpers import form_data
from core.tests.test_views_access import MATRIX, url_for, walked_urls
from core.tests.view_helpers import superuser

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
log = logging.getLogger(__name__)

PROJECT_APPS = ("core", "appointments", "psychology", "ot", "aba")
CANARY_RE = re.compile(r"canary[\w-]*", re.IGNORECASE)
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
ID_RE = re.compile(r"\d{6,}")  # B's ids (from B_IDS_FROM) and MISSING_ID; A's are short
MISSING_ID = "987654321"
# Signing out would end the walk's session; it shows and changes no organisation's rows.
STAFF_URLS_NOT_WALKED = {"logout"}
ADMIN_SITE_URLS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
    None,  # the catch-all
}
ADMIN_MODEL_URLS = {
    "changelist",
    "add",
    "change",
    "history",
    "delete",
    "simple_history",
    "password",
    "redirect",
    "export",  # the audit pages' CSV of their list (core.audit_admin)
    "config",  # django-otp's device secret and QR code pages (refused: OTP_ADMIN_HIDE_SENSITIVE_DATA)
    "qrcode",
}


# What the walk saw --------------------------------------------------------------------------------


@dataclass
class Walk:
    client: Client
    role: str
    requests: int = 0
    urls: set[str] = field(default_factory=set)
    leaks: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    refused_controls: list[str] = field(default_factory=list)

    def request(self, method: str, url: str, data: Any = None, sent: Iterable[Any] = ()) -> Any:
        self.requests += 1
        self.urls.add(url.split("?")[0])
        # Each response is judged with the messages it adds, not those still waiting from earlier ones.
        self.client.cookies.pop("messages", None)
        response = getattr(self.client, method)(url, data or {})
        found = canaries(response, [*_flat(data), *sent])
        if found:
            self.leaks.append(f"{self.role} {method.upper()} {url}: {sorted(found)}")
        return response

    def same_as_missing(
        self, method: str, url: str, missing_url: str, foreign: Any, data: Any = None
    ) -> None:
        """Another organisation's id must be answered as an unknown one (ids blanked out)."""
        missing = self.request(method, missing_url, data)
        if shape(foreign) != shape(missing):
            self.mismatches.append(f"{self.role} {method.upper()} {url}: {difference(foreign, missing)}")


def _flat(data: Any) -> list[str]:
    if not data:
        return []
    values = data.values() if isinstance(data, dict) else [data]
    return [str(item) for value in values for item in (value if isinstance(value, list) else [value])]


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def canaries(response, sent: Iterable[str]) -> set[str]:
    """Canaries in what the user gets: body, redirect and messages (the request's own values aside)."""
    content = b"" if getattr(response, "streaming", False) else response.content
    shown = " ".join(
        [content.decode(errors="replace"), response.get("Location", ""), *message_texts(response)]
    )
    for value in sorted({value for value in sent if value}, key=len, reverse=True):
        shown = shown.replace(value, "")
    return set(CANARY_RE.findall(shown))


def shape(response) -> tuple:
    """A response with B's ids and the unknown id (and the CSRF token) blanked out: what an unknown
    id must look like too."""

    def blank(text: str) -> str:
        return CSRF_RE.sub("csrf", ID_RE.sub("<id>", text))

    body = "" if response.status_code in (301, 302) else blank(response.content.decode(errors="replace"))
    return (
        response.status_code,
        blank(response.get("Location", "")),
        [blank(text) for text in message_texts(response)],
        body,
    )


def difference(foreign, missing) -> str:
    """Where the answer to another organisation's id differs from the answer to an unknown id."""
    for part, left, right in zip(
        ("status", "location", "messages", "body"),
        shape(foreign),
        shape(missing),
        strict=True,
    ):
        if left != right:
            if part != "body":
                return f"{part} {left!r} != {right!r}"
            at = next(index for index, (x, y) in enumerate(zip(left, right, strict=False)) if x != y)
            return f"body {left[at - 60 : at + 60]!r} != {right[at - 60 : at + 60]!r}"
    return "same"


# B's rows, before and after -----------------------------------------------------------------------


def tables() -> list[type[Model]]:
    """Every table of the project that belongs to an organisation (the audit seals belong to none)."""
    return [
        model
        for app_label in PROJECT_APPS
        for model in apps.get_app_config(app_label).get_models(include_auto_created=True)
        if tenant_path(model) is not None
    ]


def digest(rows) -> str:
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


def tenant_snapshot(world: World) -> dict[str, str]:
    """A digest of each table's rows of the tenant (history, many-to-many included), and of the groups."""
    snapshot = {
        model._meta.label: digest(
            model._base_manager.filter(**{tenant_path(model): world.tenant.pk}).order_by("pk").values()
        )
        for model in tables()
    }
    snapshot["auth.Group"] = digest(Group.objects.order_by("pk").values())
    snapshot["auth.Group.permissions"] = digest(Group.permissions.through.objects.order_by("pk").values())
    return snapshot


def links_into(own: World, other: World) -> list[str]:
    """Rows of ``own`` whose foreign keys point at rows of ``other`` (the history's acting user aside)."""
    found = []
    for model in tables():
        for column in model._meta.concrete_fields:
            target = column.related_model
            if not column.is_relation or column.name == "history_user" or target is None:
                continue
            target_path = tenant_path(target)
            if target_path is None:
                continue
            # Two conditions, not one dict: a row's own path may start with this very column.
            rows = model._base_manager.filter(
                Q(**{tenant_path(model): own.tenant.pk}),
                Q(**{f"{column.name}__{target_path}": other.tenant.pk}),
            )
            if rows.exists():
                found.append(f"{model._meta.label}.{column.name}")
    return found


# The worlds ---------------------------------------------------------------------------------------


A_IDS_FROM = 1000  # A's ids: short
B_IDS_FROM = 700000  # B's ids: never A's, and long enough to blank out of a page unambiguously


def number_rows_from(first: int) -> None:
    """The next rows of every table get ids from ``first`` on (sequences outlive a test's rollback)."""
    with connection.cursor() as cursor:
        for model in [
            *tables(),
            Group,
            TOTPDevice,
            StaticDevice,
            AccessAttempt,
            AxesAccessLog,
            AccessFailureLog,
            AuditSeal,
        ]:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                [model._meta.db_table, model._meta.pk.column, first],
            )


@pytest.fixture
def worlds(frozen_today) -> tuple[World, World]:
    """Tenant A (plain, ids from ``A_IDS_FROM``), then tenant B (canaries, ids from ``B_IDS_FROM``)."""
    number_rows_from(A_IDS_FROM)
    a = build_world(PLAIN, frozen_today)
    number_rows_from(B_IDS_FROM)
    return a, build_world(CANARY, frozen_today)


def test_tenant_b_carries_a_canary_in_every_text_field(worlds):
    _a, b = worlds

    def b_rows(model):
        return list(model._base_manager.filter(**{tenant_path(model): b.tenant.pk}).values())

    project_models = [model for model in tables() if not model._meta.auto_created]
    assert missing_canaries(project_models, b_rows) == []


# The admin walk -----------------------------------------------------------------------------------


def admin_url_kind(model: type[Model], pattern: URLPattern) -> str | None:
    if pattern.name is None:
        return "redirect" if str(pattern.pattern) == "<path:object_id>/" else None
    if pattern.name == "auth_user_password_change":
        return "password"
    prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
    return pattern.name.removeprefix(prefix) if pattern.name.startswith(prefix) else None


def admin_urls(model: type[Model], model_admin: admin.ModelAdmin, row: Model | None, version: Any) -> dict:
    """Each admin URL of ``model`` for ``row`` (None: an unknown id), by kind."""
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    pk = MISSING_ID if row is None else str(row.pk)
    history_id = MISSING_ID if version is None else str(version)
    urls = {}
    for pattern in model_admin.get_urls():
        kind = admin_url_kind(model, pattern)
        assert kind in ADMIN_MODEL_URLS, (
            f"teach the walk the admin URL {pattern.name or pattern.pattern} of {model}"
        )
        urls[kind] = {
            "changelist": lambda: reverse(f"{info}_changelist"),
            "add": lambda: reverse(f"{info}_add"),
            "change": lambda: reverse(f"{info}_change", args=[pk]),
            "history": lambda: reverse(f"{info}_history", args=[pk]),
            "delete": lambda: reverse(f"{info}_delete", args=[pk]),
            "simple_history": lambda: reverse(f"{info}_simple_history", args=[pk, history_id]),
            "password": lambda: reverse("admin:auth_user_password_change", args=[pk]),
            "redirect": lambda: reverse(f"{info}_changelist") + f"{pk}/",
            "export": lambda: reverse(f"{info}_export"),
            "config": lambda: reverse(f"{info}_config", args=[pk]),
            "qrcode": lambda: reverse(f"{info}_qrcode", args=[pk]),
        }[kind]()
    return urls


def latest_version(row: Model) -> Any:
    """The id of ``row``'s latest history row (None for a model without history)."""
    attribute = getattr(row._meta, "simple_history_manager_attribute", None)
    return getattr(row, attribute).latest().history_id if attribute else None


def model_choice_fields(response) -> dict[str, type[Model]]:
    """The posted names of a change form's fields that pick rows, with the model they pick."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.extend(inline.formset.forms)
    return {
        form.add_prefix(name): form_field.queryset.model
        for form in forms
        for name, form_field in form.fields.items()
        if isinstance(form_field, ModelChoiceField) and form_field.queryset is not None
    }


def pointed_at(data: dict, choices: dict[str, type[Model]], world: World) -> dict:
    """``data`` with every row it picks replaced by ``world``'s row of the same model."""
    pointed = dict(data)
    for name, model in choices.items():
        if name in pointed and model in world.rows:
            value = str(world.rows[model].pk)
            pointed[name] = [value] if isinstance(pointed[name], list) else value
    return pointed


def twin_forms(a: World, b: World) -> dict[type[Model], dict]:
    """For each model: what A's row's change form posts back, pointed at B's rows (read as a superuser).

    A platform model (no tenant: a group) has its one row in B's world.
    """
    root = Client()
    root.force_login(superuser())
    forms = {}
    for model in admin.site._registry:
        source = a.rows.get(model) or b.row(model)
        response = root.get(
            reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[source.pk])
        )
        assert response.status_code == 200, model
        forms[model] = pointed_at(form_data(response), model_choice_fields(response), b)
    return forms


def relation_fields(model: type[Model]) -> list[str]:
    return [
        column.name
        for column in model._meta.get_fields()
        if column.concrete and (column.many_to_one or column.one_to_one or column.many_to_many)
    ]


def walk_admin_model(
    walk: Walk, model, model_admin, a: World, b: World, posted: dict, is_admin: bool
) -> None:
    foreign_row = b.row(model)
    urls = admin_urls(model, model_admin, foreign_row, latest_version(foreign_row))
    missing = admin_urls(model, model_admin, None, None)
    ids = [str(row.pk) for row in b.rows.values()]

    # The changelist: as it is, with each filter's choices, with B's ids, with actions on B's rows.
    changelist = walk.request("get", urls["changelist"])
    queries = []
    if changelist.status_code == 200:
        cl = changelist.context["cl"]
        for spec in cl.filter_specs:
            queries.extend(choice["query_string"] for choice in spec.choices(cl))
            related = getattr(getattr(spec, "field", None), "related_model", None)
            if related in b.rows and hasattr(spec, "lookup_kwarg"):
                queries.append(f"?{spec.lookup_kwarg}={b.rows[related].pk}")
        action_form = changelist.context["action_form"]
        offered = action_form.fields["action"].choices if action_form is not None else []
        actions = [name for name, _label in offered if name] or ["delete_selected"]
    else:
        actions = ["delete_selected"]
    for query in queries:
        walk.request("get", urls["changelist"] + query, sent=ids)
    for action in actions:
        walk.request(
            "post",
            urls["changelist"],
            {"action": action, "_selected_action": [str(foreign_row.pk)], "index": "0", "post": "yes"},
        )

    # Add: B's ids as initial values (when the page answers the role at all), then posted.
    if walk.request("get", urls["add"]).status_code == 200:
        for name in relation_fields(model):
            related = model._meta.get_field(name).related_model
            if related in b.rows:
                walk.request("get", urls["add"] + f"?{name}={b.rows[related].pk}", sent=ids)
    walk.request("post", urls["add"], posted, sent=ids)

    # Every page of B's row, GET and POST: refused exactly as an unknown id is.
    posts = {
        "change": posted,
        "simple_history": posted,
        "delete": {"post": "yes"},
        "password": {
            "password1": "a-Long-pass-9021",
            "password2": "a-Long-pass-9021",
            "usable_password": "true",
        },
        "history": {},
        "redirect": {},
        "config": {},
        "qrcode": {},
    }
    for kind, data in posts.items():
        if kind not in urls:
            continue
        for method, payload in (("get", None), ("post", data)):
            foreign = walk.request(method, urls[kind], payload, sent=ids)
            if is_admin:
                walk.same_as_missing(method, urls[kind], missing[kind], foreign, payload)

    # "View on site".
    content_type = ContentType.objects.get_for_model(model)
    on_site = reverse("admin:view_on_site", args=[content_type.pk, foreign_row.pk])
    foreign = walk.request("get", on_site)
    if is_admin:
        walk.same_as_missing(
            "get", on_site, reverse("admin:view_on_site", args=[content_type.pk, MISSING_ID]), foreign
        )

    # Autocomplete of each of the model's relations to a model with a searchable admin (for a
    # role refused the admin, only the first).
    for name in relation_fields(model):
        related_admin = admin.site._registry.get(model._meta.get_field(name).related_model)
        if related_admin is not None and related_admin.search_fields:
            query = (
                f"?app_label={model._meta.app_label}&model_name={model._meta.model_name}&field_name={name}"
            )
            answer = walk.request("get", reverse("admin:autocomplete") + query)
            if not is_admin and answer.status_code == 403:
                break


def control_admin_model(walk: Walk, model, model_admin, a: World, request, is_admin: bool) -> None:
    """A's own row: the pages the administrator may use answer; every other role is refused."""
    own_row = a.row(model)
    urls = admin_urls(model, model_admin, own_row, latest_version(own_row))
    may = {
        "changelist": True,
        "add": model_admin.has_add_permission(request),
        "change": True,
        "history": True,
        "delete": model_admin.has_delete_permission(request, own_row),
        "simple_history": isinstance(model_admin, SimpleHistoryAdmin) and model_admin.history_revert,
        "password": model_admin.has_change_permission(request, own_row),
        "redirect": True,
        "export": True,
    }
    change = urls["change"]
    for kind, url in urls.items():
        response = walk.request("get", url)
        # The object redirect sends everyone to the change page (which answers as above); a page
        # refusing the row by a rule of its own (deleting a signed note) sends the admin back there.
        if kind == "redirect":
            answered = response.status_code == 302
        elif response.get("Location") == change:
            answered = True
        else:
            answered = response.status_code == (200 if is_admin and may[kind] else 403)
        if not answered:
            walk.refused_controls.append(f"{walk.role} GET {url}: {response.status_code}")


def walk_admin_site(walk: Walk, is_admin: bool) -> None:
    site_urls = {pattern.name for pattern in admin.site.get_urls() if isinstance(pattern, URLPattern)}
    assert site_urls <= ADMIN_SITE_URLS, f"teach the walk the admin site URLs {site_urls - ADMIN_SITE_URLS}"
    app_labels = {model._meta.app_label for model in admin.site._registry}
    for url in [
        reverse("admin:index"),
        reverse("admin:password_change"),
        reverse("admin:password_change_done"),
        reverse("admin:jsi18n"),
        reverse("admin:login"),
        "/admin/no-such-page/",
        *(reverse("admin:app_list", args=[label]) for label in app_labels),
    ]:
        walk.request("get", url)
    index = walk.client.get(reverse("admin:index"))
    walk.requests += 1
    listed = (
        {entry["app_label"] for entry in index.context["app_list"]} if index.status_code == 200 else set()
    )
    expected = {label for label in app_labels if label in PROJECT_APPS} if is_admin else set()
    if listed != expected:
        walk.refused_controls.append(
            f"{walk.role} admin index lists {sorted(listed)}, expected {sorted(expected)}"
        )


# The staff walk -----------------------------------------------------------------------------------


def staff_form(world: World, day) -> dict[str, str]:
    """Plausible input of any staff form, naming ``world``'s rows."""
    rows = world.rows
    return {
        "patient": str(rows[Patient].pk),
        "clinic": str(rows[Clinic].pk),
        "provider": str(rows[Provider].pk),
        "room": str(rows[Room].pk),
        "session": str(rows[Session].pk),
        "tenant": str(world.tenant.pk),
        "max_capacity": "6",
        "group_notes": "walked",
        "reason": "walked",
        "text": "walked",
        "consent_type": "general",
        "signed_by": "walked",
        "scheduled_date": day.isoformat(),
        "scheduled_time": "18:00",
        "duration": "60",
        "service_type": "walked",
        "date_from": day.isoformat(),
        "date_to": day.isoformat(),
        "start": day.isoformat(),  # the week calendar's feed: a week from ``day``
        "end": (day + datetime.timedelta(days=7)).isoformat(),
        "day": day.isoformat(),
        "signed_on": day.isoformat(),
        "q": "",
        "next": "/",
    }


def staff_urls(world: World) -> dict[str, list[str]]:
    """Each staff URL name with its URLs for ``world``'s rows (every discipline's note for a note URL)."""
    urls = {}
    for name, pattern in walked_urls().items():
        if name in STAFF_URLS_NOT_WALKED:
            continue
        if "specialty" in pattern.pattern.converters:
            urls[name] = [
                url_for(name, pattern, {**world.staff_rows(), "note": note}) for note in world.notes.values()
            ]
        else:
            urls[name] = [url_for(name, pattern, world.staff_rows())]
    return urls


def missing_staff_url(url: str) -> str:
    """``url`` with an unknown id in place of its row's."""
    match = resolve(url)
    return reverse(match.view_name, kwargs={**match.kwargs, "pk": int(MISSING_ID)})


def walk_staff(walk: Walk, a: World, b: World, day) -> None:
    data = staff_form(b, day)
    mrn = {**data, "patient": b.row(Patient).mrn}
    ids = [str(row.pk) for row in b.rows.values()]
    for name, urls in staff_urls(b).items():
        has_id = "pk" in walked_urls()[name].pattern.converters
        for url in urls:
            for method, payload in (("get", data), ("post", data), ("post", mrn)):
                foreign = walk.request(method, url, payload, sent=ids)
                if has_id and payload is not mrn:
                    walk.same_as_missing(method, url, missing_staff_url(url), foreign, payload)
    # The week calendar shows one owner at a time (all three at once it refuses): each of B's alone.
    for name in ("appointments:calendar_week", "appointments:calendar_events"):
        for owner in ("provider", "room", "clinic"):
            query = {"start": data["start"], "end": data["end"], "date": data["day"], owner: data[owner]}
            walk.request("get", reverse(name), query, sent=ids)


def control_staff(walk: Walk, a: World) -> None:
    """A's own rows: each page answers the roles the permission matrix gives it, and shows A's data."""
    for name, urls in staff_urls(a).items():
        method, allowed = MATRIX.get(name, ("public", ()))
        if method != "get":
            continue
        for url in urls[:1]:
            response = walk.request("get", url)
            ok = response.status_code in (200, 302) if walk.role in allowed else response.status_code == 403
            shows_row = (
                response.status_code != 200
                or "pk" not in walked_urls()[name].pattern.converters
                or "Alpha " in response.content.decode()
            )
            if not (ok and shows_row):
                walk.refused_controls.append(f"{walk.role} GET {url}: {response.status_code}")


# The walk -----------------------------------------------------------------------------------------


def walk_as(role: str, a: World, b: World, posted: dict, day, rf) -> Walk:
    """Every admin and staff URL with B's ids, then the positive control with A's, as A's ``role``."""
    user = a.users[role]
    client = Client()
    client.force_login(user)
    walk = Walk(client=client, role=role)
    is_admin = role == User.Role.ADMIN
    for model, model_admin in admin.site._registry.items():
        walk_admin_model(walk, model, model_admin, a, b, posted[model], is_admin)
    walk_admin_site(walk, is_admin)
    walk_staff(walk, a, b, day)
    request = rf.get("/")
    request.user = user
    for model, model_admin in admin.site._registry.items():
        if tenant_path(model) is not None:
            control_admin_model(walk, model, model_admin, a, request, is_admin)
    control_staff(walk, a)
    log.info(
        "walked as %s: %d URLs, %d requests, %d leaks", role, len(walk.urls), walk.requests, len(walk.leaks)
    )
    return walk


# Two tests of similar length, for the suite's two workers: the administrator (who gets past
# the admin's permissions, so walks its filters, forms and autocompletes), and everyone else.
ROLE_GROUPS = {
    "administrator": (User.Role.ADMIN,),
    "other-roles": tuple(role for role in WALKED_ROLES if role != User.Role.ADMIN),
}


@pytest.mark.parametrize("roles", ROLE_GROUPS.values(), ids=ROLE_GROUPS.keys())
def test_cross_tenant_walk(worlds, frozen_today, rf, roles):
    a, b = worlds
    before = tenant_snapshot(b)
    posted = twin_forms(a, b)

    walks = [walk_as(role, a, b, posted, frozen_today, rf) for role in roles]

    log.info(
        "cross-tenant walk of %s: %d URLs, %d requests, %d leaks",
        ", ".join(roles),
        len(set().union(*(walk.urls for walk in walks))),
        sum(walk.requests for walk in walks),
        sum(len(walk.leaks) for walk in walks),
    )
    assert [leak for walk in walks for leak in walk.leaks] == []
    assert [mismatch for walk in walks for mismatch in walk.mismatches] == []
    assert tenant_snapshot(b) == before
    assert links_into(a, b) == []
    assert [refusal for walk in walks for refusal in walk.refused_controls] == []
