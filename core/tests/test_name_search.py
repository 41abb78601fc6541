"""Arabic-aware patient search: the one folding table, applied by Python and by PostgreSQL alike.

Guardians' phones are searched apart (``core.guardians.phone_prefixes``): test_guardian_phone_search.py.

``Patient.search_text`` is a generated column (``core.name_search.search_text_expression``) and the
query is folded in Python (``search_words``); these tests hold the two sides to the same answer and
check the everyday spellings front desks type.
"""

import datetime
import re

import pytest
from django.db import connection
from django.db.models import Value

from core.models import Patient, Tenant, User
from core.name_search import fold_expression, normalise_search_text, search_words
from core.selectors import lookup_patients, search_patients
from core.tests.factories import GuardianFactory, PatientFactory, TenantFactory
from core.tests.view_helpers import staff_member, superuser

pytestmark = pytest.mark.django_db

# Realistic spellings: hamza forms, taa marbuta and alef maqsura, tatweel, diacritics, Arabic-Indic
# and Persian digits, English of mixed case and punctuation, Latin with accents.
VARIANTS = [
    "نورة",
    "نوره",
    "سارة العتيبي",
    "ساره العتيبى",
    "ليلى الحربي",
    "ليلي الحربى",
    "أحمد",
    "إيمان",
    "آمنة",
    "ٱلرحمن",
    "مؤمن",
    "فائزة",
    "هانئ",
    "نـــورة",
    "مُحَمَّد",
    "عَبْدُ الله",
    "سُعُودٌ",
    "الرَّحْمٰن",
    "AG-٠٠١٢",
    "MRN-۱۲۳",
    "+٩٦٦ ٥٠ ١٢٣ ٤٥٦٧",
    "+966 (50) 123-4567",
    "Noura Al-Harbi",
    "NOURA al-HARBI",
    "O'Brien, Mary-Jane",
    "José Müller",
    "  Sara   Ali  ",
    "Sara\tAli\nMohammed",
    "عبدالله بن سعود",
    "Lina_٣ khalid!",
]
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def compact(text: str, keep: str) -> str:
    """Python's ``compact_expression``: folded, with every character outside ``keep`` removed."""
    return re.sub(f"[^{keep}]", "", normalise_search_text(text))


def expected_search_text(patient: Patient) -> str:
    names = (patient.first_name_en, patient.last_name_en, patient.first_name_ar, patient.last_name_ar)
    words = " ".join((*names, patient.mrn))
    return " ".join(" ".join((normalise_search_text(words), compact(patient.mrn, "0-9a-z"))).split())


def sql_fold(texts: list[str]) -> list[str]:
    """``fold_expression`` of each literal, as PostgreSQL computes it, in one query."""
    tenant = TenantFactory()
    folded = (
        Tenant.objects.filter(pk=tenant.pk)
        .annotate(**{f"text_{index}": fold_expression(Value(text)) for index, text in enumerate(texts)})
        .values(*(f"text_{index}" for index in range(len(texts))))
        .get()
    )
    return [folded[f"text_{index}"] for index in range(len(texts))]


@pytest.fixture
def desk(tenant) -> User:
    return staff_member(tenant, User.Role.FRONT_DESK)


@pytest.fixture
def children(tenant) -> dict[str, Patient]:
    """Three children as the registration desk spelled them, two with a guardian's phone."""
    rows = [
        ("noura", "Noura", "Al-Harbi", "نورة", "الحربي", "AG-0012", "+966501234567"),
        ("sara", "Sara", "Al-Otaibi", "سارة", "العتيبي", "AG-0013", "+966551112233"),
        ("layla", "Layla", "Saleh", "ليلى", "الصالح", "AG-0014", ""),
    ]
    children = {}
    for key, first_en, last_en, first_ar, last_ar, mrn, phone in rows:
        children[key] = PatientFactory(
            tenant=tenant,
            first_name_en=first_en,
            last_name_en=last_en,
            first_name_ar=first_ar,
            last_name_ar=last_ar,
            mrn=mrn,
        )
        if phone:
            GuardianFactory(patient=children[key], phone=phone)
    return children


def found(user: User, query: str) -> list[Patient]:
    return list(search_patients(user, query))


# Python and PostgreSQL agree ------------------------------------------------------------------


def test_fold_expression_of_each_literal_equals_the_python_normaliser():
    folded = sql_fold(VARIANTS)

    assert [" ".join(text.split()) for text in folded] == [normalise_search_text(text) for text in VARIANTS]


def test_generated_search_text_equals_the_python_normaliser_of_the_same_fields(tenant):
    # Each variant in turn as an English and an Arabic name, beside an MRN.
    patients = [
        PatientFactory(
            tenant=tenant,
            first_name_en=variant,
            last_name_en=VARIANTS[index - 1],
            first_name_ar=VARIANTS[index - 2],
            last_name_ar=variant if index % 2 else "",
            mrn=f"ag-{index:04d}".translate(ARABIC_INDIC_DIGITS),
        )
        for index, variant in enumerate(VARIANTS)
    ]

    stored = dict(Patient.objects.filter(tenant=tenant).values_list("pk", "search_text"))

    assert len(patients) >= 20
    assert {pk: " ".join(text.split()) for pk, text in stored.items()} == {
        patient.pk: expected_search_text(patient) for patient in patients
    }


