"""Django settings, all from the environment (docs/service-contract.md).

Production only: DEBUG is off, nothing is served but the JSON API.
"""
from __future__ import annotations

import os
import sys

from django.core.management.utils import get_random_secret_key
from psycopg.conninfo import conninfo_to_dict

from .logs import logging_config


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        sys.exit(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


DEBUG = False
# Nothing here is signed (no sessions, no CSRF cookies), so a per-process random key is
# harmless; set DJANGO_SECRET_KEY anyway if you add anything that signs.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or get_random_secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")]

INSTALLED_APPS = [
    "corsheaders",
    "rest_framework",
    "api",
]

# Outermost first. Responses pass back up the list, so the access log and metrics see
# every answer (errors included) and the headers are added to 404s and 500s too.
MIDDLEWARE = [
    "service.middleware.AccessLogMiddleware",
    "service.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",  # nosniff, Referrer-Policy, COOP (HSTS on HTTPS)
    "service.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.gzip.GZipMiddleware",  # compresses what the middleware below produce
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "service.urls"
WSGI_APPLICATION = "service.wsgi.application"
APPEND_SLASH = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# ------------------------------------------------------------------ database
# Django 5.1+ pools natively with psycopg_pool: one pool per process, shared by the
# gunicorn threads, bounded by DB_POOL_MAX. A request's connection goes back to the
# pool when the request ends (CONN_MAX_AGE must stay 0 with a pool).
DATABASE_URL = os.environ.get("DATABASE_URL") or sys.exit("DATABASE_URL is required")
DB_POOL_MAX = max(1, env_int("DB_POOL_MAX", 4))
_db = conninfo_to_dict(DATABASE_URL)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.pop("dbname", ""),
        "USER": _db.pop("user", ""),
        "PASSWORD": _db.pop("password", ""),
        "HOST": _db.pop("host", ""),
        "PORT": _db.pop("port", ""),
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,  # the pool tests a connection before handing it out
        "OPTIONS": {
            "application_name": "backend-lab-django",  # shows in pg_stat_activity
            "connect_timeout": 5,
            **_db,  # sslmode and any other parameter of the URL
            "pool": {
                "min_size": 1,
                "max_size": DB_POOL_MAX,
                "timeout": env_int("DB_ACQUIRE_TIMEOUT_MS", 5_000) / 1000,  # wait for a free connection
                "reconnect_timeout": 2.0,  # give up background retries soon; the next request retries
                "name": "app",
            },
        },
    },
}
READY_TIMEOUT_S = env_int("READY_TIMEOUT_MS", 800) / 1000

# ------------------------------------------------------------------ API
RATE_LIMIT_MAX = env_int("RATE_LIMIT_MAX", 100)
RATE_LIMIT_WINDOW_S = max(1, env_int("RATE_LIMIT_WINDOW_MS", 60_000)) / 1000

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["service.throttling.ClientRateThrottle"],
    # DRF's throttles key on X-Forwarded-For unless told how many proxies to trust:
    # 0 means REMOTE_ADDR, the socket's address, which a client cannot forge.
    "NUM_PROXIES": 0,
    "EXCEPTION_HANDLER": "service.exceptions.exception_handler",
}

# The throttle's counters. Per process: gunicorn runs one worker (gunicorn.conf.py);
# use a shared cache (Redis) to rate limit across several processes or instances.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# ------------------------------------------------------------------ CORS (django-cors-headers)
CORS_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()]
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_ALLOW_HEADERS = ["content-type", "authorization"]
CORS_PREFLIGHT_MAX_AGE = 600

# ------------------------------------------------------------------ security headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = 31_536_000  # sent on HTTPS requests only (RFC 6797)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# ------------------------------------------------------------------ logging
LOGGING = logging_config(os.environ.get("LOG_LEVEL", "info").upper())
