"""Targets carry over: a new OT or ABA note starts with the child's last signed note's targets.

OT copies the skill names, ABA the targets and their prompt levels (each discipline
registers ``NoteKind.carried_over``); ratings, trials and correct answers start empty.
"Last": the latest session date up to the new note's session, then the latest signed.
Drafts, other children and sessions after this one are never copied from.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format

from aba.models import ABASession
from appointments.notes.selectors import carried_over_rows
from appointments.notes.services import NoteService
from appointments.tests.factories import under_way
from appointments.tests.test_views_notes import ABA_FORM, OT_FORM, clinic_of, rows_data
from core.models import Clinic, User
from core.tests.factories import ProviderFactory, TenantFactory
from core.tests.view_helpers import booked, consented_patient, group_session, staff_member, today
from ot.models import OTSession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Specialty = Clinic.Specialty


def ten_o_clock(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


def write_url(participant) -> str:
    return reverse("notes:participant_note_write", args=[participant.pk])


def note_on(day, provider, patient, note_model, *, sign: bool = True, **content):
    """``patient``'s ``note_model`` note on a session on ``day``, signed unless ``sign=False``."""
    with time_machine.travel(ten_o_clock(day), tick=False):
        participant = under_way(booked(group_session(provider, provider.clinics.get(), day=day), patient))
        note = NoteService.create_note(
            note_model, participant=participant, provider=provider, user=provider.user, **content
        )
        return NoteService.sign_note(note, user=provider.user) if sign else note


def ot_note_on(day, provider, patient, skills, **options):
    rows = [{"skill": skill, "rating": rating, "comments": f"About {skill}"} for skill, rating in skills]
    return note_on(day, provider, patient, OTSession, **OT_FORM, target_skills=rows, **options)


def aba_note_on(day, provider, patient, targets, **options):
    rows = [
        {"target": target, "trials": trials, "correct": correct, "prompt_level": prompt}
        for target, trials, correct, prompt in targets
    ]
    records = [{"behaviour": "Elopement", "frequency": 2}]
    return note_on(
        day,
        provider,
        patient,
        ABASession,
        **ABA_FORM,
        behaviour_records=records,
        skill_targets=rows,
        **options,
    )


@pytest.fixture
def ot_provider(tenant):
    return ProviderFactory(clinic=clinic_of(tenant, Specialty.OT))


@pytest.fixture
def aba_provider(tenant):
    return ProviderFactory(clinic=clinic_of(tenant, Specialty.ABA))


@pytest.fixture
def child(tenant):
    return consented_patient(tenant)


def todays_participant(provider, patient):
    return under_way(booked(group_session(provider, provider.clinics.get()), patient))


def write_page(client, provider, participant):
    client.force_login(provider.user)
    return client.get(write_url(participant))


# OT


def test_ot_new_note_starts_with_the_last_signed_notes_skill_names_unrated(
    client, ot_provider, child, django_assert_num_queries
):
    ot_note_on(days_ago(14), ot_provider, child, [("Hopping", 2)])
    source = ot_note_on(days_ago(7), ot_provider, child, [("Catching", 4), ("Threading", 7)])
    participant = todays_participant(ot_provider, child)

    response = write_page(client, ot_provider, participant)

    formset = response.context["note_forms"].formsets[0]
    assert [form.initial for form in formset.forms] == [{"skill": "Catching"}, {"skill": "Threading"}]
    assert response.context["note_forms"].carried_over.source == source
    html = response.content.decode()
    assert 'name="target_skills-TOTAL_FORMS" value="2"' in html
    assert 'name="target_skills-0-skill" value="Catching"' in html
    assert 'name="target_skills-1-skill" value="Threading"' in html
    assert 'name="target_skills-0-rating" min="0" max="10"' in html
    assert "About Catching" not in html
    day = date_format(days_ago(7), "SHORT_DATE_FORMAT")
    assert (
        f"Targets carried over from the signed note of {day}: enter this session's results, "
        "or remove the targets not worked on." in html
    )


def test_ot_carried_over_skills_are_saved_once_rated_and_the_source_note_is_unchanged(
    client, ot_provider, child
):
    source = ot_note_on(days_ago(7), ot_provider, child, [("Catching", 4), ("Threading", 7)])
    participant = todays_participant(ot_provider, child)
    write_page(client, ot_provider, participant)
    rows = [
        {"skill": "Catching", "rating": "6"},
        {"skill": "Threading", "rating": "", "DELETE": "on"},
    ]

    response = client.post(write_url(participant), {**OT_FORM, **rows_data("target_skills", rows)})

    note = OTSession.objects.get(session_participant=participant)
    assert response.status_code == 302
    assert list(note.target_skills.values_list("skill", "rating", "comments")) == [("Catching", 6, "")]
    assert list(source.target_skills.values_list("skill", "rating")) == [("Catching", 4), ("Threading", 7)]


