"""In a real browser: the message template editor counts each body as a family's phone will, while
the administrator types, and agrees with the server's count (``messages.message_length``)."""

import pytest
from playwright.sync_api import expect

from appointments.reminders.messages import message_length, sample_message
from appointments.reminders.models import MessageTemplate
from core.models import User
from core.tests.admin_helpers import admin_url
from core.tests.browser import browser, log_in, page  # noqa: F401  (pytest fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-pass-9021"


def counted(text: str, language: str) -> str:
    """What the editor should show under ``text``: measured filled in with the sample family."""
    length = message_length(sample_message(text, language=language))
    return f"Characters: {length.characters} · SMS parts: {length.segments}"


def test_template_editor_counts_characters_and_sms_parts_while_typing(page):  # noqa: F811
    User.objects.create_superuser("root", "root@example.org", PASSWORD)
    log_in(page, "root", PASSWORD)
    page.goto(admin_url(MessageTemplate, "add"))
    page.select_option("select[name=channel]", "sms")
    arabic_count = page.locator("#id_body_ar + .message-length")
    english_count = page.locator("#id_body_en + .message-length")

    # 70 Arabic characters are one SMS; the 71st makes two parts of 67.
    page.fill("#id_body_ar", "ب" * 70)
    expect(arabic_count).to_have_text("Characters: 70 · SMS parts: 1")
    page.fill("#id_body_ar", "ب" * 71)
    expect(arabic_count).to_have_text("Characters: 71 · SMS parts: 2")

    # Placeholders are counted filled in, as the server counts them; "€" takes two GSM-7 septets.
    body = "Reminder: {first_name} on {date} at {time}, {centre}. " + "€" * 40 + " {link}"
    page.fill("#id_body_en", body)
    expect(english_count).to_have_text(counted(body, "en"))
    arabic_body = "تذكير: {first_name} يوم {date} الساعة {time} في {centre}. {link}"
    page.fill("#id_body_ar", arabic_body)
    expect(arabic_count).to_have_text(counted(arabic_body, "ar"))

    # An e-mail has no SMS parts.
    page.select_option("select[name=channel]", "email")
    expect(arabic_count).to_have_text(counted(arabic_body, "ar").split(" · ")[0])
