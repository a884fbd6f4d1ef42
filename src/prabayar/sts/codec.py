"""Token <-> 20 digits: CRC, encryption, class-bit transposition (SPEC sections 5, 6, 7, 11).

``decode`` never raises anything but ``StsError``: every malformed input maps to a typed error.
"""

from __future__ import annotations

from dataclasses import dataclass

from prabayar.sts import crc, token_number
from prabayar.sts.ciphers import dea, misty1, sta
from prabayar.sts.errors import KeyRequired, StsError, TokenCrcError, UnsupportedToken
from prabayar.sts.keys import DecoderKey, EncryptionAlgorithm
from prabayar.sts.tokens import CLASS0, CLASS2, MeterTestDisplay, Token

_MASK64 = (1 << 64) - 1
_BIT27 = 1 << 27
_BIT28 = 1 << 28
_CLEAR_CLASS_BITS = _MASK64 ^ (_BIT27 | _BIT28)


@dataclass(frozen=True, slots=True)
class EncodedToken:
    """A token with the intermediate values of its encoding (for conformance and debugging)."""

    token: Token
    plaintext_block: int
    encrypted_block: int
    value66: int

    @property
    def digits(self) -> str:
        """The 20-digit token number."""
        return f"{self.value66:020d}"


def encrypt_block(block: int, key: DecoderKey) -> int:
    """Encrypt a 64-bit data block with the key's algorithm."""
    algorithm = key.algorithm
    if algorithm is EncryptionAlgorithm.STA:
        return sta.encrypt(block, int.from_bytes(key.reveal(), "big"))
    if algorithm is EncryptionAlgorithm.MISTY1:
        return misty1.encrypt(block, key.reveal())
    return dea.encrypt(block, key.reveal())


def decrypt_block(block: int, key: DecoderKey) -> int:
    """Decrypt a 64-bit data block with the key's algorithm."""
    algorithm = key.algorithm
    if algorithm is EncryptionAlgorithm.STA:
        return sta.decrypt(block, int.from_bytes(key.reveal(), "big"))
    if algorithm is EncryptionAlgorithm.MISTY1:
        return misty1.decrypt(block, key.reveal())
    return dea.decrypt(block, key.reveal())


def insert_class(block: int, token_class: int) -> int:
    """66-bit value: class bits into bits 28/27, the displaced bits to bits 65/64 (SPEC 7)."""
    return (
        (block >> 28 & 1) << 65 | (block >> 27 & 1) << 64
        | (block & _CLEAR_CLASS_BITS) | (token_class & 3) << 27
    )  # fmt: skip


def extract_class(value66: int) -> tuple[int, int]:
    """(class, 64-bit block) from a 66-bit token value."""
    token_class = value66 >> 27 & 3
    block = (value66 & _CLEAR_CLASS_BITS) | (value66 >> 65 & 1) << 28 | (value66 >> 64 & 1) << 27
    return token_class, block


def plaintext_block(token: Token) -> int:
    """The data block of ``token`` with its CRC (or CRC_C) in bits 15..0."""
    packed = token.pack()
    return packed | crc.block_field(token.token_class, packed, currency=token.currency_crc)


def encode_trace(token: Token, key: DecoderKey | None) -> EncodedToken:
    """Encode and keep the intermediate blocks."""
    block = plaintext_block(token)
    if token.token_class == 1:
        encrypted = block
    elif key is None:
        raise KeyRequired(f"a {token.name} token is encrypted: a decoder key is needed")
    else:
        encrypted = encrypt_block(block, key)
    return EncodedToken(token, block, encrypted, insert_class(encrypted, token.token_class))


def encode(token: Token, key: DecoderKey | None) -> str:
    """The 20-digit token number of ``token`` (``key`` may be None only for class 1)."""
    return encode_trace(token, key).digits


def parse_block(token_class: int, block: int) -> Token:
    """Check the CRC of a plaintext block and read it as a typed token."""
    subclass = block >> 60
    currency = token_class == 0 and 4 <= subclass <= 7
    if block & 0xFFFF != crc.block_field(token_class, block, currency=currency):
        raise TokenCrcError(
            "the token fails its check (CRC): it was made for another meter or key, or a digit was typed wrong"
        )
    return read_block(token_class, block)


def read_block(token_class: int, block: int) -> Token:
    """Read a plaintext block whose CRC has been checked as a typed token (reserved: error)."""
    subclass = block >> 60
    if token_class == 1:
        if subclass > 1:
            raise UnsupportedToken(f"class 1 subclass {subclass} is reserved")
        return MeterTestDisplay.unpack(block)
    table = CLASS0 if token_class == 0 else CLASS2
    kind = table.get(subclass)
    if kind is None:
        raise UnsupportedToken(f"class {token_class} subclass {subclass} is reserved")
    return kind.unpack(block)


def decode_trace(digits: str, key: DecoderKey | None) -> EncodedToken:
    """Decode and keep the intermediate blocks; raises only ``StsError``."""
    try:
        value = token_number.to_int(digits)
    except StsError:
        raise
    except Exception as exc:  # e.g. a non-string argument
        raise StsError(f"cannot read {digits!r} as a token") from exc
    token_class, encrypted = extract_class(value)
    if token_class == 3:
        raise UnsupportedToken("token class 3 is reserved: this is not an STS token")
    if token_class == 1:
        block = encrypted
    elif key is None:
        raise KeyRequired("class 0 and class 2 tokens can only be read with the meter's key")
    else:
        block = decrypt_block(encrypted, key)
    try:
        token = parse_block(token_class, block)
    except StsError:
        raise
    except Exception as exc:  # defensive: decode must never raise untyped
        raise StsError(f"cannot read the token fields: {exc}") from exc
    return EncodedToken(token, block, encrypted, value)


def decode(digits: str, key: DecoderKey | None) -> Token:
    """The typed token behind a 20-digit string, decrypted with ``key``."""
    return decode_trace(digits, key).token
