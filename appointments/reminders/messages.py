"""The words of a message: a template's body filled in for one family, and its length.

Its entry points:

    ChildBooking(first_name: str, starts_at: datetime (aware), clinic_name: str)
    RenderedMessage(subject: str, body: str)
    render_message(template: MessageTemplate | None, *, purpose: str, channel: str,
                   language: str, tenant: Tenant, children: Sequence[ChildBooking],
                   link: str) -> RenderedMessage
        template None -> the built-in default words for that purpose and channel.
    message_length(text: str) -> MessageLength(characters: int, segments: int, unicode: bool)

Placeholders (``PLACEHOLDERS``): {first_name} (siblings' names joined with "and" / "و"),
{date} (weekday and day-first date), {hijri_date} (empty unless the tenant shows Hijri
dates), {time} (24-hour, ``TIME_ZONE``), {centre} (the tenant's name), {link}, and {clinic}
- the clinic's name, which tells what the child is treated for - only in a template with
``names_discipline``. The built-in words never name the clinic.
"""

import datetime
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from appointments.reminders.models import MessageTemplate
from core.hijri import hijri_text, to_hijri
from core.models import Guardian, Tenant, in_active_language

PLACEHOLDERS = ("first_name", "date", "hijri_date", "time", "centre", "link", "clinic")
# The one placeholder a template must opt in to (``MessageTemplate.names_discipline``).
DISCIPLINE_PLACEHOLDER = "clinic"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

Purpose = MessageTemplate.Purpose
Channel = Guardian.Channel

# The built-in words, per purpose, channel and language: (e-mail subject, body). Literal per
# language rather than gettext: a family's message must not change when a translation of the
# staff pages does. {date} here carries the Hijri date too where the tenant shows it.
DEFAULT_WORDS: Mapping[tuple[str, str], Mapping[str, tuple[str, str]]] = {
    (Purpose.REMINDER, Channel.SMS): {
        "en": (
            "",
            "{centre}: reminder of {first_name}'s session on {date} at {time}. Confirm or cancel: {link}",
        ),
        "ar": ("", "{centre}: موعد {first_name} يوم {date} الساعة {time}. للتأكيد أو الإلغاء: {link}"),
    },
    (Purpose.REMINDER, Channel.EMAIL): {
        "en": (
            "Reminder: {first_name}'s session on {date}",
            "Hello,\n\nThis is a reminder of {first_name}'s session at {centre} on {date} "
            "at {time}.\n\nPlease confirm or cancel here:\n{link}\n\n{centre}",
        ),
        "ar": (
            "تذكير: موعد {first_name} يوم {date}",
            "مرحبًا،\n\nنذكّركم بموعد {first_name} في {centre} يوم {date} الساعة {time}.\n\n"
            "للتأكيد أو الإلغاء:\n{link}\n\n{centre}",
        ),
    },
    (Purpose.MOVED, Channel.SMS): {
        "en": (
            "",
            "{centre}: {first_name}'s session has moved to {date} at {time}. Confirm or cancel: {link}",
        ),
        "ar": (
            "",
            "{centre}: تغيّر موعد {first_name} إلى يوم {date} الساعة {time}. للتأكيد أو الإلغاء: {link}",
        ),
    },
    (Purpose.MOVED, Channel.EMAIL): {
        "en": (
            "{first_name}'s session has moved",
            "Hello,\n\n{first_name}'s session at {centre} has moved to {date} at {time}. "
            "Earlier links no longer work.\n\nPlease confirm or cancel here:\n{link}\n\n{centre}",
        ),
        "ar": (
            "تغيّر موعد {first_name}",
            "مرحبًا،\n\nتغيّر موعد {first_name} في {centre} إلى يوم {date} الساعة {time}. "
            "الروابط السابقة لم تعد تعمل.\n\nللتأكيد أو الإلغاء:\n{link}\n\n{centre}",
        ),
    },
    (Purpose.SEAT_OFFERED, Channel.SMS): {
        "en": (
            "",
            "{centre}: a place opened for {first_name} on {date} at {time}. Confirm or cancel: {link}",
        ),
        "ar": ("", "{centre}: توفّر موعد لـ{first_name} يوم {date} الساعة {time}. للتأكيد أو الإلغاء: {link}"),
    },
    (Purpose.SEAT_OFFERED, Channel.EMAIL): {
        "en": (
            "A place for {first_name} on {date}",
            "Hello,\n\nA place opened for {first_name} at {centre} on {date} at {time}, "
            "and we have booked it.\n\nPlease confirm or cancel here:\n{link}\n\n{centre}",
        ),
        "ar": (
            "موعد لـ{first_name} يوم {date}",
            "مرحبًا،\n\nتوفّر موعد لـ{first_name} في {centre} يوم {date} الساعة {time} وقد حجزناه.\n\n"
            "للتأكيد أو الإلغاء:\n{link}\n\n{centre}",
        ),
    },
}