def test_ot_carried_over_skill_left_unrated_is_refused_not_dropped(client, ot_provider, child):
    ot_note_on(days_ago(7), ot_provider, child, [("Catching", 4)])
    participant = todays_participant(ot_provider, child)
    write_page(client, ot_provider, participant)

    response = client.post(
        write_url(participant),
        {**OT_FORM, **rows_data("target_skills", [{"skill": "Catching", "rating": ""}])},
    )

    assert response.status_code == 200
    assert response.context["note_forms"].formsets[0].errors == [{"rating": ["This field is required."]}]
    assert not OTSession.objects.filter(session_participant=participant).exists()


def test_ot_drafts_are_not_carried_over(client, ot_provider, child):
    ot_note_on(days_ago(14), ot_provider, child, [("Hopping", 2)])
    ot_note_on(days_ago(7), ot_provider, child, [("Drafted skill", 5)], sign=False)

    rows = carried_over_rows(OTSession, todays_participant(ot_provider, child), ot_provider.user).rows

    assert rows == {"target_skills": [{"skill": "Hopping"}]}


def test_ot_child_with_only_a_draft_starts_blank(client, ot_provider, child):
    ot_note_on(days_ago(7), ot_provider, child, [("Drafted skill", 5)], sign=False)

    response = write_page(client, ot_provider, todays_participant(ot_provider, child))

    html = response.content.decode()
    assert response.context["note_forms"].carried_over is None
    assert 'name="target_skills-TOTAL_FORMS" value="1"' in html
    assert "Drafted skill" not in html
    assert 'data-testid="carried-over"' not in html


def test_ot_child_without_a_signed_note_starts_blank(client, tenant, ot_provider, child):
    ot_note_on(days_ago(7), ot_provider, consented_patient(tenant), [("Another child's skill", 5)])

    response = write_page(client, ot_provider, todays_participant(ot_provider, child))

    assert response.context["note_forms"].carried_over is None
    assert "Another child&#x27;s skill" not in response.content.decode()


def test_ot_last_signed_note_without_skills_carries_nothing(ot_provider, child):
    ot_note_on(days_ago(14), ot_provider, child, [("Hopping", 2)])
    ot_note_on(days_ago(7), ot_provider, child, [])

    assert carried_over_rows(OTSession, todays_participant(ot_provider, child), ot_provider.user) is None


def test_ot_the_latest_session_wins_over_the_latest_signature(ot_provider, child):
    # Signed in the order the sessions came would not tell the rule apart: sign the older later.
    newer = ot_note_on(days_ago(3), ot_provider, child, [("Newer session", 5)])
    older = ot_note_on(days_ago(9), ot_provider, child, [("Older session", 5)], sign=False)
    with time_machine.travel(ten_o_clock(today()) + datetime.timedelta(minutes=5), tick=False):
        NoteService.sign_note(older, user=ot_provider.user)

    carried = carried_over_rows(OTSession, todays_participant(ot_provider, child), ot_provider.user)

    assert older.signed_at > newer.signed_at
    assert (carried.source, carried.rows) == (newer, {"target_skills": [{"skill": "Newer session"}]})


def test_ot_of_one_day_the_note_signed_last_is_copied(ot_provider, child):
    day = days_ago(2)
    morning = ot_note_on(day, ot_provider, child, [("Morning", 5)])
    with time_machine.travel(ten_o_clock(day), tick=False):
        session = group_session(ot_provider, ot_provider.clinics.get(), day=day, hour=14)
        participant = booked(session, child)
    with time_machine.travel(ten_o_clock(day) + datetime.timedelta(hours=4, minutes=5), tick=False):
        afternoon = NoteService.create_note(
            OTSession,
            participant=under_way(participant),
            provider=ot_provider,
            **OT_FORM,
            target_skills=[{"skill": "Afternoon", "rating": 6}],
        )
        NoteService.sign_note(afternoon, user=ot_provider.user)

    carried = carried_over_rows(OTSession, todays_participant(ot_provider, child), ot_provider.user)

    assert afternoon.signed_at > morning.signed_at
    assert carried.rows == {"target_skills": [{"skill": "Afternoon"}]}


