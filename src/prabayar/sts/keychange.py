"""Key change token sets (SPEC 3.3 and 9): the new key split into 2 or 4 sections.

The sections are encrypted with the meter's current key, which is the caller's ``encode``.
"""

from __future__ import annotations

from prabayar.sts.errors import InvalidKey
from prabayar.sts.keys import DecoderKey, KeyParameters
from prabayar.sts.tokens import KeyChange1, KeyChange2, KeyChange3, KeyChange4, Token


def key_change_tokens(new_key: DecoderKey, new_params: KeyParameters, *, rollover: bool = False) -> list[Token]:
    """The key change set for ``new_key``: 2 tokens for a 64-bit key, 4 for a 128-bit key."""
    if new_key.algorithm is not new_params.algorithm:
        raise InvalidKey("the new key and its parameters name different algorithms")
    raw = new_key.reveal()
    ken = new_params.ken
    first = KeyChange1(
        ken_high=ken >> 4,
        krn=new_params.krn,
        key_type=int(new_params.key_type),
        key_high=int.from_bytes(raw[0:4], "big"),
        rollover=rollover,
    )
    second = KeyChange2(
        ken_low=ken & 15,
        tariff_index=int(new_params.tariff_index),
        key_low=int.from_bytes(raw[-4:], "big"),
    )
    if len(raw) == 8:
        return [first, second]
    sgc = int(new_params.sgc)
    third = KeyChange3(sgc_low=sgc & 0xFFF, key_mid2=int.from_bytes(raw[4:8], "big"))
    fourth = KeyChange4(sgc_high=sgc >> 12 & 0xFFF, key_mid1=int.from_bytes(raw[8:12], "big"))
    return [first, second, third, fourth]


def assemble_key(sections: dict[int, Token], key_bytes: int) -> bytes:
    """Rebuild the new key from the received sections (meter side), keyed by subclass."""
    first = sections[3]
    second = sections[4]
    if not isinstance(first, KeyChange1) or not isinstance(second, KeyChange2):
        raise InvalidKey("key change sections 1 and 2 are required")
    if key_bytes == 8:
        return first.key_high.to_bytes(4, "big") + second.key_low.to_bytes(4, "big")
    third = sections[8]
    fourth = sections[9]
    if not isinstance(third, KeyChange3) or not isinstance(fourth, KeyChange4):
        raise InvalidKey("a 128-bit key needs sections 3 and 4 too")
    return b"".join(v.to_bytes(4, "big") for v in (first.key_high, third.key_mid2, fourth.key_mid1, second.key_low))


def encode_key_change(
    current_key: DecoderKey,
    new_key: DecoderKey,
    new_params: KeyParameters,
    *,
    rollover: bool = False,
) -> list[str]:
    """The 20-digit key change tokens, each encrypted with the meter's current key."""
    from prabayar.sts.codec import encode

    return [encode(t, current_key) for t in key_change_tokens(new_key, new_params, rollover=rollover)]
