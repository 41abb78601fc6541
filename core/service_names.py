"""The organisation's catalogue of service names (``core.ServiceName``) on pages and booking forms.

``service_type`` stays free text on every booking (the seed's contract). The booking forms
offer the catalogue's active names as suggestions (``ServiceNameInput``), and Arabic pages
show the Arabic name of a text that matches an entry's English name, trimmed and in any
letter case (``service_name``, the ``{% service_name %}`` tag of ``core.templatetags.service_names``).
"""

import json
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from core.models import Clinic, ServiceName

# The request attribute keeping the organisation's Arabic names for the rest of the request.
ARABIC_NAMES_ATTRIBUTE = "_service_names_arabic"


def match_key(text: str) -> str:
    """What a service text and a catalogue name are compared by: trimmed, in any letter case."""
    return text.strip().casefold()


def _arabic_is_active() -> bool:
    return (get_language() or "").startswith("ar")


def arabic_names(user: Any) -> dict[str, str]:
    """The Arabic name of each entry of ``user``'s organisation that has one, by ``match_key`` of
    its English name. Entries no longer offered still name the bookings made with them."""
    rows = ServiceName.objects.for_user(user).exclude(name_ar="").values_list("name_en", "name_ar")
    return {match_key(english): arabic for english, arabic in rows}


def service_name(request: HttpRequest | None, text: str) -> str:
    """``text`` as the active language shows it: the catalogue's Arabic name on Arabic pages.

    One query per request at most: the first Arabic name asked for reads the catalogue and
    keeps it on the request; English pages read nothing.
    """
    if not text or request is None or not _arabic_is_active():
        return text
    names: dict[str, str] | None = getattr(request, ARABIC_NAMES_ATTRIBUTE, None)
    if names is None:
        names = arabic_names(request.user)
        setattr(request, ARABIC_NAMES_ATTRIBUTE, names)
    return names.get(match_key(text), text)


class ServiceNameInput(forms.TextInput):
    """A free-text service type with the catalogue's active names offered in a ``<datalist>``.

    Each name carries its specialty (blank: every clinic) and the list the specialty of each
    clinic of the form, so that ``static/js/service_names.js`` keeps the chosen clinic's names.
    Arabic pages label each English name with its Arabic one.
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.offered: QuerySet[ServiceName] = ServiceName.objects.none()
        self.clinics: QuerySet[Clinic] = Clinic.objects.none()

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        entries = list(self.offered)
        if not entries:
            return super().render(name, value, attrs, renderer)
        list_id = f"{(attrs or {}).get('id') or name}-names"
        field = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        arabic = _arabic_is_active()
        options = format_html_join(
            "",
            '<option value="{}" data-specialty="{}">{}</option>',
            ((entry.name_en, entry.specialty, entry.name_ar if arabic else "") for entry in entries),
        )
        specialties = json.dumps(
            {str(pk): specialty for pk, specialty in self.clinics.values_list("pk", "specialty")}
        )
        return format_html(
            '{}<datalist id="{}" data-clinic-specialties="{}">{}</datalist>',
            field,
            list_id,
            specialties,
            options,
        )


def offer_service_names(field: forms.Field, user: Any, clinics: QuerySet[Clinic]) -> None:
    """Make ``field`` offer the active names of ``user``'s catalogue that suit one of ``clinics``
    (those of their specialties and those for every clinic). Read when the field is drawn."""
    widget = ServiceNameInput(field.widget.attrs)
    widget.offered = (
        ServiceName.objects.for_user(user)
        .filter(is_active=True)
        .filter(Q(specialty="") | Q(specialty__in=clinics.values("specialty")))
    )
    widget.clinics = clinics
    field.widget = widget
