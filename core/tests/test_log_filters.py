"""A refused request is one warning line in the log, without a traceback; a failure keeps its traceback."""

import logging
import sys

import pytest
from django.urls import reverse

from core.log_filters import RefusalWithoutTraceback
from core.models import User
from core.tests.view_helpers import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def test_a_refused_page_is_logged_as_one_warning_line_without_a_traceback(client, tenant, caplog):
    client.force_login(staff_member(tenant, User.Role.FINANCE))

    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.get(reverse("appointments:session_create"))

    logged = [record for record in caplog.records if record.name == "django.request"]
    assert response.status_code == 403
    assert [(record.levelname, record.getMessage(), record.exc_info) for record in logged] == [
        ("WARNING", "Forbidden (Permission denied): /appointments/sessions/create/", None)
    ]
    assert "Traceback" not in caplog.text


def record_of(status_code: int) -> logging.LogRecord:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Failed", (), sys.exc_info())
    record.status_code = status_code
    return record


def test_the_filter_keeps_the_traceback_of_anything_but_a_refusal():
    refusal, failure = record_of(403), record_of(500)

    assert RefusalWithoutTraceback().filter(refusal) is True
    assert RefusalWithoutTraceback().filter(failure) is True
    assert refusal.exc_info is None
    assert failure.exc_info is not None
    assert failure.exc_info[0] is RuntimeError
