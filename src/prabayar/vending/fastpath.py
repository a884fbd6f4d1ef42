"""The lean purchase path: one claim, one write, one commit (issue 11).

A sale on PostgreSQL is three round trips on one pooled connection:

1. **claim** — ``SELECT … FOR UPDATE OF m``: the meter row locked, with everything a sale
   reads (customer, tariff class, unit, PBJT-TL rate, this month's usage) in the same
   statement. The sale's time is taken **after** this returns, so a sale that waited for the
   lock never carries an earlier time (or TID) than the one that held it.
2. **write** — one statement of data-modifying CTEs: the (channel, reference) guard row
   (``purchase_refs``, ``ON CONFLICT DO NOTHING``), the purchase, the meter's new TID, the
   month's usage (upsert that re-checks the cap), the angsuran taken off the debt (only if
   the debt still covers it), and the audit row.
3. **commit**.

Idempotency costs nothing on the happy path: there is no lookup of the reference before the
sale; a reference already used shows up as an empty guard insert, the transaction is rolled
back and the earlier purchase is replayed (or ``ReferenceConflict`` when the request
differs). A refusal (cap, blocked, cut-off, …) also looks the reference up first, so a retry of
a sale that succeeded is answered with that sale even when the same request would now be
refused. If the write finds the month's usage or the debt changed since the claim read them
(a concurrent sale committed while this one waited for the lock), the transaction is rolled
back and the sale runs again with fresh figures.

SQLite runs the same steps (``BEGIN IMMEDIATE`` instead of ``FOR UPDATE``, the writes as
separate statements: SQLite has no writable CTEs).

Per-process caches (``invalidate_caches()`` clears them; every channel or tariff change made
through this service clears them at once, other processes see it within
``CACHE_SECONDS``): API key → channel, channel rules, tariff price versions. Decoder keys are
cached by the key store.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import select

from prabayar import sts
from prabayar.digits import is_digits
from prabayar.sts import ElectricityCredit
from prabayar.sts.batch import encode_tokens
from prabayar.vending import accounts
from prabayar.vending import db as _db
from prabayar.vending._core import (
    DISCOUNT_MAX_VA,
    MAX_CHANNEL_REFERENCE,
    ServiceCore,
    _channel_info,
    _denomination_rule,
    month_of,
)
from prabayar.vending.db import _sqlite_writer_lock, is_sqlite, reading_session
from prabayar.vending.errors import (
    AuthenticationFailed,
    InProcess,
    InvalidRequest,
    MonthlyCapExceeded,
    UnknownChannel,
    UnknownMeter,
    VendingError,
)
from prabayar.vending.models import Channel, ChannelApiKey, Meter, TariffPrice
from prabayar.vending.pricing import (
    PPN_RATE,
    AdminFeeRule,
    DenominationRule,
    PriceBreakdown,
    meterai_for,
    monthly_cap_kwh,
    ppn_applies,
    price_purchase,
)
from prabayar.vending.results import ChannelInfo, PurchaseResult

#: One more statement a caller needs written in the sale's own transaction (after the sale's
#: rows, before the commit): ``(sql, params)``; the sale adds ``reference_number`` and
#: ``created_at``. The ISO 8583 link journals its sales this way, so a sale never commits
#: without its journal row. Replays and refusals write nothing, so it does not run for them.
SALE_COMPANION: ContextVar[tuple[str, dict[str, Any]] | None] = ContextVar("sale_companion", default=None)

#: How long another process may use a channel, API key or tariff it cached (seconds).
CACHE_SECONDS = 5.0
#: Methods after which this process's caches are cleared (wrapped when the service is built).
INVALIDATING_METHODS = (
    "issue_channel_key", "add_channel", "update_channel", "rotate_channel_key", "disable_channel",
    "enable_channel", "revoke_channel_key", "add_tariff_price", "set_tariff_price", "add_tariff_version",
)  # fmt: skip

_CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")


def _sen(raw: int) -> Decimal:
    return (Decimal(int(raw)) / 100).quantize(_CENT)


def _micro(raw: int | None) -> Decimal:
    return (Decimal(int(raw)) / 1_000_000).quantize(_MICRO) if raw is not None else Decimal(0)


@dataclass(frozen=True)
class ChannelRule:
    """What a sale needs of its channel (cached per process)."""

    id: int
    code: str
    denomination: DenominationRule
    admin_fee: AdminFeeRule


@dataclass
class _CustomerView:
    id: int
    idpel: str
    name: str
    status: str
    va: int
    debt_remaining: int
    angsuran_per_purchase: int


@dataclass
class _MeterView:
    """The claimed meter row, shaped like ``models.Meter`` for the shared rule helpers."""

    id: int
    meter_number: str
    status: str
    replaced_by: str | None
    key_type: int
    sgc: str
    tariff_index: str
    krn: int
    ken: int
    algorithm: str
    base_date: str
    dkga: str
    last_tid: int
    customer: _CustomerView


@dataclass(frozen=True)
class _Claimed:
    meter: _MeterView
    tariff_class_id: int
    print_code: str
    base_rate: Decimal
    household: bool
    unit_code: str
    pbjt_rate: Decimal
    bought: Decimal


class _Stale(Exception):
    """The write found usage or debt changed since the claim read them: run the sale again."""


class _Replay(Exception):
    """The (channel, reference) guard row exists: answer with the earlier purchase."""


_CLAIM = """
SELECT m.id, m.meter_number, m.status, m.replaced_by, m.key_type, m.sgc, m.tariff_index, m.krn, m.ken,
       m.algorithm, m.base_date, m.dkga, m.last_tid,
       c.id, c.idpel, c.name, c.status, c.va, c.debt_remaining, c.angsuran_per_purchase,
       t.id, t.print_code, t.rp_per_kwh, t.household, u.code, r.pbjt_rate,
       (SELECT mu.kwh FROM monthly_usage mu WHERE mu.meter_number = m.meter_number AND mu.month = %(month)s)
  FROM meters m
  JOIN customers c ON c.id = m.customer_id
  JOIN tariff_classes t ON t.id = c.tariff_class_id
  JOIN units u ON u.id = c.unit_id
  LEFT JOIN unit_tax_rates r ON r.unit_id = c.unit_id AND r.tariff_class_id = c.tariff_class_id
 WHERE m.meter_number = %(meter)s"""

_USAGE = "SELECT kwh FROM monthly_usage WHERE meter_number = %(meter)s AND month = %(month)s"

_PURCHASE_COLUMNS = (
    "id, reference_number, channel_id, channel_reference, meter_number, idpel, customer_name, tariff_code, va,"
    " nominal, admin_fee, meterai, ppn, pbjt, angsuran, stroom, kwh, tariff_rp_per_kwh, pbjt_rate, tid, token,"
    " created_at"
)
_PURCHASE_VALUES = (
    "%(reference_number)s, %(channel_id)s, %(reference)s, %(meter)s, %(idpel)s, %(name)s, %(tariff_code)s,"
    " %(va)s, %(nominal)s, %(admin_fee)s, %(meterai)s, %(ppn)s, %(pbjt)s, %(angsuran)s, %(stroom)s, %(kwh)s,"
    " %(rate)s, %(pbjt_rate)s, %(tid)s, %(token)s, %(created_at)s"
)

#: PostgreSQL: every write of a sale in one statement. Returns (purchase id | NULL, usage
#: rows written, debt rows written); anything short of (id, 1, 1 if angsuran) is rolled back.
_WRITE_PG = f"""
WITH r AS (
  INSERT INTO purchase_refs (channel_id, channel_reference, purchase_id, created_at)
  VALUES (%(channel_id)s, %(reference)s, nextval('purchases_id_seq'), %(created_at)s)
  ON CONFLICT DO NOTHING
  RETURNING purchase_id
), p AS (
  INSERT INTO purchases ({_PURCHASE_COLUMNS})
  SELECT r.purchase_id, {_PURCHASE_VALUES} FROM r
  RETURNING id
), m AS (
  UPDATE meters SET last_tid = %(tid)s WHERE id = %(meter_id)s
), u AS (
  INSERT INTO monthly_usage (meter_number, month, kwh) VALUES (%(meter)s, %(month)s, %(kwh)s)
  ON CONFLICT (meter_number, month) DO UPDATE SET kwh = monthly_usage.kwh + EXCLUDED.kwh
  WHERE monthly_usage.kwh + EXCLUDED.kwh <= %(cap)s
  RETURNING 1
), d AS (
  UPDATE customers SET debt_remaining = debt_remaining - %(angsuran)s
  WHERE id = %(customer_id)s AND %(angsuran)s > 0 AND debt_remaining >= %(angsuran)s
  RETURNING 1
), a AS (
  INSERT INTO audit_log (at, actor, action, meter_number, detail)
  SELECT %(created_at)s, %(actor)s, 'purchase', %(meter)s, %(detail)s FROM p
)
SELECT (SELECT id FROM p), (SELECT count(*) FROM u), (SELECT count(*) FROM d)"""

_SQLITE_WRITES = (
    "INSERT INTO purchases (" + _PURCHASE_COLUMNS + ") VALUES (%(purchase_id)s, " + _PURCHASE_VALUES + ")",
    "UPDATE meters SET last_tid = %(tid)s WHERE id = %(meter_id)s",
    "INSERT INTO audit_log (at, actor, action, meter_number, detail)"
    " VALUES (%(created_at)s, %(actor)s, 'purchase', %(meter)s, %(detail)s)",
)
_SQLITE_USAGE = (
    "INSERT INTO monthly_usage (meter_number, month, kwh) VALUES (%(meter)s, %(month)s, %(kwh)s)"
    " ON CONFLICT (meter_number, month) DO UPDATE SET kwh = monthly_usage.kwh + excluded.kwh"
    " WHERE monthly_usage.kwh + excluded.kwh <= %(cap)s"
)
_SQLITE_DEBT = (
    "UPDATE customers SET debt_remaining = debt_remaining - %(angsuran)s"
    " WHERE id = %(customer_id)s AND debt_remaining >= %(angsuran)s"
)
_SQLITE_REF = (
    "INSERT INTO purchase_refs (channel_id, channel_reference, purchase_id, created_at)"
    " VALUES (%(channel_id)s, %(reference)s, (SELECT coalesce(max(id), 0) + 1 FROM purchases), %(created_at)s)"
    " ON CONFLICT DO NOTHING"
)


def _qmark(sql: str) -> str:
    """``%(name)s`` (psycopg) -> ``:name`` (sqlite3)."""
    import re

    return re.sub(r"%\((\w+)\)s", r":\1", sql)


def pgbench_write_statement(channel_id: int) -> str:
    """The write statement of a sale with pgbench variables (bench/load_bench.py's ceiling).

    Same statement as the service's, with constant figures; ``:mid`` is the meter id and
    ``:ref`` a random reference.
    """
    values = {
        "channel_id": str(channel_id),
        "reference": "'PGB-' || :ref || '-' || :client_id",
        "created_at": "clock_timestamp()",
        "reference_number": "'PGB' || :ref || '-' || :client_id",
        "meter": "(SELECT meter_number FROM meters WHERE id = :mid)",
        "idpel": "'541000000001'",
        "name": "'PGBENCH'",
        "tariff_code": "'R1'",
        "va": "1300",
        "nominal": "20000",
        "admin_fee": "2000",
        "meterai": "0",
        "ppn": "0",
        "pbjt": "460",
        "angsuran": "0",
        "stroom": "19540",
        "kwh": "1360",
        "rate": "144470",
        "pbjt_rate": "24000",
        "tid": "(SELECT last_tid + 1 FROM meters WHERE id = :mid)",
        "token": "'12345678901234567890'",
        "meter_id": ":mid",
        "month": "to_char(clock_timestamp(), 'YYYY-MM')",
        "cap": "93600000",
        "customer_id": "0",
        "actor": "'PGBENCH'",
        "detail": "'{}'",
    }
    import re

    return re.sub(r"%\((\w+)\)s", lambda m: values[m.group(1)], _WRITE_PG).strip() + ";"


class _TtlCache:
    """A small thread-safe dict whose entries expire."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._data: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: object, value: object) -> None:
        with self._lock:
            if len(self._data) > 10_000:
                self._data.clear()
            self._data[key] = (time.monotonic() + self.seconds, value)

    def peek(self, key: object) -> tuple[object | None, bool]:
        """(value, fresh): the entry even after it expired (stale-while-revalidate callers)."""
        hit = self._data.get(key)
        if hit is None:
            return None, False
        return hit[1], hit[0] >= time.monotonic()

    def discard(self, key: object) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def _invalidating(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: LeanPurchase, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.invalidate_caches()

    wrapper.__prabayar_invalidating__ = True  # type: ignore[attr-defined]
    return wrapper


class LeanPurchase(ServiceCore):
    """``purchase`` in one claim, one write and one commit; cached channel and tariff data."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in INVALIDATING_METHODS:
            method = getattr(cls, name, None)
            if method is not None and not getattr(method, "__prabayar_invalidating__", False):
                setattr(cls, name, _invalidating(method))

    # --- caches ------------------------------------------------------------------------------
    def _caches(self) -> dict[str, _TtlCache]:
        caches: dict[str, _TtlCache] | None = self.__dict__.get("_lean_caches")
        if caches is None:
            caches = {name: _TtlCache(CACHE_SECONDS) for name in ("keys", "channels", "tariffs")}
            self.__dict__["_lean_caches"] = caches
        return caches

    def invalidate_caches(self) -> None:
        """Forget cached API keys, channels and tariff versions (this process)."""
        for cache in self._caches().values():
            cache.clear()

    def authenticate_channel(self, api_key: str) -> ChannelInfo:
        """The channel an API key belongs to (cached for ``CACHE_SECONDS``; failures are not)."""
        digest = accounts.hash_api_key(api_key)
        cache = self._caches()["keys"]
        hit = cache.get(digest)
        if hit is not None:
            return cast(ChannelInfo, hit)
        with reading_session(self.engine) as session:
            row = session.scalar(
                select(ChannelApiKey).where(ChannelApiKey.key_hash == digest, ChannelApiKey.revoked_at.is_(None))
            )
            if row is None or not row.channel.active:
                raise AuthenticationFailed()
            info = _channel_info(row.channel)
        cache.put(digest, info)
        return info

    def channel_rule(self, code: str) -> ChannelRule:
        cache = self._caches()["channels"]
        hit = cache.get(code)
        if hit is not None:
            return cast(ChannelRule, hit)
        with reading_session(self.engine) as session:
            channel = session.scalar(select(Channel).where(Channel.code == code))
            if channel is None or not channel.active:
                raise UnknownChannel(code)
            rule = ChannelRule(
                id=channel.id,
                code=channel.code,
                denomination=_denomination_rule(channel),
                admin_fee=AdminFeeRule.from_json(channel.admin_fee_rule),
            )
        cache.put(code, rule)
        return rule

    # --- what the asyncio lane reads without I/O (stale entries included; it refreshes them) ---
    def peek_channel_rule(self, code: str) -> tuple[ChannelRule | None, bool]:
        """(the channel's cached rule or None, whether it is fresh); no I/O."""
        rule, fresh = self._caches()["channels"].peek(code)
        return cast(ChannelRule | None, rule), fresh

    def forget_channel_rule(self, code: str) -> None:
        self._caches()["channels"].discard(code)

    def peek_channel_for_key(self, api_key: str) -> tuple[ChannelInfo | None, bool]:
        """(the cached channel of an API key or None, whether it is fresh); no I/O."""
        info, fresh = self._caches()["keys"].peek(accounts.hash_api_key(api_key))
        return cast(ChannelInfo | None, info), fresh

    def forget_api_key(self, api_key: str) -> None:
        self._caches()["keys"].discard(accounts.hash_api_key(api_key))

    def peek_tariff_versions(self) -> tuple[bool, bool]:
        """(whether tariff versions are cached, whether fresh); no I/O."""
        versions, fresh = self._caches()["tariffs"].peek("all")
        return versions is not None, fresh

    def peek_campaign_flag(self) -> tuple[bool | None, bool]:
        """(whether a sale must ask for pending campaign KCTs, fresh): always (False, True) here
        (no campaigns); the campaign use cases answer from their cache."""
        return False, True

    def _tariff_versions(self, *, stale_ok: bool = False) -> dict[int, list[tuple[datetime, Decimal]]]:
        cache = self._caches()["tariffs"]
        hit = cache.peek("all")[0] if stale_ok else cache.get("all")
        if hit is not None:
            return cast(dict[int, list[tuple[datetime, Decimal]]], hit)
        versions: dict[int, list[tuple[datetime, Decimal]]] = {}
        with reading_session(self.engine) as session:
            for row in session.scalars(select(TariffPrice).order_by(TariffPrice.effective_from)):
                versions.setdefault(row.tariff_class_id, []).append((row.effective_from, row.rp_per_kwh))
        cache.put("all", versions)
        return versions

    def _tariff_rate(
        self, tariff_class_id: int, base_rate: Decimal, when: datetime, *, stale_ok: bool = False
    ) -> Decimal:
        """The Rp/kWh in force at ``when``: the newest version that has started, else the base."""
        rate = base_rate
        for start, version_rate in self._tariff_versions(stale_ok=stale_ok).get(tariff_class_id, ()):
            if start <= when:
                rate = version_rate
            else:
                break
        return rate

    # --- the sale ----------------------------------------------------------------------------
    def purchase(self, channel: str, channel_reference: str, identifier: str, nominal: int) -> PurchaseResult:
        """Sell a token, exactly once per (channel, channel reference)."""
        reference = channel_reference.strip()
        if not reference or len(reference) > MAX_CHANNEL_REFERENCE:
            raise InvalidRequest(
                "REFERENSI LOKET TIDAK VALID",
                f"a channel reference has 1 to {MAX_CHANNEL_REFERENCE} characters",
            )
        rule = self.channel_rule(channel)
        try:
            if isinstance(nominal, bool) or not isinstance(nominal, int):
                raise InvalidRequest("NOMINAL TIDAK VALID", "the nominal must be whole rupiah")
            self._check_cutoff(self.now())
            rule.denomination.check(nominal)
            meter_number = self._meter_number_for(identifier)
            for _attempt in range(3):
                try:
                    return self._sell_once(rule, reference, meter_number, nominal)
                except _Stale:
                    continue
            raise InProcess("the meter's figures kept changing during the sale")
        except _Replay:
            return self._replay_reference(rule, reference, identifier, nominal, None)
        except VendingError as refusal:
            # a retry of a sale that went through gets that sale, whatever would be refused now
            return self._replay_reference(rule, reference, identifier, nominal, refusal)

    def _replay_reference(
        self, rule: ChannelRule, reference: str, identifier: str, nominal: int, refusal: VendingError | None
    ) -> PurchaseResult:
        with reading_session(self.engine) as session:
            existing = self._find_purchase(session, rule.id, reference)
            if existing is None:
                if refusal is not None:
                    raise refusal
                raise InProcess("the channel reference is being used by a sale in progress")
            return self._replay(existing, rule.code, identifier, nominal)

    def _meter_number_for(self, identifier: str) -> str:
        """The meter number behind a meter number or IDPEL, with the same refusals as elsewhere."""
        ident = sts.meter_number.compact(identifier)
        if len(ident) == 12 and is_digits(ident):
            with reading_session(self.engine) as session:
                return self._find_meter(session, ident).meter_number
        if not is_digits(ident):
            raise UnknownMeter(ident, detail="a meter number or IDPEL has only digits")
        if len(ident) not in (11, 13):
            raise UnknownMeter(ident, detail=f"{len(ident)} digits: a meter number has 11, an IDPEL 12")
        try:
            sts.meter_number.validate(ident)
        except sts.InvalidChecksum as exc:
            raise UnknownMeter(ident, luhn_failed=True) from exc
        return ident

    def _sell_once(self, rule: ChannelRule, reference: str, meter_number: str, nominal: int) -> PurchaseResult:
        sqlite = is_sqlite(self.engine)
        lock = _sqlite_writer_lock(self.engine) if sqlite else None
        if lock is not None and not lock.acquire(timeout=_db.SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise InProcess("no write slot on the SQLite database within the busy timeout")
        try:
            return self._transaction(rule, reference, meter_number, nominal, sqlite)
        finally:
            if lock is not None:
                lock.release()

    def _transaction(
        self, rule: ChannelRule, reference: str, meter_number: str, nominal: int, sqlite: bool
    ) -> PurchaseResult:
        raw = self.engine.raw_connection()
        committed = False
        try:
            dbapi = raw.driver_connection
            assert dbapi is not None
            cur = dbapi.cursor()

            def run(sql: str, params: dict[str, Any]) -> Any:
                if sqlite:
                    return cur.execute(_qmark(sql), params)
                return cur.execute(sql, params)

            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
            month_guess = month_of(self.now())
            claim = _CLAIM if sqlite else _CLAIM + "\n   FOR UPDATE OF m"
            run(claim, {"month": month_guess, "meter": meter_number})
            row = cur.fetchone()
            now = self.now()  # after the claim: a sale that waited never carries an earlier time
            if row is None:
                raise UnknownMeter(meter_number)
            claimed = self._claimed(row)
            month = month_of(now)
            if month != month_guess:  # the month turned while the claim waited
                run(_USAGE, {"meter": meter_number, "month": month})
                usage = cur.fetchone()
                claimed = _replace_bought(claimed, usage[0] if usage else None)
            params, result = self._plan_sale(rule, reference, claimed, nominal, now, sqlite=sqlite)
            self._write(cur, run, params, sqlite)
            companion = SALE_COMPANION.get()
            if companion is not None:
                sql, extra = companion
                run(sql, {**extra, "reference_number": params["reference_number"], "created_at": params["created_at"]})
            dbapi.commit()
            committed = True
            return result
        except (VendingError, _Replay, _Stale):
            raise
        except Exception as exc:
            if sqlite and type(exc).__name__ == "IntegrityError" and "channel_reference" in str(exc):
                raise _Replay() from exc  # SQLite's own unique key on (channel, reference)
            raise self._database_failure(exc, raw, committed) from exc
        finally:
            if not committed:
                try:
                    raw.rollback()
                except Exception:  # a broken connection: the pool replaces it
                    raw.invalidate()
            raw.close()

    def _plan_sale(
        self,
        rule: ChannelRule,
        reference: str,
        claimed: _Claimed,
        nominal: int,
        now: datetime,
        *,
        sqlite: bool,
        stale_ok: bool = False,
    ) -> tuple[dict[str, Any], PurchaseResult]:
        """Everything between the claim and the write, without I/O: the refusals (meter,
        customer, cap), the price, the TID, the token; the write's parameters and the answer.
        Shared by the blocking path here and the asyncio one (``fastpath_async``)."""
        meter = cast(Meter, claimed.meter)
        self._check_sellable(meter)
        price, cap = self._price(rule, claimed, nominal, now, stale_ok=stale_ok)
        tid = self._tid_for(meter, now)
        credit = ElectricityCredit(tid=tid, amount=price.kwh, rnd=secrets.randbelow(16))
        # the batch engine's C encoder (byte-identical to sts.encode, tests/sts): 15 -> 3 µs
        token = encode_tokens([credit], self._decoder_key(meter))[0]
        customer = claimed.meter.customer
        reference_number = _reference_number(claimed.unit_code, now)
        params: dict[str, Any] = {
            "channel_id": rule.id,
            "reference": reference,
            "created_at": _sqlite_time(now) if sqlite else now,
            "reference_number": reference_number,
            "meter": claimed.meter.meter_number,
            "meter_id": claimed.meter.id,
            "idpel": customer.idpel,
            "name": customer.name,
            "tariff_code": claimed.print_code,
            "va": customer.va,
            "customer_id": customer.id,
            "nominal": price.nominal,
            "admin_fee": price.admin_fee,
            "meterai": price.meterai,
            "ppn": price.ppn,
            "pbjt": price.pbjt,
            "angsuran": price.angsuran,
            "stroom": price.stroom,
            "kwh": int(price.kwh * 100),
            "rate": int(price.tariff_rp_per_kwh * 100),
            "pbjt_rate": int(price.pbjt_rate * 1_000_000),
            "tid": tid,
            "token": token,
            "month": month_of(now),
            "cap": int(cap * 100),
            "actor": rule.code,
            "detail": json.dumps(
                {
                    "channel_reference": reference,
                    "kwh": str(price.kwh),
                    "nominal": price.nominal,
                    "reference_number": reference_number,
                    "tid": tid,
                },
                sort_keys=True,
            ),
        }
        result = PurchaseResult(
            reference_number=reference_number,
            channel=rule.code,
            channel_reference=reference,
            meter_number=claimed.meter.meter_number,
            idpel=customer.idpel,
            name=customer.name,
            tariff_code=claimed.print_code,
            va=customer.va,
            token=token,
            tid=tid,
            price=price,
            created_at=now,
            delivered=False,
        )
        return params, result

    def _write(self, cur: Any, run: Callable[[str, dict[str, Any]], Any], params: dict[str, Any], sqlite: bool) -> None:
        """Every row of the sale: guard, purchase, TID, usage, debt, audit (not yet committed)."""
        if sqlite:
            self._write_sqlite(cur, run, params)
            return
        run(_WRITE_PG, params)
        purchase_id, usage_rows, debt_rows = cur.fetchone()
        if purchase_id is None:
            raise _Replay()
        if usage_rows != 1 or (params["angsuran"] and debt_rows != 1):
            raise _Stale()

    @staticmethod
    def _write_sqlite(cur: Any, run: Callable[[str, dict[str, Any]], Any], params: dict[str, Any]) -> None:
        run(_SQLITE_REF, params)
        if cur.rowcount != 1:
            raise _Replay()
        run("SELECT purchase_id FROM purchase_refs WHERE channel_id = %(channel_id)s AND"
            " channel_reference = %(reference)s", params)  # fmt: skip
        params["purchase_id"] = cur.fetchone()[0]
        run(_SQLITE_USAGE, params)
        if cur.rowcount != 1:
            raise _Stale()
        if params["angsuran"]:
            run(_SQLITE_DEBT, params)
            if cur.rowcount != 1:
                raise _Stale()
        for sql in _SQLITE_WRITES:
            run(sql, params)

    @staticmethod
    def _database_failure(exc: Exception, raw: Any, committed: bool) -> Exception:
        """A typed answer for a database problem: busy -> 0099 (the channel sends advice)."""
        textual = str(exc).lower()
        if any(s in textual for s in ("database is locked", "lock timeout", "could not obtain lock", "deadlock")):
            return InProcess("the database was busy")
        name = type(exc).__name__
        if name in ("OperationalError", "InterfaceError") and not committed:
            raw.invalidate()
            return InProcess("the database connection failed; send advice")
        return exc

    def _claimed(self, row: Any) -> _Claimed:
        (meter_id, number, status, replaced_by, key_type, sgc, tariff_index, krn, ken, algorithm, base_date, dkga,
         last_tid, customer_id, idpel, name, c_status, va, debt, angsuran, tariff_id, print_code, rate, household,
         unit_code, pbjt, bought) = row  # fmt: skip
        customer = _CustomerView(customer_id, idpel, name, c_status, int(va), int(debt), int(angsuran))
        meter = _MeterView(
            meter_id, number, status, replaced_by, int(key_type), sgc, tariff_index, int(krn), int(ken),
            algorithm, base_date, dkga, int(last_tid), customer,
        )  # fmt: skip
        return _Claimed(
            meter=meter,
            tariff_class_id=tariff_id,
            print_code=print_code,
            base_rate=_sen(rate),
            household=bool(household),
            unit_code=unit_code,
            pbjt_rate=_micro(pbjt),
            bought=_sen(bought) if bought is not None else Decimal("0.00"),
        )

    def _price(
        self, rule: ChannelRule, claimed: _Claimed, nominal: int, now: datetime, *, stale_ok: bool = False
    ) -> tuple[PriceBreakdown, Decimal]:
        """The same pricing as a quote (``ServiceCore._quote_and_usage``) from the claimed row."""
        customer = claimed.meter.customer
        angsuran = 0
        if customer.debt_remaining > 0 and customer.angsuran_per_purchase > 0:
            room = (nominal - meterai_for(nominal)) // 2
            angsuran = min(customer.angsuran_per_purchase, customer.debt_remaining, room)
        household = claimed.household
        price = price_purchase(
            nominal,
            tariff_rp_per_kwh=self._tariff_rate(claimed.tariff_class_id, claimed.base_rate, now, stale_ok=stale_ok),
            pbjt_rate=claimed.pbjt_rate,
            admin_fee=rule.admin_fee.fee_for(nominal),
            ppn_rate=PPN_RATE if ppn_applies(household, customer.va) else Decimal(0),
            angsuran=angsuran,
            discount=(self.household_discount if household and customer.va <= DISCOUNT_MAX_VA else Decimal(0)),
            rounding=self.kwh_rounding,
        )
        cap = monthly_cap_kwh(customer.va)
        if claimed.bought + price.kwh > cap:
            raise MonthlyCapExceeded(cap, claimed.bought, price.kwh)
        return price, cap

    def purchase_statements(self) -> tuple[str, str]:
        """The claim and write statements of a sale on PostgreSQL (docs, bench, tests)."""
        return _CLAIM + "\n   FOR UPDATE OF m", _WRITE_PG


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _reference_number(unit_code: str, now: datetime) -> str:
    """``_core.new_reference_number``'s format (unit code, WIB date, random A-Z0-9) from one
    call to the OS's random source instead of one per character (90 -> ~5 µs)."""
    wib = now + timedelta(hours=7)
    prefix = (unit_code[:2].rjust(2, "0") + f"{wib.year % 100:02d}{wib.month:02d}{wib.day:02d}")[:8]
    value = int.from_bytes(secrets.token_bytes(20))  # 160 bits, far more than 36**24 needs
    chars = []
    for _ in range(32 - len(prefix)):
        value, digit = divmod(value, 36)
        chars.append(_ALPHABET[digit])
    return prefix + "".join(chars)


def _replace_bought(claimed: _Claimed, raw: int | None) -> _Claimed:
    from dataclasses import replace

    return replace(claimed, bought=_sen(raw) if raw is not None else Decimal("0.00"))


def _sqlite_time(now: datetime) -> str:
    """How SQLAlchemy stores a UTC time in SQLite (``UTCDateTime`` on the DATETIME type)."""
    return now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


__all__ = ["CACHE_SECONDS", "SALE_COMPANION", "ChannelRule", "LeanPurchase", "pgbench_write_statement"]
