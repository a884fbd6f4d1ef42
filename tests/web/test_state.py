"""The shared session and revocation store, the same behaviour on SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from prabayar.vending import upgrade
from prabayar.vending.db import create_engine_for
from prabayar.web.state import DatabaseState, RedisState, SharedState, session_key

from .conftest import split_redis

POSTGRES_URL = os.environ.get("PRABAYAR_TEST_POSTGRES_URL")


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedState]:
    if request.param == "sqlite":
        engine = create_engine_for(f"sqlite:///{tmp_path / 'state.sqlite3'}")
        upgrade(engine=engine)
        yield DatabaseState(engine)
        engine.dispose()
    elif request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL tests need PRABAYAR_TEST_POSTGRES_URL")
        schema = f"web_state_{secrets.token_hex(6)}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine_for(POSTGRES_URL, schema=schema)
        try:
            upgrade(engine=engine)
            yield DatabaseState(engine)
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    else:
        redis_value = request.getfixturevalue("redis_url")
        url, prefix = split_redis(redis_value)
        yield RedisState(url, prefix)


def test_sessions_round_trip_and_end(store: SharedState) -> None:
    sid = secrets.token_urlsafe(32)
    assert store.load_session(sid) is None
    store.save_session(sid, {"user": {"u": "budi"}, "flash": {"id": "token 1234"}}, "budi", 60)
    loaded = store.load_session(sid)
    assert loaded is not None
    data, expires = loaded
    assert data["flash"] == {"id": "token 1234"}
    assert time.time() + 50 < expires <= time.time() + 61
    store.save_session(sid, {"user": {"u": "budi"}}, "budi", 60)  # replaced, not added
    assert store.load_session(sid) == ({"user": {"u": "budi"}}, pytest.approx(expires, abs=2))
    store.delete_session(sid)
    assert store.load_session(sid) is None


def test_revoking_a_user_ends_only_their_sessions_and_older_tokens(store: SharedState) -> None:
    budi = [secrets.token_urlsafe(32) for _ in range(2)]
    siti = secrets.token_urlsafe(32)
    for sid in budi:
        store.save_session(sid, {"user": {"u": "budi"}}, "budi", 60)
    store.save_session(siti, {"user": {"u": "siti"}}, "siti", 60)
    before = time.time() - 1
    assert not store.token_revoked("j1", "budi", before)
    assert store.revoke_user("budi", 3600) == 2
    assert all(store.load_session(sid) is None for sid in budi)
    assert store.load_session(siti) is not None
    assert store.token_revoked("j1", "budi", before)  # issued before the revocation
    assert store.token_revoked("j1", "BUDI", before)  # user names compare case-insensitively
    assert not store.token_revoked("j2", "budi", time.time() + 1)  # a later log-in is fine
    assert not store.token_revoked("j1", "siti", before)


def test_revoking_one_token(store: SharedState) -> None:
    store.revoke_token("abc", time.time() + 60)
    assert store.token_revoked("abc", "budi", time.time())
    assert not store.token_revoked("abd", "budi", time.time())


def test_the_database_keeps_a_hash_of_the_id_and_purges_expired_rows(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    upgrade(engine=engine)
    clock = Clock()
    state = DatabaseState(engine, clock=clock)
    sid = secrets.token_urlsafe(32)
    state.save_session(sid, {"csrf": "x"}, None, 60)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT id_hash FROM web_sessions")).scalars().all()
    assert stored == [session_key(sid)] and sid not in stored
    state.revoke_token("old", clock.now + 10)
    clock.now += 120  # both expired; the next write purges them
    assert state.load_session(sid) is None
    state.save_session(secrets.token_urlsafe(32), {"csrf": "y"}, None, 60)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM web_sessions")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM web_revocations")).scalar() == 0
    engine.dispose()
