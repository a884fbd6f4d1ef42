"""``prabayar hsm check|import-kek|keys``: the PKCS#11 key store (``PRABAYAR_KEYSTORE=pkcs11``).

The token's user PIN (``PRABAYAR_PKCS11_PIN``) is the access control here, as it is for the
server that uses the token: whoever runs these commands holds it. Nothing here prints a key;
keys are named by their check values.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prabayar.config import get_settings
from prabayar.vending.db import create_engine_for
from prabayar.vending.keystore import KeyStoreError
from prabayar.vending.keystore_pkcs11 import Pkcs11KeyStore
from prabayar.vending.setup import key_store_for

hsm_app = typer.Typer(no_args_is_help=True, help="HSM key store (PKCS#11): check the token, import the KEK, list keys.")


def _store() -> Pkcs11KeyStore:
    settings = get_settings()
    if settings.keystore != "pkcs11":
        Console(stderr=True).print("[red]key store:[/red] PRABAYAR_KEYSTORE is not 'pkcs11' (docs/operations.md)")
        raise typer.Exit(1)
    try:
        store = key_store_for(settings, create_engine_for(settings.resolved_database_url()))
    except KeyStoreError as exc:
        Console(stderr=True).print(f"[red]key store:[/red] {exc}")
        raise typer.Exit(1) from None
    assert isinstance(store, Pkcs11KeyStore)
    return store


@hsm_app.command("check")
def hsm_check() -> None:
    """Log in to the token and check that it offers every mechanism the key store uses."""
    store = _store()
    try:
        report = store.mechanism_report()
    finally:
        store.close()
    table = Table("mechanism", "offered", "used for")
    for name, offered, why in report:
        table.add_row(name, "[green]yes[/green]" if offered else "[red]NO[/red]", why)
    out = Console()
    out.print(table)
    missing = [name for name, offered, _ in report if not offered]
    if missing:
        out.print(f"[red]the token lacks {', '.join(missing)}[/red]")
        raise typer.Exit(1)
    out.print(f"{store!r}: logged in, every mechanism offered")


@hsm_app.command("import-kek")
def hsm_import_kek(
    kek: Annotated[
        str,
        typer.Option(
            prompt="KEK (base64)",
            hide_input=True,
            envvar="PRABAYAR_KEK",
            help="the AES key-encryption key shared with the KMC, base64 (asked for when not given)",
        ),
    ],
    label: Annotated[str | None, typer.Option(help="token label (default: PRABAYAR_PKCS11_KEK_LABEL)")] = None,
) -> None:
    """Put the KMC's AES key-encryption key into the token (unwrap only, never extractable)."""
    try:
        secret = base64.b64decode(kek.strip(), validate=True)
    except (binascii.Error, ValueError):
        Console(stderr=True).print("[red]key store:[/red] the KEK is not valid base64")
        raise typer.Exit(1) from None
    store = _store()
    try:
        check = store.import_kek(secret, label)
    except KeyStoreError as exc:
        Console(stderr=True).print(f"[red]key store:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    Console().print(
        f"key-encryption key {label or get_settings().pkcs11_kek_label!r} is in the token; "
        f"check value {check} (compare it with the KMC's)"
    )


@hsm_app.command("keys")
def hsm_keys() -> None:
    """The vending keys in the token: SGC, KRN, DKGA, check value, when made (never the key)."""
    store = _store()
    try:
        held = store.vending_key_inventory()
    finally:
        store.close()
    table = Table("SGC", "KRN", "DKGA", "check value", "made (UTC)")
    for k in held:
        table.add_row(k.sgc, str(k.krn), k.dkga.value, k.fingerprint, k.created_at.strftime("%Y-%m-%d %H:%M"))
    Console().print(table)
