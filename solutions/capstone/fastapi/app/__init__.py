"""Backend Patterns Lab capstone: the service contract on FastAPI, production-ready."""
