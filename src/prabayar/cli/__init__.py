"""The ``prabayar`` command: one sub-command group per package, registered here."""

from __future__ import annotations

import typer

from prabayar.cli import approvals as approvals_cli
from prabayar.cli import campaign as campaign_cli
from prabayar.cli import gateway as gateway_cli
from prabayar.cli import hsm as hsm_cli
from prabayar.cli import importer as importer_cli
from prabayar.cli import meter as meter_cli
from prabayar.cli import onboarding as onboarding_cli
from prabayar.cli import serve as serve_cli
from prabayar.cli import sts as sts_cli
from prabayar.cli import support as support_cli
from prabayar.cli import vending as vending_cli

app = typer.Typer(no_args_is_help=True, help="prabayar: prepaid electricity on STS (IEC 62055-41).")
app.add_typer(sts_cli.app, name="sts", help="Token engine: keys, encode, decode, conformance.")
app.add_typer(meter_cli.app, name="meter", help="Emulated prepaid meter: new, enter, code, run, tamper, show, tui.")
app.add_typer(vending_cli.db_app, name="db", help="Database: migrations.")
app.add_typer(vending_cli.seed_app, name="seed", help="Load data (prabayar seed --demo).")
app.add_typer(vending_cli.vend_app, name="vend", help="Sell tokens: inquiry, buy, advice, reprint.")
app.add_typer(vending_cli.ops_app, name="ops", help="Operator: management tokens, audit log.")
app.add_typer(approvals_cli.approvals_app, name="approvals", help="Four eyes: list, approve or reject requests.")
app.add_typer(campaign_cli.campaign_app, name="campaign", help="Key-change campaigns (KCT for many meters).")
app.command("serve")(serve_cli.serve)
app.add_typer(onboarding_cli.channel_app, name="channel", help="Sales channels: add, list, rotate-key, disable.")
app.add_typer(onboarding_cli.customer_app, name="customer", help="Customers: register, search, change-power, block.")
app.add_typer(onboarding_cli.meters_app, name="meters", help="Meter records: register, install, remove, broken, stock.")
app.add_typer(onboarding_cli.unit_app, name="unit", help="Units and their PBJT-TL rates.")
app.add_typer(onboarding_cli.tariff_app, name="tariff", help="Tariff classes and effective-dated prices.")
app.add_typer(onboarding_cli.keys_app, name="keys", help="Vending keys: import (plain or wrapped), list.")
app.add_typer(importer_cli.import_app, name="import", help="Bulk import: customers with their meters (CSV).")
app.add_typer(hsm_cli.hsm_app, name="hsm", help="HSM key store (PKCS#11): check the token, import the KEK, list keys.")
app.add_typer(gateway_cli.gateway_app, name="gateway", help="ISO 8583 host-to-host gateway: run, partners.")
app.add_typer(gateway_cli.client_app, name="gateway-client", help="ISO 8583 test client for partners.")
app.command("diagnose")(support_cli.diagnose)
app.add_typer(support_cli.ticket_app, name="ticket", help="Complaint tickets: open, assign, visit, close.")


def main() -> None:
    """Console-script entry point."""
    app()
