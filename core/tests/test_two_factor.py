"""The TOTP second factor: enrolment, codes, backup codes, who must give one, and the admin's reset.

Codes are computed as an authenticator app would (``django_otp.oath.totp`` on the
device's key) with the clock pinned, so a code is valid for the whole test.
"""

import datetime
import re
from binascii import unhexlify
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib import admin
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import User
from core.tests.factories import TenantFactory
from core.tests.view_helpers import staff_member, superuser
from core.two_factor import BACKUP_CODE_COUNT, secret_text
from core.two_factor_views import PENDING_SECRET_SESSION_KEY

pytestmark = [pytest.mark.django_db]

Role = User.Role
PASSWORD = "pass12345"  # UserFactory's
# RFC 6238's test key, "12345678901234567890", hex-encoded as django-otp stores keys.
KEY = "3132333435363738393031323334353637383930"
PINNED = datetime.datetime(2026, 3, 15, 7, 0, 10, tzinfo=datetime.UTC)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
otp_required = override_settings(OTP_REQUIRED=True)


@pytest.fixture(autouse=True)
def pinned_clock():
    """One 30-second TOTP step for the whole test: the code computed is the one the server expects."""
    with time_machine.travel(PINNED, tick=False):
        yield


def code(key: str = KEY, steps_later: int = 0) -> str:
    """The six-digit code an authenticator app with ``key`` shows now (or ``steps_later`` steps on)."""
    return f"{totp(unhexlify(key), drift=steps_later):06d}"


def authenticator_for(user: User, key: str = KEY) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, key=key, name="authenticator", confirmed=True)


def backup_codes_for(user: User, *codes: str) -> StaticDevice:
    device = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    for token in codes:
        StaticToken.objects.create(device=device, token=token)
    return device


def verify_url(next_page: str = "") -> str:
    return reverse("two_factor_verify") + (f"?{urlencode({'next': next_page})}" if next_page else "")


def enrol_url(next_page: str) -> str:
    return f"{reverse('two_factor')}?{urlencode({'next': next_page})}"


def is_verified(client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


# Enrolment ----------------------------------------------------------------------------------------


def test_enrolment_shows_a_secret_and_an_inline_svg_qr_code_without_inline_script(client, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))

    response = client.get(reverse("two_factor"))

    html = response.content.decode()
    secret = client.session[PENDING_SECRET_SESSION_KEY]
    assert response.status_code == 200
    assert secret_text(secret) in html
    assert '<svg width="' in html
    assert "otpauth" not in html  # the URI is in the QR code only, never a link
    assert INLINE_SCRIPT.findall(html) == []
    assert not TOTPDevice.objects.exists()
    assert client.get(reverse("two_factor")).context["secret"] == secret_text(secret)


