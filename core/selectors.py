"""Read queries of the patient pages: tenant-scoped, fixed numbers of queries."""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import QuerySet

from core.models import Patient, User
from core.name_search import search_words

# The patient picker of the booking forms answers from this many folded characters, with at most
# this many children (a longer list is a sign to type more, not to scroll).
LOOKUP_MIN_CHARACTERS = 2
LOOKUP_MAX_RESULTS = 20


def search_patients(user: User, query: str) -> QuerySet[Patient]:
    """Patients with a word starting with each word of ``query``, by name, then id.

    Names in English and Arabic, the MRN and the guardian's phone are searched, folded on both
    sides (``core.name_search``): نوره finds نورة, an MRN or phone typed with Arabic digits finds
    it, "nou al" finds Noura Al-Harbi. A blank query lists everyone; one with no letter or digit,
    no one.
    """
    patients = Patient.objects.for_user(user).order_by("last_name_en", "first_name_en", "pk")
    if not query.strip():
        return patients
    words = search_words(query)
    if not words:
        return patients.none()
    # Word prefixes of a tsquery; the words hold only letters and digits, so the raw syntax is safe.
    prefixes = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="simple")
    # Each word also appears in the folded text: a cheap test PostgreSQL runs first, so when it walks
    # the (tenant, last name) index for the order (a common name) it builds few rows' tsvectors.
    for word in words:
        patients = patients.filter(search_text__contains=word)
    # The very expression of the GIN index patient_search_text_idx, so PostgreSQL can use it.
    return patients.alias(searched=SearchVector("search_text", config="simple")).filter(searched=prefixes)


def lookup_patients(user: User, query: str) -> list[Patient]:
    """The booking forms' picker: ``search_patients`` from two characters typed, at most 20."""
    if len("".join(search_words(query))) < LOOKUP_MIN_CHARACTERS:
        return []
    return list(search_patients(user, query)[:LOOKUP_MAX_RESULTS])
