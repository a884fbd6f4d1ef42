"""Logins and channel credentials for the faces; customers' own meters."""

from __future__ import annotations

from sqlalchemy import select

from prabayar.vending import accounts
from prabayar.vending._core import (
    ServiceCore,
    _channel_info,
)
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotAuthorized,
    ReasonRequired,
    UnknownCustomer,
)
from prabayar.vending.models import (
    Channel,
    ChannelApiKey,
    Customer,
    Role,
    UserAccount,
)
from prabayar.vending.results import (
    ChannelInfo,
    Inquiry,
    Principal,
)


class AccessUseCases(ServiceCore):
    """Web users (argon2) and channel API keys (SHA-256), channel listing."""

    def create_user(self, username: str, password: str, role: Role | str, *, idpel: str | None = None) -> Principal:
        """A web login; a customer account is linked to its customer by IDPEL."""
        name = username.strip()
        if not name or len(name) > 64:
            raise InvalidRequest("NAMA PENGGUNA TIDAK VALID", "a username has 1 to 64 characters")
        try:
            role = Role(role)
            password_hash = accounts.hash_password(password)
        except ValueError as exc:
            raise InvalidRequest("DATA PENGGUNA TIDAK VALID", str(exc)) from exc
        now = self.now()
        with claiming_session(self.engine) as session:
            if session.scalar(select(UserAccount.id).where(UserAccount.username == name)):
                raise InvalidRequest("NAMA PENGGUNA SUDAH ADA", f"a user named {name!r} already exists")
            customer_id = None
            if idpel is not None:
                customer = session.scalar(select(Customer).where(Customer.idpel == idpel))
                if customer is None:
                    raise UnknownCustomer(idpel)
                customer_id = customer.id
            session.add(
                UserAccount(
                    username=name,
                    password_hash=password_hash,
                    role=role.value,
                    customer_id=customer_id,
                    active=True,
                    created_at=now,
                )
            )
            self._audit(session, now, "system", "user.create", None, username=name, role=role)
        return Principal(name, role.value, idpel)

    def authenticate_user(self, username: str, password: str) -> Principal:
        """Check a web login; the same error whether the user or the password is wrong."""
        with reading_session(self.engine) as session:
            user = session.scalar(select(UserAccount).where(UserAccount.username == username))
            if user is None or not user.active:
                accounts.verify_dummy(password)  # the same hashing time as for a real name
                raise AuthenticationFailed()
            if not accounts.verify_password(user.password_hash, password):
                raise AuthenticationFailed()
            idpel = user.customer.idpel if user.customer is not None else None
            return Principal(user.username, user.role, idpel)

    def issue_channel_key(self, channel: str, api_key: str | None = None) -> str:
        """A new API key for a channel; only its hash is kept, so this is the one showing."""
        key = api_key or accounts.new_api_key()
        if len(key) < 24:
            raise InvalidRequest("KUNCI API TERLALU PENDEK", "an API key has at least 24 chars")
        now = self.now()
        with claiming_session(self.engine) as session:
            ch = self._channel(session, channel)
            session.add(ChannelApiKey(channel_id=ch.id, key_hash=accounts.hash_api_key(key), created_at=now))
            self._audit(session, now, "system", "channel.key_issued", None, channel=channel)
        return key

    def authenticate_channel(self, api_key: str) -> ChannelInfo:
        """The channel an API key belongs to."""
        digest = accounts.hash_api_key(api_key)
        with reading_session(self.engine) as session:
            row = session.scalar(
                select(ChannelApiKey).where(ChannelApiKey.key_hash == digest, ChannelApiKey.revoked_at.is_(None))
            )
            if row is None or not row.channel.active:
                raise AuthenticationFailed()
            return _channel_info(row.channel)

    def channels(self) -> list[ChannelInfo]:
        with reading_session(self.engine) as session:
            rows = session.scalars(select(Channel).where(Channel.active).order_by(Channel.code))
            return [_channel_info(c) for c in rows]

    def customer_meters(self, idpel: str) -> list[Inquiry]:
        """A customer's meters (replaced ones included), for the customer's own pages."""
        now = self.now()
        with reading_session(self.engine) as session:
            customer = session.scalar(select(Customer).where(Customer.idpel == idpel))
            if customer is None:
                raise UnknownCustomer(idpel)
            return [self._inquiry_of(session, m, now) for m in sorted(customer.meters, key=lambda m: m.id)]

    def record_access_revocation(self, actor: str, username: str, reason: str) -> str:
        """Check and audit that ``actor`` ends every session and token of ``username``.

        The actor must be an active operator or admin (read from the database, not trusted from
        the face); only an admin may end an admin's access; a reason is required. Returns the
        target's role. The faces then revoke in their shared session store
        (``prabayar.web.state``).
        """
        if not reason or not reason.strip():
            raise ReasonRequired()
        now = self.now()
        with claiming_session(self.engine) as session:
            acting = session.scalar(select(UserAccount).where(UserAccount.username == actor))
            if acting is None or not acting.active or acting.role not in (Role.OPERATOR.value, Role.ADMIN.value):
                raise NotAuthorized(actor, "end another user's sessions")
            target = session.scalar(select(UserAccount).where(UserAccount.username == username))
            if target is None:
                raise InvalidRequest("PENGGUNA TIDAK DIKENAL", f"there is no user named {username!r}")
            if target.role == Role.ADMIN.value and acting.role != Role.ADMIN.value:
                raise NotAuthorized(actor, "end an admin's sessions")
            self._audit(
                session, now, actor, "user.access_revoked", None, username=target.username, reason=reason.strip()
            )
            return str(target.role)
