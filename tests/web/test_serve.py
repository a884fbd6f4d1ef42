"""``prabayar serve``: first start migrates and seeds, the banner says how to log in, a start
that cannot work fails with one clear line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from prabayar.cli import app as cli
from prabayar.config import Settings
from prabayar.vending.demo import DEMO_CHANNEL_KEYS, DEMO_CUSTOMERS, DEMO_USERS
from prabayar.web.bootstrap import banner, prepare


def test_first_start_seeds_once_and_the_banner_lists_the_demo_logins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", port=8123)
    services, banner = prepare(settings)
    try:
        assert "http://127.0.0.1:8123/" in banner
        assert "http://127.0.0.1:8123/api/v1/openapi.json" in banner
        for username, password, role, _idpel in DEMO_USERS:
            assert username in banner and password in banner and role in banner
        for code, key in DEMO_CHANNEL_KEYS.items():
            assert f"{code}" in banner and key in banner
        assert "meter 14100000018" in banner
        # Every demo meter is named, so an operator knows what to search for.
        for customer in DEMO_CUSTOMERS:
            assert customer.meter_number in banner and customer.idpel in banner
        assert "14100001123" in banner  # the replaced meter too
        assert all(line == line.rstrip() for line in banner.splitlines())
        assert "Secure" not in banner  # loopback: nothing to warn about
        assert services.vending.inquiry("14100000018").name == "BUDI SANTOSA WIJAYA"
    finally:
        services.vending.engine.dispose()
    # A second start finds the data and changes nothing.
    again, _ = prepare(settings)
    try:
        assert len(again.vending.channels()) == len(DEMO_CHANNEL_KEYS)
    finally:
        again.vending.engine.dispose()


def test_the_banner_warns_that_the_secure_cookie_needs_https_off_loopback() -> None:
    text = banner(Settings(host="0.0.0.0"), seeded=False)
    assert "cookie is Secure" in text and "https" in text


def test_without_demo_the_banner_has_no_credentials(tmp_path: Path) -> None:
    services, banner = prepare(Settings(data_dir=tmp_path / "empty"), seed=False)
    try:
        assert "demo log-ins" not in banner and "X-Api-Key" not in banner
        assert services.vending.channels() == []
    finally:
        services.vending.engine.dispose()


def test_serve_that_cannot_start_fails_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(blocker / "var")])
    assert result.exit_code == 1
    assert "prabayar serve: cannot start:" in result.output
    assert "Traceback" not in result.output
