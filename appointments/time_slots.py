"""The SQL expression for a booking's time slot, shared by constraints and overlap queries."""

from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import Func


class SlotRange(Func):
    """``tsrange(date + time, date + time + duration minutes, '[)')`` in clinic-local time.

    Half-open, so back-to-back bookings don't overlap. Every part is IMMUTABLE in
    PostgreSQL, which lets exclusion constraints index it.
    """

    output_field = DateTimeRangeField()

    def __init__(self, date: str = "scheduled_date", time: str = "scheduled_time", minutes: str = "duration"):
        super().__init__(date, time, minutes)

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        (day, day_params), (time, time_params), (minutes, minute_params) = compiled
        start = f"({day} + {time})"
        sql = f"tsrange({start}, {start} + make_interval(mins => {minutes}), '[)')"
        params = (*day_params, *time_params, *day_params, *time_params, *minute_params)
        return sql, params
