"""Shared rigs for the meter tests: a meter on a manual clock and a vending side that makes
real tokens for it with ``prabayar.sts`` (keys from the shared CTS vectors)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from prabayar import sts
from prabayar.meter import AesGcmBox, ManualClock, Meter, MeterResult, MeterSettings, StateFile

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "vectors.json"
CTS_STA_KEY = "e653341f9d5bf36f"  # CTSA01 decoder key (DKGA02, VUDK abab..., PAN 600727000000000009)
CTS_MISTY1_KEY = "f94b6ed353c3bfdb113e2d3a7ea3c41d"  # SPEC 8.4 worked example (DKGA04, EA11)
METER_NUMBER = "01234567897"
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
STATE_KEY = bytes(range(32))


def load_vectors() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return data


def params_for(
    algorithm: sts.EncryptionAlgorithm = sts.EncryptionAlgorithm.STA,
    base_date: sts.BaseDate = sts.BaseDate.Y2014,
    **changes: Any,
) -> sts.KeyParameters:
    fields: dict[str, Any] = {
        "key_type": sts.KeyType.DUTK,
        "sgc": "123456",
        "tariff_index": "01",
        "krn": 1,
        "ken": 255,
        "algorithm": algorithm,
        "base_date": base_date,
        "dkga": sts.Dkga.DKGA04,
    }
    fields.update(changes)
    return sts.KeyParameters(**fields)


@dataclass
class Rig:
    """A meter plus what a vending system would know about it."""

    meter: Meter
    clock: ManualClock
    key: sts.DecoderKey
    params: sts.KeyParameters
    _last_tid: int = field(default=-1)

    def next_tid(self) -> int:
        """A fresh TID at the present minute (advanced by one per token, as a POS does)."""
        tid = sts.tid_from_datetime(self.clock.now(), self.params.base_date)
        self._last_tid = max(tid, self._last_tid + 1)
        return self._last_tid

    def encode(self, token: sts.Token) -> str:
        return sts.encode(token, self.key)

    def credit(self, kwh: str | Decimal, tid: int | None = None) -> str:
        amount = Decimal(kwh)
        return self.encode(sts.ElectricityCredit(tid=self.next_tid() if tid is None else tid, amount=amount, rnd=5))

    def enter(self, digits: str) -> MeterResult:
        return self.meter.enter_token(digits)

    def key_change(
        self, new_key: sts.DecoderKey, new_params: sts.KeyParameters, *, rollover: bool = False
    ) -> list[str]:
        """KCT digits under the current key; the rig then vends with the new key."""
        digits = sts.encode_key_change(self.key, new_key, new_params, rollover=rollover)
        return digits

    def switch_key(self, new_key: sts.DecoderKey, new_params: sts.KeyParameters) -> None:
        self.key, self.params = new_key, new_params
        if new_params.base_date is not sts.BaseDate.Y1993:
            self._last_tid = -1


MakeRig = Callable[..., Rig]


@pytest.fixture
def make_rig() -> MakeRig:
    def make(
        *,
        key_hex: str = CTS_STA_KEY,
        params: sts.KeyParameters | None = None,
        start: datetime = START,
        settings: MeterSettings | None = None,
        number: str = METER_NUMBER,
        store: StateFile | None = None,
        power_limit_watts: int | None = None,
    ) -> Rig:
        key = sts.DecoderKey.from_hex(key_hex)
        params = params or params_for(key.algorithm)
        clock = ManualClock(start)
        meter = Meter.manufacture(
            number, key, params, clock=clock, settings=settings, store=store, power_limit_watts=power_limit_watts
        )
        clock.advance(timedelta(days=1))  # installed the day after it left the factory
        return Rig(meter, clock, key, params)

    return make


@pytest.fixture
def rig(make_rig: MakeRig) -> Rig:
    return make_rig()


@pytest.fixture
def box() -> AesGcmBox:
    return AesGcmBox(STATE_KEY)


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "meters" / f"{METER_NUMBER}.json"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
