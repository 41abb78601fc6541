"""One word per idea in the Arabic catalogue: a consent (the guardian's) is "موافقة", finance's
clearance of a visit is "الاعتماد المالي". The two sit side by side on the same row (check-in
gates, the clearance queue), so neither idea may borrow the other's word."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

ARABIC_PO = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.po"

CONSENT_WORD = "موافق"  # الموافقة, موافقة, موافقات, موافقتها
FINANCE_WORD = re.compile("اعتماد|اعتمد|معتمد")  # الاعتماد المالي, اعتماد الزيارة, معتمد ماليًا
# "Clear", "cleared", "clearance": in this project always finance clearing a visit.
ABOUT_CLEARANCE = re.compile(r"\bclear(?:ed|ance|ing|s)?\b", re.IGNORECASE)
ABOUT_CONSENT = re.compile(r"\bconsents?\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def entries() -> list[tuple[str, list[str]]]:
    """(English, its Arabic forms) of every entry of the catalogue."""
    catalogue = polib.pofile(str(ARABIC_PO))
    return [
        (
            entry.msgid + " " + entry.msgid_plural,
            [entry.msgstr_plural[form] for form in sorted(entry.msgstr_plural)] or [entry.msgstr],
        )
        for entry in catalogue
    ]


def about(entries, idea: re.Pattern, other: re.Pattern) -> list[tuple[str, list[str]]]:
    """The entries about ``idea`` and not also about ``other``."""
    return [
        (english, arabic) for english, arabic in entries if idea.search(english) and not other.search(english)
    ]


def test_finance_clearance_never_uses_the_consent_word(entries):
    clearance = about(entries, ABOUT_CLEARANCE, ABOUT_CONSENT)

    assert len(clearance) >= 15
    assert [english for english, arabic in clearance if any(CONSENT_WORD in text for text in arabic)] == []


def test_consent_never_uses_the_finance_clearance_word(entries):
    consent = about(entries, ABOUT_CONSENT, ABOUT_CLEARANCE)

    assert len(consent) >= 15
    assert [english for english, arabic in consent if any(FINANCE_WORD.search(text) for text in arabic)] == []


def test_every_entry_naming_finance_clearance_uses_the_finance_word(entries):
    # finance's clearance named outright: not a button's bare "Clear" or a badge's "Cleared"
    named = [
        (english, arabic)
        for english, arabic in entries
        if ABOUT_CLEARANCE.search(english) and re.search("financ|clearance", english, re.IGNORECASE)
    ]

    assert len(named) >= 10
    assert [
        english for english, arabic in named if not all(FINANCE_WORD.search(text) for text in arabic)
    ] == []


def test_every_consent_entry_uses_the_consent_word(entries):
    consent = about(entries, ABOUT_CONSENT, ABOUT_CLEARANCE)

    assert [english for english, arabic in consent if not all(CONSENT_WORD in text for text in arabic)] == []
