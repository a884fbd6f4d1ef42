"""Maker-checker (four eyes) for every action that creates or moves credit or keys.

A *maker* asks for an action; it is stored as a pending ``approval_requests`` row and nothing
happens yet. A *checker* — a different, active user with role ``admin`` (and never an account
the request names in ``not_approvable_by``, e.g. the inspector of a meter replacement) —
approves it, and only then is the action executed, or rejects it. Every step writes an audit
row carrying both names, the reason and the time.

Kinds are pluggable: ``register_approval_kind(ApprovalKind(...))`` adds an executor for a kind
(the built-ins — ``clear_credit``, ``key_change``, ``meter_replacement`` — are registered by
``prabayar.vending.management``); ``add_approval_hook(kind, fn)`` lets an upper layer (support's
tickets) follow up on a successful execution. The payload is JSON and must never carry key
bytes in clear (``bytes`` are refused).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from prabayar.vending._core import ServiceCore
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import (
    AdminRequired,
    ApprovalNotFound,
    ApprovalNotPending,
    FourEyesViolation,
    InvalidRequest,
    NotAuthorized,
    ReasonRequired,
)
from prabayar.vending.models import ApprovalRequestRow, Role, UserAccount

log = logging.getLogger("prabayar.vending.approvals")

__all__ = [
    "APPROVAL_KINDS", "ApprovalHook", "ApprovalKind", "ApprovalRequest", "ApprovalStatus",
    "ApprovalUseCases", "Executor", "add_approval_hook", "register_approval_kind",
]  # fmt: skip


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    #: approved, but the action itself was refused when it ran (``result`` says why)
    FAILED = "failed"


@dataclass(frozen=True)
class ApprovalRequest:
    """One maker's request and, once decided, the checker's decision and the action's result."""

    id: int
    kind: str
    payload: dict[str, Any]
    meter_number: str | None
    maker: str
    maker_role: str
    reason: str
    status: ApprovalStatus
    created_at: datetime
    checker: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    result: dict[str, Any] | None = None

    @property
    def pending(self) -> bool:
        return self.status is ApprovalStatus.PENDING

    @property
    def tokens(self) -> tuple[str, ...]:
        """The tokens the executed action issued (empty while pending or when none)."""
        return tuple((self.result or {}).get("tokens", ()))

    @property
    def label(self) -> tuple[str, str]:
        """(Indonesian, English) name of the kind, for a face."""
        known = APPROVAL_KINDS.get(self.kind)
        return (known.label_id, known.label_en) if known else (self.kind, self.kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label_id": self.label[0],
            "label_en": self.label[1],
            "status": self.status.value,
            "meter_number": self.meter_number,
            "payload": self.payload,
            "maker": self.maker,
            "maker_role": self.maker_role,
            "reason": self.reason,
            "created_at": self.created_at,
            "checker": self.checker,
            "decided_at": self.decided_at,
            "decision_reason": self.decision_reason,
            "result": self.result,
        }


#: ``execute(service, request, checker) -> result`` runs the approved action (its own
#: transaction(s)) and returns a JSON-able result, e.g. ``{"tokens": [...]}``. Raise a
#: ``VendingError`` to refuse: the request is then marked ``failed`` and the error re-raised.
Executor = Callable[[Any, ApprovalRequest, str], dict[str, Any]]
#: ``hook(service, request, result)`` after a successful execution (e.g. a ticket step).
ApprovalHook = Callable[[Any, ApprovalRequest, dict[str, Any]], None]


@dataclass(frozen=True)
class ApprovalKind:
    """What a kind of request is called, who may ask for it and how it is executed."""

    kind: str
    label_id: str
    label_en: str
    execute: Executor
    #: roles that may make the request; the checker is always an admin
    maker_roles: frozenset[str] = field(default_factory=lambda: frozenset({Role.OPERATOR, Role.ADMIN}))


APPROVAL_KINDS: dict[str, ApprovalKind] = {}
_HOOKS: dict[str, list[ApprovalHook]] = {}


def register_approval_kind(kind: ApprovalKind, *, replace: bool = False) -> ApprovalKind:
    """Make ``kind.kind`` requestable and approvable (call once, at import time)."""
    if kind.kind in APPROVAL_KINDS and not replace and APPROVAL_KINDS[kind.kind] != kind:
        raise ValueError(f"approval kind {kind.kind!r} is already registered")
    if not kind.kind or len(kind.kind) > 48:
        raise ValueError("an approval kind has 1 to 48 characters")
    APPROVAL_KINDS[kind.kind] = kind
    return kind


