"""Use cases behind the ISO 8583 host-to-host gateway (prabayar.gateway, docs/iso8583.md).

Partners (a sales channel with an ISO 8583 identity: port, framing, switcher ID, PCID, bank
codes, source networks) are managed here; the gateway face reads them and sells through the
same ``purchase``/``inquiry``/``quote``/``confirm_delivery`` use cases as the JSON API. What is
new here is only what the link needs besides them: the sales journal (partner, SRN and the
selling request's fields 11, 12, 32, 33, 41), looking a sale up without marking it delivered
(an advice is delivered only once its answer is written), and the field-62 context of an
answer (kWh left this month, the partner's other unsold tokens), which must also be built
during cut-off and for a customer blocked since the sale.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prabayar.digits import is_digits
from prabayar.vending._core import month_of
from prabayar.vending.channels_admin import ChannelAdminUseCases
from prabayar.vending.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    _sqlite_writer_lock,
    claiming_session,
    is_sqlite,
    reading_session,
)
from prabayar.vending.errors import (
    InProcess,
    InvalidRequest,
    KeyChangeRequired,
    UnknownChannel,
    UnknownReference,
)
from prabayar.vending.fastpath import SALE_COMPANION, _qmark, _sqlite_time
from prabayar.vending.hostlink_models import GatewayPartnerRow, GatewaySaleRow
from prabayar.vending.models import Channel, ChannelKind, Customer, Meter, MonthlyUsage, Purchase, Unit
from prabayar.vending.pricing import AdminFeeRule, monthly_cap_kwh
from prabayar.vending.results import PurchaseResult

if TYPE_CHECKING:
    from prabayar.vending.fastpath import ChannelRule

FRAMINGS = ("trailer", "len2")
_JOURNAL = (
    "INSERT INTO gateway_sales (channel_id, srn, stan, local_time, bank_code, pcid, terminal_id,"
    " reference_number, created_at) VALUES (%(channel_id)s, %(srn)s, %(stan)s, %(local_time)s, %(bank_code)s,"
    " %(pcid)s, %(terminal_id)s, %(reference_number)s, %(created_at)s)"
    " ON CONFLICT (channel_id, srn) DO NOTHING"
)
_JOURNAL_BANK = "SELECT bank_code FROM gateway_sales WHERE channel_id = %(channel_id)s AND srn = %(srn)s"
_UNSOLD = (
    "(SELECT p.nominal FROM purchases p WHERE p.channel_id = %(channel_id)s AND p.meter_number = m.meter_number"
    " AND p.delivered_at IS NULL AND p.channel_reference <> %(srn)s ORDER BY p.id DESC LIMIT 1 OFFSET {})"
)
#: field 62 of a sale's answer: power, unit, the month's kWh (hundredths), the 2 newest other unsold sales
_CONTEXT = (
    "SELECT c.va, u.code,"
    " (SELECT mu.kwh FROM monthly_usage mu WHERE mu.meter_number = m.meter_number AND mu.month = %(month)s),"
    f" {_UNSOLD.format(0)}, {_UNSOLD.format(1)}"
    " FROM meters m JOIN customers c ON c.id = m.customer_id JOIN units u ON u.id = c.unit_id"
    " WHERE m.meter_number = %(meter)s"
)

_JOURNAL_CONTEXT_PG = (
    f"WITH j AS ({_JOURNAL} RETURNING bank_code) SELECT COALESCE((SELECT bank_code FROM j),"
    " (SELECT g.bank_code FROM gateway_sales g WHERE g.channel_id = %(channel_id)s AND g.srn = %(srn)s)),"
    + _CONTEXT.removeprefix("SELECT")
)
#: {refs}: the placeholders of the channel references
_MARK_DELIVERED_PG = (
    "WITH d AS (UPDATE purchases SET delivered_at = %(now)s WHERE channel_id = %(channel_id)s"
    " AND channel_reference IN ({refs}) AND delivered_at IS NULL"
    " RETURNING meter_number, reference_number, channel_reference)"
    " INSERT INTO audit_log (at, actor, action, meter_number, detail)"
    " SELECT %(now)s, %(actor)s, 'delivery.confirmed', d.meter_number, jsonb_build_object("
    "'channel_reference', d.channel_reference, 'first_delivery', true, 'reference_number', d.reference_number)::text"
    " FROM d RETURNING 1"
)


def _context_of(row: Any) -> LinkContext:
    va, unit_code, hundredths, first, second = row
    bought = Decimal(hundredths or 0) / 100
    left = max(monthly_cap_kwh(int(va)) - bought, Decimal(0))
    return LinkContext(unit_code, left, tuple(int(n) for n in (first, second) if n is not None))


DEFAULT_MAX_CONNECTIONS = 2
DEFAULT_MAX_IN_FLIGHT = 32


@dataclass(frozen=True)
class GatewayPartner:
    """One partner's configuration (ISO8583.md §1.1)."""

    channel: str
    port: int
    framing: str
    switcher_id: str
    pcid: str
    bank_codes: tuple[str, ...]
    sources: tuple[str, ...]
    max_connections: int
    max_in_flight: int
    updated_at: datetime

    def allows(self, address: str) -> bool:
        """Is a peer address inside one of the partner's source networks?"""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in ipaddress.ip_network(s, strict=False) for s in self.sources)


