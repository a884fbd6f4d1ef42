"""Campaign chunks on procrastinate, the PostgreSQL task queue (no home-made queue).

``prabayar campaign run`` defers one job per pending chunk (task ``prabayar.campaign_chunk``,
queue ``campaigns``, queueing lock ``campaign-<id>-<chunk>`` so a chunk waits at most once);
``prabayar campaign worker`` runs procrastinate workers, on as many machines as share the
database. The job calls the same ``VendingService.generate_campaign_chunk`` as the in-process
path of the embedded SQLite default, so correctness never depends on the queue: a chunk is one
transaction, a done chunk is skipped, and a chunk whose worker died (``kill -9``: its job stays
"doing" in procrastinate's table) is simply deferred again by the next ``run``.

procrastinate's own tables live in the same database (and ``search_path``) as vending's; the
schema is applied once, under an advisory lock, by the first worker or run that needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    import procrastinate

    from prabayar.vending.service import VendingService

QUEUE = "campaigns"
TASK_NAME = "prabayar.campaign_chunk"
#: An arbitrary constant: the advisory lock under which the queue's schema is applied.
_SCHEMA_LOCK = 0x70726162


def conninfo_for(database_url: str) -> str:
    """The libpq connection string of a ``postgresql+psycopg://`` SQLAlchemy URL (query
    options such as ``options=-csearch_path=...`` are kept)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the campaign queue needs PostgreSQL (SQLite runs chunks in-process)")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(database_url: str, service: Callable[[], VendingService]) -> procrastinate.App:
    """A procrastinate app whose one task generates one chunk with ``service()``."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo_for(database_url)))

    @app.task(name=TASK_NAME, queue=QUEUE)
    def campaign_chunk(campaign_id: int, chunk_no: int) -> dict[str, Any]:
        outcome = service().generate_campaign_chunk(campaign_id, chunk_no)
        return {"chunk_no": outcome.chunk_no, "state": outcome.state, "generated": outcome.generated,
                "skipped": outcome.skipped}  # fmt: skip

    return app


def ensure_schema(database_url: str) -> bool:
    """Apply procrastinate's schema if its tables are missing; True when it was applied."""
    import procrastinate
    import psycopg

    with psycopg.connect(conninfo_for(database_url)) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if row is not None and row[0] is not None:
            return False
        conn.execute(procrastinate.schema.SchemaManager.get_schema())
        conn.commit()
        return True


def defer_chunks(app: procrastinate.App, campaign_id: int, chunks: Iterable[int]) -> int:
    """One job per chunk; a chunk already waiting in the queue is not deferred twice."""
    import procrastinate.exceptions

    task = app.tasks[TASK_NAME]
    deferred = 0
    with app.open():
        for chunk_no in chunks:
            try:
                task.configure(queueing_lock=f"campaign-{campaign_id}-{chunk_no}").defer(
                    campaign_id=campaign_id, chunk_no=chunk_no
                )
                deferred += 1
            except procrastinate.exceptions.AlreadyEnqueued:
                pass
    return deferred


def run_worker(app: procrastinate.App, *, concurrency: int = 1, wait: bool = True) -> None:
    """Run a procrastinate worker on the campaign queue (``wait=False``: stop when it is empty)."""
    app.run_worker(queues=[QUEUE], concurrency=concurrency, wait=wait, install_signal_handlers=wait)


__all__ = ["QUEUE", "TASK_NAME", "build_app", "conninfo_for", "defer_chunks", "ensure_schema", "run_worker"]
