"""The PKCS#11 key store against SoftHSM2: same keys and tokens as software, keys stay inside.

The tests make their own SoftHSM2 configuration and token in a temporary directory (one per
test process: a PKCS#11 module reads its configuration once, when it is initialised), so no
machine-wide token is needed. Without SoftHSM2 (Debian package ``softhsm2``) they skip.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap, aes_key_wrap_with_padding
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.config import Settings
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
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.demo import DEMO_CUSTOMERS, UNITS, seed_demo
from prabayar.vending.errors import KeyUnavailable
from prabayar.vending.keystore import KeyEncryptionKey, KeyStoreError, MasterKey, SoftwareKeyStore
from prabayar.vending.models import AuditRow
from prabayar.vending.service import VendingService
from prabayar.vending.setup import key_store_for, open_service

_CANDIDATES = [
    os.environ.get("PRABAYAR_TEST_PKCS11_MODULE", ""),
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
]
MODULE = next((p for p in _CANDIDATES if p and Path(p).is_file()), None)
pytestmark = pytest.mark.skipif(
    MODULE is None or shutil.which("softhsm2-util") is None,
    reason="SoftHSM2 is not installed (apt-get install softhsm2; .ci/run does it): "
    "the PKCS#11 key store tests need libsofthsm2.so and softhsm2-util",
)

if MODULE is not None:
    pkcs11 = pytest.importorskip("pkcs11")
    from pkcs11 import Attribute, ObjectClass
    from pkcs11 import KeyType as P11KeyType
    from pkcs11 import exceptions as p11e

    from prabayar.vending.keystore_pkcs11 import Pkcs11KeyStore, key_id, key_label, load_module

TOKEN = "prabayar-test"
TOKEN_DEMO = "prabayar-demo"  # holds the demo data set's keys
PIN = "4711-user"
SO_PIN = "0815-so"
KEK = bytes(range(100, 132))
KEK_LABEL = "prabayar-test-kek"

PAN = "600727000000000009"  # SPEC 8.1 examples
VUDK = VendingKey.from_hex("abababababababab")  # SPEC 8.3 CTSA01
VK04 = VendingKey.from_hex("abababababababab949494949494949401234567")  # SPEC 8.4


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SoftHSM2 configuration and initialised token of this test process; the module path."""
    assert MODULE is not None
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label in (TOKEN, TOKEN_DEMO):
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
            check=True, capture_output=True,
        )  # fmt: skip
    lib = load_module(MODULE)  # initialised now, with this configuration
    with lib.get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
        session.create_object(
            {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: P11KeyType.AES,
             Attribute.VALUE: KEK, Attribute.LABEL: KEK_LABEL, Attribute.TOKEN: True,
             Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.UNWRAP: True,
             Attribute.WRAP: True, Attribute.ENCRYPT: False, Attribute.DECRYPT: False}
        )  # fmt: skip
    yield MODULE
    if saved is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = saved


