"""The diagnosis engine: from what the customer has to the cause and the next step.

Order of questions, most decisive first: can the meter take any token at all (broken,
tamper)? what did the customer type (not a token, 16 digits, wrong length)? who was this
token sold for (ledger)? does it open with the meter's key, or with the key the meter should
have (key change)? is it used, old, or too big for the register? if it does not open: which
nearby digit string does (typo search)?
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from prabayar.sts import (
    ClearCredit,
    ClearTamper,
    DecoderKey,
    ElectricityCredit,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange4,
    MeterTestDisplay,
    SetMaximumPowerLimit,
    SetPhaseUnbalanceLimit,
    StsError,
    Token,
    check_key_expiry,
    decode,
    encode_key_change,
    meter_number,
    tid_from_datetime,
)
from prabayar.support import explain
from prabayar.support.entry import DisplayHint, read_display, read_entry
from prabayar.support.errors import InvalidDiagnosisRequest, SupportError
from prabayar.support.present import mask_number
from prabayar.support.result import (
    Cause,
    Confidence,
    Diagnosis,
    Evidence,
    TokenCandidate,
)
from prabayar.support.sources import MeterRecord, MeterSnapshot, Sale, SupportSources
from prabayar.support.text import Text
from prabayar.support.typo_search import Recovered, search_typos
from prabayar.support.typos import TOKEN_DIGITS, TOKEN_LIMIT, TypoClass, candidate_groups

#: Tokens the meter's TID memory can hold when we cannot read the meter (PLN.md 1.5: 50).
DEFAULT_TID_MEMORY = 50
#: How far back an undelivered sale still explains "I paid but have no token".
RECENT_SALE = timedelta(days=7)


@dataclass(frozen=True)
class DiagnosisRequest:
    """What the customer tells us: meter number or IDPEL, the digits typed, the display."""

    identifier: str
    typed: str | None = None
    display: str | None = None
    reported_at: datetime | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Case:
    """Everything known during one diagnosis."""

    request: DiagnosisRequest
    meter: MeterRecord
    snapshot: MeterSnapshot | None
    sales: Sequence[Sale]
    now: datetime
    hint: DisplayHint | None
    evidence: list[Evidence] = field(default_factory=list)
    findings: list[explain.Text] = field(default_factory=list)

    def note(self, source: str, fact: str) -> None:
        self.evidence.append(Evidence(source, fact))

    @property
    def meter_key(self) -> DecoderKey | None:
        """The key the device really has: from its state if readable, else vending's."""
        if self.snapshot is not None and self.snapshot.key is not None:
            return self.snapshot.key
        return self.meter.key

    @property
    def memory_size(self) -> int:
        return self.snapshot.tid_memory_size if self.snapshot else DEFAULT_TID_MEMORY

    def sale_for(self, digits: str) -> Sale | None:
        return next((s for s in self.sales if s.token == digits), None)


