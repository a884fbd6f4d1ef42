"""The batch token engine: many tokens per call, byte-identical to the per-token engine.

The per-token engine (``prabayar.sts.encode`` / ``decode`` / ``derive_decoder_key`` /
``encode_key_change``) stays the readable reference. This module does the same work for many
tokens or meters at once in the C extension ``prabayar.sts._batch`` (built by ``pip install``
when a C compiler is present). Without it, or with ``PRABAYAR_STS_BATCH=python`` in the
environment, every function loops the per-token engine instead and says so once in the log.

>>> from decimal import Decimal
>>> from prabayar import sts
>>> from prabayar.sts import batch
>>> key = sts.DecoderKey.from_hex("e653341f9d5bf36f")
>>> batch.encode_credits(key, [5871715], Decimal("0.1"), 5)
['23716100501183194197']
>>> batch.decode_tokens(["23716100501183194197"], key)[0].amount
Decimal('0.1')

Results are the same on both backends, including which inputs fail and the typed error raised
(for the first failing input, as the per-token loop would raise it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from decimal import Decimal
from types import ModuleType
from typing import Final, TypeVar

from prabayar.sts import crc, meter_pan, token_number
from prabayar.sts.ciphers import sta
from prabayar.sts.ciphers._misty1_tables import S7, S9
from prabayar.sts.codec import decode, decode_trace, decrypt_block, encode, extract_class, read_block
from prabayar.sts.errors import KeyRequired, StsError
from prabayar.sts.keychange import encode_key_change, key_change_tokens
from prabayar.sts.keys import (
    DecoderKey,
    Dkga,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
    VendingKey,
    control_block,
    derive_decoder_key,
    kdf_input,
)
from prabayar.sts.tokens import ElectricityCredit, Token, TransferCredit

_log = logging.getLogger(__name__)

#: ``screen`` results, one byte per token.
BAD: Final = 0  # cannot be a token under this key: class 3, above 2**66 - 1, or a failed CRC
GOOD: Final = 1  # decrypts with a good CRC (a reserved subclass still fails ``decode``)
UNREAD: Final = 2  # not 20 plain digits: only the per-token engine reads it (separators, errors)

_ALG = {EncryptionAlgorithm.STA: 7, EncryptionAlgorithm.DEA: 9, EncryptionAlgorithm.MISTY1: 11}

T = TypeVar("T")
K = TypeVar("K")


def _load() -> tuple[ModuleType | None, str]:
    if os.environ.get("PRABAYAR_STS_BATCH", "").strip().lower() in ("python", "pure", "0", "off"):
        return None, "PRABAYAR_STS_BATCH asks for the pure-Python engine"
    try:
        from prabayar.sts import _batch
    except ImportError as exc:  # no compiler at install time, or a foreign platform
        return None, f"the C extension prabayar.sts._batch is not built ({exc})"
    _batch.setup(sta.REAL_S1, sta.REAL_S2, sta.REAL_P, S7, S9, crc._TABLE)
    return _batch, ""


_c, _why_not = _load()
_told = False


def backend() -> str:
    """``"c"`` when the C extension does the work, ``"python"`` for the per-token fallback."""
    return "c" if _c is not None else "python"


def _fast() -> ModuleType | None:
    """The C module, or None after logging once that the fallback is in use."""
    global _told
    if _c is None and not _told:
        _told = True
        _log.warning(
            "prabayar.sts.batch: %s; using the pure-Python fallback (the per-token engine in a loop, "
            "50-100x slower than the C engine; reinstall with a C compiler: pip install -e .)",
            _why_not,
        )
    return _c


def _groups(keys: Iterable[K]) -> dict[K, list[int]]:
    """Indices by key, in order of first appearance."""
    out: dict[K, list[int]] = {}
    for i, k in enumerate(keys):
        out.setdefault(k, []).append(i)
    return out


def _per_item(value: T | Sequence[T], n: int, single: type | tuple[type, ...]) -> Sequence[T]:
    if isinstance(value, single):
        return [value] * n  # type: ignore[list-item]
    seq: Sequence[T] = value  # type: ignore[assignment]
    if len(seq) != n:
        raise ValueError(f"{n} items expected, got {len(seq)}")
    return seq


# ---------------------------------------------------------------- encoding


def encode_tokens(tokens: Sequence[Token], key: DecoderKey | None) -> list[str]:
    """``[encode(t, key) for t in tokens]`` (any token types, classes may be mixed)."""
    c = _fast()
    if c is None:
        return [encode(t, key) for t in tokens]
    if key is None:
        for t in tokens:
            if t.token_class != 1:
                raise KeyRequired(f"a {t.name} token is encrypted: a decoder key is needed")
    alg = _ALG[key.algorithm] if key is not None else 0
    raw = key.reveal() if key is not None else b""
    out: list[str] = [""] * len(tokens)
    for token_class, idx in _groups(t.token_class for t in tokens).items():
        digits = c.encode(alg, raw, token_class, [tokens[i].pack() for i in idx], 0)
        for i, d in zip(idx, digits, strict=True):
            out[i] = d
    return out


def encode_credits(
    key: DecoderKey,
    tids: Sequence[int],
    amounts: Decimal | Sequence[Decimal],
    rnds: int | Sequence[int] = 0,
    kind: type[TransferCredit] = ElectricityCredit,
) -> list[str]:
    """Credit tokens of one ``kind`` (class 0 subclass 0-3) under one key: the same digits as
    ``[encode(kind(tid=t, amount=a, rnd=r), key) for t, a, r in ...]``.

    ``amounts`` and ``rnds`` are one value for all tokens or one per TID.
    """
    if not (isinstance(kind, type) and issubclass(kind, TransferCredit)):
        raise TypeError("encode_credits makes transfer credit tokens (class 0 subclass 0-3); use encode_tokens")
    n = len(tids)
    amount_list = _per_item(amounts, n, (Decimal, int, float, str))
    rnd_list = _per_item(rnds, n, int)

    def reference() -> list[str]:
        return [encode(kind(tid=t, amount=a, rnd=r), key) for t, a, r in zip(tids, amount_list, rnd_list, strict=True)]

    c = _fast()
    if c is None or n == 0:
        return reference()
    try:
        fields: dict[object, int] = {}
        values = []
        for a in amount_list:
            f = fields.get(a)
            if f is None:
                f = fields[a] = kind(tid=0, amount=a).amount_field  # validates as the token does
            values.append(f)
        return list(c.encode_fields(_ALG[key.algorithm], key.reveal(), 0, kind.subclass, tids, values, rnds))
    except (StsError, ValueError, TypeError):
        return reference()  # raises the typed error of the first bad token, as the loop does


# ---------------------------------------------------------------- decoding


def _read(token_class: int, block: int) -> Token | StsError:
    try:
        return read_block(token_class, block)
    except StsError as exc:
        return exc
    except Exception as exc:  # defensive, as decode_trace
        return StsError(f"cannot read the token fields: {exc}")


def _decode_one(digits: str, key: DecoderKey | None) -> Token | StsError:
    try:
        return decode(digits, key)
    except StsError as exc:
        return exc


def decode_tokens(digits: Sequence[str], key: DecoderKey | None) -> list[Token | StsError]:
    """Per token string: the typed token, or the ``StsError`` that ``decode`` raises for it
    (returned, not raised, so one bad token does not stop the batch)."""
    c = _fast()
    if c is None or key is None:
        return [_decode_one(d, key) for d in digits]
    out: list[Token | StsError] = []
    append = out.append
    for d, r in zip(digits, c.decode(_ALG[key.algorithm], key.reveal(), digits), strict=True):
        if r is None or r is False:
            append(_decode_one(d, key))  # the per-token engine names the error
        else:
            append(_read(r[0], r[1]))
    return out


def _block_one(digits: str, key: DecoderKey | None) -> tuple[int, int] | None:
    try:
        trace = decode_trace(digits, key)
    except StsError:
        return None
    return trace.token.token_class, trace.plaintext_block


def decode_blocks(digits: Sequence[str], key: DecoderKey | None) -> list[tuple[int, int] | None]:
    """Per token string: ``(class, plaintext block)`` when ``decode`` would succeed, else None.

    The fast path for callers that read the fields themselves (no token objects are built)."""
    c = _fast()
    if c is None or key is None:
        return [_block_one(d, key) for d in digits]
    out: list[tuple[int, int] | None] = []
    append = out.append
    for d, r in zip(digits, c.decode(_ALG[key.algorithm], key.reveal(), digits), strict=True):
        if r is None:
            append(_block_one(d, key))
        elif r is False:
            append(None)
        elif r[0] == 0 and r[1] >> 60 < 4:  # transfer credit: reading its fields cannot fail
            append(r)
        else:
            append(None if isinstance(_read(r[0], r[1]), StsError) else r)
    return out


def _screen_one(digits: str, key: DecoderKey) -> int:
    if not (type(digits) is str and len(digits) == 20 and digits.isdigit() and digits.isascii()):
        return UNREAD
    value = int(digits)
    if value > token_number.MAX_TOKEN:
        return BAD
    token_class, encrypted = extract_class(value)
    if token_class == 3:
        return BAD
    block = encrypted if token_class == 1 else decrypt_block(encrypted, key)
    currency = token_class == 0 and 4 <= block >> 60 <= 7
    return GOOD if block & 0xFFFF == crc.block_field(token_class, block, currency=currency) else BAD


def screen(digits: Sequence[str], key: DecoderKey) -> bytes:
    """One byte per token string: ``GOOD`` (decrypts under ``key`` with a good CRC), ``BAD``
    (``decode`` would fail: class 3, too large, CRC) or ``UNREAD`` (not 20 plain digits: ask
    ``decode``). The cheap first pass of a search over many candidate tokens."""
    c = _fast()
    if c is None:
        return bytes(_screen_one(d, key) for d in digits)
    result: bytes = c.check(_ALG[key.algorithm], key.reveal(), digits)
    return result


_WEIGHTS: Final = tuple(10 ** (19 - i) for i in range(20))


def _two_digit_variants_py(
    typed: str, key: DecoderKey | None, classes: frozenset[int]
) -> tuple[int, int, list[tuple[str, int, int]]]:
    base = int(typed)
    digits = [int(ch) for ch in typed]
    limit = token_number.MAX_TOKEN
    generated = plausible = 0
    good: list[tuple[str, int, int]] = []
    for p in range(19):
        for new_p in range(10):
            if new_p == digits[p]:
                continue
            first = base + (new_p - digits[p]) * _WEIGHTS[p]
            for q in range(p + 1, 20):
                for new_q in range(10):
                    if new_q == digits[q]:
                        continue
                    generated += 1
                    value = first + (new_q - digits[q]) * _WEIGHTS[q]
                    if value > limit or (value >> 27) & 3 not in classes:
                        continue
                    plausible += 1
                    if key is not None:
                        text = f"{value:020d}"
                        if _screen_one(text, key) == GOOD:
                            good.append((text, p + 1, q + 1))
    return generated, plausible, good


def two_digit_variants(
    typed: str, key: DecoderKey | None, classes: frozenset[int]
) -> tuple[int, int, list[tuple[str, int, int]]]:
    """Every token that differs from ``typed`` (20 digits) in exactly two positions, enumerated in
    the order (position p, new digit at p, position q > p, new digit at q).

    Returns ``(generated, plausible, good)``: how many were enumerated (15,390), how many are
    below 2**66 with a class in ``classes``, and of those the ones that decrypt under ``key`` with
    a good CRC as ``(digits, p, q)`` (1-based positions); without a key only the counts."""
    c = _fast()
    if c is not None and type(typed) is str and len(typed) == 20 and typed.isdigit() and typed.isascii():
        mask = sum(1 << k for k in classes if k in (0, 1, 2, 3))
        alg = _ALG[key.algorithm] if key is not None else 0
        result: tuple[int, int, list[tuple[str, int, int]]] = c.two_digit_variants(
            typed, mask, alg, key.reveal() if key is not None else b""
        )
        return result
    return _two_digit_variants_py(typed, key, classes)


# ---------------------------------------------------------------- decoder keys


def meter_pans(numbers: Sequence[str]) -> list[str]:
    """``[meter_pan.from_meter_number(n) for n in numbers]``: the 18-digit PAN of each meter
    number (what derivation takes), for a campaign's selection of meters."""
    c = _fast()
    if c is None:
        return [meter_pan.from_meter_number(n) for n in numbers]
    pans: list[str]  # None at the indices in ``bad`` until filled in below
    bad: list[int]
    pans, bad = c.meter_pans(numbers)
    for i in bad:  # ascending: separators are fine, anything else raises as the loop would
        pans[i] = meter_pan.from_meter_number(numbers[i])
    return pans


