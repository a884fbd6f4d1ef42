"""``prabayar serve``: the API and web app on the embedded database, ready with demo data."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import typer

SEEDED_MARKER = ".demo-seeded"


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (PRABAYAR_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (PRABAYAR_PORT)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="database, keys and meter states (PRABAYAR_DATA_DIR)")] = None,
    demo: Annotated[bool, typer.Option(help="seed the demo data on first start")] = True,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="server processes sharing the port (PostgreSQL; set PRABAYAR_REDIS_URL so rate "
            "limits and sessions are shared; the embedded SQLite demo runs one)",
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    log_format: Annotated[str, typer.Option(help="plain, or json (one JSON object a line)")] = "plain",
) -> None:
    """Start the HTTP API and the web app (migrates the database and seeds demo data first)."""
    # before anything imports prometheus_client's metrics: they pick their mode at creation
    metrics_dir = _fresh_metrics_dir()
    import uvicorn

    from prabayar.config import Settings
    from prabayar.vending.partitions import ensure_ahead
    from prabayar.web.bootstrap import prepare
    from prabayar.web.logconfig import log_config

    if log_format not in ("plain", "json"):
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        typer.echo("prabayar serve: --log-format is plain or json", err=True)
        raise typer.Exit(code=2)
    fmt: Literal["plain", "json"] = "json" if log_format == "json" else "plain"
    level = log_level.upper()
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:
        _services, banner = prepare(settings, seed=demo)
    except Exception as exc:  # a face shows one clear line, never a traceback
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        typer.echo(f"prabayar serve: cannot start: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    # The workers read their settings from the environment: pass the options on.
    os.environ["PRABAYAR_HOST"] = settings.host
    os.environ["PRABAYAR_PORT"] = str(settings.port)
    os.environ["PRABAYAR_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["PRABAYAR_WORKERS"] = str(workers)
    ensure_ahead(_services.vending.engine)  # this month's purchase partition and the next ones
    _services.vending.engine.dispose()  # each worker opens its own pool
    typer.echo(banner)
    if workers > 1:
        typer.echo(f"  {workers} worker processes on one port")
        if settings.redis_url is None:
            typer.echo("  note: without PRABAYAR_REDIS_URL each worker keeps its own rate-limit counts")
    try:
        uvicorn.run(
            "prabayar.web.asgi:make_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_config=log_config(level, fmt=fmt),
            # keep-alive connections of payment switches stay open between purchases
            timeout_keep_alive=30,
            # the app reads X-Forwarded-For itself, only from PRABAYAR_TRUSTED_PROXIES
            # (docs/security.md rule 5); uvicorn's own handling would trust 127.0.0.1 blindly
            proxy_headers=False,
            backlog=2048,
            # a worker importing the app on a busy machine, or answering at full load, may take
            # longer than uvicorn's 5 s to answer the supervisor: do not kill it for that
            timeout_worker_healthcheck=60,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def _fresh_metrics_dir() -> Path:
    """prometheus-client's multiprocess directory: every worker writes its own files there.

    An empty directory of our own per server start (stale files of a previous run would be
    summed into the new one's metrics)."""
    path = Path(tempfile.mkdtemp(prefix="prabayar-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path
