"""prabayar.sts: a byte-exact IEC 62055-41 (STS) token engine.

Pure functions and values only: no files, no database, no clock (time comes in as an argument).

>>> from decimal import Decimal
>>> from prabayar import sts
>>> key = sts.DecoderKey.from_hex("e653341f9d5bf36f")
>>> sts.encode(sts.ElectricityCredit(tid=5871715, amount=Decimal("0.1"), rnd=5), key)
'23716100501183194197'
>>> sts.decode("2371 6100 5011 8319 4197", key).amount
Decimal('0.1')
"""

from prabayar.sts import key_revision, meter_number, meter_pan, supply_group, tariff_index, token_number
from prabayar.sts.amount import decode_amount, encode_amount
from prabayar.sts.codec import EncodedToken, decode, decode_trace, encode, encode_trace
from prabayar.sts.errors import (
    AmountRangeError,
    InvalidChecksum,
    InvalidFormat,
    InvalidKey,
    InvalidLength,
    KeyExpiredError,
    KeyRequired,
    StsError,
    TidRolloverError,
    TokenCrcError,
    UnsupportedToken,
    ValidationError,
)
from prabayar.sts.keychange import assemble_key, encode_key_change, key_change_tokens
from prabayar.sts.keys import (
    DecoderKey,
    Dkga,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
    VendingKey,
    check_key_expiry,
    derive_decoder_key,
)
from prabayar.sts.tid import TID_MAX, BaseDate, datetime_from_tid, tid_from_datetime
from prabayar.sts.tokens import (
    ClearCredit,
    ClearTamper,
    CurrencyCredit,
    ElectricityCredit,
    ElectricityCurrencyCredit,
    GasCredit,
    GasCurrencyCredit,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange4,
    KeyChangeToken,
    MeterTestDisplay,
    SetMaximumPowerLimit,
    SetPhaseUnbalanceLimit,
    SetTariffRate,
    SetWaterMeterFactor,
    TimeCredit,
    TimeCurrencyCredit,
    Token,
    TransferCredit,
    WaterCredit,
    WaterCurrencyCredit,
)

__all__ = [
    "TID_MAX", "AmountRangeError", "BaseDate", "ClearCredit", "ClearTamper", "CurrencyCredit",
    "DecoderKey", "Dkga", "ElectricityCredit", "ElectricityCurrencyCredit", "EncodedToken",
    "EncryptionAlgorithm", "GasCredit", "GasCurrencyCredit", "InvalidChecksum", "InvalidFormat",
    "InvalidKey", "InvalidLength", "KeyChange1", "KeyChange2", "KeyChange3", "KeyChange4",
    "KeyChangeToken", "KeyExpiredError", "KeyParameters", "KeyRequired", "KeyType",
    "MeterTestDisplay", "SetMaximumPowerLimit", "SetPhaseUnbalanceLimit", "SetTariffRate",
    "SetWaterMeterFactor", "StsError", "TidRolloverError", "TimeCredit", "TimeCurrencyCredit",
    "Token", "TokenCrcError", "TransferCredit", "UnsupportedToken", "ValidationError",
    "VendingKey", "WaterCredit", "WaterCurrencyCredit", "assemble_key", "check_key_expiry",
    "datetime_from_tid", "decode", "decode_amount", "decode_trace", "derive_decoder_key",
    "encode", "encode_amount", "encode_key_change", "encode_trace", "key_change_tokens",
    "key_revision", "meter_number", "meter_pan", "supply_group", "tariff_index", "tid_from_datetime", "token_number",
]  # fmt: skip
