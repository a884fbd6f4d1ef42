"""The host's answer to one decoded request (ISO8583.md §4.3, §4.4 steps 3-11, §6).

The rules of sale live in ``VendingService``: this module only maps fields to its use cases
(inquiry, quote, gateway_purchase, gateway_sale, confirm_delivery) and their results and typed
errors back to fields and response codes. Vending calls are blocking (SQLAlchemy); they run in
the executor given to ``Host``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from prabayar.gateway import iso
from prabayar.gateway.iso import BadMessage, Parsed
from prabayar.gateway.layouts import (
    FOOTER,
    REVERSAL_REFUSED,
    Customer48,
    LayoutError,
    Request48,
    Sale48,
    field62,
    inquiry_answer,
    parse_advice,
    parse_inquiry,
    parse_purchase,
    reason_text,
    sale_answer,
    valid_srn,
)
from prabayar.vending import VendingError, VendingService
from prabayar.vending.errors import UnknownChannel
from prabayar.vending.hostlink import GatewayPartner, GatewaySale
from prabayar.vending.results import Inquiry
from prabayar.vending.service import WIB

log = logging.getLogger("prabayar.gateway")
T = TypeVar("T")

OK = "0000"
RC_OTHER = "0005"
RC_SIGN_ON = "0011"
RC_INVALID = "0030"
RC_BANK = "0031"
RC_SWITCHER = "0032"
RC_PRODUCT = "0033"
RC_TIMEOUT = "0068"
RC_BAD_SRN = "0093"
RC_NOT_SAME_BANK = "0097"
PRODUCT = "502"
#: RCs a vending error may map to as they are (§7); anything else is 0005.
_VENDING_RCS = {"0005", "0013", "0014", "0015", "0041", "0042", "0047", "0077", "0090", "0092", "0093", "0099"}
_ECHO = ("2", "4", "7", "11", "26", "32", "33", "37", "41")
REASONS = {
    OK: "",
    RC_SIGN_ON: "BELUM SIGN ON",
    RC_BANK: "KODE BANK TIDAK TERDAFTAR",
    RC_SWITCHER: "SWITCHER TIDAK TERDAFTAR",
    RC_PRODUCT: "PRODUK TIDAK TERDAFTAR",
    RC_TIMEOUT: "WAKTU HABIS, KIRIM ADVICE",
    RC_BAD_SRN: "REFERENSI SWITCHER (SRN) TIDAK VALID",
    RC_NOT_SAME_BANK: "SWITCHER/BANK TIDAK SAMA DENGAN PEMBAYARAN",
    RC_OTHER: "KESALAHAN LAIN",
}


@dataclass
class Session:
    """One connection's network-management state (§6.1)."""

    signed_on: bool = False


@dataclass
class Outcome:
    """A response (or silence) and what the log line and the delivery need to know."""

    request_mti: str
    mti: str | None
    fields: dict[str, str] = field(default_factory=dict)
    rc: str | None = None
    srn: str = ""
    meter_number: str = ""
    #: (channel, SRN) to mark delivered once this response is written (§6.5)
    deliver: tuple[str, str] | None = None
    token: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def stan(self) -> str:
        return self.fields.get("11", "")


def rc_of(exc: VendingError) -> str:
    """The §7 code for a back-office refusal."""
    if isinstance(exc, UnknownChannel):
        return RC_SWITCHER
    return exc.code if exc.code in _VENDING_RCS else RC_OTHER


def wib_stamp(when: datetime) -> tuple[str, str]:
    """(field 12 YYYYMMDDhhmmss, field 15 YYYYMMDD = date + 1 day), WIB."""
    local = when.astimezone(WIB)
    return local.strftime("%Y%m%d%H%M%S"), (local.date() + timedelta(days=1)).strftime("%Y%m%d")


def short_0030(bad: BadMessage, started: float | None = None) -> Outcome:
    """§1.5: only 11 (when well formed), 39 and 63."""
    fields = {"39": RC_INVALID, "63": reason_text(bad.reason)}
    if bad.stan is not None:
        fields["11"] = bad.stan
    out = Outcome(request_mti=f"{int(bad.mti) - 10:04d}", mti=bad.mti, fields=fields, rc=RC_INVALID)
    if started is not None:
        out.started = started
    return out


