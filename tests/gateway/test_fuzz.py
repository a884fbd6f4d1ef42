"""Property: any bytes sent to the gateway get a defined answer, silence or a closed connection;
the gateway keeps serving the next connection (ISO8583.md §1.5)."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prabayar.gateway import iso
from prabayar.gateway.client import GatewayClient, decode
from prabayar.gateway.framing import FrameDecoder, encode_frame

INQUIRY = {
    "2": "99502", "11": "000000000002", "12": "20260310120000", "26": "6012", "32": "0080001",
    "33": "7700001", "41": "BANKDEMOATM00001", "48": "BNKDEMO141000000180000000000000",
}  # fmt: skip
VALID = [
    iso.encode("2800", {"11": "000000000001", "12": "20260310120000", "33": "7700001", "70": "001"}),
    iso.encode("2100", INQUIRY),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "digit"]))
        pos = draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[pos] = draw(st.integers(0, 254))
        elif op == "cut":
            del raw[pos : pos + draw(st.integers(1, 20))]
        elif op == "insert":
            raw[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            raw[pos : pos + 1] = str(draw(st.integers(0, 9))).encode()
    return bytes(raw)


PAYLOADS = st.one_of(st.binary(max_size=300), mutated(), st.text("0123456789ABCDEF", max_size=80).map(str.encode))


def _answers(sock: socket.socket, framing: str) -> tuple[list[bytes], bool]:
    """Frames received until 0.2 s of silence, and whether the host closed the connection."""
    decoder = FrameDecoder(framing)
    frames: list[bytes] = []
    sock.settimeout(0.2)
    while True:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return frames, False
        except ConnectionResetError:
            return frames, True
        if not data:
            return frames, True
        frames.extend(decoder.feed(data))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=PAYLOADS, sign_on=st.booleans(), len2=st.booleans())
def test_any_bytes_get_a_defined_outcome(
    gateway: Any, k: Any, caplog: pytest.LogCaptureFixture, payload: bytes, sign_on: bool, len2: bool
) -> None:
    channel, framing, partner = ("H2HLEN", "len2", k.LEN) if len2 else ("H2HISO", "trailer", k.ISO)
    with socket.create_connection(("127.0.0.1", gateway.port(channel)), timeout=5) as s:
        if sign_on:
            s.sendall(encode_frame(framing, iso.encode(*partner.network("001"))))
        if framing == "trailer":
            s.sendall(payload + b"\xff")
        else:
            s.sendall(len(payload).to_bytes(2, "big") + payload if len(payload) < 65536 else payload)
        frames, _closed = _answers(s, framing)
    for frame in frames:
        mti, fields = decode(frame)  # every answer is a whole, decodable message
        assert mti[2] in "13" and "39" in fields
        assert fields["39"].isdigit() and len(fields["39"]) == 4
    with GatewayClient("127.0.0.1", gateway.port(channel), framing, timeout=10) as c:
        assert c.request(partner.network("301"))[1]["39"] == "0000"
    crashes = [r for r in caplog.records if r.name.startswith("prabayar.gateway") and r.levelno >= logging.ERROR]
    assert not crashes, [r.getMessage() for r in crashes]