class DiagnosisEngine:
    """Library entry point: ``DiagnosisEngine(sources).diagnose(DiagnosisRequest(...))``."""

    def __init__(
        self,
        sources: SupportSources,
        *,
        clock: Callable[[], datetime] = _utcnow,
        two_wrong_digits: bool = True,
    ) -> None:
        self.sources = sources
        self.clock = clock
        self.two_wrong_digits = two_wrong_digits

    # -- entry ---------------------------------------------------------------------------

    def diagnose(self, request: DiagnosisRequest) -> Diagnosis:
        meter = self._meter_for(request)
        snapshot = self.sources.snapshot(meter.meter_number)
        sales = list(self.sources.sales_for_meter(meter.meter_number))
        now = request.reported_at or self.clock()
        if now.tzinfo is None:
            raise InvalidDiagnosisRequest(
                Text(
                    "Waktu laporan harus bertanda zona waktu.",
                    "The report time must be timezone-aware (UTC inside).",
                )
            )
        case = _Case(request, meter, snapshot, sales, now, read_display(request.display))
        if case.hint is not None:
            case.note("input", f"meter display reported as {request.display!r} ({case.hint})")
        if meter.blocked:
            case.note("ledger", "customer is blocked for purchases")
            case.findings.append(explain.blocked_note())
        result = self._diagnose(case)
        locked = snapshot.locked_until if snapshot is not None else None
        if locked is not None and locked > now and result.cause is not Cause.NO_FAULT_FOUND:
            case.note("meter", f"keypad locked until {locked.isoformat()}")
            case.findings.append(explain.lockout_note(locked))
        return Diagnosis(
            cause=result.cause,
            confidence=result.confidence,
            explanation=result.explanation,
            next_steps=result.next_steps,
            ticket_needed=result.ticket_needed,
            evidence=tuple(case.evidence),
            candidates=result.candidates,
            meter_number=meter.meter_number,
            other_findings=tuple(f for f in case.findings if f != result.explanation),
        )

    def _meter_for(self, request: DiagnosisRequest) -> MeterRecord:
        """The meter asked about; for an IDPEL with several meters, the one the token was sold
        for (an IDPEL names the customer, the token names the meter)."""
        meter = self.sources.meter(request.identifier.strip())
        ident = read_entry(request.identifier).digits
        typed = read_entry(request.typed).digits if request.typed else None
        if ident != meter.idpel or typed is None or len(typed) != TOKEN_DIGITS:
            return meter
        sale = self.sources.sale_by_token(typed)
        if sale is None or sale.meter_number == meter.meter_number or sale.idpel != meter.idpel:
            return meter
        try:
            other = self.sources.meter(sale.meter_number)
        except SupportError:
            return meter
        return meter if other.replaced_by else other

    def _diagnose(self, case: _Case) -> explain.Finding:
        device = self._device_problem(case)
        typed = case.request.typed
        has_typed = typed is not None and bool(typed.strip())
        if device is not None:
            if device.cause is Cause.TAMPER and typed is not None and has_typed:
                # the latch comes first, but the token itself may also be wrong: say so now,
                # not after the officer's visit
                token = self._typed(case, typed)
                if token.cause is not Cause.NO_FAULT_FOUND:
                    case.findings.append(token.explanation)
                    device = replace(device, candidates=token.candidates)
            return device
        if typed is None or not has_typed:
            return self._no_token(case)
        return self._typed(case, typed)

    def _typed(self, case: _Case, typed: str) -> explain.Finding:
        digits = read_entry(typed).digits
        if digits is None:
            pasted = _PASTED_TOKEN.findall(typed)
            if len(pasted) == 1:
                case.note("input", "a 20-digit token was taken out of a pasted message (SMS / receipt text)")
                digits = read_entry(pasted[0]).digits
        if digits is None:
            digits = read_entry(typed.translate(_LOOKALIKE)).digits
            if digits is None or len(digits) < 16:
                case.note("input", "the entry contains letters or symbols")
                return explain.not_a_token_letters()
            case.note("input", "letters that look like digits (O for 0, l or I for 1) were read as digits")
        case.note("input", f"{len(digits)} digits typed")
        if len(digits) == 16:
            return self._sixteen(case, digits)
        if len(digits) in (TOKEN_DIGITS - 1, TOKEN_DIGITS + 1):
            return self._nearby(case, digits) or explain.wrong_length(len(digits))
        if len(digits) != TOKEN_DIGITS:
            return explain.not_a_token(digits)
        return self._twenty(case, digits)

    # -- the device itself ---------------------------------------------------------------

    def _device_problem(self, case: _Case) -> explain.Finding | None:
        snap = case.snapshot
        if snap is not None and snap.broken:
            case.note("meter", f"meter reports a fault: {snap.broken}")
            return explain.broken_meter(self._credit(case), certain=True)
        if snap is not None and snap.tamper:
            case.note("meter", f"meter is in tamper state: {snap.tamper}")
            vending_key = case.meter.key
            if vending_key is not None and snap.key is not None and _key_differs(vending_key, snap.key):
                kcts = self._key_change_tokens(case, snap)
                if kcts:
                    case.note("key", "the meter still has its previous key: the officer's tokens need the KCTs first")
                    case.findings.append(explain.kct_before_clear_tamper(kcts))
            return explain.tamper(snap.tamper, certain=True)
        if snap is not None and case.hint in _DEVICE_HINTS:
            # the meter's own memory outranks words passed on by phone or chat
            case.note("meter", f"the meter's state shows no fault and no tamper ({case.hint} not confirmed)")
        elif case.hint is DisplayHint.BLANK:
            return explain.broken_meter(self._credit(case), certain=False)
        elif case.hint in (DisplayHint.PERIKSA, DisplayHint.COVER_OPEN):
            return explain.tamper(None, certain=False)
        if case.hint is DisplayHint.BLOCKED or (case.meter.blocked and not case.request.typed):
            return explain.customer_blocked(certain=case.meter.blocked)
        params = case.meter.params
        if params is not None:
            try:
                tid = tid_from_datetime(case.now, params.base_date)
                check_key_expiry(tid, params.ken)
            except StsError as exc:
                # no token can be made for this key any more: the meter needs a key change
                case.note("key", f"the meter's key cannot vend now: {exc}")
                return explain.key_change((), certain=True, rollover=True)
        return None

    def _credit(self, case: _Case) -> str | None:
        if case.snapshot is None or case.snapshot.broken:
            return None  # a dead meter's register is read by the technician on site
        return explain.kwh(case.snapshot.credit_kwh)

    # -- no digits: the sale itself ------------------------------------------------------

    def _no_token(self, case: _Case) -> explain.Finding:
        recent = [s for s in case.sales if case.now - s.created_at <= RECENT_SALE]
        pending = [s for s in recent if not s.delivered or not s.completed]
        if pending:
            sale = pending[0]
            case.note(
                "ledger",
                f"sale {sale.reference} via {sale.channel} at {sale.created_at.isoformat()} "
                f"was {'not completed' if not sale.completed else 'not delivered'}",
            )
            return explain.sale_not_completed(sale)
        if recent:
            sale = recent[0]
            case.note("ledger", f"last sale {sale.reference} was delivered via {sale.channel}")
            return explain.sale_delivered(sale)
        case.note("ledger", f"no sale for this meter in the last {RECENT_SALE.days} days")
        return explain.no_sale_recorded(RECENT_SALE.days)

    # -- 16 digits -----------------------------------------------------------------------

    def _sixteen(self, case: _Case, digits: str) -> explain.Finding:
        matches = [s for s in case.sales if s.token and digits in s.token]
        candidates = tuple(
            TokenCandidate(
                s.token or "",
                TypoClass.MISSING_DIGIT,
                _missing_positions(s.token or "", digits),
                self._describe(case, s.token or "", s),
                True,
            )
            for s in matches[:2]
        )
        if candidates:
            case.note("ledger", "a token sold for this meter contains the 16 typed digits")
        return explain.sixteen_digits(candidates)

    # -- 20 digits -----------------------------------------------------------------------

    def _twenty(self, case: _Case, digits: str) -> explain.Finding:
        if int(digits) >= TOKEN_LIMIT:
            case.note("input", "value is 2**66 or more: no STS token has it")
            return self._nearby(case, digits) or explain.not_a_token_too_large()
        sale = self.sources.sale_by_token(digits)
        if sale is not None and sale.meter_number != case.meter.meter_number:
            case.note(
                "ledger",
                f"token was sold for meter {mask_number(sale.meter_number)} "
                f"(IDPEL {mask_number(sale.idpel)}) "
                f"at {sale.created_at.isoformat()} via {sale.channel}",
            )
            return self._sold_elsewhere(case, sale)
        used = self._used_here(case, digits, sale)
        if used is not None:
            return used
        key = case.meter_key
        if key is None:
            return explain.unknown_no_key()
        try:
            token = decode(digits, key)
        except StsError as exc:
            case.note("key", f"does not open with the meter's key: {exc}")
            return self._does_not_open(case, digits, sale)
        case.note("key", f"opens with the meter's key: {token.name}")
        if sale is not None:
            case.note("ledger", f"sold for this meter at {sale.created_at.isoformat()}")
        return self._valid_token(case, digits, token, sale)

    def _sold_elsewhere(self, case: _Case, sale: Sale) -> explain.Finding:
        """A token sold for another meter: a stranger's (masked), or the customer's own."""
        other = self._other_meter(sale)
        if sale.idpel and sale.idpel == case.meter.idpel:
            if other is not None and other.replaced_by:
                case.note("ledger", f"sold for this customer's replaced meter {sale.meter_number}")
                return explain.replaced_meter_token(sale, other.replaced_by)
            case.note("ledger", f"sold for this customer's other meter {sale.meter_number}")
            return explain.own_other_meter(sale)
        return explain.wrong_meter(sale, other)

    def _used_here(self, case: _Case, digits: str, sale: Sale | None) -> explain.Finding | None:
        """The meter's own memory says it took these digits (or this sale's TID) already.

        Checked before decoding: after a key change a used token no longer opens with the
        meter's key, yet "already used" is still the answer.
        """
        snap = case.snapshot
        if snap is None:
            return None
        entry = next((e for e in snap.accepted if e.digits == digits), None)
        if entry is not None:
            case.note("meter", "the meter's last-token memory holds these digits")
            return explain.already_used(case.meter.meter_number, entry.entered_at, certain=True)
        if sale is None or sale.tid is None:
            return None
        mark = f"(TID {sale.tid})"
        for at, kind, detail in snap.events:
            if kind == "token_accepted" and detail.endswith(mark) and at >= sale.created_at:
                case.note("meter", f"the meter's event log shows TID {sale.tid} accepted")
                return explain.already_used(case.meter.meter_number, at, certain=True)
        return None

    def _key_changed_since(self, case: _Case, sale: Sale) -> explain.Finding | None:
        """Sold for this meter before a key change that the meter has (or may have) taken."""
        changes = [
            s.created_at for s in case.sales
            if s.kind.startswith("key_change") and s.created_at >= sale.created_at
        ]  # fmt: skip
        snap = case.snapshot
        if snap is not None:
            taken = [at for at, kind, _ in snap.events if kind == "key_changed" and at >= sale.created_at]
            if taken:
                case.note("meter", f"the meter took a key change at {taken[0].isoformat()}, after the sale")
                return explain.key_changed_since_sale(sale, taken[0], certain=True)
            return None
        if changes:
            first = min(changes)
            case.note("ledger", f"key change tokens were issued at {first.isoformat()}, after the sale")
            return explain.key_changed_since_sale(sale, first, certain=False)
        return None

    def _other_meter(self, sale: Sale) -> MeterRecord | None:
        try:
            return self.sources.meter(sale.meter_number)
        except SupportError:  # the record may be gone; the sale row is enough
            return None

    def _does_not_open(self, case: _Case, digits: str, sale: Sale | None) -> explain.Finding:
        vending_key = case.meter.key
        snap = case.snapshot
        opens_with_vending_key = False
        if (
            vending_key is not None
            and snap is not None
            and snap.key is not None
            and _key_differs(vending_key, snap.key)
        ):
            try:
                decode(digits, vending_key)
                opens_with_vending_key = True
            except StsError:
                pass
        if opens_with_vending_key and snap is not None:
            case.note("key", "opens with the key vending now uses, not with the meter's key")
            return explain.key_change(self._key_change_tokens(case, snap), certain=True)
        if sale is not None:
            campaign = self._campaign_kcts(case, sale)
            if campaign is not None:
                return campaign
        if sale is not None and sale.kind.startswith("key_change"):
            # an exact KCT from the ledger that the meter refuses: the meter no longer has the
            # key it was made under, i.e. it already took the set
            done = (
                snap is not None and snap.key is not None and vending_key is not None
                and not _key_differs(vending_key, snap.key)
            )  # fmt: skip
            case.note("ledger", "a key change token issued for this meter; the meter no longer opens it")
            return explain.key_change_done(certain=done)
        if sale is not None:
            changed = self._key_changed_since(case, sale)
            if changed is not None:
                return changed
        if sale is not None and snap is None:
            # sold for this meter by us, yet the meter rejects it: its key is out of date
            case.note("ledger", "sold for this meter; the meter still rejects it")
            return explain.key_change((), certain=False)
        if sale is not None:
            case.note("ledger", "sold for this meter but does not open with its key")
            return explain.unknown(case.hint)
        found = self._nearby(case, digits)
        if found is not None:
            return found
        if case.hint is DisplayHint.KEY_EXPIRED:
            return explain.key_change((), certain=False)
        return explain.foreign_token()

    def _nearby(self, case: _Case, digits: str) -> explain.Finding | None:
        """What the customer meant, cheapest proof first: a ledger token that opens, one that
        does not (with its own problem), another meter's token, then the key alone."""
        return (
            self._typo(case, digits, ledger_only=True)
            or self._mistyped_own_sale(case, digits)
            or self._mistyped_other_meter(case, digits)
            or self._typo(case, digits)
        )

    def _mistyped_own_sale(self, case: _Case, digits: str) -> explain.Finding | None:
        """One typing error away from a token sold for this meter that the meter's key does not
        open (sold before a key change, a KCT already taken, ...): the typo *and* that token's
        own problem. The ledger match alone is proof enough (~200 one-error strings against a
        handful of sold tokens in 10^20)."""
        ledger = {s.token: s for s in case.sales if s.token}
        if not ledger:
            return None
        nearby = {e.digits: e for _, edits in candidate_groups(digits, two_wrong=False) for e in edits}
        hits = [d for d in nearby if d in ledger]
        if len(hits) != 1:
            return None
        corrected, edit = hits[0], nearby[hits[0]]
        case.note(
            "ledger",
            f"the typed digits are one typing error ({edit.typo}, positions {edit.positions}) away "
            f"from {corrected}, sold for this meter",
        )
        finding = self._twenty(case, corrected)
        candidate = TokenCandidate(
            corrected, edit.typo, edit.positions, self._describe(case, corrected, ledger[corrected]), True
        )
        if finding.cause is Cause.NO_FAULT_FOUND:
            return explain.typo((candidate,), Confidence.CERTAIN)
        return explain.mistyped_then(candidate, finding)

    def _mistyped_other_meter(self, case: _Case, digits: str) -> explain.Finding | None:
        """A token for another meter, typed with one error: both mistakes at once."""
        nearby = {e.digits: e for _, edits in candidate_groups(digits, two_wrong=False) for e in edits}
        if not nearby:
            return None
        others = [
            s for s in self.sources.sales_by_tokens(nearby.keys())
            if s.meter_number != case.meter.meter_number
        ]  # fmt: skip
        if len(others) != 1:
            return None  # none, or too many to say which
        sale = others[0]
        edit = nearby[sale.token or ""]
        case.note(
            "ledger",
            f"the typed digits are one typing error ({edit.typo}, positions {edit.positions}) "
            f"away from a token sold for meter {mask_number(sale.meter_number)}",
        )
        return self._sold_elsewhere(case, sale)

    def _campaign_kcts(self, case: _Case, sale: Sale, *, certain: bool = True) -> explain.Finding | None:
        """A sale made after a key-change campaign handed this meter its KCTs (with that sale or
        before it) is made with the new key: it fails until the KCTs are keyed. The customer is
        told to key them, with the tokens (sources without campaigns skip this)."""
        lookup = getattr(self.sources, "campaign_key_changes", None)
        if lookup is None or sale.kind != "credit":
            return None
        for kct in lookup(case.meter.meter_number):
            if kct.state == "delivered" and kct.delivered_at is not None and kct.delivered_at <= sale.created_at:
                case.note("campaign", f"key-change campaign {kct.campaign_id}: {len(kct.tokens)} KCTs were handed "
                          f"out ({kct.delivered_via}); this token is made with the new key")  # fmt: skip
                return explain.key_change(kct.tokens, certain=certain)
        return None

    def _key_change_tokens(self, case: _Case, snap: MeterSnapshot) -> tuple[str, ...]:
        new_key, new_params = case.meter.key, case.meter.params
        if new_key is None or new_params is None or snap.key is None or snap.params is None:
            return ()
        rollover = new_params.base_date != snap.params.base_date
        return tuple(encode_key_change(snap.key, new_key, new_params, rollover=rollover))

    def _valid_token(self, case: _Case, digits: str, token: Token, sale: Sale | None) -> explain.Finding:
        if isinstance(token, MeterTestDisplay):
            own = meter_number.manufacturer_code(case.meter.meter_number)
            own_format = 0 if len(case.meter.meter_number) == 11 else 1
            fits = token.manufacturer_code == own and token.format == own_format
            case.note("key", f"a class 1 test token for manufacturer {token.manufacturer_code:02d}")
            return explain.test_token(token.manufacturer_code, own, fits=fits)
        unsupported = _unsupported(token)
        if unsupported is not None:
            case.note("key", f"{token.name}: the meter cannot carry it out")
            return explain.function_not_supported(*unsupported)
        tid = getattr(token, "tid", None)
        snap = case.snapshot
        if tid is not None and snap is not None:
            memory = snap.tid_memory
            if tid in memory:
                entry = next((e for e in snap.accepted if e.tid == tid), None)
                case.note("meter", f"TID {tid} is in the meter's TID memory")
                return explain.already_used(case.meter.meter_number, entry.entered_at if entry else None, certain=True)
            if memory and tid < min(memory) and len(memory) >= snap.tid_memory_size:
                case.note("meter", f"TID {tid} is older than the oldest remembered ({min(memory)})")
                return explain.too_old(snap.tid_memory_size, certain=True)
        elif tid is not None and sale is not None:
            newer = [s for s in case.sales if s.tid is not None and s.tid > tid]
            if len(newer) >= case.memory_size:
                case.note("ledger", f"{len(newer)} newer tokens were sold for this meter")
                return explain.too_old(case.memory_size, certain=False)
        amount = getattr(token, "amount", None)
        if (
            isinstance(token, ElectricityCredit)
            and snap is not None
            and snap.credit_kwh + token.amount > snap.credit_max_kwh
        ):
            case.note(
                "meter",
                f"credit {snap.credit_kwh} + {token.amount} kWh exceeds the register maximum {snap.credit_max_kwh}",
            )
            return explain.credit_overflow(snap.credit_kwh, token.amount, certain=True)
        if snap is None:
            hinted = {
                DisplayHint.USED: explain.already_used(case.meter.meter_number, None, False),
                DisplayHint.OLD: explain.too_old(case.memory_size, certain=False),
                DisplayHint.OVER: explain.credit_overflow(None, amount, certain=False),
                DisplayHint.KEY_EXPIRED: explain.key_change((), certain=False),
            }
            if case.hint in hinted:
                return hinted[case.hint]
            if case.hint is DisplayHint.LOCKED:
                return explain.locked_unknown_end(digits)
            if sale is not None:
                # the token is good for the key vending now has; a campaign handed this meter
                # KCTs before it and no later token is known to be accepted: most likely the
                # KCTs were not keyed (the meter cannot be read to prove it)
                campaign = self._campaign_kcts(case, sale, certain=False)
                if campaign is not None:
                    return campaign
        if snap is not None and snap.locked_until is not None and snap.locked_until > case.now:
            case.note("meter", f"keypad locked until {snap.locked_until.isoformat()}")
            return explain.no_fault(digits, locked_until=snap.locked_until)
        return explain.no_fault(digits, locked_until=None)

    # -- typing errors -------------------------------------------------------------------

    def _typo(self, case: _Case, digits: str, *, ledger_only: bool = False) -> explain.Finding | None:
        """Typo candidates: the ledger's tokens first; then (unless ``ledger_only``) any token
        the key opens that a customer could plausibly hold."""
        key = case.meter_key
        if key is None:
            return None
        ledger = {s.token: s for s in case.sales if s.token}
        snap = case.snapshot
        memory = snap.tid_memory if snap else ()
        oldest = min(memory) if snap and len(memory) >= snap.tid_memory_size else None

        def fresh(tid: int | None) -> bool:
            if tid is None or snap is None:
                return True
            return tid not in memory and (oldest is None or tid >= oldest)

        def in_ledger(cand: str, token: Token) -> bool:
            sale = ledger.get(cand)
            return sale is not None and sale.tid == getattr(token, "tid", None)

        found: list[Recovered] = []
        stale: list[Recovered] = []
        if ledger:
            hits = search_typos(
                digits,
                key,
                accept=in_ledger,
                shortlist=ledger.keys(),
                two_wrong=self.two_wrong_digits,
            )
            found = [h for h in hits if fresh(getattr(h.token, "tid", None))]
            stale = [h for h in hits if h not in found]
        from_ledger = bool(found)
        if not found and not ledger_only:
            limit = self._tid_limit(case)

            def plausible(cand: str, token: Token) -> bool:
                # Key change tokens carry no TID to check, so without a ledger row they would
                # let ~1 in 60 two-digit searches through by CRC chance: only the ledger finds them.
                if not isinstance(token, _KEYLESS_PLAUSIBLE):
                    return False
                if isinstance(token, ClearCredit) and token.register not in (0, 0xFFFF):
                    return False
                if isinstance(token, ElectricityCredit) and token.amount <= 0:
                    return False
                tid = token.tid
                if limit is not None and tid > limit:
                    return False  # issued in the future
                return fresh(tid)

            found = search_typos(digits, key, accept=plausible, two_wrong=self.two_wrong_digits)
        if not found and stale:
            used = stale[0]
            case.note(
                "ledger",
                f"typed digits are a mistyped {used.edit.digits} ({used.edit.typo}), which the meter "
                "already has or can no longer take",
            )
            sale = ledger[used.edit.digits]
            finding = self._valid_token(case, used.edit.digits, used.token, sale)
            candidate = TokenCandidate(
                used.edit.digits, used.edit.typo, used.edit.positions,
                self._describe(case, used.edit.digits, sale, used.token), True,
            )  # fmt: skip
            return explain.mistyped_then(candidate, finding)
        if not found:
            return None
        candidates = tuple(
            TokenCandidate(
                r.edit.digits,
                r.edit.typo,
                r.edit.positions,
                self._describe(case, r.edit.digits, ledger.get(r.edit.digits), r.token),
                r.edit.digits in ledger,
            )
            for r in found
        )
        for c in candidates:
            case.note(
                "key",
                f"{c.digits} opens with the meter's key ({c.typo}, positions {c.positions})"
                + (" and was sold for this meter" if c.in_ledger else ""),
            )
        if len(candidates) == 1:
            confidence = Confidence.CERTAIN if from_ledger else Confidence.LIKELY
        else:
            confidence = Confidence.POSSIBLE
        return explain.typo(candidates, confidence)

    def _tid_limit(self, case: _Case) -> int | None:
        params = (case.snapshot.params if case.snapshot else None) or case.meter.params
        if params is None:
            return None
        try:
            return tid_from_datetime(case.now, params.base_date) + 1
        except StsError:
            return None

    def _describe(self, case: _Case, digits: str, sale: Sale | None, token: Token | None = None) -> str:
        parts: list[str] = []
        if token is not None:
            amount = getattr(token, "amount", None)
            name = getattr(token, "name", type(token).__name__)
            parts.append(f"{name} {amount} kWh" if amount is not None else str(name))
        elif sale is not None and sale.kwh is not None:
            parts.append(f"credit {sale.kwh} kWh")
        if sale is not None:
            parts.append(f"sold {explain.wib(sale.created_at)} via {sale.channel}")
        return ", ".join(parts)


