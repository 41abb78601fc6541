"""Where ``static/js/idle.js`` asks for the session's time left: ``<body>`` data attributes, no inline script.

Only URLs, no time: a page is the same whenever it is rendered, and the script asks
``core:session_status`` as it starts.
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def session_timeout_attributes(context: template.Context) -> SafeString | str:
    """`` data-...`` attributes for a signed-in page: where to ask for the time left, where to sign in."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    return format_html(
        ' data-session-status-url="{}" data-login-url="{}"', reverse("core:session_status"), reverse("login")
    )
