"""Settings from the environment (prefix ``PRABAYAR_``); secrets refuse insecure defaults."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``PRABAYAR_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PRABAYAR_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="where the embedded database, key file and meter states live"
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file in data_dir")
    master_key: SecretStr | None = Field(default=None, description="base64 32-byte AES key for the key store")
    kek: SecretStr | None = Field(
        default=None, description="base64 AES key-encryption key under which the KMC wraps vending keys"
    )
    keystore: Literal["software", "pkcs11"] = Field(
        default="software",
        description="where vending keys live: 'software' (AES-GCM under the master key, in the database) "
        "or 'pkcs11' (a hardware security module; docs/operations.md)",
    )
    pkcs11_module: str | None = Field(default=None, description="path of the HSM's PKCS#11 module (.so)")
    pkcs11_token_label: str | None = Field(default=None, description="label of the PKCS#11 token holding the keys")
    pkcs11_pin: SecretStr | None = Field(default=None, description="user PIN of the PKCS#11 token")
    pkcs11_kek_label: str = Field(
        default="prabayar-kek", description="label of the AES key-encryption key in the token (wrapped imports)"
    )
    session_secret: SecretStr | None = Field(default=None, description="web session signing secret")
    redis_url: str | None = Field(
        default=None,
        description="Redis for sessions, token revocation and rate limits shared by many processes "
        "(default: sessions in the database, rate limits in process memory)",
    )
    redis_prefix: str = Field(default="prabayar", description="prefix of every Redis key this app writes")
    trusted_proxies: str = Field(
        default="", description="comma-separated proxy addresses/networks whose X-Forwarded-For is believed"
    )
    max_json_body: int = Field(default=64 * 1024, ge=1024, description="largest API request body, in bytes")
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="PostgreSQL connections per server process (workers x this must fit max_connections)",
    )
    async_purchase: bool = Field(
        default=True,
        description="PostgreSQL: answer POST /api/v1/channel/purchase on the event loop (psycopg async pool) "
        "instead of a worker thread; same rules and answers (docs/performance.md)",
    )
    sale_batch: int = Field(
        default=16,
        ge=1,
        le=256,
        description="most channel purchases one PostgreSQL transaction carries on the event-loop path "
        "(sales that arrive together share claim, write and commit; 1 = one transaction per sale)",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    cutoff_wib: str | None = Field(
        default=None, description="vending cut-off window in WIB, e.g. '23:30-00:30' (RC 0090)"
    )
    kwh_rounding: Literal["up", "nearest", "down"] = Field(
        default="up", description="how vending rounds kWh to the token's 0.1 kWh"
    )
    household_discount: Decimal = Field(
        default=Decimal(0),
        ge=0,
        lt=1,
        description="fraction off the tariff for households up to 2,200 VA (0.5 in Jan-Feb 2025)",
    )

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'prabayar.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