def network(partner: GatewayPartner, session: Session, msg: Parsed) -> Outcome:
    """2800 -> 2810 (§6.1); changes the session at once, for every request read after it."""
    fields: dict[str, str] = {b: msg.fields[b] for b in ("7", "11", "12", "33", "37", "70") if b in msg.fields}
    rc = OK
    reason = ""
    if msg["33"] != partner.pcid:
        rc, reason = RC_SWITCHER, REASONS[RC_SWITCHER]
    elif msg["70"] == "001":
        session.signed_on = True
    elif msg["70"] == "002":
        session.signed_on = False
    elif msg["70"] != "301":
        rc, reason = RC_INVALID, f"KODE MANAJEMEN JARINGAN {msg['70']} TIDAK DIKENAL"
    fields["39"] = rc
    if rc != OK:
        fields["63"] = reason_text(reason)
    return Outcome(request_mti=msg.mti, mti="2810", fields=fields, rc=rc)


class Host:
    """Answers requests for any partner; shared by all connections of a gateway process."""

    def __init__(self, service: VendingService, executor: Executor, *, deadline: float = 20.0) -> None:
        self.service = service
        self.executor = executor
        self.deadline = deadline
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()
        self._background: set[asyncio.Future[Any]] = set()
        self._deliveries: dict[str, list[str]] = {}
        self._flusher: asyncio.Future[None] | None = None

    # -- plumbing -------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], T], lock_key: tuple[str, str] | None = None) -> T:
        """Run a blocking use case in the executor; at most ``deadline`` seconds for the caller.

        The job itself is never cancelled (a sale that commits late is unsold and found by an
        advice); with ``lock_key`` jobs for one (partner, SRN) run one after the other.
        """
        loop = asyncio.get_running_loop()

        async def job() -> T:
            if lock_key is None:
                return await loop.run_in_executor(self.executor, fn)
            lock = self._locks.get(lock_key)
            if lock is None:
                lock = self._locks[lock_key] = asyncio.Lock()
            async with lock:
                return await loop.run_in_executor(self.executor, fn)

        task: asyncio.Future[T] = asyncio.ensure_future(job())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return await asyncio.wait_for(asyncio.shield(task), self.deadline)

    async def drain_background(self) -> None:
        """Wait for vending jobs whose callers gave up (shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def deliver_later(self, channel: str, srn: str) -> None:
        """The answer carrying this sale was written whole: mark it delivered (batched, §6.5).

        Marks queue up while a batch is being written, so under load one transaction marks
        many sales; shutdown waits for the queue (``drain_background``).
        """
        self._deliveries.setdefault(channel, []).append(srn)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush_deliveries())
            self._background.add(self._flusher)
            self._flusher.add_done_callback(self._background.discard)

    async def _flush_deliveries(self) -> None:
        loop = asyncio.get_running_loop()
        while self._deliveries:
            batch, self._deliveries = self._deliveries, {}
            for channel, srns in batch.items():
                try:
                    await loop.run_in_executor(self.executor, self.service.gateway_mark_delivered, channel, srns)
                except Exception:
                    log.exception("delivery of %d sale(s) of %s not recorded", len(srns), channel)

    # -- responses ------------------------------------------------------------------------

    @staticmethod
    def _answer(msg: Parsed, rc: str, reason: str = "") -> Outcome:
        """A normal response with E fields and, for rc != 0000, the reason in 63 (§4.3)."""
        mti = iso.response_mti(msg.mti)
        fields = {b: msg.fields[b] for b in (*_ECHO, "12", "48") if b in msg.fields}
        if msg.mti in (iso.REVERSAL, iso.REVERSAL_REPEAT) and "90" in msg.fields:
            fields["90"] = msg.fields["90"]
        fields["39"] = rc
        if rc != OK:
            fields["63"] = reason_text(reason or REASONS.get(rc, "GAGAL"))
        return Outcome(request_mti=msg.mti, mti=mti, fields=fields, rc=rc)

    async def process(self, partner: GatewayPartner, signed_on: bool, msg: Parsed) -> Outcome:
        """Steps 3-11 of §4.4 for any request but 2800; never raises."""
        started = time.monotonic()
        try:
            out = await self._process(partner, signed_on, msg)
        except TimeoutError:
            out = self._answer(msg, RC_TIMEOUT)
        except VendingError as exc:
            out = self._answer(msg, rc_of(exc), exc.message_id)
        except Exception:
            log.exception("unexpected error answering %s STAN %s of %s", msg.mti, msg.get("11"), partner.channel)
            out = self._answer(msg, RC_OTHER)
        out.started = started
        return out

    async def _process(self, partner: GatewayPartner, signed_on: bool, msg: Parsed) -> Outcome:
        if not signed_on:
            return self._answer(msg, RC_SIGN_ON)
        if msg["33"] != partner.pcid:
            return self._answer(msg, RC_SWITCHER)
        if msg["32"] not in partner.bank_codes:
            return self._answer(msg, RC_BANK)
        if msg["2"][2:5] != PRODUCT:
            return self._answer(msg, RC_PRODUCT)
        try:
            if msg.mti == iso.INQUIRY:
                req = parse_inquiry(msg["48"])
            elif msg.mti == iso.PURCHASE:
                req = parse_purchase(msg["48"])
            else:
                req = parse_advice(msg["48"])
        except LayoutError as exc:
            return self._answer(msg, RC_INVALID, f"FORMAT BIT 48 TIDAK VALID: {exc}")
        if req.switcher_id != partner.switcher_id:
            return self._answer(msg, RC_SWITCHER)
        if msg.mti in (iso.PURCHASE, iso.ADVICE, iso.ADVICE_REPEAT) and not valid_srn(req.srn):
            return self._answer(msg, RC_BAD_SRN)
        if msg.mti in (iso.REVERSAL, iso.REVERSAL_REPEAT):
            out = self._answer(msg, RC_OTHER, REVERSAL_REFUSED)
            out.srn, out.meter_number = req.srn, req.meter_number
            return out
        if msg.mti == iso.INQUIRY:
            return await self._inquiry(partner, msg, req)
        if msg.mti == iso.PURCHASE:
            return await self._sale(partner, msg, req, advice=False)
        return await self._sale(partner, msg, req, advice=True)

    async def _inquiry(self, partner: GatewayPartner, msg: Parsed, req: Request48) -> Outcome:
        amount = iso.amount_of(msg["4"]) if "4" in msg.fields else None
        channel = partner.channel
        service = self.service

        def work() -> tuple[Inquiry, int]:
            inquiry = service.inquiry(req.identifier, channel=channel)
            if amount is not None:
                fee = service.quote(channel, req.identifier, amount).admin_fee
            else:
                fee = service.gateway_admin_fee(channel)
            return inquiry, fee

        found, fee = await self._call(work)
        if len(found.meter_number) != 11:
            raise VendingError(
                "NOMOR METER 13 DIGIT TIDAK DAPAT DILAYANI H2H",
                "a 13-digit meter number does not fit field 48",
            )
        who = Customer48(found.meter_number, found.idpel, found.name, found.tariff_code, found.va)
        out = self._answer(msg, OK)
        out.fields["48"] = inquiry_answer(req, who, fee, self.service.now(), found.unit_code)
        out.fields["62"] = field62(
            found.unit_code, found.kwh_remaining_this_month, [u.price.nominal for u in found.unsold]
        )
        out.meter_number = found.meter_number
        return out

    async def _sale(self, partner: GatewayPartner, msg: Parsed, req: Request48, *, advice: bool) -> Outcome:
        amount = iso.amount_of(msg["4"])
        channel = partner.channel
        srn = req.srn
        service = self.service
        if advice:

            def work() -> GatewaySale:
                return service.gateway_sale(channel, srn, req.identifier, amount)
        else:

            def work() -> GatewaySale:
                return service.gateway_purchase(
                    channel, srn, req.identifier, amount,
                    stan=msg["11"], local_time=msg["12"], bank_code=msg["32"],
                    pcid=msg["33"], terminal_id=msg["41"],
                )  # fmt: skip

        sale = await self._call(work, lock_key=(channel, srn))
        p = sale.purchase
        if sale.bank_code is not None and sale.bank_code != msg["32"]:
            out = self._answer(msg, RC_NOT_SAME_BANK)
            out.srn, out.meter_number = srn, p.meter_number
            return out
        price = p.price
        sale48 = Sale48(
            meter_number=p.meter_number, idpel=p.idpel, reference_number=p.reference_number, tid=p.tid,
            name=p.name, tariff_code=p.tariff_code, va=p.va, admin_fee=price.admin_fee, meterai=price.meterai,
            ppn=price.ppn, pbjt=price.pbjt, angsuran=price.angsuran, stroom=price.stroom, kwh=price.kwh,
            token=p.token,
        )  # fmt: skip
        out = self._answer(msg, OK)
        f12, f15 = wib_stamp(p.created_at)
        out.fields["12"] = f12
        out.fields["15"] = f15
        out.fields["48"] = sale_answer(req, sale48)
        ctx = sale.context
        out.fields["62"] = field62(ctx.unit_code, ctx.kwh_left, list(ctx.unsold_nominals))
        out.fields["63"] = FOOTER
        out.srn, out.meter_number, out.token = srn, p.meter_number, p.token
        if not p.delivered:
            out.deliver = (channel, srn)
        return out
