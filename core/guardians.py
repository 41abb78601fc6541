"""Guardians' phone numbers: one normal form, E.164, for storing, searching and sending.

``phonenumbers`` (Google's libphonenumber) knows each country's numbering plan; a number
typed without a country code is read in ``settings.PHONE_DEFAULT_REGION``. Arabic-Indic
digits are folded first, as the patient search folds them.
"""

import phonenumbers
from django.conf import settings

from core.name_search import LETTER_FOLDS

_DIGIT_FOLDS = str.maketrans({letter: digit for letter, digit in LETTER_FOLDS.items() if digit.isdigit()})


def normalise_phone(raw: str, region: str | None = None) -> str | None:
    """``raw`` in E.164 ("+966501234567"), or None when it is not a possible, valid number."""
    text = (raw or "").translate(_DIGIT_FOLDS).strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
