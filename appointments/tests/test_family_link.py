"""The family's confirm-or-cancel link: what a token opens, confirm and cancel, in both languages.

Reminder rows are written with the ORM here (the planner that writes them has its own tests);
the bookings are made and moved through the services. The clock is pinned (``frozen_today``:
10:00 on Sunday 15 March 2026); the sessions are on the following days.
"""

import datetime

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, SessionParticipant
from appointments.reminders.models import Reminder
from appointments.reminders.tokens import SALT, make_link_token
from appointments.session_service import SessionService
from core.models import AccessLog, Guardian
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.test_security_headers import problems_of
from core.tests.view_helpers import booked, consented_patient, group_session, legacy_appointment, messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    """Every test starts with no requests counted against the test client's address."""
    cache.clear()
    yield
    cache.clear()


def child(tenant, first_en="Sara", first_ar="سارة", last_en="Otaibi"):
    return consented_patient(tenant, first_name_en=first_en, first_name_ar=first_ar, last_name_en=last_en)


def guardian_of(patient, language=Guardian.Language.ARABIC) -> Guardian:
    return Guardian.objects.create(
        patient=patient,
        name_en="Mona",
        name_ar="منى",
        phone="+966501234567",
        preferred_language=language,
        consent_to_contact=True,
        is_primary=True,
    )


def start_of(booking) -> datetime.datetime:
    slot = booking if isinstance(booking, Appointment) else booking.session
    return timezone.make_aware(slot.starts_at, timezone.get_default_timezone())


def reminder_for(booking, guardian=None, **fields) -> Reminder:
    """The row a reminder for ``booking`` left behind (written as the planner writes it)."""
    start = start_of(booking)
    kind = {"appointment": booking} if isinstance(booking, Appointment) else {"participant": booking}
    return Reminder.objects.create(
        tenant=booking.patient.tenant,
        guardian=guardian,
        channel=Guardian.Channel.SMS,
        scheduled_start=start,
        send_after=start - datetime.timedelta(hours=48),
        **kind,
        **fields,
    )


def link_for(*reminders) -> str:
    return reverse("family:link", args=[make_link_token(reminders)])


@pytest.fixture
def session(provider, clinic, frozen_today):
    """A group session the day after tomorrow at 10:00: 48 hours ahead, outside the late window."""
    return group_session(provider, clinic, day=frozen_today + datetime.timedelta(days=2), hour=10)


@pytest.fixture
def sara(session, tenant):
    participant = booked(session, child(tenant))
    return participant, reminder_for(participant, guardian_of(participant.patient))


def text_of(response) -> str:
    return response.content.decode()


# The page -----------------------------------------------------------------------------------------


def test_link_page_in_arabic_shows_first_name_date_time_centre_and_state(client, sara):
    participant, reminder = sara

    response = client.get(link_for(reminder))

    page = text_of(response)
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page
    assert "bootstrap.rtl.min.css" in page
    assert "سارة" in page
    assert "Otaibi" not in page  # the first name only
    assert "العتيبي" not in page
    assert "مركز أجدر" in page  # the centre, in Arabic
    assert "الثلاثاء 17 مارس 2026" in page  # day first, in Arabic
    assert "10:00" in page
    assert "محجوز" in page  # "Booked"
    assert "تأكيد سارة" in page  # "Confirm Sara"
    assert participant.appointment_number not in page


def test_link_page_in_english_for_an_english_speaking_guardian(client, session, tenant):
    participant = booked(session, child(tenant))
    reminder = reminder_for(participant, guardian_of(participant.patient, Guardian.Language.ENGLISH))

    response = client.get(link_for(reminder), HTTP_ACCEPT_LANGUAGE="ar")

    page = text_of(response)
    assert '<html lang="en" dir="ltr">' in page
    assert "Agdar Centre" in page
    assert "Session on Tuesday 17 March 2026 at 10:00" in page
    assert "Confirm Sara" in page
    assert "Cancel Sara" in page
    assert "Booked" in page


def test_link_page_shows_no_staff_navigation_and_no_sign_in(client, sara):
    page = text_of(client.get(link_for(sara[1])))

    assert "navbar" not in page
    assert reverse("login") not in page
    assert reverse("home") + '"' not in page
    assert "<script" not in page