#: Any valid meter number: DKGA04's message around the PAN item is taken from its PAN.
_SAMPLE_METER: Final = "14100000018"


def _derive_flat(vending_key: VendingKey, pans: Sequence[str], params: KeyParameters) -> bytes:
    """The key bytes ``derive_decoder_key`` gives for each PAN, one after the other (DKGA02 and
    DKGA04 batched in C; an invalid PAN raises the per-token error, the first one first)."""
    c = _fast()
    if c is None or params.dkga is Dkga.DKGA03 or not pans:
        return b"".join(derive_decoder_key(vending_key, p, params).reveal() for p in pans)
    bad: list[int]
    flat: bytes
    if params.dkga is Dkga.DKGA02:
        if len(vending_key.reveal()) != 8:
            derive_decoder_key(vending_key, pans[0], params)  # raises the per-token InvalidKey
        flat, bad = c.dkga02(vending_key.reveal(), pans, control_block(params), params.key_type is KeyType.DCTK)
    else:
        # the message is the same for every PAN but the PAN item (length 18 + digits) before L
        sample = kdf_input(meter_pan.from_meter_number(_SAMPLE_METER), params)
        flat, bad = c.dkga04(vending_key.reveal(), pans, sample[:-23], sample[-4:], params.algorithm.key_bytes)
    if not bad:
        return flat
    size = len(flat) // len(pans)
    keys = [flat[i : i + size] for i in range(0, len(flat), size)]
    for i in bad:  # ascending: a PAN with separators is fine, an invalid one raises as the loop would
        keys[i] = derive_decoder_key(vending_key, pans[i], params).reveal()
    return b"".join(keys)


