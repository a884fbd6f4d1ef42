"""Key-change campaign generation: plan the selection into chunks, make one chunk's KCT sets.

One chunk is one database transaction, on PostgreSQL and on SQLite alike:

1. the chunk row is claimed (PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``: a chunk another
   worker holds is skipped; SQLite: ``BEGIN IMMEDIATE``) and skipped when already ``done``;
2. the chunk's meters (a range of ``meters.id`` plus the campaign's filters) are read with
   their current key parameters, grouped by key, and their KCT sets made by the batch engine
   (``prabayar.sts.batch``: derivation of the current and the new decoder key and the KCT
   encoding in C);
3. one row per meter goes into ``campaign_meters`` (PostgreSQL: ``COPY`` of lines the batch
   engine writes as bytes, one call per key group, no Python object per meter; SQLite:
   ``executemany``), whose unique key (meter, campaign) refuses a second row for a meter;
4. the chunk is marked ``done`` with its counts, and the transaction commits.

A worker killed in the middle (``kill -9``) leaves an open transaction that the server rolls
back: the chunk stays ``pending`` with no row of it written, and the next run does it whole.
So no meter is done twice and none is missed, whatever stops when.

Key bytes stay in memory: the tokens are stored, never a decoder or vending key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from prabayar import sts
from prabayar.sts import BaseDate, DecoderKey, Dkga, EncryptionAlgorithm, KeyParameters, KeyType, VendingKey, batch
from prabayar.vending import db as _db
from prabayar.vending.db import _sqlite_writer_lock, is_sqlite
from prabayar.vending.errors import InProcess, InvalidRequest
from prabayar.vending.keystore import KeyStore

#: Meters per chunk (one transaction of one worker).
CHUNK_SIZE = 20_000
#: Meters a campaign takes: not replaced and not broken (a removed meter may come back).
SELECTABLE_STATUSES = ("active", "blocked", "removed")

_FROM = " FROM meters m JOIN customers c ON c.id = m.customer_id JOIN units u ON u.id = c.unit_id"


@dataclass(frozen=True)
class Selection:
    """Which meters a campaign takes; every criterion given must hold (AND)."""

    sgc: str | None = None
    krn: int | None = None
    base_date: str | None = None
    algorithm: str | None = None
    unit: str | None = None
    meters: tuple[str, ...] = ()

    def as_json(self) -> str:
        return json.dumps(
            {"sgc": self.sgc, "krn": self.krn, "base_date": self.base_date, "algorithm": self.algorithm,
             "unit": self.unit, "meters": list(self.meters)},
            sort_keys=True,
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Selection:
        d = json.loads(text)
        return cls(d.get("sgc"), d.get("krn"), d.get("base_date"), d.get("algorithm"), d.get("unit"),
                   tuple(d.get("meters") or ()))  # fmt: skip

    def validated(self) -> Selection:
        """The same selection with normalised fields; ``InvalidRequest`` for a bad one."""
        if not any((self.sgc, self.krn is not None, self.base_date, self.algorithm, self.unit, self.meters)):
            raise InvalidRequest(
                "PILIH METER: SGC, KRN, TANGGAL DASAR, ALGORITMA, UNIT ATAU DAFTAR METER",
                "select meters by SGC, KRN, base date, algorithm, unit or a list of meter numbers",
            )
        try:
            sgc = sts.supply_group.validate(self.sgc) if self.sgc else None
            meters = tuple(dict.fromkeys(sts.meter_number.validate(m) for m in self.meters))
        except sts.StsError as exc:
            raise InvalidRequest("PILIHAN METER TIDAK VALID", f"invalid selection: {exc}") from exc
        if self.krn is not None and (isinstance(self.krn, bool) or not 1 <= int(self.krn) <= 9):
            raise InvalidRequest("KRN TIDAK VALID", "a key revision number is 1..9")
        base = _base_date(self.base_date) if self.base_date else None
        algorithm = _algorithm(self.algorithm) if self.algorithm else None
        return Selection(sgc, self.krn, base.value if base else None, algorithm.value if algorithm else None,
                         self.unit.strip() if self.unit else None, meters)  # fmt: skip

    def where(self) -> tuple[str, dict[str, Any]]:
        """SQL condition on ``m`` (meters), ``u`` (units) and its parameters (``%(name)s``)."""
        parts = ["m.status IN ('active', 'blocked', 'removed')"]
        params: dict[str, Any] = {}
        for name, column in (("sgc", "m.sgc"), ("krn", "m.krn"), ("base_date", "m.base_date"),
                             ("algorithm", "m.algorithm"), ("unit", "u.code")):  # fmt: skip
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{column} = %(sel_{name})s")
                params[f"sel_{name}"] = value
        if self.meters:
            names = [f"sel_m{i}" for i in range(len(self.meters))]
            parts.append("m.meter_number IN (" + ", ".join(f"%({n})s" for n in names) + ")")
            params.update(zip(names, self.meters, strict=True))
        return " AND ".join(parts), params


@dataclass(frozen=True)
class Target:
    """The key a campaign moves its meters to; what is not named stays as it is."""

    krn: int | None = None
    #: "14" or "35": a later base date (the TID rollover); ``rollover`` takes the next one.
    base_date: str | None = None
    rollover: bool = False
    algorithm: str | None = None
    #: Must match the vending key of (SGC, new KRN) when named ("02" or "04").
    dkga: str | None = None

    def as_json(self) -> str:
        return json.dumps(
            {"krn": self.krn, "base_date": self.base_date, "rollover": self.rollover,
             "algorithm": self.algorithm, "dkga": self.dkga},
            sort_keys=True,
        )  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Target:
        d = json.loads(text)
        return cls(d.get("krn"), d.get("base_date"), bool(d.get("rollover")), d.get("algorithm"), d.get("dkga"))

    def validated(self) -> Target:
        if self.krn is None and not self.base_date and not self.rollover and not self.algorithm:
            raise InvalidRequest(
                "TUJUAN KUNCI KOSONG: KRN BARU, TANGGAL DASAR ATAU ALGORITMA",
                "name the target key: a new KRN, a base date (or rollover) or an algorithm",
            )
        if self.krn is not None and (isinstance(self.krn, bool) or not isinstance(self.krn, int)
                                     or not 1 <= self.krn <= 9):  # fmt: skip
            raise InvalidRequest("KRN TIDAK VALID", "a key revision number is 1..9")
        base = _base_date(self.base_date).value if self.base_date else None
        algorithm = _algorithm(self.algorithm).value if self.algorithm else None
        dkga = None
        if self.dkga:
            try:
                dkga = Dkga(self.dkga.strip().zfill(2)).value
            except ValueError as exc:
                raise InvalidRequest("DKGA TIDAK VALID", "DKGA is 02 or 04") from exc
        return Target(self.krn, base, bool(self.rollover), algorithm, dkga)

    def params_for(self, current: KeyParameters, dkga_of: Callable[[str, int], Dkga]) -> KeyParameters:
        """The new key parameters of a meter whose key is ``current``."""
        krn = self.krn if self.krn is not None else current.krn
        base = current.base_date
        if self.base_date:
            base = BaseDate(self.base_date)
        elif self.rollover:
            successor = current.base_date.successor
            if successor is None:
                raise InvalidRequest("TIDAK ADA TANGGAL DASAR BERIKUTNYA", "no later STS base date exists")
            base = successor
        if base.start < current.base_date.start:
            raise InvalidRequest("TANGGAL DASAR MUNDUR", "a key change never moves to an earlier base date")
        dkga = dkga_of(current.sgc, krn)
        if self.dkga and dkga.value != self.dkga:
            raise InvalidRequest(
                "DKGA TIDAK SESUAI KUNCI VENDING",
                f"the vending key of SGC {current.sgc} KRN {krn} is DKGA{dkga.value}, not DKGA{self.dkga}",
            )
        try:
            return KeyParameters(
                key_type=current.key_type, sgc=current.sgc, tariff_index=current.tariff_index, krn=krn,
                ken=current.ken,
                algorithm=EncryptionAlgorithm(self.algorithm) if self.algorithm else current.algorithm,
                base_date=base, dkga=dkga,
            )  # fmt: skip
        except sts.StsError as exc:
            raise InvalidRequest("KUNCI TUJUAN TIDAK VALID", f"invalid target key: {exc}") from exc


def _base_date(text: str) -> BaseDate:
    value = text.strip()[-2:]
    try:
        return BaseDate(value)
    except ValueError as exc:
        raise InvalidRequest("TANGGAL DASAR TIDAK VALID", "a base date is 1993, 2014 or 2035") from exc


def _algorithm(text: str) -> EncryptionAlgorithm:
    names = {"STA": "07", "DEA": "09", "MISTY1": "11"}
    value = names.get(text.strip().upper(), text.strip().zfill(2))
    try:
        return EncryptionAlgorithm(value)
    except ValueError as exc:
        raise InvalidRequest("ALGORITMA TIDAK VALID", "the algorithm is STA (07), DEA (09) or MISTY1 (11)") from exc


def key_label(p: KeyParameters) -> str:
    """A meter key's public parameters in one short string (no key bytes)."""
    return f"{p.krn}/{p.base_date.value}/{p.algorithm.value}/{p.dkga.value}/{p.tariff_index}/{int(p.key_type)}"


