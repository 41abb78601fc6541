"""Channels: e-mail to a real SMTP server on loopback, SMS backends (a local HTTP gateway), STOP."""

import datetime
import email
import email.policy
import http.server
import io
import json
import socket
import threading

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from appointments.reminders import channels
from appointments.reminders.channels import (
    ConsoleSmsBackend,
    DeliveryError,
    FileSmsBackend,
    HttpGatewaySmsBackend,
    deliver,
    is_opt_out,
    record_sms_opt_out,
)
from core.models import Guardian
from core.tests.factories import PatientFactory, TenantFactory

pytestmark = pytest.mark.django_db

ARABIC_BODY = "مرحبًا، نذكّركم بموعد سارة يوم الخميس 03/12/2026 الساعة 10:00."
PHONE = "+966501234567"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler keeping every message; refuses recipients at refused.example."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_TIMEOUT=5,
            DEFAULT_FROM_EMAIL="reminders@clinic.example.org",
        ):
            yield mailbox
    finally:
        controller.stop()


def test_deliver_email_through_a_real_smtp_server_with_the_arabic_body(smtp_server):
    message_id = deliver("email", "family@example.org", subject="تذكير: موعد سارة", body=ARABIC_BODY)

    [envelope] = smtp_server.messages
    assert envelope.mail_from == "reminders@clinic.example.org"
    assert envelope.rcpt_tos == ["family@example.org"]
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert received["Subject"] == "تذكير: موعد سارة"
    assert received["Message-ID"] == message_id
    assert message_id.endswith("@clinic.example.org>")
    assert received.get_content().strip() == ARABIC_BODY


def test_deliver_email_refused_address_is_permanent(smtp_server):
    with pytest.raises(DeliveryError, match="refused the address") as refused:
        deliver("email", "nobody@refused.example", subject="s", body="b")

    assert refused.value.permanent is True
    assert smtp_server.messages == []


def test_deliver_email_without_a_server_is_retried():
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free_port(),
        EMAIL_TIMEOUT=2,
    ):
        with pytest.raises(DeliveryError, match="could not be reached: ConnectionRefusedError") as failed:
            deliver("email", "family@example.org", subject="s", body="b")

    assert failed.value.permanent is False


def test_deliver_sms_through_the_configured_backend():
    message_id = deliver("sms", PHONE, subject="ignored", body=ARABIC_BODY)

    assert channels.outbox == [channels.SentSms(to=PHONE, text=ARABIC_BODY, message_id=message_id)]
    assert message_id == "locmem-1"


def test_deliver_unknown_channel_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown channel 'fax'"):
        deliver("fax", PHONE, subject="", body="b")


def test_console_backend_writes_the_message():
    stream = io.StringIO()

    message_id = ConsoleSmsBackend(stream).send(PHONE, ARABIC_BODY)

    assert message_id.startswith("console-")
    assert f"SMS to {PHONE} ({message_id}):\n{ARABIC_BODY}\n" in stream.getvalue()


def test_file_backend_appends_json_lines(tmp_path):
    path = tmp_path / "sms.jsonl"
    with (
        override_settings(SMS_FILE_PATH=str(path)),
        time_machine.travel(datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC), tick=False),
    ):
        first = FileSmsBackend().send(PHONE, ARABIC_BODY)
        second = FileSmsBackend().send("+966509999999", "Hello")

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"id": first, "to": PHONE, "text": ARABIC_BODY, "at": "2026-12-01T12:00:00+03:00"},
        {"id": second, "to": "+966509999999", "text": "Hello", "at": "2026-12-01T12:00:00+03:00"},
    ]
    assert ARABIC_BODY in path.read_text(encoding="utf-8")


def test_file_backend_needs_a_path():
    with override_settings(SMS_FILE_PATH=""), pytest.raises(ImproperlyConfigured, match="SMS_FILE_PATH"):
        FileSmsBackend()


