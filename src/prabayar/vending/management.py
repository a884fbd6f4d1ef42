"""Management tokens and key operations: only by operators (keys: admins), always audited.

Clear credit, key change and meter replacement create or move credit or keys: their use cases
only record a request (``prabayar.vending.approvals``); an admin other than the maker approves
it and the ``_execute_*`` methods below run then, with both names in the audit row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.sts import (
    ClearCredit,
    ClearTamper,
    Dkga,
    ElectricityCredit,
    KeyParameters,
    KeyType,
    SetMaximumPowerLimit,
    Token,
)
from prabayar.vending._core import _params_of
from prabayar.vending.approvals import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalUseCases,
    register_approval_kind,
)
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import (
    AdminRequired,
    CarriedCreditAboveCap,
    InvalidRequest,
    KeyUnavailable,
    MeterReplaced,
    NotAuthorized,
    ReasonRequired,
)
from prabayar.vending.models import (
    ManagementTokenRecord,
    Meter,
    MeterStatus,
    Role,
    UserAccount,
)
from prabayar.vending.pricing import monthly_cap_kwh
from prabayar.vending.results import (
    ManagementResult,
    MeterKey,
)


def carried_credit(amount: Decimal) -> Decimal:
    """What a credit token can carry of ``amount`` kWh, rounded DOWN (never up) to the token's
    resolution (0.1 kWh; coarser steps above 1,638.3 kWh)."""
    units = int((amount / sts.amount.TENTH).to_integral_value(rounding=ROUND_FLOOR))
    try:
        field = sts.amount.encode_units(units)
    except sts.StsError as exc:
        raise InvalidRequest("SISA KREDIT TERLALU BESAR", str(exc)) from exc
    if sts.amount.decode_units(field) > units:  # encode rounds up: take the step below
        field -= 1
    return sts.amount.decode_amount(field)


def _result_of(r: ManagementResult, **extra: Any) -> dict[str, Any]:
    return {"kind": r.kind, "meter_number": r.meter_number, "tokens": list(r.tokens), "tid": r.tid, **extra}


class ManagementUseCases(ApprovalUseCases):
    """Clear tamper/credit, power limit, key change, vending keys, decoder key reads."""

    @staticmethod
    def _operator(session: Session, username: str, action: str) -> UserAccount:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
            raise NotAuthorized(username, action)
        return user

    @staticmethod
    def _reason(reason: str) -> str:
        text = (reason or "").strip()
        if len(text) < 3:
            raise ReasonRequired()
        return text

    def _management(
        self,
        operator: str,
        meter_number: str,
        reason: str,
        kind: str,
        make: Callable[[int, int], Token],
        detail: dict[str, Any],
    ) -> ManagementResult:
        why = self._reason(reason)
        now = self.now()
        with claiming_session(self.engine) as session:
            self._operator(session, operator, f"issue a {kind} token")
            meter = self._find_meter(session, meter_number, lock=True)
            if meter.status == MeterStatus.REPLACED:
                raise MeterReplaced(meter.meter_number, meter.replaced_by)
            tid = self._next_tid(meter, now)
            token = sts.encode(make(tid, secrets.randbelow(16)), self._decoder_key(meter))
            session.add(
                ManagementTokenRecord(
                    meter_number=meter.meter_number,
                    kind=kind,
                    tokens=token,
                    tid=tid,
                    operator=operator,
                    reason=why,
                    created_at=now,
                )
            )
            self._audit(
                session, now, operator, f"management.{kind}", meter.meter_number,
                reason=why, tid=tid, **detail,
            )  # fmt: skip
            return ManagementResult(
                kind=kind,
                meter_number=meter.meter_number,
                tokens=(token,),
                operator=operator,
                reason=why,
                created_at=now,
                tid=tid,
            )

    def clear_tamper(self, operator: str, meter_number: str, reason: str) -> ManagementResult:
        """A clear-tamper token (the meter shows PERIKSA / blocks credit until it is entered)."""
        return self._management(
            operator, meter_number, reason, "clear_tamper",
            lambda tid, rnd: ClearTamper(tid=tid, rnd=rnd), {},
        )  # fmt: skip

    def clear_credit(self, operator: str, meter_number: str, reason: str, register: int = 0) -> ApprovalRequest:
        """Ask for a clear-credit token for one register (0 electricity, 0xFFFF all): a pending
        request (four eyes); the token is issued when an admin other than ``operator`` approves.

        PLN's prepaid meters carry only the electricity register, so a token for another
        register (water, gas, currency, ...) would only be refused by the meter: it is refused
        here instead, before anything is recorded.
        """
        if register not in (0, ClearCredit.ALL_REGISTERS):
            raise InvalidRequest(
                "REGISTER TIDAK ADA DI METER LISTRIK (0 ATAU 65535)",
                f"an electricity meter has register 0 (or 65535 for all); register {register} would be refused",
            )
        why = self._reason(reason)
        number = self._meter_in_service(meter_number)
        return self.request_approval(
            "clear_credit", operator, why, {"meter_number": number, "register": register}, meter_number=number
        )

    def _meter_in_service(self, identifier: str) -> str:
        with reading_session(self.engine) as session:
            meter = self._find_meter(session, identifier)
            if meter.status == MeterStatus.REPLACED:
                raise MeterReplaced(meter.meter_number, meter.replaced_by)
            return meter.meter_number

    def _execute_clear_credit(self, request: ApprovalRequest, checker: str) -> ManagementResult:
        register = int(request.payload["register"])
        return self._management(
            request.maker, request.payload["meter_number"], request.reason, "clear_credit",
            lambda tid, rnd: ClearCredit(tid=tid, register=register, rnd=rnd),
            {"register": register, "approved_by": checker, "approval": request.id},
        )  # fmt: skip

    def set_power_limit(self, operator: str, meter_number: str, watts: int, reason: str) -> ManagementResult:
        """A set-maximum-power-limit token (watts)."""
        if isinstance(watts, bool) or not isinstance(watts, int) or watts <= 0:
            raise InvalidRequest("BATAS DAYA TIDAK VALID", "the power limit is a positive watts")
        try:
            SetMaximumPowerLimit(tid=0, watts=watts, rnd=0)
        except sts.StsError as exc:
            raise InvalidRequest("BATAS DAYA TIDAK VALID", str(exc)) from exc
        return self._management(
            operator, meter_number, reason, "power_limit",
            lambda tid, rnd: SetMaximumPowerLimit(tid=tid, watts=watts, rnd=rnd),
            {"watts": watts},
        )  # fmt: skip

    def key_change(
        self,
        operator: str,
        meter_number: str,
        reason: str,
        *,
        new_krn: int | None = None,
        rollover: bool = False,
        context: dict[str, Any] | None = None,
    ) -> ApprovalRequest:
        """Ask for key change tokens moving the meter to a new key revision (and base date on
        rollover). Admins only, on every face: ``AdminRequired`` for anyone else. The request
        waits for a second admin; the tokens are made when it is approved. ``context`` (JSON)
        is kept in the payload for the layers above (support puts the ticket number there).
        """
        why = self._reason(reason)
        with reading_session(self.engine) as session:
            user = self._operator(session, operator, "issue key change tokens")
            if user.role != Role.ADMIN:
                raise AdminRequired(operator, "issue key change tokens (KCT)")
            meter = self._find_meter(session, meter_number)
            if meter.status == MeterStatus.REPLACED:
                raise MeterReplaced(meter.meter_number, meter.replaced_by)
            params = self._key_change_params(meter, new_krn, rollover)
            number = meter.meter_number
        if not self.key_store.has_vending_key(params.sgc, params.krn):
            raise KeyUnavailable(params.sgc, params.krn)
        payload = {**(context or {}), "meter_number": number, "new_krn": params.krn, "rollover": rollover}
        return self.request_approval("key_change", operator, why, payload, meter_number=number)

    def _key_change_params(self, meter: Meter, new_krn: int | None, rollover: bool) -> KeyParameters:
        current = _params_of(meter)
        krn = new_krn if new_krn is not None else current.krn % 9 + 1
        base = current.base_date
        if rollover:
            successor = current.base_date.successor
            if successor is None:
                raise InvalidRequest("TIDAK ADA TANGGAL DASAR BERIKUTNYA", "no later STS base date exists")
            base = successor
        if krn == current.krn and not rollover:
            raise InvalidRequest(
                "KRN BARU SAMA DENGAN KRN LAMA",
                f"the meter already uses KRN {krn}; a key change needs another revision",
            )
        if isinstance(krn, bool) or not isinstance(krn, int) or not 1 <= krn <= 9:
            raise InvalidRequest("KRN TIDAK VALID", "a key revision number is 1..9")
        return KeyParameters(
            key_type=current.key_type,
            sgc=current.sgc,
            tariff_index=current.tariff_index,
            krn=krn,
            ken=current.ken,
            algorithm=current.algorithm,
            base_date=base,
            dkga=self.key_store.vending_key_dkga(current.sgc, krn),
        )

    def _execute_key_change(self, request: ApprovalRequest, checker: str) -> ManagementResult:
        """The approved key change: tokens encrypted with the meter's current key; the meter
        record is switched to the new key in the same transaction, and on a rollover its TID
        counter starts again."""
        operator, why = request.maker, request.reason
        rollover = bool(request.payload["rollover"])
        now = self.now()
        with claiming_session(self.engine) as session:
            user = self._operator(session, operator, "issue key change tokens")
            if user.role != Role.ADMIN:
                raise AdminRequired(operator, "issue key change tokens (KCT)")
            meter = self._find_meter(session, request.payload["meter_number"], lock=True)
            if meter.status == MeterStatus.REPLACED:
                raise MeterReplaced(meter.meter_number, meter.replaced_by)
            current = _params_of(meter)
            new_params = self._key_change_params(meter, int(request.payload["new_krn"]), rollover)
            krn, base = new_params.krn, new_params.base_date
            pan = sts.meter_pan.from_meter_number(meter.meter_number)
            current_key = self.key_store.decoder_key(pan, current)
            new_key = self.key_store.decoder_key(pan, new_params)
            tokens = tuple(sts.encode_key_change(current_key, new_key, new_params, rollover=rollover))
            meter.krn = new_params.krn
            meter.base_date = new_params.base_date.value
            meter.dkga = new_params.dkga.value
            if rollover:
                meter.last_tid = 0
            kind = "key_change_rollover" if rollover else "key_change"
            session.add(
                ManagementTokenRecord(
                    meter_number=meter.meter_number,
                    kind=kind,
                    tokens=" ".join(tokens),
                    tid=None,
                    operator=operator,
                    reason=why,
                    created_at=now,
                )
            )
            self._audit(
                session, now, operator, f"key.{kind}", meter.meter_number, reason=why,
                old_krn=current.krn, new_krn=krn, old_base_date=current.base_date.value,
                new_base_date=base.value, old_key=current_key.fingerprint(),
                new_key=new_key.fingerprint(), tokens=len(tokens), approved_by=checker,
                approval=request.id,
            )  # fmt: skip
            return ManagementResult(
                kind=kind,
                meter_number=meter.meter_number,
                tokens=tokens,
                operator=operator,
                reason=why,
                created_at=now,
            )

    def generate_vending_key(self, admin: str, sgc: str, krn: int, dkga: Dkga = Dkga.DKGA04) -> None:
        """A new vending key for a supply group and revision (admins only; audited)."""
        with reading_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == admin))
            if user is None or not user.active or user.role != Role.ADMIN:
                raise NotAuthorized(admin, "create vending keys (admin only)")
        try:
            KeyParameters(key_type=KeyType.DUTK, sgc=sgc, tariff_index="01", krn=krn, dkga=dkga)
        except sts.StsError as exc:
            raise InvalidRequest("PARAMETER KUNCI TIDAK VALID", str(exc)) from exc
        if self.key_store.has_vending_key(sgc, krn):
            raise InvalidRequest("KUNCI SUDAH ADA", f"a vending key for SGC {sgc} KRN {krn} already exists")
        self.key_store.generate_vending_key(sgc, krn, dkga, actor=admin)

    def meter_key(self, meter_number: str, *, actor: str, purpose: str) -> MeterKey:
        """The meter's key parameters and decoder key, for a virtual meter or a diagnosis.

        Every read is audited; the returned ``DecoderKey`` hides its bytes in any repr.
        """
        if not purpose.strip():
            raise ReasonRequired()
        now = self.now()
        with claiming_session(self.engine) as session:
            meter = self._find_meter(session, meter_number)
            params = _params_of(meter)
            pan = sts.meter_pan.from_meter_number(meter.meter_number)
            key = self.key_store.decoder_key(pan, params)
            self._audit(
                session, now, actor, "key.decoder_read", meter.meter_number,
                purpose=purpose.strip(), key=key.fingerprint(), krn=params.krn,
            )  # fmt: skip
            return MeterKey(meter.meter_number, pan, params, key)

    def management_history(self, meter_number: str, limit: int = 20) -> list[ManagementResult]:
        """The management tokens issued for a meter, newest first."""
        with reading_session(self.engine) as session:
            meter = self._find_meter(session, meter_number)
            rows = session.scalars(
                select(ManagementTokenRecord)
                .where(ManagementTokenRecord.meter_number == meter.meter_number)
                .order_by(ManagementTokenRecord.id.desc())
                .limit(limit)
            ).all()
            return [
                ManagementResult(
                    kind=r.kind,
                    meter_number=r.meter_number,
                    tokens=tuple(r.tokens.split()),
                    operator=r.operator,
                    reason=r.reason,
                    created_at=r.created_at,
                    tid=r.tid,
                )
                for r in rows
            ]

    def replace_meter(
        self,
        operator: str,
        old_meter_number: str,
        new_meter_number: str,
        carried_kwh: Decimal,
        reason: str,
        *,
        inspector: str | Sequence[str] | None = None,
        context: dict[str, Any] | None = None,
    ) -> ApprovalRequest:
        """Ask to replace a meter, carrying its remaining credit: a pending request (four eyes).

        The carried credit is rounded DOWN to what a token can carry and refused
        (``CarriedCreditAboveCap``) above the meter's monthly cap (720 h x VA / 1000 kWh).
        ``inspector`` — the account(s) that recorded the inspection the replacement rests on — may
        not approve it, nor may the maker. ``context`` (JSON) is kept in the payload for the
        layers above (support puts the ticket number there).
        """
        why = self._reason(reason)
        if not isinstance(carried_kwh, Decimal) or not carried_kwh.is_finite() or carried_kwh < 0:
            raise InvalidRequest("SISA KREDIT TIDAK VALID", "the carried credit is a kWh amount of 0 or more")
        try:
            new_number = sts.meter_number.validate(new_meter_number)
        except sts.StsError as exc:
            raise InvalidRequest("NOMOR METER BARU TIDAK VALID", f"invalid new meter number: {exc}") from exc
        with reading_session(self.engine) as session:
            self._operator(session, operator, "replace a meter")
            old = self._find_meter(session, old_meter_number)
            if old.status == MeterStatus.REPLACED:
                raise MeterReplaced(old.meter_number, old.replaced_by)
            if session.scalar(select(Meter.id).where(Meter.meter_number == new_number)) is not None:
                raise InvalidRequest("NOMOR METER SUDAH TERDAFTAR", f"meter number {new_number} is already registered")
            cap = monthly_cap_kwh(old.customer.va)
            old_number = old.meter_number
        if carried_kwh > cap:
            raise CarriedCreditAboveCap(carried_kwh, cap)
        amount = carried_credit(carried_kwh)
        payload: dict[str, Any] = {
            **(context or {}),
            "old_meter_number": old_number,
            "new_meter_number": new_number,
            "carried_kwh": str(amount),
            "requested_kwh": str(carried_kwh),
            "not_approvable_by": sorted({inspector} if isinstance(inspector, str) else set(inspector or ())),
        }
        return self.request_approval("meter_replacement", operator, why, payload, meter_number=old_number)

    def _execute_replace_meter(self, request: ApprovalRequest, checker: str) -> ManagementResult:
        """The approved replacement: register the new meter for the customer of the old one,
        mark the old one replaced (sales then name the new one) and issue the carried credit as
        an electricity credit token for the new meter.

        The new meter takes the supply group's key parameters; if the old meter's base date can
        no longer count TIDs, the new meter starts on the next base date with the next key
        revision, as a rollover key change would have moved it. One transaction, audited.
        """
        operator, why = request.maker, request.reason
        old_meter_number = request.payload["old_meter_number"]
        new_number = request.payload["new_meter_number"]
        amount = Decimal(request.payload["carried_kwh"])
        now = self.now()
        with claiming_session(self.engine) as session:
            self._operator(session, operator, "replace a meter")
            old = self._find_meter(session, old_meter_number, lock=True)
            if old.status == MeterStatus.REPLACED:
                raise MeterReplaced(old.meter_number, old.replaced_by)
            if session.scalar(select(Meter.id).where(Meter.meter_number == new_number)) is not None:
                raise InvalidRequest("NOMOR METER SUDAH TERDAFTAR", f"meter number {new_number} is already registered")
            cap = monthly_cap_kwh(old.customer.va)
            if amount > cap:
                raise CarriedCreditAboveCap(amount, cap)
            params = _params_of(old)
            try:
                sts.tid_from_datetime(now, params.base_date)
            except sts.TidRolloverError:
                successor = params.base_date.successor
                if successor is None:
                    raise InvalidRequest(
                        "TIDAK ADA TANGGAL DASAR BERIKUTNYA", "no later STS base date exists"
                    ) from None
                krn = params.krn % 9 + 1
                params = KeyParameters(
                    key_type=params.key_type, sgc=params.sgc, tariff_index=params.tariff_index, krn=krn,
                    ken=255, algorithm=params.algorithm, base_date=successor,
                    dkga=self.key_store.vending_key_dkga(params.sgc, krn),
                )  # fmt: skip
            new = Meter(
                meter_number=new_number,
                customer_id=old.customer_id,
                status=MeterStatus.ACTIVE,
                key_type=int(params.key_type),
                sgc=params.sgc,
                tariff_index=params.tariff_index,
                krn=params.krn,
                ken=params.ken,
                algorithm=params.algorithm.value,
                base_date=params.base_date.value,
                dkga=params.dkga.value,
                last_tid=0,
            )
            old.status = MeterStatus.REPLACED
            old.replaced_by = new_number
            session.add(new)
            tokens: tuple[str, ...] = ()
            tid: int | None = None
            if amount > 0:
                tid = self._next_tid(new, now)
                credit = ElectricityCredit(tid=tid, amount=amount, rnd=secrets.randbelow(16))
                tokens = (sts.encode(credit, self._decoder_key(new)),)
                session.add(
                    ManagementTokenRecord(
                        meter_number=new_number, kind="credit_transfer", tokens=tokens[0], tid=tid,
                        operator=operator, reason=why, created_at=now,
                    )
                )  # fmt: skip
            self._audit(
                session, now, operator, "management.meter_replaced", old.meter_number,
                reason=why, new_meter=new_number, carried_kwh=str(amount), tid=tid,
                approved_by=checker, approval=request.id,
            )  # fmt: skip
            return ManagementResult(
                kind="meter_replaced",
                meter_number=new_number,
                tokens=tokens,
                operator=operator,
                reason=why,
                created_at=now,
                tid=tid,
            )


register_approval_kind(
    ApprovalKind(
        "clear_credit", "Hapus kredit", "Clear credit",
        lambda service, request, checker: _result_of(service._execute_clear_credit(request, checker)),
    )
)  # fmt: skip
register_approval_kind(
    ApprovalKind(
        "key_change", "Ganti kunci (KCT)", "Key change (KCT)",
        lambda service, request, checker: _result_of(service._execute_key_change(request, checker)),
        maker_roles=frozenset({Role.ADMIN}),
    )
)  # fmt: skip
register_approval_kind(
    ApprovalKind(
        "meter_replacement", "Penggantian meter (dengan sisa kredit)", "Meter replacement (carried credit)",
        lambda service, request, checker: _result_of(
            service._execute_replace_meter(request, checker),
            old_meter_number=request.payload["old_meter_number"],
            carried_kwh=request.payload["carried_kwh"],
        ),
    )
)  # fmt: skip
