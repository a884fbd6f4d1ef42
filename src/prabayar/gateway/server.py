"""The asyncio server of the ISO 8583 link: one listener per partner port (ISO8583.md §1).

``GatewayServer(service).start()`` reads the partners from the back office, listens on each
partner's port and polls the partner table (``reload_interval``; ``reload()`` also runs on
SIGHUP under ``prabayar gateway run``): a new partner starts listening, a removed one stops
(its connections are closed), a changed port or framing restarts that partner only, any other
change (PCID, bank codes, sources, switcher ID, limits) applies to the next request read.

Per connection: frames are read while earlier requests run (up to ``max_in_flight``; at the
limit reading stops, which is TCP back-pressure); answers are written whole in completion
order; idle connections are closed after ``idle_timeout``; a write that cannot finish within
``write_timeout`` closes the connection. A bad frame closes only its own connection, an
exception answers only its own request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from prabayar.gateway import iso, metrics
from prabayar.gateway.framing import FrameDecoder, FrameTooLong, encode_frame
from prabayar.gateway.host import Host, Outcome, Session, network, short_0030
from prabayar.gateway.layouts import mask_sale_answer, mask_token
from prabayar.vending import VendingService
from prabayar.vending.hostlink import GatewayPartner

log = logging.getLogger("prabayar.gateway")

DEFAULT_WORKERS = 8


@dataclass(frozen=True)
class Timers:
    """§1.4 (seconds); tests shorten them."""

    deadline: float = 20.0
    idle_timeout: float = 180.0
    write_timeout: float = 30.0


def _same_listener(a: GatewayPartner, b: GatewayPartner) -> bool:
    return a.port == b.port and a.framing == b.framing


class Connection:
    """One partner connection: its reader loop, in-flight requests and writer."""

    def __init__(
        self,
        listener: PartnerListener,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: str,
    ) -> None:
        self.listener = listener
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.session = Session()
        self.eof = False
        self.failed = False
        self.closing = False
        self.opened = time.monotonic()
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._read: asyncio.Future[bytes] | None = None

    @property
    def partner(self) -> GatewayPartner:
        return self.listener.partner

    def stop_reading(self) -> None:
        """Shutdown or eviction: read nothing more; in-flight requests still get answers."""
        self.closing = True
        if self._read is not None and not self._read.done():
            self._read.cancel()

    def abort(self) -> None:
        """Close now; pending answers are dropped."""
        self.closing = True
        self.failed = True
        self.writer.transport.abort()

    async def run(self) -> None:
        server = self.listener.server
        timers = server.timers
        framing = self.partner.framing
        decoder = FrameDecoder(framing)
        limit = asyncio.Semaphore(self.partner.max_in_flight)
        loop = asyncio.get_running_loop()
        last_frame = loop.time()
        try:
            while not self.closing:
                remaining = last_frame + timers.idle_timeout - loop.time()
                if remaining <= 0:
                    log.info("%s %s: idle, closing", self.partner.channel, self.peer)
                    break
                self._read = asyncio.ensure_future(self.reader.read(65536))
                try:
                    data = await asyncio.wait_for(self._read, remaining)
                except TimeoutError:
                    continue
                except asyncio.CancelledError:
                    if self.closing:
                        break
                    raise
                except (ConnectionError, OSError):
                    self.failed = True
                    break
                if not data:
                    self.eof = True
                    break
                try:
                    frames = decoder.feed(data)
                except FrameTooLong as exc:
                    self._refuse("frame too long", str(exc))
                    break
                for frame in frames:
                    last_frame = loop.time()
                    await limit.acquire()
                    if self.closing:
                        limit.release()
                        break
                    if not self._dispatch(frame, limit):
                        break
        finally:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            with contextlib.suppress(Exception):
                self.writer.close()
                await asyncio.wait_for(self.writer.wait_closed(), 1.0)

    def _refuse(self, what: str, detail: str) -> None:
        log.warning("%s %s: %s (%s): connection closed", self.partner.channel, self.peer, what, detail)
        metrics.count(self.partner.channel, "other", "closed")
        self.abort()

    def _dispatch(self, frame: bytes, limit: asyncio.Semaphore) -> bool:
        """Start answering one frame; False when the connection must close (§1.5)."""
        server = self.listener.server
        partner = self.partner
        started = time.monotonic()
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s <- %r", partner.channel, self.peer, frame)
        try:
            msg = iso.parse(frame)
        except iso.CloseConnection as exc:
            limit.release()
            self._refuse("not a message", str(exc))
            return False
        except iso.Ignore as exc:
            limit.release()
            log.info("%s %s: MTI %s is not a request: no answer", partner.channel, self.peer, exc.mti)
            metrics.count(partner.channel, exc.mti, "none")
            return True
        except iso.BadMessage as bad:
            self._spawn(_ready(short_0030(bad, started)), limit)
            return True
        if msg.mti == iso.NETWORK:
            out = network(partner, self.session, msg)
            out.started = started
            self._spawn(_ready(out), limit)
        else:
            self._spawn(server.host.process(partner, self.session.signed_on, msg), limit)
        return True

    def _spawn(self, answer: Awaitable[Outcome], limit: asyncio.Semaphore) -> None:
        task = asyncio.ensure_future(self._answer(answer, limit))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, answer: Awaitable[Outcome], limit: asyncio.Semaphore) -> None:
        server = self.listener.server
        partner = self.partner
        written = False
        out: Outcome | None = None
        try:
            out = await answer
            if out.mti is None:
                return
            try:
                payload = iso.encode(out.mti, out.fields)
            except Exception:  # never expected: every field was built to its format
                log.exception("%s %s: answer %s could not be encoded", partner.channel, self.peer, out.mti)
                out.fields = {b: out.fields[b] for b in ("11",) if b in out.fields}
                out.fields.update({"39": "0005", "63": "KESALAHAN LAIN"})
                out.rc, out.deliver = "0005", None
                payload = iso.encode(out.mti, out.fields)
            data = encode_frame(partner.framing, payload)
            async with self._write_lock:
                if self.writer.is_closing() or self.failed:
                    return
                self.writer.write(data)
                try:
                    await asyncio.wait_for(self.writer.drain(), server.timers.write_timeout)
                except (TimeoutError, ConnectionError, OSError):
                    self.failed = True
                    log.warning("%s %s: answer could not be written, closing", partner.channel, self.peer)
                    self.abort()
                    return
            written = True
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s -> %r", partner.channel, self.peer, _masked(out, payload))
        except Exception:
            log.exception("%s %s: answer failed", partner.channel, self.peer)
        finally:
            limit.release()
            if out is not None:
                _log_outcome(partner, out, written)
        if written and out is not None and out.deliver is not None and not self.eof and not self.failed:
            server.host.deliver_later(*out.deliver)


async def _ready(out: Outcome) -> Outcome:
    return out


def _masked(out: Outcome, payload: bytes) -> bytes:
    if not out.token:
        return payload
    text = payload.decode("ascii")
    f48 = out.fields.get("48", "")
    return text.replace(f48, mask_sale_answer(f48)).replace(out.token, mask_token(out.token)).encode()


def _log_outcome(partner: GatewayPartner, out: Outcome, written: bool) -> None:
    """§8: one INFO line per request; the token only masked; no name."""
    elapsed = time.monotonic() - out.started
    rc = out.rc or "none"
    metrics.count(partner.channel, out.request_mti, rc)
    metrics.LATENCY.labels(partner=partner.channel, mti=metrics.mti_label(out.request_mti)).observe(elapsed)
    log.info(
        "partner=%s mti=%s stan=%s srn=%s rc=%s meter=%s token=%s duration_ms=%.1f%s",
        partner.channel,
        out.request_mti,
        out.stan or "-",
        out.srn or "-",
        rc,
        out.meter_number or "-",
        mask_token(out.token) if out.token else "-",
        elapsed * 1000,
        "" if written else " (not written)",
    )


@dataclass
class PartnerListener:
    """The listening socket of one partner and its open connections (oldest first)."""

    server: GatewayServer
    partner: GatewayPartner
    tcp: asyncio.Server | None = None
    connections: list[Connection] = field(default_factory=list)

    @property
    def port(self) -> int:
        assert self.tcp is not None
        return int(self.tcp.sockets[0].getsockname()[1])

    async def start(self, host: str) -> None:
        self.tcp = await asyncio.start_server(self._accept, host, self.partner.port, reuse_address=True)
        log.info(
            "partner %s listening on %s:%d (%s framing)", self.partner.channel, host, self.port, self.partner.framing
        )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peer = str(peername[0]) if peername else "?"
        partner = self.partner
        if not partner.allows(peer):
            log.warning("partner %s: connection from %s outside its sources: closed", partner.channel, peer)
            metrics.REFUSED.labels(partner=partner.channel, reason="source").inc()
            writer.transport.abort()
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(self, reader, writer, f"{peer}:{peername[1]}")
        self.connections.append(conn)
        while len([c for c in self.connections if not c.closing]) > partner.max_connections:
            oldest = next(c for c in self.connections if not c.closing)
            log.info("partner %s: over %d connections, closing the oldest", partner.channel, partner.max_connections)
            metrics.REFUSED.labels(partner=partner.channel, reason="max_connections").inc()
            oldest.abort()
        metrics.CONNECTIONS.labels(partner=partner.channel).inc()
        try:
            await conn.run()
        finally:
            metrics.CONNECTIONS.labels(partner=partner.channel).dec()
            with contextlib.suppress(ValueError):
                self.connections.remove(conn)

    async def stop(self, *, graceful: bool) -> None:
        if self.tcp is not None:
            self.tcp.close()
        for conn in list(self.connections):
            if graceful:
                conn.stop_reading()
            else:
                conn.abort()
        # in-flight requests end within the deadline; then whatever is left is cut
        give_up = time.monotonic() + self.server.timers.deadline + 5
        while self.connections:
            if time.monotonic() > give_up:
                for conn in list(self.connections):
                    conn.abort()
                break
            for conn in list(self.connections):  # accepted while stopping
                if not conn.closing:
                    conn.stop_reading() if graceful else conn.abort()
            await asyncio.sleep(0.01)
        if self.tcp is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.tcp.wait_closed(), 2.0)


class GatewayServer:
    """Every partner's listener in one process, in front of one ``VendingService``."""

    def __init__(
        self,
        service: VendingService,
        *,
        host: str = "127.0.0.1",
        workers: int = DEFAULT_WORKERS,
        timers: Timers | None = None,
        reload_interval: float = 5.0,
    ) -> None:
        self.service = service
        self.bind = host
        self.timers = timers or Timers()
        self.reload_interval = reload_interval
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gateway-vending")
        self.host = Host(service, self.executor, deadline=self.timers.deadline)
        self.listeners: dict[str, PartnerListener] = {}
        self._poller: asyncio.Task[None] | None = None
        self._reload_lock = asyncio.Lock()

    def port_of(self, channel: str) -> int:
        return self.listeners[channel].port

    async def start(self) -> None:
        await self.reload()
        if self.reload_interval > 0:
            self._poller = asyncio.ensure_future(self._poll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.reload_interval)
            try:
                await self.reload()
            except Exception:
                log.exception("reloading the partner table failed; keeping the current partners")

    async def reload(self) -> None:
        """Apply the partner table: start, stop, restart or update partners that changed."""
        async with self._reload_lock:
            loop = asyncio.get_running_loop()
            partners = {p.channel: p for p in await loop.run_in_executor(self.executor, self.service.gateway_partners)}
            for channel in [c for c in self.listeners if c not in partners]:
                log.info("partner %s removed: closing its port", channel)
                await self.listeners.pop(channel).stop(graceful=False)
            for channel, partner in partners.items():
                current = self.listeners.get(channel)
                if current is not None and _same_listener(current.partner, partner):
                    if current.partner != partner:
                        log.info("partner %s changed: applied to the next requests", channel)
                        current.partner = partner
                        for conn in list(current.connections):
                            if not partner.allows(conn.peer.rsplit(":", 1)[0]):
                                log.warning("partner %s: %s is no longer an allowed source: closed", channel, conn.peer)
                                conn.abort()
                    continue
                if current is not None:
                    log.info("partner %s changed port or framing: restarting it", channel)
                    await self.listeners.pop(channel).stop(graceful=False)
                listener = PartnerListener(self, partner)
                try:
                    await listener.start(self.bind)
                except OSError as exc:
                    log.error("partner %s: cannot listen on port %d: %s", channel, partner.port, exc)
                    continue
                self.listeners[channel] = listener

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests and write their answers, then close (§1.1)."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await asyncio.gather(*(lst.stop(graceful=True) for lst in self.listeners.values()))
        self.listeners.clear()
        try:
            await asyncio.wait_for(self.host.drain_background(), self.timers.deadline + 5)
        except TimeoutError:
            log.error("vending calls still running at shutdown; leaving them to the database")
        self.executor.shutdown(wait=False, cancel_futures=True)
