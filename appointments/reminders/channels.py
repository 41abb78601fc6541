"""How a message leaves: e-mail through Django's mail backend, text messages through an SMS backend.

Its entry points:

    class DeliveryError(Exception): .permanent: bool (True: retrying can't help)
    deliver(channel: str, address: str, *, subject: str, body: str) -> str
        sends one message, returns the gateway's message id ("" when it gives none);
        raises DeliveryError.
    BaseSmsBackend / ConsoleSmsBackend / FileSmsBackend / HttpGatewaySmsBackend / LocmemSmsBackend
    record_sms_opt_out(phone: str) -> int   (STOP: guardians of that phone opted out)
    is_opt_out(text: str) -> bool           (the reply is a STOP)

``settings.SMS_BACKEND`` names the SMS backend class. ``LocmemSmsBackend`` keeps what it
sends in ``outbox`` (as ``django.core.mail.outbox``) for the tests, which clear it.
"""

import abc
import json
import smtplib
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import transaction
from django.utils.module_loading import import_string

from core import clock
from core.guardians import normalise_phone
from core.models import Guardian

# The replies that stop text messages, compared without case, spaces or a final full stop.
OPT_OUT_WORDS = frozenset({"stop", "unsubscribe", "إيقاف", "ايقاف"})


class DeliveryError(Exception):
    """The message did not leave. ``permanent``: the address or the message is refused, a retry can't help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def deliver(channel: str, address: str, *, subject: str, body: str) -> str:
    """Send one message by ``channel`` ("email" or "sms"); the gateway's message id, or DeliveryError."""
    if channel == Guardian.Channel.EMAIL:
        return _send_email(address, subject, body)
    if channel == Guardian.Channel.SMS:
        try:
            backend = get_sms_backend()
        except ImproperlyConfigured as error:
            # Shown to the front desk on the failed row: a retry can't help until it is set up.
            raise DeliveryError(f"Text messages are not set up: {error}", permanent=True) from error
        return backend.send(address, body)
    raise ValueError(f"Unknown channel {channel!r}.")


def _send_email(address: str, subject: str, body: str) -> str:
    message_id = make_msgid(domain=settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or None)
    email = EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [address], headers={"Message-ID": message_id}
    )
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError("The mail server refused the address.", permanent=True) from error
    except smtplib.SMTPResponseException as error:
        # 5xx: the server will answer the same again; 4xx: try later.
        raise DeliveryError(
            f"The mail server answered {error.smtp_code}.", permanent=error.smtp_code >= 500
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"The mail server could not be reached: {error.__class__.__name__}.") from error
    return message_id


def get_sms_backend() -> "BaseSmsBackend":
    """An instance of ``settings.SMS_BACKEND``."""
    backend_class = import_string(settings.SMS_BACKEND)
    backend: BaseSmsBackend = backend_class()
    return backend


class BaseSmsBackend(abc.ABC):
    """Sends one text message; returns the gateway's message id, raises DeliveryError."""

    @abc.abstractmethod
    def send(self, to: str, text: str) -> str: ...


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: writes each message to standard output."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, to: str, text: str) -> str:
        message_id = f"console-{uuid.uuid4().hex}"
        self.stream.write(f"SMS to {to} ({message_id}):\n{text}\n{'-' * 40}\n")
        self.stream.flush()
        return message_id


class FileSmsBackend(BaseSmsBackend):
    """Development: appends each message to ``SMS_FILE_PATH`` as one JSON line."""

    def __init__(self) -> None:
        if not settings.SMS_FILE_PATH:
            raise ImproperlyConfigured("FileSmsBackend needs SMS_FILE_PATH.")
        self.path = settings.SMS_FILE_PATH

    def send(self, to: str, text: str) -> str:
        message_id = f"file-{uuid.uuid4().hex}"
        line = json.dumps(
            {"id": message_id, "to": to, "text": text, "at": clock.now().isoformat()}, ensure_ascii=False
        )
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(line + "\n")
        return message_id


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str
    message_id: str


# LocmemSmsBackend's messages, oldest first.
outbox: list[SentSms] = []


class LocmemSmsBackend(BaseSmsBackend):
    """Tests: keeps each message in the module's ``outbox``."""

    def send(self, to: str, text: str) -> str:
        message_id = f"locmem-{len(outbox) + 1}"
        outbox.append(SentSms(to=to, text=text, message_id=message_id))
        return message_id


class HttpGatewaySmsBackend(BaseSmsBackend):
    """Production: POSTs ``{"to", "text", "sender"}`` as JSON to ``SMS_GATEWAY_URL``.

    The bearer token is ``SMS_GATEWAY_TOKEN``; the reply's JSON ``id`` is the message id. A
    4xx answer (but 408 and 429) means the gateway refuses this message: permanent. A 5xx,
    408, 429, a timeout or no connection: try again later.
    """

    def __init__(self) -> None:
        if not settings.SMS_GATEWAY_URL.startswith(("https://", "http://")):
            raise ImproperlyConfigured("HttpGatewaySmsBackend needs SMS_GATEWAY_URL (http or https).")
        self.url = settings.SMS_GATEWAY_URL
        self.token = settings.SMS_GATEWAY_TOKEN
        self.sender = settings.SMS_SENDER_ID
        self.timeout = settings.SMS_GATEWAY_TIMEOUT

    def send(self, to: str, text: str) -> str:
        payload = json.dumps({"to": to, "text": text, "sender": self.sender}).encode()
        request = urllib.request.Request(  # noqa: S310  # the scheme is checked in __init__
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                reply = response.read()
        except urllib.error.HTTPError as error:
            permanent = 400 <= error.code < 500 and error.code not in (408, 429)
            raise DeliveryError(f"The SMS gateway answered {error.code}.", permanent=permanent) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise DeliveryError(
                f"The SMS gateway could not be reached: {error.__class__.__name__}."
            ) from error
        return _gateway_id(reply)


def _gateway_id(reply: bytes) -> str:
    try:
        data: Any = json.loads(reply or b"{}")
    except ValueError:
        return ""
    message_id = data.get("id", "") if isinstance(data, dict) else ""
    return str(message_id)


def is_opt_out(text: str) -> bool:
    """Whether a reply is an opt-out: STOP, UNSUBSCRIBE, إيقاف, in any case, spaces around."""
    return (text or "").strip().rstrip(".!").strip().casefold() in OPT_OUT_WORDS


def record_sms_opt_out(phone: str) -> int:
    """Every guardian with this phone (any organisation) gets no more text messages; how many newly opted out.

    ``phone`` as the gateway gives it, normalised to E.164 first; one that can't be read
    opts out nobody. A guardian already opted out keeps the first time.
    """
    number = normalise_phone(phone)
    if number is None:
        return 0
    moment = clock.now()
    count = 0
    with transaction.atomic():
        # save() rather than update(): the guardian's history records the opt-out.
        for guardian in Guardian.objects.filter(phone=number, sms_opted_out_at__isnull=True):
            guardian.sms_opted_out_at = moment
            guardian.save(update_fields=["sms_opted_out_at", "updated_at"])
            count += 1
    return count