# A typical family's values, for the length shown in the template editor: a first name of
# common length, a weekday of the longer kind and a link as long as a real one.
SAMPLE_FIRST_NAME = {"en": "Mohammed", "ar": "محمد"}
SAMPLE_CLINIC = {"en": "Clinic", "ar": "العيادة"}
SAMPLE_CENTRE = {"en": "Children's Therapy Centre", "ar": "مركز علاج الأطفال"}
SAMPLE_START = datetime.datetime(2026, 12, 2, 16, 30, tzinfo=datetime.UTC)
# A signed token for one reminder row is about 90 characters.
SAMPLE_LINK_PATH = "/family/" + "x" * 90 + "/"

# GSM 03.38: a text in these characters goes as 7-bit, 160 to a message or 153 to each part
# of a longer one; the extension characters take two places. Any other character (Arabic)
# sends the whole text as UCS-2: 70, or 67 to each part.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "^{}\\[~]|€\f"
_GSM_BASIC = frozenset(GSM_BASIC)
_GSM_EXTENSION = frozenset(GSM_EXTENSION)


@dataclass(frozen=True)
class ChildBooking:
    """One child of the message: the first name, the booking's start (aware) and the clinic's name."""

    first_name: str
    starts_at: datetime.datetime
    clinic_name: str


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


@dataclass(frozen=True)
class MessageLength:
    """A text's length as a family's phone counts it: characters, SMS parts, and whether it is UCS-2."""

    characters: int
    segments: int
    unicode: bool


def message_language(language: str) -> str:
    """ "ar" for Arabic, "en" for every other language."""
    return "ar" if (language or "").startswith("ar") else "en"


def render_message(
    template: MessageTemplate | None,
    *,
    purpose: str,
    channel: str,
    language: str,
    tenant: Tenant,
    children: Sequence[ChildBooking],
    link: str,
) -> RenderedMessage:
    """The subject (e-mail only) and body of one message to one family about ``children``.

    Siblings share one message: their names are joined, and the date and time are those
    of the earliest booking. ``template`` None (or a blank subject) takes the built-in words.
    """
    if not children:
        raise ValueError("A message is about at least one child.")
    language = message_language(language)
    default_subject, default_body = DEFAULT_WORDS[(purpose, channel)][language]
    values = _values(language, tenant, children, link)
    if template is None:
        names_discipline = False
        subject, body = default_subject, default_body
        if values["hijri_date"]:
            values["date"] = f"{values['date']} ({values['hijri_date']})"
    else:
        names_discipline = template.names_discipline
        subject = (template.subject_ar if language == "ar" else template.subject_en) or default_subject
        body = template.body_ar if language == "ar" else template.body_en
    if not names_discipline:
        # A template saved around the form's check still never names the clinic.
        values[DISCIPLINE_PLACEHOLDER] = ""
    if channel != Channel.EMAIL:
        subject = ""
    return RenderedMessage(subject=_fill(subject, values), body=_fill(body, values))


