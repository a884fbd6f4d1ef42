"""EA11: the MISTY1 block cipher (RFC 2994), 64-bit block, 128-bit key, 8 rounds.

Written from the RFC's description. Blocks are unsigned 64-bit integers (big-endian byte
order, as STS serialises the data block); the key schedule is computed once per key and
cached, because a vending server encrypts many tokens under one decoder key.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from prabayar.sts.ciphers._misty1_tables import S7, S9

_MASK16: Final = 0xFFFF


def _fi(x: int, key: int) -> int:
    d9 = x >> 7
    d7 = x & 0x7F
    d9 = S9[d9] ^ d7
    d7 = (S7[d7] ^ d9) & 0x7F
    d7 ^= key >> 9
    d9 ^= key & 0x1FF
    d9 = S9[d9] ^ d7
    return (d7 << 9) | d9


@lru_cache(maxsize=4096)
def expand_key(key: bytes) -> tuple[int, ...]:
    """The 16 expanded 16-bit subkeys EK[0..15] (EK[16..31] are their 9/7-bit halves)."""
    if len(key) != 16:
        raise ValueError("MISTY1 needs a 16-byte key")
    ek = [int.from_bytes(key[2 * i : 2 * i + 2], "big") for i in range(8)]
    ek += [_fi(ek[i], ek[(i + 1) % 8]) for i in range(8)]
    return tuple(ek)


def _fo(x: int, k: int, ek: tuple[int, ...]) -> int:
    t0 = x >> 16
    t1 = x & _MASK16
    t0 ^= ek[k]
    t0 = _fi(t0, ek[(k + 5) % 8 + 8])
    t0 ^= t1
    t1 ^= ek[(k + 2) % 8]
    t1 = _fi(t1, ek[(k + 1) % 8 + 8])
    t1 ^= t0
    t0 ^= ek[(k + 7) % 8]
    t0 = _fi(t0, ek[(k + 3) % 8 + 8])
    t0 ^= t1
    t1 ^= ek[(k + 4) % 8]
    return (t1 << 16) | t0


def _fl(x: int, k: int, ek: tuple[int, ...]) -> int:
    d0 = x >> 16
    d1 = x & _MASK16
    if k % 2 == 0:
        d1 ^= d0 & ek[k // 2]
        d0 ^= d1 | ek[(k // 2 + 6) % 8 + 8]
    else:
        d1 ^= d0 & ek[((k - 1) // 2 + 2) % 8 + 8]
        d0 ^= d1 | ek[((k - 1) // 2 + 4) % 8]
    return (d0 << 16) | d1


def _fl_inv(x: int, k: int, ek: tuple[int, ...]) -> int:
    d0 = x >> 16
    d1 = x & _MASK16
    if k % 2 == 0:
        d0 ^= d1 | ek[(k // 2 + 6) % 8 + 8]
        d1 ^= d0 & ek[k // 2]
    else:
        d0 ^= d1 | ek[((k - 1) // 2 + 4) % 8]
        d1 ^= d0 & ek[((k - 1) // 2 + 2) % 8 + 8]
    return (d0 << 16) | d1


def encrypt(block: int, key: bytes) -> int:
    """Encrypt one 64-bit block under a 16-byte key."""
    ek = expand_key(key)
    d0 = block >> 32
    d1 = block & 0xFFFFFFFF
    for r in range(0, 8, 2):
        d0 = _fl(d0, r, ek)
        d1 = _fl(d1, r + 1, ek)
        d1 ^= _fo(d0, r, ek)
        d0 ^= _fo(d1, r + 1, ek)
    d0 = _fl(d0, 8, ek)
    d1 = _fl(d1, 9, ek)
    return (d1 << 32) | d0


def decrypt(block: int, key: bytes) -> int:
    """Decrypt one 64-bit block under a 16-byte key."""
    ek = expand_key(key)
    d0 = block & 0xFFFFFFFF
    d1 = block >> 32
    d0 = _fl_inv(d0, 8, ek)
    d1 = _fl_inv(d1, 9, ek)
    for r in range(6, -1, -2):
        d0 ^= _fo(d1, r + 1, ek)
        d1 ^= _fo(d0, r, ek)
        d0 = _fl_inv(d0, r, ek)
        d1 = _fl_inv(d1, r + 1, ek)
    return (d0 << 32) | d1
