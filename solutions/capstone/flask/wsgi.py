"""The WSGI entry point gunicorn loads (gunicorn.conf.py: wsgi_app = "wsgi:app")."""
from service.app import create_app

app = create_app()