@pytest.fixture
def hsm(softhsm: str) -> Iterator[Any]:
    store = Pkcs11KeyStore(softhsm, TOKEN, PIN, kek_label=KEK_LABEL)
    yield store
    store.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database (not one per backend: the token outlives a test)."""
    engine = create_engine_for(f"sqlite:///{tmp_path / 'vending.sqlite3'}")
    upgrade(engine=engine)
    yield engine
    engine.dispose()


def _params(sgc: str, krn: int, **kw: Any) -> KeyParameters:
    return KeyParameters(key_type=KeyType.DUTK, sgc=sgc, tariff_index="01", krn=krn, **kw)


def _tokens(key: DecoderKey) -> list[str]:
    """Credit tokens of several amounts and TIDs made with ``key``."""
    return [
        sts.encode(sts.ElectricityCredit(tid=5871715 + i, amount=Decimal(amount), rnd=i % 16), key)
        for i, amount in enumerate(("0.1", "25.5", "100", "1234.5"))
    ]


PANS = [PAN, sts.meter_pan.from_meter_number("14312593289"), "000001000000000082"]


def test_dkga02_sta_keys_and_tokens_match_the_software_store(hsm: Any, db: Engine) -> None:
    software = SoftwareKeyStore(db, MasterKey.generate())
    software.import_vending_key("123456", 1, VUDK, Dkga.DKGA02)
    hsm.import_vending_key("123456", 1, VUDK, Dkga.DKGA02)
    params = _params("123456", 1)
    key = hsm.decoder_key(PAN, params)
    assert key.reveal().hex() == "e653341f9d5bf36f"  # SPEC 8.3 worked example
    assert sts.encode(sts.ElectricityCredit(tid=5871715, amount=Decimal("0.1"), rnd=5), key) == ("23716100501183194197")
    for pan in PANS:
        for kt in (KeyType.DDTK, KeyType.DUTK):
            p = KeyParameters(key_type=kt, sgc="123456", tariff_index="07", krn=1)
            hsm_key, soft_key = hsm.decoder_key(pan, p), software.decoder_key(pan, p)
            assert hsm_key.reveal() == soft_key.reveal()
            assert _tokens(hsm_key) == _tokens(soft_key)


def test_dkga04_misty1_and_sta_keys_and_tokens_match_the_software_store(hsm: Any, db: Engine) -> None:
    software = SoftwareKeyStore(db, MasterKey.generate())
    software.import_vending_key("123457", 1, VK04, Dkga.DKGA04)
    hsm.import_vending_key("123457", 1, VK04, Dkga.DKGA04)
    misty = _params("123457", 1, algorithm=EncryptionAlgorithm.MISTY1, dkga=Dkga.DKGA04)
    assert hsm.decoder_key(PAN, misty).reveal().hex() == "f94b6ed353c3bfdb113e2d3a7ea3c41d"  # SPEC 8.4
    assert hsm.decoder_key(PAN, _params("123457", 1, dkga=Dkga.DKGA04)).reveal().hex() == "aa4baa8749c10d27"
    for pan in PANS:
        for algorithm in (EncryptionAlgorithm.MISTY1, EncryptionAlgorithm.STA):
            for base_date in (BaseDate.Y1993, BaseDate.Y2014):
                p = _params("123457", 1, algorithm=algorithm, dkga=Dkga.DKGA04, base_date=base_date)
                hsm_key, soft_key = hsm.decoder_key(pan, p), software.decoder_key(pan, p)
                assert hsm_key.reveal() == soft_key.reveal()
                assert hsm_key.algorithm is soft_key.algorithm is algorithm
                assert _tokens(hsm_key) == _tokens(soft_key)


def test_vending_key_objects_are_not_extractable(hsm: Any) -> None:
    hsm.import_vending_key("223344", 1, VUDK, Dkga.DKGA02)
    hsm.import_vending_key("223344", 2, VK04, Dkga.DKGA04)
    hsm.generate_vending_key("223344", 3, Dkga.DKGA04)
    for krn, dkga in ((1, Dkga.DKGA02), (2, Dkga.DKGA04), (3, Dkga.DKGA04)):
        key = hsm.key_object("223344", krn)
        assert key.label == key_label("223344", krn, dkga) and key.id == key_id("223344", krn)
        assert key[Attribute.SENSITIVE] is True and key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.TOKEN] is True and key[Attribute.PRIVATE] is True
        with pytest.raises(p11e.AttributeSensitive):
            key[Attribute.VALUE]  # reading CKA_VALUE fails
        with pytest.raises(p11e.PKCS11Error):  # nor can it be wrapped out, nor unlocked
            key[Attribute.EXTRACTABLE] = True
        for wrapping in list(hsm._session.get_objects({Attribute.LABEL: KEK_LABEL})):
            with pytest.raises(p11e.PKCS11Error):
                wrapping.wrap_key(key)
    generated = hsm.key_object("223344", 3)
    assert generated[Attribute.LOCAL] is True and generated[Attribute.NEVER_EXTRACTABLE] is True
    assert generated[Attribute.VALUE_LEN] == 32


def test_generated_keys_derive_stable_keys_and_are_audited(softhsm: str, db: Engine) -> None:
    store = Pkcs11KeyStore(softhsm, TOKEN, PIN, engine=db)
    store.generate_vending_key("334455", 1, Dkga.DKGA02, actor="keyadmin")
    store.generate_vending_key("334455", 2, Dkga.DKGA04, actor="keyadmin")
    assert store.vending_key_dkga("334455", 1) is Dkga.DKGA02
    assert store.vending_key_dkga("334455", 2) is Dkga.DKGA04
    sta = store.decoder_key(PAN, _params("334455", 1))
    misty = store.decoder_key(PAN, _params("334455", 2, algorithm=EncryptionAlgorithm.MISTY1, dkga=Dkga.DKGA04))
    assert sta.bits == 64 and misty.bits == 128
    store.close()
    # A new process (a fresh session) finds the same keys in the token and derives the same.
    again = Pkcs11KeyStore(softhsm, TOKEN, PIN)
    assert again.decoder_key(PAN, _params("334455", 1)).reveal() == sta.reveal()
    again.close()
    with Session(db) as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action == "key.vending_generate")).all()
    assert [(r.actor, json.loads(r.detail)["krn"]) for r in rows] == [("keyadmin", 1), ("keyadmin", 2)]
    for row in rows:
        detail = json.loads(row.detail)
        assert detail["store"] == "pkcs11" and len(detail["kcv"]) in (6, 12)
        assert sta.reveal().hex() not in row.detail


def test_unwrapping_keys_under_the_tokens_kek(hsm: Any, db: Engine) -> None:
    """Blobs as the KMC sends them (RFC 5649 for 8 and 20 bytes, RFC 3394 for whole blocks)."""
    software = SoftwareKeyStore(db, MasterKey.generate(), kek=KeyEncryptionKey(KEK))
    blobs = {
        1: (aes_key_wrap_with_padding(KEK, VUDK.reveal()), Dkga.DKGA02),  # via memory (XOR mask)
        2: (aes_key_wrap_with_padding(KEK, VK04.reveal()), Dkga.DKGA04),  # via memory on SoftHSM2
        # RFC 3394 needs whole 8-byte blocks: a key zero-padded to 32 bytes is, for HMAC, the
        # same key (RFC 2104 section 2), and one this long stays inside the token.
        3: (aes_key_wrap(KEK, VK04.reveal() + bytes(12)), Dkga.DKGA04),
    }
    kcvs: dict[int, str] = {}
    for krn, (blob, dkga) in blobs.items():
        kcv = kcvs[krn] = hsm.import_wrapped_vending_key("445566", krn, blob, dkga)
        software.import_wrapped_vending_key("445566", krn, blob, dkga)
        assert kcv and VK04.reveal().hex()[:12] not in kcv
        key = hsm.key_object("445566", krn)
        assert key[Attribute.EXTRACTABLE] is False and key[Attribute.SENSITIVE] is True
        with pytest.raises(p11e.AttributeSensitive):
            key[Attribute.VALUE]
    assert hsm.key_object("445566", 3)[Attribute.LOCAL] is False  # unwrapped, not generated
    assert (
        hsm.decoder_key(PAN, _params("445566", 1)).reveal() == software.decoder_key(PAN, _params("445566", 1)).reveal()
    )
    for krn, algorithm in (
        (2, EncryptionAlgorithm.MISTY1),
        (3, EncryptionAlgorithm.MISTY1),
        (3, EncryptionAlgorithm.STA),
    ):
        p = _params("445566", krn, algorithm=algorithm, dkga=Dkga.DKGA04)
        assert hsm.decoder_key(PAN, p).reveal() == software.decoder_key(PAN, p).reveal()
    assert kcvs[2] == kcvs[3]  # the 20-byte key and its zero-padded form are one HMAC key
    # Failures: a blob under another KEK, no such KEK in the token, DKGA03, an existing key.
    with pytest.raises(KeyStoreError, match="does not unwrap under the token's KEK"):
        hsm.import_wrapped_vending_key("445566", 4, aes_key_wrap_with_padding(bytes(32), VK04.reveal()), Dkga.DKGA04)
    with pytest.raises(KeyStoreError, match="does not unwrap"):
        hsm.import_wrapped_vending_key("445566", 4, b"\x01" * 12, Dkga.DKGA04)
    other = Pkcs11KeyStore(MODULE, TOKEN, PIN, kek_label="no-such-kek")
    with pytest.raises(KeyStoreError, match="no single AES key-encryption key labelled 'no-such-kek'"):
        other.import_wrapped_vending_key("445566", 4, blobs[2][0], Dkga.DKGA04)
    other.close()
    with pytest.raises(KeyStoreError, match="DKGA02 and DKGA04 keys only"):
        hsm.import_wrapped_vending_key("445566", 4, blobs[2][0], Dkga.DKGA03)
    with pytest.raises(KeyStoreError, match="already exists"):
        hsm.import_wrapped_vending_key("445566", 2, blobs[2][0], Dkga.DKGA04)
    assert not hsm.has_vending_key("445566", 4)
    # Nothing unwrapped was left behind as a session or token object.
    assert [
        o.label for o in hsm._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.TOKEN: False})
    ] == []


def test_inventory_names_keys_without_showing_them(hsm: Any) -> None:
    kcv02 = hsm.import_vending_key("667788", 1, VUDK, Dkga.DKGA02)
    kcv04 = hsm.import_vending_key("667788", 2, VK04, Dkga.DKGA04)
    held = {(k.sgc, k.krn): k for k in hsm.vending_key_inventory()}
    assert held[("667788", 1)].dkga is Dkga.DKGA02 and held[("667788", 1)].fingerprint == kcv02
    assert held[("667788", 2)].dkga is Dkga.DKGA04 and held[("667788", 2)].fingerprint == kcv04
    assert len(kcv02) == 6 and len(kcv04) == 12
    assert held[("667788", 2)].created_at.date() == datetime.now(UTC).date()
    assert all(KEK_LABEL not in k.sgc for k in held.values())


def test_failure_paths(hsm: Any, softhsm: str) -> None:
    with pytest.raises(KeyUnavailable, match="supply group 556677 revision 1"):
        hsm.decoder_key(PAN, _params("556677", 1))
    assert not hsm.has_vending_key("556677", 1)
    hsm.import_vending_key("556677", 1, VUDK, Dkga.DKGA02)
    with pytest.raises(KeyStoreError, match="already exists"):
        hsm.import_vending_key("556677", 1, VUDK, Dkga.DKGA02)
    with pytest.raises(KeyStoreError, match="already exists"):
        hsm.generate_vending_key("556677", 1, Dkga.DKGA04)
    with pytest.raises(InvalidKey, match="is a DKGA02 key, not DKGA04"):
        hsm.decoder_key(PAN, _params("556677", 1, dkga=Dkga.DKGA04))
    with pytest.raises(KeyStoreError, match="8 bytes"):
        hsm.import_vending_key("556677", 2, VK04, Dkga.DKGA02)
    with pytest.raises(KeyStoreError, match="at least 20 bytes"):
        hsm.import_vending_key("556677", 2, VUDK, Dkga.DKGA04)
    with pytest.raises(KeyStoreError, match="DKGA02 and DKGA04 keys only"):
        hsm.generate_vending_key("556677", 2, Dkga.DKGA03)
    assert not hsm.has_vending_key("556677", 2)
    with pytest.raises(KeyStoreError, match=r"PIN .* is wrong"):
        Pkcs11KeyStore(softhsm, TOKEN, "not-the-pin")
    with pytest.raises(KeyStoreError, match="no PKCS#11 token labelled 'elsewhere'"):
        Pkcs11KeyStore(softhsm, "elsewhere", PIN)
    with pytest.raises(KeyStoreError, match="cannot be loaded"):
        Pkcs11KeyStore("/nonexistent/libpkcs11.so", TOKEN, PIN)
    assert PIN not in repr(hsm) and "prabayar-test" in repr(hsm)


def test_configuration_chooses_the_hsm_store_and_a_sale_makes_the_software_token(
    softhsm: str, seeded_sqlite: Path, master_key: MasterKey, tmp_path: Path, clock_type: Any
) -> None:
    """PRABAYAR_KEYSTORE=pkcs11: the service sells with the HSM's keys; the token it makes is
    byte for byte the token the software store's key makes for the same credit."""
    software_db, hsm_db = tmp_path / "software.sqlite3", tmp_path / "hsm.sqlite3"
    shutil.copyfile(seeded_sqlite, software_db)
    settings = Settings(
        database_url=f"sqlite:///{hsm_db}", keystore="pkcs11", pkcs11_module=softhsm,
        pkcs11_token_label=TOKEN_DEMO, pkcs11_pin=PIN,
    )  # fmt: skip
    service = open_service(settings, clock=clock_type())
    assert isinstance(service.key_store, Pkcs11KeyStore)
    upgrade(engine=service.engine)
    seed_demo(service)  # imports the demo's vending keys into the token
    assert {(k.sgc, k.krn) for k in service.key_store.vending_key_inventory()} == {
        (sgc, krn) for *_unit, sgc in UNITS for krn in (1, 2, 3)
    }
    engine = create_engine_for(f"sqlite:///{software_db}")
    software = VendingService(engine, SoftwareKeyStore(engine, master_key), clock=clock_type())
    meters = [c.meter_number for c in DEMO_CUSTOMERS[:3]] + [DEMO_CUSTOMERS[8].meter_number]
    for n, meter in enumerate(meters):
        sold = service.purchase("MINIMART", f"HSM-{n}", meter, 20_000)
        soft_key = software.meter_key(meter, actor="test", purpose="compare").decoder_key
        hsm_key = service.meter_key(meter, actor="test", purpose="compare").decoder_key
        assert hsm_key.reveal() == soft_key.reveal()
        token = sts.decode(sold.token, soft_key)  # the software key reads the HSM's token ...
        assert isinstance(token, sts.ElectricityCredit) and token.amount == sold.kwh
        assert sts.encode(token, soft_key) == sold.token  # ... and makes the very same digits
    # Incomplete configuration is refused by name, without touching the token.
    with pytest.raises(KeyStoreError, match="needs PRABAYAR_PKCS11_TOKEN_LABEL, PRABAYAR_PKCS11_PIN"):
        key_store_for(Settings(keystore="pkcs11", pkcs11_module=softhsm), engine)
    engine.dispose()
    service.engine.dispose()


