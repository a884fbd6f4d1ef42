"""Message framing of the ISO 8583 link (ISO8583.md §1.2): ``trailer`` (0xFF) or ``len2``.

``FrameDecoder.feed(data)`` returns the complete frames in ``data`` plus what was buffered
before (a frame may be split over many TCP segments, several may share one); zero-length
frames are dropped. A frame longer than ``MAX_MESSAGE`` raises ``FrameTooLong``: the
connection must be closed without an answer.
"""

from __future__ import annotations

from typing import Literal

Framing = Literal["trailer", "len2"]
FRAMINGS: tuple[Framing, ...] = ("trailer", "len2")
MAX_MESSAGE = 4096
TRAILER = 0xFF


class FrameTooLong(Exception):
    """More than MAX_MESSAGE bytes before the trailer, or a len2 header above it."""


def encode_frame(framing: Framing | str, message: bytes) -> bytes:
    """One message with its framing."""
    if len(message) > MAX_MESSAGE:
        raise ValueError(f"a message has at most {MAX_MESSAGE} bytes, this one {len(message)}")
    if framing == "trailer":
        if TRAILER in message:
            raise ValueError("a trailer-framed message cannot contain 0xFF")
        return message + b"\xff"
    if framing == "len2":
        return len(message).to_bytes(2, "big") + message
    raise ValueError(f"unknown framing {framing!r}")


class FrameDecoder:
    """Incremental frame splitter for one connection and one framing."""

    def __init__(self, framing: Framing | str, max_message: int = MAX_MESSAGE) -> None:
        if framing not in FRAMINGS:
            raise ValueError(f"unknown framing {framing!r}")
        self.framing = framing
        self.max_message = max_message
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame held so far."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        if self.framing == "trailer":
            return self._split_trailer()
        return self._split_len2()

    def _split_trailer(self) -> list[bytes]:
        frames: list[bytes] = []
        buf = self._buffer
        start = 0
        while True:
            end = buf.find(TRAILER, start)
            if end < 0:
                break
            if end - start > self.max_message:
                raise FrameTooLong(f"{end - start} bytes before the trailer")
            if end > start:
                frames.append(bytes(buf[start:end]))
            start = end + 1
        del buf[:start]
        if len(buf) > self.max_message:
            raise FrameTooLong(f"more than {self.max_message} bytes without a trailer")
        return frames

    def _split_len2(self) -> list[bytes]:
        frames: list[bytes] = []
        buf = self._buffer
        start = 0
        while len(buf) - start >= 2:
            size = int.from_bytes(buf[start : start + 2], "big")
            if size > self.max_message:
                raise FrameTooLong(f"length header {size}")
            if len(buf) - start - 2 < size:
                break
            if size:
                frames.append(bytes(buf[start + 2 : start + 2 + size]))
            start += 2 + size
        del buf[:start]
        return frames