def _derive_raw(vending_key: VendingKey, pans: Sequence[str], params: KeyParameters) -> list[bytes]:
    """``_derive_flat`` cut into one key per PAN."""
    if not pans:
        return []
    flat = _derive_flat(vending_key, pans, params)
    size = len(flat) // len(pans)
    return [flat[i : i + size] for i in range(0, len(flat), size)]


def derive_decoder_keys(vending_key: VendingKey, pans: Sequence[str], params: KeyParameters) -> list[DecoderKey]:
    """``[derive_decoder_key(vending_key, pan, params) for pan in pans]``."""
    algorithm = params.algorithm
    return [DecoderKey(raw, algorithm) for raw in _derive_raw(vending_key, pans, params)]


# ---------------------------------------------------------------- key change sets


def _heads(params: KeyParameters, rollover: bool) -> list[int]:
    """The KCT data blocks of ``params`` with every key section zero (the per-token layout)."""
    blank = DecoderKey(bytes(params.algorithm.key_bytes), params.algorithm)
    return [t.pack() for t in key_change_tokens(blank, params, rollover=rollover)]


def _kct_group(
    c: ModuleType, current: Sequence[bytes], algorithm: EncryptionAlgorithm, new: Sequence[bytes],
    params: KeyParameters, rollover: bool,
) -> list[list[str]]:  # fmt: skip
    per = 2 if params.algorithm.key_bytes == 8 else 4
    flat = c.key_change(
        _ALG[algorithm], b"".join(current), b"".join(new), params.algorithm.key_bytes, _heads(params, rollover)
    )
    return [flat[i : i + per] for i in range(0, len(flat), per)]


