"""Sealing the decoder key inside the state file: it is never written in clear.

The state file is read by the web app and the support diagnosis; the key inside it is sealed
with AES-256-GCM under a key the caller supplies (the meter layer reads no configuration). The
meter number and algorithm are bound in as associated data, so a sealed key copied into another
meter's file does not open.
"""

from __future__ import annotations

import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from prabayar.meter.errors import MeterSetupError


class SecretBox(Protocol):
    """Seals and opens small secrets; ``open`` raises ``ValueError`` when it cannot."""

    @property
    def scheme(self) -> str:
        """Name written into the file so a reader knows how the key was sealed."""
        ...

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes: ...

    def open(self, sealed: bytes, associated_data: bytes) -> bytes: ...


class AesGcmBox:
    """AES-256-GCM with a random 96-bit nonce stored in front of the ciphertext."""

    scheme = "AES-256-GCM"

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != 32:
            raise MeterSetupError(
                "kunci status meter harus 32 byte",
                "the meter state key must be 32 bytes (AES-256)",
            )
        self._aead = AESGCM(key)

    @classmethod
    def from_master_key(cls, master_key: bytes) -> AesGcmBox:
        """A box keyed by HKDF from the platform master key, so the two never share a key."""
        if len(master_key) < 16:
            raise MeterSetupError("kunci induk terlalu pendek", "the master key is too short")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"prabayar meter state v1").derive(
            master_key
        )
        return cls(derived)

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        if len(sealed) < 12 + 16:
            raise ValueError("sealed value too short")
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], associated_data)
        except InvalidTag as exc:
            raise ValueError("authentication failed") from exc

    def __repr__(self) -> str:
        return "AesGcmBox(<256-bit secret>)"
