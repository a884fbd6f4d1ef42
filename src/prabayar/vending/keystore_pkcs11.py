"""A key store in a hardware security module, through PKCS#11 (``PRABAYAR_KEYSTORE=pkcs11``).

Vending keys are token objects that are sensitive and not extractable: after import the back
office never holds them. Decoder keys are derived inside the module and only they leave, into memory:

* **DKGA04** (SPEC 8.4): the vending key is a generic secret; the module computes
  HMAC-SHA-256 over the same KDF message the software path builds (``kdf_input``) with
  ``CKM_SHA256_HMAC``; the decoder key is the first 8 or 16 bytes of the MAC.
* **DKGA02** (SPEC 8.3): the VUDK ``V`` is a ``CKK_DES3`` key of value ``V‖V‖V`` (triple DES
  with three equal keys is single DES; most HSMs no longer offer single DES). DK is
  ``E ⊕ X ⊕ V`` with ``X = PANBlock ⊕ CONTROLBlock`` and ``E = DES_V(X)``. SoftHSM2 has no
  mechanism that XORs data with a key (``CKM_XOR_BASE_AND_DATA``), so the key's XOR mask is
  kept as ``Z = DES_V(V)``
  (a private data object beside the key, written when the key is made): a CBC decryption of
  ``Z`` under the key with IV ``E ⊕ X`` gives ``D_V(Z) ⊕ E ⊕ X = V ⊕ E ⊕ X``. So both the
  cipher step (``CKM_DES3_ECB``) and the XOR with ``V`` (``CKM_DES3_CBC``) run in the module.

What this protects, and what not, is in docs/security.md (rule 8); how to set a token up in
docs/operations.md ("HSM key store").
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e
from sqlalchemy import Engine

from prabayar.sts import DecoderKey, Dkga, KeyParameters, VendingKey
from prabayar.sts import meter_pan as _meter_pan
from prabayar.sts.errors import InvalidKey
from prabayar.sts.keys import KeyType as StsKeyType
from prabayar.sts.keys import control_block, kdf_input
from prabayar.vending.db import claiming_session
from prabayar.vending.errors import KeyUnavailable
from prabayar.vending.keystore import HeldVendingKey, KeyStoreError
from prabayar.vending.models import AuditRow

_CACHE_SIZE = 50_000
_SHA256_BLOCK = 64
_LABEL_PREFIX = "prabayar-vk"
_APPLICATION = "prabayar"
#: The label of the AES key-encryption key (shared with the KMC) that wrapped imports use.
DEFAULT_KEK_LABEL = "prabayar-kek"

# python-pkcs11 builds its key classes from mixins at run time, so keys are typed Any here.
_Key = Any
_libraries: dict[str, Any] = {}
_libraries_lock = threading.Lock()
# Which PIN a module/token of this process is logged in with (a keyed digest, never the PIN).
_logins: dict[tuple[str, str], bytes] = {}
_PIN_SALT = secrets.token_bytes(32)


def load_module(path: str) -> Any:
    """The PKCS#11 module at ``path``, loaded and initialised once per process."""
    with _libraries_lock:
        lib = _libraries.get(path)
        if lib is None:
            try:
                lib = pkcs11.lib(path)
            except (p11e.PKCS11Error, OSError) as exc:
                raise KeyStoreError(f"the PKCS#11 module {path} cannot be loaded: {exc}") from exc
            _libraries[path] = lib
        return lib


def key_label(sgc: str, krn: int, dkga: Dkga) -> str:
    """The token label of a vending key: ``prabayar-vk:<SGC>:<KRN>:<DKGA>``."""
    return f"{_LABEL_PREFIX}:{sgc}:{krn}:{dkga.value}"


def key_id(sgc: str, krn: int) -> bytes:
    """The token ID (``CKA_ID``) of a vending key: ``<SGC>:<KRN>`` in ASCII."""
    return f"{sgc}:{krn}".encode("ascii")


