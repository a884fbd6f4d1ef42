"""Type stub of the C batch engine (src/prabayar/sts/_batch.c); use it through prabayar.sts.batch."""

from collections.abc import Sequence

def setup(
    sta_s1: Sequence[int],
    sta_s2: Sequence[int],
    sta_perm: Sequence[int],
    misty_s7: Sequence[int],
    misty_s9: Sequence[int],
    crc_table: Sequence[int],
    /,
) -> None: ...
def encode(alg: int, keys: bytes, token_class: int, blocks: Sequence[int], per_key: int, /) -> list[str]: ...
def encode_fields(
    alg: int,
    key: bytes,
    token_class: int,
    subclass: int,
    tids: Sequence[int],
    values: int | Sequence[int],
    rnds: int | Sequence[int],
    /,
) -> list[str]: ...
def decode(alg: int, key: bytes, tokens: Sequence[str], /) -> list[tuple[int, int] | bool | None]: ...
def check(alg: int, key: bytes, tokens: Sequence[str], /) -> bytes: ...
def crypt(alg: int, key: bytes, blocks: Sequence[int], decrypt: bool, /) -> list[int]: ...
def dkga02(vudk: bytes, pans: Sequence[str], control_block: int, common: bool, /) -> tuple[bytes, list[int]]: ...
def bad_pans(pans: Sequence[str], /) -> list[int]: ...
def key_change(
    alg: int, current_keys: bytes, new_keys: bytes, new_key_bytes: int, heads: Sequence[int], /
) -> list[str]: ...
def key_change_lines(
    alg: int,
    current_keys: bytes,
    new_keys: bytes,
    new_key_bytes: int,
    heads: Sequence[int],
    firsts: Sequence[str],
    seconds: Sequence[str],
    before: bytes,
    middle: bytes,
    after: bytes,
    /,
) -> bytes: ...
def hmac_sha256(key: bytes, messages: Sequence[bytes], /) -> list[bytes]: ...
def dkga04(
    vending_key: bytes, pans: Sequence[str], head: bytes, tail: bytes, size: int, /
) -> tuple[bytes, list[int]]: ...
def two_digit_variants(
    typed: str, classes_mask: int, alg: int, key: bytes, /
) -> tuple[int, int, list[tuple[str, int, int]]]: ...
def meter_pans(numbers: Sequence[str], /) -> tuple[list[str | None], list[int]]: ...
