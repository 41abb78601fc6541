"""The TOTP second factor (django-otp): who must give it, enrolment, verification, reset.

A user's authenticator app is a confirmed ``TOTPDevice``; their backup codes, one
``StaticDevice`` of single-use ``StaticToken`` rows. A session is verified once a code
was accepted (``django_otp.login`` keeps the device in the session; ``OTPMiddleware``
makes ``user.is_verified()`` true for the rest of it).

With ``settings.OTP_REQUIRED`` (on in production) administrators and superusers -
whoever can read every note and use Django admin - must pass the second factor before
any page (``core.two_factor_middleware``) and before Django admin
(``ClinicAdminSite.has_permission``); one without an authenticator app is sent to set
one up first. Other staff may set one up but are never asked for a code.

Enrolment: the page shows a new secret (as text and as a QR code) kept in the session
until the user types a code the app made from it; only then is the device stored,
together with a fresh set of backup codes, shown once. Setting up a second app needs an
administrator to reset the first (``reset_two_factor``), so a stolen password alone can't
replace a user's authenticator. The first set-up rests on the password alone, as any
enrolment does: an administrator's account is best set up as soon as it is made.
"""

import time
from base64 import b32encode
from binascii import unhexlify

import segno
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_otp import verify_token
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from core.models import User
from core.permissions import is_admin
from core.tenancy import for_user

BACKUP_CODE_COUNT = 10
SECRET_BYTES = 20
# The device names are data (django-otp's admin lists them), not shown on the staff pages.
AUTHENTICATOR_NAME = "authenticator"
BACKUP_CODES_NAME = "backup codes"


def must_pass_two_factor(user: User) -> bool:
    """Whether ``user`` must give a code before any page: administrators and superusers, with OTP_REQUIRED."""
    return bool(settings.OTP_REQUIRED) and user.is_authenticated and is_admin(user)


def is_verified(user: User) -> bool:
    """Whether this session of ``user`` passed the second factor (``OTPMiddleware`` sets ``is_verified``)."""
    verified = getattr(user, "is_verified", None)
    return bool(verified is not None and verified())


def passed_two_factor(user: User) -> bool:
    """Whether ``user`` may go on: not asked for the second factor, or has given it this session."""
    return not must_pass_two_factor(user) or is_verified(user)


def authenticator(user: User) -> TOTPDevice | None:
    """``user``'s confirmed authenticator app, or None before enrolment (or after a reset)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def new_secret() -> str:
    """A random TOTP key, hex-encoded as django-otp stores it."""
    return random_hex(SECRET_BYTES)


def secret_text(key: str) -> str:
    """The key as authenticator apps take it typed in: base32, in groups of four."""
    encoded = b32encode(unhexlify(key)).decode("ascii")
    return " ".join(encoded[start : start + 4] for start in range(0, len(encoded), 4))


def provisioning_uri(user: User, key: str) -> str:
    """The ``otpauth://totp/...`` URI of ``key`` for ``user`` (what the QR code holds)."""
    # An unsaved device builds the URI exactly as the stored one will (issuer, digits, period).
    return TOTPDevice(user=user, key=key).config_url


def qr_code_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` element: no script, no image request."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def _normalised(token: str) -> str:
    # Codes are read aloud and copied: spaces and dashes carry no meaning, backup codes no case.
    return "".join(token.split()).replace("-", "").lower()


@transaction.atomic
def enrol_authenticator(user: User, *, key: str, token: str) -> tuple[TOTPDevice, list[str]]:
    """Store ``user``'s authenticator app for ``key`` once ``token`` shows the app makes its codes.

    Returns the device and a new set of backup codes (replacing any earlier set), to be
    shown once. ValidationError when the code is not the app's current one, or the user
    already has an authenticator (an administrator resets it first).
    """
    if authenticator(user) is not None:
        raise ValidationError(
            _("You already have an authenticator app. An administrator can reset it if you lost it."),
            code="already_enrolled",
        )
    device = TOTPDevice(user=user, key=key, name=AUTHENTICATOR_NAME, confirmed=True)
    # Checked before anything is stored, so a wrong code writes nothing (django-otp's own
    # verify_token saves the device first). The device's settings: step, tolerance, digits.
    code = _normalised(token)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not (code.isdigit() and totp.verify(int(code), device.tolerance)):
        raise ValidationError(
            _("That code is not the one your app shows now. Check the app and try again."),
            code="wrong_code",
        )
    # The step it was accepted at: the same code can't be used again to sign in.
    device.last_t = totp.t()
    device.save()
    return device, _new_backup_codes(user)


def _new_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_CODES_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify_code(user: User, token: str) -> Device:
    """The device of ``user`` that accepts ``token``: their app for digits, else a backup code (used up).

    ValidationError when none does, or when too many wrong codes were tried lately
    (django-otp's throttling: each failure doubles the wait).
    """
    code = _normalised(token)
    devices: list[Device] = list(
        TOTPDevice.objects.filter(user=user, confirmed=True)
        if code.isdigit()
        else StaticDevice.objects.filter(user=user, confirmed=True)
    )
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            raise ValidationError(_("Too many wrong codes. Wait a minute, then try again."), code="throttled")
        # Each device is verified in its own transaction with its row locked (django_otp.verify_token),
        # so one code can't be accepted twice by two requests at once.
        accepted = verify_token(user, device.persistent_id, code)
        if accepted is not None:
            return accepted
    raise ValidationError(_("That code is not valid."), code="wrong_code")


@transaction.atomic
def reset_two_factor(users: QuerySet[User], *, by: User) -> int:
    """Delete the authenticator apps and backup codes of ``users`` that ``by`` administers; return how
    many users had any.

    Each of them sets up a new app at their next sign-in (when the second factor is
    required of them). ``by`` must be an administrator, and only reaches the users of
    their organisation (``for_user``) - and superusers only if a superuser too - whatever
    ``users`` holds.
    """
    if not is_admin(by):
        raise PermissionDenied
    reached = for_user(users, by)
    if not by.is_superuser:
        reached = reached.filter(is_superuser=False)
    reached_ids = reached.values("pk")
    owners = set(TOTPDevice.objects.filter(user__in=reached_ids).values_list("user_id", flat=True))
    owners |= set(StaticDevice.objects.filter(user__in=reached_ids).values_list("user_id", flat=True))
    TOTPDevice.objects.filter(user__in=reached_ids).delete()
    StaticDevice.objects.filter(user__in=reached_ids).delete()
    return len(owners)
