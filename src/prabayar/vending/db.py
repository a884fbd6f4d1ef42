"""Engines and migrations: embedded SQLite by default, PostgreSQL (psycopg 3) in production.

SQLite is opened in WAL mode with a busy timeout; the pysqlite driver's own transaction
handling is switched off so that a use case that claims a row can start with ``BEGIN
IMMEDIATE`` (taking the write lock up front instead of failing on upgrade later). PostgreSQL
claims rows with ``SELECT … FOR UPDATE`` instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

#: Execution option that makes a SQLite transaction begin IMMEDIATE.
CLAIM = "prabayar_claim"
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: where a PostgreSQL engine keeps the libpq ``options`` it connects with (search_path, lock_timeout)
LIBPQ_OPTIONS = "prabayar_libpq_options"


class WriterBusy(Exception):
    """Another writer held the database for longer than the busy timeout."""


def create_engine_for(
    url: str, *, schema: str | None = None, lock_timeout_ms: int | None = None, **kwargs: Any
) -> Engine:
    """An engine configured for vending.

    PostgreSQL only: ``schema`` sets the ``search_path``; ``lock_timeout_ms`` bounds how long
    a sale waits for its meter row (then it answers 0099 "in process" instead of hanging).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {})
        kwargs["connect_args"].setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        kwargs["connect_args"].setdefault("check_same_thread", False)
        # Waiting writers each hold a connection; never let the pool itself become the lock.
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", -1)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, in_memory=parsed.database in (None, "", ":memory:"))
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":  # plain URL: use psycopg 3, the installed driver
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        options = []
        if schema:
            options.append(f"-csearch_path={schema}")
        if lock_timeout_ms is not None:
            options.append(f"-clock_timeout={int(lock_timeout_ms)}")
        if options:
            kwargs.setdefault("connect_args", {})
            kwargs["connect_args"]["options"] = " ".join(options)
        # ``open_service`` sizes the pool to the process (``Settings.db_pool_size``, as many
        # again in overflow); threads beyond it wait rather than open more (N workers x 2 x
        # pool must fit max_connections). No ping
        # per checkout (a round trip on every sale): a connection the server dropped fails once,
        # is invalidated, and the pool replaces it; recycled after 30 minutes anyway.
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 32)
        kwargs.setdefault("pool_pre_ping", False)
        kwargs.setdefault("pool_recycle", 1800)
        engine = create_engine(url, **kwargs)
        # the asyncio purchase path (fastpath_async) opens its own connections: same options
        engine.__dict__[LIBPQ_OPTIONS] = kwargs.get("connect_args", {}).get("options", "")
        return engine
    backend = parsed.get_backend_name()
    raise ValueError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        claim = connection.get_execution_options().get(CLAIM, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if claim else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


_WRITERS: WeakKeyDictionary[Engine, threading.RLock] = WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()


def _sqlite_writer_lock(engine: Engine) -> threading.RLock:
    with _WRITERS_GUARD:
        lock = _WRITERS.get(engine)
        if lock is None:
            lock = _WRITERS[engine] = threading.RLock()
        return lock


@contextmanager
def claiming_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction may claim rows (SQLite: BEGIN IMMEDIATE); commits on success.

    On SQLite the threads of one process also queue on a lock first: SQLite's own busy handler
    sleeps and retries, which starves unlucky writers; a queue keeps waiting times fair.
    """
    lock = _sqlite_writer_lock(engine) if is_sqlite(engine) else None
    if lock is not None and not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise WriterBusy("no write slot on the SQLite database within the busy timeout")
    try:
        with Session(engine, expire_on_commit=False) as session:
            session.connection(execution_options={CLAIM: True})
            yield session
            session.commit()
    finally:
        if lock is not None:
            lock.release()


@contextmanager
def reading_session(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work (rolled back at the end)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def alembic_config(url: str | None = None, *, engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    cfg = Config()
    location = resources.files("prabayar.vending") / "migrations"
    cfg.set_main_option("script_location", str(location))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(url: str | None = None, *, engine: Engine | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` (or behind ``engine``) up to ``revision``."""
    if engine is None:
        if url is None:
            raise ValueError("give a database URL or an engine")
        engine = create_engine_for(url)
        try:
            command.upgrade(alembic_config(engine=engine), revision)
        finally:
            engine.dispose()
        return
    command.upgrade(alembic_config(engine=engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate down (used by the migration tests)."""
    command.downgrade(alembic_config(engine=engine), revision)
