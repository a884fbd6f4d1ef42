"""Every non-key-change CTS token in the shared vectors, keyed into a meter with its key.

Each one must authenticate (no GAGAL): electricity credit and the management functions are
accepted with their values; other utilities' credit is a function error, as on a real kWh meter.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from prabayar import sts
from prabayar.meter import MeterSettings, ResultKind

from .conftest import MakeRig, load_vectors, params_for

BIG_REGISTER = MeterSettings(credit_max_kwh=Decimal("1820162.4"))  # the largest STS amount
EXPECTED = {
    "TransferElectricityCreditToken": ResultKind.ACCEPT,
    "TransferWaterCreditToken": ResultKind.FUNCTION_ERROR,
    "TransferGasCreditToken": ResultKind.FUNCTION_ERROR,
    "TransferElectricityCurrencyCreditToken": ResultKind.FUNCTION_ERROR,
    "TransferWaterCurrencyCreditToken": ResultKind.FUNCTION_ERROR,
    "SetMaximumPowerLimitToken": ResultKind.ACCEPT,
    "ClearTamperConditionToken": ResultKind.ACCEPT,
    "SetMaximumPhasePowerUnbalanceLimitToken": ResultKind.ACCEPT,
    "InitiateMeterTestOrDisplay1Token": ResultKind.TEST_DISPLAY,
    "InitiateMeterTestOrDisplay2Token": ResultKind.TEST_DISPLAY,
}


def cases() -> list[dict[str, Any]]:
    return [
        v
        for v in load_vectors()
        if v["kind"] == "token_generation" and (v["token_type"] in EXPECTED or v["token_type"] == "ClearCreditToken")
    ]


def meter_number_for(vector: dict[str, Any]) -> str:
    """Manufacturer 00: an 11-digit number for 2-digit codes, 13 digits for 4-digit codes."""
    payload = "0" * (12 if vector["fields"].get("subclass") == 1 and vector["token_class"] == 1 else 10)
    return payload + sts.meter_number.calc_check_digit(payload)


@pytest.mark.parametrize("vector", cases(), ids=lambda v: v["id"].split(":")[-1][-60:])
def test_cts_token_on_a_meter(make_rig: MakeRig, vector: dict[str, Any]) -> None:
    fields = vector["fields"]
    if vector["token_class"] == 1:
        rig = make_rig(number=meter_number_for(vector))
    else:
        key = sts.DecoderKey.from_hex(vector["decoder_key_hex"])
        base = sts.BaseDate.from_code(fields.get("tid_base_date") or "1993")
        rig = make_rig(
            key_hex=vector["decoder_key_hex"],
            params=params_for(key.algorithm, base),
            start=base.start,
            settings=BIG_REGISTER,
        )
    result = rig.enter(vector["expected"]["token_20_digits"])
    if vector["token_type"] == "ClearCreditToken":
        register = fields.get("register", fields.get("value16"))
        if register is None:
            register = int(fields["value16_hex"], 16)
        ok = register in (0, 0xFFFF)
        assert result.kind is (ResultKind.ACCEPT if ok else ResultKind.RANGE_ERROR), result
        return
    assert result.kind is EXPECTED[vector["token_type"]], result
    state = rig.meter.state
    if vector["token_type"] == "TransferElectricityCreditToken":
        if "value16_hex" in fields:
            amount = sts.decode_amount(int(fields["value16_hex"], 16))
        else:
            amount = Decimal(str(fields.get("amount_value", fields.get("amount_main_units"))))
        assert result.kwh_added == amount.quantize(Decimal("0.1"))
        assert state.credit_kwh == result.kwh_added and fields["tid"] in state.tid_memory
    elif vector["token_type"] == "SetMaximumPowerLimitToken":
        token = sts.decode(vector["expected"]["token_20_digits"], rig.key)
        assert isinstance(token, sts.SetMaximumPowerLimit)
        watts = fields.get("maximum_power_limit_decoded_watts", token.watts)
        assert state.power_limit_watts == (watts or None) and fields["tid"] in state.tid_memory


def test_every_class_of_vector_is_covered() -> None:
    seen = {v["token_type"] for v in cases()}
    assert seen == set(EXPECTED) | {"ClearCreditToken"}
