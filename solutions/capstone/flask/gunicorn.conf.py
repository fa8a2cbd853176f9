"""gunicorn settings (https://docs.gunicorn.org/en/stable/settings.html).

One worker process with a pool of threads (gthread):
* the psycopg pool, the rate limiter's counters and the Prometheus registry live in
  that process, so DB_POOL_MAX bounds the whole service's connections, limits are
  per client for the whole service, and /metrics sees every request. To scale,
  run more instances (or move counters to Redis and use prometheus_client's
  multiprocess mode, with DB_POOL_MAX split between workers);
* threads > DB_POOL_MAX, so requests that don't need the database (health checks,
  /api/slow) are not stuck behind those waiting for a connection.

On SIGTERM the master closes the listening socket, tells the worker to finish its
in-flight requests (at most graceful_timeout seconds), then exits 0; the worker_exit
hook closes the pool's connections.
"""
import os

from service.config import Settings
from service.logs import logging_config

settings = Settings.from_env()

wsgi_app = "wsgi:app"
bind = f"{settings.host}:{settings.port}"
workers = 1
worker_class = "gthread"
threads = max(8, 2 * settings.db_pool_max)
timeout = 30  # a worker silent for this long is killed and replaced
graceful_timeout = int(settings.shutdown_timeout_s)
keepalive = 5
control_socket_disable = True  # no runtime control socket in $HOME: signals are enough

# JSON everywhere: gunicorn's own messages and its access log go through logconfig_dict
# (service/logs.py turns each access record into method/path/status/duration_ms fields).
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = logging_config(settings.log_level)
accesslog = None  # no extra plain-text handler: logconfig_dict routes gunicorn.access to stdout
access_log_format = "%(m)s %(U)s %(s)s"
errorlog = "-"

# X-Forwarded-* are not trusted from anyone: REMOTE_ADDR is the socket's peer
# (behind a proxy, put its address here).
forwarded_allow_ips = ""
proxy_allow_ips = ""


def worker_exit(server, worker):
    """Close the worker's pool once it has drained, so its connections end cleanly."""
    app = getattr(worker, "wsgi", None)
    if app is not None and "db" in getattr(app, "extensions", {}):
        app.extensions["db"].close()
        server.log.info("database pool closed")
