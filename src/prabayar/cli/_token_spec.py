"""Token requests as plain mappings (CLI options and ``--jsonl`` lines) -> typed sts tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from prabayar import sts

CREDIT_TYPES: dict[str, type[sts.Token]] = {
    "credit": sts.ElectricityCredit,
    "electricity": sts.ElectricityCredit,
    "water": sts.WaterCredit,
    "gas": sts.GasCredit,
    "time": sts.TimeCredit,
    "electricity-currency": sts.ElectricityCurrencyCredit,
    "water-currency": sts.WaterCurrencyCredit,
    "gas-currency": sts.GasCurrencyCredit,
    "time-currency": sts.TimeCurrencyCredit,
}
MANAGEMENT_TYPES = (
    "power-limit", "clear-credit", "tariff-rate", "clear-tamper", "phase-unbalance",
    "water-factor", "test", "key-change",
)  # fmt: skip
TOKEN_TYPES = (*CREDIT_TYPES, *MANAGEMENT_TYPES)


class SpecError(Exception):
    """A token request that cannot be honoured; the message says why."""


def parse_key(text: str | None, algorithm: str | None = None) -> sts.DecoderKey | None:
    """A decoder key from hex (16 hex digits STA, 32 MISTY1), or None."""
    if not text:
        return None
    alg = sts.EncryptionAlgorithm.parse(algorithm) if algorithm else None
    return sts.DecoderKey.from_hex(text, alg)


def _int(spec: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = spec.get(name, default)
    if value is None:
        raise SpecError(f"{name} is required")
    try:
        return int(str(value), 0) if isinstance(value, str) else int(value)
    except ValueError as exc:
        raise SpecError(f"{name} must be a whole number, got {value!r}") from exc


def _tid(spec: Mapping[str, Any]) -> int:
    if spec.get("tid") is not None:
        return _int(spec, "tid")
    base = sts.BaseDate.from_code(str(spec.get("base_date") or "1993"))
    when_text = spec.get("time")
    if when_text:
        try:
            when = datetime.fromisoformat(str(when_text))
        except ValueError as exc:
            raise SpecError(f"time must be ISO 8601, got {when_text!r}") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    else:
        when = datetime.now(UTC)
    return sts.tid_from_datetime(when, base)


def _amount(spec: Mapping[str, Any]) -> Decimal:
    try:
        return Decimal(str(spec["amount"]))
    except KeyError as exc:
        raise SpecError("amount is required for a credit token") from exc
    except InvalidOperation as exc:
        raise SpecError(f"amount must be a number, got {spec['amount']!r}") from exc


def build_tokens(spec: Mapping[str, Any]) -> list[sts.Token]:
    """The token(s) a request describes (a key change gives 2 or 4)."""
    kind = str(spec.get("type", "credit")).lower()
    rnd = _int(spec, "rnd", 0)
    if kind in CREDIT_TYPES:
        cls = CREDIT_TYPES[kind]
        if issubclass(cls, sts.CurrencyCredit):
            return [cls(tid=_tid(spec), amount=_amount(spec))]
        return [cls(tid=_tid(spec), amount=_amount(spec), rnd=rnd)]  # type: ignore[call-arg]
    if kind == "power-limit":
        return [sts.SetMaximumPowerLimit(tid=_tid(spec), rnd=rnd, watts=_int(spec, "watts"))]
    if kind == "phase-unbalance":
        return [sts.SetPhaseUnbalanceLimit(tid=_tid(spec), rnd=rnd, watts=_int(spec, "watts"))]
    if kind == "clear-credit":
        register = _int(spec, "register", sts.ClearCredit.ALL_REGISTERS)
        return [sts.ClearCredit(tid=_tid(spec), rnd=rnd, register=register)]
    if kind == "tariff-rate":
        return [sts.SetTariffRate(tid=_tid(spec), rnd=rnd, rate=_int(spec, "rate"))]
    if kind == "water-factor":
        return [sts.SetWaterMeterFactor(tid=_tid(spec), rnd=rnd, factor=_int(spec, "factor"))]
    if kind == "clear-tamper":
        return [sts.ClearTamper(tid=_tid(spec), rnd=rnd)]
    if kind == "test":
        return [
            sts.MeterTestDisplay(
                control=_int(spec, "control", 0),
                manufacturer_code=_int(spec, "manufacturer_code", 0),
                format=_int(spec, "format", 0),
            )
        ]
    if kind == "key-change":
        new_key = parse_key(spec.get("new_key"), spec.get("new_algorithm"))
        if new_key is None:
            raise SpecError("new_key (hex) is required for a key change")
        params = sts.KeyParameters(
            key_type=sts.KeyType(_int(spec, "new_key_type", 2)),
            sgc=str(spec.get("new_sgc") or "000000"),
            tariff_index=str(spec.get("new_ti") or "01"),
            krn=_int(spec, "new_krn", 1),
            ken=_int(spec, "new_ken", 255),
            algorithm=new_key.algorithm,
        )
        return sts.key_change_tokens(new_key, params, rollover=bool(spec.get("rollover")))
    raise SpecError(f"unknown token type {kind!r}; one of: {', '.join(TOKEN_TYPES)}")


def token_fields(token: sts.Token) -> dict[str, Any]:
    """Public fields of a token as JSON-friendly values (key sections are masked)."""
    out: dict[str, Any] = {
        "type": token.name,
        "class": token.token_class,
        "subclass": token.subclass,
    }
    for f in fields(token):
        name = f.name
        value = getattr(token, name)
        if name.startswith("key_") and name != "key_type":
            out[name] = "<secret key section>"
        elif isinstance(value, Decimal):
            out[name] = str(value)
        else:
            out[name] = value
    if isinstance(token, sts.TransferCredit | sts.CurrencyCredit):
        out["unit"] = token.unit
    return out