def test_search_words_fold_the_query_into_letters_and_digits_only():
    assert search_words("  نـــوره  AL-Harbi ") == ["نوره", "al", "harbi"]
    assert search_words("ag-٠٠١٢") == ["ag", "0012"]
    assert search_words("%_'\"; drop table") == ["drop", "table"]
    assert search_words("a b c d e f g h") == ["a", "b", "c", "d", "e", "f"]


# The variants front desks type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "child"),
    [
        ("نوره", "noura"),
        ("ساره", "sara"),
        ("العتيبى", "sara"),
        ("الحربى", "noura"),
        ("ليلي", "layla"),
    ],
)
def test_search_finds_the_child_under_the_spelling_that_found_nobody_before(desk, children, query, child):
    assert found(desk, query) == [children[child]]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("أحمد", "احمد"),
        ("احمد", "أحمد"),
        ("إيمان", "ايمان"),
        ("آمنة", "امنه"),
        ("مؤمن", "مومن"),
        ("فائزة", "فايزه"),
    ],
)
def test_search_reads_hamza_forms_as_their_bare_letter_both_ways(desk, tenant, stored, typed):
    child = PatientFactory(tenant=tenant, first_name_ar=stored, last_name_ar="")
    PatientFactory(tenant=tenant, first_name_ar="سلمى", last_name_ar="")

    assert found(desk, typed) == [child]


def test_search_ignores_tatweel_and_diacritics_typed_or_stored(desk, tenant, children):
    muhammad = PatientFactory(tenant=tenant, first_name_ar="مُحَمَّد", last_name_ar="")

    assert found(desk, "نـــورة") == [children["noura"]]
    assert found(desk, "نُورَة") == [children["noura"]]
    assert found(desk, "محمد") == [muhammad]


def test_search_finds_mrn_and_phone_typed_with_arabic_indic_digits(desk, children):
    noura = children["noura"]

    assert found(desk, "ag-٠٠١٢") == [noura]
    assert found(desk, "٠٠١٢") == [noura]
    assert found(desk, "ag0012") == [noura]
    assert found(desk, "٩٦٦٥٠١٢٣") == [noura]
    assert found(desk, "٠٥٥١١") == [children["sara"]]


def test_search_of_english_names_is_case_insensitive_and_by_word_prefix(desk, children):
    noura = children["noura"]

    assert found(desk, "NOURA") == [noura]
    assert found(desk, "noura al-harbi") == [noura]
    assert found(desk, "nou al") == [noura]
    assert found(desk, "al-") == [noura, children["sara"]]
    assert found(desk, "nou x") == []
    # A prefix of a word, never the middle of one.
    assert found(desk, "oura") == []


def test_search_never_finds_another_organisations_child(desk, children):
    other = TenantFactory(code="OTHER")
    PatientFactory(tenant=other, first_name_en="Noura", first_name_ar="نورة", mrn="AG-0012")

    assert found(desk, "نوره") == [children["noura"]]
    assert found(desk, "ag-0012") == [children["noura"]]
    assert len(found(superuser(), "نوره")) == 2


def test_search_lists_everyone_when_blank_and_no_one_for_punctuation_only(desk, children):
    assert len(found(desk, "  ")) == 3
    assert found(desk, "%_'\";") == []


def test_bulk_created_patients_get_their_search_text_too(desk, tenant):
    Patient.objects.bulk_create(
        Patient(
            tenant=tenant,
            mrn=f"BULK-{number}",
            first_name_en="Bulk",
            last_name_en=f"Child{number}",
            first_name_ar="نورة",
            last_name_ar="القحطاني",
            date_of_birth=datetime.date(2019, 1, 1),
        )
        for number in range(3)
    )

    assert sorted(Patient.objects.values_list("search_text", flat=True)) == [
        f"bulk child{number} نوره القحطاني bulk {number} bulk{number}" for number in range(3)
    ]
    assert [patient.mrn for patient in found(desk, "نوره القح")] == ["BULK-0", "BULK-1", "BULK-2"]


def test_lookup_needs_two_characters_and_stops_at_twenty(desk, tenant):
    PatientFactory.create_batch(25, tenant=tenant, last_name_en="Harbi")

    assert lookup_patients(desk, "h") == []
    assert lookup_patients(desk, "ـــهـ") == []
    assert len(lookup_patients(desk, "ha")) == 20


def test_search_uses_the_gin_index_of_the_search_text(desk, tenant):
    Patient.objects.bulk_create(
        Patient(
            tenant=tenant,
            mrn=f"IDX-{number}",
            first_name_en=f"Child{number}",
            last_name_en="Harbi",
            date_of_birth=datetime.date(2019, 1, 1),
        )
        for number in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_patient")
        # Few rows: without this the planner rightly reads the table; the point is that it can use the index.
        cursor.execute("SET LOCAL enable_seqscan = off")

        plan = search_patients(desk, "child12").explain()

    assert "patient_search_text_idx" in plan
