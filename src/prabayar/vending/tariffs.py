"""Tariffs: effective-dated Rp/kWh versions per tariff class; a sale uses the one in force.

PLN adjusts tariffs quarterly. Each change is a new row in ``tariff_prices`` (class, effective
from, Rp/kWh, who, why); rows are never changed, so the history stays. A version cannot start
in the past: sales already made keep the price they were sold at, and history must say so.
A new version asked for through the API or the console goes through maker-checker approval
(kind ``tariff.version``, see ``prabayar.vending.approvals``); the CLI, run by an administrator
on the server, applies it at once (``server=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from prabayar.vending import validation
from prabayar.vending.approvals import ApprovalKind, ApprovalRequest, ApprovalUseCases, register_approval_kind
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import InvalidRequest
from prabayar.vending.models import Role, TariffClass, TariffPrice
from prabayar.vending.tariff_rates import tariff_rate_at

#: A new version starts at least this far ahead, so a per-process cache of versions refreshed
#: more often than this never misses one (the lean purchase path caches them).
MIN_LEAD = timedelta(minutes=5)
#: The kind under which a new tariff version waits for approval.
APPROVAL_KIND = "tariff.version"

__all__ = [
    "APPROVAL_KIND",
    "MIN_LEAD",
    "TariffInfo",
    "TariffUseCases",
    "TariffVersion",
    "parse_rp_per_kwh",
    "tariff_rate_at",
]


@dataclass(frozen=True)
class TariffVersion:
    tariff: str
    effective_from: datetime
    rp_per_kwh: Decimal
    created_at: datetime
    created_by: str
    reason: str


@dataclass(frozen=True)
class TariffInfo:
    code: str
    print_code: str
    description: str
    va_min: int
    va_max: int | None
    household: bool
    subsidised: bool
    #: In force now.
    rp_per_kwh: Decimal
    #: The next version already decided, if any.
    next_version: TariffVersion | None


def _version(t: TariffClass, v: TariffPrice) -> TariffVersion:
    return TariffVersion(t.code, v.effective_from, v.rp_per_kwh, v.created_at, v.created_by, v.reason)


def parse_rp_per_kwh(value: object) -> Decimal:
    """Rp/kWh with at most 2 decimals, above 0 and below Rp 100,000."""
    try:
        rate = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        rate = Decimal("NaN")
    if not rate.is_finite() or not Decimal(0) < rate < 100_000 or rate != rate.quantize(Decimal("0.01")):
        raise validation.InvalidField(
            "rp_per_kwh", "TARIF (RP/KWH) TIDAK VALID", "Rp/kWh is above 0, below 100,000, at most 2 decimals"
        )
    return rate


class TariffUseCases(ApprovalUseCases):
    """Tariff classes, their price history, and new price versions."""

    def tariff_classes(self) -> list[TariffInfo]:
        now = self.now()
        with reading_session(self.engine) as session:
            out = []
            for t in session.scalars(select(TariffClass).order_by(TariffClass.id)):
                upcoming = session.scalar(
                    select(TariffPrice)
                    .where(TariffPrice.tariff_class_id == t.id, TariffPrice.effective_from > now)
                    .order_by(TariffPrice.effective_from)
                    .limit(1)
                )
                out.append(
                    TariffInfo(
                        t.code, t.print_code, t.description, t.va_min, t.va_max, t.household, t.subsidised,
                        tariff_rate_at(session, t, now), _version(t, upcoming) if upcoming else None,
                    )
                )  # fmt: skip
            return out

    def tariff_history(self, tariff: str) -> list[TariffVersion]:
        """Every version of a class, newest first."""
        with reading_session(self.engine) as session:
            t = self._tariff_class(session, tariff)
            rows = session.scalars(
                select(TariffPrice)
                .where(TariffPrice.tariff_class_id == t.id)
                .order_by(TariffPrice.effective_from.desc())
            )
            return [_version(t, v) for v in rows]

    @staticmethod
    def _tariff_class(session: Session, code: str) -> TariffClass:
        t = session.scalar(select(TariffClass).where(TariffClass.code == (code or "").strip().upper()))
        if t is None:
            raise validation.InvalidField("tariff", f"GOLONGAN TARIF {code} TIDAK DIKENAL", f"unknown tariff {code!r}")
        return t

    def check_tariff_version(self, tariff: str, rp_per_kwh: object, effective_from: datetime) -> Decimal:
        """Validate a new version without storing it (a maker's request is checked up front)."""
        rate = parse_rp_per_kwh(rp_per_kwh)
        if effective_from.tzinfo is None:
            raise validation.InvalidField(
                "effective_from", "WAKTU BERLAKU HARUS DENGAN ZONA WAKTU", "effective_from needs a time zone"
            )
        if effective_from < self.now() + MIN_LEAD:
            raise validation.InvalidField(
                "effective_from",
                "TARIF BARU TIDAK BOLEH BERLAKU SURUT (MINIMAL 5 MENIT KE DEPAN)",
                "a new tariff version starts at least 5 minutes ahead: never in the past (sales already made "
                "keep their price), and every server's cache of versions knows it before it applies",
            )
        with reading_session(self.engine) as session:
            t = self._tariff_class(session, tariff)
            clash = session.scalar(
                select(TariffPrice.id).where(
                    TariffPrice.tariff_class_id == t.id, TariffPrice.effective_from == effective_from
                )
            )
            if clash is not None:
                raise InvalidRequest(
                    "VERSI TARIF DENGAN WAKTU BERLAKU ITU SUDAH ADA",
                    f"{t.code} already has a version starting {effective_from.isoformat()}",
                )
        return rate

    def add_tariff_version(
        self,
        actor: str,
        tariff: str,
        rp_per_kwh: object,
        effective_from: datetime,
        reason: str,
        *,
        server: bool = False,
        approved_by: str | None = None,
    ) -> TariffVersion:
        """Store a new price version. Only the server CLI (``server=True``) or an approved
        maker-checker request (``approved_by`` = the admin who approved) may apply one."""
        why = validation.reason(reason)
        if not server and approved_by is None:
            raise InvalidRequest(
                "TARIF BARU MEMERLUKAN PERSETUJUAN",
                "a new tariff version needs maker-checker approval (request it; another admin approves)",
            )
        rate = self.check_tariff_version(tariff, rp_per_kwh, effective_from)
        now = self.now()
        with claiming_session(self.engine) as session:
            if approved_by is not None and not server:
                self._require_role(session, approved_by, Role.ADMIN, "approve a tariff version")
            t = self._tariff_class(session, tariff)
            old = tariff_rate_at(session, t, effective_from)
            row = TariffPrice(
                tariff_class_id=t.id,
                effective_from=effective_from,
                rp_per_kwh=rate,
                created_at=now,
                created_by=actor,
                reason=why,
            )
            session.add(row)
            self._audit(
                session, now, actor, "tariff.version", None, tariff=t.code, rp_per_kwh=str(rate),
                previous=str(old), effective_from=effective_from.isoformat(), reason=why, approved_by=approved_by,
            )  # fmt: skip
            session.flush()
            return _version(t, row)

    @staticmethod
    def _require_role(session: Session, username: str, role: Role, action: str) -> None:
        from prabayar.vending.errors import NotAuthorized
        from prabayar.vending.models import UserAccount

        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None or not user.active or user.role != role:
            raise NotAuthorized(username, action)

    def request_tariff_version(
        self, maker: str, tariff: str, rp_per_kwh: object, effective_from: datetime, reason: str
    ) -> ApprovalRequest:
        """A maker's request for a new version (API/console); applied when another admin approves."""
        why = validation.reason(reason)
        rate = self.check_tariff_version(tariff, rp_per_kwh, effective_from)
        return self.request_approval(
            APPROVAL_KIND,
            maker,
            why,
            {
                "tariff": tariff.strip().upper(),
                "rp_per_kwh": str(rate),
                "effective_from": effective_from.isoformat(),
            },
        )


def _execute(service: Any, request: ApprovalRequest, checker: str) -> dict[str, Any]:
    p = request.payload
    version: TariffVersion = service.add_tariff_version(
        request.maker,
        p["tariff"],
        p["rp_per_kwh"],
        datetime.fromisoformat(p["effective_from"]),
        f"{request.reason} (approval {request.id})",
        approved_by=checker,
    )
    return {
        "tariff": version.tariff,
        "rp_per_kwh": str(version.rp_per_kwh),
        "effective_from": version.effective_from.isoformat(),
    }


register_approval_kind(
    ApprovalKind(
        APPROVAL_KIND,
        "Versi tarif baru",
        "New tariff version",
        _execute,
        maker_roles=frozenset({Role.ADMIN}),
    )
)
