"""Admin pages that answer ids typed or forged as junk with a form error or a 404, never a crash.

Django admin and simple-history pass some ids from the request to a query as they
come, and an id that is not a number (``abc``, ``1.5``, a NUL) fails that query with a
``ValueError``:

- the autocomplete widget looks the selected value up to show its label (``?patient=abc``
  on an add page, or ``patient=abc`` posted back): ``ReadableAutocompleteSelect`` looks
  up only the values the target field can read, and the form reports the others
  ("Select a valid choice");
- simple-history's history page looks the object id of its URL up:
  ``ReadableIdsAdminMixin.history_view`` answers 404 for one that can't be a primary key;
- an action filters the rows by the ticked ids (``_selected_action``): such a tick selects
  nothing, so Django says that no item was selected;
- the change and delete pages look their object up by the field ``_to_field`` names, and
  an empty one names no field: it means the primary key here;
- a list filter's value goes to the query as typed, and PostgreSQL refuses a NUL in text:
  such a filter is a bad request (400), as any lookup the admin doesn't allow.
"""

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import Field
from django.http import Http404


def readable(field: Field, value: object) -> bool:
    """Whether ``field`` can read ``value`` (an id typed as "abc" can't be a primary key)."""
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


class ReadableAutocompleteSelect(AutocompleteSelect):
    """AutocompleteSelect leaving out of its label lookup the values the target field can't read."""

    def optgroups(self, name, value, attr=None):
        remote = self.field.remote_field
        target = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        return super().optgroups(name, [choice for choice in value if readable(target, choice)], attr)


class ReadableAutocompleteAdminMixin(BaseModelAdmin):
    """For a ModelAdmin or an inline: its ``autocomplete_fields`` use ReadableAutocompleteSelect."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ReadableAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadableIdsAdminMixin(admin.ModelAdmin):
    """For a ModelAdmin: history pages and actions read only ids that can be primary keys, and an
    empty ``_to_field`` means the primary key (Django looks up a field named "" and fails)."""

    def get_object(self, request, object_id, from_field=None):
        return super().get_object(request, object_id, from_field or None)

    def lookup_allowed(self, lookup, value, request=None):
        if "\x00" in str(value):
            return False
        return super().lookup_allowed(lookup, value, request)

    def history_view(self, request, object_id, extra_context=None):
        if not readable(self.model._meta.pk, unquote(object_id)):
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def response_action(self, request, queryset):
        ticked = request.POST.getlist(ACTION_CHECKBOX_NAME)
        ids = [pk for pk in ticked if readable(self.model._meta.pk, pk)]
        if ids != ticked:
            request.POST = request.POST.copy()
            request.POST.setlist(ACTION_CHECKBOX_NAME, ids)
        return super().response_action(request, queryset)
