"""Vending keys from the key management centre: import (plain hex or AES-wrapped), list.

One key per (SGC, KRN), never overwritten and never exported; the store shows a fingerprint,
never the key. A key is *current* for its supply group when meters in service use its
revision, *staged* when it is held for a later revision no meter uses yet (the next key
change moves meters onto it), *retired* when an older revision no meter uses any more.

The CLI, run by an administrator on the server, imports at once (``server=True``); an import
through the API or console is a maker-checker request (kind ``key.import``, wrapped keys only:
a clear key never travels over the network) that another admin approves.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from prabayar.sts import Dkga, VendingKey
from prabayar.vending import validation
from prabayar.vending.approvals import ApprovalKind, ApprovalRequest, ApprovalUseCases, register_approval_kind
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import InvalidRequest, NotAuthorized
from prabayar.vending.keystore import KeyStoreError
from prabayar.vending.models import Meter, MeterStatus, MeterStock, Role, UserAccount

#: The kind under which an API/console import waits for approval.
APPROVAL_KIND = "key.import"
#: Vending key length per DKGA: DKGA02 a 64-bit DES key, DKGA04 a 160-bit key (SPEC.md 8.4).
KEY_BYTES = {Dkga.DKGA02: 8, Dkga.DKGA04: 20}


@dataclass(frozen=True)
class VendingKeyInfo:
    sgc: str
    krn: int
    dkga: str
    fingerprint: str
    created_at: datetime
    #: current, staged or retired
    state: str
    #: meters (installed or in stock) on this (SGC, KRN)
    meters: int


def parse_key_text(text: str, *, wrapped: bool) -> bytes:
    """Hex digits (spaces, colons and a leading 0x ignored) -> bytes."""
    cleaned = "".join(text.split()).replace(":", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError:
        raise validation.InvalidField("key", "KUNCI HARUS HEKSADESIMAL", "the key file must hold hex digits") from None
    if not raw:
        raise validation.InvalidField("key", "FILE KUNCI KOSONG", "the key file is empty")
    if not wrapped and len(raw) not in KEY_BYTES.values():
        raise validation.InvalidField(
            "key", "PANJANG KUNCI SALAH",
            f"{len(cleaned)} hex digits: a DKGA02 key has 16, a DKGA04 key 40",
        )  # fmt: skip
    return raw


def dkga_for(raw: bytes, *, wrapped: bool, dkga: str | None) -> Dkga:
    """The DKGA named, or the one the key's (or wrapped blob's) length implies."""
    if dkga:
        try:
            return Dkga(dkga.strip().upper().removeprefix("DKGA").zfill(2))
        except ValueError:
            raise validation.InvalidField("dkga", "DKGA HARUS 02 ATAU 04", "DKGA is 02 or 04") from None
    size = len(raw)
    if wrapped:  # RFC 5649 of 8 bytes = 16; of 20 bytes = 32
        size = {16: 8, 32: 20}.get(size, 0)
    for candidate, length in KEY_BYTES.items():
        if size == length:
            return candidate
    raise validation.InvalidField("dkga", "DKGA TIDAK DAPAT DITENTUKAN", "name the DKGA (02 or 04) of this key")


class VendingKeyUseCases(ApprovalUseCases):
    """Import and list vending keys (the store keeps them; nothing here returns key bytes)."""

    def vending_keys(self) -> list[VendingKeyInfo]:
        """Every held vending key with its state and how many meters use it."""
        held = self.key_store.vending_key_inventory()
        with reading_session(self.engine) as session:
            used: dict[tuple[str, int], int] = {}
            for sgc, krn, n in session.execute(
                select(Meter.sgc, Meter.krn, func.count())
                .where(Meter.status.not_in((MeterStatus.REPLACED, MeterStatus.REMOVED)))
                .group_by(Meter.sgc, Meter.krn)
            ):
                used[(sgc, krn)] = used.get((sgc, krn), 0) + int(n)
            for sgc, krn, n in session.execute(
                select(MeterStock.sgc, MeterStock.krn, func.count()).group_by(MeterStock.sgc, MeterStock.krn)
            ):
                used[(sgc, krn)] = used.get((sgc, krn), 0) + int(n)
        highest: dict[str, int] = {}
        for (sgc, krn), n in used.items():
            if n:
                highest[sgc] = max(highest.get(sgc, 0), krn)
        out = []
        for k in held:
            count = used.get((k.sgc, k.krn), 0)
            if count:
                state = "current"
            elif k.krn > highest.get(k.sgc, 0):
                state = "staged"
            else:
                state = "retired"
            out.append(VendingKeyInfo(k.sgc, k.krn, k.dkga.value, k.fingerprint, k.created_at, state, count))
        return out

    def check_vending_key_import(self, sgc: str, krn: object) -> tuple[str, int]:
        """Validate (SGC, KRN) and that no key is held for it yet."""
        params = validation.key_parameters(
            sgc=sgc, tariff_index="01", krn=krn, key_type=2, ea="07", dkga="04", base_date="2014"
        )
        if self.key_store.has_vending_key(params.sgc, params.krn):
            raise InvalidRequest(
                "KUNCI SUDAH ADA (TIDAK DITIMPA)",
                f"a vending key for SGC {params.sgc} KRN {params.krn} is already held; keys are never overwritten",
            )
        return params.sgc, params.krn

    def import_vending_key(
        self,
        actor: str,
        sgc: str,
        krn: object,
        key_text: str,
        reason: str,
        *,
        wrapped: bool = False,
        dkga: str | None = None,
        server: bool = False,
        approved_by: str | None = None,
    ) -> VendingKeyInfo:
        """Import a vending key into the key store and return what may be shown of it.

        ``key_text`` is hex: the clear key (16 digits DKGA02, 40 digits DKGA04) or, with
        ``wrapped``, the AES key-wrap blob made under the configured KEK.
        """
        why = validation.reason(reason)
        if not server:
            if approved_by is None:
                raise InvalidRequest(
                    "IMPOR KUNCI MEMERLUKAN PERSETUJUAN",
                    "a vending key import needs maker-checker approval (another admin approves)",
                )
            if not wrapped:
                raise InvalidRequest(
                    "HANYA KUNCI TERBUNGKUS (WRAPPED) LEWAT API",
                    "only wrapped keys may be imported through the API or console",
                )
            with reading_session(self.engine) as session:
                user = session.scalar(select(UserAccount).where(UserAccount.username == approved_by))
                if user is None or not user.active or user.role != Role.ADMIN:
                    raise NotAuthorized(approved_by, "approve a vending key import")
        group, revision = self.check_vending_key_import(sgc, krn)
        raw = parse_key_text(key_text, wrapped=wrapped)
        algorithm = dkga_for(raw, wrapped=wrapped, dkga=dkga)
        try:
            if wrapped:
                self.key_store.import_wrapped_vending_key(
                    group, revision, raw, algorithm, actor=actor, action="key.vending_import_wrapped"
                )
            else:
                if len(raw) != KEY_BYTES[algorithm]:
                    raise validation.InvalidField(
                        "key", "PANJANG KUNCI TIDAK SESUAI DKGA",
                        f"a {algorithm.name} vending key has {KEY_BYTES[algorithm] * 2} hex digits",
                    )  # fmt: skip
                self.key_store.import_vending_key(
                    group, revision, VendingKey(raw), algorithm, actor=actor, action="key.vending_import"
                )
        except KeyStoreError as exc:
            raise InvalidRequest("KUNCI DITOLAK OLEH KEY STORE", str(exc)) from exc
        except binascii.Error as exc:  # pragma: no cover - parse_key_text already refused it
            raise InvalidRequest("KUNCI TIDAK VALID", str(exc)) from exc
        now = self.now()
        with claiming_session(self.engine) as session:
            self._audit(
                session, now, actor, "key.import", None, sgc=group, krn=revision, dkga=algorithm.value,
                wrapped=wrapped, reason=why, approved_by=approved_by, server=server,
            )  # fmt: skip
        return next(k for k in self.vending_keys() if k.sgc == group and k.krn == revision)

    def request_vending_key_import(
        self, maker: str, sgc: str, krn: object, wrapped_key_hex: str, reason: str, *, dkga: str | None = None
    ) -> ApprovalRequest:
        """A maker's request to import a WRAPPED key (API/console); imported when another admin
        approves. The payload holds the wrapped blob only (useless without the KEK)."""
        why = validation.reason(reason)
        group, revision = self.check_vending_key_import(sgc, krn)
        raw = parse_key_text(wrapped_key_hex, wrapped=True)
        algorithm = dkga_for(raw, wrapped=True, dkga=dkga)
        return self.request_approval(
            APPROVAL_KIND,
            maker,
            why,
            {"sgc": group, "krn": revision, "dkga": algorithm.value, "wrapped_key_hex": raw.hex()},
        )


def _execute(service: Any, request: ApprovalRequest, checker: str) -> dict[str, Any]:
    p = request.payload
    info: VendingKeyInfo = service.import_vending_key(
        request.maker,
        p["sgc"],
        p["krn"],
        p["wrapped_key_hex"],
        f"{request.reason} (approval {request.id})",
        wrapped=True,
        dkga=p["dkga"],
        approved_by=checker,
    )
    return {"sgc": info.sgc, "krn": info.krn, "dkga": info.dkga, "fingerprint": info.fingerprint}


register_approval_kind(
    ApprovalKind(
        APPROVAL_KIND, "Impor kunci vending", "Vending key import", _execute, maker_roles=frozenset({Role.ADMIN})
    )
)
