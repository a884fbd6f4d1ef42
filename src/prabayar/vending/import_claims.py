"""The bulk import's "first row wins" across batches: every row claims its keys, in file order.

A row whose IDPEL or meter number an earlier row of the same file claimed is rejected, wherever
that row was (the batch writers see only their batch). The claims live in a temporary table
``imp_seen`` on a connection of their own, not in Python, so the importer's memory does not grow
with the file; they are taken one batch at a time in the reading thread, so the order holds
even while two batch writers merge earlier batches at once
(:func:`prabayar.vending.import_writer.run_batches`).

A row keeps its claim whatever becomes of it afterwards (rejected by the comparison with what
is stored, or by a race): a later row with the same key is a duplicate of the file either way.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from prabayar.vending.bulk_import import RowError, ValidRow


def drop_temp_tables(conn: Connection, postgres: bool, tables: tuple[str, ...]) -> None:
    """Drop this connection's temporary tables (qualified: never a real table of that name)."""
    temp = "pg_temp" if postgres else "temp"
    for table in tables:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {temp}.{table}")


def close_dropping(conn: Connection | None, postgres: bool, tables: tuple[str, ...]) -> None:
    """End an import connection: roll back what is open, drop its temporary tables, close it."""
    if conn is None:
        return
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            drop_temp_tables(conn, postgres, tables)
    finally:
        conn.close()

_TEMP_BUFFERS = "256MB"


def _key(column: str, table: str) -> str:
    """SQL for a row's IDPEL or meter number as a BIGINT (the keys of ``imp_seen``).

    An IDPEL has 12 digits; a meter number 11 or 13, so a 13-digit one is moved above every
    11-digit one (a leading zero must not make two numbers equal). This table holds every row
    of the file: with BIGINT keys it and its two unique indexes take 93 MB per million rows,
    with VARCHAR ones 125 MB.
    """
    if column == "idpel":
        return f"CAST({table}.idpel AS BIGINT)"
    return (
        f"(CAST({table}.meter_number AS BIGINT) + "
        f"CASE WHEN LENGTH({table}.meter_number) = 13 THEN 10000000000000 ELSE 0 END)"
    )


class KeyClaims:
    """Claims the keys of each batch in file order; use as a context manager."""

    #: its temporary tables, dropped when the import ends
    TABLES = ("imp_keys", "imp_seen")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._conn: Connection | None = None

    def __enter__(self) -> KeyClaims:
        conn = self._conn = self.engine.connect()
        temp = "TEMPORARY" if self.postgres else "TEMP"
        if self.postgres:
            local_buffers(conn)
        with conn.begin():
            self._drop(conn)
            tail = " ON COMMIT DELETE ROWS" if self.postgres else ""
            conn.exec_driver_sql(
                f"CREATE {temp} TABLE imp_keys (line BIGINT NOT NULL, idpel VARCHAR(12) NOT NULL, "
                f"meter_number VARCHAR(13) NOT NULL){tail}"
            )
            conn.exec_driver_sql(
                f"CREATE {temp} TABLE imp_seen (line BIGINT NOT NULL, "
                "idpel BIGINT NOT NULL UNIQUE, meter_number BIGINT NOT NULL UNIQUE)"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        close_dropping(conn, self.postgres, self.TABLES)

    def _drop(self, conn: Connection) -> None:
        drop_temp_tables(conn, self.postgres, self.TABLES)

    def claim(self, rows: list[ValidRow]) -> tuple[list[ValidRow], list[RowError]]:
        """The rows whose keys no earlier row claimed, and a rejection for each other one.

        The rows must already be unique within the batch (:func:`import_writer.batches`).
        """
        conn = self._conn
        if conn is None:
            raise RuntimeError("use KeyClaims as a context manager")
        if not rows:
            return rows, []
        with conn.begin():
            if not self.postgres:
                conn.exec_driver_sql("DELETE FROM imp_keys")
            keys = [(r[0], r[1], r[8]) for r in rows]
            if self.postgres:
                raw = conn.connection.driver_connection
                assert raw is not None
                with raw.cursor() as cur, cur.copy("COPY imp_keys (line, idpel, meter_number) FROM STDIN") as copy:
                    for key in keys:
                        copy.write_row(key)
            else:
                conn.exec_driver_sql("INSERT INTO imp_keys (line, idpel, meter_number) VALUES (?, ?, ?)", keys)
            claimed = conn.exec_driver_sql(
                "INSERT INTO imp_seen (line, idpel, meter_number) SELECT line, "
                f"{_key('idpel', 'imp_keys')}, {_key('meter_number', 'imp_keys')} "
                "FROM imp_keys WHERE 1 = 1 ON CONFLICT DO NOTHING"
            ).rowcount
            if claimed == len(rows):
                return rows, []

            # Rows of this batch that were inserted claimed their own keys (s.line == k.line).
            def earlier(column: str) -> str:
                return f"FROM imp_keys k JOIN imp_seen s ON s.{column} = {_key(column, 'k')} AND s.line < k.line"

            duplicates = conn.exec_driver_sql(
                f"SELECT k.line, s.line, 'idpel' {earlier('idpel')} UNION ALL "
                f"SELECT k.line, s.line, 'meter_number' {earlier('meter_number')} ORDER BY 1, 2"
            ).all()
        first_seen: dict[int, RowError] = {}
        for line, first, column in duplicates:
            what = "IDPEL" if column == "idpel" else "meter number"
            first_seen.setdefault(
                line, RowError(line, column, f"the same {what} is on line {first}; the first row wins")
            )
        return [r for r in rows if r[0] not in first_seen], list(first_seen.values())


def local_buffers(conn: Connection) -> None:
    """Give this PostgreSQL session's temporary tables room in memory (the default is 8 MB).

    ``imp_seen`` holds a key pair per row of the file (93 MB for a million rows); in 8 MB of
    local buffers every batch's probes go to the operating system. The setting can only change
    before the session first touches a temporary table: a pooled connection that already did
    keeps what it has.
    """
    try:
        with conn.begin():
            conn.exec_driver_sql(f"SET temp_buffers = '{_TEMP_BUFFERS}'")
    except DBAPIError:
        pass
