"""Vending keys, decoder keys, their parameters, and decoder key generation (SPEC section 8).

Key bytes are secrets: ``repr`` and ``str`` of every key object hide them; reading them takes
an explicit ``reveal()`` call so that a leak is visible in review.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from enum import Enum, IntEnum

from prabayar.sts import key_revision, meter_pan, supply_group, tariff_index
from prabayar.sts.ciphers import dea
from prabayar.sts.errors import InvalidKey, KeyExpiredError, ValidationError
from prabayar.sts.tid import BaseDate


class EncryptionAlgorithm(Enum):
    """STS encryption algorithm codes."""

    STA = "07"
    DEA = "09"
    MISTY1 = "11"

    @property
    def key_bytes(self) -> int:
        """Decoder key length: 16 bytes for MISTY1, 8 otherwise."""
        return 16 if self is EncryptionAlgorithm.MISTY1 else 8

    @classmethod
    def parse(cls, text: str) -> EncryptionAlgorithm:
        """Accept "07", "EA07", "STA", "EA07/STA", "11", "MISTY1", "09", "DEA"."""
        t = str(text).upper().replace("EA", "", 1) if str(text).upper().startswith("EA") else str(text).upper()
        for member in cls:
            if t.startswith(member.value) or t == member.name or t.endswith(member.name):
                return member
        raise InvalidKey(f"unknown encryption algorithm {text!r} (07 STA, 09 DEA, 11 MISTY1)")


class KeyType(IntEnum):
    """Decoder key types (IEC 62055-41 6.1.9)."""

    DITK = 0  # initialisation
    DDTK = 1  # default: a meter under it refuses credit
    DUTK = 2  # unique
    DCTK = 3  # common (magnetic cards only)


class Dkga(Enum):
    """Decoder key generation algorithms implemented here."""

    DKGA02 = "02"
    DKGA03 = "03"  # deprecated; no public vectors (see _dkga03)
    DKGA04 = "04"


@dataclass(frozen=True, slots=True)
class KeyParameters:
    """Everything that identifies a meter's decoder key besides the vending key and the PAN."""

    key_type: KeyType
    sgc: str
    tariff_index: str
    krn: int
    ken: int = 255
    algorithm: EncryptionAlgorithm = EncryptionAlgorithm.STA
    base_date: BaseDate = BaseDate.Y1993
    dkga: Dkga = Dkga.DKGA02

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "key_type", KeyType(int(self.key_type)))
        except ValueError as exc:
            raise InvalidKey(f"a key type is 0..3, got {self.key_type!r}") from exc
        try:
            sgc = supply_group.validate(self.sgc)
            ti = tariff_index.validate(self.tariff_index)
            krn = key_revision.validate(self.krn)
        except ValidationError as exc:
            raise InvalidKey(str(exc)) from exc
        try:
            ken = int(self.ken)
        except (TypeError, ValueError) as exc:
            raise InvalidKey(f"a key expiry number is 0..255, got {self.ken!r}") from exc
        if not 0 <= ken <= 255:
            raise InvalidKey(f"a key expiry number is 0..255, got {self.ken}")
        if self.dkga is not Dkga.DKGA04 and self.algorithm is EncryptionAlgorithm.MISTY1:
            raise InvalidKey(f"{self.dkga.name} makes 64-bit keys; MISTY1 needs DKGA04")
        object.__setattr__(self, "sgc", sgc)
        object.__setattr__(self, "tariff_index", ti)
        object.__setattr__(self, "krn", int(krn))
        object.__setattr__(self, "ken", ken)


def _hidden(name: str, size: int) -> str:
    return f"{name}(<{size * 8}-bit secret>)"


