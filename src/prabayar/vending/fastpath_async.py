"""The lean purchase path on asyncio: the same sale as ``fastpath``, no worker thread (issue 11).

``LeanPurchase._transaction`` drives a sale through a blocking psycopg connection, so every
HTTP purchase costs a hop into a worker thread and back, and with many threads the GIL hand-off
between them dominates a 2-core machine. This module drives the **same statements and the same
planning code** (``LeanPurchase._plan_sale``) through a psycopg 3 ``AsyncConnection`` from a
``psycopg_pool.AsyncConnectionPool``, on the server's event loop:

1. the claim (``SELECT … FOR UPDATE OF m``; psycopg sends the ``BEGIN`` before it);
2. the plan (refusals, price, TID, token) — CPU only, from the per-process caches;
3. the write statement, then ``COMMIT``.

Four round trips with the ``BEGIN``, as on the blocking path. psycopg's pipeline mode would fold them into two,
but measured here it costs ~40 % more client CPU per sale than plain awaits (1.16 vs 0.81 ms,
docs/performance.md), and CPU, not latency, is what a 2-core machine runs out of.

Only the common case runs here. Anything else is handed back (:class:`HandBack`) and the caller runs
the full blocking ``purchase`` in a worker thread, which answers it exactly as before: a
refusal (it also looks the reference up, so a retry of a sale that went through is answered
with that sale), a reference already used (replay or conflict), a meter with undelivered
campaign KCTs, an IDPEL that needs a lookup, a cold cache. Nothing was written when a sale is
handed back: its transaction was rolled back, so the full path starts clean.

PostgreSQL only: SQLite has one writer and no asyncio driver worth the name; the embedded
default keeps the blocking path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from prabayar import sts
from prabayar.digits import is_digits
from prabayar.vending._core import MAX_CHANNEL_REFERENCE, month_of
from prabayar.vending.errors import VendingError
from prabayar.vending.fastpath import (
    _CLAIM,
    _USAGE,
    _WRITE_PG,
    ChannelRule,
    LeanPurchase,
    _replace_bought,
)
from prabayar.vending.results import PurchaseResult

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("prabayar.vending.fastpath_async")

#: The claim with the campaign question in it: whether the meter has a KCT set waiting (then
#: the campaign's own sale, which delivers it, must run instead).
_CLAIM_PG = _CLAIM + "\n   FOR UPDATE OF m"
_PENDING_KCT = "SELECT EXISTS (SELECT 1 FROM campaign_meters WHERE meter_number = %(meter)s AND state = 'generated')"


class HandBack(Exception):
    """This sale is not for the lane: run the full purchase (nothing was written)."""


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://…`` (SQLAlchemy) -> ``postgresql://…`` (libpq)."""
    scheme, sep, rest = url.partition("://")
    return "postgresql" + sep + rest if scheme.startswith("postgresql") else url


