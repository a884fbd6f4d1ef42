"""A customer's own account: the meters/IDPELs it may see, its purchase history, its password.

* **Further meters.** A login starts with the customer it was created for; it may add another
  customer (IDPEL) it owns by proving it: a token sold for that meter in the last
  :data:`LINK_TOKEN_DAYS` days, or the meter number together with its IDPEL (both printed on
  every struk). Every link and every refused attempt is audited; the faces throttle attempts.
* **Password change** needs the current password.
* **Password reset** (chosen for a system without e-mail/SMS delivery): an operator or admin,
  after checking the caller (Contact Center 123 or at the unit's counter), issues a one-time
  code of :data:`RESET_CODE_DIGITS` digits valid :data:`RESET_VALID_MINUTES` minutes; only its
  argon2 hash is stored, a new code voids the earlier ones, :data:`RESET_MAX_ATTEMPTS` wrong
  tries void it. The customer sets a new password with it on the log-in page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from prabayar import sts
from prabayar.digits import is_digits
from prabayar.vending import accounts
from prabayar.vending._core import ServiceCore, _result_of
from prabayar.vending.account_models import AccountLinkRow, PasswordResetRow
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotAuthorized,
    ReasonRequired,
    VendingError,
)
from prabayar.vending.models import Customer, Purchase, Role, UserAccount
from prabayar.vending.results import Inquiry, PurchaseResult

LINK_TOKEN_DAYS = 90
RESET_CODE_DIGITS = 8
RESET_VALID_MINUTES = 30
RESET_MAX_ATTEMPTS = 5
HISTORY_PAGE_MAX = 100


class OwnershipNotShown(VendingError):
    """Neither a recent token nor the IDPEL matched the meter (never says which part)."""

    def __init__(self) -> None:
        super().__init__(
            "KEPEMILIKAN METER TIDAK TERBUKTI: PERIKSA TOKEN ATAU IDPEL",
            "ownership not shown: check the token or the IDPEL",
        )


class AlreadyLinked(VendingError):
    def __init__(self) -> None:
        super().__init__("METER SUDAH ADA DI AKUN ANDA", "this meter is already in your account")


@dataclass(frozen=True)
class HistoryPage:
    """One page of a customer's purchases, newest first, and how many match in all."""

    items: list[PurchaseResult]
    total: int
    offset: int
    limit: int


