"""Paging a staff list that grows without bound, without counting it.

``django.core.paginator.Paginator`` counts every row of the filtered list for "page N of M".
Over a million sessions that count reads the whole list, whatever page is shown.
``page_without_count`` reads one row past the page instead: it knows whether a next page
exists, not how many there are. Its cost is that of the page (with an index for the order,
the rows before it and the page), whatever the length of the list.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# No one pages this far by hand; a larger number typed into the URL stays a valid OFFSET.
LAST_PAGE = 100_000


@dataclass(frozen=True)
class PageWithoutCount:
    """One page of a list: its rows, its number (from 1) and whether another page follows."""

    object_list: Sequence[Any]
    number: int
    more: bool

    def has_next(self) -> bool:
        return self.more

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def page_number(value: str | None) -> int:
    """The page asked for in the query string: a whole number from 1 to ``LAST_PAGE``, else the first."""
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), LAST_PAGE)


def page_without_count(rows: QuerySet, value: str | None, per_page: int) -> PageWithoutCount:
    """The page ``value`` (the query string's, see ``page_number``) of ``rows``, in one query.

    ``rows`` must be ordered by a unique key, so the pages neither repeat nor skip a row. A page
    past the end is empty, with a link back.
    """
    number = page_number(value)
    offset = (number - 1) * per_page
    fetched = list(rows[offset : offset + per_page + 1])
    return PageWithoutCount(object_list=fetched[:per_page], number=number, more=len(fetched) > per_page)
