"""Read queries of the patient pages: tenant-scoped, fixed numbers of queries."""

import dataclasses
import datetime
import functools
import operator
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Prefetch, Q, QuerySet

from core.admin_history import readable_value
from core.guardians import phone_prefixes
from core.models import Guardian, Patient, User
from core.name_search import search_words

# The patient picker of the booking forms answers from this many folded characters, with at most
# this many children (a longer list is a sign to type more, not to scroll).
LOOKUP_MIN_CHARACTERS = 2
LOOKUP_MAX_RESULTS = 20


def search_patients(user: User, query: str) -> QuerySet[Patient]:
    """Patients with a word starting with each word of ``query``, or a guardian's phone it starts, by name.

    Names in English and Arabic and the MRN are searched, folded on both sides
    (``core.name_search``): نوره finds نورة, an MRN typed with Arabic digits finds it, "nou al"
    finds Noura Al-Harbi. A query that reads as (the start of) a phone number also finds the
    children of any guardian whose number starts so (``core.guardians.phone_prefixes``):
    "0501234567", "+966 50 123 4567", "٠٥٠١٢٣٤٥٦٧", "96650123". A blank query lists everyone;
    one with no letter or digit, no one. Each patient comes with ``primary_guardians`` (a list of
    at most one) for the results' guardian column.
    """
    patients = (
        Patient.objects.for_user(user)
        .order_by("last_name_en", "first_name_en", "pk")
        .prefetch_related(
            Prefetch(
                "guardians", queryset=Guardian.objects.filter(is_primary=True), to_attr="primary_guardians"
            )
        )
    )
    if not query.strip():
        return patients
    words = search_words(query)
    if not words:
        return patients.none()
    # Word prefixes of a tsquery; the words hold only letters and digits, so the raw syntax is safe.
    prefixes = SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config="simple")
    by_name = patients
    # Each word also appears in the folded text: a cheap test PostgreSQL runs first, so when it walks
    # the (tenant, last name) index for the order (a common name) it builds few rows' tsvectors.
    for word in words:
        by_name = by_name.filter(search_text__contains=word)
    # The very expression of the GIN index patient_search_text_idx, so PostgreSQL can use it.
    by_name = by_name.alias(searched=SearchVector("search_text", config="simple")).filter(searched=prefixes)
    phones = phone_prefixes(query)
    if not phones:
        return by_name
    # LIKE 'prefix%' on the guardian_phone_prefix_idx (varchar_pattern_ops) index; the two sets
    # joined in one subquery, so each side keeps its own index.
    by_phone = (
        Guardian.objects.for_user(user)
        .filter(functools.reduce(operator.or_, (Q(phone__startswith=phone) for phone in phones)))
        .values("patient_id")
    )
    return patients.filter(pk__in=by_name.order_by().values("pk").union(by_phone))


def lookup_patients(user: User, query: str) -> list[Patient]:
    """The booking forms' picker: ``search_patients`` from two characters typed, at most 20."""
    if len("".join(search_words(query))) < LOOKUP_MIN_CHARACTERS:
        return []
    return list(search_patients(user, query)[:LOOKUP_MAX_RESULTS])


def patient_guardians(patient: Patient) -> list[Guardian]:
    """The chart's guardians of ``patient``: the primary one first, then in the order added. One query."""
    return list(Guardian.objects.filter(patient=patient).order_by("-is_primary", "pk"))


# What a guardian's history page doesn't list as a change: bookkeeping every save touches.
UNLISTED_HISTORY_FIELDS = ("created_at", "updated_at")


@dataclasses.dataclass(frozen=True)
class FieldChange:
    label: str
    old: Any
    new: Any


@dataclasses.dataclass(frozen=True)
class GuardianVersion:
    """One saved version of a guardian: when, by whom, how (added, changed), and what changed."""

    when: datetime.datetime
    who: User | None
    kind: str
    reason: str
    changes: list[FieldChange]


def guardian_history(guardian: Guardian) -> list[GuardianVersion]:
    """Every saved version of ``guardian``, the newest first, each with its changes from the one
    before in the words staff read (``core.admin_history.readable_value``). One query."""
    versions = list(
        Guardian.history.filter(id=guardian.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
    fields = [
        field
        for field in Guardian._meta.concrete_fields
        if not field.primary_key and field.name not in UNLISTED_HISTORY_FIELDS and field.name != "patient"
    ]
    history = []
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        changes = [
            FieldChange(
                str(field.verbose_name),
                readable_value(field, getattr(older, field.attname)) if older is not None else None,
                readable_value(field, getattr(newer, field.attname)),
            )
            for field in fields
            if older is None or getattr(older, field.attname) != getattr(newer, field.attname)
        ]
        history.append(
            GuardianVersion(
                when=newer.history_date,
                who=newer.history_user,
                kind=newer.get_history_type_display(),
                reason=newer.history_change_reason or "",
                changes=changes,
            )
        )
    return history
