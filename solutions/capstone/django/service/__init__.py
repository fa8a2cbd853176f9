"""Backend Patterns Lab capstone: the service contract on Django + DRF, production-ready.

The project package: settings, URLs, WSGI entry point, and the cross-cutting parts
(logging, middleware, the DRF exception handler and throttle, health and metrics).
The ``api`` app holds the contract's routes.
"""
