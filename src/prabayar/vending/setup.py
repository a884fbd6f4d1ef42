"""Build the service from the settings: database URL, key store (master key or HSM), cut-off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from prabayar.config import Settings, get_settings
from prabayar.vending.db import create_engine_for
from prabayar.vending.keystore import (
    MASTER_KEY_FILE,
    KeyStore,
    KeyStoreError,
    MasterKey,
    SoftwareKeyStore,
    load_or_create_key_file,
)
from prabayar.vending.pricing import KwhRounding
from prabayar.vending.service import CutOffWindow, VendingService


def master_key_for(settings: Settings) -> MasterKey:
    """``PRABAYAR_MASTER_KEY``, or for an embedded SQLite file the key file beside it."""
    if settings.master_key is not None:
        return MasterKey.from_base64(settings.master_key.get_secret_value())
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return load_or_create_key_file(Path(url.database).parent / MASTER_KEY_FILE)
    raise KeyStoreError(
        "PRABAYAR_MASTER_KEY must be set (base64 of 32 random bytes) for this database; "
        "only the embedded SQLite default generates its own key file"
    )


def key_store_for(settings: Settings, engine: Engine) -> KeyStore:
    """The configured key store: software (default) or a PKCS#11 token (``PRABAYAR_KEYSTORE``)."""
    if settings.keystore == "software":
        return SoftwareKeyStore(engine, master_key_for(settings))
    missing = [
        f"PRABAYAR_PKCS11_{name.upper()}"
        for name, value in (
            ("module", settings.pkcs11_module),
            ("token_label", settings.pkcs11_token_label),
            ("pin", settings.pkcs11_pin),
        )
        if not value
    ]
    if missing:
        raise KeyStoreError(f"PRABAYAR_KEYSTORE=pkcs11 needs {', '.join(missing)}")
    from prabayar.vending.keystore_pkcs11 import Pkcs11KeyStore

    assert settings.pkcs11_module and settings.pkcs11_token_label and settings.pkcs11_pin
    return Pkcs11KeyStore(
        settings.pkcs11_module,
        settings.pkcs11_token_label,
        settings.pkcs11_pin.get_secret_value(),
        kek_label=settings.pkcs11_kek_label,
        engine=engine,
    )


def open_service(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None) -> VendingService:
    """The vending service for the configured database (run ``prabayar db upgrade`` first)."""
    settings = settings or get_settings()
    url = settings.resolved_database_url()
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        if database not in (None, "", ":memory:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = (
        create_engine_for(url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size)
        if make_url(url).get_backend_name() == "postgresql"
        else create_engine_for(url)
    )
    key_store = key_store_for(settings, engine)
    cutoff = CutOffWindow.parse(settings.cutoff_wib) if settings.cutoff_wib else None
    return VendingService(
        engine,
        key_store,
        clock=clock,
        cutoff=cutoff,
        kwh_rounding=KwhRounding[settings.kwh_rounding.upper()],
        household_discount=settings.household_discount,
    )
