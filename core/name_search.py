"""How names, MRNs and typed phone digits are folded for search: one table, used twice.

A receptionist types نوره for نورة, العتيبى for العتيبي, ليلي for ليلى. Both the text the
database keeps for each patient (``Patient.search_text``, a generated column built from
``search_text_expression``) and the words typed (``search_words``) are folded with the same
table, so every everyday spelling of a name meets the stored one. The database side uses
only PostgreSQL's built-in ``translate()``, ``regexp_replace()`` and ``lower()``, which the
embedded PostgreSQL (no contrib extensions) has too.
"""

import re

from django.db.models import Expression, F, Func, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Concat, Lower

# Each letter on the left is read as the one on the right.
LETTER_FOLDS: dict[str, str] = {
    "أ": "ا",  # alef with hamza above
    "إ": "ا",  # alef with hamza below
    "آ": "ا",  # alef with madda
    "ٱ": "ا",  # alef wasla
    "ة": "ه",  # taa marbuta
    "ى": "ي",  # alef maqsura
    "ئ": "ي",  # yaa with hamza
    "ؤ": "و",  # waw with hamza
    **{arabic: str(digit) for digit, arabic in enumerate("٠١٢٣٤٥٦٧٨٩")},
    **{persian: str(digit) for digit, persian in enumerate("۰۱۲۳۴۵۶۷۸۹")},
}
# Dropped altogether: tatweel, the short-vowel and tanween marks, shadda, sukun, and the
# dagger alef.
DROPPED_MARKS = "\u0640" + "".join(chr(code) for code in range(0x064B, 0x0653)) + "\u0670"

# What a search word is made of after folding: ASCII letters and digits, Latin letters with
# accents, and the Arabic letters hamza to yaa. Anything else separates words. Spelled as
# code-point ranges (not [:alnum:]), so Python and PostgreSQL agree whatever the locale.
WORD_CHARACTERS = "0-9a-z\u00c0-\u024f\u0621-\u064a"
_FOLD_FROM = "".join(LETTER_FOLDS) + DROPPED_MARKS
_FOLD_TO = "".join(LETTER_FOLDS.values())
_PYTHON_FOLDS = str.maketrans("".join(LETTER_FOLDS), _FOLD_TO, DROPPED_MARKS)
_NOT_A_WORD = re.compile(f"[^{WORD_CHARACTERS}]+")
# At most this many words of a query are used (a pasted paragraph is not a name).
MAX_QUERY_WORDS = 6


def normalise_search_text(text: str) -> str:
    """``text`` folded as the database folds ``Patient.search_text``: words joined by one space."""
    folded = text.translate(_PYTHON_FOLDS).lower()
    return " ".join(_NOT_A_WORD.sub(" ", folded).split())


def search_words(query: str) -> list[str]:
    """The folded words of a typed query, safe to put in a ``to_tsquery`` (letters and digits)."""
    return normalise_search_text(query).split()[:MAX_QUERY_WORDS]


def fold_expression(expression: Combinable) -> Expression:
    """SQL of ``normalise_search_text`` on ``expression`` (up to repeated spaces, which no search sees)."""
    translated = Func(expression, Value(_FOLD_FROM), Value(_FOLD_TO), function="translate")
    return Func(
        Lower(translated),
        Value(f"[^{WORD_CHARACTERS}]+"),
        Value(" "),
        Value("g"),
        function="regexp_replace",
    )


def compact_expression(field: str, keep: str) -> Expression:
    """SQL of ``field`` with digits folded and every character outside ``keep`` removed."""
    folded = Lower(Func(F(field), Value(_FOLD_FROM), Value(_FOLD_TO), function="translate"))
    return Func(folded, Value(f"[^{keep}]+"), Value(""), Value("g"), function="regexp_replace")


def search_text_expression() -> Expression:
    """``Patient.search_text``: the names in both languages and the MRN, folded.

    The MRN is also kept without separators, so "AG-0012" is found by "ag0012". Phones are
    the guardians' (``core.guardians.phone_prefixes``), searched in their own index.
    """
    parts: list[Expression] = [
        fold_expression(F(field))
        for field in ("first_name_en", "last_name_en", "first_name_ar", "last_name_ar", "mrn")
    ]
    parts.append(compact_expression("mrn", "0-9a-z"))
    joined: list[Expression] = [parts[0]]
    for part in parts[1:]:
        joined += [Value(" "), part]
    return Concat(*joined)
