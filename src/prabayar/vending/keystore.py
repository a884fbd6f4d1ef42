"""The key store: vending keys encrypted at rest, decoder keys derived on demand.

A protocol, so that a hardware security module can replace the software store later: the
back office only ever asks "the decoder key of this meter under these parameters" and never
sees a vending key. The software store keeps each vending key AES-GCM encrypted under a
256-bit master key (``PRABAYAR_MASTER_KEY``, or for the embedded default a key file with mode
0600 beside the SQLite database), bound to its (SGC, KRN, DKGA) as associated data so that a
ciphertext cannot be moved to another row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_unwrap_with_padding,
)
from sqlalchemy import Engine, select

from prabayar.sts import DecoderKey, Dkga, KeyParameters, VendingKey, derive_decoder_key
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import KeyUnavailable
from prabayar.vending.models import AuditRow, VendingKeyRecord

MASTER_KEY_FILE = "prabayar.masterkey"
_CACHE_SIZE = 50_000


class KeyStoreError(Exception):
    """The key store cannot work (bad master key, tampered ciphertext, unsafe key file)."""


class MasterKey:
    """The 256-bit key that encrypts vending keys; its repr never shows the bytes."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise KeyStoreError("the master key must be 32 bytes (base64 of 32 random bytes)")
        self._secret = secret

    @classmethod
    def from_base64(cls, text: str) -> MasterKey:
        try:
            return cls(base64.b64decode(text.strip(), validate=True))
        except (binascii.Error, ValueError) as exc:
            raise KeyStoreError("PRABAYAR_MASTER_KEY is not valid base64") from exc

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(32))

    def to_base64(self) -> str:
        return base64.b64encode(self._secret).decode("ascii")

    def aead(self) -> AESGCM:
        return AESGCM(self._secret)

    def __repr__(self) -> str:
        return "MasterKey(<256-bit secret>)"

    __str__ = __repr__


