"""Which pages log their reads, declared once: ``logs_access`` in the URL confs, ``AccessLoggedAdminMixin``
on the admins of patient and clinical models.

One row (``core.AccessLog``, written by ``core.access_log.record_access``) per request, after
the page has answered:

- a page shown (2xx): ``view`` - or ``break_glass`` when the read was allowed only by a
  break-the-glass grant - with the object's type and id and, for a page about one child,
  that child; a list or search names no child and keeps its query in ``object_id``;
- a refusal (403 or 404, answered or raised as ``PermissionDenied`` / ``Http404``):
  ``denied``, under the requesting user's organisation, with the id that was asked for and
  no patient - never the patient of another organisation the id may belong to;
- a redirect or any other answer: nothing. A one-click action that changes state and
  redirects shows no data; the page it redirects to logs its own read.

The patient is looked up only after a page answered, through the user's tenant scope
(``core.tenancy.for_user``), as a subquery of the row's INSERT: logging a page costs that
one statement. Views stash nothing for it; the admin mixin only notes on the request that
an object page found no object (Django answers that with a redirect, not a 404).

``config/tests/test_access_logging.py`` walks the URL conf and the admin site, so a page
showing patient data can't be added without logging.
"""

from collections.abc import Callable
from functools import partial, wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase

from core.access_log import read_under_break_glass, record_access
from core.models import AccessLog
from core.tenancy import for_user, tenant_path

# The attribute ``logs_access`` leaves on the view it wraps (its object type), for the URL-conf test.
ACCESS_LOGGED = "access_logged"
# Set on a request whose admin object page looked its object up and found none.
OBJECT_NOT_FOUND = "access_log_object_not_found"

PatientRef = int | Subquery | None
PatientLookup = Callable[[HttpRequest, dict[str, Any]], PatientRef]
ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])
ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


def url_patient(request: HttpRequest, kwargs: dict[str, Any]) -> int:
    """The page is about the patient its URL names (a page that answered found them in scope)."""
    return int(kwargs["pk"])


def scoped_value(model: type[Model], request: HttpRequest, pk: object, path: str) -> Subquery:
    """``path`` of row ``pk`` of ``model``, if the user may see that row, as a subquery."""
    rows = for_user(model._default_manager.filter(pk=pk), request.user)
    return Subquery(rows.order_by().values(path)[:1])


def patient_of(model: type[Model], path: str = "patient") -> PatientLookup:
    """The patient of the ``model`` row the URL names (``pk``), reached through ``path``."""

    def lookup(request: HttpRequest, kwargs: dict[str, Any]) -> Subquery:
        return scoped_value(model, request, kwargs["pk"], path)

    return lookup


def listed_query(request: HttpRequest, kwargs: dict[str, Any]) -> str:
    """What a list or search was asked for: the URL's own parameters (a session's id), then its query."""
    parts = [urlencode(sorted(kwargs.items())), request.GET.urlencode()]
    return "&".join(part for part in parts if part)


def read_action(request: HttpRequest) -> AccessLog.Action:
    return AccessLog.Action.BREAK_GLASS if read_under_break_glass(request.user) else AccessLog.Action.VIEW


def shown(response: HttpResponseBase) -> bool:
    return 200 <= response.status_code < 300


def refused(response: HttpResponseBase) -> bool:
    return response.status_code in (403, 404)


def record_denied(request: HttpRequest, object_type: str, object_id: object) -> None:
    """A refused attempt: the requesting user's organisation, the id asked for, no patient."""
    record_access(request, action=AccessLog.Action.DENIED, object_type=object_type, object_id=object_id)


def logged_response(
    request: HttpRequest,
    view: Callable[[], ResponseT],
    *,
    object_type: str,
    object_id: object,
    patient: Callable[[], PatientRef] | None = None,
    tenant: Callable[[], Subquery | None] | None = None,
    action: AccessLog.Action | None = None,
) -> ResponseT:
    """Run ``view`` and write the row its answer calls for (see the module docstring); ``action``
    replaces ``view`` for a page shown as a file (``export``) or for paper (``print``)."""
    try:
        response = view()
    except (Http404, PermissionDenied):
        record_denied(request, object_type, object_id)
        raise
    if getattr(request, OBJECT_NOT_FOUND, False) or refused(response):
        record_denied(request, object_type, object_id)
    elif shown(response):
        record_access(
            request,
            action=action or read_action(request),
            object_type=object_type,
            object_id=object_id,
            patient_id=patient() if patient is not None else None,
            tenant_id=tenant() if tenant is not None else None,
        )
    return response