@pytest.mark.parametrize(
    ("origin", "with_token", "status"),
    [
        # What a browser sends under Referrer-Policy: no-referrer: accepted with the token.
        ("null", True, 302),
        ("null", False, 403),
        ("http://testserver", True, 302),
        ("https://elsewhere.example", True, 403),
    ],
)
def test_a_post_needs_the_csrf_token_and_a_null_or_own_origin(sara, origin, with_token, status):
    client = Client(enforce_csrf_checks=True)
    url = link_for(sara[1])
    token = client.get(url).cookies["csrftoken"].value
    form = {"step": "confirm", "booking": sara[1].pk} | ({"csrfmiddlewaretoken": token} if with_token else {})

    response = client.post(url, form, HTTP_ORIGIN=origin)

    assert response.status_code == status
    sara[0].refresh_from_db()
    assert sara[0].status == (Status.CONFIRMED if status == 302 else Status.BOOKED)


# Confirm ------------------------------------------------------------------------------------------


def test_confirm_through_the_link_in_arabic(client, sara):
    participant, reminder = sara
    url = link_for(reminder)

    response = client.post(url, {"step": "confirm", "booking": reminder.pk})

    assert (response.status_code, response.url) == (302, url)
    participant.refresh_from_db()
    assert participant.status == Status.CONFIRMED
    assert participant.confirmed_at is not None
    page = client.get(url)
    assert messages_of(page) == ["تم تأكيد جلسة سارة. شكرًا لك."]
    assert "مؤكد" in text_of(page)  # "Confirmed"


def test_confirm_through_the_link_in_english_and_again(client, session, tenant):
    participant = booked(session, child(tenant))
    reminder = reminder_for(participant, guardian_of(participant.patient, Guardian.Language.ENGLISH))
    url = link_for(reminder)

    client.post(url, {"step": "confirm", "booking": reminder.pk})
    first = messages_of(client.get(url))
    client.post(url, {"step": "confirm", "booking": reminder.pk})
    second = messages_of(client.get(url))

    participant.refresh_from_db()
    assert participant.status == Status.CONFIRMED
    assert first == ["Sara's session is confirmed. Thank you."]
    assert second == ["Sara's session was already confirmed."]


def test_siblings_in_one_link_confirm_one_by_one_or_all_at_once(client, session, tenant):
    sara = booked(session, child(tenant))
    omar = booked(session, child(tenant, "Omar", "عمر"))
    mother = guardian_of(sara.patient, Guardian.Language.ENGLISH)
    rows = [reminder_for(sara, mother), reminder_for(omar, mother)]
    url = link_for(*rows)

    client.post(url, {"step": "confirm", "booking": rows[1].pk})
    one = messages_of(client.get(url))
    sara.refresh_from_db()
    omar.refresh_from_db()
    assert (sara.status, omar.status) == (Status.BOOKED, Status.CONFIRMED)

    client.post(url, {"step": "confirm", "booking": "all"})
    both = messages_of(client.get(url))

    sara.refresh_from_db()
    assert sara.status == Status.CONFIRMED
    assert one == ["Omar's session is confirmed. Thank you."]
    assert both == ["Sara's session is confirmed. Thank you.", "Omar's session was already confirmed."]


def test_a_booking_outside_the_link_is_not_touched(client, session, tenant, sara):
    other = booked(session, child(tenant, "Huda", "هدى"))
    reminder_for(other)
    url = link_for(sara[1])

    client.post(url, {"step": "confirm", "booking": "999999"})

    other.refresh_from_db()
    sara[0].refresh_from_db()
    assert (other.status, sara[0].status) == (Status.BOOKED, Status.BOOKED)
    assert messages_of(client.get(url)) == [
        "لم يعد من الممكن تغيير هذا الحجز عبر الرابط. يرجى الاتصال بالمركز."
    ]


# Cancel -------------------------------------------------------------------------------------------


def test_cancel_through_the_link_in_english_records_a_family_cancellation_not_late(client, session, tenant):
    participant = booked(session, child(tenant))
    reminder = reminder_for(participant, guardian_of(participant.patient, Guardian.Language.ENGLISH))
    url = link_for(reminder)

    form_page = text_of(client.get(url, {"cancel": reminder.pk}))
    response = client.post(
        url, {"step": "cancel", "booking": reminder.pk, "reason": "Travelling", "category": "transport"}
    )

    assert "Why are you cancelling?" in form_page
    assert "late cancellation" not in form_page
    assert response.status_code == 302
    participant.refresh_from_db()
    assert participant.status == Status.CANCELLED
    assert (participant.cancelled_by, participant.cancel_category, participant.cancel_reason) == (
        SessionParticipant.CancelledBy.FAMILY,
        "transport",
        "Travelling",
    )
    assert (participant.is_late_cancellation, participant.billable) == (False, False)
    after = client.get(url)
    assert after.status_code == 410
    assert messages_of(after) == ["Sara's session is cancelled."]
    assert "This link no longer works because the session was cancelled." in text_of(after)


