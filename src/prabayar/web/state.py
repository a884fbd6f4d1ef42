"""Server-side browser sessions and bearer-token revocation, shared by every server process.

Two back ends with one interface (:class:`SharedState`):

- :class:`DatabaseState` (default): tables ``web_sessions`` and ``web_revocations`` (migration
  ``w001_web_sessions``) in the vending database, so N processes or hosts on one database agree.
- :class:`RedisState` (when ``PRABAYAR_REDIS_URL`` is set): keys under ``<prefix>:`` with Redis
  expiry doing the clean-up.

A session is found by an opaque random id (the cookie's only content); the store keys it by the
id's SHA-256, so reading the store does not give anyone a usable cookie. Session data is JSON.

Revocation: a bearer token carries an id (``jti``) and its issue time; ``revoke_token`` marks one
id revoked until the token would have expired anyway, ``revoke_user`` marks every token of a user
issued before now revoked and deletes the user's browser sessions.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=True),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Float(), nullable=False),
    sa.Column("expires_at", sa.Float(), nullable=False),
)
web_revocations = sa.Table(
    "web_revocations",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),
    sa.Column("revoked_at", sa.Float(), nullable=False),
    sa.Column("expires_at", sa.Float(), nullable=False),
)


def session_key(session_id: str) -> str:
    """What the store keeps instead of the cookie value."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SharedState(Protocol):
    """Sessions and revocations; every method is safe to call from many processes."""

    def load_session(self, session_id: str) -> tuple[dict[str, Any], float] | None:
        """(data, expires_at) of a live session, else None."""

    def save_session(self, session_id: str, data: dict[str, Any], username: str | None, ttl: int) -> None:
        """Create or replace a session, alive for ``ttl`` seconds from now."""

    def delete_session(self, session_id: str) -> None: ...

    def revoke_token(self, jti: str, until: float) -> None:
        """Refuse the token with this id until ``until`` (epoch seconds, its own expiry)."""

    def revoke_user(self, username: str, token_lifetime: int) -> int:
        """End every session of ``username`` and refuse tokens issued before now; sessions ended."""

    def token_revoked(self, jti: str, username: str, issued_at: float) -> bool:
        """Whether this token was revoked by id or by its user after ``issued_at``."""


def _user_key(username: str) -> str:
    return f"user:{username.lower()}"


