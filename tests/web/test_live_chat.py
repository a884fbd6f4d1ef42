"""The live chat (issue 14): the guided assistant over the diagnosis, the hand-over to an agent,
the agent's queue and answer, a ticket with the transcript, the event stream, and who may see
which conversation."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from prabayar.support.chat import ASK_DISPLAY, ASK_METER, ASK_TOKEN, DONE, ChatState, advance, extract
from prabayar.support.chat_service import ChatService
from prabayar.web.services import Services

from .conftest import BUDI_METER, SITI_METER, signed_in
from .test_pages import buy, csrf


def _mistype(digits: str, position: int) -> str:
    return digits[: position - 1] + str((int(digits[position - 1]) + 1) % 10) + digits[position:]


def _say(client: TestClient, chat_id: int, token: str, text: str) -> None:
    answer = client.post(f"/obrolan/{chat_id}/kirim", data={"csrf_token": token, "text": text},
                         headers={"X-Requested-With": "fetch"})  # fmt: skip
    assert answer.status_code == 204, answer.text[:300]


def _chat_id(html: str) -> int:
    found = re.search(r'action="/obrolan/(\d+)/kirim"', html)
    assert found is not None
    return int(found.group(1))


def _log(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-sender="(\w+)"><span class="chat-meta">[^<]*</span><span class="chat-text">([^<]*)<', html)


def test_the_assistant_state_machine_without_a_database() -> None:
    calls: list[tuple[str, str | None, str | None]] = []

    def diagnose(meter: str, token: str | None, display: str | None) -> object:
        calls.append((meter, token, display))
        raise AssertionError("not reached in this test")

    known = {"14100000018"}.__contains__
    state = ChatState()
    out = advance(state, "99999999999", diagnose=diagnose, known_meter=known)  # type: ignore[arg-type]
    assert out.state.step == ASK_METER and "tidak saya kenal" in out.replies[0].text.id
    out = advance(state, "1410-0000-018", diagnose=diagnose, known_meter=known)  # type: ignore[arg-type]
    assert out.state == ChatState(ASK_TOKEN, "14100000018") and "20 angka" in out.replies[0].text.id
    out = advance(out.state, "tidak ada", diagnose=diagnose, known_meter=known)  # type: ignore[arg-type]
    assert out.state.step == ASK_DISPLAY and out.state.token == ""
    assert advance(out.state, "saya mau bicara dengan petugas", diagnose=diagnose, known_meter=known).handover  # type: ignore[arg-type]
    assert advance(ChatState(DONE, "1"), "ulang", diagnose=diagnose, known_meter=known).state.step == ASK_METER  # type: ignore[arg-type]
    assert calls == []
    found = extract("token 1234 5678 9012 3456 7890 GAGAL di meter 14100000018 tolong")
    assert found.token == "12345678901234567890" and found.meter == "14100000018"
    assert extract("halo min").meter is None


def test_customer_gets_the_corrected_token_in_the_chat(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client)
    page = client.get("/obrolan").text
    chat_id = _chat_id(page)
    assert "asisten token" in page and BUDI_METER in page
    token = csrf(page)
    _say(client, chat_id, token, SITI_METER)  # not hers: refused, asked again
    _say(client, chat_id, token, BUDI_METER)
    _say(client, chat_id, token, _mistype(digits, 8))
    _say(client, chat_id, token, "GAGAL")
    log = _log(client.get("/obrolan").text)
    bot = [text for sender, text in log if sender == "bot"]
    assert any("tidak saya kenal" in t for t in bot)
    grouped = " ".join(digits[i : i + 4] for i in range(0, 20, 4))
    assert any(grouped in t for t in bot), bot[-2:]
    assert client.get("/obrolan").text.count('action="/obrolan/') >= 2  # the same conversation again
    assert _chat_id(client.get("/obrolan").text) == chat_id


def test_hand_over_agent_answers_and_opens_a_ticket_with_the_transcript(
    client: TestClient, services: Services, settings: object
) -> None:
    from .conftest import make_client

    signed_in(client, "budi")
    _, digits = buy(client)
    page = client.get("/obrolan").text
    chat_id, token = _chat_id(page), csrf(page)
    for text in (BUDI_METER, _mistype(digits, 3), "GAGAL"):
        _say(client, chat_id, token, text)
    handed = client.post(f"/obrolan/{chat_id}/petugas", data={"csrf_token": token}, follow_redirects=False)
    assert handed.status_code == 303
    with make_client(settings, services) as agent:  # type: ignore[arg-type]
        signed_in(agent, "operator")
        queue = agent.get("/konsol/obrolan").text
        assert f'href="/konsol/obrolan/{chat_id}"' in queue and "menunggu" in queue
        view = agent.get(f"/konsol/obrolan/{chat_id}").text
        assert 'data-testid="chat-diagnosis"' in view and _mistype(digits, 3) in view
        section = view.split('data-testid="chat-diagnosis"')[1].split("</section>")[0]
        assert "Salah ketik" in section, section
        agent_token = csrf(view)
        agent.post(f"/konsol/obrolan/{chat_id}/ambil", data={"csrf_token": agent_token})
        agent.post(f"/konsol/obrolan/{chat_id}/kirim", data={"csrf_token": agent_token, "text": "Halo, saya Rina."})
        log = _log(client.get("/obrolan").text)
        assert ("agent", "Halo, saya Rina.") in log and any("bergabung" in t for s, t in log if s == "system")
        _say(client, chat_id, token, "terima kasih")  # to the agent now: no assistant answer
        assert _log(client.get("/obrolan").text)[-1] == ("customer", "terima kasih")
        opened = agent.post(f"/konsol/obrolan/{chat_id}/tiket", data={"csrf_token": agent_token},
                            follow_redirects=False)  # fmt: skip
        assert opened.status_code == 303 and "/konsol/tiket/PGD-" in opened.headers["location"]
        ticket_page = agent.get(opened.headers["location"]).text
        assert "Transkrip obrolan" in ticket_page and "Halo, saya Rina." in ticket_page
        assert f'data-testid="typed-digits">{_mistype(digits, 3)}<' in ticket_page
        # the stream replays everything after a given id, then the status; closed ends it
        agent.post(f"/konsol/obrolan/{chat_id}/tutup", data={"csrf_token": agent_token})
        with agent.stream("GET", f"/konsol/obrolan/{chat_id}/aliran?after=0") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            body = "".join(stream.iter_text())
        events = re.findall(r"event: (\w+)\ndata: (.*)\n", body)
        texts = [json.loads(d)["text"] for e, d in events if e == "message"]
        assert "Halo, saya Rina." in texts and texts[-1] in ("Obrolan ditutup.", "The chat was closed.")
        assert events[-1][0] == "status" and json.loads(events[-1][1])["status"] == "closed"
        ids = [int(i) for i in re.findall(r"^id: (\d+)$", body, re.M)]
        assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_nobody_else_sees_or_writes_into_a_conversation(client: TestClient, services: Services) -> None:
    chat = ChatService(services.vending).start("budi", idpel="541000000001", lang="id")
    signed_in(client, "siti")
    token = csrf(client.get("/obrolan").text)
    assert client.get(f"/obrolan/{chat.id}/aliran").status_code == 404
    denied = client.post(f"/obrolan/{chat.id}/kirim", data={"csrf_token": token, "text": "hai"})
    assert denied.status_code == 404
    assert client.get(f"/konsol/obrolan/{chat.id}").status_code == 403  # a customer is no agent
    assert ChatService(services.vending).messages(chat.id)[-1].sender == "bot"  # nothing was added