class KeyEncryptionKey:
    """The AES key (128/192/256-bit) under which the key management centre wraps vending keys.

    Configured as ``PRABAYAR_KEK`` (base64); its repr never shows the bytes.
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) not in (16, 24, 32):
            raise KeyStoreError("the key-encryption key must be 16, 24 or 32 bytes (base64)")
        self._secret = secret

    @classmethod
    def from_base64(cls, text: str) -> KeyEncryptionKey:
        try:
            return cls(base64.b64decode(text.strip(), validate=True))
        except (binascii.Error, ValueError) as exc:
            raise KeyStoreError("PRABAYAR_KEK is not valid base64") from exc

    def unwrap(self, wrapped: bytes) -> bytes:
        """AES key unwrap: RFC 3394, or its padded form RFC 5649 for keys whose length is not a
        multiple of 8 bytes (a DKGA02 DES key has 8 bytes, a DKGA04 vending key 20); the integrity
        check of either form refuses a wrong KEK or a damaged blob."""
        if len(wrapped) >= 24 and len(wrapped) % 8 == 0:
            try:
                return aes_key_unwrap(self._secret, wrapped)
            except InvalidUnwrap:
                pass
        if len(wrapped) >= 16 and len(wrapped) % 8 == 0:
            try:
                return aes_key_unwrap_with_padding(self._secret, wrapped)
            except InvalidUnwrap:
                pass
        raise KeyStoreError("the wrapped key does not unwrap under this KEK (wrong KEK or damaged key)")

    def __repr__(self) -> str:
        return "KeyEncryptionKey(<secret>)"

    __str__ = __repr__


def vending_key_fingerprint(key: VendingKey) -> str:
    """A short non-secret id of a vending key (a truncated SHA-256), shown instead of the key."""
    return hashlib.sha256(b"prabayar-vk" + key.reveal()).hexdigest()[:12]


@dataclass(frozen=True)
class HeldVendingKey:
    """What may be shown about a vending key in the store: never the key itself."""

    sgc: str
    krn: int
    dkga: Dkga
    fingerprint: str
    created_at: datetime


def load_or_create_key_file(path: Path) -> MasterKey:
    """The embedded default: a generated master key in a file only its owner can read."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyStoreError(
                f"{path} is readable by others (mode {mode:o}); run chmod 600 on it"
            )
        return MasterKey.from_base64(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = MasterKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_or_create_key_file(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.to_base64() + "\n")
    return key


class KeyStore(Protocol):
    """What vending needs from key custody; an HSM-backed store implements the same."""

    def decoder_key(self, meter_pan: str, params: KeyParameters) -> DecoderKey:
        """The meter's decoder key; raises ``KeyUnavailable`` without a vending key."""
        ...

    def has_vending_key(self, sgc: str, krn: int) -> bool:
        """Whether a vending key for this supply group and revision is held."""
        ...

    def vending_key_dkga(self, sgc: str, krn: int) -> Dkga:
        """The decoder key generation algorithm the held key is meant for."""
        ...

    def generate_vending_key(
        self, sgc: str, krn: int, dkga: Dkga = Dkga.DKGA04, *, actor: str = "system"
    ) -> None:
        """Create a new vending key inside the store (it is never returned)."""
        ...

    def import_vending_key(
        self, sgc: str, krn: int, key: VendingKey, dkga: Dkga = Dkga.DKGA04, *, actor: str = "system",
        action: str = "key.vending_import",
    ) -> str | None:
        """Store a plain vending key (development / KMC plain delivery); returns its fingerprint."""
        ...

    def import_wrapped_vending_key(
        self, sgc: str, krn: int, wrapped: bytes, dkga: Dkga, *, actor: str = "system",
        action: str = "key.vending_import_wrapped",
    ) -> str | None:
        """Store a vending key wrapped (RFC 3394/5649) under the store's own configured KEK."""
        ...

    def vending_key_inventory(self) -> list[HeldVendingKey]:
        """Every held vending key's (SGC, KRN, DKGA, fingerprint, created) — never the key."""
        ...


class SoftwareKeyStore:
    """Vending keys in the ``vending_keys`` table, AES-GCM encrypted under a master key."""

    def __init__(self, engine: Engine, master_key: MasterKey, *, kek: KeyEncryptionKey | None = None) -> None:
        self._engine = engine
        self._master = master_key
        self._kek = kek
        self._lock = threading.Lock()
        self._decoder_keys: OrderedDict[tuple[str, KeyParameters], DecoderKey] = OrderedDict()
        self._vending_keys: dict[tuple[str, int], tuple[VendingKey, Dkga]] = {}

    def __repr__(self) -> str:
        return f"SoftwareKeyStore({self._engine.url.render_as_string(hide_password=True)!r})"

    @staticmethod
    def _aad(sgc: str, krn: int, dkga: Dkga) -> bytes:
        return f"prabayar-vending-key:{sgc}:{krn}:{dkga.value}".encode()

    def import_vending_key(
        self,
        sgc: str,
        krn: int,
        key: VendingKey,
        dkga: Dkga = Dkga.DKGA04,
        *,
        actor: str = "system",
        action: str = "key.vending_import",
    ) -> str:
        """Store a vending key (encrypted, audited); an existing (SGC, KRN) is never overwritten.

        Returns the key's fingerprint."""
        if dkga is Dkga.DKGA02 and len(key.reveal()) != 8:
            raise KeyStoreError("a DKGA02 vending key has 8 bytes")
        if dkga is Dkga.DKGA04 and len(key.reveal()) < 20:
            raise KeyStoreError("a DKGA04 vending key has at least 20 bytes")
        nonce = secrets.token_bytes(12)
        ciphertext = self._master.aead().encrypt(nonce, key.reveal(), self._aad(sgc, krn, dkga))
        with claiming_session(self._engine) as session:
            exists = session.scalar(
                select(VendingKeyRecord.id).where(
                    VendingKeyRecord.sgc == sgc, VendingKeyRecord.krn == krn
                )
            )
            if exists is not None:
                raise KeyStoreError(f"a vending key for SGC {sgc} KRN {krn} already exists")
            now = datetime.now(UTC)
            session.add(
                VendingKeyRecord(
                    sgc=sgc,
                    krn=krn,
                    dkga=dkga.value,
                    nonce=nonce,
                    ciphertext=ciphertext,
                    created_at=now,
                )
            )
            # The fingerprint names the key without revealing it (a truncated SHA-256).
            fingerprint = vending_key_fingerprint(key)
            session.add(
                AuditRow(
                    at=now,
                    actor=actor,
                    action=action,
                    meter_number=None,
                    detail=json.dumps(
                        {"sgc": sgc, "krn": krn, "dkga": dkga.value, "key": fingerprint},
                        sort_keys=True,
                    ),
                )
            )
        return fingerprint

    def _key_encryption_key(self) -> KeyEncryptionKey:
        if self._kek is None:
            from prabayar.config import get_settings

            configured = get_settings().kek
            if configured is None:
                raise KeyStoreError("no key-encryption key: set PRABAYAR_KEK (base64 AES key) to import wrapped keys")
            self._kek = KeyEncryptionKey.from_base64(configured.get_secret_value())
        return self._kek

    def import_wrapped_vending_key(
        self,
        sgc: str,
        krn: int,
        wrapped: bytes,
        dkga: Dkga,
        *,
        actor: str = "system",
        action: str = "key.vending_import_wrapped",
    ) -> str:
        """Unwrap a KMC-wrapped vending key under the configured KEK and store it; the clear key
        exists only in memory for the moment of re-encryption under the master key."""
        raw = self._key_encryption_key().unwrap(wrapped)
        return self.import_vending_key(sgc, krn, VendingKey(raw), dkga, actor=actor, action=action)

    def vending_key_inventory(self) -> list[HeldVendingKey]:
        with reading_session(self._engine) as session:
            records = session.scalars(select(VendingKeyRecord).order_by(VendingKeyRecord.sgc, VendingKeyRecord.krn))
            return [
                HeldVendingKey(r.sgc, r.krn, Dkga(r.dkga), vending_key_fingerprint(self._decrypt(r)[0]), r.created_at)
                for r in records
            ]

    def generate_vending_key(
        self, sgc: str, krn: int, dkga: Dkga = Dkga.DKGA04, *, actor: str = "system"
    ) -> None:
        """Create a random vending key for (SGC, KRN); it never leaves the store."""
        size = 8 if dkga is Dkga.DKGA02 else 20
        self.import_vending_key(
            sgc, krn, VendingKey(secrets.token_bytes(size)), dkga,
            actor=actor, action="key.vending_generate",
        )  # fmt: skip

    def _vending_key(self, sgc: str, krn: int) -> tuple[VendingKey, Dkga]:
        cached = self._vending_keys.get((sgc, krn))
        if cached is not None:
            return cached
        # A miss loads every key (there are few): later sales then never need the database
        # here, even while they hold a claim on a meter row.
        with reading_session(self._engine) as session:
            records = session.scalars(select(VendingKeyRecord)).all()
        loaded = {(r.sgc, r.krn): self._decrypt(r) for r in records}
        with self._lock:
            self._vending_keys.update(loaded)
        if (sgc, krn) not in loaded:
            raise KeyUnavailable(sgc, krn)
        return loaded[(sgc, krn)]

    def _decrypt(self, record: VendingKeyRecord) -> tuple[VendingKey, Dkga]:
        dkga = Dkga(record.dkga)
        try:
            raw = self._master.aead().decrypt(
                record.nonce, record.ciphertext, self._aad(record.sgc, record.krn, dkga)
            )
        except InvalidTag as exc:
            raise KeyStoreError(
                f"the vending key for SGC {record.sgc} KRN {record.krn} cannot be decrypted: "
                "wrong master key or a tampered row"
            ) from exc
        return VendingKey(raw), dkga

    def has_vending_key(self, sgc: str, krn: int) -> bool:
        try:
            self._vending_key(sgc, krn)
        except KeyUnavailable:
            return False
        return True

    def vending_key_dkga(self, sgc: str, krn: int) -> Dkga:
        return self._vending_key(sgc, krn)[1]

    def decoder_key(self, meter_pan: str, params: KeyParameters) -> DecoderKey:
        cache_key = (meter_pan, params)
        with self._lock:
            cached = self._decoder_keys.get(cache_key)
            if cached is not None:
                self._decoder_keys.move_to_end(cache_key)
                return cached
        vending_key, _dkga = self._vending_key(params.sgc, params.krn)
        derived = derive_decoder_key(vending_key, meter_pan, params)
        with self._lock:
            self._decoder_keys[cache_key] = derived
            while len(self._decoder_keys) > _CACHE_SIZE:
                self._decoder_keys.popitem(last=False)
        return derived