def sample_values(language: str, tenant: Tenant | None = None) -> dict[str, str]:
    """A typical family's value of each placeholder: what the template editor measures a text with."""
    language = message_language(language)
    return _values(
        language,
        tenant,
        [ChildBooking(SAMPLE_FIRST_NAME[language], SAMPLE_START, SAMPLE_CLINIC[language])],
        settings.PUBLIC_BASE_URL.rstrip("/") + SAMPLE_LINK_PATH,
    )


def sample_message(text: str, *, language: str, tenant: Tenant | None = None) -> str:
    """``text`` filled in with a typical family's values."""
    return _fill(text, sample_values(language, tenant))


def message_length(text: str) -> MessageLength:
    """Characters and SMS parts: 160 / 153 per part in GSM-7, 70 / 67 once any character is not GSM."""
    if all(character in _GSM_BASIC or character in _GSM_EXTENSION for character in text):
        units = sum(2 if character in _GSM_EXTENSION else 1 for character in text)
        return MessageLength(len(text), _segments(units, single=160, part=153), unicode=False)
    # UCS-2 counts a character outside the basic plane (an emoji) as two.
    units = sum(2 if ord(character) > 0xFFFF else 1 for character in text)
    return MessageLength(len(text), _segments(units, single=70, part=67), unicode=True)


def validate_template_text(text: str, *, names_discipline: bool, requires_link: bool) -> None:
    """Refuse unknown placeholders, {clinic} without the opt-in, and a body without {link}."""
    errors = []
    found = _PLACEHOLDER.findall(text)
    unknown = sorted({name for name in found if name not in PLACEHOLDERS})
    if unknown:
        errors.append(
            ValidationError(
                _("Unknown placeholder: %(names)s. Use %(allowed)s."),
                code="unknown_placeholder",
                params={
                    "names": ", ".join(f"{{{name}}}" for name in unknown),
                    "allowed": ", ".join(f"{{{name}}}" for name in PLACEHOLDERS),
                },
            )
        )
    if DISCIPLINE_PLACEHOLDER in found and not names_discipline:
        errors.append(
            ValidationError(
                _('{clinic} tells what the child is treated for: tick "may name the clinic" to use it.'),
                code="names_discipline",
            )
        )
    if requires_link and "link" not in found:
        errors.append(
            ValidationError(
                _("The message needs the {link} placeholder: the family confirms or cancels there."),
                code="link_missing",
            )
        )
    if errors:
        raise ValidationError(errors)


def _values(
    language: str, tenant: Tenant | None, children: Sequence[ChildBooking], link: str
) -> dict[str, str]:
    first = min(children, key=lambda child: child.starts_at)
    start = timezone.localtime(first.starts_at, timezone.get_default_timezone())
    with translation.override(language):
        # Django's weekday names in the message's language; the date itself day-first.
        date_text = date_format(start.date(), "l d/m/Y")
        clinics = _join(list(dict.fromkeys(child.clinic_name for child in children)), language)
        # Only a sample (the editor) has no tenant.
        centre = in_active_language(tenant.name_en, tenant.name_ar) if tenant else SAMPLE_CENTRE[language]
    hijri = to_hijri(start.date()) if tenant is None or tenant.show_hijri_dates else None
    return {
        "first_name": _join([child.first_name for child in children], language),
        "date": date_text,
        "hijri_date": hijri_text(hijri, language) if hijri is not None else "",
        "time": f"{start:%H:%M}",
        "centre": centre,
        "link": link,
        DISCIPLINE_PLACEHOLDER: clinics,
    }


def _join(names: Sequence[str], language: str) -> str:
    """ "Sara, Omar and Lina"; in Arabic "سارة وعمر ولينا"."""
    if language == "ar":
        return " و".join(names)
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _fill(text: str, values: Mapping[str, str]) -> str:
    # Not str.format: a template is typed by staff, and format() would follow "{x.attr}".
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def _segments(units: int, *, single: int, part: int) -> int:
    if units == 0:
        return 0
    return 1 if units <= single else math.ceil(units / part)