def test_enrolment_with_the_apps_code_stores_the_device_and_shows_backup_codes_once(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    client.force_login(user)
    client.get(reverse("two_factor"))
    secret = client.session[PENDING_SECRET_SESSION_KEY]

    response = client.post(reverse("two_factor"), {"otp_token": code(secret)})
    status = client.get(reverse("two_factor"))

    device = TOTPDevice.objects.get(user=user)
    codes = response.context["backup_codes"]
    assert response.status_code == 200
    assert (device.key, device.confirmed) == (secret, True)
    assert len(codes) == len(set(codes)) == BACKUP_CODE_COUNT
    assert sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == sorted(
        codes
    )
    assert all(backup in response.content.decode() for backup in codes)
    assert is_verified(client)
    assert PENDING_SECRET_SESSION_KEY not in client.session
    assert status.context["backup_codes_left"] == BACKUP_CODE_COUNT
    assert not any(backup in status.content.decode() for backup in codes)


@pytest.mark.parametrize("token", ["a later code", "", "abc", "9" * 30, "\x00"])
def test_enrolment_with_a_wrong_code_stores_nothing(client, tenant, token):
    client.force_login(staff_member(tenant, Role.ADMIN))
    client.get(reverse("two_factor"))
    secret = client.session[PENDING_SECRET_SESSION_KEY]
    token = code(secret, steps_later=5) if token == "a later code" else token

    response = client.post(reverse("two_factor"), {"otp_token": token})

    assert response.status_code == 200
    assert response.context["form"].errors["otp_token"]
    assert not TOTPDevice.objects.exists()
    assert not StaticDevice.objects.exists()
    assert client.session[PENDING_SECRET_SESSION_KEY] == secret


def test_enrolment_with_a_wrong_code_writes_nothing_even_for_a_while(client, tenant):
    client.force_login(staff_member(tenant, Role.ADMIN))
    client.get(reverse("two_factor"))
    wrong = code(client.session[PENDING_SECRET_SESSION_KEY], steps_later=5)

    with CaptureQueriesContext(connection) as queries:
        client.post(reverse("two_factor"), {"otp_token": wrong})

    writes = [query["sql"] for query in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", query["sql"])]
    assert [sql for sql in writes if "django_session" not in sql and "core_accesslog" not in sql] == []


def test_the_code_that_confirmed_enrolment_cannot_sign_in_again(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    client.force_login(user)
    client.get(reverse("two_factor"))
    used = code(client.session[PENDING_SECRET_SESSION_KEY])
    client.post(reverse("two_factor"), {"otp_token": used})
    client.logout()
    user.refresh_from_db()
    client.force_login(user)

    response = client.post(verify_url(), {"otp_token": used})

    assert response.context["form"].errors["otp_token"] == ["That code is not valid."]
    assert not is_verified(client)


def test_enrolment_is_not_offered_again_once_an_authenticator_is_set_up(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    page = client.get(reverse("two_factor"))
    posted = client.post(reverse("two_factor"), {"otp_token": code()})

    assert "secret" not in page.context
    assert page.context["device"].key == KEY
    assert posted.status_code == 200
    assert TOTPDevice.objects.filter(user=user).count() == 1


# Verifying after the password ---------------------------------------------------------------------


def test_verify_with_the_apps_current_code_goes_on_to_the_page_asked_for(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    response = client.post(verify_url("/patients/"), {"otp_token": code()})

    assert response.status_code == 302
    assert response.url == "/patients/"
    assert is_verified(client)


def test_verify_refuses_a_wrong_code_and_a_code_used_already(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)
    client.post(verify_url(), {"otp_token": code()})
    client.logout()
    user.refresh_from_db()  # signing out ended every session: a new one starts from the saved user
    client.force_login(user)

    wrong = client.post(verify_url(), {"otp_token": code(steps_later=5)})
    with time_machine.travel(PINNED + datetime.timedelta(seconds=10), tick=False):
        replayed = client.post(verify_url(), {"otp_token": code()})

    assert wrong.status_code == replayed.status_code == 200
    assert wrong.context["form"].errors["otp_token"] == ["That code is not valid."]
    assert replayed.context["form"].errors["otp_token"] == ["That code is not valid."]
    assert not is_verified(client)


def test_verify_refuses_every_code_for_a_while_after_a_wrong_one(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    client.post(verify_url(), {"otp_token": code(steps_later=5)})
    throttled = client.post(verify_url(), {"otp_token": code()})
    with time_machine.travel(PINNED + datetime.timedelta(seconds=2), tick=False):
        later = client.post(verify_url(), {"otp_token": code()})

    assert throttled.context["form"].errors["otp_token"] == [
        "Too many wrong codes. Wait a minute, then try again."
    ]
    assert later.status_code == 302
    assert is_verified(client)


def test_a_backup_code_signs_in_once(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    backup_codes_for(user, "abcd2345", "efgh6723")
    client.force_login(user)

    first = client.post(verify_url("/patients/"), {"otp_token": " ABCD 2345 "})
    client.logout()
    user.refresh_from_db()  # signing out ended every session: a new one starts from the saved user
    client.force_login(user)
    again = client.post(verify_url(), {"otp_token": "abcd2345"})

    assert first.status_code == 302
    assert first.url == "/patients/"
    assert again.status_code == 200
    assert again.context["form"].errors["otp_token"] == ["That code is not valid."]
    assert list(StaticToken.objects.values_list("token", flat=True)) == ["efgh6723"]


def test_verify_sends_a_user_without_an_authenticator_to_set_one_up(client, tenant):
    client.force_login(staff_member(tenant, Role.ADMIN))

    response = client.get(verify_url())

    assert response.status_code == 302
    assert response.url == reverse("two_factor")


def test_verify_refuses_to_send_the_user_to_another_site(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    response = client.post(verify_url("https://evil.example/"), {"otp_token": code()})

    assert response.url == reverse("home")


# Who must give a code -----------------------------------------------------------------------------


@otp_required
def test_an_administrator_is_sent_to_give_a_code_before_a_staff_page(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    before = client.get("/patients/?q=ali")
    client.post(verify_url("/patients/?q=ali"), {"otp_token": code()})
    after = client.get("/patients/?q=ali")

    assert before.status_code == 302
    assert before.url == verify_url("/patients/?q=ali")
    assert after.status_code == 200


@otp_required
def test_an_administrator_without_an_authenticator_is_sent_to_set_one_up_first(client, tenant):
    client.force_login(staff_member(tenant, Role.ADMIN))

    home = client.get(reverse("home"))
    verify = client.get(verify_url())
    enrol = client.get(reverse("two_factor"))

    assert (home.status_code, home.url) == (302, enrol_url("/"))
    assert (verify.status_code, verify.url) == (302, reverse("two_factor"))
    assert enrol.status_code == 200


@otp_required
def test_an_unverified_administrator_cannot_see_or_replace_their_devices(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    response = client.post(reverse("two_factor"), {"otp_token": code()})

    assert (response.status_code, response.url) == (302, verify_url("/accounts/two-factor/"))
    assert TOTPDevice.objects.filter(user=user).count() == 1


@otp_required
def test_django_admin_asks_an_administrator_for_the_code(client, tenant):
    user = staff_member(tenant, Role.ADMIN, is_staff=True)
    authenticator_for(user)

    signed_in = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    before = client.get(reverse("admin:index"))
    client.post(verify_url("/admin/"), {"otp_token": code()})
    after = client.get(reverse("admin:index"))

    assert signed_in.status_code == 302
    assert (before.status_code, before.url) == (302, verify_url("/admin/"))
    assert after.status_code == 200


@otp_required
def test_the_admin_site_refuses_an_unverified_administrator_by_itself(rf, tenant):
    user = staff_member(tenant, Role.ADMIN, is_staff=True)
    request = rf.get("/admin/")
    request.user = user
    user.is_verified = lambda: False

    refused = admin.site.has_permission(request)
    user.is_verified = lambda: True

    assert refused is False
    assert admin.site.has_permission(request) is True


@otp_required
def test_a_superuser_gives_the_code_before_choosing_an_organisation(client):
    root = superuser()
    authenticator_for(root)
    client.force_login(root)

    before = client.get(reverse("core:tenant_pick"))
    client.post(verify_url(), {"otp_token": code()})
    after = client.get(reverse("core:tenant_pick"))

    assert (before.status_code, before.url) == (302, verify_url("/organisation/"))
    assert after.status_code == 200


@otp_required
@pytest.mark.parametrize(
    "role",
    [Role.FRONT_DESK, Role.FINANCE, Role.PSYCHOLOGIST, Role.OCCUPATIONAL_THERAPIST, Role.ABA_THERAPIST],
)
def test_other_staff_are_not_asked_for_a_code(client, tenant, role):
    user = staff_member(tenant, role, is_staff=True)
    authenticator_for(user)
    client.force_login(user)

    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("core:patient_search")).status_code == 200


@otp_required
def test_signing_out_and_the_language_stay_open_before_the_code(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    language = client.post(reverse("set_language"), {"language": "ar", "next": verify_url()})
    logout = client.post(reverse("logout"))

    assert language.url == verify_url()
    assert logout.url == reverse("login")


@otp_required
def test_the_code_pages_idle_timer_may_ask_for_the_time_left_before_the_code(client, tenant):
    # static/js/idle.js on the code page asks at once; a redirect there would read as signed out.
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)

    status = client.get(reverse("core:session_status"), headers={"X-Background-Request": "1"})

    assert status.status_code == 200
    assert status.json()["seconds_left"] > 0
    assert client.get(reverse("home")).url.startswith(reverse("two_factor_verify"))


def test_without_otp_required_an_administrator_is_not_asked(client, tenant):
    user = staff_member(tenant, Role.ADMIN, is_staff=True)
    authenticator_for(user)
    client.force_login(user)

    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


# The admin's reset and django-otp's own admin pages -----------------------------------------------


def devices_of(*users: User) -> dict[str, int]:
    return {
        user.username: TOTPDevice.objects.filter(user=user).count()
        + StaticDevice.objects.filter(user=user).count()
        for user in users
    }


def test_reset_action_deletes_the_devices_of_the_selected_users_of_the_organisation_only(client, tenant):
    admin_user = staff_member(tenant, Role.ADMIN, is_staff=True)
    colleague = staff_member(tenant, Role.PSYCHOLOGIST)
    bystander = staff_member(tenant, Role.FRONT_DESK)
    foreign = staff_member(TenantFactory(code="OTHER"), Role.ADMIN)
    root = superuser()
    root.tenant = tenant
    root.save()
    for user in (colleague, bystander, foreign, root):
        authenticator_for(user)
        backup_codes_for(user, "abcd2345")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:core_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [colleague.pk, foreign.pk, root.pk]},
        follow=True,
    )

    assert devices_of(colleague, bystander, foreign, root) == {
        colleague.username: 0,
        bystander.username: 2,
        foreign.username: 2,
        root.username: 2,
    }
    assert "Two-factor devices reset for 1 users" in response.content.decode()


def test_reset_action_is_not_offered_to_staff_who_are_not_administrators(client, tenant):
    clerk = staff_member(tenant, Role.FRONT_DESK, is_staff=True)
    colleague = staff_member(tenant, Role.PSYCHOLOGIST)
    authenticator_for(colleague)
    client.force_login(clerk)

    response = client.post(
        reverse("admin:core_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [colleague.pk]},
    )

    assert response.status_code == 403
    assert devices_of(colleague) == {colleague.username: 1}


def test_a_reset_user_sets_up_an_authenticator_again(client, tenant):
    user = staff_member(tenant, Role.ADMIN)
    authenticator_for(user)
    client.force_login(user)
    client.post(verify_url(), {"otp_token": code()})
    admin_user = staff_member(tenant, Role.ADMIN, is_staff=True)
    other = type(client)()
    other.force_login(admin_user)
    other.post(
        reverse("admin:core_user_changelist"), {"action": "reset_two_factor", "_selected_action": [user.pk]}
    )

    with otp_required:
        response = client.get(reverse("home"))

    assert (response.status_code, response.url) == (302, enrol_url("/"))


@pytest.mark.parametrize(
    "url_name", ["admin:otp_totp_totpdevice_changelist", "admin:otp_static_staticdevice_changelist"]
)
def test_django_otps_admin_pages_are_for_superusers_only(client, tenant, url_name):
    client.force_login(staff_member(tenant, Role.ADMIN, is_staff=True))
    tenant_admin = client.get(reverse(url_name)).status_code
    client.force_login(superuser())

    assert (tenant_admin, client.get(reverse(url_name)).status_code) == (403, 200)


def test_django_otps_admin_never_shows_a_devices_secret(client, tenant):
    device = authenticator_for(staff_member(tenant, Role.ADMIN))
    client.force_login(superuser())

    change = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    config = client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk]))

    assert change.status_code == 200
    assert KEY not in change.content.decode()
    assert config.status_code == 403


def test_every_role_manages_their_own_second_factor_only(client, tenant):
    mine = staff_member(tenant, Role.PSYCHOLOGIST)
    theirs = staff_member(tenant, Role.ADMIN)
    authenticator_for(theirs)
    client.force_login(mine)

    page = client.get(reverse("two_factor"))
    verify = client.get(verify_url())

    assert "device" not in page.context
    assert (verify.status_code, verify.url) == (302, reverse("two_factor"))