class DatabaseState:
    """:class:`SharedState` in the vending database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, clock: Any = time.time) -> None:
        self.engine = engine
        self._clock = clock
        self._last_purge = 0.0

    def load_session(self, session_id: str) -> tuple[dict[str, Any], float] | None:
        now = self._clock()
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(web_sessions.c.data, web_sessions.c.expires_at).where(
                    web_sessions.c.id_hash == session_key(session_id), web_sessions.c.expires_at > now
                )
            ).first()
        if row is None:
            return None
        data = json.loads(row.data)
        return (data if isinstance(data, dict) else {}), float(row.expires_at)

    def save_session(self, session_id: str, data: dict[str, Any], username: str | None, ttl: int) -> None:
        now = self._clock()
        key = session_key(session_id)
        values = {"username": username, "data": json.dumps(data), "expires_at": now + ttl}
        with self.engine.begin() as conn:
            updated = conn.execute(sa.update(web_sessions).where(web_sessions.c.id_hash == key).values(**values))
            if not updated.rowcount:
                conn.execute(sa.insert(web_sessions).values(id_hash=key, created_at=now, **values))
        self._purge(now)

    def delete_session(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(web_sessions).where(web_sessions.c.id_hash == session_key(session_id)))

    def _put_revocation(self, key: str, revoked_at: float, until: float) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(web_revocations)
                .where(web_revocations.c.key == key)
                .values(revoked_at=revoked_at, expires_at=until)
            )
            if not updated.rowcount:
                conn.execute(sa.insert(web_revocations).values(key=key, revoked_at=revoked_at, expires_at=until))

    def revoke_token(self, jti: str, until: float) -> None:
        self._put_revocation(f"jti:{jti}", self._clock(), until)

    def revoke_user(self, username: str, token_lifetime: int) -> int:
        now = self._clock()
        self._put_revocation(_user_key(username), now, now + token_lifetime)
        with self.engine.begin() as conn:
            ended = conn.execute(
                sa.delete(web_sessions).where(sa.func.lower(web_sessions.c.username) == username.lower())
            )
        return int(ended.rowcount or 0)

    def token_revoked(self, jti: str, username: str, issued_at: float) -> bool:
        now = self._clock()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(web_revocations.c.key, web_revocations.c.revoked_at).where(
                    web_revocations.c.key.in_([f"jti:{jti}", _user_key(username)]),
                    web_revocations.c.expires_at > now,
                )
            ).all()
        return any(key.startswith("jti:") or issued_at <= float(revoked_at) for key, revoked_at in rows)

    def _purge(self, now: float) -> None:
        """Drop expired rows now and then (at most once a minute per process)."""
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        with self.engine.begin() as conn:
            conn.execute(sa.delete(web_sessions).where(web_sessions.c.expires_at <= now))
            conn.execute(sa.delete(web_revocations).where(web_revocations.c.expires_at <= now))


class RedisState:
    """:class:`SharedState` in Redis; keys expire by themselves."""

    def __init__(self, url: str, prefix: str = "prabayar") -> None:
        import redis

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def load_session(self, session_id: str) -> tuple[dict[str, Any], float] | None:
        key = self._k("sess", session_key(session_id))
        pipe = self.redis.pipeline()
        pipe.get(key)
        pipe.pttl(key)
        raw, pttl = pipe.execute()
        if raw is None or pttl is None or pttl <= 0:
            return None
        data = json.loads(raw)
        payload = data.get("d") if isinstance(data, dict) else None
        return (payload if isinstance(payload, dict) else {}), time.time() + pttl / 1000

    def save_session(self, session_id: str, data: dict[str, Any], username: str | None, ttl: int) -> None:
        hashed = session_key(session_id)
        pipe = self.redis.pipeline()
        pipe.set(self._k("sess", hashed), json.dumps({"u": username, "d": data}), ex=ttl)
        if username:
            users = self._k("user-sess", username.lower())
            pipe.sadd(users, hashed)
            pipe.expire(users, ttl)  # every session has the same lifetime: the newest is the longest
        pipe.execute()

    def delete_session(self, session_id: str) -> None:
        self.redis.delete(self._k("sess", session_key(session_id)))

    def revoke_token(self, jti: str, until: float) -> None:
        ttl = max(1, int(until - time.time()) + 1)
        self.redis.set(self._k("revoked", "jti", jti), repr(time.time()), ex=ttl)

    def revoke_user(self, username: str, token_lifetime: int) -> int:
        users = self._k("user-sess", username.lower())
        self.redis.set(self._k("revoked", "user", username.lower()), repr(time.time()), ex=token_lifetime + 1)
        hashes = [h.decode() if isinstance(h, bytes) else str(h) for h in self.redis.smembers(users)]
        ended = 0
        if hashes:
            ended = int(self.redis.delete(*[self._k("sess", h) for h in hashes]))
        self.redis.delete(users)
        return ended

    def token_revoked(self, jti: str, username: str, issued_at: float) -> bool:
        by_id, by_user = self.redis.mget([self._k("revoked", "jti", jti), self._k("revoked", "user", username.lower())])
        if by_id is not None:
            return True
        return by_user is not None and issued_at <= float(by_user)


def open_state(redis_url: str | None, engine: Engine | None, *, prefix: str = "prabayar") -> SharedState:
    """Redis when ``redis_url`` is set, else the database behind ``engine``."""
    if redis_url:
        return RedisState(redis_url, prefix)
    if engine is None:
        raise ValueError("sessions need PRABAYAR_REDIS_URL or a database")
    return DatabaseState(engine)