class CustomerAccountUseCases(ServiceCore):
    """Use cases of a customer's own web account (see the module text)."""

    # --- which customers a login may see -----------------------------------------------------
    def _account(self, session: Session, username: str) -> UserAccount:
        user = session.scalar(select(UserAccount).where(UserAccount.username == username))
        if user is None or not user.active:
            raise AuthenticationFailed()
        return user

    def _customer_ids(self, session: Session, user: UserAccount) -> list[int]:
        ids = [user.customer_id] if user.customer_id is not None else []
        linked = session.scalars(
            select(AccountLinkRow.customer_id).where(AccountLinkRow.user_id == user.id).order_by(AccountLinkRow.id)
        )
        ids.extend(i for i in linked if i not in ids)
        return ids

    def account_idpels(self, username: str) -> list[str]:
        """The IDPELs a login may see: its own customer first, then the ones it added."""
        with reading_session(self.engine) as session:
            ids = self._customer_ids(session, self._account(session, username))
            rows = {c.id: c.idpel for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
            return [rows[i] for i in ids if i in rows]

    def account_meters(self, username: str) -> list[Inquiry]:
        """Every meter of every customer the login may see (replaced ones included)."""
        now = self.now()
        with reading_session(self.engine) as session:
            ids = self._customer_ids(session, self._account(session, username))
            out: list[Inquiry] = []
            for cid in ids:
                customer = session.get(Customer, cid)
                if customer is not None:
                    out.extend(self._inquiry_of(session, m, now) for m in sorted(customer.meters, key=lambda m: m.id))
            return out

    def link_customer(
        self, username: str, meter_number: str, *, token: str | None = None, idpel: str | None = None
    ) -> Inquiry:
        """Add the customer behind ``meter_number`` to the login, after it proves ownership."""
        digits = sts.meter_number.compact(meter_number)
        if not is_digits(digits) or len(digits) not in (11, 13):
            raise InvalidRequest("NOMOR METER TIDAK VALID", "enter the meter number (11 or 13 digits)")
        token_digits = "".join(ch for ch in (token or "") if not ch.isspace() and ch != "-")
        idpel_digits = (idpel or "").strip()
        if not token_digits and not idpel_digits:
            raise InvalidRequest("ISI TOKEN TERAKHIR ATAU IDPEL", "give a recent token or the IDPEL")
        now = self.now()
        with claiming_session(self.engine) as session:
            user = self._account(session, username)
            if user.role != Role.CUSTOMER.value:
                raise NotAuthorized(username, "add a meter to a customer account")
            try:
                meter = self._find_meter(session, digits)
            except VendingError:
                meter = None
            method = ""
            if meter is not None and token_digits and is_digits(token_digits) and len(token_digits) == 20:
                since = now - timedelta(days=LINK_TOKEN_DAYS)
                found = session.scalar(
                    select(Purchase.id).where(
                        Purchase.meter_number == meter.meter_number,
                        Purchase.token == token_digits,
                        Purchase.created_at >= since,
                    )
                )
                method = "token" if found is not None else ""
            if meter is not None and not method and idpel_digits and meter.customer.idpel == idpel_digits:
                method = "idpel"
            if meter is None or not method:
                self._audit(session, now, username, "account.link_refused", digits)
                session.commit()  # the refusal is recorded even though the use case fails
                raise OwnershipNotShown()
            if meter.customer_id in self._customer_ids(session, user):
                raise AlreadyLinked()
            session.add(
                AccountLinkRow(user_id=user.id, customer_id=meter.customer_id, verified_by=method, created_at=now)
            )
            self._audit(session, now, username, "account.meter_linked", meter.meter_number,
                        idpel=meter.customer.idpel, verified_by=method)  # fmt: skip
            return self._inquiry_of(session, meter, now)

    # --- history ----------------------------------------------------------------------------
    def purchase_history(
        self,
        username: str,
        *,
        search: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> HistoryPage:
        """The login's purchases, newest first: ``search`` matches a meter number, a reference or
        token digits (spaces ignored); ``since`` inclusive, ``until`` exclusive."""
        limit = max(1, min(limit, HISTORY_PAGE_MAX))
        offset = max(0, offset)
        with reading_session(self.engine) as session:
            user = self._account(session, username)
            ids = self._customer_ids(session, user)
            idpels = list(session.scalars(select(Customer.idpel).where(Customer.id.in_(ids))))
            where: list[ColumnElement[bool]] = [Purchase.idpel.in_(idpels)]
            needle = "".join(search.split())
            if needle:
                like = f"%{needle.replace('%', '').replace('_', '')}%"
                where.append(
                    or_(
                        Purchase.meter_number.like(like),
                        Purchase.reference_number.like(like),
                        Purchase.token.like(like),
                    )
                )
            if since is not None:
                where.append(Purchase.created_at >= since)
            if until is not None:
                where.append(Purchase.created_at < until)
            total = int(session.scalar(select(func.count()).select_from(Purchase).where(*where)) or 0)
            rows = session.scalars(
                select(Purchase).where(*where).order_by(Purchase.created_at.desc(), Purchase.id.desc())
                .offset(offset).limit(limit)
            ).all()  # fmt: skip
            return HistoryPage([_result_of(p, p.channel.code) for p in rows], total, offset, limit)

    # --- passwords --------------------------------------------------------------------------
    @staticmethod
    def _new_hash(password: str) -> str:
        try:
            return accounts.hash_password(password)
        except ValueError as exc:
            raise InvalidRequest(f"KATA SANDI MINIMAL {accounts.MIN_PASSWORD_LENGTH} KARAKTER", str(exc)) from exc

    def change_password(self, username: str, current: str, new: str) -> None:
        """A signed-in user's own change; the current password is required."""
        new_hash = self._new_hash(new)
        now = self.now()
        with claiming_session(self.engine) as session:
            user = self._account(session, username)
            if not accounts.verify_password(user.password_hash, current):
                raise AuthenticationFailed()
            user.password_hash = new_hash
            self._audit(session, now, username, "user.password_changed", None)

    def issue_password_reset(self, actor: str, username: str, reason: str) -> str:
        """A one-time reset code for ``username``; shown once to the operator, hash kept."""
        if not reason or not reason.strip():
            raise ReasonRequired()
        now = self.now()
        code = "".join(secrets.choice("0123456789") for _ in range(RESET_CODE_DIGITS))
        with claiming_session(self.engine) as session:
            acting = session.scalar(select(UserAccount).where(UserAccount.username == actor))
            if acting is None or not acting.active or acting.role not in (Role.OPERATOR.value, Role.ADMIN.value):
                raise NotAuthorized(actor, "issue a password reset code")
            target = session.scalar(select(UserAccount).where(UserAccount.username == username))
            if target is None:
                raise InvalidRequest("PENGGUNA TIDAK DIKENAL", f"no user named {username!r}")
            if target.role != Role.CUSTOMER.value:
                raise NotAuthorized(actor, "reset a staff account's password (admins use the CLI)")
            for old in session.scalars(
                select(PasswordResetRow).where(
                    PasswordResetRow.user_id == target.id, PasswordResetRow.used_at.is_(None)
                )
            ):
                old.used_at = now  # a new code voids the earlier ones
            session.add(
                PasswordResetRow(
                    user_id=target.id,
                    code_hash=accounts.hash_password(code),
                    issued_by=actor,
                    created_at=now,
                    expires_at=now + timedelta(minutes=RESET_VALID_MINUTES),
                    attempts=0,
                )
            )
            self._audit(session, now, actor, "user.password_reset_issued", None, username=username, reason=reason)
        return code

    def reset_password(self, username: str, code: str, new: str) -> None:
        """Set a new password with a reset code; the same error whatever was wrong."""
        new_hash = self._new_hash(new)
        now = self.now()
        with claiming_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == username))
            row = None
            if user is not None and user.active:
                row = session.scalar(
                    select(PasswordResetRow)
                    .where(PasswordResetRow.user_id == user.id, PasswordResetRow.used_at.is_(None))
                    .order_by(PasswordResetRow.id.desc())
                )
            if user is None or row is None or row.expires_at <= now or row.attempts >= RESET_MAX_ATTEMPTS:
                accounts.verify_dummy(code)
                raise AuthenticationFailed()
            if not accounts.verify_password(row.code_hash, code.strip()):
                row.attempts += 1
                if row.attempts >= RESET_MAX_ATTEMPTS:
                    row.used_at = now
                self._audit(session, now, username, "user.password_reset_refused", None)
                session.commit()
                raise AuthenticationFailed()
            row.used_at = now
            user.password_hash = new_hash
            self._audit(session, now, username, "user.password_reset", None, issued_by=row.issued_by)
