"""Signed API tokens and CSRF comparison."""

from __future__ import annotations

from prabayar.web.security import (
    Principal,
    TokenSigner,
    csrf_matches,
    new_csrf_token,
)


def test_token_round_trip_and_tampering() -> None:
    signer = TokenSigner("s" * 40)
    who = Principal(role="customer", subject="budi", display_name="budi", customer_id="321203131053")
    token = signer.issue(who)
    assert signer.read(token) == ("budi", "customer", "321203131053")
    assert signer.read(token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    assert TokenSigner("t" * 40).read(token) is None
    assert signer.read("garbage") is None


def test_expired_token_is_refused() -> None:
    signer = TokenSigner("s" * 40, max_age_seconds=-1)
    token = signer.issue(Principal(role="operator", subject="op", display_name="op"))
    assert signer.read(token) is None


def test_channel_role_cannot_be_carried_by_a_user_token() -> None:
    signer = TokenSigner("s" * 40)
    token = signer.issue(Principal(role="channel", subject="BANK", display_name="Bank"))
    assert signer.read(token) is None


def test_csrf_compare() -> None:
    token = new_csrf_token()
    assert len(token) >= 32
    assert csrf_matches(token, token)
    assert not csrf_matches(token, token + "x")
    assert not csrf_matches(None, token)
    assert not csrf_matches(token, None)
    assert not csrf_matches("", "")
