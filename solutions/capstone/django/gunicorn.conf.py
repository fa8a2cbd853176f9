"""gunicorn settings (https://docs.gunicorn.org/en/stable/settings.html).

One worker process with a pool of threads (gthread):
* Django's connection pool, the throttle's cache and the Prometheus registry live
  in that process, so DB_POOL_MAX bounds the whole service's connections, limits are
  per client for the whole service, and /metrics sees every request. To scale, run
  more instances (or share the throttle cache through Redis, use prometheus_client's
  multiprocess mode and split DB_POOL_MAX between workers);
* threads > DB_POOL_MAX, so requests that don't need the database (health checks,
  /api/slow) are not stuck behind those waiting for a connection.

Not uvicorn with ASGI: Django runs sync views there one at a time per thread-sensitive
executor, which would serialise the database work.

On SIGTERM the master closes the listening socket, tells the worker to finish its
in-flight requests (at most graceful_timeout seconds), then exits 0; the worker_exit
hook closes the pool's connections.
"""
import os

from service.logs import logging_config

wsgi_app = "service.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = 1
worker_class = "gthread"
threads = max(8, 2 * int(os.environ.get("DB_POOL_MAX") or 4))
timeout = 30  # a worker silent for this long is killed and replaced
graceful_timeout = int(os.environ.get("SHUTDOWN_TIMEOUT_MS") or 8000) // 1000
keepalive = 5
control_socket_disable = True  # no runtime control socket in $HOME: signals are enough

# JSON everywhere: gunicorn's own messages use the same config as Django's LOGGING; the
# access log is service.middleware.AccessLogMiddleware (gunicorn.access is silenced).
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = logging_config(loglevel.upper())
accesslog = None
errorlog = "-"

# X-Forwarded-* are trusted from no one: REMOTE_ADDR is the socket's peer.
forwarded_allow_ips = ""
proxy_allow_ips = ""


def worker_exit(server, worker):
    """Close the worker's pool once it has drained, so its connections end cleanly."""
    from django.db import connections

    for conn in connections.all():  # the pool is shared by all threads' wrappers
        conn.close_pool()
    server.log.info("database pool closed")