#: One token in 4-4-4-4-4 groups inside pasted text ("Token PLN Anda: 1234-5678-... 20,4 kWh").
_PASTED_TOKEN = re.compile(r"(?<![0-9])[0-9]{4}(?:[ .\-]?[0-9]{4}){4}(?![0-9])")

#: Letters a chat message or a form gets instead of digits (a keypad has no letters).
_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1"})

#: Display words about the device itself, which a readable meter state confirms or refutes.
_DEVICE_HINTS = (DisplayHint.BLANK, DisplayHint.PERIKSA, DisplayHint.COVER_OPEN)

#: Token functions the emulated electricity meter carries out (docs/meter.md, step 8).
_METER_FUNCTIONS = (
    ElectricityCredit, SetMaximumPowerLimit, ClearCredit, ClearTamper, SetPhaseUnbalanceLimit,
    KeyChange1, KeyChange2, KeyChange3, KeyChange4, MeterTestDisplay,
)  # fmt: skip

# Tokens a customer may hold that the key alone can vouch for (each carries a TID to check).
_KEYLESS_PLAUSIBLE = (ElectricityCredit, ClearTamper, SetMaximumPowerLimit, ClearCredit)


def _unsupported(token: Token) -> tuple[str, str] | None:
    """What a genuine token asks that a single-phase electricity meter cannot do (the
    emulator's RangeError / FunctionError), in words; None if the meter can do it."""
    if isinstance(token, ClearCredit) and token.register not in (0, ClearCredit.ALL_REGISTERS):
        return (f"penghapusan register {token.register}", f"clearing register {token.register}")
    if not isinstance(token, _METER_FUNCTIONS):
        return (f"fungsi {token.name}", f"the function {token.name}")
    return None


def _key_differs(a: DecoderKey, b: DecoderKey) -> bool:
    return a.algorithm is not b.algorithm or a.reveal() != b.reveal()


def _missing_positions(token: str, typed: str) -> tuple[int, ...]:
    start = token.find(typed)
    return tuple(i + 1 for i in range(len(token)) if not start <= i < start + len(typed))
