"""Logging filters named in ``settings.LOGGING``."""

import logging
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