@dataclass(frozen=True)
class LinkContext:
    """What field 62 of an answer shows (ISO8583.md §5.6), read when the answer is built."""

    unit_code: str
    #: the month's cap (720 jam nyala) minus every kWh sold this WIB month, not below 0
    kwh_left: Decimal
    #: the channel's undelivered sales for the meter, newest first (at most 2), the answer's own excluded
    unsold_nominals: tuple[int, ...]


@dataclass(frozen=True)
class GatewaySale:
    """A sale as the link answers it: the purchase, its journal row's field 32, the field-62 context."""

    purchase: PurchaseResult
    bank_code: str | None
    context: LinkContext


def _printable(value: str) -> bool:
    return all(0x20 <= ord(c) <= 0x7E for c in value)


def _partner_of(row: GatewayPartnerRow, channel_code: str) -> GatewayPartner:
    return GatewayPartner(
        channel=channel_code,
        port=row.port,
        framing=row.framing,
        switcher_id=row.switcher_id,
        pcid=row.pcid,
        bank_codes=tuple(json.loads(row.bank_codes)),
        sources=tuple(json.loads(row.sources)),
        max_connections=row.max_connections,
        max_in_flight=row.max_in_flight,
        updated_at=row.updated_at,
    )


def _invalid(en: str) -> InvalidRequest:
    return InvalidRequest("DATA MITRA H2H TIDAK VALID", en)


def _check_partner(
    port: int,
    framing: str,
    switcher_id: str,
    pcid: str,
    bank_codes: tuple[str, ...],
    sources: tuple[str, ...],
    max_connections: int,
    max_in_flight: int,
) -> tuple[str, ...]:
    if not 1 <= port <= 65535:
        raise _invalid(f"port {port} is not a TCP port (1-65535)")
    if framing not in FRAMINGS:
        raise _invalid(f"framing {framing!r} is not one of {', '.join(FRAMINGS)}")
    if len(switcher_id) != 7 or not _printable(switcher_id):
        raise _invalid("the switcher ID has exactly 7 printable ASCII characters (field 48 off 0)")
    if not (1 <= len(pcid) <= 11 and is_digits(pcid)):
        raise _invalid("the partner central ID (field 33) has 1 to 11 digits")
    if not bank_codes:
        raise _invalid("a partner needs at least one bank code (field 32)")
    for code in bank_codes:
        if not (1 <= len(code) <= 7 and _printable(code)):
            raise _invalid(f"bank code {code!r}: 1 to 7 printable ASCII characters (field 32)")
    if not sources:
        raise _invalid("a partner needs at least one allowed source network (CIDR)")
    networks = []
    for s in sources:
        try:
            networks.append(str(ipaddress.ip_network(s.strip(), strict=False)))
        except ValueError as exc:
            raise _invalid(f"source {s!r} is not a network in CIDR notation") from exc
    if not 1 <= max_connections <= 64:
        raise _invalid("max connections is between 1 and 64")
    if not 1 <= max_in_flight <= 1024:
        raise _invalid("max in flight is between 1 and 1024")
    return tuple(networks)


