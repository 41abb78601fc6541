"""In a real browser, with the second factor required: an administrator signs in with a TOTP code.

The test gives the administrator an authenticator with a known key and computes the
code from it as the phone app would (``django_otp.oath.totp``), the clock pinned; a
second test sets an authenticator up from the secret the page shows, under the CSP
(the QR code is inline SVG, no script).
"""

import re
from base64 import b32decode
from binascii import unhexlify

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from core.models import User
from core.tests.browser import browser, page  # noqa: F401  (pytest fixtures)
from core.tests.factories import UserFactory
from core.two_factor import BACKUP_CODE_COUNT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_today"),
]

PASSWORD = "pass12345"  # UserFactory's
# RFC 6238's test key, "12345678901234567890", hex-encoded as django-otp stores keys.
KEY = "3132333435363738393031323334353637383930"


@pytest.fixture
def administrator(tenant, settings):
    settings.OTP_REQUIRED = True
    return UserFactory(username="head", tenant=tenant, role=User.Role.ADMIN, is_staff=True)


def code_of(key: bytes) -> str:
    """The code an authenticator app with ``key`` shows now."""
    return f"{totp(key):06d}"


def sign_in(tab: Page, username: str) -> None:
    tab.goto(reverse("login"))
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", PASSWORD)
    with tab.expect_navigation():
        tab.click(f"main form[action='{reverse('login')}'] button[type=submit]")


def give_code(tab: Page, code: str) -> None:
    tab.fill("input[name=otp_token]", code)
    with tab.expect_navigation():
        tab.click("main form button[type=submit]")


def test_browser_totp_login_with_a_computed_code_lands_on_home(page, administrator):  # noqa: F811
    TOTPDevice.objects.create(user=administrator, key=KEY, name="authenticator", confirmed=True)

    sign_in(page, administrator.username)
    asked = page.url
    give_code(page, code_of(unhexlify(KEY)))

    assert reverse("two_factor_verify") in asked
    assert page.url.endswith(reverse("home"))
    assert str(administrator) in page.locator("nav .navbar-text").inner_text()


def test_browser_totp_enrolment_from_the_secret_shown_then_backup_codes(page, administrator):  # noqa: F811
    sign_in(page, administrator.username)
    asked = page.url
    secret = page.get_by_test_id("totp-secret").inner_text()
    qr_codes = page.locator("[data-testid=totp-qr] svg").count()
    key = b32decode(re.sub(r"\s", "", secret))

    give_code(page, code_of(key))
    codes = page.get_by_test_id("backup-codes").locator("li").all_inner_texts()
    with page.expect_navigation():
        page.click("main a.btn-primary")

    assert reverse("two_factor") in asked
    assert qr_codes == 1
    assert len(codes) == BACKUP_CODE_COUNT
    assert page.url.endswith(reverse("home"))
    assert TOTPDevice.objects.get(user=administrator).key == key.hex()