def test_cancel_through_the_link_in_arabic(client, sara):
    participant, reminder = sara
    url = link_for(reminder)

    client.post(url, {"step": "cancel", "booking": reminder.pk, "reason": "مريضة", "category": "illness"})

    participant.refresh_from_db()
    assert participant.status == Status.CANCELLED
    after = client.get(url)
    assert messages_of(after) == ["تم إلغاء جلسة سارة."]
    assert '<html lang="ar" dir="rtl">' in text_of(after)


def test_cancel_needs_a_reason(client, sara):
    participant, reminder = sara
    url = link_for(reminder)

    response = client.post(url, {"step": "cancel", "booking": reminder.pk, "reason": " ", "category": ""})

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"reason", "category"}
    participant.refresh_from_db()
    assert participant.status == Status.BOOKED


def test_late_cancellation_through_the_link_warns_asks_twice_and_is_recorded_late_and_billable(
    client, provider, clinic, tenant, frozen_today
):
    tomorrow_nine = group_session(provider, clinic, day=frozen_today + datetime.timedelta(days=1), hour=9)
    participant = booked(tomorrow_nine, child(tenant))
    reminder = reminder_for(participant, guardian_of(participant.patient, Guardian.Language.ENGLISH))
    url = link_for(reminder)
    cancel = {"step": "cancel", "booking": reminder.pk, "reason": "Fever", "category": "illness"}

    form_page = text_of(client.get(url, {"cancel": reminder.pk}))
    unconfirmed = client.post(url, cancel)
    participant.refresh_from_db()
    status_before = participant.status
    client.post(url, {**cancel, "accept_late": "on"})

    assert "This is a late cancellation: the session starts soon, and it may be charged." in form_page
    assert unconfirmed.status_code == 200
    assert unconfirmed.context["form"].errors == {
        "accept_late": ["Tick the box to confirm that you know this late cancellation may be charged."]
    }
    assert status_before == Status.BOOKED
    participant.refresh_from_db()
    assert participant.status == Status.CANCELLED
    assert participant.cancelled_by == SessionParticipant.CancelledBy.FAMILY
    assert (participant.is_late_cancellation, participant.billable) == (True, True)
    assert messages_of(client.get(url)) == [
        "Sara's session is cancelled.",
        "The cancellation was late: the session may be charged.",
    ]


def test_a_sibling_cancelled_stays_on_the_page_while_the_other_can_still_confirm(client, session, tenant):
    sara = booked(session, child(tenant))
    omar = booked(session, child(tenant, "Omar", "عمر"))
    mother = guardian_of(sara.patient, Guardian.Language.ENGLISH)
    rows = [reminder_for(sara, mother), reminder_for(omar, mother)]
    url = link_for(*rows)

    client.post(url, {"step": "cancel", "booking": rows[0].pk, "reason": "Ill", "category": "illness"})
    page = client.get(url)

    omar.refresh_from_db()
    assert page.status_code == 200
    assert omar.status == Status.BOOKED
    assert "Cancelled" in text_of(page)
    assert "Confirm Omar" in text_of(page)
    assert "Confirm Sara" not in text_of(page)


def test_cancel_all_siblings_at_once(client, session, tenant):
    sara = booked(session, child(tenant))
    omar = booked(session, child(tenant, "Omar", "عمر"))
    rows = [reminder_for(sara, guardian_of(sara.patient)), reminder_for(omar)]
    url = link_for(*rows)

    client.post(url, {"step": "cancel", "booking": "all", "reason": "Holiday", "category": "other"})

    sara.refresh_from_db()
    omar.refresh_from_db()
    assert (sara.status, omar.status) == (Status.CANCELLED, Status.CANCELLED)
    assert {sara.cancelled_by, omar.cancelled_by} == {SessionParticipant.CancelledBy.FAMILY}


# Legacy appointments ------------------------------------------------------------------------------


