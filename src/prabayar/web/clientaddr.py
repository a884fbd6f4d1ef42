"""The client's address, also behind a reverse proxy, without trusting what a client claims.

``X-Forwarded-For`` is read only when the TCP peer is one of ``PRABAYAR_TRUSTED_PROXIES``
(addresses or networks, comma separated). Then the list is walked from the right, skipping
trusted proxies; the first address that is not a trusted proxy is the client. A client that
sends its own ``X-Forwarded-For`` only adds entries on the left, which are never reached.
Without trusted proxies the header is ignored and the peer address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """Networks from ``"10.0.0.1, 192.168.0.0/16"`` (a bare address is a /32 or /128)."""
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _is_trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in proxies)


def resolve_client(peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str:
    """The client address from the TCP peer and the ``X-Forwarded-For`` header values."""
    peer = peer or "unknown"
    if not proxies or not _is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the far side of our proxy: fall back to the proxy
    return hops[0] if hops else peer


def client_address(request: Request) -> str:
    """The client's address for rate limits and logs (see the module doc)."""
    proxies: Sequence[Network] = getattr(request.app.state, "trusted_proxies", ())
    peer = request.client.host if request.client else None
    return resolve_client(peer, request.headers.getlist("x-forwarded-for"), proxies)