def test_ot_notes_of_later_sessions_are_not_carried_back(ot_provider, child):
    ot_note_on(days_ago(7), ot_provider, child, [("Before", 5)])
    ot_note_on(today() + datetime.timedelta(days=7), ot_provider, child, [("After", 5)])

    rows = carried_over_rows(OTSession, todays_participant(ot_provider, child), ot_provider.user).rows

    assert rows == {"target_skills": [{"skill": "Before"}]}


def test_ot_carry_over_keeps_to_the_users_organisation(ot_provider, child):
    ot_note_on(days_ago(7), ot_provider, child, [("Catching", 5)])
    participant = todays_participant(ot_provider, child)
    foreign_clinician = staff_member(TenantFactory(code="OTHER"), User.Role.OCCUPATIONAL_THERAPIST)

    assert carried_over_rows(OTSession, participant, foreign_clinician) is None
    assert carried_over_rows(OTSession, participant, ot_provider.user) is not None


def test_ot_notes_of_another_discipline_are_not_carried_over(tenant, ot_provider, aba_provider, child):
    aba_note_on(days_ago(7), aba_provider, child, [("Mand", 10, 8, "verbal")])

    assert carried_over_rows(OTSession, todays_participant(ot_provider, child), ot_provider.user) is None


# ABA


def test_aba_new_note_starts_with_the_targets_and_prompt_levels_without_counts(client, aba_provider, child):
    aba_note_on(
        days_ago(7),
        aba_provider,
        child,
        [("Mand for break", 8, 6, "verbal"), ("Wait", 4, 4, ""), ("Imitate", 10, 2, "full_physical")],
    )
    participant = todays_participant(aba_provider, child)

    response = write_page(client, aba_provider, participant)

    records, targets = response.context["note_forms"].formsets
    assert [form.initial for form in targets.forms] == [
        {"target": "Mand for break", "prompt_level": "verbal"},
        {"target": "Wait", "prompt_level": ""},
        {"target": "Imitate", "prompt_level": "full_physical"},
    ]
    assert [form.initial for form in records.forms] == [{}]
    html = response.content.decode()
    assert 'name="skill_targets-TOTAL_FORMS" value="3"' in html
    assert 'name="behaviour_records-TOTAL_FORMS" value="1"' in html
    assert 'name="skill_targets-0-target" value="Mand for break"' in html
    assert '<option value="verbal" selected>Verbal</option>' in html
    assert 'name="skill_targets-0-trials" min="0"' in html
    assert 'name="skill_targets-0-correct" min="0"' in html
    assert "Elopement" not in html


def test_aba_carried_over_targets_are_saved_with_this_sessions_counts(client, aba_provider, child):
    aba_note_on(days_ago(7), aba_provider, child, [("Mand for break", 8, 6, "verbal")])
    participant = todays_participant(aba_provider, child)
    write_page(client, aba_provider, participant)
    targets = [{"target": "Mand for break", "trials": "10", "correct": "9", "prompt_level": "gestural"}]

    client.post(
        write_url(participant),
        {**ABA_FORM, **rows_data("behaviour_records", []), **rows_data("skill_targets", targets)},
    )

    note = ABASession.objects.get(session_participant=participant)
    assert list(note.skill_targets.values_list("target", "trials", "correct", "prompt_level")) == [
        ("Mand for break", 10, 9, "gestural")
    ]


def test_aba_drafts_and_other_children_are_ignored(tenant, aba_provider, child):
    aba_note_on(days_ago(14), aba_provider, child, [("Signed target", 4, 2, "model")])
    aba_note_on(days_ago(7), aba_provider, child, [("Draft target", 4, 2, "verbal")], sign=False)
    aba_note_on(days_ago(3), aba_provider, consented_patient(tenant), [("Other child", 4, 2, "verbal")])

    rows = carried_over_rows(ABASession, todays_participant(aba_provider, child), aba_provider.user).rows

    assert rows == {"skill_targets": [{"target": "Signed target", "prompt_level": "model"}]}


@pytest.mark.parametrize("targets", [2, 12])
def test_aba_write_page_query_count_with_carried_targets_does_not_grow(
    client, aba_provider, child, targets, django_assert_num_queries
):
    aba_note_on(days_ago(7), aba_provider, child, [(f"Target {n}", 4, 2, "verbal") for n in range(targets)])
    participant = todays_participant(aba_provider, child)
    client.force_login(aba_provider.user)

    # session, user, the participant with its session, clinic, provider and patient, the
    # viewer's provider profile, no note yet, the last signed note, its skill targets, the
    # next child (none), the access-log row
    with django_assert_num_queries(9):
        response = client.get(write_url(participant))

    assert len(response.context["note_forms"].formsets[1].forms) == targets