class Gateway(http.server.BaseHTTPRequestHandler):
    """A stand-in SMS gateway: answers with the status (and wait) the test sets on the server."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "json": json.loads(self.rfile.read(length))}
        )
        if self.server.hang:
            self.server.release.wait(5)
            return
        body = json.dumps(self.server.reply).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        """Quiet: the test reads the requests."""


@pytest.fixture
def gateway():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.daemon_threads = True
    server.requests = []
    server.status, server.reply, server.hang = 200, {"id": "gw-42", "status": "queued"}, False
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        with override_settings(
            SMS_BACKEND="appointments.reminders.channels.HttpGatewaySmsBackend",
            SMS_GATEWAY_URL=f"http://127.0.0.1:{server.server_port}/v1/messages",
            SMS_GATEWAY_TOKEN="secret-token",
            SMS_SENDER_ID="AGDAR",
            SMS_GATEWAY_TIMEOUT=0.3,
        ):
            yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def test_http_gateway_posts_json_with_the_bearer_token_and_returns_its_id(gateway):
    message_id = deliver("sms", PHONE, subject="", body=ARABIC_BODY)

    assert message_id == "gw-42"
    [request] = gateway.requests
    assert request["path"] == "/v1/messages"
    assert request["headers"]["Authorization"] == "Bearer secret-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["json"] == {"to": PHONE, "text": ARABIC_BODY, "sender": "AGDAR"}


def test_http_gateway_reply_without_an_id_gives_an_empty_id(gateway):
    gateway.reply = ["accepted"]

    assert deliver("sms", PHONE, subject="", body="Hello") == ""


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (401, True), (422, True), (429, False), (503, False)]
)
def test_http_gateway_error_answers(gateway, status, permanent):
    gateway.status, gateway.reply = status, {"error": "no"}

    with pytest.raises(DeliveryError, match=f"The SMS gateway answered {status}.") as failed:
        deliver("sms", PHONE, subject="", body="Hello")

    assert failed.value.permanent is permanent


def test_http_gateway_timeout_is_retried(gateway):
    gateway.hang = True

    with pytest.raises(DeliveryError, match="could not be reached") as failed:
        deliver("sms", PHONE, subject="", body="Hello")

    assert failed.value.permanent is False
    assert len(gateway.requests) == 1


def test_http_gateway_unreachable_is_retried():
    with override_settings(SMS_GATEWAY_URL=f"http://127.0.0.1:{free_port()}/send"):
        with pytest.raises(DeliveryError, match="could not be reached") as failed:
            HttpGatewaySmsBackend().send(PHONE, "Hello")

    assert failed.value.permanent is False


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://gateway.example/"])
def test_http_gateway_needs_an_http_url(url):
    with override_settings(SMS_GATEWAY_URL=url), pytest.raises(ImproperlyConfigured, match="SMS_GATEWAY_URL"):
        HttpGatewaySmsBackend()


def test_text_messages_not_set_up_fail_the_message_for_good_saying_why():
    gateway = "appointments.reminders.channels.HttpGatewaySmsBackend"
    with override_settings(SMS_BACKEND=gateway, SMS_GATEWAY_URL=""), pytest.raises(DeliveryError) as failed:
        deliver("sms", PHONE, subject="", body="Hello")

    assert failed.value.permanent is True
    assert str(failed.value) == (
        "Text messages are not set up: HttpGatewaySmsBackend needs SMS_GATEWAY_URL (http or https)."
    )


@pytest.mark.parametrize("text", ["STOP", "stop ", " Stop.", "إيقاف", "ايقاف", "UNSUBSCRIBE", "unsubscribe!"])
def test_is_opt_out_recognises_stop(text):
    assert is_opt_out(text) is True


@pytest.mark.parametrize("text", ["", "stop please call me", "Thanks", "OK", "إلغاء الموعد", "stopp"])
def test_is_opt_out_ignores_other_replies(text):
    assert is_opt_out(text) is False


def guardian(patient, phone=PHONE, **fields):
    return Guardian.objects.create(
        patient=patient, name_en="Huda", phone=phone, consent_to_contact=True, **fields
    )


def test_record_sms_opt_out_stops_every_guardian_of_that_phone_in_every_organisation():
    other_tenant = TenantFactory(code="OTHER")
    mother = guardian(PatientFactory())
    same_phone_elsewhere = guardian(PatientFactory(tenant=other_tenant))
    other_phone = guardian(PatientFactory(), phone="+966509999999")
    moment = datetime.datetime(2026, 12, 1, 18, 0, tzinfo=datetime.UTC)

    with time_machine.travel(moment, tick=False):
        # Arabic-Indic digits, without the country code, as some gateways pass them on.
        count = record_sms_opt_out("٠٥٠١٢٣٤٥٦٧")

    assert count == 2
    for row in (mother, same_phone_elsewhere, other_phone):
        row.refresh_from_db()
    assert mother.sms_opted_out_at == moment
    assert same_phone_elsewhere.sms_opted_out_at == moment
    assert other_phone.sms_opted_out_at is None
    assert mother.history.first().sms_opted_out_at == moment


def test_record_sms_opt_out_keeps_the_first_time_and_counts_only_new_opt_outs():
    first = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)
    mother = guardian(PatientFactory(), sms_opted_out_at=first)

    assert record_sms_opt_out(PHONE) == 0

    mother.refresh_from_db()
    assert mother.sms_opted_out_at == first


@pytest.mark.parametrize("phone", ["", "not a phone", "+1"])
def test_record_sms_opt_out_of_an_unreadable_phone_stops_nobody(phone):
    mother = guardian(PatientFactory())

    assert record_sms_opt_out(phone) == 0

    mother.refresh_from_db()
    assert mother.sms_opted_out_at is None
