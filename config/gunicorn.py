"""gunicorn's settings, from the environment: `gunicorn -c config/gunicorn.py config.wsgi`.

Every process is alike and keeps nothing between requests (README, Scaling out), so
the numbers below only trade memory and database connections for concurrency: each
worker thread holds one PostgreSQL connection for up to CONN_MAX_AGE seconds.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

# Plain Python, no Django: safe to import before Django is set up.
from core.log_filters import redact_family_tokens

# config.health.HEALTH_CHECK_PATH, not imported: this file is read before Django is set up.
HEALTH_CHECK_PATH = "/healthz"

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# WEB_CONCURRENCY is the name platforms set; GUNICORN_WORKERS says it plainly. Without
# either, gunicorn's rule of thumb: two per core and one more.
workers = int(
    os.environ.get("WEB_CONCURRENCY")
    or os.environ.get("GUNICORN_WORKERS")
    or multiprocessing.cpu_count() * 2 + 1
)
# More than one thread makes gunicorn use its threaded worker (gthread).
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request still running after this many seconds is killed with its worker: no page
# should take that long, and a stuck one must not hold a worker for ever.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Kept short behind a load balancer, which holds its own idle connections open.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Workers are replaced after this many requests (spread so they don't all restart at
# once), which bounds whatever memory a long-lived process would gather.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# The request id (core/middleware.py) joins a line here to the app's access-log rows.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'


class AccessLogWithoutHealthChecks(Logger):
    """gunicorn's access log, less the load balancer's health checks (one every few seconds), and
    with a family link's token redacted from every field (the request line, the path, the Referer)."""

    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") != HEALTH_CHECK_PATH:
            super().access(resp, req, environ, request_time)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact_family_tokens(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


logger_class = AccessLogWithoutHealthChecks
