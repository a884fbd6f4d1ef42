"""Block ciphers on their own: STA (both table sets), MISTY1 (RFC 2994), DES (FIPS 46 example)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from prabayar.sts.ciphers import dea, misty1, sta

u64 = st.integers(min_value=0, max_value=(1 << 64) - 1)


def test_sta_iec_annex_example_with_sample_tables() -> None:
    assert sta.encrypt(0x0B19EB230100C207, 0x0ABC12DEF3456789, sample_tables=True) == 0xC45ED1619406DF95
    assert sta.decrypt(0xC45ED1619406DF95, 0x0ABC12DEF3456789, sample_tables=True) == 0x0B19EB230100C207


def test_sta_ctsa01_block() -> None:
    assert sta.encrypt(0x05599863000119E6, 0xE653341F9D5BF36F) == 0x492083C0AE7CE455


@settings(max_examples=200)
@given(block=u64, key=u64)
def test_sta_decrypt_inverts_encrypt(block: int, key: int) -> None:
    assert sta.decrypt(sta.encrypt(block, key), key) == block


def test_sta_key_matters() -> None:
    assert sta.encrypt(0, 1) != sta.encrypt(0, 2)


def test_misty1_rfc2994_vectors() -> None:
    key = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert misty1.encrypt(0x0123456789ABCDEF, key) == 0x8B1DA5F56AB3D07C
    assert misty1.encrypt(0xFEDCBA9876543210, key) == 0x04B68240B13BE95D
    assert misty1.decrypt(0x8B1DA5F56AB3D07C, key) == 0x0123456789ABCDEF


@settings(max_examples=100)
@given(block=u64, key=st.binary(min_size=16, max_size=16))
def test_misty1_decrypt_inverts_encrypt(block: int, key: bytes) -> None:
    assert misty1.decrypt(misty1.encrypt(block, key), key) == block


def test_des_fips_example() -> None:
    key = bytes.fromhex("133457799bbcdff1")
    assert dea.encrypt(0x0123456789ABCDEF, key) == 0x85E813540F0AB405
    assert dea.decrypt(0x85E813540F0AB405, key) == 0x0123456789ABCDEF
