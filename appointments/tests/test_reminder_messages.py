"""The words of a message: placeholders, siblings, languages, the discipline opt-in and SMS length."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from appointments.reminders.messages import (
    DEFAULT_WORDS,
    PLACEHOLDERS,
    ChildBooking,
    MessageLength,
    message_length,
    render_message,
    sample_message,
    validate_template_text,
)
from appointments.reminders.models import MessageTemplate
from core.models import Guardian
from core.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

# 10:00 in Riyadh (TIME_ZONE) on Thursday 3 December 2026, 23 Jumada al-Akhirah 1448.
START = datetime.datetime(2026, 12, 3, 7, 0, tzinfo=datetime.UTC)
LINK = "https://clinic.example.org/family/abc/"
SARA = ChildBooking("Sara", START, "Psychology clinic")
OMAR = ChildBooking("Omar", START, "OT clinic")


def template(**fields):
    values = {
        "name": "Reminder",
        "purpose": MessageTemplate.Purpose.REMINDER,
        "channel": Guardian.Channel.SMS,
        "body_en": "{first_name} {date} {time} {centre} {link}",
        "body_ar": "{first_name} {date} {time} {centre} {link}",
        **fields,
    }
    return MessageTemplate.objects.create(tenant=TenantFactory(), **values)


def render(tpl=None, *, language="en", children=(SARA,), channel=Guardian.Channel.SMS, **kwargs):
    tenant = kwargs.pop("tenant", None) or TenantFactory()
    return render_message(
        tpl,
        purpose=kwargs.pop("purpose", MessageTemplate.Purpose.REMINDER),
        channel=channel,
        language=language,
        tenant=tenant,
        children=list(children),
        link=LINK,
    )


def test_render_message_fills_every_placeholder_in_english():
    message = render(template())

    assert message == type(message)(subject="", body=f"Sara Thursday 03/12/2026 10:00 Agdar Centre {LINK}")


def test_render_message_uses_the_arabic_body_weekday_and_centre_name():
    tpl = template(body_ar="موعد {first_name} يوم {date} الساعة {time} في {centre}: {link}")

    message = render(tpl, language="ar")

    assert message.body == f"موعد Sara يوم الخميس 03/12/2026 الساعة 10:00 في مركز أجدر: {LINK}"


def test_render_message_joins_siblings_names_in_each_language():
    lina = ChildBooking("Lina", START, "Psychology clinic")
    tpl = template(body_en="{first_name} {link}", body_ar="{first_name} {link}")

    assert render(tpl, children=[SARA]).body == f"Sara {LINK}"
    assert render(tpl, children=[SARA, OMAR]).body == f"Sara and Omar {LINK}"
    assert render(tpl, children=[SARA, OMAR, lina]).body == f"Sara, Omar and Lina {LINK}"
    assert render(tpl, children=[SARA, OMAR, lina], language="ar").body == f"Sara وOmar وLina {LINK}"


def test_render_message_gives_siblings_the_earliest_start():
    later = ChildBooking("Omar", START + datetime.timedelta(minutes=30), "OT clinic")
    tpl = template(body_en="{time} {link}")

    assert render(tpl, children=[later, SARA]).body == f"10:00 {LINK}"


@override_settings(TIME_ZONE="Europe/Berlin")
def test_render_message_reads_the_time_in_the_installation_time_zone():
    tpl = template(body_en="{date} {time} {link}")

    assert render(tpl).body == f"Thursday 03/12/2026 08:00 {LINK}"


def test_render_message_hijri_date_only_where_the_tenant_shows_it():
    tpl = template(body_en="{date} {hijri_date}|{link}", body_ar="{hijri_date}|{link}")
    shown = TenantFactory(code="HIJRI", show_hijri_dates=True)

    assert render(tpl).body == f"Thursday 03/12/2026 |{LINK}"
    assert render(tpl, tenant=shown).body == f"Thursday 03/12/2026 23 Jumada al-Akhirah 1448 AH|{LINK}"
    assert render(tpl, tenant=shown, language="ar").body == f"23 جمادى الآخرة 1448 هـ|{LINK}"


def test_render_message_names_the_clinic_only_with_the_opt_in():
    opted_in = template(name="Named", body_en="{first_name} at {clinic} {link}", names_discipline=True)
    # Saved around the form: the opt-in is off, so the clinic's name still never shows.
    not_opted_in = template(name="Unnamed", body_en="{first_name} at {clinic} {link}")

    assert (
        render(opted_in, children=[SARA, OMAR]).body
        == f"Sara and Omar at Psychology clinic and OT clinic {LINK}"
    )
    assert render(not_opted_in).body == f"Sara at  {LINK}"


def test_render_message_leaves_unknown_braces_alone_and_follows_no_attribute():
    tpl = template(body_en="{first_name.__class__} {nope} {link}")

    assert render(tpl).body == f"{{first_name.__class__}} {{nope}} {LINK}"


@pytest.mark.parametrize("purpose", MessageTemplate.Purpose.values)
@pytest.mark.parametrize("channel", Guardian.Channel.values)
@pytest.mark.parametrize("language", ["en", "ar"])
def test_render_message_default_words_never_name_the_clinic(purpose, channel, language):
    message = render(None, purpose=purpose, channel=channel, language=language, children=[SARA, OMAR])

    assert "Psychology" not in message.subject + message.body
    assert "OT clinic" not in message.subject + message.body
    assert LINK in message.body
    assert ("Sara" in message.subject) == (channel == Guardian.Channel.EMAIL)
    assert "Sara" in message.body
    assert "10:00" in message.body


def test_render_message_default_words_carry_the_hijri_date_where_shown():
    shown = TenantFactory(code="HIJRI", show_hijri_dates=True)

    message = render(None, tenant=shown)

    assert message.body == (
        "Agdar Centre: reminder of Sara's session on Thursday 03/12/2026 (23 Jumada al-Akhirah 1448 AH) "
        f"at 10:00. Confirm or cancel: {LINK}"
    )


def test_render_message_email_subject_from_the_template_else_the_default():
    with_subject = template(name="Mail", channel=Guardian.Channel.EMAIL, subject_en="See you {date}")
    without = template(name="Mail 2", channel=Guardian.Channel.EMAIL)

    assert render(with_subject, channel=Guardian.Channel.EMAIL).subject == "See you Thursday 03/12/2026"
    assert (
        render(without, channel=Guardian.Channel.EMAIL).subject
        == "Reminder: Sara's session on Thursday 03/12/2026"
    )
    assert render(without, channel=Guardian.Channel.EMAIL, language="ar").subject == (
        "تذكير: موعد Sara يوم الخميس 03/12/2026"
    )


def test_render_message_refuses_no_children():
    with pytest.raises(ValueError, match="at least one child"):
        render(None, children=[])


def test_message_length_gsm_single_and_multi_part():
    assert message_length("") == MessageLength(0, 0, unicode=False)
    assert message_length("a" * 160) == MessageLength(160, 1, unicode=False)
    assert message_length("a" * 161) == MessageLength(161, 2, unicode=False)
    assert message_length("a" * 306) == MessageLength(306, 2, unicode=False)
    assert message_length("a" * 307) == MessageLength(307, 3, unicode=False)


def test_message_length_gsm_extension_characters_take_two_places():
    assert message_length("€" * 80) == MessageLength(80, 1, unicode=False)
    assert message_length("{" * 81) == MessageLength(81, 2, unicode=False)


def test_message_length_arabic_is_ucs2_seventy_to_a_message():
    assert message_length("م" * 70) == MessageLength(70, 1, unicode=True)
    assert message_length("م" * 71) == MessageLength(71, 2, unicode=True)
    assert message_length("م" * 134) == MessageLength(134, 2, unicode=True)
    assert message_length("م" * 135) == MessageLength(135, 3, unicode=True)
    # One Arabic letter turns the whole English text into UCS-2.
    assert message_length("a" * 69 + "م") == MessageLength(70, 1, unicode=True)


def test_message_length_emoji_counts_two_in_ucs2():
    assert message_length("😀" * 35) == MessageLength(35, 1, unicode=True)
    assert message_length("😀" * 36) == MessageLength(36, 2, unicode=True)


@override_settings(PUBLIC_BASE_URL="https://clinic.example.org")
def test_sample_message_fills_a_typical_family_with_a_full_length_link():
    sample = sample_message(
        "{first_name} {date} {time} {centre} {link}", language="ar", tenant=TenantFactory()
    )

    assert sample.startswith("محمد الأربعاء 02/12/2026 19:30 مركز أجدر https://clinic.example.org/family/")
    assert len(sample) > 130


@pytest.mark.parametrize("text", ["{first_name} {link}", "{date} {hijri_date} {time} {centre} {link}"])
def test_validate_template_text_accepts_the_known_placeholders(text):
    validate_template_text(text, names_discipline=False, requires_link=True)


def test_validate_template_text_refuses_unknown_placeholders():
    with pytest.raises(ValidationError) as refused:
        validate_template_text("{name} {Date} {link}", names_discipline=False, requires_link=True)

    assert refused.value.messages == [
        "Unknown placeholder: {Date}, {name}. Use " + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS) + "."
    ]


def test_validate_template_text_refuses_the_clinic_without_the_opt_in():
    with pytest.raises(ValidationError, match="tells what the child is treated for"):
        validate_template_text("{clinic} {link}", names_discipline=False, requires_link=True)
    validate_template_text("{clinic} {link}", names_discipline=True, requires_link=True)


def test_validate_template_text_requires_the_link_in_a_body_only():
    with pytest.raises(ValidationError, match=r"needs the \{link\} placeholder"):
        validate_template_text("{first_name}", names_discipline=False, requires_link=True)
    validate_template_text("{first_name}", names_discipline=False, requires_link=False)


def test_default_words_are_valid_templates():
    for words in DEFAULT_WORDS.values():
        for subject, body in words.values():
            validate_template_text(subject, names_discipline=False, requires_link=False)
            validate_template_text(body, names_discipline=False, requires_link=True)
