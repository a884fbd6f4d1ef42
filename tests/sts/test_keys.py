"""Keys: derivation, parameters, secrecy, key change sets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prabayar import sts
from prabayar.sts import (
    BaseDate,
    DecoderKey,
    Dkga,
    EncryptionAlgorithm,
    InvalidKey,
    KeyParameters,
    KeyType,
    VendingKey,
)
from prabayar.sts.keys import control_block, kdf_input

PAN = "600727000000000009"
VK04 = VendingKey.from_hex("abababababababab949494949494949401234567")


def test_dkga02_ctsa01() -> None:
    params = KeyParameters(key_type=KeyType.DUTK, sgc="123456", tariff_index="01", krn=1)
    assert control_block(params) == 0x2123456011FFFFFF
    key = sts.derive_decoder_key(VendingKey.from_hex("abababababababab"), PAN, params)
    assert key.reveal().hex() == "e653341f9d5bf36f"


def test_dkga04_misty1_and_sta() -> None:
    params = KeyParameters(
        key_type=KeyType.DUTK, sgc="123457", tariff_index="01", krn=1,
        algorithm=EncryptionAlgorithm.MISTY1, dkga=Dkga.DKGA04,
    )  # fmt: skip
    assert kdf_input(PAN, params).hex() == (
        "04023034023933023131023031000406313233343537013201311236303037323730303030303030303030303900000080"
    )
    assert sts.derive_decoder_key(VK04, PAN, params).reveal().hex() == "f94b6ed353c3bfdb113e2d3a7ea3c41d"
    sta_params = KeyParameters(
        key_type=KeyType.DUTK, sgc="123457", tariff_index="01", krn=1, dkga=Dkga.DKGA04,
    )  # fmt: skip
    assert sts.derive_decoder_key(VK04, PAN, sta_params).reveal().hex() == "aa4baa8749c10d27"
    later = KeyParameters(
        key_type=KeyType.DUTK, sgc="123457", tariff_index="01", krn=5, dkga=Dkga.DKGA04,
        base_date=BaseDate.Y2035,
    )  # fmt: skip
    assert sts.derive_decoder_key(VK04, PAN, later).reveal().hex() == "b08205e074afc5d6"


def test_secrets_never_in_repr() -> None:
    vk = VendingKey.from_hex("abababababababab")
    dk = DecoderKey.from_hex("e653341f9d5bf36f")
    for obj in (vk, dk, sts.KeyChange1(ken_high=15, krn=1, key_type=2, key_high=0x060B8643)):
        assert "abab" not in repr(obj) and "e653" not in repr(obj) and "101419587" not in repr(obj)
        assert "060b8643" not in repr(obj).lower()
    assert "secret" in repr(dk) and "secret" in str(vk)
    assert len(dk.fingerprint()) == 12 and dk.fingerprint() not in dk.reveal().hex()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sgc": "12345"},
        {"sgc": "12345A"},
        {"tariff_index": "123"},
        {"krn": 0},
        {"krn": 10},
        {"ken": 256},
        {"algorithm": EncryptionAlgorithm.MISTY1},
    ],
)
def test_bad_key_parameters(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"key_type": KeyType.DUTK, "sgc": "123456", "tariff_index": "01", "krn": 1}
    with pytest.raises(InvalidKey):
        KeyParameters(**(base | kwargs))  # type: ignore[arg-type]


def test_single_digit_tariff_index_is_padded() -> None:
    assert KeyParameters(key_type=2, sgc="123456", tariff_index="7", krn=1).tariff_index == "07"  # type: ignore[arg-type]


def test_bad_key_material() -> None:
    with pytest.raises(InvalidKey):
        DecoderKey(b"\x00" * 7)
    with pytest.raises(InvalidKey):
        DecoderKey(b"\x00" * 8, EncryptionAlgorithm.MISTY1)
    with pytest.raises(InvalidKey):
        DecoderKey.from_hex("zz")
    with pytest.raises(InvalidKey):
        VendingKey(b"short")
    with pytest.raises(InvalidKey):
        VendingKey.from_hex("not hex")
    params = KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey, match="8-byte"):
        sts.derive_decoder_key(VK04, PAN, params)
    with pytest.raises(InvalidKey):
        EncryptionAlgorithm.parse("EA13")


def test_algorithm_names() -> None:
    assert EncryptionAlgorithm.parse("EA07/STA") is EncryptionAlgorithm.STA
    assert EncryptionAlgorithm.parse("11") is EncryptionAlgorithm.MISTY1
    assert EncryptionAlgorithm.parse("dea") is EncryptionAlgorithm.DEA


def test_key_change_sets_match_ctsa05() -> None:
    current = DecoderKey.from_hex("e653341f9d5bf36f")
    new = DecoderKey.from_hex("060b8643c59a27f1")
    params = KeyParameters(key_type=2, sgc="123456", tariff_index="02", krn=1, ken=255)  # type: ignore[arg-type]
    assert sts.encode_key_change(current, new, params) == ["51638423060042734509", "15361891762113502242"]


def test_128_bit_key_change_set_and_reassembly() -> None:
    current = DecoderKey.from_hex("f94b6ed353c3bfdb113e2d3a7ea3c41d")
    new = DecoderKey.from_hex("b208834372ef892ef6e04c28593090d4")
    params = KeyParameters(
        key_type=2, sgc="123457", tariff_index="02", krn=1, algorithm=EncryptionAlgorithm.MISTY1,  # type: ignore[arg-type]
        dkga=Dkga.DKGA04,
    )  # fmt: skip
    digits = sts.encode_key_change(current, new, params)
    assert digits[2:] == ["71464563847088610152", "67904239402617643990"]
    sections = {t.subclass: t for t in (sts.decode(d, current) for d in digits)}
    assert sts.assemble_key(sections, 16) == new.reveal()


def test_key_change_refuses_mismatched_algorithm() -> None:
    params = KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        sts.key_change_tokens(DecoderKey.from_hex("00" * 16), params)


def test_token_made_with_derived_key_decodes() -> None:
    params = KeyParameters(
        key_type=2, sgc="600100", tariff_index="01", krn=2, dkga=Dkga.DKGA04, base_date=BaseDate.Y2014
    )  # type: ignore[arg-type]
    pan = sts.meter_pan.from_meter_number("14312593289")
    dk = sts.derive_decoder_key(VK04, pan, params)
    token = sts.ElectricityCredit(tid=123456, amount=Decimal("53.2"), rnd=9)
    assert sts.decode(sts.encode(token, dk), dk) == token


def test_dkga03_deprecated_triple_des() -> None:
    """No public vectors: check the construction against cryptography's 3DES directly."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    vk = bytes.fromhex("0123456789abcdeffedcba9876543210")
    params = KeyParameters(key_type=KeyType.DUTK, sgc="123456", tariff_index="01", krn=1, dkga=Dkga.DKGA03)
    x = (0x0072700000000000 ^ 0x2123456011FFFFFF).to_bytes(8, "big")
    enc = Cipher(TripleDES(vk + vk[:8]), modes.ECB()).encryptor()
    e = enc.update(x) + enc.finalize()
    want = bytes(a ^ b for a, b in zip(e, x, strict=True))
    assert sts.derive_decoder_key(VendingKey(vk), PAN, params).reveal() == want
    with pytest.raises(InvalidKey, match="16-byte"):
        sts.derive_decoder_key(VendingKey.from_hex("abababababababab"), PAN, params)
    with pytest.raises(InvalidKey):
        KeyParameters(
            key_type=KeyType.DUTK, sgc="123456", tariff_index="01", krn=1, dkga=Dkga.DKGA03,
            algorithm=EncryptionAlgorithm.MISTY1,
        )  # fmt: skip


def test_key_parameters_refuse_untyped_garbage_with_typed_errors() -> None:
    for kwargs in ({"key_type": 7}, {"ken": "many"}, {"krn": "x"}):
        base: dict[str, object] = {"key_type": KeyType.DUTK, "sgc": "123456", "tariff_index": "01", "krn": 1}
        with pytest.raises(InvalidKey):
            KeyParameters(**(base | kwargs))  # type: ignore[arg-type]
