"""Encode/decode round trips for every token type and cipher, and every decode error path."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prabayar import sts
from prabayar.sts import (
    DecoderKey,
    EncryptionAlgorithm,
    InvalidFormat,
    InvalidLength,
    KeyRequired,
    StsError,
    TokenCrcError,
    UnsupportedToken,
)
from prabayar.sts.codec import extract_class, insert_class
from prabayar.sts.tokens import CLASS0

STA_KEY = DecoderKey.from_hex("e653341f9d5bf36f")
MISTY_KEY = DecoderKey.from_hex("f94b6ed353c3bfdb113e2d3a7ea3c41d")
DEA_KEY = DecoderKey(bytes.fromhex("133457799bbcdff1"), EncryptionAlgorithm.DEA)

keys = st.one_of(
    st.binary(min_size=8, max_size=8).map(lambda b: DecoderKey(b, EncryptionAlgorithm.STA)),
    st.binary(min_size=16, max_size=16).map(lambda b: DecoderKey(b, EncryptionAlgorithm.MISTY1)),
    st.binary(min_size=8, max_size=8).map(lambda b: DecoderKey(b, EncryptionAlgorithm.DEA)),
)
tids = st.integers(min_value=0, max_value=sts.TID_MAX)
rnds = st.integers(min_value=0, max_value=15)
fields16 = st.integers(min_value=0, max_value=0xFFFF)
u32 = st.integers(min_value=0, max_value=0xFFFFFFFF)

physical_credit = st.builds(
    lambda cls, tid, field, rnd: cls(tid=tid, amount=sts.decode_amount(field), rnd=rnd),
    st.sampled_from([CLASS0[i] for i in range(4)]),
    tids,
    fields16,
    rnds,
)
currency_credit = st.builds(
    lambda cls, tid, se, field: cls(tid=tid, amount=sts.amount.decode_currency(se, field)),
    st.sampled_from([CLASS0[i] for i in range(4, 8)]),
    tids,
    rnds,
    fields16,
)
management = st.one_of(
    st.builds(
        lambda t, r, f: sts.SetMaximumPowerLimit(tid=t, rnd=r, watts=sts.amount.decode_units(f)), tids, rnds, fields16
    ),
    st.builds(
        lambda t, r, f: sts.SetPhaseUnbalanceLimit(tid=t, rnd=r, watts=sts.amount.decode_units(f)), tids, rnds, fields16
    ),
    st.builds(lambda t, r, f: sts.ClearCredit(tid=t, rnd=r, register=f), tids, rnds, fields16),
    st.builds(lambda t, r, f: sts.SetTariffRate(tid=t, rnd=r, rate=f), tids, rnds, fields16),
    st.builds(lambda t, r: sts.ClearTamper(tid=t, rnd=r), tids, rnds),
    st.builds(lambda t, r, f: sts.SetWaterMeterFactor(tid=t, rnd=r, factor=f), tids, rnds, fields16),
    st.builds(
        lambda kh, krn, kt, key, ro, res: sts.KeyChange1(
            ken_high=kh, krn=krn, key_type=kt, key_high=key, rollover=ro, reserved=res
        ),
        rnds,
        rnds,
        st.integers(0, 3),
        u32,
        st.booleans(),
        st.integers(0, 1),
    ),
    st.builds(
        lambda kl, ti, key: sts.KeyChange2(ken_low=kl, tariff_index=ti, key_low=key), rnds, st.integers(0, 255), u32
    ),
    st.builds(lambda s, key: sts.KeyChange3(sgc_low=s, key_mid2=key), st.integers(0, 0xFFF), u32),
    st.builds(lambda s, key: sts.KeyChange4(sgc_high=s, key_mid1=key), st.integers(0, 0xFFF), u32),
)
test_tokens = st.one_of(
    st.builds(
        lambda c, m: sts.MeterTestDisplay(control=c, manufacturer_code=m),
        st.integers(0, (1 << 36) - 1),
        st.integers(0, 255),
    ),
    st.builds(
        lambda c, m: sts.MeterTestDisplay(control=c, manufacturer_code=m, format=1),
        st.integers(0, (1 << 28) - 1),
        fields16,
    ),
)


@settings(max_examples=300)
@given(token=st.one_of(physical_credit, currency_credit, management), key=keys)
def test_encrypted_tokens_round_trip(token: sts.Token, key: DecoderKey) -> None:
    digits = sts.encode(token, key)
    assert len(digits) == 20 and sts.token_number.is_valid(digits)
    assert sts.decode(digits, key) == token


@settings(max_examples=100)
@given(token=test_tokens)
def test_class1_tokens_round_trip_without_a_key(token: sts.Token) -> None:
    assert sts.decode(sts.encode(token, None), None) == token
    assert sts.decode(sts.encode(token, None), STA_KEY) == token


@settings(max_examples=500)
@given(value=st.integers(min_value=0, max_value=10**20 - 1), key=keys)
def test_decoding_any_20_digits_raises_only_typed_errors(value: int, key: DecoderKey) -> None:
    with contextlib.suppress(StsError):
        sts.decode(f"{value:020d}", key)


@given(text=st.text(max_size=30))
def test_decoding_any_text_raises_only_typed_errors(text: str) -> None:
    with contextlib.suppress(StsError):
        sts.decode(text, STA_KEY)


@given(block=st.integers(0, (1 << 64) - 1), cls=st.integers(0, 3))
def test_class_transposition_round_trips(block: int, cls: int) -> None:
    assert extract_class(insert_class(block, cls)) == (cls, block)


def _credit() -> sts.ElectricityCredit:
    return sts.ElectricityCredit(tid=5871715, amount=Decimal("0.1"), rnd=5)


def test_known_token() -> None:
    assert sts.encode(_credit(), STA_KEY) == "23716100501183194197"


def test_wrong_key_is_a_crc_error() -> None:
    digits = sts.encode(_credit(), STA_KEY)
    with pytest.raises(TokenCrcError, match="another meter"):
        sts.decode(digits, DecoderKey.from_hex("0123456789abcdef"))


def test_one_wrong_digit_is_a_crc_or_format_error() -> None:
    digits = sts.encode(_credit(), STA_KEY)
    for i in range(20):
        typo = digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1 :]
        with pytest.raises((TokenCrcError, InvalidFormat, UnsupportedToken)):
            sts.decode(typo, STA_KEY)


def test_key_required() -> None:
    with pytest.raises(KeyRequired):
        sts.encode(_credit(), None)
    with pytest.raises(KeyRequired):
        sts.decode(sts.encode(_credit(), STA_KEY), None)


def test_class3_is_unsupported() -> None:
    value = insert_class(0x1234, 3)
    with pytest.raises(UnsupportedToken, match="class 3"):
        sts.decode(f"{value:020d}", STA_KEY)


def test_reserved_subclass_with_valid_crc_is_unsupported() -> None:
    from prabayar.sts import crc
    from prabayar.sts.codec import encrypt_block

    for token_class, subclass in ((0, 8), (2, 10), (2, 15)):
        block = subclass << 60 | 5 << 56 | 1234 << 32
        block |= crc.block_field(token_class, block)
        value = insert_class(encrypt_block(block, STA_KEY), token_class)
        with pytest.raises(UnsupportedToken, match=f"subclass {subclass}"):
            sts.decode(f"{value:020d}", STA_KEY)
    block = 2 << 60
    block |= crc.block_field(1, block)
    with pytest.raises(UnsupportedToken):
        sts.decode(f"{insert_class(block, 1):020d}", None)


def test_length_errors_surface() -> None:
    with pytest.raises(InvalidLength, match="16 digits given, a token has 20"):
        sts.decode("1234 5678 9012 3456", STA_KEY)


def test_token_values_are_checked_on_construction() -> None:
    with pytest.raises(StsError):
        sts.ElectricityCredit(tid=1 << 24, amount=Decimal(1))
    with pytest.raises(StsError):
        sts.ElectricityCredit(tid=1, amount=Decimal(1), rnd=16)
    with pytest.raises(sts.AmountRangeError):
        sts.ElectricityCredit(tid=1, amount=Decimal("2000000"))
    with pytest.raises(sts.AmountRangeError):
        sts.SetMaximumPowerLimit(tid=1, watts=-5)
    with pytest.raises(UnsupportedToken):
        sts.MeterTestDisplay(control=1, format=2)
    with pytest.raises(StsError):
        sts.MeterTestDisplay(control=1 << 36)


def test_amount_is_rounded_up_when_encoded() -> None:
    token = sts.ElectricityCredit(tid=1, amount=Decimal("71.31"))
    assert sts.decode(sts.encode(token, MISTY_KEY), MISTY_KEY).amount == Decimal("71.4")


def test_des_tokens_round_trip() -> None:
    assert sts.decode(sts.encode(_credit(), DEA_KEY), DEA_KEY) == _credit()
