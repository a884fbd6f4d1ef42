"""First start of the web app: migrate the database, seed the demo data once, say how to log in."""

from __future__ import annotations

import logging

from prabayar.config import Settings
from prabayar.web.services import Services

log = logging.getLogger("prabayar.web.bootstrap")

SEEDED_MARKER = ".demo-seeded"


def prepare(settings: Settings, *, seed: bool = True) -> tuple[Services, str]:
    """Migrate, seed the demo data when this data dir has none yet, and build the banner text."""
    from prabayar.vending import open_service, seed_demo, upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    vending = open_service(settings)
    marker = settings.data_dir / SEEDED_MARKER
    if seed and not marker.exists():
        seed_demo(vending)
        marker.write_text("demo data seeded\n")
    return Services(vending), banner(settings, seeded=seed)


def banner(settings: Settings, *, seeded: bool) -> str:
    """Where to go and how to log in (demo accounts and channel keys from the vending seed)."""
    from prabayar.vending.demo import DEMO_CHANNEL_KEYS, DEMO_USERS

    url = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "prabayar is starting",
        f"  web app      {url}/",
        f"  API          {url}/api/v1  (OpenAPI: {url}/api/v1/openapi.json)",
        f"  data dir     {settings.data_dir.resolve()}",
    ]
    if seeded:
        lines.append("  demo log-ins (user / password / role):")
        for user in DEMO_USERS:
            lines.append(f"    {_field(user, 'username', 0):<12} {_field(user, 'password', 1):<16} "
                         f"{_field(user, 'role', 2)}")
        lines.append("  demo channel API keys (header X-Api-Key):")
        items = DEMO_CHANNEL_KEYS.items() if isinstance(DEMO_CHANNEL_KEYS, dict) else DEMO_CHANNEL_KEYS
        for code, key in items:
            lines.append(f"    {code:<12} {key}")
    lines.append("")
    return "\n".join(lines)


def _field(item: object, name: str, index: int) -> str:
    if isinstance(item, tuple | list):
        return str(item[index]) if index < len(item) else ""
    if isinstance(item, dict):
        return str(item.get(name, ""))
    return str(getattr(item, name, ""))
