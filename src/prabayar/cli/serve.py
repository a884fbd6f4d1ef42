"""``prabayar serve``: the API and web app on the embedded database, ready with demo data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

SEEDED_MARKER = ".demo-seeded"


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (PRABAYAR_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (PRABAYAR_PORT)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="database, keys and meter states (PRABAYAR_DATA_DIR)")] = None,
    demo: Annotated[bool, typer.Option(help="seed the demo data on first start")] = True,
) -> None:
    """Start the HTTP API and the web app (migrates the database and seeds demo data first)."""
    import uvicorn

    from prabayar.config import Settings
    from prabayar.web import create_app
    from prabayar.web.bootstrap import prepare
    from prabayar.web.logconfig import log_config

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:
        services, banner = prepare(settings, seed=demo)
    except Exception as exc:  # a face shows one clear line, never a traceback
        typer.echo(f"prabayar serve: cannot start: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    app = create_app(settings, services=services)
    typer.echo(banner)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=log_config())
