"""``{% service_name text %}``: a booking's service text as the active language shows it.

The lookup, one query per request at most, is ``core.service_names.service_name``.
"""

from django import template

from core import service_names

register = template.Library()


@register.simple_tag(takes_context=True)
def service_name(context: template.Context, text: str) -> str:
    """The catalogue's Arabic name of ``text`` on Arabic pages, else ``text`` (escaped as usual)."""
    return service_names.service_name(getattr(context, "request", None), text)
