"""A row's write and its simple-history row in one statement, for the hot paths of booking and check-in.

``save_with_history`` below saves through the ORM, and simple-history's
``post_save`` receiver then builds the history row in Python and inserts it: two
statements and about a third of a booking's or a check-in's Python. Here the write's
``RETURNING`` row feeds the history ``INSERT`` (a data-modifying CTE), as the back-fill
does per batch: the same tracked columns, and what simple-history would record -
``history_date`` (the instance's ``_history_date`` or now), the change reason and the
acting user (the one given, else simple-history's default: the request's). The audit
trigger hashes the history row as any other.

No ``pre_save``/``post_save`` signal is sent: use it only for models whose one receiver
is simple-history's (``appointments.SessionParticipant`` and ``Appointment``), and for
fields that need no model ``save()`` logic. The SQL is built once per model and fields.
"""

import functools
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from django.db import DatabaseError, connection
from django.db.models import Field, Model
from django.utils import timezone
from simple_history.utils import get_change_reason_from_object

from core.models import User

ModelT = TypeVar("ModelT", bound=Model)


def save_with_history(instance: Model, user: User | None, update_fields: Iterable[str] | None = None) -> None:
    """Save through the ORM, recording ``user`` as the acting user of the history row."""
    if user is not None:
        # simple-history (no type information) reads this ad-hoc attribute for the history row.
        instance._history_user = user  # type: ignore[attr-defined]
    instance.save(update_fields=list(update_fields) if update_fields is not None else None)


def insert_with_history(instance: ModelT, user: User | None) -> ModelT:
    """INSERT ``instance`` (a new row) and its "+" history row; set its primary key."""
    model = type(instance)
    sql, fields = _insert_sql(model)
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *_history_values(instance, user)])
        (instance.pk,) = cursor.fetchone()
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def update_with_history(instance: Model, fields: Iterable[str], user: User | None) -> None:
    """UPDATE ``fields`` of ``instance``'s row, as ``save(update_fields=...)``; add its "~" history row."""
    model = type(instance)
    sql, updated = _update_sql(model, tuple(fields))
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in updated]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk, *_history_values(instance, user)])
        if cursor.rowcount != 1:  # as Model.save(update_fields=...) refuses a vanished row
            raise DatabaseError(f"{model._meta.label} {instance.pk} was not updated.")


def _history_values(instance: Model, user: User | None) -> list[Any]:
    if user is not None:
        # simple-history reads this ad-hoc attribute, as save_with_history sets it.
        instance._history_user = user  # type: ignore[attr-defined]
    history = _history_model(type(instance))
    acting = history.get_default_history_user(instance)
    return [
        getattr(instance, "_history_date", None) or timezone.now(),
        get_change_reason_from_object(instance),
        acting.pk if acting is not None else None,
    ]


@functools.cache
def _history_model(model: type[Model]) -> Any:
    # Cached: simple-history's ``history`` descriptor builds a manager class on every access.
    return model.history.model  # type: ignore[attr-defined]


def _history_insert(model: type[Model], rows: str, history_type: str) -> str:
    """INSERT INTO the history table of the rows of the CTE ``rows``; parameters: date, reason, user."""
    quote = connection.ops.quote_name
    history = _history_model(model)
    tracked = ", ".join(quote(str(field.column)) for field in history.tracked_fields)
    bookkeeping = ", ".join(
        quote(str(history._meta.get_field(name).column))
        for name in ("history_date", "history_change_reason", "history_user", "history_type")
    )
    return (
        f"INSERT INTO {quote(history._meta.db_table)} ({tracked}, {bookkeeping}) "  # noqa: S608 - model names
        f"SELECT {tracked}, %s, %s, %s, '{history_type}' FROM {rows}"
    )


@functools.cache
def _insert_sql(model: type[Model]) -> tuple[str, list[Field]]:
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [
        field
        for field in meta.local_concrete_fields
        if field is not meta.auto_field and not getattr(field, "generated", False)
    ]
    tracked = ", ".join(quote(str(field.column)) for field in _history_model(model).tracked_fields)
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    primary_key = quote(str(meta.pk.column))  # the history table keeps the row's key under its name
    sql = (
        f"WITH added AS (INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        f"RETURNING {tracked}) {_history_insert(model, 'added', '+')} RETURNING {primary_key}"
    )
    return sql, fields


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...]) -> tuple[str, list[Field]]:
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [cast(Field, meta.get_field(name)) for name in names]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)
    tracked = ", ".join(quote(str(field.column)) for field in _history_model(model).tracked_fields)
    sql = (
        f"WITH changed AS (UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - model names
        f"WHERE {quote(str(meta.pk.column))} = %s RETURNING {tracked}) "
        f"{_history_insert(model, 'changed', '~')}"
    )
    return sql, fields
