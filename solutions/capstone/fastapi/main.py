"""Entry point (Procfile: ``web: python main.py``): JSON logging, then uvicorn.

On SIGTERM uvicorn stops accepting connections, lets in-flight requests finish
(for at most SHUTDOWN_TIMEOUT_MS), runs the lifespan shutdown (closing the pool)
and exits.
"""
import signal
import sys

from app.config import settings
from app.logs import configure_logging

configure_logging(settings.log_level)  # before anything else logs

import uvicorn  # noqa: E402

from app.main import create_app  # noqa: E402


def _exit_cleanly(signum, frame):
    # uvicorn restores the previous handler and re-raises the signal once it has
    # drained: exit 0 instead of dying of SIGTERM.
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        create_app(),
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the JSON logging configured above
        access_log=False,  # AccessLogMiddleware writes one JSON line per request
        proxy_headers=False,  # the client address is the socket's: X-Forwarded-For can't spoof it
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )
