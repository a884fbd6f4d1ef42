"""The meter's state file: JSON, written atomically after every change (format in docs/meter.md).

Write path: serialise, write to a temporary file in the same directory, fsync, rename over the
old file, fsync the directory. A reader therefore sees the old state or the new one, never half.
Before replacing a file the store checks it still holds this meter's state: a damaged or
foreign file is reported, never silently overwritten.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from prabayar.meter.errors import (
    DamagedStateFile,
    ForeignStateFile,
    MeterError,
    StateFileExists,
    StateFileMissing,
    StateKeyError,
)
from prabayar.meter.model import Event, LastEntry, MeterState, RelayState, TamperCause, TokenRecord
from prabayar.meter.secretbox import SecretBox
from prabayar.meter.settings import MeterSettings
from prabayar.sts import (
    BaseDate,
    DecoderKey,
    Dkga,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
    StsError,
)

FORMAT = "prabayar.meter.state"
VERSION = 1


def _key_aad(meter_number: str, algorithm: EncryptionAlgorithm) -> bytes:
    return f"{FORMAT}|{meter_number}|{algorithm.value}".encode()


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _td(value: timedelta) -> float:
    return value.total_seconds()


def state_to_dict(state: MeterState, box: SecretBox) -> dict[str, Any]:
    """The JSON document of a meter state, decoder key sealed."""
    p = state.params
    s = state.settings
    sealed = box.seal(state.key.reveal(), _key_aad(state.meter_number, state.key.algorithm))
    return {
        "format": FORMAT,
        "version": VERSION,
        "meter_number": state.meter_number,
        "decoder_key": {
            "algorithm": state.key.algorithm.value,
            "scheme": box.scheme,
            "sealed": base64.b64encode(sealed).decode("ascii"),
        },
        "key_parameters": {
            "key_type": int(p.key_type),
            "sgc": p.sgc,
            "tariff_index": p.tariff_index,
            "krn": p.krn,
            "ken": p.ken,
            "algorithm": p.algorithm.value,
            "base_date": p.base_date.code,
            "dkga": p.dkga.value,
        },
        "settings": {
            "tid_memory_size": s.tid_memory_size,
            "lockout_after": s.lockout_after,
            "lockout_first_s": _td(s.lockout_first),
            "lockout_max_s": _td(s.lockout_max),
            "kct_timeout_s": _td(s.kct_timeout),
            "credit_max_kwh": str(s.credit_max_kwh),
            "trip_recovery_s": _td(s.trip_recovery),
            "mute_duration_s": _td(s.mute_duration),
            "nominal_voltage": str(s.nominal_voltage),
            "event_log_size": s.event_log_size,
            "last_tokens_size": s.last_tokens_size,
            "key_change_in_tamper": s.key_change_in_tamper,
        },
        "manufactured_at": _dt(state.manufactured_at),
        "meter_time": _dt(state.meter_time),
        "credit_kwh": str(state.credit_kwh),
        "cumulative_kwh": str(state.cumulative_kwh),
        "tid_memory": list(state.tid_memory),
        "relay": state.relay.value,
        "trip_until": _dt(state.trip_until),
        "load_watts": state.load_watts,
        "power_limit_watts": state.power_limit_watts,
        "phase_unbalance_limit_watts": state.phase_unbalance_limit_watts,
        "tamper": None if state.tamper is None else int(state.tamper),
        "tamper_at": _dt(state.tamper_at),
        "alarm_threshold_kwh": str(state.alarm_threshold_kwh),
        "alarm_silenced": state.alarm_silenced,
        "muted_until": _dt(state.muted_until),
        "wrong_entries": state.wrong_entries,
        "locked_until": _dt(state.locked_until),
        "kct_sections": {str(k): v for k, v in sorted(state.kct_sections.items())},
        "kct_started_at": _dt(state.kct_started_at),
        "last_tokens": [
            {
                "digits": t.digits,
                "kind": t.kind,
                "tid": t.tid,
                "kwh": None if t.kwh is None else str(t.kwh),
                "entered_at": _dt(t.entered_at),
            }
            for t in state.last_tokens
        ],
        "events": [{"at": _dt(e.at), "kind": e.kind, "detail": e.detail} for e in state.events],
        "last_entry": None
        if state.last_entry is None
        else {
            "at": _dt(state.last_entry.at),
            "kind": state.last_entry.kind,
            "reason": state.last_entry.reason,
            "token_type": state.last_entry.token_type,
        },
    }


class _Reader:
    """Typed field access that turns every surprise into ``DamagedStateFile``."""

    def __init__(self, path: str) -> None:
        self.path = path

    def damaged(self, what: str) -> DamagedStateFile:
        return DamagedStateFile(
            "berkas status meter rusak",
            f"the meter state file {self.path} is damaged: {what}",
            self.path,
        )

    def get(self, data: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
        if name not in data:
            raise self.damaged(f"field {name!r} is missing")
        value = data[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            raise self.damaged(f"field {name!r} has the wrong type")
        return value

    def decimal(self, data: Mapping[str, Any], name: str) -> Decimal:
        text = self.get(data, name, str)
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise self.damaged(f"field {name!r} is not a decimal number") from exc
        if not value.is_finite() or value < 0:
            raise self.damaged(f"field {name!r} must be a finite number >= 0")
        return value

    def time(self, data: Mapping[str, Any], name: str) -> datetime:
        text = self.get(data, name, str)
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise self.damaged(f"field {name!r} is not an ISO time") from exc
        if value.tzinfo is None:
            raise self.damaged(f"field {name!r} has no time zone")
        return value.astimezone(UTC)

    def opt_time(self, data: Mapping[str, Any], name: str) -> datetime | None:
        if data.get(name, None) is None:
            return None
        return self.time(data, name)

    def seconds(self, data: Mapping[str, Any], name: str) -> timedelta:
        return timedelta(seconds=float(self.get(data, name, (int, float))))

    def opt_int(self, data: Mapping[str, Any], name: str) -> int | None:
        if data.get(name, None) is None:
            return None
        value: int = self.get(data, name, int)
        return value

    def opt_str(self, data: Mapping[str, Any], name: str) -> str | None:
        if data.get(name, None) is None:
            return None
        value: str = self.get(data, name, str)
        return value


def check_header(data: object, path: str) -> dict[str, Any]:
    """Refuse anything that is not a prabayar meter state of a version this code can read."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ForeignStateFile(
            "berkas ini bukan status meter prabayar",
            f"{path} is not a prabayar meter state file (no 'format': '{FORMAT}')",
            path,
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise ForeignStateFile(
            "versi berkas status meter tidak dikenal",
            f"{path} has state format version {version!r}; this program reads up to {VERSION}",
            path,
        )
    return data


