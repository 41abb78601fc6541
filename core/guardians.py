"""Guardians' phone numbers: one normal form, E.164, for storing, searching and sending.

``phonenumbers`` (Google's libphonenumber) knows each country's numbering plan; a number
typed without a country code is read in ``settings.PHONE_DEFAULT_REGION``. Arabic-Indic
digits are folded first, as the patient search folds them.
"""

import re

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


# A typed phone: digits, perhaps a leading plus, and the separators people type between groups.
_PHONE_LIKE = re.compile(r"^\+?[0-9(][0-9\s().-]*$")
# Fewer digits are likelier part of an MRN than the start of a phone number.
PHONE_QUERY_MIN_DIGITS = 4
# A prefix shorter than a country code and two digits would match a whole country's numbers.
PHONE_PREFIX_MIN_DIGITS = 6


def phone_prefixes(query: str, region: str | None = None) -> list[str]:
    """The E.164 starts of the numbers a typed (start of a) phone number may mean; [] for other text.

    "0501234567", "+966 50 123 4567" and "٠٥٠١٢٣٤٥٦٧" all give "+966501234567"; a start gives
    every reading of it: "96650123" typed with its country code but no plus, "050123" a national
    number after ``region``'s trunk prefix (0 in Saudi Arabia), "0096650" after the international
    prefix 00, "50123" a national number without the trunk prefix.
    """
    text = query.translate(_DIGIT_FOLDS).strip()
    if not _PHONE_LIKE.match(text):
        return []
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) < PHONE_QUERY_MIN_DIGITS:
        return []
    region = region or settings.PHONE_DEFAULT_REGION
    if text.startswith("+"):
        readings = {digits}
    elif digits.startswith("00"):
        readings = {digits[2:]}
    else:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        trunk = (metadata.national_prefix if metadata else None) or ""
        national = digits[len(trunk) :] if trunk and digits.startswith(trunk) else digits
        readings = {digits, f"{phonenumbers.country_code_for_region(region)}{national}"}
    prefixes = {f"+{reading}" for reading in readings if len(reading) >= PHONE_PREFIX_MIN_DIGITS}
    whole = normalise_phone(text, region)
    if whole:
        prefixes.add(whole)
    # E.164 never starts with 0 after the plus: such a reading can match nothing.
    return sorted(prefix for prefix in prefixes if not prefix.startswith("+0"))