def _info_label(sgc: str, krn: int, dkga: Dkga) -> str:
    """The private data object beside a key: when it was made and, for DKGA02, its XOR mask."""
    return f"{key_label(sgc, krn, dkga)}:info"


# Attributes every vending key object carries: a token object that never leaves the module.
_LOCKED: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.MODIFIABLE: False,
    Attribute.WRAP: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
_DKGA02_USE: dict[Attribute, Any] = {
    Attribute.ENCRYPT: True,
    Attribute.DECRYPT: True,
    Attribute.SIGN: False,
    Attribute.VERIFY: False,
}
_DKGA04_USE: dict[Attribute, Any] = {
    Attribute.SIGN: True,
    Attribute.VERIFY: False,
    Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False,
}


#: The PKCS#11 mechanisms this store uses, and what for (docs/operations.md lists them too).
REQUIRED_MECHANISMS: dict[Mechanism, str] = {
    Mechanism.DES3_ECB: "DKGA02 cipher step E = DES(VUDK, X); the DKGA02 key check value and XOR mask",
    Mechanism.DES3_CBC: "DKGA02 XOR with the VUDK, inside the module (CBC decryption of the mask)",
    Mechanism.SHA256_HMAC: "DKGA04 derivation HMAC-SHA-256(VK, KDF message); DKGA04 key check values",
    Mechanism.GENERIC_SECRET_KEY_GEN: "generating DKGA04 vending keys inside the module",
    Mechanism.AES_KEY_WRAP: "importing vending keys wrapped per RFC 3394 (C_UnwrapKey)",
    Mechanism.AES_KEY_WRAP_PAD: "importing vending keys wrapped per RFC 5649 (8- and 20-byte keys)",
}


def aes_check_value(secret: bytes) -> str:
    """The usual key check value of an AES key: AES-ECB of a zero block, first 3 bytes in hex."""
    encryptor = Cipher(algorithms.AES(secret), modes.ECB()).encryptor()
    return (encryptor.update(bytes(16)) + encryptor.finalize())[:3].hex()


#: Errors after which a new session (and login) may work again.
_SESSION_LOST = (
    p11e.SessionHandleInvalid,
    p11e.SessionClosed,
    p11e.UserNotLoggedIn,
    p11e.DeviceRemoved,
    p11e.TokenNotPresent,
)


def _xor(*blocks: bytes) -> bytes:
    out = bytearray(len(blocks[0]))
    for block in blocks:
        for i, b in enumerate(block):
            out[i] ^= b
    return bytes(out)