class AsyncLeanPurchase:
    """The lean sale on an asyncio connection pool, for one event loop (one server process).

    ``service`` is the process's vending service (a ``LeanPurchase``): its caches, pricing,
    key store and clock are used as they are, so both paths sell by the same rules.
    """

    def __init__(self, service: LeanPurchase, url: str, *, pool_size: int = 8, options: str = "") -> None:
        self.service = service
        self.url = libpq_url(url)
        self.options = options  # libpq options of the blocking engine (search_path, lock_timeout)
        self.sold = 0  #: sales this lane completed (the rest were handed back)
        self.handed_back = 0
        self.pool_size = max(1, pool_size)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None

    async def pool(self) -> AsyncConnectionPool[Any]:
        """This loop's pool, opened on first use (a test client may bring a new loop)."""
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is loop:
            return self._pool
        if self._opening is None or self._loop is not loop:
            self._opening = asyncio.Lock()
            self._pool = None
            self._loop = loop
        async with self._opening:
            if self._pool is None:
                from psycopg_pool import AsyncConnectionPool

                connect_kwargs: dict[str, Any] = {"autocommit": False, "prepare_threshold": 0}
                if self.options:
                    connect_kwargs["options"] = self.options
                pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                    self.url,
                    min_size=self.pool_size,
                    max_size=self.pool_size,
                    open=False,
                    name="prabayar-lane",
                    kwargs=connect_kwargs,
                )
                await pool.open(wait=True, timeout=30)
                self._pool = pool
        assert self._pool is not None
        return self._pool

    async def close(self) -> None:
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            await self._pool.close()
        self._pool = None

    async def purchase(self, channel: str, channel_reference: str, identifier: str, nominal: int) -> PurchaseResult:
        """Sell a token, or raise :class:`HandBack` for the full path (nothing written then).

        A database failure is handed back too: the full path either finds the sale committed
        (its reference guard row) and replays it, or sells it, or answers the failure typed.
        """
        from psycopg import Error as DatabaseError
        from psycopg_pool import PoolTimeout

        try:
            result = await self._purchase(channel, channel_reference, identifier, nominal)
        except HandBack:
            self.handed_back += 1
            raise
        except (DatabaseError, PoolTimeout, OSError) as exc:
            log.warning("lane sale failed (%s); handing it to the full path", type(exc).__name__)
            self.handed_back += 1
            raise HandBack() from exc
        self.sold += 1
        return result

    async def _purchase(self, channel: str, channel_reference: str, identifier: str, nominal: int) -> PurchaseResult:
        service = self.service
        reference = channel_reference.strip()
        if not reference or len(reference) > MAX_CHANNEL_REFERENCE:
            raise HandBack()
        if isinstance(nominal, bool) or not isinstance(nominal, int):
            raise HandBack()
        rule = service.cached_channel_rule(channel)
        if rule is None or not service.tariff_versions_cached():
            raise HandBack()  # the full path fills the caches
        ident = sts.meter_number.compact(identifier)
        if len(ident) not in (11, 12, 13) or not is_digits(ident):
            raise HandBack()  # a bad identifier: the full path words the refusal
        idpel = ident if len(ident) == 12 else None
        campaign = service.campaign_flag_cached()
        if campaign is None:
            raise HandBack()
        try:
            if idpel is None:
                sts.meter_number.validate(ident)
            service._check_cutoff(service.now())
            rule.denomination.check(nominal)
        except (VendingError, sts.InvalidChecksum):
            raise HandBack() from None  # refusals are answered (and replay-checked) by the full path
        pool = await self.pool()
        for _attempt in range(3):
            async with pool.connection() as conn:
                try:
                    return await self._sell_once(conn, rule, reference, ident, idpel, nominal, campaign)
                except _StaleAsync:
                    continue
        raise HandBack()

    async def _sell_once(
        self,
        conn: AsyncConnection[Any],
        rule: ChannelRule,
        reference: str,
        ident: str,
        idpel: str | None,
        nominal: int,
        campaign: bool,
    ) -> PurchaseResult:
        service = self.service
        committed = False
        try:
            meter_number = ident if idpel is None else await _meter_of_idpel(conn, idpel)
            month_guess = month_of(service.now())
            claim_params = {"month": month_guess, "meter": meter_number}
            if campaign:
                flag = await (await conn.execute(_PENDING_KCT, claim_params)).fetchone()
                if flag is not None and flag[0]:
                    raise HandBack()  # the campaign's sale delivers the KCTs
            row = await (await conn.execute(_CLAIM_PG, claim_params)).fetchone()
            now = service.now()  # after the claim: a sale that waited never carries an earlier time
            if row is None:
                raise HandBack()  # unknown meter: the full path words the refusal
            claimed = service._claimed(row)
            month = month_of(now)
            if month != month_guess:  # the month turned while the claim waited
                usage = await (await conn.execute(_USAGE, {"meter": meter_number, "month": month})).fetchone()
                claimed = _replace_bought(claimed, usage[0] if usage else None)
            try:
                params, result = service._plan_sale(rule, reference, claimed, nominal, now, sqlite=False)
            except VendingError:
                raise HandBack() from None
            cur = await conn.execute(_WRITE_PG, params)
            purchase_id, usage_rows, debt_rows = await cur.fetchone()  # type: ignore[misc]
            if purchase_id is None:
                raise HandBack()  # the reference is taken: replay or conflict, by the full path
            if usage_rows != 1 or (params["angsuran"] and debt_rows != 1):
                raise _StaleAsync()
            await conn.commit()
            committed = True
            return result
        finally:
            if not committed:
                await _rollback(conn)


_GONE = ("replaced", "removed")
_IDPEL_METERS = (
    "SELECT m.id, m.meter_number, m.status FROM meters m JOIN customers c ON c.id = m.customer_id"
    " WHERE c.idpel = %(idpel)s"
)


async def _meter_of_idpel(conn: AsyncConnection[Any], idpel: str) -> str:
    """The meter an IDPEL buys for, by ``ServiceCore._find_meter``'s rule: the one meter in
    service (else the newest one gone, which the claim then refuses by its status). No meter,
    or several in service, is handed back: the full path words those refusals. Read in the
    sale's transaction, before the claim; it locks nothing."""
    found = await (await conn.execute(_IDPEL_METERS, {"idpel": idpel})).fetchall()
    if not found:
        raise HandBack()
    in_service = [row for row in found if row[2] not in _GONE]
    if len(in_service) > 1:
        raise HandBack()
    meters = sorted(found, key=lambda row: (row[2] not in _GONE, row[0]))
    return str(meters[-1][1])


class _StaleAsync(Exception):
    """Usage or debt changed between claim and write: run the sale again with fresh figures."""


async def _rollback(conn: AsyncConnection[Any]) -> None:
    try:
        await conn.rollback()
    except Exception:  # a broken connection: the pool discards it when it comes back
        log.debug("rollback failed; the pool replaces the connection", exc_info=True)


__all__ = ["AsyncLeanPurchase", "HandBack", "libpq_url"]