def key_change_sets(
    current_keys: Sequence[DecoderKey],
    new_keys: Sequence[DecoderKey],
    new_params: KeyParameters | Sequence[KeyParameters],
    *,
    rollover: bool = False,
) -> list[list[str]]:
    """Per meter, ``encode_key_change(current, new, params, rollover=rollover)``: the 2 (64-bit
    new key) or 4 (128-bit) key change tokens made with the meter's current key.

    ``new_params`` is one set for every meter or one per meter."""
    n = len(current_keys)
    if len(new_keys) != n:
        raise ValueError(f"{n} current keys but {len(new_keys)} new keys")
    params_list = _per_item(new_params, n, KeyParameters)
    c = _fast()
    if c is None:
        return [
            encode_key_change(cur, new, p, rollover=rollover)
            for cur, new, p in zip(current_keys, new_keys, params_list, strict=True)
        ]
    for i in range(n):
        if new_keys[i].algorithm is not params_list[i].algorithm:
            key_change_tokens(new_keys[i], params_list[i], rollover=rollover)  # raises InvalidKey
    out: list[list[str]] = [[] for _ in range(n)]
    for (algorithm, p), idx in _groups((current_keys[i].algorithm, params_list[i]) for i in range(n)).items():
        sets = _kct_group(
            c, [current_keys[i].reveal() for i in idx], algorithm, [new_keys[i].reveal() for i in idx], p, rollover
        )
        for i, s in zip(idx, sets, strict=True):
            out[i] = s
    return out


