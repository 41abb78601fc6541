"""Bidi isolation: a name or number from another script keeps its place in a sentence.

In an Arabic sentence an English name, an MRN or a number such as AGDAR-2026-000123
otherwise joins the surrounding runs, and the full stop or comma after it lands on the
wrong side. ``<bdi>`` gives each inserted value its own direction, found from its text.
"""

from collections.abc import Mapping

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django_stubs_ext import StrOrPromise


def isolate(value: object) -> SafeString:
    """``value``, escaped, in its own ``<bdi>``."""
    return format_html("<bdi>{}</bdi>", value)


def with_isolates(message: StrOrPromise, params: Mapping[str, object]) -> SafeString:
    """``message % params`` as HTML for a flash message: the message escaped, each text value isolated.

    Whole numbers go in as they are, so ``%(count)d`` still formats; digits carry no direction
    of their own to disturb the sentence.
    """
    values = {key: value if isinstance(value, int) else isolate(value) for key, value in params.items()}
    # Safe: the message is escaped here and every value is escaped by ``isolate`` (ints have no markup).
    return mark_safe(conditional_escape(message) % values)  # noqa: S308
