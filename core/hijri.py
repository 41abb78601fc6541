"""The Umm al-Qura Hijri date shown beside the Gregorian one (``Tenant.show_hijri_dates``).

``hijridate`` converts with the Umm al-Qura table, which covers 1 Muharram 1343 to the
end of 1500 AH (01/08/1924 to 16/11/2077); outside it a page shows the Gregorian date alone.
"""

import datetime
from typing import Literal

from django.contrib.auth.models import AnonymousUser
from hijridate import Gregorian, Hijri

from core.models import User

# hijridate names months (and the era) in Arabic and English: Arabic pages get the Arabic names,
# every other language the English transliteration.
HijridateLanguage = Literal["en", "ar"]


def to_hijri(day: datetime.date) -> Hijri | None:
    """The Umm al-Qura date of ``day``, or None outside the table."""
    try:
        return Gregorian.fromdate(day).to_hijri()
    except (OverflowError, ValueError):
        return None


def hijri_text(hijri: Hijri, language: str) -> str:
    """The date as words: "1 Ramadan 1447 AH", or "1 رمضان 1447 هـ" in Arabic; Latin digits in both."""
    names: HijridateLanguage = "ar" if language == "ar" else "en"
    return f"{hijri.day} {hijri.month_name(names)} {hijri.year} {hijri.notation(names)}"


def shows_hijri_dates(user: User | AnonymousUser) -> bool:
    """Whether the user's organisation asked for Hijri dates; a user of none (a superuser) sees none.

    Reads ``user.tenant`` once: Django keeps it on the user, so a page asks the database at most once.
    """
    if not isinstance(user, User) or user.tenant_id is None:
        return False
    tenant = user.tenant
    return tenant is not None and tenant.show_hijri_dates
