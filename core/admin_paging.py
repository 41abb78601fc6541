"""Admin changelist paging whose cost doesn't grow with the table.

Django's admin counts every row of the filtered list to page it (``Paginator.count``)
and, unless ``show_full_result_count`` is off, the whole table again for "N of M".
Over a million sessions each count reads the whole table. ``CappedCountPaginator``
counts exactly only up to ``EXACT_COUNT_LIMIT`` rows; a longer list is paged by the
planner's estimate of its rows, which costs a plan, not a scan.
"""

import json
from functools import cached_property
from typing import ClassVar

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

# Lists up to this long are counted exactly; a longer one shows the planner's estimate.
EXACT_COUNT_LIMIT = 2000


def estimated_count(queryset: QuerySet) -> int:
    """PostgreSQL's planned row count for ``queryset`` (``EXPLAIN``, nothing run)."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CappedCountPaginator(Paginator):
    """Counts a list exactly up to ``EXACT_COUNT_LIMIT`` rows, a longer one by the planner's estimate.

    The estimate is never below the limit (the list has more rows than that), so the
    pages up to the limit are always there; a page past the true end is empty.
    """

    object_list: QuerySet  # the changelist's rows

    @cached_property
    def count(self) -> int:
        # Both queries every time, so a page reads as many queries whatever the list's length.
        estimate = estimated_count(self.object_list)
        counted = self.object_list.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1].count()
        return counted if counted <= EXACT_COUNT_LIMIT else max(counted, estimate)


class LargeListAdminMixin:
    """A changelist over a table that grows without bound: no full count, capped counting."""

    paginator: ClassVar[type] = CappedCountPaginator
    show_full_result_count: ClassVar[bool] = False
