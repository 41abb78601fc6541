"""Benchmark the patient search of the booking forms' picker at 100,000 patients. Not a test.

    .venv/bin/python benchmarks/patient_search.py --patients 100000

Creates its own throwaway database (``--database``, default ``clinic_patient_search_benchmark``)
on the server of $DATABASE_URL (or 127.0.0.1:5432), migrates it, and COPYs ``--patients``
children of one organisation into it: everyday Arabic and English names (both spellings of
the names with variants), MRNs and Saudi mobile numbers; PostgreSQL computes each row's
generated ``search_text`` and its GIN index entry (the setup, timed apart). Then, as the
picker asks (``core.selectors.lookup_patients``: the user's organisation, at most 20 children
by name), runs each search ``--repeat`` times and prints the median and 95th percentile, and
whether the plan reads the index ``patient_search_text_idx``. Drops the database unless
``--keep`` is given.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg
from databases import database_url, throwaway_database

PROJECT_DIR = Path(__file__).resolve().parent.parent
# (English, Arabic) as registration desks spell them; the searches below type other spellings.
FIRST_NAMES = [
    ("Noura", "نورة"),
    ("Sara", "سارة"),
    ("Layla", "ليلى"),
    ("Ahmed", "أحمد"),
    ("Iman", "إيمان"),
    ("Amna", "آمنة"),
    ("Mohammed", "محمد"),
    ("Abdullah", "عبدالله"),
    ("Fatimah", "فاطمة"),
    ("Aisha", "عائشة"),
    ("Omar", "عمر"),
    ("Khalid", "خالد"),
    ("Yousef", "يوسف"),
    ("Maryam", "مريم"),
    ("Hessa", "حصة"),
    ("Faisal", "فيصل"),
    ("Lina", "لينا"),
    ("Reem", "ريم"),
    ("Saud", "سعود"),
    ("Mona", "منى"),
    ("Hind", "هند"),
    ("Raghad", "رغد"),
    ("Turki", "تركي"),
    ("Fayza", "فائزة"),
    ("Moamen", "مؤمن"),
    ("Salma", "سلمى"),
    ("Ali", "علي"),
    ("Hamad", "حمد"),
    ("Joud", "جود"),
    ("Dana", "دانة"),
]
LAST_NAMES = [
    ("Al-Harbi", "الحربي"),
    ("Al-Otaibi", "العتيبي"),
    ("Al-Qahtani", "القحطاني"),
    ("Al-Ghamdi", "الغامدي"),
    ("Al-Zahrani", "الزهراني"),
    ("Al-Dosari", "الدوسري"),
    ("Al-Shehri", "الشهري"),
    ("Al-Mutairi", "المطيري"),
    ("Al-Anazi", "العنزي"),
    ("Al-Shammari", "الشمري"),
    ("Al-Subaie", "السبيعي"),
    ("Al-Malki", "المالكي"),
    ("Al-Yami", "اليامي"),
    ("Al-Rashidi", "الرشيدي"),
    ("Al-Juhani", "الجهني"),
    ("Al-Amri", "العمري"),
    ("Al-Saleh", "الصالح"),
    ("Al-Najjar", "النجار"),
    ("Bin Laden", "بن لادن"),
    ("Al-Hamdan", "الحمدان"),
    ("Al-Omari", "العمري"),
    ("Al-Thaqafi", "الثقفي"),
    ("Al-Balawi", "البلوي"),
    ("Al-Asmari", "الأسمري"),
    ("Al-Hazmi", "الحازمي"),
]
# What a receptionist types: variant spellings, a prefix, an MRN or a phone in Arabic digits.
SEARCHES = [
    "نوره",
    "ساره العتيبى",
    "ليلي الحربى",
    "احمد الاسمري",
    "فايزه",
    "nou al-ha",
    "mohammed qah",
    "sa",
    "ag-0",
    "ag-٠٠١٢٣٤",
    "٩٦٦٥٠١٢",
    "0501234567",
    "050123",
]


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # DEBUG off: no query log in memory
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


GUARDIANS_CREATED = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


def patient_rows(tenant_id: int, count: int):
    # A fixed seed: the same children on every run, so runs compare.
    draw = random.Random(13)
    created = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    for number in range(count):
        first_en, first_ar = draw.choice(FIRST_NAMES)
        last_en, last_ar = draw.choice(LAST_NAMES)
        born = datetime.date(2012, 1, 1) + datetime.timedelta(days=draw.randrange(12 * 365))
        yield (
            tenant_id,
            f"AG-{number:06d}",
            first_en,
            last_en,
            first_ar,
            last_ar,
            born,
            draw.choice("FM"),
            created,
            # The primary guardian's name and mobile phone (E.164).
            f"{draw.choice(FIRST_NAMES)[0]} {last_en}",
            f"+9665{draw.randrange(10**8):08d}",
        )


def build_patients(url: str, count: int) -> tuple[int, float]:
    """Migrate, one organisation and its front desk, then ``count`` patients by COPY: (user id, seconds)."""
    from django.core.management import call_command

    from core.models import Tenant, User

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(code="BENCH", name_en="Benchmark Centre")
    desk = User.objects.create(username="desk", tenant=tenant, role=User.Role.FRONT_DESK)
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        guardians = []
        with connection.cursor().copy(
            "COPY core_patient (tenant_id, mrn, first_name_en, last_name_en, first_name_ar, last_name_ar,"
            " date_of_birth, sex, created_at) FROM STDIN"
        ) as copy:
            for *row, guardian_name, phone in patient_rows(tenant.pk, count):
                copy.write_row(row)
                guardians.append((row[1], guardian_name, phone))
        ids = dict(connection.execute("SELECT mrn, id FROM core_patient").fetchall())
        with connection.cursor().copy(
            "COPY core_guardian (patient_id, name_en, name_ar, relation, phone, phone_as_entered,"
            " phone_needs_review, email, preferred_language, preferred_channel, consent_to_contact,"
            " may_receive_appointment_info, is_primary, created_at, updated_at) FROM STDIN"
        ) as copy:
            for mrn, guardian_name, phone in guardians:
                row = (
                    ids[mrn],
                    guardian_name,
                    "",
                    "mother",
                    phone,
                    "",
                    False,
                    "",
                    "ar",
                    "sms",
                    True,
                    True,
                    True,
                )
                copy.write_row((*row, GUARDIANS_CREATED, GUARDIANS_CREATED))
        connection.execute("ANALYZE core_patient")
        connection.execute("ANALYZE core_guardian")
    return desk.pk, time.monotonic() - started


def time_search(user, query: str, repeat: int) -> tuple[list[float], int, bool]:
    """Milliseconds of each run of the picker's query, the number found, whether the index is read."""
    from core.selectors import lookup_patients, search_patients

    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        found = lookup_patients(user, query)
        timings.append((time.perf_counter() - started) * 1000)
    plan = search_patients(user, query)[:20].explain()
    return timings, len(found), "patient_search_text_idx" in plan or "guardian_phone_prefix_idx" in plan


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database", default="clinic_patient_search_benchmark")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database afterwards.")
    options = parser.parse_args()

    url = database_url(options.database)
    with throwaway_database(url, keep=options.keep):
        setup_django(url)
        from core.models import User

        desk_id, seconds = build_patients(url, options.patients)
        print(
            f"setup: {options.patients:,} patients copied in {seconds:.1f} s "
            f"(search_text generated and indexed on insert)"
        )
        desk = User.objects.get(pk=desk_id)
        everything: list[float] = []
        for query in SEARCHES:
            timings, found, indexed = time_search(desk, query, options.repeat)
            everything += timings
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(
                f"{query!r:>24}: {found:>2} shown, median {statistics.median(timings):6.2f} ms, "
                f"p95 {p95:6.2f} ms, {'index' if indexed else 'no index'}"
            )
        p95 = statistics.quantiles(everything, n=20)[-1]
        print(
            f"all {len(SEARCHES)} searches x {options.repeat}: "
            f"median {statistics.median(everything):.2f} ms, p95 {p95:.2f} ms"
        )


if __name__ == "__main__":
    main()
