"""The key store: keys encrypted at rest, bound to their row, never shown, derived on demand."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.config import Settings
from prabayar.sts import BaseDate, Dkga, KeyParameters, KeyType, VendingKey
from prabayar.vending.errors import KeyUnavailable
from prabayar.vending.keystore import (
    KeyStoreError,
    MasterKey,
    SoftwareKeyStore,
    load_or_create_key_file,
)
from prabayar.vending.models import VendingKeyRecord
from prabayar.vending.setup import master_key_for

VK = VendingKey(bytes(range(20)))
PAN = sts.meter_pan.from_meter_number("14312593289")
PARAMS = KeyParameters(
    key_type=KeyType.DUTK, sgc="123456", tariff_index="01", krn=2,
    base_date=BaseDate.Y2014, dkga=Dkga.DKGA04,
)  # fmt: skip


def test_stored_encrypted_and_derives_the_standard_key(engine: Engine) -> None:
    store = SoftwareKeyStore(engine, MasterKey.generate())
    store.import_vending_key("123456", 2, VK, Dkga.DKGA04)
    with Session(engine) as session:
        row = session.scalars(select(VendingKeyRecord)).one()
    assert VK.reveal() not in row.ciphertext
    assert store.has_vending_key("123456", 2)
    assert not store.has_vending_key("123456", 3)
    assert store.vending_key_dkga("123456", 2) is Dkga.DKGA04
    expected = sts.derive_decoder_key(VK, PAN, PARAMS)
    assert store.decoder_key(PAN, PARAMS).reveal() == expected.reveal()
    # A second store (fresh process, same master key) reads the same key back.
    other = SoftwareKeyStore(engine, store._master)
    assert other.decoder_key(PAN, PARAMS).reveal() == expected.reveal()


def test_missing_key_is_a_typed_error(engine: Engine) -> None:
    store = SoftwareKeyStore(engine, MasterKey.generate())
    with pytest.raises(KeyUnavailable, match="supply group 123456 revision 2"):
        store.decoder_key(PAN, PARAMS)


def test_wrong_master_key_and_moved_ciphertext_are_refused(engine: Engine) -> None:
    store = SoftwareKeyStore(engine, MasterKey.generate())
    store.import_vending_key("123456", 2, VK, Dkga.DKGA04)
    store.import_vending_key("123456", 3, VendingKey(bytes(20)), Dkga.DKGA04)
    with pytest.raises(KeyStoreError, match="wrong master key"):
        SoftwareKeyStore(engine, MasterKey.generate()).decoder_key(PAN, PARAMS)
    # Copy KRN 2's ciphertext onto KRN 3's row: the associated data no longer matches.
    with Session(engine) as session:
        row = session.scalars(select(VendingKeyRecord).where(VendingKeyRecord.krn == 2)).one()
        session.execute(
            update(VendingKeyRecord)
            .where(VendingKeyRecord.krn == 3)
            .values(nonce=row.nonce, ciphertext=row.ciphertext)
        )
        session.commit()
    fresh = SoftwareKeyStore(engine, store._master)
    with pytest.raises(KeyStoreError, match="tampered"):
        fresh.has_vending_key("123456", 3)


def test_import_rules(engine: Engine) -> None:
    store = SoftwareKeyStore(engine, MasterKey.generate())
    with pytest.raises(KeyStoreError, match="8 bytes"):
        store.import_vending_key("123456", 1, VK, Dkga.DKGA02)
    with pytest.raises(KeyStoreError, match="20 bytes"):
        store.import_vending_key("123456", 1, VendingKey(bytes(8)), Dkga.DKGA04)
    store.generate_vending_key("123456", 1, Dkga.DKGA02)
    with pytest.raises(KeyStoreError, match="already exists"):
        store.generate_vending_key("123456", 1, Dkga.DKGA02)


def test_nothing_secret_in_reprs(engine: Engine) -> None:
    master = MasterKey.generate()
    store = SoftwareKeyStore(engine, master)
    store.import_vending_key("123456", 2, VK, Dkga.DKGA04)
    key = store.decoder_key(PAN, PARAMS)
    for shown in (repr(master), str(master), repr(store), repr(key)):
        assert master.to_base64() not in shown
        assert key.reveal().hex() not in shown
        assert VK.reveal().hex() not in shown


def test_master_key_parsing() -> None:
    key = MasterKey.generate()
    assert MasterKey.from_base64(key.to_base64()).to_base64() == key.to_base64()
    with pytest.raises(KeyStoreError, match="base64"):
        MasterKey.from_base64("not base64!")
    with pytest.raises(KeyStoreError, match="32 bytes"):
        MasterKey(b"short")


def test_key_file_is_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "data" / "prabayar.masterkey"
    first = load_or_create_key_file(path)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert load_or_create_key_file(path).to_base64() == first.to_base64()
    path.chmod(0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        load_or_create_key_file(path)


def test_master_key_from_settings(tmp_path: Path) -> None:
    key = MasterKey.generate()
    explicit = Settings(master_key=key.to_base64(), data_dir=tmp_path)
    assert master_key_for(explicit).to_base64() == key.to_base64()
    embedded = Settings(data_dir=tmp_path)
    master_key_for(embedded)
    assert (tmp_path / "prabayar.masterkey").exists()
    server = Settings(database_url="postgresql+psycopg://u@db/x", data_dir=tmp_path)
    with pytest.raises(KeyStoreError, match="PRABAYAR_MASTER_KEY must be set"):
        master_key_for(server)


def test_open_service_from_settings(tmp_path: Path) -> None:
    from prabayar.vending.db import upgrade
    from prabayar.vending.setup import open_service

    settings = Settings(
        data_dir=tmp_path / "var",
        cutoff_wib="23:30-00:30",
        kwh_rounding="down",
        household_discount="0.5",  # type: ignore[arg-type]
    )
    service = open_service(settings)
    try:
        assert str(service.cutoff) == "23:30-00:30"
        assert service.kwh_rounding.name == "DOWN"
        assert service.household_discount == Decimal("0.5")
        assert (tmp_path / "var" / "prabayar.masterkey").exists()
        upgrade(engine=service.engine)
        assert service.channels() == []
        assert "prabayar.sqlite3" in repr(service)
    finally:
        service.engine.dispose()


def test_key_operations_are_audited_without_the_key(engine: Engine) -> None:
    from prabayar.vending.models import AuditRow

    store = SoftwareKeyStore(engine, MasterKey.generate())
    store.import_vending_key("123456", 2, VK, Dkga.DKGA04, actor="keyadmin")
    store.generate_vending_key("123456", 3, Dkga.DKGA04)
    with pytest.raises(KeyStoreError):
        store.import_vending_key("123456", 2, VK, Dkga.DKGA04)
    with Session(engine) as session:
        rows = session.scalars(select(AuditRow).order_by(AuditRow.id)).all()
    assert [(r.actor, r.action) for r in rows] == [
        ("keyadmin", "key.vending_import"), ("system", "key.vending_generate"),
    ]  # fmt: skip
    assert '"krn": 2' in rows[0].detail and '"key": "' in rows[0].detail
    assert VK.reveal().hex() not in rows[0].detail