class HostLinkUseCases(ChannelAdminUseCases):
    """Partners of the ISO 8583 link and what its answers need besides the sales use cases."""

    if TYPE_CHECKING:  # provided by SalesUseCases in VendingService

        def purchase(self, channel: str, channel_reference: str, identifier: str, nominal: int) -> PurchaseResult: ...

        def channel_rule(self, code: str) -> ChannelRule: ...

    def _kcts_needed(self, channel: str, srn: str, identifier: str) -> bool:
        """Would a new sale for this SRN need a key-change campaign's tokens first?

        Free until a campaign exists (the campaign use cases cache that); a replay of an
        earlier sale is never refused for it.
        """
        pending = getattr(self, "_has_pending_kct", None)
        if pending is None or not self._kcts_possible():
            return False
        with reading_session(self.engine) as session:
            if self._find_purchase(session, self.channel_rule(channel).id, srn) is not None:
                return False
        return bool(pending(identifier))

    def _with_kcts_of(self, result: PurchaseResult) -> PurchaseResult:
        """The result with the KCTs its sale delivered (campaign use cases, if any)."""
        with_kcts = getattr(self, "_with_kcts", None)
        return with_kcts(result) if with_kcts is not None and self._kcts_possible() else result

    def _kcts_possible(self) -> bool:
        possible = getattr(self, "_campaign_deliveries_possible", None)
        return bool(possible is not None and possible())

    # -- partners -------------------------------------------------------------------------

    def add_gateway_partner(
        self,
        channel: str,
        *,
        port: int,
        switcher_id: str,
        pcid: str,
        bank_codes: list[str] | tuple[str, ...],
        sources: list[str] | tuple[str, ...],
        framing: str = "trailer",
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        actor: str = "system",
        server: bool = False,
        channel_name: str | None = None,
        channel_kind: str = ChannelKind.AGGREGATOR.value,
        admin_fee: int = 0,
        nominals: list[int] | tuple[int, ...] | None = None,
        min_nominal: int | None = None,
        max_nominal: int | None = None,
    ) -> GatewayPartner:
        """Make a channel an ISO 8583 partner (admins; ``server=True`` for the CLI on the server).

        A missing channel is created with ``add_channel`` (``channel_name`` … ``max_nominal``;
        ``nominals=None`` = PLN's standard list). Its first API key is not shown to anyone: the
        channel sells over this link only until an admin rotates its key.
        """
        code = channel.strip().upper()
        if not code or len(code) > 16 or not _printable(code):
            raise _invalid("a channel code has 1 to 16 printable characters")
        networks = _check_partner(
            port, framing, switcher_id, pcid, tuple(bank_codes), tuple(sources), max_connections, max_in_flight
        )
        with reading_session(self.engine) as session:
            who = self._authorise(session, actor, "add an ISO 8583 partner", ("admin",), server)
            ch = session.scalar(select(Channel).where(Channel.code == code))
            self._check_free(session, ch, code, port)
        created = ch is None
        if created:
            self.add_channel(
                who, code, f"ISO 8583 partner {code}", name=channel_name or f"H2H {code}", kind=channel_kind,
                admin_fee=admin_fee, allowed_nominals=list(nominals) if nominals else None,
                min_nominal=min_nominal, max_nominal=max_nominal, server=True,
            )  # fmt: skip
        now = self.now()
        try:
            with claiming_session(self.engine) as session:
                ch = session.scalar(select(Channel).where(Channel.code == code))
                if ch is None:
                    raise UnknownChannel(code)
                self._check_free(session, ch, code, port)
                row = GatewayPartnerRow(
                    channel_id=ch.id,
                    port=port,
                    framing=framing,
                    switcher_id=switcher_id,
                    pcid=pcid,
                    bank_codes=json.dumps(list(bank_codes)),
                    sources=json.dumps(list(networks)),
                    max_connections=max_connections,
                    max_in_flight=max_in_flight,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                self._audit(
                    session, now, who, "gateway.partner_add", None,
                    channel=code, port=port, framing=framing, switcher_id=switcher_id, pcid=pcid,
                    bank_codes=list(bank_codes), sources=list(networks), channel_created=created,
                )  # fmt: skip
                session.flush()
                return _partner_of(row, code)
        except IntegrityError as exc:
            raise _invalid(f"channel {code} or port {port} is already used by another partner") from exc

    @staticmethod
    def _check_free(session: Session, ch: Channel | None, code: str, port: int) -> None:
        if ch is not None and session.scalar(select(GatewayPartnerRow.id).where(GatewayPartnerRow.channel_id == ch.id)):
            raise _invalid(f"channel {code} is already a gateway partner; remove it first")
        if session.scalar(select(GatewayPartnerRow.id).where(GatewayPartnerRow.port == port)):
            raise _invalid(f"port {port} is already used by another partner")

    def gateway_partners(self) -> list[GatewayPartner]:
        """Every partner, by port."""
        with reading_session(self.engine) as session:
            rows = session.execute(
                select(GatewayPartnerRow, Channel.code)
                .join(Channel, Channel.id == GatewayPartnerRow.channel_id)
                .order_by(GatewayPartnerRow.port)
            ).all()
            return [_partner_of(row, code) for row, code in rows]

    def remove_gateway_partner(self, channel: str, *, actor: str = "system", server: bool = False) -> None:
        """The channel stops being a partner (its sales and journal stay); admins or the server CLI."""
        code = channel.strip().upper()
        now = self.now()
        with claiming_session(self.engine) as session:
            actor = self._authorise(session, actor, "remove an ISO 8583 partner", ("admin",), server)
            ch = session.scalar(select(Channel).where(Channel.code == code))
            if ch is None:
                raise _invalid(f"there is no channel {code}")
            gone = session.execute(delete(GatewayPartnerRow).where(GatewayPartnerRow.channel_id == ch.id))
            if not getattr(gone, "rowcount", 0):
                raise _invalid(f"channel {code} is not a gateway partner")
            self._audit(session, now, actor, "gateway.partner_remove", None, channel=code)

    def gateway_admin_fee(self, channel: str) -> int:
        """The channel's first admin fee tier (a 2110 without field 4 shows it)."""
        with reading_session(self.engine) as session:
            ch = self._channel(session, channel)
            return AdminFeeRule.from_json(ch.admin_fee_rule).tiers[0][1]

    # -- sales over the link --------------------------------------------------------------

    def gateway_purchase(
        self,
        channel: str,
        srn: str,
        identifier: str,
        nominal: int,
        *,
        stan: str,
        local_time: str,
        bank_code: str,
        pcid: str,
        terminal_id: str,
    ) -> GatewaySale:
        """``purchase`` with (channel, SRN) as the reference; journals a new sale.

        Returns the sale with the field 32 of the request that made it (for the 0097 check of
        a replay) and the field-62 context with this sale counted and not listed as unsold.
        """
        if self._kcts_needed(channel, srn, identifier):
            # The profile has no field for key change tokens (ISO8583.md §5.5): a meter that
            # must first key in a campaign's KCTs is refused before anything is sold (RC 0005).
            raise KeyChangeRequired(identifier, "its key change tokens cannot be carried over ISO 8583")
        journal = {
            "channel_id": self.channel_rule(channel).id, "srn": srn, "stan": stan, "local_time": local_time,
            "bank_code": bank_code, "pcid": pcid, "terminal_id": terminal_id,
        }  # fmt: skip
        # the journal row commits with the sale (a crash between the two cannot leave a sale the
        # link never journalled); ``_journal`` below then finds it and reads the context
        companion = SALE_COMPANION.set((_JOURNAL, journal))
        try:
            result = self.purchase(channel, srn, identifier, nominal)
        finally:
            SALE_COMPANION.reset(companion)
        if result.key_change_tokens:  # a campaign reached the meter meanwhile: sold, not deliverable here
            raise KeyChangeRequired(result.meter_number, "the sale carries key change tokens; reprint at PLN")
        return self._journal(channel, srn, result, stan, local_time, bank_code, pcid, terminal_id)

    def _journal(
        self,
        channel: str,
        srn: str,
        result: PurchaseResult,
        stan: str,
        local_time: str,
        bank_code: str,
        pcid: str,
        terminal_id: str,
    ) -> GatewaySale:
        """Write the journal row of a sale unless it exists, and read the field-62 context.

        One transaction of three statements on the raw driver connection (as the lean purchase
        path does): this runs for every sale of the link, right after the sale itself.
        """
        channel_id = self.channel_rule(channel).id
        now = self.now()
        if not is_sqlite(self.engine):  # one statement, one round trip
            row = self._raw_statement(
                _JOURNAL_CONTEXT_PG,
                {
                    "channel_id": channel_id, "srn": srn, "stan": stan, "local_time": local_time,
                    "bank_code": bank_code, "pcid": pcid, "terminal_id": terminal_id,
                    "reference_number": result.reference_number, "created_at": now,
                    "meter": result.meter_number, "month": month_of(now),
                },
            )[0]  # fmt: skip
            return GatewaySale(result, row[0], _context_of(row[1:]))
        with self._raw_transaction() as (run, cur, sqlite):
            params: dict[str, Any] = {
                "channel_id": channel_id, "srn": srn, "stan": stan, "local_time": local_time,
                "bank_code": bank_code, "pcid": pcid, "terminal_id": terminal_id,
                "reference_number": result.reference_number, "created_at": _sqlite_time(now) if sqlite else now,
                "meter": result.meter_number, "month": month_of(now),
            }  # fmt: skip
            run(_JOURNAL, params)
            journal = bank_code
            if cur.rowcount != 1:  # journalled before (a replay): the selling request's field 32
                run(_JOURNAL_BANK, params)
                journal = cur.fetchone()[0]
            run(_CONTEXT, params)
            context = _context_of(cur.fetchone())
        return GatewaySale(result, journal, context)

    def _raw_statement(self, sql: str, params: dict[str, Any]) -> list[Any]:
        """PostgreSQL: one statement in autocommit mode (its own transaction, one round trip)."""
        raw = self.engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            assert dbapi is not None
            dbapi.autocommit = True
            try:
                cur = dbapi.cursor()
                cur.execute(sql, params)
                return list(cur.fetchall())
            finally:
                dbapi.autocommit = False
        except Exception:
            raw.invalidate()
            raise
        finally:
            raw.close()

    @contextmanager
    def _raw_transaction(self) -> Iterator[tuple[Callable[[str, dict[str, Any]], Any], Any, bool]]:
        """(run, cursor, is_sqlite) inside one committed transaction (SQLite: the writer queue, BEGIN IMMEDIATE)."""
        sqlite = is_sqlite(self.engine)
        lock = _sqlite_writer_lock(self.engine) if sqlite else None
        if lock is not None and not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise InProcess("no write slot on the SQLite database within the busy timeout")
        raw = self.engine.raw_connection()
        committed = False
        try:
            dbapi = raw.driver_connection
            assert dbapi is not None
            cur = dbapi.cursor()

            def run(sql: str, params: dict[str, Any]) -> Any:
                return cur.execute(_qmark(sql) if sqlite else sql, params)

            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
            yield run, cur, sqlite
            dbapi.commit()
            committed = True
        finally:
            if not committed:
                try:
                    raw.rollback()
                except Exception:  # a broken connection: the pool replaces it
                    raw.invalidate()
            raw.close()
            if lock is not None:
                lock.release()

    def gateway_mark_delivered(self, channel: str, srns: list[str] | tuple[str, ...]) -> int:
        """``confirm_delivery`` for several of a channel's sales in one transaction (the link
        confirms every answer it writes whole, §6.5): each undelivered sale gets its delivery
        time and one ``delivery.confirmed`` audit row, as ``confirm_delivery`` records them.
        Returns how many were delivered for the first time."""
        refs = sorted(set(srns))
        if not refs:
            return 0
        rule = self.channel_rule(channel)
        now = self.now()
        if not is_sqlite(self.engine):
            marks = ", ".join(f"%(r{i})s" for i in range(len(refs)))
            pg: dict[str, Any] = {"channel_id": rule.id, "now": now, "actor": rule.code}
            pg.update({f"r{i}": ref for i, ref in enumerate(refs)})
            return len(self._raw_statement(_MARK_DELIVERED_PG.format(refs=marks), pg))
        with self._raw_transaction() as (run, cur, sqlite):
            stamp = _sqlite_time(now) if sqlite else now
            params: dict[str, Any] = {"channel_id": rule.id, "now": stamp}
            params.update({f"r{i}": ref for i, ref in enumerate(refs)})
            marks = ", ".join(f"%(r{i})s" for i in range(len(refs)))
            run(
                "UPDATE purchases SET delivered_at = %(now)s WHERE channel_id = %(channel_id)s"
                f" AND channel_reference IN ({marks}) AND delivered_at IS NULL"
                " RETURNING meter_number, reference_number, channel_reference",
                params,
            )
            done = cur.fetchall()
            for meter_number, reference_number, reference in done:
                detail = {"channel_reference": reference, "first_delivery": True, "reference_number": reference_number}
                run(
                    "INSERT INTO audit_log (at, actor, action, meter_number, detail)"
                    " VALUES (%(now)s, %(actor)s, 'delivery.confirmed', %(meter)s, %(detail)s)",
                    {"now": stamp, "actor": rule.code, "meter": meter_number,
                     "detail": json.dumps(detail, sort_keys=True, default=str)},
                )  # fmt: skip
        return len(done)

    def gateway_sale(self, channel: str, srn: str, identifier: str, nominal: int) -> GatewaySale:
        """The sale behind (channel, SRN) for an advice, without marking it delivered.

        ``UnknownReference`` (0092) when there is none; ``ReferenceConflict`` (0093) when it
        was for another identifier or amount (the purchase's own replay rule).
        """
        with reading_session(self.engine) as session:
            ch = self._channel(session, channel)
            p = self._find_purchase(session, ch.id, srn)
            if p is None:
                raise UnknownReference(channel, srn)
            result = self._replay(p, channel, identifier, nominal)
            channel_id = ch.id
        if self._with_kcts_of(result).key_change_tokens:
            raise KeyChangeRequired(result.meter_number, "the sale carries key change tokens; reprint at PLN")
        with reading_session(self.engine) as session:
            journal = session.scalar(
                select(GatewaySaleRow.bank_code).where(
                    GatewaySaleRow.channel_id == channel_id, GatewaySaleRow.srn == srn
                )
            )
            context = self._link_context(session, channel_id, result.meter_number, srn, self.now())
        return GatewaySale(result, journal, context)

    def gateway_context(self, channel: str, meter_number: str, *, exclude: str | None = None) -> LinkContext:
        """Field-62 data now; no cut-off or status check (an answer replaying a sale is built in any state)."""
        channel_id = self.channel_rule(channel).id
        with reading_session(self.engine) as session:
            return self._link_context(session, channel_id, meter_number, exclude, self.now())

    @staticmethod
    def _link_context(
        session: Session, channel_id: int, meter_number: str, exclude: str | None, now: datetime
    ) -> LinkContext:
        # one statement: customer's power and unit, the month's kWh, the two newest unsold sales
        usage = (
            select(MonthlyUsage.kwh)
            .where(MonthlyUsage.meter_number == Meter.meter_number, MonthlyUsage.month == month_of(now))
            .scalar_subquery()
        )

        def unsold(offset: int) -> Any:
            query = select(Purchase.nominal).where(
                Purchase.channel_id == channel_id,
                Purchase.meter_number == Meter.meter_number,
                Purchase.delivered_at.is_(None),
            )
            if exclude is not None:
                query = query.where(Purchase.channel_reference != exclude)
            return query.order_by(Purchase.id.desc()).limit(1).offset(offset).scalar_subquery()

        va, unit_code, bought, first, second = session.execute(
            select(Customer.va, Unit.code, usage, unsold(0), unsold(1))
            .select_from(Meter)
            .join(Customer, Customer.id == Meter.customer_id)
            .join(Unit, Unit.id == Customer.unit_id)
            .where(Meter.meter_number == meter_number)
        ).one()
        left = max(monthly_cap_kwh(va) - (bought or Decimal(0)), Decimal(0))
        nominals = tuple(int(n) for n in (first, second) if n is not None)
        return LinkContext(unit_code=unit_code, kwh_left=left, unsold_nominals=nominals)


__all__ = ["FRAMINGS", "GatewayPartner", "GatewaySale", "HostLinkUseCases", "LinkContext"]
