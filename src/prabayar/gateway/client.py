"""A partner-side client of the ISO 8583 link: builds requests as ISO8583.md §4-§5 and §9 show.

``Partner`` builds messages for one partner identity; ``GatewayClient`` is a blocking TCP
client that frames, sends, reads and decodes (``request`` waits for the answer with the
matching response MTI and STAN, keeping other answers for later). Used by
``prabayar gateway-client``, the tests and ``bench/gateway_bench.py``.
"""

from __future__ import annotations

import itertools
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime

import iso8583

from prabayar.gateway import iso
from prabayar.gateway.framing import FrameDecoder, encode_frame
from prabayar.vending.service import WIB

Message = tuple[str, dict[str, str]]


def decode(message: bytes) -> Message:
    """(MTI, fields) of one unframed message (bitmaps dropped)."""
    doc, _ = iso8583.decode(message, iso.SPEC)
    return doc["t"], {k: v for k, v in doc.items() if k not in ("h", "t", "p", "1")}


def wib_now() -> str:
    return datetime.now(WIB).strftime("%Y%m%d%H%M%S")


@dataclass
class Partner:
    """One partner's identity and a STAN counter."""

    switcher_id: str
    pcid: str
    bank_code: str
    terminal_id: str = "PRABAYARCLIENT01"
    mcc: str = "6012"
    prefix: str = "99"
    _stans: itertools.count[int] = field(default_factory=lambda: itertools.count(int(time.time()) % 10**6 * 1000))

    def stan(self) -> str:
        return f"{next(self._stans) % 10**12:012d}"

    def network(self, code: str = "001", stan: str | None = None) -> Message:
        return "2800", {"11": stan or self.stan(), "12": wib_now(), "33": self.pcid, "70": code}

    def _base(self, stan: str | None) -> dict[str, str]:
        return {
            "2": self.prefix + "502",
            "11": stan or self.stan(),
            "12": wib_now(),
            "26": self.mcc,
            "32": self.bank_code,
            "33": self.pcid,
            "41": self.terminal_id,
        }

    def inquiry_48(self, identifier: str) -> str:
        """§5.1: by meter number (11 digits, flag 0) or IDPEL (12 digits, flag 1)."""
        if len(identifier) == 12:
            return self.switcher_id + "0" * 11 + identifier + "1"
        return self.switcher_id + identifier.rjust(11, "0") + "0" * 12 + "0"

    def inquiry(self, identifier: str, amount: int | None = None, stan: str | None = None) -> Message:
        fields = self._base(stan)
        fields["48"] = self.inquiry_48(identifier)
        if amount is not None:
            fields["4"] = iso.field4_of(amount)
        return "2100", fields

    def purchase_48(self, answer_48: str | None = None, *, identifier: str = "", srn: str = "") -> str:
        """§5.3: the 2110's field 48 + buying option 0, or one built from an identifier and SRN."""
        if answer_48 is None:
            base = self.inquiry_48(identifier)
            answer_48 = base + " " * 32 + srn.ljust(32) + " " * 49
        elif srn:
            answer_48 = answer_48[:63] + srn.ljust(32) + answer_48[95:]
        return answer_48[:144] + "0"

    def purchase(self, field48: str, amount: int, stan: str | None = None) -> Message:
        fields = self._base(stan)
        fields["4"] = iso.field4_of(amount)
        fields["48"] = field48
        return "2200", fields

    def advice(self, purchase_48: str, amount: int, *, repeat: bool = False, stan: str | None = None) -> Message:
        """§5.4: the first 95 characters of the 2200's field 48."""
        fields = self._base(stan)
        fields["4"] = iso.field4_of(amount)
        fields["48"] = purchase_48[:95]
        return ("2221" if repeat else "2220"), fields

    def reversal(self, purchase_48: str, amount: int, *, repeat: bool = False, stan: str | None = None) -> Message:
        fields = self._base(stan)
        fields["4"] = iso.field4_of(amount)
        fields["48"] = purchase_48[:95]
        return ("2401" if repeat else "2400"), fields


class GatewayClient:
    """Blocking client on one TCP connection."""

    def __init__(self, host: str, port: int, framing: str = "trailer", *, timeout: float = 40.0) -> None:
        self.framing = framing
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._decoder = FrameDecoder(framing)
        self._frames: list[bytes] = []
        self._pending: list[Message] = []

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, message: Message) -> bytes:
        """Encode, frame and send; returns the unframed bytes."""
        mti, fields = message
        raw = iso.encode(mti, fields)
        self.sock.sendall(encode_frame(self.framing, raw))
        return raw

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_frame(self, timeout: float | None = None) -> bytes:
        """The next whole frame (unframed); ``ConnectionError`` when the host closed."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while not self._frames:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the host closed the connection")
            self._frames.extend(self._decoder.feed(data))
        return self._frames.pop(0)

    def recv(self, timeout: float | None = None) -> Message:
        if self._pending:
            return self._pending.pop(0)
        return decode(self.recv_frame(timeout))

    def request(self, message: Message, timeout: float | None = None) -> Message:
        """Send and wait for the answer with response MTI and the same STAN."""
        self.send(message)
        want = (iso.response_mti(message[0]), message[1].get("11"))
        for i, (mti, fields) in enumerate(self._pending):
            if (mti, fields.get("11")) == want:
                return self._pending.pop(i)
        while True:
            mti, fields = decode(self.recv_frame(timeout))
            if (mti, fields.get("11")) == want:
                return mti, fields
            self._pending.append((mti, fields))