def test_legacy_appointment_confirmed_then_cancelled_through_the_link(
    client, provider, clinic, tenant, frozen_today
):
    appointment = legacy_appointment(
        provider, clinic, child(tenant), day=frozen_today + datetime.timedelta(days=3)
    )
    reminder = reminder_for(appointment, guardian_of(appointment.patient, Guardian.Language.ENGLISH))
    url = link_for(reminder)

    client.post(url, {"step": "confirm", "booking": reminder.pk})
    appointment.refresh_from_db()
    confirmed = appointment.status
    client.post(url, {"step": "cancel", "booking": reminder.pk, "reason": "Moving away", "category": "other"})

    assert confirmed == Appointment.Status.CONFIRMED
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (Appointment.Status.CANCELLED, "Moving away")


# Refusals -----------------------------------------------------------------------------------------


def refusal(response) -> tuple[int, str]:
    return response.status_code, response.context["message"]


def test_a_tampered_token_is_not_valid(client, sara):
    token = make_link_token([sara[1]])
    payload, signature = token.rsplit(":", 1)
    tampered = f"{payload}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"

    response = client.get(reverse("family:link", args=[tampered]))

    assert response.status_code == 404
    assert "This link is not valid." in text_of(response)


def test_a_token_signed_for_rows_that_are_gone_is_not_valid(client, sara):
    url = link_for(sara[1])
    Reminder.objects.filter(pk=sara[1].pk).delete()

    assert client.get(url).status_code == 404


def test_a_token_never_mixes_organisations(client, sara):
    other = TenantFactory(code="OTHER", name_en="Other Centre")
    clinic = ClinicFactory(tenant=other)
    elsewhere = booked(
        group_session(ProviderFactory(clinic=clinic), clinic, day=sara[0].session.scheduled_date, hour=10),
        child(other, "Lina", "لينا"),
    )
    mixed = signing.dumps(
        {"r": [sara[1].pk, reminder_for(elsewhere).pk], "s": int(sara[1].scheduled_start.timestamp())},
        salt=SALT,
        compress=True,
    )

    response = client.get(reverse("family:link", args=[mixed]))

    assert response.status_code == 404
    assert "Lina" not in text_of(response)
    assert "Sara" not in text_of(response)


def test_a_row_of_another_organisation_than_its_child_is_not_valid(client, sara):
    other = TenantFactory(code="OTHER")
    Reminder.objects.filter(pk=sara[1].pk).update(tenant=other)

    assert client.get(link_for(sara[1])).status_code == 404


def test_an_expired_link_is_refused_from_the_session_start(client, sara):
    url = link_for(sara[1])

    with time_machine.travel(sara[1].scheduled_start, tick=False):
        response = client.get(url)

    assert refusal(response) == (410, "This link has expired: the session has already started.")


def test_a_link_still_works_a_minute_before_the_start(client, sara):
    url = link_for(sara[1])

    with time_machine.travel(sara[1].scheduled_start - datetime.timedelta(minutes=1), tick=False):
        assert client.get(url).status_code == 200


MOVED = (
    "This link no longer works because the session was moved. "
    "A new message with the new time has been sent; please use that one."
)


def test_a_voided_link_is_refused_as_moved(client, sara):
    url = link_for(sara[1])
    Reminder.objects.filter(pk=sara[1].pk).update(voided_at=timezone.now())

    assert refusal(client.get(url)) == (410, MOVED)


def test_a_rescheduled_session_voids_the_link(client, sara, frozen_today):
    url = link_for(sara[1])

    SessionService.reschedule_session(
        sara[0].session,
        scheduled_date=frozen_today + datetime.timedelta(days=4),
        scheduled_time=datetime.time(11),
    )

    assert refusal(client.get(url)) == (410, MOVED)
    response = client.post(url, {"step": "confirm", "booking": sara[1].pk})
    assert response.status_code == 410
    sara[0].refresh_from_db()
    assert sara[0].status == Status.BOOKED


def test_a_cancelled_session_voids_the_link(client, sara):
    url = link_for(sara[1])

    SessionService.cancel_session(sara[0].session, reason="Therapist ill")

    assert refusal(client.get(url)) == (410, "This link no longer works because the session was cancelled.")


def test_refusal_speaks_the_guardians_language_once_the_rows_are_known(client, sara):
    Reminder.objects.filter(pk=sara[1].pk).update(voided_at=timezone.now())

    page = text_of(client.get(link_for(sara[1]), HTTP_ACCEPT_LANGUAGE="en"))

    assert '<html lang="ar" dir="rtl">' in page


# Headers, access log, rate limit ------------------------------------------------------------------


def assert_family_headers(response):
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex"


