"""The WSGI entry point gunicorn loads (gunicorn.conf.py: wsgi_app)."""
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "service.settings")

application = get_wsgi_application()

# Import the URLconf (and with it DRF and the views) while the worker boots, not
# during the first request.
get_resolver().url_patterns
