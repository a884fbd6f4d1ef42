"""EA07: the STS Standard Transfer Algorithm (IEC 62055-41 6.5.4).

A 64-bit block, 64-bit key, 16 rounds of nibble substitution (S-box chosen per nibble by a
key bit), bit permutation and a one-bit key rotation. Written from the standard's prose.

Speed: one round is a substitution followed by a bit permutation, both byte-separable, so
for each byte position and each pair of selecting key bits a 256-entry table holds the
already-permuted 64-bit contribution of that byte. A round is then eight lookups OR-ed
together; the per-key choice of tables (the "schedule") is computed once and cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

_MASK64: Final = (1 << 64) - 1

# Real STS tables (STSA-distributed; values as published in SPEC.md section 6.1).
REAL_S1: Final = (14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11)
REAL_S2: Final = (12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14)
REAL_P: Final = (
    55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50,
    6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4, 32, 20, 63, 25,
    51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5,
    40, 60, 39, 11, 15, 17, 1, 0, 57, 34, 59, 8, 47, 14, 45, 26,
)  # fmt: skip

# Sample tables printed in the standard (IEC 62055-41 Table 44), used by its worked example.
SAMPLE_S1: Final = (12, 10, 8, 4, 3, 15, 0, 2, 14, 1, 5, 13, 6, 9, 7, 11)
SAMPLE_S2: Final = (6, 9, 7, 4, 3, 10, 12, 14, 2, 13, 1, 15, 0, 11, 8, 5)
SAMPLE_P: Final = (
    29, 27, 34, 9, 16, 62, 55, 2, 40, 49, 38, 25, 33, 61, 30, 23,
    1, 41, 21, 57, 42, 15, 5, 58, 19, 53, 22, 17, 48, 28, 24, 39,
    3, 60, 36, 14, 11, 52, 54, 12, 31, 51, 10, 26, 0, 45, 37, 43,
    44, 6, 59, 4, 7, 35, 56, 50, 13, 18, 32, 47, 46, 63, 20, 8,
)  # fmt: skip

_Tables = tuple[tuple[int, ...], ...]


def _invert(table: tuple[int, ...]) -> tuple[int, ...]:
    inverse = [0] * len(table)
    for i, v in enumerate(table):
        inverse[v] = i
    return tuple(inverse)


def _permute(value: int, perm: tuple[int, ...]) -> int:
    out = 0
    for i in range(64):
        if value >> i & 1:
            out |= 1 << perm[i]
    return out


def _byte_tables(s1: tuple[int, ...], s2: tuple[int, ...], perm: tuple[int, ...]) -> _Tables:
    """For byte position j and selector s (bit0: low nibble, bit1: high nibble; 1 = S2)."""
    tables: list[tuple[int, ...]] = []
    for j in range(8):
        for sel in range(4):
            lo_box = s2 if sel & 1 else s1
            hi_box = s2 if sel & 2 else s1
            row = tuple(_permute((lo_box[b & 15] | hi_box[b >> 4] << 4) << (8 * j), perm) for b in range(256))
            tables.append(row)
    return tuple(tables)


def _inverse_byte_tables(s1_inv: tuple[int, ...], s2_inv: tuple[int, ...], perm_inv: tuple[int, ...] | None) -> _Tables:
    """Undo a round's substitution on byte j, then (optionally) the previous round's permutation."""
    tables: list[tuple[int, ...]] = []
    for j in range(8):
        for sel in range(4):
            lo_box = s2_inv if sel & 1 else s1_inv
            hi_box = s2_inv if sel & 2 else s1_inv
            row = []
            for b in range(256):
                v = (lo_box[b & 15] | hi_box[b >> 4] << 4) << (8 * j)
                row.append(_permute(v, perm_inv) if perm_inv is not None else v)
            tables.append(tuple(row))
    return tuple(tables)


def _permutation_tables(perm: tuple[int, ...]) -> _Tables:
    return tuple(tuple(_permute(b << (8 * j), perm) for b in range(256)) for j in range(8))


@dataclass(frozen=True, slots=True)
class StaTables:
    """A set of STA tables with everything precomputed for the fast round function."""

    encrypt_rounds: _Tables
    decrypt_rounds: _Tables
    decrypt_last: _Tables
    unpermute: _Tables

    @classmethod
    def build(cls, s1: tuple[int, ...], s2: tuple[int, ...], perm: tuple[int, ...]) -> StaTables:
        perm_inv = _invert(perm)
        return cls(
            encrypt_rounds=_byte_tables(s1, s2, perm),
            decrypt_rounds=_inverse_byte_tables(_invert(s1), _invert(s2), perm_inv),
            decrypt_last=_inverse_byte_tables(_invert(s1), _invert(s2), None),
            unpermute=_permutation_tables(perm_inv),
        )


@lru_cache(maxsize=2)
def _tables(sample: bool) -> StaTables:
    if sample:
        return StaTables.build(SAMPLE_S1, SAMPLE_S2, SAMPLE_P)
    return StaTables.build(REAL_S1, REAL_S2, REAL_P)


# For round r and byte position j, the round key is rotl(k0, r), so its bits 8j+3 and 8j+7 are
# bits (8j+3-r) and (8j+7-r) of the aligned key k0: precomputed here once for all keys.
_ENC_POS: Final = tuple((4 * j, (8 * j + 3 - r) % 64, (8 * j + 7 - r) % 64) for r in range(16) for j in range(8))
_DEC_POS: Final = tuple((4 * j, (8 * j + 3 - r) % 64, (8 * j + 7 - r) % 64) for r in range(15, 0, -1) for j in range(8))
_LAST_POS: Final = tuple((4 * j, (8 * j + 3) % 64, (8 * j + 7) % 64) for j in range(8))


def _aligned(key: int) -> int:
    """Key alignment: complement, then rotate right by 12."""
    inverted = ~key & _MASK64
    return (inverted >> 12 | inverted << 52) & _MASK64


@lru_cache(maxsize=8192)
def _encrypt_schedule(key: int, sample: bool) -> tuple[_Tables, ...]:
    """Per-key encryption round tables (16 rounds x 8 byte positions)."""
    t = _tables(sample).encrypt_rounds
    k = _aligned(key)
    flat = [t[base + (k >> a & 1) + ((k >> b & 1) << 1)] for base, a, b in _ENC_POS]
    return tuple(tuple(flat[i : i + 8]) for i in range(0, 128, 8))


@lru_cache(maxsize=8192)
def _decrypt_schedule(key: int, sample: bool) -> tuple[tuple[_Tables, ...], _Tables]:
    """Per-key decryption tables: rounds 15..1 (with the permutation undone) and round 0."""
    tables = _tables(sample)
    k = _aligned(key)
    dec = tables.decrypt_rounds
    last = tables.decrypt_last
    flat = [dec[base + (k >> a & 1) + ((k >> b & 1) << 1)] for base, a, b in _DEC_POS]
    return (
        tuple(tuple(flat[i : i + 8]) for i in range(0, 120, 8)),
        tuple(last[base + (k >> a & 1) + ((k >> b & 1) << 1)] for base, a, b in _LAST_POS),
    )


def encrypt(block: int, key: int, *, sample_tables: bool = False) -> int:
    """Encrypt a 64-bit block under a 64-bit key (the key as an MSB-first integer)."""
    enc = _encrypt_schedule(key, sample_tables)
    d = block
    for t0, t1, t2, t3, t4, t5, t6, t7 in enc:
        d = (
            t0[d & 255] | t1[d >> 8 & 255] | t2[d >> 16 & 255] | t3[d >> 24 & 255]
            | t4[d >> 32 & 255] | t5[d >> 40 & 255] | t6[d >> 48 & 255] | t7[d >> 56]
        )  # fmt: skip
    return d


def decrypt(block: int, key: int, *, sample_tables: bool = False) -> int:
    """Decrypt a 64-bit block under a 64-bit key."""
    dec, last = _decrypt_schedule(key, sample_tables)
    p = _tables(sample_tables).unpermute
    d = block
    d = (
        p[0][d & 255] | p[1][d >> 8 & 255] | p[2][d >> 16 & 255] | p[3][d >> 24 & 255]
        | p[4][d >> 32 & 255] | p[5][d >> 40 & 255] | p[6][d >> 48 & 255] | p[7][d >> 56]
    )  # fmt: skip
    for t0, t1, t2, t3, t4, t5, t6, t7 in dec:
        d = (
            t0[d & 255] | t1[d >> 8 & 255] | t2[d >> 16 & 255] | t3[d >> 24 & 255]
            | t4[d >> 32 & 255] | t5[d >> 40 & 255] | t6[d >> 48 & 255] | t7[d >> 56]
        )  # fmt: skip
    t0, t1, t2, t3, t4, t5, t6, t7 = last
    return (
        t0[d & 255] | t1[d >> 8 & 255] | t2[d >> 16 & 255] | t3[d >> 24 & 255]
        | t4[d >> 32 & 255] | t5[d >> 40 & 255] | t6[d >> 48 & 255] | t7[d >> 56]
    )  # fmt: skip
