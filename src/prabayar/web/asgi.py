"""The app factory each server process calls: ``prabayar serve --workers N`` starts N of them.

uvicorn imports ``prabayar.web.asgi:make_app`` (``factory=True``) in every worker process; the
settings come from the environment (``PRABAYAR_*``), which ``prabayar serve`` fills from its
options before the workers start. Migrations and the demo seed run once, in the parent.
"""

from __future__ import annotations

from fastapi import FastAPI


def make_app() -> FastAPI:
    """A fresh app for this process (its own database pool, its own caches)."""
    import gc

    from prabayar.config import Settings
    from prabayar.web import create_app

    app = create_app(Settings())
    # Everything loaded so far (modules, the app, templates) lives as long as the process: keep
    # it out of the collector's generations, so a full collection under load scans only what
    # requests made (fewer and shorter pauses at the tail of the latency).
    gc.freeze()
    return app