def add_approval_hook(kind: str, hook: ApprovalHook) -> None:
    """Run ``hook`` after each successful execution of ``kind`` (idempotent registration)."""
    hooks = _HOOKS.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def _json(value: Mapping[str, Any], what: str) -> str:
    try:
        return json.dumps(dict(value), sort_keys=True)
    except (TypeError, ValueError) as exc:  # bytes (key material!), Decimals, objects
        raise InvalidRequest(
            "DATA PERMINTAAN TIDAK VALID",
            f"the {what} of an approval request is plain JSON (strings, numbers, lists); never key bytes",
        ) from exc


def _view(row: ApprovalRequestRow) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        kind=row.kind,
        payload=json.loads(row.payload),
        meter_number=row.meter_number,
        maker=row.maker,
        maker_role=row.maker_role,
        reason=row.reason,
        status=ApprovalStatus(row.status),
        created_at=row.created_at,
        checker=row.checker,
        decided_at=row.decided_at,
        decision_reason=row.decision_reason,
        result=json.loads(row.result) if row.result else None,
    )


class ApprovalUseCases(ServiceCore):
    """``request_approval``, ``approve``, ``reject``, ``pending_approvals``, ``approval``."""

    @staticmethod
    def _active_user(session: Any, username: str, action: str) -> UserAccount:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None or not user.active or user.role not in (Role.OPERATOR, Role.ADMIN):
            raise NotAuthorized(username, action)
        return user  # type: ignore[no-any-return]

    def _require_admin(self, session: Any, username: str, action: str) -> UserAccount:
        user = self._active_user(session, username, action)
        if user.role != Role.ADMIN:
            raise AdminRequired(username, action)
        return user

    def request_approval(
        self,
        kind: str,
        maker: str,
        reason: str,
        payload: Mapping[str, Any],
        *,
        meter_number: str | None = None,
    ) -> ApprovalRequest:
        """Record a pending request (nothing is executed); returns it with its ``id``.

        Refuses an unknown kind, a maker without a role the kind allows, a reason shorter than
        3 characters, a payload that is not plain JSON, and a second pending request of the
        same kind for the same meter.
        """
        spec = APPROVAL_KINDS.get(kind)
        if spec is None:
            raise InvalidRequest("JENIS PERMINTAAN TIDAK DIKENAL", f"unknown approval kind {kind!r}")
        why = (reason or "").strip()
        if len(why) < 3:
            raise ReasonRequired()
        body = _json(payload, "payload")
        now = self.now()
        with claiming_session(self.engine) as session:
            user = self._active_user(session, maker, f"request {kind}")
            if user.role not in spec.maker_roles:
                if spec.maker_roles == {Role.ADMIN}:
                    raise AdminRequired(maker, f"request {kind}")
                raise NotAuthorized(maker, f"request {kind}")
            if meter_number is not None:
                open_id = session.scalar(
                    select(ApprovalRequestRow.id).where(
                        ApprovalRequestRow.kind == kind,
                        ApprovalRequestRow.meter_number == meter_number,
                        ApprovalRequestRow.status == ApprovalStatus.PENDING.value,
                    )
                )
                if open_id is not None:
                    raise InvalidRequest(
                        f"SUDAH ADA PERMINTAAN {kind} YANG MENUNGGU PERSETUJUAN (ID {open_id})",
                        f"a {kind} request for meter {meter_number} is already pending approval (id {open_id})",
                    )
            row = ApprovalRequestRow(
                kind=kind,
                payload=body,
                meter_number=meter_number,
                maker=maker,
                maker_role=user.role,
                reason=why,
                status=ApprovalStatus.PENDING.value,
                created_at=now,
            )
            session.add(row)
            session.flush()
            self._audit(
                session, now, maker, "approval.requested", meter_number,
                approval=row.id, kind=kind, maker=maker, reason=why,
            )  # fmt: skip
            return _view(row)

    def _decide(self, approval_id: int, checker: str, status: ApprovalStatus, why: str) -> ApprovalRequest:
        """Claim the pending row and record the decision (one transaction)."""
        now = self.now()
        with claiming_session(self.engine) as session:
            row = session.scalar(
                select(ApprovalRequestRow)
                .where(ApprovalRequestRow.id == approval_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if row is None:
                raise ApprovalNotFound(approval_id)
            verb = "approve" if status is ApprovalStatus.APPROVED else "reject"
            self._require_admin(session, checker, f"{verb} a request (checker)")
            if row.status != ApprovalStatus.PENDING.value:
                raise ApprovalNotPending(approval_id, row.status)
            if checker == row.maker:
                raise FourEyesViolation(checker, f"{checker} made request {approval_id}; another admin decides")
            barred = json.loads(row.payload).get("not_approvable_by") or []
            if status is ApprovalStatus.APPROVED and checker in barred:
                raise FourEyesViolation(
                    checker, f"{checker} took part in what request {approval_id} is based on (e.g. the inspection)"
                )
            row.status = status.value
            row.checker = checker
            row.decided_at = now
            row.decision_reason = why or None
            self._audit(
                session, now, checker, f"approval.{status.value}", row.meter_number,
                approval=row.id, kind=row.kind, maker=row.maker, checker=checker,
                reason=row.reason, decision_reason=why,
            )  # fmt: skip
            return _view(row)

    def _finish(self, approval_id: int, status: ApprovalStatus, result: dict[str, Any], actor: str) -> ApprovalRequest:
        now = self.now()
        with claiming_session(self.engine) as session:
            row = session.get(ApprovalRequestRow, approval_id)
            assert row is not None
            row.status = status.value
            row.result = _json(result, "result")
            if status is ApprovalStatus.FAILED:
                self._audit(
                    session, now, actor, "approval.failed", row.meter_number,
                    approval=row.id, kind=row.kind, maker=row.maker, checker=actor,
                    reason=row.reason, error=result.get("error"),
                )  # fmt: skip
            return _view(row)

    def approve(self, approval_id: int, checker: str, *, reason: str = "") -> ApprovalRequest:
        """The checker's yes: the action runs now, and the request carries its ``result``.

        The checker must be an active admin other than the maker and not named in the payload's
        ``not_approvable_by``. The decision is committed before the action runs, so a request
        is executed at most once. If the action is refused (e.g. the meter was replaced in the
        meantime) the request becomes ``failed`` with the error in ``result`` and the error is
        raised again.
        """
        request = self._decide(approval_id, checker, ApprovalStatus.APPROVED, (reason or "").strip())
        spec = APPROVAL_KINDS.get(request.kind)
        try:
            if spec is None:
                raise InvalidRequest(
                    "JENIS PERMINTAAN TIDAK DIKENAL", f"no executor is registered for kind {request.kind!r}"
                )
            result = spec.execute(self, request, checker)
        except Exception as exc:
            error = {
                "error": getattr(exc, "code", type(exc).__name__),
                "message_id": getattr(exc, "message_id", "PERMINTAAN GAGAL DIJALANKAN"),
                "message_en": getattr(exc, "message_en", type(exc).__name__),
            }
            self._finish(approval_id, ApprovalStatus.FAILED, error, checker)
            raise
        done = self._finish(approval_id, ApprovalStatus.APPROVED, result, checker)
        for hook in _HOOKS.get(done.kind, ()):
            try:
                hook(self, done, result)
            except Exception:  # the action is done; a follow-up never undoes it
                log.exception("approval hook for %s %s failed", done.kind, done.id)
        return done

    def reject(self, approval_id: int, checker: str, reason: str) -> ApprovalRequest:
        """The checker's no (an admin other than the maker, with a reason); nothing runs."""
        why = (reason or "").strip()
        if len(why) < 3:
            raise ReasonRequired()
        return self._decide(approval_id, checker, ApprovalStatus.REJECTED, why)

    def approval(self, approval_id: int) -> ApprovalRequest:
        with reading_session(self.engine) as session:
            row = session.get(ApprovalRequestRow, approval_id)
            if row is None:
                raise ApprovalNotFound(approval_id)
            return _view(row)

    def approvals(
        self,
        *,
        status: ApprovalStatus | str | None = None,
        kinds: Iterable[str] | None = None,
        meter_number: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRequest]:
        """Requests newest first, optionally by status, kind and meter."""
        stmt = select(ApprovalRequestRow).order_by(ApprovalRequestRow.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(ApprovalRequestRow.status == ApprovalStatus(status).value)
        if kinds is not None:
            stmt = stmt.where(ApprovalRequestRow.kind.in_(list(kinds)))
        if meter_number is not None:
            stmt = stmt.where(ApprovalRequestRow.meter_number == meter_number)
        with reading_session(self.engine) as session:
            return [_view(r) for r in session.scalars(stmt)]

    def pending_approvals(self, *, kinds: Iterable[str] | None = None, limit: int = 100) -> list[ApprovalRequest]:
        """What waits for a checker, oldest first (the order to work through them)."""
        found = self.approvals(status=ApprovalStatus.PENDING, kinds=kinds, limit=limit)
        return sorted(found, key=lambda r: r.id)
