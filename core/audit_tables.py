"""Which tables are audit records: append-only, hashed on insert, sealed, SELECT and INSERT only.

The access log, the privilege history, every django-simple-history table (the history
of each tracked model and of its many-to-many fields), the seals themselves, and any
model of an app above core that declares ``audit_record = True`` (a refused check-in).
New history tables join the list by themselves, so they get their trigger and grants
without anyone remembering to add them.
"""

from django.apps import apps
from django.db import models
from simple_history.models import HistoricalChanges

# Models of ours that are audit records by design (app_label.ModelName).
APPEND_ONLY_MODELS = ("core.AccessLog", "core.UserPrivilegeChange", "core.AuditSeal")


def audit_models() -> list[type[models.Model]]:
    """Every audit model, in a stable order (by table name)."""
    found: dict[str, type[models.Model]] = {}
    for label in APPEND_ONLY_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        found[model._meta.db_table] = model
    for model in apps.get_models():
        # Many-to-many history models are HistoricalChanges too.
        if issubclass(model, HistoricalChanges) or getattr(model, "audit_record", False) is True:
            found[model._meta.db_table] = model
    return [found[table] for table in sorted(found)]


def audit_tables() -> list[str]:
    """The database tables of ``audit_models()``, sorted."""
    return [model._meta.db_table for model in audit_models()]