def params_of_label(sgc: str, ken: int, label: str) -> KeyParameters:
    krn, base, alg, dkga, ti, kt = label.split("/")
    return KeyParameters(
        key_type=KeyType(int(kt)), sgc=sgc, tariff_index=ti, krn=int(krn), ken=ken,
        algorithm=EncryptionAlgorithm(alg), base_date=BaseDate(base), dkga=Dkga(dkga),
    )  # fmt: skip


def meter_params(row: Sequence[Any]) -> KeyParameters:
    """(key_type, sgc, tariff_index, krn, ken, algorithm, base_date, dkga) -> KeyParameters."""
    kt, sgc, ti, krn, ken, alg, base, dkga = row
    return KeyParameters(
        key_type=KeyType(int(kt)), sgc=sgc, tariff_index=ti, krn=int(krn), ken=int(ken),
        algorithm=EncryptionAlgorithm(alg), base_date=BaseDate(base), dkga=Dkga(dkga),
    )  # fmt: skip


def _qmark(sql: str) -> str:
    return re.sub(r"%\((\w+)\)s", r":\1", sql)


class _Raw:
    """One DB-API connection in one transaction, ``%(name)s`` parameters on both databases."""

    raw: Any
    dbapi: Any
    cur: Any

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self._lock = _sqlite_writer_lock(engine) if self.sqlite else None

    def __enter__(self) -> _Raw:
        if self._lock is not None and not self._lock.acquire(timeout=_db.SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise InProcess("no write slot on the SQLite database within the busy timeout")
        raw: Any = self.engine.raw_connection()
        dbapi: Any = raw.driver_connection
        self.raw, self.dbapi, self.cur = raw, dbapi, dbapi.cursor()
        if self.sqlite:
            self.cur.execute("BEGIN IMMEDIATE")
        return self

    def run(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.cur.execute(_qmark(sql) if self.sqlite else sql, params or {})

    def many(self, sql: str, rows: Iterable[dict[str, Any]]) -> None:
        self.cur.executemany(_qmark(sql) if self.sqlite else sql, list(rows))

    def time(self, when: datetime) -> Any:
        return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else when

    def commit(self) -> None:
        self.dbapi.commit()
        self._committed = True

    def __exit__(self, *exc: object) -> None:
        try:
            if not getattr(self, "_committed", False):
                try:
                    self.raw.rollback()
                except Exception:
                    self.raw.invalidate()
            self.raw.close()
        finally:
            if self._lock is not None:
                self._lock.release()


@dataclass
class ChunkOutcome:
    """What one call of ``generate_chunk`` did."""

    chunk_no: int
    #: done (now), already (done before), busy (another worker holds it), missing
    state: str
    generated: int = 0
    skipped: int = 0
    groups: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def plan(engine: Engine, campaign_id: int, selection: Selection, chunk_size: int, now: datetime) -> int:
    """Cut the selection into chunks of ``chunk_size`` meter ids and count it per unit (once:
    a campaign already planned keeps its plan). Returns the number of meters selected."""
    where, params = selection.where()
    params = {**params, "cid": campaign_id, "size": chunk_size}
    with _Raw(engine) as db:
        lock = "" if db.sqlite else " FOR UPDATE"
        db.run(f"SELECT planned_at, selected FROM campaigns WHERE id = %(cid)s{lock}", params)
        row = db.cur.fetchone()
        if row is None or row[0] is not None:
            return int(row[1]) if row else 0
        # one scan gives both the chunks and the count per unit: (chunk, unit) -> ids, count
        db.run(
            "SELECT (rn - 1) / %(size)s, code, min(id), max(id), count(*) FROM ("
            f" SELECT m.id AS id, u.code AS code, row_number() OVER (ORDER BY m.id) AS rn{_FROM} WHERE {where}) s"
            " GROUP BY 1, 2",
            params,
        )
        chunks: dict[int, tuple[int, int, int]] = {}
        units: dict[str, int] = {}
        for no, code, first, last, count in db.cur.fetchall():
            lo, hi, n = chunks.get(int(no), (int(first), int(last), 0))
            chunks[int(no)] = (min(lo, int(first)), max(hi, int(last)), n + int(count))
            units[code] = units.get(code, 0) + int(count)
        db.many(
            "INSERT INTO campaign_chunks (campaign_id, chunk_no, first_id, last_id, meters, state, generated, skipped)"
            " VALUES (%(cid)s, %(no)s, %(first)s, %(last)s, %(meters)s, 'pending', 0, 0)",
            ({"cid": campaign_id, "no": no, "first": lo, "last": hi, "meters": n}
             for no, (lo, hi, n) in sorted(chunks.items())),
        )  # fmt: skip
        db.many(
            "INSERT INTO campaign_units (campaign_id, unit_code, selected) VALUES (%(cid)s, %(unit)s, %(n)s)",
            ({"cid": campaign_id, "unit": code, "n": n} for code, n in sorted(units.items())),
        )
        selected = sum(n for _lo, _hi, n in chunks.values())
        db.run(
            "UPDATE campaigns SET planned_at = %(at)s, selected = %(n)s, status = 'running' WHERE id = %(cid)s",
            {"at": db.time(now), "n": selected, "cid": campaign_id},
        )
        db.commit()
        return selected


KeyGetter = Callable[[str, int], tuple[VendingKey, Dkga]]


def _vending_key_getter(store: KeyStore) -> KeyGetter | None:
    """The software key store hands its vending keys to the batch engine (in memory only); an
    HSM store derives each decoder key inside the HSM instead (slower, same tokens)."""
    getter = getattr(store, "_vending_key", None)
    return getter if callable(getter) else None


def kct_sets(store: KeyStore, current: KeyParameters, new: KeyParameters, pans: Sequence[str]) -> list[list[str]]:
    """KCT sets of meters sharing one current key group, moving to ``new``."""
    rollover = new.base_date is not current.base_date
    getter = _vending_key_getter(store)
    if getter is not None:
        cur_vk = getter(current.sgc, current.krn)[0]
        new_vk = getter(new.sgc, new.krn)[0]
        return batch.meter_key_changes(pans, (cur_vk, current), (new_vk, new), rollover=rollover)
    cur_keys: list[DecoderKey] = [store.decoder_key(p, current) for p in pans]
    new_keys = [store.decoder_key(p, new) for p in pans]
    return batch.key_change_sets(cur_keys, new_keys, new, rollover=rollover)


def kct_lines(
    store: KeyStore, current: KeyParameters, new: KeyParameters, numbers: Sequence[str], seconds: Sequence[str],
    *, before: str, middle: str, after: str,
) -> bytes:  # fmt: skip
    """``batch.meter_key_change_lines`` of meters sharing one current key group (an HSM key
    store: its decoder keys one by one, the same lines)."""
    rollover = new.base_date is not current.base_date
    getter = _vending_key_getter(store)
    if getter is not None:
        return batch.meter_key_change_lines(
            numbers, seconds, (getter(current.sgc, current.krn)[0], current), (getter(new.sgc, new.krn)[0], new),
            rollover=rollover, before=before, middle=middle, after=after,
        )  # fmt: skip
    sets = kct_sets(store, current, new, batch.meter_pans(numbers))
    return "".join(
        f"{before}{n}\t{x}{middle}{' '.join(s)}{after}" for n, x, s in zip(numbers, seconds, sets, strict=True)
    ).encode("ascii")


def make_sets(
    store: KeyStore, target: Target, meters: Sequence[tuple[str, KeyParameters]]
) -> list[tuple[KeyParameters, list[str]] | None]:
    """Per meter (number, current params): (new params, KCT set), or None when the target is
    the meter's key already. Meters are grouped by key and each group made in one batch call."""
    out: list[tuple[KeyParameters, list[str]] | None] = [None] * len(meters)
    groups: dict[KeyParameters, list[int]] = {}
    for i, (_number, params) in enumerate(meters):
        groups.setdefault(params, []).append(i)
    for current, idx in groups.items():
        new = target.params_for(current, store.vending_key_dkga)
        if new == current:
            continue
        sets = kct_sets(store, current, new, batch.meter_pans([meters[i][0] for i in idx]))
        for i, s in zip(idx, sets, strict=True):
            out[i] = (new, s)
    return out


_COLUMNS = "campaign_id, meter_number, unit_code, chunk_no, from_key, to_key, tokens, state, generated_at"
#: The chunk's meters not holding undelivered KCTs of any campaign (also this one's: a rerun).
#: A scalar subquery, not NOT EXISTS: PostgreSQL runs it as one index probe per meter, where an
#: anti-join may be planned as a scan of every campaign row (per chunk: quadratic over a
#: campaign, and far worse with the table's statistics stale while it grows).
_CHUNK_WHERE = (
    " WHERE m.id BETWEEN %(first)s AND %(last)s AND {where} AND (SELECT 1 FROM campaign_meters x"
    " WHERE x.meter_number = m.meter_number AND x.state = 'generated' LIMIT 1) IS NULL"
)
_KEY_COLUMNS = "m.key_type, m.sgc, m.tariff_index, m.krn, m.ken, m.algorithm, m.base_date, m.dkga"


@dataclass(frozen=True)
class _Chunk:
    campaign_id: int
    chunk_no: int
    where: str
    params: dict[str, Any]
    at: Any


def _store_chunk_sqlite(
    db: _Raw, store: KeyStore, target: Target, chunk: _Chunk, after_select: Callable[[], None] | None
) -> tuple[int, int]:
    """Read, make and ``executemany`` one chunk's rows; (rows written, key groups)."""
    db.run(f"SELECT m.meter_number, u.code, {_KEY_COLUMNS}{_FROM}" + _CHUNK_WHERE.format(where=chunk.where),
           chunk.params)  # fmt: skip
    rows = db.cur.fetchall()
    if after_select is not None:
        after_select()
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(tuple(r[2:]), []).append(i)
    tuples: list[tuple[Any, ...]] = []
    for raw, idx in groups.items():
        current = meter_params(raw)
        new = target.params_for(current, store.vending_key_dkga)
        if new == current:
            continue
        sets = kct_sets(store, current, new, batch.meter_pans([rows[i][0] for i in idx]))
        fl, tl = key_label(current), key_label(new)
        tuples += [(chunk.campaign_id, rows[i][0], rows[i][1], chunk.chunk_no, fl, tl, " ".join(s), "generated",
                    chunk.at) for i, s in zip(idx, sets, strict=True)]  # fmt: skip
    db.cur.executemany(f"INSERT INTO campaign_meters ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", tuples)
    return len(tuples), len(groups)


#: A chunk reads a narrow range of meter ids: index lookups per meter, for this transaction
#: only. Left to itself the planner hashes the whole customers table for each chunk (~0.5 s of
#: CPU per chunk of 20,000 on 1M meters, growing with the region); JIT only adds compile time.
_PG_CHUNK_PLAN = (
    "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),"
    " set_config('enable_material', 'off', true), set_config('max_parallel_workers_per_gather', '0', true),"
    " set_config('jit', 'off', true)"
)


def _store_chunk_pg(
    db: _Raw, store: KeyStore, target: Target, chunk: _Chunk, after_select: Callable[[], None] | None
) -> tuple[int, int]:
    """Read the chunk one row per key group (its meters with their units in one string), make
    each group's COPY lines in one call of the batch engine and ``COPY`` them; (rows, groups)."""
    db.run(_PG_CHUNK_PLAN)
    db.run(
        f"SELECT {_KEY_COLUMNS}, count(*), string_agg(m.meter_number || ',' || u.code, ','){_FROM}"
        + _CHUNK_WHERE.format(where=chunk.where) + f" GROUP BY {_KEY_COLUMNS}",
        chunk.params,
    )  # fmt: skip
    groups = db.cur.fetchall()
    if after_select is not None:
        after_select()
    stamp = f"\tgenerated\t{chunk.at.isoformat()}\n"
    parts: list[bytes] = []
    generated = 0
    for *raw, count, pairs_csv in groups:
        current = meter_params(raw)
        new = target.params_for(current, store.vending_key_dkga)
        if new == current:
            continue
        pairs = pairs_csv.split(",")  # meter, unit, meter, unit, ...
        if len(pairs) != 2 * count:
            raise ValueError(f"campaign chunk {chunk.chunk_no}: a unit code holds a comma")
        numbers, units = pairs[0::2], pairs[1::2]
        parts.append(kct_lines(store, current, new, numbers, units, before=f"{chunk.campaign_id}\t",
                               middle=f"\t{chunk.chunk_no}\t{key_label(current)}\t{key_label(new)}\t",
                               after=stamp))  # fmt: skip
        generated += count
    if parts:
        with db.cur.copy(f"COPY campaign_meters ({_COLUMNS}) FROM STDIN") as copy:
            copy.write(b"".join(parts))
    return generated, len(groups)


def generate_chunk(
    engine: Engine,
    store: KeyStore,
    campaign_id: int,
    chunk_no: int,
    selection: Selection,
    target: Target,
    now: datetime,
    *,
    worker: str = "",
    after_select: Callable[[], None] | None = None,
) -> ChunkOutcome:
    """Make and store the KCT sets of one chunk in one transaction (see the module docstring)."""
    import time

    started = time.perf_counter()
    where, params = selection.where()
    with _Raw(engine) as db:
        lock = "" if db.sqlite else " FOR UPDATE SKIP LOCKED"
        db.run(
            "SELECT state, first_id, last_id, meters FROM campaign_chunks"
            f" WHERE campaign_id = %(cid)s AND chunk_no = %(no)s{lock}",
            {"cid": campaign_id, "no": chunk_no},
        )
        row = db.cur.fetchone()
        if row is None:
            # PostgreSQL: another worker holds it (or there is no such chunk)
            db.run("SELECT state FROM campaign_chunks WHERE campaign_id = %(cid)s AND chunk_no = %(no)s",
                   {"cid": campaign_id, "no": chunk_no})  # fmt: skip
            exists = db.cur.fetchone()
            return ChunkOutcome(chunk_no, "busy" if exists and exists[0] != "done" else
                                ("already" if exists else "missing"))  # fmt: skip
        state, first_id, last_id, expected = row
        if state == "done":
            return ChunkOutcome(chunk_no, "already")
        chunk = _Chunk(campaign_id, chunk_no, where, {**params, "first": first_id, "last": last_id}, db.time(now))
        store_chunk = _store_chunk_sqlite if db.sqlite else _store_chunk_pg
        generated, groups = store_chunk(db, store, target, chunk, after_select)
        at = chunk.at
        db.run(
            "UPDATE campaign_chunks SET state = 'done', generated = %(g)s, skipped = %(s)s, worker = %(w)s,"
            " done_at = %(at)s WHERE campaign_id = %(cid)s AND chunk_no = %(no)s",
            {"g": generated, "s": int(expected) - generated, "w": worker[:80] or None, "at": at,
             "cid": campaign_id, "no": chunk_no},
        )  # fmt: skip
        db.commit()
    finish_if_done(engine, campaign_id, now)
    return ChunkOutcome(chunk_no, "done", generated, int(expected) - generated, groups,
                        time.perf_counter() - started)  # fmt: skip


def finish_if_done(engine: Engine, campaign_id: int, now: datetime) -> None:
    """Mark a running campaign done once no chunk is pending (its own transaction, after the
    chunk's commit: of two chunks finishing together at least the later one sees both)."""
    with _Raw(engine) as db:
        db.run(
            "UPDATE campaigns SET status = 'done', finished_at = %(at)s WHERE id = %(cid)s AND status = 'running'"
            " AND NOT EXISTS (SELECT 1 FROM campaign_chunks k WHERE k.campaign_id = %(cid)s AND k.state <> 'done')",
            {"at": db.time(now), "cid": campaign_id},
        )
        db.commit()


__all__ = [
    "CHUNK_SIZE", "ChunkOutcome", "Selection", "Target", "generate_chunk", "kct_lines", "key_label", "make_sets",
    "meter_params", "params_of_label", "plan",
]  # fmt: skip