def state_from_dict(data: object, box: SecretBox, path: str = "<memory>") -> MeterState:
    """Rebuild a meter state (``ForeignStateFile``, ``DamagedStateFile``, ``StateKeyError``)."""
    doc = check_header(data, path)
    r = _Reader(path)
    try:
        return _build(doc, box, r)
    except (DamagedStateFile, StateKeyError):
        raise
    except (StsError, MeterError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise r.damaged(str(exc) or type(exc).__name__) from exc


def _build(doc: dict[str, Any], box: SecretBox, r: _Reader) -> MeterState:
    from prabayar.sts import meter_number as drn

    number = drn.validate(r.get(doc, "meter_number", str))
    kp = r.get(doc, "key_parameters", dict)
    params = KeyParameters(
        key_type=KeyType(r.get(kp, "key_type", int)),
        sgc=r.get(kp, "sgc", str),
        tariff_index=r.get(kp, "tariff_index", str),
        krn=r.get(kp, "krn", int),
        ken=r.get(kp, "ken", int),
        algorithm=EncryptionAlgorithm(r.get(kp, "algorithm", str)),
        base_date=BaseDate.from_code(r.get(kp, "base_date", str)),
        dkga=Dkga(r.get(kp, "dkga", str)),
    )
    dk = r.get(doc, "decoder_key", dict)
    algorithm = EncryptionAlgorithm(r.get(dk, "algorithm", str))
    scheme = r.get(dk, "scheme", str)
    if scheme != box.scheme:
        raise StateKeyError(
            "kunci meter disegel dengan skema lain",
            f"the key in {r.path} is sealed with {scheme!r}, this program uses {box.scheme!r}",
            r.path,
        )
    try:
        sealed = base64.b64decode(r.get(dk, "sealed", str), validate=True)
    except binascii.Error as exc:
        raise r.damaged("the sealed decoder key is not base64") from exc
    try:
        secret = box.open(sealed, _key_aad(number, algorithm))
    except ValueError as exc:
        raise StateKeyError(
            "kunci meter tidak bisa dibuka",
            f"cannot open the decoder key in {r.path}: wrong state key, or the file was altered",
            r.path,
        ) from exc
    key = DecoderKey(secret, algorithm)
    st = r.get(doc, "settings", dict)
    settings = MeterSettings(
        tid_memory_size=r.get(st, "tid_memory_size", int),
        lockout_after=r.get(st, "lockout_after", int),
        lockout_first=r.seconds(st, "lockout_first_s"),
        lockout_max=r.seconds(st, "lockout_max_s"),
        kct_timeout=r.seconds(st, "kct_timeout_s"),
        credit_max_kwh=r.decimal(st, "credit_max_kwh"),
        trip_recovery=r.seconds(st, "trip_recovery_s"),
        mute_duration=r.seconds(st, "mute_duration_s"),
        nominal_voltage=r.decimal(st, "nominal_voltage"),
        event_log_size=r.get(st, "event_log_size", int),
        last_tokens_size=r.get(st, "last_tokens_size", int),
        # added after version 1 files were first written: absent means the default
        key_change_in_tamper=r.get(st, "key_change_in_tamper", bool) if "key_change_in_tamper" in st else True,
    )
    tids = r.get(doc, "tid_memory", list)
    if not all(isinstance(t, int) and not isinstance(t, bool) and 0 <= t <= 0xFFFFFF for t in tids):
        raise r.damaged("tid_memory must hold 24-bit integers")
    tamper_code = r.opt_int(doc, "tamper")
    sections_raw = r.get(doc, "kct_sections", dict)
    sections = {int(k): str(v) for k, v in sections_raw.items()}
    tokens = [
        TokenRecord(
            digits=r.get(t, "digits", str),
            kind=r.get(t, "kind", str),
            tid=r.opt_int(t, "tid"),
            kwh=None if t.get("kwh") is None else r.decimal(t, "kwh"),
            entered_at=r.time(t, "entered_at"),
        )
        for t in r.get(doc, "last_tokens", list)
    ]
    events = [
        Event(r.time(e, "at"), r.get(e, "kind", str), r.get(e, "detail", str)) for e in r.get(doc, "events", list)
    ]
    last_raw = doc.get("last_entry")  # absent in files written before service code 56
    if last_raw is not None and not isinstance(last_raw, dict):
        raise r.damaged("last_entry must be an object")
    last_entry = (
        None
        if last_raw is None
        else LastEntry(
            at=r.time(last_raw, "at"),
            kind=r.get(last_raw, "kind", str),
            reason=r.opt_str(last_raw, "reason"),
            token_type=r.opt_str(last_raw, "token_type"),
        )
    )
    state = MeterState(
        meter_number=number,
        key=key,
        params=params,
        settings=settings,
        manufactured_at=r.time(doc, "manufactured_at"),
        meter_time=r.time(doc, "meter_time"),
        tid_memory=sorted(tids),
        credit_kwh=r.decimal(doc, "credit_kwh"),
        cumulative_kwh=r.decimal(doc, "cumulative_kwh"),
        relay=RelayState(r.get(doc, "relay", str)),
        trip_until=r.opt_time(doc, "trip_until"),
        load_watts=r.get(doc, "load_watts", int),
        power_limit_watts=r.opt_int(doc, "power_limit_watts"),
        phase_unbalance_limit_watts=r.opt_int(doc, "phase_unbalance_limit_watts"),
        tamper=None if tamper_code is None else TamperCause(tamper_code),
        tamper_at=r.opt_time(doc, "tamper_at"),
        alarm_threshold_kwh=r.decimal(doc, "alarm_threshold_kwh"),
        alarm_silenced=r.get(doc, "alarm_silenced", bool),
        muted_until=r.opt_time(doc, "muted_until"),
        wrong_entries=r.get(doc, "wrong_entries", int),
        locked_until=r.opt_time(doc, "locked_until"),
        kct_sections=sections,
        kct_started_at=r.opt_time(doc, "kct_started_at"),
        last_tokens=tokens,
        events=events,
        last_entry=last_entry,
    )
    if key.algorithm is not params.algorithm:
        raise r.damaged("decoder key algorithm and key parameters disagree")
    if state.relay is RelayState.CLOSED and state.credit_kwh <= 0:
        raise r.damaged("relay closed with no credit")
    if state.credit_kwh < 0 or state.cumulative_kwh < 0:
        raise r.damaged("a register is negative")
    if state.wrong_entries < 0 or state.load_watts < 0:
        raise r.damaged("wrong_entries and load_watts cannot be negative")
    if not set(sections) <= {3, 4, 8, 9}:
        raise r.damaged("kct_sections holds a subclass that is not a key change section")
    return state


class StateFile:
    """One meter's state at ``path`` (the web app: ``<data_dir>/meters/<meter_number>.json``)."""

    def __init__(self, path: str | os.PathLike[str], box: SecretBox, *, durable: bool = True) -> None:
        """``durable=False`` skips the fsyncs (still atomic by rename): for simulations and tests
        where a power cut cannot happen."""
        self.path = Path(path)
        self._box = box
        self._durable = durable

    def __repr__(self) -> str:
        return f"StateFile({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def _read_json(self) -> object:
        where = str(self.path)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise StateFileMissing(
                "meter belum dibuat di sini",
                f"no meter state at {where} (make one with 'prabayar meter new')",
                where,
            ) from exc
        except (UnicodeDecodeError, IsADirectoryError) as exc:
            raise DamagedStateFile("berkas status meter rusak", f"{where} is not a readable text file", where) from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DamagedStateFile(
                "berkas status meter rusak",
                f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno})",
                where,
            ) from exc

    def load(self) -> MeterState:
        """Read and check the state; raises a ``StateFileError`` subclass when unusable."""
        return state_from_dict(self._read_json(), self._box, str(self.path))

    def create(self, state: MeterState) -> None:
        """Write a new meter's first state; refuses to replace any existing file."""
        if self.path.exists():
            raise StateFileExists(
                "berkas status meter sudah ada",
                f"{self.path} already exists; a new meter never replaces it",
                str(self.path),
            )
        self._write(state)

    def save(self, state: MeterState) -> None:
        """Replace the state, after checking the file on disk is this meter's state."""
        if self.path.exists():
            doc = check_header(self._read_json(), str(self.path))
            if doc.get("meter_number") != state.meter_number:
                raise ForeignStateFile(
                    "berkas ini milik meter lain",
                    f"{self.path} holds meter {doc.get('meter_number')!r}, not {state.meter_number}",
                    str(self.path),
                )
        self._write(state)

    def _write(self, state: MeterState) -> None:
        data = json.dumps(state_to_dict(state, self._box), ensure_ascii=False)
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                if self._durable:
                    os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if not self._durable:
            return
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
