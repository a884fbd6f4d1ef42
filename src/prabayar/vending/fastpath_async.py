"""The lean purchase path on asyncio, with group commit (issue 11).

``LeanPurchase._transaction`` drives a sale through a blocking psycopg connection, so every
HTTP purchase costs a hop into a worker thread and back, and with many threads the GIL hand-off
between them dominates a 2-core machine. This module sells with the **same planning code**
(``LeanPurchase._plan_sale``) and the same rows through a psycopg 3 ``AsyncConnection`` from a
``psycopg_pool.AsyncConnectionPool``, on the server's event loop, one batch of sales per
transaction (a sale that arrives alone is a batch of one):

1. the claim of the batch's meters (``… = ANY(…) ORDER BY meter_number FOR UPDATE OF m``);
2. each sale's plan (refusals, price, TID, token) — CPU only, from the per-process caches;
3. one write statement for every planned sale (``unnest`` into the data-modifying CTEs of
   ``fastpath._WRITE_PG``), then ``COMMIT``.

psycopg's pipeline mode would fold the round trips, but measured here it cost ~40 % more client
CPU per sale than plain awaits (1.16 vs 0.81 ms, docs/performance.md); sharing them among the
sales of a batch saves more, and CPU, not latency, is what a 2-core machine runs out of.

Only the common case runs here. Anything else is handed back (:class:`HandBack`) and the caller
runs the full blocking ``purchase`` in a worker thread, which answers it exactly as before: a
refusal (it also looks the reference up, so a retry of a sale that went through is answered
with that sale), a reference already used (replay or conflict), a meter with undelivered
campaign KCTs, an IDPEL with no or several meters in service, a cold cache, figures that
changed between claim and write. Nothing of a handed-back sale was written, so the full path
starts clean.

PostgreSQL only: SQLite has one writer and no asyncio driver worth the name; the embedded
default keeps the blocking path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prabayar import sts
from prabayar.digits import is_digits
from prabayar.vending._core import MAX_CHANNEL_REFERENCE, month_of
from prabayar.vending.errors import VendingError
from prabayar.vending.fastpath import (
    _CLAIM,
    _USAGE,
    ChannelRule,
    LeanPurchase,
    _replace_bought,
)
from prabayar.vending.results import PurchaseResult

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("prabayar.vending.fastpath_async")

#: The batch claim: every meter of the batch, locked in meter-number order (two batches never
#: wait for each other in a cycle).
_CLAIM_MANY_PG = (
    _CLAIM.replace("WHERE m.meter_number = %(meter)s", "WHERE m.meter_number = ANY(%(meters)s)")
    + "\n ORDER BY m.meter_number\n   FOR UPDATE OF m"
)
_PENDING_KCT_MANY = (
    "SELECT DISTINCT meter_number FROM campaign_meters WHERE meter_number = ANY(%(meters)s) AND state = 'generated'"
)
#: (parameter, SQL array type) of the batch write, in ``unnest`` order
_BATCH_TYPES = (
    ("channel_id", "int"), ("reference", "text"), ("created_at", "timestamptz"), ("reference_number", "text"),
    ("meter", "text"), ("meter_id", "bigint"), ("idpel", "text"), ("name", "text"), ("tariff_code", "text"),
    ("va", "bigint"), ("customer_id", "bigint"), ("nominal", "bigint"), ("admin_fee", "bigint"),
    ("meterai", "bigint"), ("ppn", "bigint"), ("pbjt", "bigint"), ("angsuran", "bigint"), ("stroom", "bigint"),
    ("kwh", "bigint"), ("rate", "bigint"), ("pbjt_rate", "bigint"), ("tid", "bigint"), ("token", "text"),
    ("month", "text"), ("cap", "bigint"), ("had_usage", "bool"), ("actor", "text"), ("detail", "text"),
)  # fmt: skip
_BATCH_COLUMNS = tuple(name for name, _ in _BATCH_TYPES)
#: Every write of many sales in one statement (the same rows as ``fastpath._WRITE_PG`` per sale).
#: A sale whose (channel, reference) guard row exists already writes nothing; the others write
#: purchase, TID, usage (the cap re-checked), debt and audit. Returns the sold references
#: ("channel_id:reference"), usage rows written, debt rows written and debts due.
_WRITE_MANY_PG = f"""
WITH v AS (
  SELECT * FROM unnest({", ".join(f"%({name})s::{kind}[]" for name, kind in _BATCH_TYPES)})
    AS v({", ".join(_BATCH_COLUMNS)})
), r AS (
  INSERT INTO purchase_refs (channel_id, channel_reference, purchase_id, created_at)
  SELECT channel_id, reference, nextval('purchases_id_seq'), created_at FROM v
  ON CONFLICT DO NOTHING
  RETURNING channel_id, channel_reference, purchase_id
), s AS (
  SELECT v.*, r.purchase_id FROM v JOIN r ON r.channel_id = v.channel_id AND r.channel_reference = v.reference
), p AS (
  INSERT INTO purchases (id, reference_number, channel_id, channel_reference, meter_number, idpel, customer_name,
                         tariff_code, va, nominal, admin_fee, meterai, ppn, pbjt, angsuran, stroom, kwh,
                         tariff_rp_per_kwh, pbjt_rate, tid, token, created_at)
  SELECT purchase_id, reference_number, channel_id, reference, meter, idpel, name, tariff_code, va, nominal,
         admin_fee, meterai, ppn, pbjt, angsuran, stroom, kwh, rate, pbjt_rate, tid, token, created_at FROM s
  RETURNING channel_id, channel_reference
), m AS (
  UPDATE meters SET last_tid = s.tid FROM s WHERE meters.id = s.meter_id
), uu AS (
  UPDATE monthly_usage mu SET kwh = mu.kwh + s.kwh FROM s
  WHERE s.had_usage AND mu.meter_number = s.meter AND mu.month = s.month AND mu.kwh + s.kwh <= s.cap
  RETURNING 1
), ui AS (
  INSERT INTO monthly_usage (meter_number, month, kwh)
  SELECT meter, month, kwh FROM s WHERE NOT s.had_usage AND s.kwh <= s.cap
  ON CONFLICT DO NOTHING
  RETURNING 1
), d AS (
  UPDATE customers c SET debt_remaining = c.debt_remaining - s.angsuran FROM s
  WHERE c.id = s.customer_id AND s.angsuran > 0 AND c.debt_remaining >= s.angsuran
  RETURNING 1
), a AS (
  INSERT INTO audit_log (at, actor, action, meter_number, detail)
  SELECT created_at, actor, 'purchase', meter, detail FROM s
)
SELECT (SELECT array_agg(channel_id || ':' || channel_reference) FROM p),
       (SELECT count(*) FROM uu) + (SELECT count(*) FROM ui),
       (SELECT count(*) FROM d),
       (SELECT count(*) FROM s WHERE angsuran > 0)"""


@dataclass(eq=False)
class _Order:
    """One sale waiting for a batch."""

    rule: ChannelRule
    reference: str
    meter: str
    nominal: int
    campaign: bool
    done: asyncio.Future[PurchaseResult] | None = None


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

    def __init__(
        self, service: LeanPurchase, url: str, *, pool_size: int = 8, options: str = "", batch: int = 16
    ) -> None:
        self.service = service
        #: most sales one transaction carries (1 = every sale its own transaction)
        self.max_batch = max(1, batch)
        #: sales that arrived and wait for a batch; drainers take them in order
        self._waiting: list[_Order] = []
        self._drainers = 0
        self._singles = 0  #: sales running on their own (nobody else was selling when they came)
        self._tasks: set[asyncio.Future[None]] = set()
        self._refreshing: set[tuple[str, ...]] = set()
        self.batches = 0  #: transactions the batches took (sold / batches = mean batch size)
        #: called with each batch's size (the web layer feeds a metrics histogram)
        self.on_batch: Callable[[int], None] | None = None
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
                    min_size=min(2, self.pool_size),  # grows with demand up to pool_size
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

    # --- caches: stale-while-revalidate ---------------------------------------------------------
    def channel_for_key(self, api_key: str) -> Any:
        """The channel of an API key from the process cache (None when not cached). A stale
        entry is still used while one worker thread asks the database again; a key revoked or a
        channel disabled meanwhile drops out of the cache when that answer comes."""
        service = self.service
        info, fresh = service.peek_channel_for_key(api_key)
        if info is not None and not fresh:
            self._revalidate(("key", api_key), lambda: service.authenticate_channel(api_key),
                             lambda: service.forget_api_key(api_key))  # fmt: skip
        return info

    def _campaign_refresh(self) -> None:
        refresh = getattr(self.service, "_campaign_deliveries_possible", None)
        if refresh is not None:
            refresh()

    def _revalidate(self, key: tuple[str, ...], refresh: Any, forget: Any = None) -> None:
        """Refresh one cache entry in a worker thread, once at a time per entry. Until it is
        back, sales keep the stale value (at most ``CACHE_SECONDS`` plus one query old)
        instead of all falling back to the blocking path at once."""
        if key in self._refreshing:
            return
        self._refreshing.add(key)

        async def run() -> None:
            try:
                await asyncio.to_thread(refresh)
            except Exception:
                if forget is not None:
                    forget()
            finally:
                self._refreshing.discard(key)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        rule, fresh = service.peek_channel_rule(channel)
        if rule is None:
            raise HandBack()  # the full path fills the cache
        if not fresh:
            self._revalidate(("rule", channel), lambda: service.channel_rule(channel),
                             lambda: service.forget_channel_rule(channel))  # fmt: skip
        have_tariffs, fresh = service.peek_tariff_versions()
        if not have_tariffs:
            raise HandBack()
        if not fresh:
            self._revalidate(("tariffs",), service._tariff_versions)
        ident = sts.meter_number.compact(identifier)
        if len(ident) not in (11, 12, 13) or not is_digits(ident):
            raise HandBack()  # a bad identifier: the full path words the refusal
        idpel = ident if len(ident) == 12 else None
        campaign, fresh = service.peek_campaign_flag()
        if campaign is None:
            raise HandBack()
        if not fresh:
            self._revalidate(("campaign",), self._campaign_refresh)
        try:
            if idpel is None:
                sts.meter_number.validate(ident)
            service._check_cutoff(service.now())
            rule.denomination.check(nominal)
        except (VendingError, sts.InvalidChecksum):
            raise HandBack() from None  # refusals are answered (and replay-checked) by the full path
        busy = self._singles or self._waiting or self._drainers
        if idpel is None and self.max_batch > 1 and busy:
            # others are selling: wait for a batch (group commit); alone, sell at once
            return await self._queued(_Order(rule, reference, ident, nominal, campaign))
        self._singles += 1
        try:
            pool = await self.pool()
            async with pool.connection() as conn:
                meter = ident
                if idpel is not None:
                    try:  # read in the sale's transaction: the claim follows on it
                        meter = await _meter_of_idpel(conn, idpel)
                    except BaseException:
                        await _rollback(conn)
                        raise
                outcome = (await self._sell_batch(conn, [_Order(rule, reference, meter, nominal, campaign)]))[0]
        finally:
            self._singles -= 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # --- many sales in one transaction --------------------------------------------------------
    async def _queued(self, order: _Order) -> PurchaseResult:
        """Wait for this sale's batch: sales that arrive while the connections are busy share
        one claim, one write and one commit (group commit), each still all-or-nothing."""
        order.done = asyncio.get_running_loop().create_future()
        self._waiting.append(order)
        if self._drainers < self._max_drainers():
            self._drainers += 1
            task = asyncio.ensure_future(self._drain())
            self._tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._tasks.discard)
        return await order.done

    def _max_drainers(self) -> int:
        """Batches in flight at once per process: two (one writing while the next claims). More
        make batches smaller and cost CPU per sale; measured at 32 clients, 2 workers: 1,067-1,145
        sales/s with two, 1,004-1,048 with five (docs/performance.md)."""
        return max(1, min(self.pool_size // 2, 2))

    def _next_batch(self) -> list[_Order]:
        """Up to ``max_batch`` waiting sales, oldest first, no meter and no reference twice (a
        second sale of a meter waits for the next batch: TIDs follow the meter's lock)."""
        batch: list[_Order] = []
        meters: set[str] = set()
        refs: set[tuple[int, str]] = set()
        rest: list[_Order] = []
        for order in self._waiting:
            key = (order.rule.id, order.reference)
            if len(batch) < self.max_batch and order.meter not in meters and key not in refs:
                batch.append(order)
                meters.add(order.meter)
                refs.add(key)
            else:
                rest.append(order)
        self._waiting = rest
        return batch

    async def _drain(self) -> None:
        from psycopg import Error as DatabaseError
        from psycopg_pool import PoolTimeout

        try:
            while self._waiting:
                batch = self._next_batch()
                try:
                    pool = await self.pool()
                    async with pool.connection() as conn:
                        outcomes = await self._sell_batch(conn, batch)
                except (DatabaseError, PoolTimeout, OSError) as exc:
                    log.warning("lane batch failed (%s); handing its sales to the full path", type(exc).__name__)
                    outcomes = [HandBack() for _ in batch]
                except Exception as exc:  # a bug must not leave callers waiting forever
                    log.exception("lane batch crashed")
                    outcomes = [exc for _ in batch]
                self.batches += 1
                if self.on_batch is not None:
                    self.on_batch(len(batch))
                for order, outcome in zip(batch, outcomes, strict=True):
                    if order.done is not None and not order.done.done():
                        if isinstance(outcome, BaseException):
                            order.done.set_exception(outcome)
                        else:
                            order.done.set_result(outcome)
        finally:
            self._drainers -= 1

    async def _sell_batch(self, conn: AsyncConnection[Any], batch: list[_Order]) -> list[PurchaseResult | Exception]:
        """Claim every meter of the batch (in meter order: no deadlock between batches), plan
        each sale, write all sold ones in one statement, commit once. A sale the plan refuses,
        or whose reference turns out taken, is handed back; if the write finds usage or debt
        changed since the claim, nothing is kept and every sale is handed back."""
        service = self.service
        outcomes: list[PurchaseResult | Exception] = [HandBack() for _ in batch]
        committed = False
        try:
            month_guess = month_of(service.now())
            meters = sorted(order.meter for order in batch)
            waiting: set[str] = set()
            if any(order.campaign for order in batch):
                found = await (await conn.execute(_PENDING_KCT_MANY, {"meters": meters})).fetchall()
                waiting = {row[0] for row in found}
            rows = await (await conn.execute(_CLAIM_MANY_PG, {"meters": meters, "month": month_guess})).fetchall()
            now = service.now()  # after the claim, as for one sale
            month = month_of(now)
            by_meter = {row[1]: row for row in rows}
            planned: list[tuple[int, dict[str, Any], PurchaseResult]] = []
            for i, order in enumerate(batch):
                row = by_meter.get(order.meter)
                if row is None or order.meter in waiting:
                    continue  # unknown meter or campaign KCTs waiting: the full path answers
                claimed = service._claimed(row)
                had_usage = row[-1] is not None
                if month != month_guess:  # the month turned during the claim
                    usage = await (await conn.execute(_USAGE, {"meter": order.meter, "month": month})).fetchone()
                    claimed = _replace_bought(claimed, usage[0] if usage else None)
                    had_usage = usage is not None
                try:
                    params, result = service._plan_sale(order.rule, order.reference, claimed, order.nominal, now,
                                                        sqlite=False, stale_ok=True)  # fmt: skip
                except VendingError:
                    continue
                params["had_usage"] = had_usage
                planned.append((i, params, result))
            if planned:
                columns = {name: [p[name] for _, p, _ in planned] for name in _BATCH_COLUMNS}
                sold, usage_rows, debt_rows, debts = await (await conn.execute(_WRITE_MANY_PG, columns)).fetchone()  # type: ignore[misc]
                sold_keys = set(sold or ())
                if usage_rows != len(sold_keys) or debt_rows != debts:
                    return [HandBack() for _ in batch]  # stale figures: nothing kept (finally rolls back)
                await conn.commit()
                committed = True
                for i, params, result in planned:
                    if f"{params['channel_id']}:{params['reference']}" in sold_keys:
                        outcomes[i] = result
            else:
                await conn.rollback()
                committed = True
            return outcomes
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


async def _rollback(conn: AsyncConnection[Any]) -> None:
    try:
        await conn.rollback()
    except Exception:  # a broken connection: the pool discards it when it comes back
        log.debug("rollback failed; the pool replaces the connection", exc_info=True)


__all__ = ["AsyncLeanPurchase", "HandBack", "libpq_url"]
