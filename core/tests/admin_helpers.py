"""Helpers for admin tests: the data a change form would post back, messages, URLs."""

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.models import Permission
from django.forms import MultiWidget
from django.urls import reverse
from simple_history.models import HistoricalChanges

from core.models import User
from core.tests.factories import UserFactory


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def concrete_models(app_label: str) -> list[type]:
    """The app's own models, without the history tables simple-history generates."""
    return [
        model
        for model in apps.get_app_config(app_label).get_models()
        if not issubclass(model, HistoricalChanges)
    ]


def registered_admins(app_label: str, site: AdminSite = admin.site) -> dict[type, admin.ModelAdmin]:
    return {
        model: model_admin
        for model, model_admin in site._registry.items()
        if model._meta.app_label == app_label
    }


def form_data(response) -> dict[str, str]:
    """What the rendered change form would post back unchanged: fields, inlines, management forms."""
    data: dict[str, str] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(field.widget, MultiWidget):
                parts = field.widget.decompress(value)
                for suffix, part in zip(field.widget.widgets_names, parts, strict=True):
                    data[key + suffix] = "" if part is None else str(part)
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            else:
                data[key] = "on" if value is True else str(value)
    return data


def message_texts(response) -> list[str]:
    """The messages shown on a page the test client followed a redirect to."""
    return [str(message) for message in response.context["messages"]]


def tenant_admin_staff(tenant, username: str = "tenantadmin") -> User:
    """A non-superuser staff member of ``tenant`` holding every model permission of our apps."""
    user = UserFactory(username=username, tenant=tenant, role=User.Role.ADMIN, is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["core", "appointments", "psychology", "ot", "aba"]
        )
    )
    return user