class Pkcs11KeyStore:
    """Vending keys as non-extractable objects in a PKCS#11 token; derivation in the module.

    ``kek_label`` names the token's AES key-encryption key for wrapped imports; ``engine``
    (optional) receives the audit rows of key generation and import, as the
    software store writes them. One logged-in session serves the process; calls are
    serialised by a lock (a PKCS#11 session is not safe for concurrent operations) and decoder
    keys are cached in memory like the software store's.
    """

    def __init__(
        self,
        module: str,
        token_label: str,
        pin: str,
        *,
        kek_label: str = DEFAULT_KEK_LABEL,
        engine: Engine | None = None,
    ) -> None:
        lib = load_module(module)
        try:
            token = lib.get_token(token_label=token_label)
        except p11e.NoSuchToken as exc:
            raise KeyStoreError(f"no PKCS#11 token labelled {token_label!r} in {module}") from exc
        except p11e.MultipleTokensReturned as exc:
            raise KeyStoreError(f"more than one PKCS#11 token is labelled {token_label!r}") from exc
        try:
            self._session = self._open(module, token_label, token, pin)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange) as exc:
            raise KeyStoreError(f"the PIN for PKCS#11 token {token_label!r} is wrong") from exc
        except p11e.PinLocked as exc:
            raise KeyStoreError(f"the user PIN of PKCS#11 token {token_label!r} is locked") from exc
        self._module = module
        self._token_label = token_label
        self._pin = pin  # to log in again when the HSM drops the session (never shown)
        self._kek_label = kek_label
        self._engine = engine
        self._lock = threading.RLock()
        self._decoder_keys: OrderedDict[tuple[str, KeyParameters], DecoderKey] = OrderedDict()
        self._keys: dict[tuple[str, int], tuple[_Key, Dkga, bytes | None]] = {}
        self._hmac_min = self._hmac_min_key_bytes(token)

    @staticmethod
    def _open(module: str, token_label: str, token: Any, pin: str) -> Any:
        """A logged-in R/W session; PKCS#11 logs in per process and token, not per session."""
        digest = hmac.new(_PIN_SALT, pin.encode(), hashlib.sha256).digest()
        with _libraries_lock:
            try:
                session = token.open(rw=True, user_pin=pin)
            except p11e.UserAlreadyLoggedIn:
                # Another store of this process logged in already: its sessions share the login,
                # so a new one must not log in again, but must know the same PIN.
                known = _logins.get((module, token_label))
                if known is None or not hmac.compare_digest(known, digest):
                    raise p11e.PinIncorrect() from None
                return token.open(rw=True)
            _logins[(module, token_label)] = digest
            return session

    def __repr__(self) -> str:
        return f"Pkcs11KeyStore(module={self._module!r}, token={self._token_label!r})"

    @staticmethod
    def _hmac_min_key_bytes(token: pkcs11.Token) -> int:
        try:
            info = token.slot.get_mechanism_info(Mechanism.SHA256_HMAC)
        except p11e.PKCS11Error as exc:
            raise KeyStoreError("the PKCS#11 token does not offer CKM_SHA256_HMAC (DKGA04)") from exc
        return max(1, int(info.min_key_length or 1))

    def mechanism_report(self) -> list[tuple[str, bool, str]]:
        """(mechanism, offered by the token, what the store uses it for), for ``prabayar hsm check``."""
        offered = set(self._session.token.slot.get_mechanisms())
        return [(f"CKM_{m.name}", m in offered, why) for m, why in REQUIRED_MECHANISMS.items()]

    def import_kek(self, secret: bytes, label: str | None = None) -> str:
        """Put the AES key-encryption key shared with the KMC into the token (unwrap-only,
        sensitive, not extractable); returns its check value (AES of a zero block, 3 bytes)."""
        if len(secret) not in (16, 24, 32):
            raise KeyStoreError("the key-encryption key must be 16, 24 or 32 bytes")
        label = label or self._kek_label
        with self._lock:
            existing = list(
                self._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label})
            )
            if existing:
                raise KeyStoreError(f"the token already holds a key labelled {label!r}; keys are never overwritten")
            try:
                self._session.create_object(
                    {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
                     Attribute.VALUE: secret, Attribute.LABEL: label, Attribute.ID: label.encode(),
                     **_LOCKED, Attribute.UNWRAP: True, Attribute.ENCRYPT: False, Attribute.DECRYPT: False,
                     Attribute.SIGN: False, Attribute.VERIFY: False}
                )  # fmt: skip
            except p11e.PKCS11Error as exc:
                raise KeyStoreError(f"the HSM refused the key-encryption key: {exc!r}") from exc
        return aes_check_value(secret)

    def close(self) -> None:
        """Log out and close the session (the process's module stays loaded)."""
        with self._lock:
            self._keys.clear()
            self._decoder_keys.clear()
            self._session.close()

    # -- lookup ---------------------------------------------------------------------------------

    def _find(self, sgc: str, krn: int) -> tuple[_Key, Dkga, bytes | None]:
        with self._lock:
            cached = self._keys.get((sgc, krn))
            if cached is not None:
                return cached
            found = list(
                self._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.ID: key_id(sgc, krn)})
            )
            keys = [k for k in found if str(k[Attribute.LABEL]).startswith(f"{_LABEL_PREFIX}:")]
            if not keys:
                raise KeyUnavailable(sgc, krn)
            if len(keys) > 1:
                raise KeyStoreError(f"the token holds {len(keys)} vending keys for SGC {sgc} KRN {krn}")
            key = keys[0]
            dkga = Dkga(str(key[Attribute.LABEL]).rsplit(":", 1)[1])
            mask_hex = self._info(sgc, krn, dkga).get("xor_mask")
            if dkga is Dkga.DKGA02 and not isinstance(mask_hex, str):
                raise KeyStoreError(f"the DKGA02 key for SGC {sgc} KRN {krn} has no XOR mask in its info object")
            entry = (key, dkga, bytes.fromhex(mask_hex) if isinstance(mask_hex, str) else None)
            self._keys[(sgc, krn)] = entry
            return entry

    def _info(self, sgc: str, krn: int, dkga: Dkga) -> dict[str, Any]:
        objects = list(
            self._session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: _info_label(sgc, krn, dkga)})
        )
        if len(objects) != 1:
            return {}
        info = json.loads(bytes(objects[0][Attribute.VALUE]))
        return info if isinstance(info, dict) else {}

    def _write_info(self, key: _Key, sgc: str, krn: int, dkga: Dkga, mask: bytes | None = None) -> None:
        """Write the key's info object; without it the key is not kept (destroyed)."""
        info: dict[str, str] = {"created_at": datetime.now(UTC).isoformat()}
        if mask is not None:
            info["xor_mask"] = mask.hex()
        try:
            self._session.create_object(
                {Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: True, Attribute.PRIVATE: True,
                 Attribute.MODIFIABLE: False, Attribute.LABEL: _info_label(sgc, krn, dkga),
                 Attribute.APPLICATION: _APPLICATION, Attribute.VALUE: json.dumps(info).encode()}
            )  # fmt: skip
        except BaseException:
            key.destroy()
            raise

    def has_vending_key(self, sgc: str, krn: int) -> bool:
        try:
            self._find(sgc, krn)
        except KeyUnavailable:
            return False
        return True

    def vending_key_dkga(self, sgc: str, krn: int) -> Dkga:
        return self._find(sgc, krn)[1]

    def key_object(self, sgc: str, krn: int) -> _Key:
        """The token object of a vending key (to inspect its attributes; its value stays inside)."""
        return self._find(sgc, krn)[0]

    # -- derivation -----------------------------------------------------------------------------

    def decoder_key(self, meter_pan: str, params: KeyParameters) -> DecoderKey:
        cache_key = (meter_pan, params)
        with self._lock:
            cached = self._decoder_keys.get(cache_key)
            if cached is not None:
                self._decoder_keys.move_to_end(cache_key)
                return cached
            try:
                raw = self._derive(meter_pan, params)
            except _SESSION_LOST:
                # The HSM restarted or dropped the session: log in again once and retry.
                self._reconnect()
                raw = self._derive(meter_pan, params)
            derived = DecoderKey(raw, params.algorithm)
            self._decoder_keys[cache_key] = derived
            while len(self._decoder_keys) > _CACHE_SIZE:
                self._decoder_keys.popitem(last=False)
            return derived

    def _derive(self, meter_pan: str, params: KeyParameters) -> bytes:
        key, dkga, mask = self._find(params.sgc, params.krn)
        if params.dkga is not dkga:
            raise InvalidKey(
                f"the vending key for SGC {params.sgc} KRN {params.krn} is a {dkga.name} key, not {params.dkga.name}"
            )
        try:
            if dkga is Dkga.DKGA02:
                assert mask is not None
                return self._dkga02(key, mask, meter_pan, params)
            mac = key.sign(kdf_input(meter_pan, params), mechanism=Mechanism.SHA256_HMAC)
            return bytes(mac)[: params.algorithm.key_bytes]
        except _SESSION_LOST:
            raise
        except p11e.PKCS11Error as exc:
            raise KeyStoreError(f"the HSM refused the {dkga.name} derivation: {exc!r}") from exc

    def _reconnect(self) -> None:
        self._keys.clear()
        with contextlib.suppress(p11e.PKCS11Error):  # already gone
            self._session.close()
        token = load_module(self._module).get_token(token_label=self._token_label)
        try:
            self._session = self._open(self._module, self._token_label, token, self._pin)
        except p11e.PKCS11Error as exc:
            raise KeyStoreError(f"the PKCS#11 session was lost and logging in again failed: {exc!r}") from exc

    @staticmethod
    def _dkga02(key: _Key, mask: bytes, pan: str, params: KeyParameters) -> bytes:
        # The same X as prabayar.sts.keys._dkga02 (SPEC 8.3 step 1).
        common = params.key_type is StsKeyType.DCTK
        x = (_meter_pan.pan_block(pan, common_key=common) ^ control_block(params)).to_bytes(8, "big")
        e = bytes(key.encrypt(x, mechanism=Mechanism.DES3_ECB))  # step 2, in the module
        # Step 3, in the module: CBC-decrypting Z = DES_V(V) with IV E⊕X gives V⊕E⊕X.
        return bytes(key.decrypt(mask, mechanism=Mechanism.DES3_CBC, mechanism_param=_xor(e, x)))

    # -- making keys ----------------------------------------------------------------------------

    def _refuse_existing(self, sgc: str, krn: int) -> None:
        if self.has_vending_key(sgc, krn):
            raise KeyStoreError(f"a vending key for SGC {sgc} KRN {krn} already exists")

    def _template(self, sgc: str, krn: int, dkga: Dkga) -> dict[Attribute, Any]:
        use = _DKGA02_USE if dkga is Dkga.DKGA02 else _DKGA04_USE
        return {
            Attribute.LABEL: key_label(sgc, krn, dkga),
            Attribute.ID: key_id(sgc, krn),
            **_LOCKED,
            **use,
        }

    def _key_check_value(self, key: _Key, dkga: Dkga) -> str:
        """A short non-secret name of the key for the audit log, computed in the module."""
        if dkga is Dkga.DKGA02:  # the classic KCV: DES of a zero block
            return bytes(key.encrypt(bytes(8), mechanism=Mechanism.DES3_ECB))[:3].hex()
        mac = key.sign(b"prabayar-key-check-value", mechanism=Mechanism.SHA256_HMAC)
        return bytes(mac)[:6].hex()

    def _audit(self, actor: str, action: str, sgc: str, krn: int, dkga: Dkga, kcv: str) -> None:
        if self._engine is None:
            return
        with claiming_session(self._engine) as session:
            session.add(
                AuditRow(
                    at=datetime.now(UTC),
                    actor=actor,
                    action=action,
                    meter_number=None,
                    detail=json.dumps(
                        {"sgc": sgc, "krn": krn, "dkga": dkga.value, "store": "pkcs11", "kcv": kcv},
                        sort_keys=True,
                    ),
                )
            )

    def _create_dkga02(self, sgc: str, krn: int, vudk: bytes) -> _Key:
        if len(vudk) != 8:
            raise KeyStoreError("a DKGA02 vending key has 8 bytes")
        template = self._template(sgc, krn, Dkga.DKGA02)
        key = self._session.create_object(
            {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.DES3,
             Attribute.VALUE: vudk * 3, **template}
        )  # fmt: skip
        try:
            mask = bytes(key.encrypt(vudk, mechanism=Mechanism.DES3_ECB))
        except BaseException:
            key.destroy()
            raise
        self._write_info(key, sgc, krn, Dkga.DKGA02, mask)
        return key

    def _create_dkga04(self, sgc: str, krn: int, secret: bytes) -> _Key:
        if len(secret) < 20:
            raise KeyStoreError("a DKGA04 vending key has at least 20 bytes")
        if len(secret) < self._hmac_min:
            if self._hmac_min > _SHA256_BLOCK:
                # Zero padding is only the same HMAC key up to the block size (longer keys are
                # hashed first); a token asking for more probably counts in bits: refuse.
                raise KeyStoreError(
                    f"the token wants HMAC-SHA-256 keys of at least {self._hmac_min} (bytes?); "
                    f"a {len(secret)}-byte DKGA04 key cannot be padded to that without changing it"
                )
            # HMAC pads a key shorter than its 64-byte block with zeros (RFC 2104 section 2), so
            # the zero-padded key gives the same MAC; the token wants at least _hmac_min bytes.
            secret = secret + bytes(self._hmac_min - len(secret))
        key = self._session.create_object(
            {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
             Attribute.VALUE: secret, **self._template(sgc, krn, Dkga.DKGA04)}
        )  # fmt: skip
        self._write_info(key, sgc, krn, Dkga.DKGA04)
        return key

    def _import_plain(self, sgc: str, krn: int, raw: bytes, dkga: Dkga) -> str:
        try:
            obj = self._create_dkga02(sgc, krn, raw) if dkga is Dkga.DKGA02 else self._create_dkga04(sgc, krn, raw)
            return self._key_check_value(obj, dkga)
        except p11e.PKCS11Error as exc:
            raise KeyStoreError(f"the HSM refused the key import: {exc!r}") from exc

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
        """Create a vending key object from plain key bytes (a key ceremony or a dev key).

        Returns the key check value that names the key in the audit log and the inventory.
        """
        if dkga is Dkga.DKGA03:
            raise KeyStoreError("the HSM key store makes DKGA02 and DKGA04 keys only")
        with self._lock:
            self._refuse_existing(sgc, krn)
            kcv = self._import_plain(sgc, krn, key.reveal(), dkga)
        self._audit(actor, action, sgc, krn, dkga, kcv)
        return kcv

    def _unwrap(self, wrapped: bytes, key_type: KeyType, template: dict[Attribute, Any]) -> _Key:
        """C_UnwrapKey under the token's KEK: RFC 3394 (``CKM_AES_KEY_WRAP``) or RFC 5649
        (``CKM_AES_KEY_WRAP_PAD``), told apart as the software store does (by trying)."""
        keks = list(
            self._session.get_objects(
                {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
                 Attribute.LABEL: self._kek_label}
            )
        )  # fmt: skip
        if len(keks) != 1:
            raise KeyStoreError(
                f"the token holds no single AES key-encryption key labelled {self._kek_label!r} "
                "(PRABAYAR_PKCS11_KEK_LABEL; docs/operations.md says how to import it)"
            )
        mechanisms = []
        if len(wrapped) >= 24 and len(wrapped) % 8 == 0:
            mechanisms.append(Mechanism.AES_KEY_WRAP)
        if len(wrapped) >= 16 and len(wrapped) % 8 == 0:
            mechanisms.append(Mechanism.AES_KEY_WRAP_PAD)
        for mechanism in mechanisms:
            try:
                return keks[0].unwrap_key(
                    ObjectClass.SECRET_KEY, key_type, wrapped, mechanism=mechanism,
                    store=bool(template.get(Attribute.TOKEN, False)), template=template,
                )  # fmt: skip
            except p11e.PKCS11Error:  # an integrity failure is CKR_GENERAL_ERROR on SoftHSM2
                continue
        raise KeyStoreError(
            f"the wrapped key does not unwrap under the token's KEK {self._kek_label!r} (wrong KEK or damaged key)"
        )

    def _unwrap_into_memory(self, wrapped: bytes) -> bytes:
        """Unwrap as an extractable session object and read it: the key passes through memory."""
        obj = self._unwrap(
            wrapped, KeyType.GENERIC_SECRET,
            {Attribute.TOKEN: False, Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
        )  # fmt: skip
        try:
            return bytes(obj[Attribute.VALUE])
        except p11e.PKCS11Error as exc:
            raise KeyStoreError(
                "the token will not release an unwrapped key to memory (its KEK has an unwrap template?); "
                "import this key in plain at a key ceremony"
            ) from exc
        finally:
            obj.destroy()

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
        """Unwrap a KMC-wrapped vending key under the token's KEK (``PRABAYAR_PKCS11_KEK_LABEL``).

        A DKGA04 key is unwrapped straight into a locked token object and never exists outside
        the module, unless the token's HMAC needs longer keys than the one delivered (SoftHSM2
        wants 32 bytes; KMC keys have 20): then, as for every DKGA02 VUDK (whose XOR mask needs
        the key as data, which PKCS#11 cannot produce from a key it unwrapped), the key is
        unwrapped into memory once and imported as in ``import_vending_key``.
        """
        if dkga is Dkga.DKGA03:
            raise KeyStoreError("the HSM key store makes DKGA02 and DKGA04 keys only")
        with self._lock:
            self._refuse_existing(sgc, krn)
            if dkga is Dkga.DKGA04:
                obj = self._unwrap(wrapped, KeyType.GENERIC_SECRET, self._template(sgc, krn, dkga))
                # Some tokens (SoftHSM2) leave CKA_VALUE_LEN at 0 after unwrapping; the HMAC of
                # the key check value then tells whether the token takes a key of this size.
                size = int(obj[Attribute.VALUE_LEN] or 0)
                try:
                    if 0 < size < 20:
                        raise KeyStoreError(f"the unwrapped key has {size} bytes; a DKGA04 key has at least 20")
                    kcv = self._key_check_value(obj, dkga)
                    self._write_info(obj, sgc, krn, dkga)
                except p11e.KeySizeRange:
                    obj.destroy()
                    raw = self._unwrap_into_memory(wrapped)
                    kcv = self._import_plain(sgc, krn, raw, dkga)
                except BaseException:
                    obj.destroy()
                    raise
            else:
                kcv = self._import_plain(sgc, krn, self._unwrap_into_memory(wrapped), dkga)
        self._audit(actor, action, sgc, krn, dkga, kcv)
        return kcv

    def vending_key_inventory(self) -> list[HeldVendingKey]:
        """Every vending key object in the token: (SGC, KRN, DKGA, key check value, when made)."""
        held = []
        with self._lock:
            for obj in list(self._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})):
                parts = str(obj[Attribute.LABEL]).split(":")
                if len(parts) != 4 or parts[0] != _LABEL_PREFIX:
                    continue
                dkga = Dkga(parts[3])
                made = self._info(parts[1], int(parts[2]), dkga).get("created_at")
                created = datetime.fromisoformat(made) if isinstance(made, str) else datetime.min.replace(tzinfo=UTC)
                held.append(HeldVendingKey(parts[1], int(parts[2]), dkga, self._key_check_value(obj, dkga), created))
        return sorted(held, key=lambda k: (k.sgc, k.krn))

    def generate_vending_key(self, sgc: str, krn: int, dkga: Dkga = Dkga.DKGA04, *, actor: str = "system") -> None:
        """Make a new vending key in the token.

        DKGA04: a 256-bit generic secret generated in the module (``CKM_GENERIC_SECRET_KEY_GEN``)
        that never leaves it. DKGA02: PKCS#11 cannot generate a ``V‖V‖V`` triple-DES key, so
        the 8 bytes come from the module's random generator and are imported at once.
        """
        if dkga is Dkga.DKGA03:
            raise KeyStoreError("the HSM key store makes DKGA02 and DKGA04 keys only")
        with self._lock:
            self._refuse_existing(sgc, krn)
            try:
                if dkga is Dkga.DKGA02:
                    obj = self._create_dkga02(sgc, krn, bytes(self._session.generate_random(64)))
                else:
                    generated = self._session.generate_key(
                        KeyType.GENERIC_SECRET, 256,
                        mechanism=Mechanism.GENERIC_SECRET_KEY_GEN,
                        store=True, template=self._template(sgc, krn, dkga),
                    )  # fmt: skip
                    self._write_info(generated, sgc, krn, dkga)
                    obj = generated
                kcv = self._key_check_value(obj, dkga)
            except p11e.PKCS11Error as exc:
                raise KeyStoreError(f"the HSM refused to generate the key: {exc!r}") from exc
        self._audit(actor, "key.vending_generate", sgc, krn, dkga, kcv)
