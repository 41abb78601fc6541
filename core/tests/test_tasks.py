"""core's Celery task, run eagerly: sealing the audit tables, as `manage.py seal_audit` does."""

import pytest

from core import tasks
from core.audit_chain import chain_head
from core.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_seal_audit_task_seals_the_new_rows_and_a_second_run_seals_none(caplog):
    PatientFactory()  # its history row is an audit row

    with caplog.at_level("INFO", logger="core.tasks"):
        sealed = tasks.seal_audit.delay().get()
        again = tasks.seal_audit.delay().get()

    head = chain_head()
    assert sealed > 0
    assert again == 0
    assert f"Chain head: {head.pk}:{bytes(head.chain_hash).hex()}" in caplog.text
