"""The SQL expression for a booking's time slot, shared by constraints and overlap queries."""

from django.contrib.postgres.fields import BigIntegerRangeField, DateTimeRangeField
from django.db.models import Func
from django.db.models.expressions import Combinable


class SlotRange(Func):
    """``tsrange(date + time, date + time + duration minutes, '[)')`` in clinic-local time.

    Half-open, so back-to-back bookings don't overlap. Every part is IMMUTABLE in
    PostgreSQL, which lets exclusion constraints index it.
    """

    output_field = DateTimeRangeField()

    def __init__(
        self,
        date: str | Combinable = "scheduled_date",
        time: str | Combinable = "scheduled_time",
        minutes: str | Combinable = "duration",
    ) -> None:
        super().__init__(date, time, minutes)

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (day, day_params), (time, time_params), (minutes, minute_params) = compiled
        start = f"({day} + {time})"
        sql = f"tsrange({start}, {start} + make_interval(mins => {minutes}), '[)')"
        params = (*day_params, *time_params, *day_params, *time_params, *minute_params)
        return sql, params


class SameRow(Func):
    """``int8range(id, id, '[]')``: a one-value range, so "overlaps" means "equals".

    Exclusion constraints then compare the provider, room or patient with the
    range operator PostgreSQL indexes natively, with no btree_gist extension:
    the embedded PostgreSQL that ``make`` starts on a bare machine ships none.
    """

    output_field = BigIntegerRangeField()

    def __init__(self, column: str):
        super().__init__(column)

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.get_source_expressions()[0])
        return f"int8range({column}, {column}, '[]')", (*params, *params)
