"""CRC-16 and CRC_C of STS tokens (SPEC section 5).

CRC-16/MODBUS (reflected 0xA001, init 0xFFFF) over the 50-bit value class || bits 63..16 of
the data block, serialised as 7 big-endian bytes; the result goes in byte-swapped. CRC_C
(currency credit, class 0 subclasses 4-7) appends one 0x01 byte before computing.
"""

from __future__ import annotations

from typing import Final


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE: Final = _make_table()


def modbus(data: bytes) -> int:
    """Plain CRC-16/MODBUS of ``data``."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def field(value50: int, *, currency: bool = False) -> int:
    """The 16-bit CRC field for the 50-bit ``class || block[63..16]`` value."""
    crc = 0xFFFF
    table = _TABLE
    for shift in (48, 40, 32, 24, 16, 8, 0):
        crc = (crc >> 8) ^ table[(crc ^ (value50 >> shift)) & 0xFF]
    if currency:
        crc = (crc >> 8) ^ table[(crc ^ 0x01) & 0xFF]
    return ((crc & 0xFF) << 8) | (crc >> 8)


def block_field(token_class: int, block: int, *, currency: bool = False) -> int:
    """The CRC field a 64-bit data block of ``token_class`` must carry in bits 15..0."""
    return field((token_class << 48) | (block >> 16), currency=currency)
