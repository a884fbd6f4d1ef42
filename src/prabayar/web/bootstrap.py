"""First start of the web app: migrate the database, seed the demo data once, say how to log in."""

from __future__ import annotations

import logging

from prabayar.config import Settings
from prabayar.web.services import Services

log = logging.getLogger("prabayar.web.bootstrap")


def prepare(settings: Settings, *, seed: bool = True) -> tuple[Services, str]:
    """Migrate, seed the demo data when this data dir has none yet, and build the banner text."""
    from prabayar.vending import open_service, upgrade
    from prabayar.vending.demo import seed_demo

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    vending = open_service(settings)
    if seed:
        seed_demo(vending)  # finds an existing demo set and changes nothing
    return Services(vending), banner(settings, seeded=seed)


def banner(settings: Settings, *, seeded: bool) -> str:
    """Where to go and how to log in (demo accounts and channel keys from the vending seed)."""
    from prabayar.vending.demo import DEMO_CHANNEL_KEYS, DEMO_CUSTOMERS, DEMO_USERS, demo_meter_number

    url = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "prabayar is starting",
        f"  web app      {url}/",
        f"  API          {url}/api/v1  (OpenAPI: {url}/api/v1/openapi.json)",
        f"  data dir     {settings.data_dir.resolve()}",
    ]
    if seeded:
        meters = {c.idpel: c.meter_number for c in DEMO_CUSTOMERS}
        lines.append(f"  log in at {url}/masuk with a demo account (user / password / role):")
        for username, password, role, idpel in DEMO_USERS:
            extra = f"IDPEL {idpel}, meter {meters.get(idpel, '-')}" if idpel else ""
            lines.append(f"    {username:<10} {password:<20} {role:<9} {extra}".rstrip())
        lines.append("  demo channel API keys (header X-Api-Key):")
        for code, key in DEMO_CHANNEL_KEYS.items():
            lines.append(f"    {code:<10} {key}")
        lines.append("  demo meters to try (operator console, channel API):")
        for c in DEMO_CUSTOMERS:
            note = c.note
            if c.replaced_serial is not None:
                note = f"{note} ({demo_meter_number(c.replaced_serial)})"
            lines.append(f"    {c.meter_number}  IDPEL {c.idpel}  {c.name:<20} {note}".rstrip())
    if settings.host not in _LOOPBACK:
        lines.append(
            "  note: the log-in cookie is Secure; browsers send it over https or to localhost"
            " only, so put a TLS proxy in front when serving other machines"
        )
    lines.append("")
    return "\n".join(lines)


_LOOPBACK = ("127.0.0.1", "localhost", "::1")
