"""How the staff pages show dates, times and fragments of another script, in either language.

- ``{% time_range start end %}``: "10:00–11:00" that reads left to right on an Arabic page too.
  An en dash between two numbers is a neutral character, so in a right-to-left sentence the
  bidi algorithm would show the end first ("11:00–10:00"); a left-to-right ``<bdi>`` keeps it.
- ``{% hijri_date day %}``: the Umm al-Qura date in brackets, for a user whose organisation shows
  Hijri dates (``Tenant.show_hijri_dates``), else nothing; nothing either outside the table.
- ``{{ value|bdi }}``: a name or number isolated inside a translated sentence (``core/bidi.py``).
"""

import datetime

from django import template
from django.utils.formats import time_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core import bidi, clock
from core.hijri import hijri_text, shows_hijri_dates, to_hijri

register = template.Library()


@register.simple_tag
def time_range(start: datetime.time, end: datetime.time) -> SafeString:
    return format_html(
        '<bdi dir="ltr" class="time-range">{}–{}</bdi>', time_format(start, "H:i"), time_format(end, "H:i")
    )


@register.simple_tag(takes_context=True)
def hijri_date(context: template.Context, day: datetime.date | datetime.datetime | None) -> SafeString | str:
    request = context.get("request")
    if day is None or request is None or not shows_hijri_dates(request.user):
        return ""
    hijri = to_hijri(clock.local_day(day))
    if hijri is None:
        return ""
    return format_html(
        '<bdi class="hijri-date" title="{}" data-hijri-date="{}">({})</bdi>',
        _("Hijri date (Umm al-Qura)"),
        hijri.isoformat(),
        hijri_text(hijri, (get_language() or "").split("-")[0]),
    )


@register.filter
def bdi(value: object) -> SafeString:
    return bidi.isolate(value)