def test_every_answer_of_the_link_keeps_out_of_caches_search_engines_and_referers(client, sara, settings):
    url = link_for(sara[1])

    assert_family_headers(client.get(url))
    assert_family_headers(client.post(url, {"step": "confirm", "booking": sara[1].pk}))
    assert_family_headers(client.get(reverse("family:link", args=["nonsense"])))
    settings.FAMILY_LINK_RATE_LIMIT = 0
    limited = client.get(url)
    assert limited.status_code == 429
    assert_family_headers(limited)


@pytest.mark.parametrize("cancel", ["", "all"])
def test_the_page_keeps_the_sites_other_security_headers_and_runs_no_inline_code(client, sara, cancel):
    response = client.get(link_for(sara[1]), {"cancel": cancel} if cancel else {})

    assert response.status_code == 200
    assert problems_of(response) == ["Referrer-Policy: 'no-referrer'"]  # on purpose: the URL holds the token


def test_page_views_and_actions_are_access_logged_as_the_guardian_link_without_user_or_token(
    client, session, tenant
):
    sara = booked(session, child(tenant))
    omar = booked(session, child(tenant, "Omar", "عمر"))
    rows = [reminder_for(sara, guardian_of(sara.patient)), reminder_for(omar)]
    token = make_link_token(rows)
    url = reverse("family:link", args=[token])
    first = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0

    client.get(url)
    client.post(url, {"step": "confirm", "booking": rows[1].pk})

    logged = list(
        AccessLog.objects.filter(id__gt=first)
        .order_by("id")
        .values("actor", "user", "tenant", "patient", "action", "object_type", "object_id", "ip")
    )
    row = {"actor": "guardian link", "user": None, "tenant": tenant.pk, "action": "view", "ip": "127.0.0.1"}
    assert logged == [
        {
            **row,
            "patient": sara.patient_id,
            "object_type": "family_link",
            "object_id": sara.appointment_number,
        },
        {
            **row,
            "patient": omar.patient_id,
            "object_type": "family_link",
            "object_id": omar.appointment_number,
        },
        {
            **row,
            "patient": omar.patient_id,
            "object_type": "family_link_confirm",
            "object_id": omar.appointment_number,
        },
    ]
    every_value = " ".join(str(value) for entry in AccessLog.objects.values() for value in entry.values())
    assert token not in every_value
    assert token.split(":")[0] not in every_value


def test_a_signed_in_staff_member_opening_the_link_is_still_logged_as_the_link(client, sara, desk_user):
    client.force_login(desk_user)
    first = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0

    client.get(link_for(sara[1]))

    assert list(AccessLog.objects.filter(id__gt=first).values_list("actor", "user")) == [
        ("guardian link", None)
    ]


def test_rate_limit_answers_429_with_a_friendly_page_per_client_address(client, sara, settings):
    settings.FAMILY_LINK_RATE_LIMIT = 3
    url = link_for(sara[1])

    statuses = [client.get(url).status_code for _ in range(3)]
    limited = client.get(url)
    other_address = client.get(url, REMOTE_ADDR="10.0.0.9")
    bad_tokens_count_too = client.get(reverse("family:link", args=["guess"]), REMOTE_ADDR="10.0.0.9")

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert "Please wait a few minutes and try again." in text_of(limited)
    assert other_address.status_code == 200
    assert bad_tokens_count_too.status_code == 404


def test_rate_limit_counts_the_address_the_trusted_proxy_saw(client, sara, settings):
    settings.FAMILY_LINK_RATE_LIMIT = 1
    settings.TRUSTED_PROXY_COUNT = 1
    url = link_for(sara[1])

    first = client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.5")
    second = client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.5")
    another = client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert [first.status_code, second.status_code, another.status_code] == [200, 429, 200]


def test_rate_limit_window_ends_after_ten_minutes(client, sara, settings):
    settings.FAMILY_LINK_RATE_LIMIT = 1
    url = link_for(sara[1])
    client.get(url)

    assert client.get(url).status_code == 429
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11), tick=False):
        assert client.get(url).status_code == 200


def test_an_unknown_action_changes_nothing(client, sara):
    url = link_for(sara[1])

    response = client.post(url, {"step": "delete", "booking": sara[1].pk})

    assert response.status_code == 302
    sara[0].refresh_from_db()
    assert sara[0].status == Status.BOOKED


def test_the_link_answers_get_and_post_only(client, sara):
    assert client.put(link_for(sara[1])).status_code == 405