@dataclass(frozen=True, slots=True)
class VendingKey:
    """A vending key (VUDK for DKGA02: 8 bytes; DKGA04: 20 bytes or more)."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < 8:
            raise InvalidKey("a vending key has at least 8 bytes")

    @classmethod
    def from_hex(cls, text: str) -> VendingKey:
        """Parse hex (spaces allowed)."""
        try:
            return cls(bytes.fromhex(text.replace(" ", "")))
        except ValueError as exc:
            raise InvalidKey("a vending key is given in hexadecimal") from exc

    def reveal(self) -> bytes:
        """The key bytes (only for the key store and derivation)."""
        return self.secret

    def __repr__(self) -> str:
        return _hidden("VendingKey", len(self.secret))

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class DecoderKey:
    """A meter's decoder key and the algorithm it is used with."""

    secret: bytes = field(repr=False)
    algorithm: EncryptionAlgorithm = EncryptionAlgorithm.STA

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != self.algorithm.key_bytes:
            raise InvalidKey(f"a {self.algorithm.name} decoder key has {self.algorithm.key_bytes} bytes")

    @classmethod
    def from_hex(cls, text: str, algorithm: EncryptionAlgorithm | None = None) -> DecoderKey:
        """Parse MSB-first hex; the algorithm defaults by length (16 hex STA, 32 MISTY1)."""
        try:
            raw = bytes.fromhex(text.replace(" ", ""))
        except ValueError as exc:
            raise InvalidKey("a decoder key is given in hexadecimal") from exc
        if algorithm is None:
            algorithm = EncryptionAlgorithm.MISTY1 if len(raw) == 16 else EncryptionAlgorithm.STA
        return cls(raw, algorithm)

    @property
    def bits(self) -> int:
        """64 or 128."""
        return len(self.secret) * 8

    def reveal(self) -> bytes:
        """The key bytes (only for ciphers, key change tokens and encrypted storage)."""
        return self.secret

    def fingerprint(self) -> str:
        """A short non-secret identifier for logs and audit records."""
        return hashlib.sha256(b"prabayar-dk" + self.secret).hexdigest()[:12]

    def __repr__(self) -> str:
        return _hidden(f"DecoderKey[{self.algorithm.name}]", len(self.secret))

    __str__ = __repr__


def control_block(params: KeyParameters) -> int:
    """CONTROLBlock: KT, SGC, TI, KRN digits as hex nibbles followed by FFFFFF (SPEC 8.2)."""
    return int(f"{int(params.key_type)}{params.sgc}{params.tariff_index}{params.krn}FFFFFF", 16)


def _dkga02(vending_key: VendingKey, pan: str, params: KeyParameters) -> bytes:
    vudk = vending_key.reveal()
    if len(vudk) != 8:
        raise InvalidKey("DKGA02 needs an 8-byte vending key (VUDK)")
    common = params.key_type is KeyType.DCTK
    x = (meter_pan.pan_block(pan, common_key=common) ^ control_block(params)).to_bytes(8, "big")
    e = dea.encrypt_bytes(x, vudk)
    return bytes(a ^ b ^ c for a, b, c in zip(e, x, vudk, strict=True))


def _dkga03(vending_key: VendingKey, pan: str, params: KeyParameters) -> bytes:
    """DEPRECATED DKGA03: two-key triple DES of PANBlock XOR CONTROLBlock, XOR-ed with it again.

    Built from the one-line description in SPEC 8.5 (no public vectors exist); kept only for
    old meters and marked as such in docs/sts.md.
    """
    vk = vending_key.reveal()
    if len(vk) != 16:
        raise InvalidKey("DKGA03 needs a 16-byte vending key (two DES keys)")
    common = params.key_type is KeyType.DCTK
    x = (meter_pan.pan_block(pan, common_key=common) ^ control_block(params)).to_bytes(8, "big")
    e = dea.encrypt_bytes_3des(x, vk)
    return bytes(a ^ b for a, b in zip(e, x, strict=True))


def kdf_input(pan: str, params: KeyParameters) -> bytes:
    """The DKGA04 message: length-prefixed labels, a 0x00 separator, context, and L (SPEC 8.4)."""
    bits = params.algorithm.key_bytes * 8

    def item(text: str) -> bytes:
        return bytes([len(text)]) + text.encode("ascii")

    labels = [Dkga.DKGA04.value, params.base_date.code, params.algorithm.value, params.tariff_index]
    context = [params.sgc, str(int(params.key_type)), str(params.krn), meter_pan.validate(pan)]
    return (
        bytes([len(labels)]) + b"".join(item(t) for t in labels) + b"\x00"
        + bytes([len(context)]) + b"".join(item(t) for t in context)
        + bits.to_bytes(4, "big")
    )  # fmt: skip


def _dkga04(vending_key: VendingKey, pan: str, params: KeyParameters) -> bytes:
    digest = hmac.digest(vending_key.reveal(), kdf_input(pan, params), hashlib.sha256)
    return digest[: params.algorithm.key_bytes]


def derive_decoder_key(vending_key: VendingKey, pan: str, params: KeyParameters) -> DecoderKey:
    """The decoder key of the meter with ``pan`` (18-digit meter PAN) under ``params``."""
    derive = {Dkga.DKGA02: _dkga02, Dkga.DKGA03: _dkga03, Dkga.DKGA04: _dkga04}[params.dkga]
    raw = derive(vending_key, pan, params)
    return DecoderKey(raw, params.algorithm)


def check_key_expiry(tid: int, ken: int) -> None:
    """Refuse a TID whose top 8 bits exceed the key expiry number (IEC 62055-41 7.3.7)."""
    if tid >> 16 > ken:
        raise KeyExpiredError(
            f"the key has expired: TID {tid} (top byte {tid >> 16:#04x}) is past KEN {ken:#04x}; a key change is needed"
        )
