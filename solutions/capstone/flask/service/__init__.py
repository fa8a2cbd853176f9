"""Backend Patterns Lab capstone: the service contract on Flask, production-ready.

``service.app.create_app`` builds the application; gunicorn (gunicorn.conf.py)
serves it from wsgi.py. This package file stays empty so that gunicorn's master can
read ``service.config`` and ``service.logs`` without importing Flask.
"""
