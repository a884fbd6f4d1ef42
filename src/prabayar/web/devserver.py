"""A real uvicorn server on a free loopback port in a background thread.

For the browser tests and the screenshot script: they drive Chromium against the same app
``prabayar serve`` runs, on a throw-away data dir.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from prabayar.config import Settings
from prabayar.web.app import create_app
from prabayar.web.bootstrap import prepare


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(data_dir: Path, *, start_timeout: float = 20.0) -> Iterator[str]:
    """Migrate and seed ``data_dir``, serve the app, yield its base URL, stop it afterwards."""
    port = free_port()
    settings = Settings(data_dir=data_dir, host="127.0.0.1", port=port)
    services, _banner = prepare(settings)
    app = create_app(settings, services=services)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="prabayar-devserver", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the test server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.vending.engine.dispose()