def test_cli_checks_the_token_imports_the_kek_and_lists_keys(
    softhsm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from prabayar.cli.hsm import hsm_app
    from prabayar.config import get_settings
    from prabayar.vending.keystore_pkcs11 import aes_check_value

    runner = CliRunner()
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PRABAYAR_KEYSTORE", raising=False)
    get_settings.cache_clear()
    refused = runner.invoke(hsm_app, ["check"])
    assert refused.exit_code == 1 and "PRABAYAR_KEYSTORE is not 'pkcs11'" in refused.output
    env = {
        "PRABAYAR_KEYSTORE": "pkcs11", "PRABAYAR_PKCS11_MODULE": softhsm,
        "PRABAYAR_PKCS11_TOKEN_LABEL": TOKEN, "PRABAYAR_PKCS11_PIN": PIN, "PRABAYAR_PKCS11_KEK_LABEL": "cli-kek",
    }  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        checked = runner.invoke(hsm_app, ["check"])
        assert checked.exit_code == 0, checked.output
        assert "CKM_DES3_ECB" in checked.output and "CKM_SHA256_HMAC" in checked.output
        assert "every mechanism offered" in checked.output and PIN not in checked.output
        kek = bytes(range(200, 232))
        imported = runner.invoke(hsm_app, ["import-kek"], env={"PRABAYAR_KEK": base64.b64encode(kek).decode()})
        assert imported.exit_code == 0, imported.output
        assert f"check value {aes_check_value(kek)}" in imported.output and "'cli-kek'" in imported.output
        again = runner.invoke(hsm_app, ["import-kek"], env={"PRABAYAR_KEK": base64.b64encode(kek).decode()})
        assert again.exit_code == 1 and "never overwritten" in again.output
        bad = runner.invoke(hsm_app, ["import-kek", "--label", "x"], env={"PRABAYAR_KEK": "not base64!"})
        assert bad.exit_code == 1 and "not valid base64" in bad.output
        # The imported KEK unwraps what the KMC wraps under it; `keys` then lists the key.
        store = Pkcs11KeyStore(softhsm, TOKEN, PIN, kek_label="cli-kek")
        kcv = store.import_wrapped_vending_key("778899", 1, aes_key_wrap_with_padding(kek, VK04.reveal()), Dkga.DKGA04)
        kek_object = next(iter(store._session.get_objects({Attribute.LABEL: "cli-kek"})))
        assert kek_object[Attribute.EXTRACTABLE] is False and kek_object[Attribute.ENCRYPT] is False
        store.close()
        listed = runner.invoke(hsm_app, ["keys"])
        assert listed.exit_code == 0, listed.output
        assert "778899" in listed.output and kcv in listed.output and VK04.reveal().hex() not in listed.output
    finally:
        get_settings.cache_clear()


def test_a_lost_session_is_reopened(softhsm: str) -> None:
    store = Pkcs11KeyStore(softhsm, TOKEN, PIN)
    store.import_vending_key("889900", 1, VUDK, Dkga.DKGA02)
    store.import_vending_key("889900", 2, VK04, Dkga.DKGA04)
    first = store.decoder_key(PAN, _params("889900", 1)).reveal()
    lost = store._session
    lost.close()  # as when the HSM restarts: the handle is gone
    assert store.decoder_key(PANS[1], _params("889900", 1)).reveal() != first  # another meter
    assert store._session is not lost  # a new session, logged in again
    p = _params("889900", 2, dkga=Dkga.DKGA04)
    assert store.decoder_key(PAN, p).reveal() == sts.derive_decoder_key(VK04, PAN, p).reveal()
    store.close()


def test_a_key_is_never_padded_past_the_hmac_block(hsm: Any) -> None:
    """Zero padding keeps an HMAC key only up to 64 bytes; a token wanting more is refused."""
    hsm._hmac_min = 256  # as a token that reports its minimum in bits would
    with pytest.raises(KeyStoreError, match="cannot be padded"):
        hsm.import_vending_key("990011", 1, VK04, Dkga.DKGA04)
    assert not hsm.has_vending_key("990011", 1)
