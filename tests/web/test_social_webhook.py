"""The social media webhook (issue 14): signed per channel, opens a ticket on the right channel,
answers with the assistant when the text has a meter number and a token, never twice for a retry."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from prabayar.support import TicketService
from prabayar.web.api.social import signature
from prabayar.web.services import Services

from .conftest import BUDI_METER, Api

SECRET = "rahasia-x-untuk-tes"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRABAYAR_SOCIAL_SECRET_X", SECRET)
    monkeypatch.setenv("PRABAYAR_SOCIAL_SECRET_INSTAGRAM", "rahasia-ig")
    monkeypatch.delenv("PRABAYAR_SOCIAL_SECRET_FACEBOOK", raising=False)


def _post(client: TestClient, channel: str, message: dict[str, str], *, secret: str = SECRET,
          stamp: int | None = None) -> object:  # fmt: skip
    body = json.dumps(message).encode()
    ts = str(int(time.time()) if stamp is None else stamp)
    headers = {"Content-Type": "application/json", "X-Prabayar-Timestamp": ts,
               "X-Prabayar-Signature": signature(secret.encode(), ts, body)}  # fmt: skip
    return client.post(f"/api/v1/social/{channel}/messages", content=body, headers=headers)


def test_a_tweet_with_meter_and_mistyped_token_gets_the_corrected_token(
    client: TestClient, api: Api, services: Services
) -> None:
    token = api.buy("SOC-1")["token"].replace(" ", "").replace("-", "")
    wrong = token[:4] + str((int(token[4]) + 1) % 10) + token[5:]
    text = f"@pln_123 token {' '.join(wrong[i : i + 4] for i in range(0, 20, 4))} GAGAL di meter {BUDI_METER} tolong"
    answer = _post(client, "x", {"message_id": "tw-1", "sender": "@budi_s", "text": text})
    assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert body["cause"] == "typo" and body["corrected_token"] == token and body["ticket"].startswith("PGD-")
    assert " ".join(token[i : i + 4] for i in range(0, 20, 4)) in body["reply"]["id"]
    ticket = TicketService(services.vending).get(body["ticket"])
    assert ticket.channel.value == "x" and ticket.diagnosis and ticket.diagnosis["typed"] == wrong
    again = _post(client, "x", {"message_id": "tw-1", "sender": "@budi_s", "text": text}).json()  # type: ignore[attr-defined]
    assert again["duplicate"] is True and again["ticket"] == body["ticket"]


def test_without_a_meter_it_asks_and_opens_no_ticket(client: TestClient) -> None:
    body = _post(
        client,
        "instagram",
        {"message_id": "ig-9", "sender": "siti", "text": "token saya gagal terus"},
        secret="rahasia-ig",
    ).json()  # type: ignore[attr-defined]
    assert body["ticket"] is None and "nomor meter" in body["reply"]["id"]
    only_meter = _post(
        client,
        "instagram",
        {"message_id": "ig-10", "sender": "siti", "text": f"meter {BUDI_METER}"},
        secret="rahasia-ig",
    ).json()  # type: ignore[attr-defined]
    assert only_meter["ticket"] and only_meter["cause"] is None and "20 angka" in only_meter["reply"]["id"]


def test_signatures_are_checked(client: TestClient) -> None:
    message = {"message_id": "tw-2", "sender": "@x", "text": "halo"}
    assert _post(client, "x", message, secret="salah").status_code == 401  # type: ignore[attr-defined]
    assert _post(client, "x", message, stamp=int(time.time()) - 3600).status_code == 401  # type: ignore[attr-defined]
    assert _post(client, "instagram", message).status_code == 401  # the X secret is not Instagram's
    assert _post(client, "facebook", message).status_code == 503  # no secret: switched off  # type: ignore[attr-defined]
    plain = client.post("/api/v1/social/x/messages", json=message)
    assert plain.status_code == 401 and plain.json()["error"] == "not_authenticated"
    assert _post(client, "whatsapp", message).status_code == 422  # type: ignore[attr-defined]