def meter_key_changes(
    pans: Sequence[str],
    current: tuple[VendingKey, KeyParameters],
    new: tuple[VendingKey, KeyParameters],
    *,
    rollover: bool = False,
) -> list[list[str]]:
    """Key change sets for many meters of one key group, from their PANs: each meter's current
    key and new key are derived (DKGA02/03/04 as each ``KeyParameters`` names) and the new key
    is sent in tokens made with the current one. The same digits as
    ``encode_key_change(derive_decoder_key(*current..), derive_decoder_key(*new..), new[1])``."""
    cur_vk, cur_params = current
    new_vk, new_params = new
    c = _fast()
    if c is not None:
        if not pans:
            return []
        per = 2 if new_params.algorithm.key_bytes == 8 else 4
        flat = c.key_change(
            _ALG[cur_params.algorithm], _derive_flat(cur_vk, pans, cur_params), _derive_flat(new_vk, pans, new_params),
            new_params.algorithm.key_bytes, _heads(new_params, rollover),
        )  # fmt: skip
        return [flat[i : i + per] for i in range(0, len(flat), per)]
    return [
        encode_key_change(
            DecoderKey(cr, cur_params.algorithm), DecoderKey(nr, new_params.algorithm), new_params, rollover=rollover
        )
        for cr, nr in zip(_derive_raw(cur_vk, pans, cur_params), _derive_raw(new_vk, pans, new_params), strict=True)
    ]


def _line_field(text: str, what: str, i: int) -> str:
    if not text.isascii() or any(ch in text for ch in "\t\n\r\\"):
        raise ValueError(f"{what} {i} is not ASCII or has a tab, newline or backslash")
    return text


def meter_key_change_lines(
    numbers: Sequence[str],
    seconds: Sequence[str],
    current: tuple[VendingKey, KeyParameters],
    new: tuple[VendingKey, KeyParameters],
    *,
    rollover: bool = False,
    before: str = "",
    middle: str = "\t",
    after: str = "\n",
) -> bytes:
    """The key change sets of ``meter_key_changes(meter_pans(numbers), ...)`` as ASCII lines, one
    per meter: ``before + numbers[i] + TAB + seconds[i] + middle + " ".join(set) + after``.

    For a campaign's PostgreSQL ``COPY``: with the C engine the whole payload is made in one
    call, with no Python object per meter (this, not the ciphers, was most of a chunk's Python
    time). ``numbers``/``seconds`` holding a tab, newline or backslash raise ``ValueError``;
    ``before``/``middle``/``after`` are the caller's (ASCII, already escaped)."""
    if len(seconds) != len(numbers):
        raise ValueError(f"{len(numbers)} meters but {len(seconds)} second fields")
    pans = meter_pans(numbers)
    cur_vk, cur_params = current
    new_vk, new_params = new
    c = _fast()
    if c is None or not pans:
        sets = meter_key_changes(pans, current, new, rollover=rollover)
        return "".join(
            f"{before}{_line_field(n, 'first', i)}\t{_line_field(x, 'second', i)}{middle}{' '.join(s)}{after}"
            for i, (n, x, s) in enumerate(zip(numbers, seconds, sets, strict=True))
        ).encode("ascii")
    lines: bytes = c.key_change_lines(
        _ALG[cur_params.algorithm], _derive_flat(cur_vk, pans, cur_params), _derive_flat(new_vk, pans, new_params),
        new_params.algorithm.key_bytes, _heads(new_params, rollover), numbers, seconds,
        before.encode("ascii"), middle.encode("ascii"), after.encode("ascii"),
    )  # fmt: skip
    return lines


__all__ = [
    "BAD", "GOOD", "UNREAD", "backend", "decode_blocks", "decode_tokens", "derive_decoder_keys", "encode_credits",
    "encode_tokens", "key_change_sets", "meter_key_change_lines", "meter_key_changes", "meter_pans", "screen",
    "two_digit_variants",
]  # fmt: skip
