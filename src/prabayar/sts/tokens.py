"""Typed STS tokens: one frozen dataclass per class/subclass (SPEC sections 3 and 4).

Each type knows how to lay its fields into the 64-bit data block (bits 63..16; the CRC goes in
bits 15..0 later) and how to read them back. Values are checked on construction, so a token
object that exists can always be encoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Self

from prabayar.sts import amount as amt
from prabayar.sts.errors import AmountRangeError, StsError, UnsupportedToken
from prabayar.sts.tid import TID_MAX


def _to_decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError as exc:
        raise AmountRangeError(f"an amount must be a number, got {value!r}") from exc


def _check(name: str, value: int, bits: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise StsError(f"{name} must be a whole number of {bits} bits, got {value!r}")


@dataclass(frozen=True, slots=True)
class Token:
    """Any STS token."""

    token_class: ClassVar[int]
    subclass: ClassVar[int]
    name: ClassVar[str]

    def pack(self) -> int:
        """The data block without its CRC (bits 63..16 set, 15..0 zero)."""
        raise NotImplementedError

    @classmethod
    def unpack(cls, block: int) -> Self:
        """Read the fields of a CRC-checked data block."""
        raise NotImplementedError

    @property
    def currency_crc(self) -> bool:
        """Whether this token authenticates with CRC_C instead of CRC-16."""
        return False


# ---------------------------------------------------------------- class 0: credit transfer


@dataclass(frozen=True, slots=True)
class TransferCredit(Token):
    """Class 0 credit in 0.1 of the main unit (kWh, m3, ...); the amount is rounded up."""

    tid: int
    amount: Decimal
    rnd: int = 0
    token_class: ClassVar[int] = 0
    unit: ClassVar[str] = ""

    def __post_init__(self) -> None:
        _check("TID", self.tid, 24)
        _check("RND", self.rnd, 4)
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", _to_decimal(self.amount))
        if not self.amount.is_finite():
            raise AmountRangeError("a credit amount must be a finite number")
        if self.amount < 0:
            raise AmountRangeError("a credit amount cannot be negative")
        amt.encode_amount(self.amount)

    @property
    def amount_field(self) -> int:
        """The 16-bit amount field."""
        return amt.encode_amount(self.amount)

    def pack(self) -> int:
        return (
            self.subclass << 60 | self.rnd << 56 | self.tid << 32
            | amt.encode_amount(self.amount) << 16
        )  # fmt: skip

    @classmethod
    def unpack(cls, block: int) -> Self:
        # Hot path of every decode: the bit fields are in range by construction, so the
        # validating __init__ is skipped.
        token = object.__new__(cls)
        object.__setattr__(token, "tid", block >> 32 & TID_MAX)
        object.__setattr__(token, "amount", amt.decode_amount(block >> 16 & 0xFFFF))
        object.__setattr__(token, "rnd", block >> 56 & 15)
        return token


@dataclass(frozen=True, slots=True)
class ElectricityCredit(TransferCredit):
    """Electricity credit in kWh (the token PLN sells)."""

    subclass: ClassVar[int] = 0
    name: ClassVar[str] = "TransferElectricityCredit"
    unit: ClassVar[str] = "kWh"


@dataclass(frozen=True, slots=True)
class WaterCredit(TransferCredit):
    """Water credit in m3."""

    subclass: ClassVar[int] = 1
    name: ClassVar[str] = "TransferWaterCredit"
    unit: ClassVar[str] = "m3"


@dataclass(frozen=True, slots=True)
class GasCredit(TransferCredit):
    """Gas credit in m3."""

    subclass: ClassVar[int] = 2
    name: ClassVar[str] = "TransferGasCredit"
    unit: ClassVar[str] = "m3"


@dataclass(frozen=True, slots=True)
class TimeCredit(TransferCredit):
    """Time credit (units are not fixed by the public text; 0.1 of the meter's time unit)."""

    subclass: ClassVar[int] = 3
    name: ClassVar[str] = "TransferTimeCredit"
    unit: ClassVar[str] = "time units"


@dataclass(frozen=True, slots=True)
class CurrencyCredit(Token):
    """Class 0 currency credit (subclasses 4-7): 10**-5 resolution, signed, CRC_C, no RND."""

    tid: int
    amount: Decimal
    token_class: ClassVar[int] = 0
    unit: ClassVar[str] = "currency"

    def __post_init__(self) -> None:
        _check("TID", self.tid, 24)
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", _to_decimal(self.amount))
        amt.encode_currency(self.amount)

    @property
    def currency_crc(self) -> bool:
        return True

    def pack(self) -> int:
        s_and_e, fld = amt.encode_currency(self.amount)
        return self.subclass << 60 | s_and_e << 56 | self.tid << 32 | fld << 16

    @classmethod
    def unpack(cls, block: int) -> Self:
        return cls(
            tid=block >> 32 & TID_MAX,
            amount=amt.decode_currency(block >> 56 & 15, block >> 16 & 0xFFFF),
        )


@dataclass(frozen=True, slots=True)
class ElectricityCurrencyCredit(CurrencyCredit):
    """Electricity credit in currency."""

    subclass: ClassVar[int] = 4
    name: ClassVar[str] = "TransferElectricityCurrencyCredit"


@dataclass(frozen=True, slots=True)
class WaterCurrencyCredit(CurrencyCredit):
    """Water credit in currency."""

    subclass: ClassVar[int] = 5
    name: ClassVar[str] = "TransferWaterCurrencyCredit"


@dataclass(frozen=True, slots=True)
class GasCurrencyCredit(CurrencyCredit):
    """Gas credit in currency."""

    subclass: ClassVar[int] = 6
    name: ClassVar[str] = "TransferGasCurrencyCredit"


@dataclass(frozen=True, slots=True)
class TimeCurrencyCredit(CurrencyCredit):
    """Time credit in currency."""

    subclass: ClassVar[int] = 7
    name: ClassVar[str] = "TransferTimeCurrencyCredit"


# ---------------------------------------------------------------- class 1: test / display


@dataclass(frozen=True, slots=True)
class MeterTestDisplay(Token):
    """Class 1 InitiateMeterTest/Display: not encrypted, any meter of the manufacturer.

    Subclass 0: 36-bit control field with a 2-digit manufacturer code (8 bits).
    Subclass 1: 28-bit control field with a 4-digit manufacturer code (16 bits).
    """

    control: int
    manufacturer_code: int = 0
    format: int = 0
    token_class: ClassVar[int] = 1
    name: ClassVar[str] = "InitiateMeterTestOrDisplay"

    def __post_init__(self) -> None:
        if self.format not in (0, 1):
            raise UnsupportedToken("class 1 has subclass 0 (36-bit control) or 1 (28-bit)")
        _check("control", self.control, 36 if self.format == 0 else 28)
        _check("manufacturer code", self.manufacturer_code, 8 if self.format == 0 else 16)

    @property
    def subclass(self) -> int:  # type: ignore[override]
        return self.format

    def pack(self) -> int:
        if self.format == 0:
            return self.control << 24 | self.manufacturer_code << 16
        return 1 << 60 | self.control << 32 | self.manufacturer_code << 16

    @classmethod
    def unpack(cls, block: int) -> Self:
        if block >> 60 == 0:
            return cls(control=block >> 24 & (1 << 36) - 1, manufacturer_code=block >> 16 & 0xFF)
        return cls(control=block >> 32 & (1 << 28) - 1, manufacturer_code=block >> 16 & 0xFFFF, format=1)


# ---------------------------------------------------------------- class 2: management


@dataclass(frozen=True, slots=True)
class _ManagementValue(Token):
    """Class 2 layout shared by the value tokens: RND, TID and a 16-bit value."""

    tid: int
    rnd: int = 0
    token_class: ClassVar[int] = 2

    def __post_init__(self) -> None:
        _check("TID", self.tid, 24)
        _check("RND", self.rnd, 4)
        _check("value", self._value(), 16)

    value_field: ClassVar[str] = ""
    in_watts: ClassVar[bool] = False

    def _value(self) -> int:
        value: int = getattr(self, self.value_field)
        return _watts_field(value) if self.in_watts else value

    def pack(self) -> int:
        return self.subclass << 60 | self.rnd << 56 | self.tid << 32 | self._value() << 16

    @classmethod
    def _from_value(cls, tid: int, rnd: int, value: int) -> Self:
        decoded = amt.decode_units(value) if cls.in_watts else value
        return cls(tid=tid, rnd=rnd, **{cls.value_field: decoded})

    @classmethod
    def unpack(cls, block: int) -> Self:
        return cls._from_value(block >> 32 & TID_MAX, block >> 56 & 15, block >> 16 & 0xFFFF)


def _watts_field(watts: int) -> int:
    if not isinstance(watts, int) or watts < 0:
        raise AmountRangeError(f"a power limit is a whole number of watts, got {watts!r}")
    return amt.encode_units(watts)


@dataclass(frozen=True, slots=True)
class SetMaximumPowerLimit(_ManagementValue):
    """Set the maximum power limit in watts (exponent/mantissa encoding, rounded up)."""

    watts: int = 0
    subclass: ClassVar[int] = 0
    name: ClassVar[str] = "SetMaximumPowerLimit"
    value_field: ClassVar[str] = "watts"
    in_watts: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class ClearCredit(_ManagementValue):
    """Clear a credit register (0 electricity, 1 water, 2 gas, ..., 0xFFFF all registers)."""

    register: int = 0
    subclass: ClassVar[int] = 1
    name: ClassVar[str] = "ClearCredit"
    ALL_REGISTERS: ClassVar[int] = 0xFFFF
    value_field: ClassVar[str] = "register"


@dataclass(frozen=True, slots=True)
class SetTariffRate(_ManagementValue):
    """Set tariff rate; the field is reserved by the STSA, carried raw."""

    rate: int = 0
    subclass: ClassVar[int] = 2
    name: ClassVar[str] = "SetTariffRate"
    value_field: ClassVar[str] = "rate"


@dataclass(frozen=True, slots=True)
class ClearTamper(_ManagementValue):
    """Clear the tamper condition ("PERIKSA"); the value field is a zero pad."""

    pad: int = 0
    subclass: ClassVar[int] = 5
    name: ClassVar[str] = "ClearTamperCondition"
    value_field: ClassVar[str] = "pad"


@dataclass(frozen=True, slots=True)
class SetPhaseUnbalanceLimit(_ManagementValue):
    """Set the maximum phase power unbalance limit in watts."""

    watts: int = 0
    subclass: ClassVar[int] = 6
    name: ClassVar[str] = "SetMaximumPhasePowerUnbalanceLimit"
    value_field: ClassVar[str] = "watts"
    in_watts: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class SetWaterMeterFactor(_ManagementValue):
    """Set the water meter factor; reserved for water meters, carried raw."""

    factor: int = 0
    subclass: ClassVar[int] = 7
    name: ClassVar[str] = "SetWaterMeterFactor"
    value_field: ClassVar[str] = "factor"


@dataclass(frozen=True, slots=True)
class KeyChange1(Token):
    """Set1stSectionDecoderKey: new KEN high nibble, KRN, rollover bit, key type, key bits 63..32
    (of a 64-bit key) or bytes 0..3 (of a 128-bit key)."""

    ken_high: int
    krn: int
    key_type: int
    key_high: int = field(repr=False)
    rollover: bool = False
    reserved: int = 0
    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 3
    name: ClassVar[str] = "Set1stSectionDecoderKey"

    def __post_init__(self) -> None:
        _check("KEN high nibble", self.ken_high, 4)
        _check("KRN", self.krn, 4)
        _check("key type", self.key_type, 2)
        _check("key section", self.key_high, 32)
        _check("reserved bit", self.reserved, 1)

    def pack(self) -> int:
        return (
            3 << 60 | self.ken_high << 56 | self.krn << 52 | int(self.rollover) << 51
            | self.reserved << 50 | self.key_type << 48 | self.key_high << 16
        )  # fmt: skip

    @classmethod
    def unpack(cls, block: int) -> Self:
        return cls(
            ken_high=block >> 56 & 15,
            krn=block >> 52 & 15,
            rollover=bool(block >> 51 & 1),
            reserved=block >> 50 & 1,
            key_type=block >> 48 & 3,
            key_high=block >> 16 & 0xFFFFFFFF,
        )


@dataclass(frozen=True, slots=True)
class KeyChange2(Token):
    """Set2ndSectionDecoderKey: new KEN low nibble, tariff index (binary), lowest 32 key bits."""

    ken_low: int
    tariff_index: int
    key_low: int = field(repr=False)
    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 4
    name: ClassVar[str] = "Set2ndSectionDecoderKey"

    def __post_init__(self) -> None:
        _check("KEN low nibble", self.ken_low, 4)
        _check("tariff index", self.tariff_index, 8)
        _check("key section", self.key_low, 32)

    def pack(self) -> int:
        return 4 << 60 | self.ken_low << 56 | self.tariff_index << 48 | self.key_low << 16

    @classmethod
    def unpack(cls, block: int) -> Self:
        return cls(
            ken_low=block >> 56 & 15,
            tariff_index=block >> 48 & 0xFF,
            key_low=block >> 16 & 0xFFFFFFFF,
        )


@dataclass(frozen=True, slots=True)
class KeyChange3(Token):
    """Set3rdSectionDecoderKey (128-bit keys): SGC low 12 bits, key bytes 4..7."""

    sgc_low: int
    key_mid2: int = field(repr=False)
    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 8
    name: ClassVar[str] = "Set3rdSectionDecoderKey"

    def __post_init__(self) -> None:
        _check("SGC low part", self.sgc_low, 12)
        _check("key section", self.key_mid2, 32)

    def pack(self) -> int:
        return 8 << 60 | self.sgc_low << 48 | self.key_mid2 << 16

    @classmethod
    def unpack(cls, block: int) -> Self:
        return cls(sgc_low=block >> 48 & 0xFFF, key_mid2=block >> 16 & 0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class KeyChange4(Token):
    """Set4thSectionDecoderKey (128-bit keys): SGC high 12 bits, key bytes 8..11."""

    sgc_high: int
    key_mid1: int = field(repr=False)
    token_class: ClassVar[int] = 2
    subclass: ClassVar[int] = 9
    name: ClassVar[str] = "Set4thSectionDecoderKey"

    def __post_init__(self) -> None:
        _check("SGC high part", self.sgc_high, 12)
        _check("key section", self.key_mid1, 32)

    def pack(self) -> int:
        return 9 << 60 | self.sgc_high << 48 | self.key_mid1 << 16

    @classmethod
    def unpack(cls, block: int) -> Self:
        return cls(sgc_high=block >> 48 & 0xFFF, key_mid1=block >> 16 & 0xFFFFFFFF)


KeyChangeToken = KeyChange1 | KeyChange2 | KeyChange3 | KeyChange4

CLASS0: dict[int, type[Token]] = {
    t.subclass: t
    for t in (
        ElectricityCredit, WaterCredit, GasCredit, TimeCredit, ElectricityCurrencyCredit,
        WaterCurrencyCredit, GasCurrencyCredit, TimeCurrencyCredit,
    )
}  # fmt: skip
CLASS2: dict[int, type[Token]] = {
    t.subclass: t
    for t in (
        SetMaximumPowerLimit, ClearCredit, SetTariffRate, KeyChange1, KeyChange2, ClearTamper,
        SetPhaseUnbalanceLimit, SetWaterMeterFactor, KeyChange3, KeyChange4,
    )
}  # fmt: skip
