"""Logging filters named in ``settings.LOGGING``."""

import logging
import re
from http import HTTPStatus


class RefusalWithoutTraceback(logging.Filter):
    """A refused request (403) is logged as its one warning line, without the traceback.

    Django logs a ``PermissionDenied`` with the exception attached, so every page a role may not
    open filled the log with a traceback of the permission check. A refusal is an answer, not a
    fault: the line ("Forbidden (Permission denied): /path/") says all there is, and the access
    log (``core.AccessLog``, action ``denied``) records who asked for what.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == HTTPStatus.FORBIDDEN:
            record.exc_info = None
            record.exc_text = None
        return True


# The family's confirm-or-cancel link is /family/<token>/: the token is the key to a child's
# booking, so no log line may keep it. Any segment after /family/ but the gateway's own
# address (sms/...) is taken for a token, in a path, a request line or a Referer.
FAMILY_TOKEN = re.compile(r"(/family/)(?!sms/)[^/?#\s\"']+")
REDACTED = r"\1[redacted]"


def redact_family_tokens(text: str) -> str:
    """``text`` with every family link's token replaced by ``[redacted]``."""
    return FAMILY_TOKEN.sub(REDACTED, text)


class RedactFamilyLinkTokens(logging.Filter):
    """Replace the token of a family link in a record's message (``/family/[redacted]/``).

    Django's request and server loggers log the path ("Not Found: /family/<token>/"); the
    message is formatted here, once, so every handler after this filter sees it without the token.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_family_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