def logs_access(
    object_type: str,
    *,
    patient: PatientLookup | None = None,
    listing: bool = False,
    action: AccessLog.Action | None = None,
) -> Callable[[ViewT], ViewT]:
    """View decorator, applied in the URL confs: each request to the page writes one access-log row.

    ``object_type`` names what the URL's ``pk`` is (``"appointment"``); it may name other URL
    parameters in braces (``"{specialty}_note"``). ``patient`` finds the child a page is about
    (``url_patient``, ``patient_of(Model)``); none for pages about many children. With
    ``listing`` the page is a list or search: ``object_id`` is its query, and no patient. ``action``
    logs a page that answered as ``export`` (a file download) or ``print`` rather than ``view``.
    """

    def decorator(view: ViewT) -> ViewT:
        @wraps(view)
        def logged(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            found = (lambda: patient(request, kwargs)) if patient is not None and not listing else None
            return logged_response(
                request,
                partial(view, request, *args, **kwargs),
                object_type=object_type.format(**kwargs),
                object_id=listed_query(request, kwargs) if listing else kwargs.get("pk", ""),
                patient=found,
                action=action,
            )

        setattr(logged, ACCESS_LOGGED, object_type)
        return cast(ViewT, logged)

    return decorator


class AccessLoggedAdminMixin(admin.ModelAdmin):
    """First in the bases of the admin of a patient or clinical model: its pages log their reads.

    The change, history, version and delete pages of an object write one row each
    (``object_type`` the model's label, ``core.patient``), the list one row with its query
    (``core.patient_list``); an object of another organisation, or none, is ``denied``.
    ``access_log_patient_path`` leads from the model to its patient (``"pk"`` for the patient
    itself; None for rows about many children, such as a group session).
    """

    access_log_patient_path: str | None = "patient"

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Model | None:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            setattr(request, OBJECT_NOT_FOUND, True)
        return obj

    def logged_object_page(
        self, request: HttpRequest, object_id: str, view: Callable[[], HttpResponse]
    ) -> HttpResponse:
        pk = unquote(object_id)
        model = self.model
        return logged_response(
            request,
            view,
            object_type=model._meta.label_lower,
            object_id=pk,
            patient=partial(self.logged_patient, request, pk),
            tenant=partial(self.logged_tenant, request, pk),
        )

    def logged_patient(self, request: HttpRequest, pk: str) -> PatientRef:
        path = self.access_log_patient_path
        if path is None:
            return None
        if path == "pk":
            # The patient's own page (its history too, once deleted): the id is the patient's.
            return self.model._meta.pk.to_python(pk)
        return scoped_value(self.model, request, pk, path)

    def logged_tenant(self, request: HttpRequest, pk: str) -> Subquery | None:
        """A superuser reads in admin outside any organisation: their row goes to the object's."""
        path = tenant_path(self.model)
        if not request.user.is_superuser or path is None:
            return None
        return scoped_value(self.model, request, pk, path)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return logged_response(
            request,
            partial(super().changelist_view, request, extra_context),
            object_type=f"{self.model._meta.label_lower}_list",
            object_id=listed_query(request, {}),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        view = partial(super().change_view, request, object_id, form_url, extra_context)
        return self.logged_object_page(request, object_id, view)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        view = partial(super().history_view, request, object_id, extra_context)
        return self.logged_object_page(request, object_id, view)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        view = partial(super().delete_view, request, object_id, extra_context)
        return self.logged_object_page(request, object_id, view)

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # simple-history's version page (the admins of historied models have one).
        view = partial(super().history_form_view, request, object_id, version_id, extra_context)  # type: ignore[misc]
        return self.logged_object_page(request, object_id, view)


def logged_autocomplete(
    site: admin.AdminSite, request: HttpRequest, view: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """The admin's autocomplete is a search: one row when it searched a logged admin's rows.

    A refused autocomplete names no rows it could have searched, so it writes nothing.
    """
    response = view(request)
    if shown(response):
        _term, model_admin, _field, _to_field = AutocompleteJsonView(admin_site=site).process_request(request)
        if isinstance(model_admin, AccessLoggedAdminMixin):
            record_access(
                request,
                action=read_action(request),
                object_type=f"{model_admin.model._meta.label_lower}_list",
                object_id=listed_query(request, {}),
            )
    return response
