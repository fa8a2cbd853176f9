"""Backend Patterns Lab: run Node/Go/Java/Python backends from notebooks and grade them
against the production checklist.

In a notebook: ``%load_ext course`` gives the ``%%node``, ``%%ts``, ``%%go``, ``%%java``
and ``%%py`` cell magics and ``%servers``/``%stop``/``%logs``. From a shell: ``course --help``.
"""
from __future__ import annotations

__version__ = "0.1.0"


def load_ipython_extension(ipython) -> None:
    from .magics import CourseMagics

    ipython.register_magics(CourseMagics)


def unload_ipython_extension(ipython) -> None:
    from . import servers

    servers.stop_all()


def check(exercise_id: str) -> None:
    """Run an exercise's checks and show the feedback panel (raises if any fails). Returns
    nothing, so the cell that calls it shows the panel and no value."""
    from .grading.feedback import check as run

    run(exercise_id)


def progress() -> None:
    """Print where you stand on every exercise (results remembered on this machine)."""
    from .grading import progress as store, spec

    rows = store.summary(spec.catalogue())
    if not rows:
        print("no exercises found")
        return
    width = max(len(title) for _, title, _ in rows)
    for section, title, state in rows:
        print(f"{section:<20} {title:<{width}}  {state}")


def url(name: str) -> str:
    """The base URL of a server started with ``--serve NAME``."""
    from . import servers

    return servers.get(name).url
