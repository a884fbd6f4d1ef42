"""The batch engine against the per-token engine: every vector, random differential runs, errors.

Each test runs twice: on the C extension and on the pure-Python fallback (``backend`` fixture).
"""

from __future__ import annotations

import logging
import os
import shutil
import sysconfig
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prabayar import sts
from prabayar.sts import (
    BaseDate,
    DecoderKey,
    Dkga,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
    StsError,
    VendingKey,
    batch,
)
from prabayar.sts.ciphers import misty1
from prabayar.sts.ciphers import sta as sta_cipher
from prabayar.sts.conformance import _derivation_key, build_token

from .conftest import load_vectors
from .test_codec import DEA_KEY, MISTY_KEY, STA_KEY, currency_credit, keys, management, physical_credit, test_tokens

ENTRIES = load_vectors()
# the backend fixture only switches a module attribute: it is the same for every example
_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
C_BUILT = batch._c is not None


@pytest.fixture(params=["c", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "c" and not C_BUILT:
        pytest.skip("the C extension is not built here")
    if request.param == "python":
        monkeypatch.setattr(batch, "_c", None)
        monkeypatch.setattr(batch, "_told", True)
    yield request.param


def _outcome(result: object) -> object:
    """Comparable form of a token or an error (exceptions do not compare equal)."""
    if isinstance(result, StsError):
        return (type(result), str(result))
    return result


def _per_token_decode(digits: str, key: DecoderKey | None) -> object:
    try:
        return sts.decode(digits, key)
    except StsError as exc:
        return (type(exc), str(exc))


def test_the_extension_is_built_where_a_compiler_is() -> None:
    """CI builds it (pip install -e); only a machine without cc or Python headers falls back."""
    headers = os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
    if shutil.which("cc") and headers and os.environ.get("PRABAYAR_STS_BATCH", "") == "":
        assert batch.backend() == "c"


# ---------------------------------------------------------------- vectors


def _vector_key(entry: dict[str, Any]) -> DecoderKey | None:
    text = str(entry.get("encryption", ""))
    if not text or text.lower().startswith("none"):
        return None
    algorithm = EncryptionAlgorithm.parse(text.split("/")[0])
    if entry.get("decoder_key_hex"):
        return DecoderKey(bytes.fromhex(entry["decoder_key_hex"]), algorithm)
    return _derivation_key(entry["decoder_key_derivation"], algorithm)


TOKEN_ENTRIES = [e for e in ENTRIES if e["kind"] == "token_generation"]


def test_every_token_vector(backend: str) -> None:
    assert len(TOKEN_ENTRIES) >= 227
    by_key: dict[tuple[str, bytes] | None, list[tuple[sts.Token, str]]] = {}
    for entry in TOKEN_ENTRIES:
        key = _vector_key(entry)
        token = build_token(entry)
        expected = entry["expected"]["token_20_digits"]
        assert batch.encode_tokens([token], key) == [expected] == [sts.encode(token, key)], entry["id"]
        assert batch.decode_tokens([expected], key) == [token], entry["id"]
        if key is not None:
            assert batch.screen([expected], key) == bytes([batch.GOOD])
        group = None if key is None else (key.algorithm.name, key.reveal())
        by_key.setdefault(group, []).append((token, expected))
    # and the same vectors many per call (mixed classes under one key)
    for group, pairs in by_key.items():
        key = None if group is None else DecoderKey(group[1], EncryptionAlgorithm[group[0]])
        tokens = [t for t, _ in pairs]
        digits = [d for _, d in pairs]
        assert batch.encode_tokens(tokens, key) == digits
        assert batch.decode_tokens(digits, key) == tokens
        assert all(r is not None for r in batch.decode_blocks(digits, key))


def test_cipher_and_derivation_vectors(backend: str) -> None:
    for entry in ENTRIES:
        inputs = entry.get("inputs", {})
        if entry["kind"] == "dkga02":
            params = KeyParameters(
                key_type=KeyType(inputs["key_type"]), sgc=inputs["sgc"], tariff_index=inputs["tariff_index"],
                krn=inputs["krn"],
            )  # fmt: skip
            got = batch.derive_decoder_keys(VendingKey.from_hex(inputs["vudk_hex"]), [inputs["meter_pan"]], params)
            assert got[0].reveal().hex() == entry["expected"]["decoder_key_hex"]
    if not C_BUILT or backend != "c":
        return
    from prabayar.sts import _batch

    for entry in ENTRIES:
        inputs, expected = entry.get("inputs", {}), entry.get("expected", {})
        if entry["kind"] == "sta_block_real_tables":
            out = _batch.crypt(7, bytes.fromhex(inputs["key_hex"]), [int(inputs["plaintext_block_hex"], 16)], False)
            assert out == [int(expected["ciphertext_hex"], 16)]
        if entry["kind"] == "misty1_block":
            out = _batch.crypt(11, bytes.fromhex(inputs["key_hex"]), [int(inputs["plaintext_hex"], 16)], False)
            assert out == [int(expected["ciphertext_hex"], 16)]


# ---------------------------------------------------------------- the ciphers in C


@pytest.mark.skipif(not C_BUILT, reason="the C extension is not built here")
@settings(max_examples=300, suppress_health_check=_SUPPRESS)
@given(key=st.binary(min_size=8, max_size=8), blocks=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=8))
def test_c_des_is_single_des_of_cryptography(key: bytes, blocks: list[int]) -> None:
    from prabayar.sts import _batch

    ecb = Cipher(TripleDES(key * 3), modes.ECB())
    enc = ecb.encryptor()
    want = [int.from_bytes(enc.update(b.to_bytes(8, "big")), "big") for b in blocks]
    assert _batch.crypt(9, key, blocks, False) == want
    assert _batch.crypt(9, key, want, True) == blocks


@pytest.mark.skipif(not C_BUILT, reason="the C extension is not built here")
@settings(max_examples=300, suppress_health_check=_SUPPRESS)
@given(
    key8=st.binary(min_size=8, max_size=8), key16=st.binary(min_size=16, max_size=16), block=st.integers(0, 2**64 - 1)
)
def test_c_sta_and_misty1_match_the_python_ciphers(key8: bytes, key16: bytes, block: int) -> None:
    from prabayar.sts import _batch

    k = int.from_bytes(key8, "big")
    assert _batch.crypt(7, key8, [block], False) == [sta_cipher.encrypt(block, k)]
    assert _batch.crypt(7, key8, [block], True) == [sta_cipher.decrypt(block, k)]
    assert _batch.crypt(11, key16, [block], False) == [misty1.encrypt(block, key16)]
    assert _batch.crypt(11, key16, [block], True) == [misty1.decrypt(block, key16)]


# ---------------------------------------------------------------- differential: encode / decode

any_token = st.one_of(physical_credit, currency_credit, management, test_tokens)


@settings(max_examples=150, suppress_health_check=_SUPPRESS)
@given(tokens=st.lists(any_token, max_size=12), key=keys)
def test_encode_tokens_is_the_per_token_encode(backend: str, tokens: list[sts.Token], key: DecoderKey) -> None:
    digits = batch.encode_tokens(tokens, key)
    assert digits == [sts.encode(t, key) for t in tokens]
    assert batch.decode_tokens(digits, key) == [sts.decode(d, key) for d in digits]


@settings(max_examples=150, suppress_health_check=_SUPPRESS)
@given(
    key=keys,
    tids=st.lists(st.integers(0, sts.TID_MAX), max_size=10),
    amount=st.decimals(min_value=0, max_value=100000, places=2),
    rnd=st.integers(0, 15),
    kind=st.sampled_from([sts.ElectricityCredit, sts.WaterCredit, sts.GasCredit, sts.TimeCredit]),
)
def test_encode_credits_is_the_per_token_encode(
    backend: str, key: DecoderKey, tids: list[int], amount: Decimal, rnd: int, kind: type[sts.TransferCredit]
) -> None:
    want = [sts.encode(kind(tid=t, amount=amount, rnd=rnd), key) for t in tids]
    assert batch.encode_credits(key, tids, amount, rnd, kind) == want
    rnds = [(rnd + i) & 15 for i in range(len(tids))]
    amounts = [amount + i for i in range(len(tids))]
    assert batch.encode_credits(key, tids, amounts, rnds, kind) == [
        sts.encode(kind(tid=t, amount=a, rnd=r), key) for t, a, r in zip(tids, amounts, rnds, strict=True)
    ]


digit_strings = st.one_of(
    st.integers(0, 10**20 - 1).map(lambda v: f"{v:020d}"),
    st.text(alphabet="0123456789 -x", min_size=0, max_size=24),
)


@settings(max_examples=200, suppress_health_check=_SUPPRESS)
@given(digits=st.lists(digit_strings, max_size=10), key=keys)
def test_decoding_anything_is_the_per_token_decode(backend: str, digits: list[str], key: DecoderKey) -> None:
    want = [_per_token_decode(d, key) for d in digits]
    assert [_outcome(r) for r in batch.decode_tokens(digits, key)] == want
    blocks = batch.decode_blocks(digits, key)
    for d, b, w in zip(digits, blocks, want, strict=True):
        if isinstance(w, tuple):
            assert b is None
        else:
            trace = sts.decode_trace(d, key)
            assert b == (trace.token.token_class, trace.plaintext_block)
    for d, s, w in zip(digits, batch.screen(digits, key), want, strict=True):
        if s == batch.GOOD:
            assert not isinstance(w, tuple) or w[0] is sts.UnsupportedToken  # reserved subclass
        elif s == batch.BAD:
            assert isinstance(w, tuple)
        else:
            assert s == batch.UNREAD and not (len(d) == 20 and d.isdigit())


@settings(max_examples=100, suppress_health_check=_SUPPRESS)
@given(tokens=st.lists(physical_credit, min_size=1, max_size=6), key=keys, data=st.data())
def test_one_digit_off_tokens_decode_alike(backend: str, tokens: list[sts.Token], key: DecoderKey, data: Any) -> None:
    digits = []
    for d in batch.encode_tokens(tokens, key):
        p = data.draw(st.integers(0, 19))
        digits.append(d[:p] + str((int(d[p]) + data.draw(st.integers(0, 9))) % 10) + d[p + 1 :])
    assert [_outcome(r) for r in batch.decode_tokens(digits, key)] == [_per_token_decode(d, key) for d in digits]


def test_no_key_for_encrypted_tokens_is_the_per_token_error(backend: str) -> None:
    credit = sts.ElectricityCredit(tid=1, amount=Decimal(1))
    with pytest.raises(sts.KeyRequired):
        batch.encode_tokens([sts.MeterTestDisplay(control=1), credit], None)
    assert batch.encode_tokens([sts.MeterTestDisplay(control=1)], None) == [
        sts.encode(sts.MeterTestDisplay(control=1), None)
    ]
    digits = sts.encode(credit, STA_KEY)
    [result] = batch.decode_tokens([digits], None)
    assert isinstance(result, sts.KeyRequired)


@pytest.mark.parametrize(
    ("tids", "amounts", "rnds"),
    [
        ([1, 2**24, 3], Decimal(1), 0),  # TID out of range
        ([1, 2], Decimal(-1), 0),  # negative amount
        ([1, 2], [Decimal(1), Decimal("1e9")], 0),  # amount too large
        ([1, 2], Decimal(1), [0, 16]),  # RND out of range
        ([1, True], Decimal(1), 0),  # a bool is no TID
    ],
)
def test_bad_credit_inputs_raise_the_per_token_error(backend: str, tids: Any, amounts: Any, rnds: Any) -> None:
    n = len(tids)
    amount_list = amounts if isinstance(amounts, list) else [amounts] * n
    rnd_list = rnds if isinstance(rnds, list) else [rnds] * n
    with pytest.raises(StsError) as want:
        for t, a, r in zip(tids, amount_list, rnd_list, strict=True):
            sts.encode(sts.ElectricityCredit(tid=t, amount=a, rnd=r), STA_KEY)
    with pytest.raises(StsError) as got:
        batch.encode_credits(STA_KEY, tids, amounts, rnds)
    assert (type(got.value), str(got.value)) == (type(want.value), str(want.value))


# ---------------------------------------------------------------- decoder keys and key changes


def _pan(serial: int, long_number: bool) -> str:
    body = f"0123{serial:08d}" if long_number else f"14{serial:08d}"
    if long_number:
        body = body[:12]
    return sts.meter_pan.from_meter_number(body + sts.meter_number.calc_check_digit(body))


def _number(serial: int, long_number: bool) -> str:
    """The meter number whose PAN is ``_pan(serial, long_number)``."""
    pan = _pan(serial, long_number)
    return pan[6:17] if pan.startswith("600727") else pan[4:17]


pans = st.lists(st.tuples(st.integers(0, 10**8 - 1), st.booleans()).map(lambda t: _pan(*t)), max_size=8)
sgcs = st.integers(0, 999999).map(lambda v: f"{v:06d}")
params_02 = st.builds(
    lambda kt, sgc, ti, krn, alg: KeyParameters(
        key_type=KeyType(kt), sgc=sgc, tariff_index=f"{ti:02d}", krn=krn, algorithm=alg
    ),
    st.integers(0, 3), sgcs, st.integers(0, 99), st.integers(1, 9),
    st.sampled_from([EncryptionAlgorithm.STA, EncryptionAlgorithm.DEA]),
)  # fmt: skip
params_04 = st.builds(
    lambda kt, sgc, ti, krn, alg, ken, base: KeyParameters(
        key_type=KeyType(kt), sgc=sgc, tariff_index=f"{ti:02d}", krn=krn, ken=ken, algorithm=alg,
        base_date=base, dkga=Dkga.DKGA04,
    ),
    st.integers(0, 3), sgcs, st.integers(0, 99), st.integers(1, 9),
    st.sampled_from(list(EncryptionAlgorithm)), st.integers(0, 255), st.sampled_from(list(BaseDate)),
)  # fmt: skip
vk02 = st.binary(min_size=8, max_size=8).map(VendingKey)
vk04 = st.binary(min_size=20, max_size=32).map(VendingKey)


@settings(max_examples=120, suppress_health_check=_SUPPRESS)
@given(vk=vk02, pans=pans, params=params_02)
def test_dkga02_keys_are_the_per_token_keys(
    backend: str, vk: VendingKey, pans: list[str], params: KeyParameters
) -> None:
    got = batch.derive_decoder_keys(vk, pans, params)
    assert [(k.reveal(), k.algorithm) for k in got] == [
        (sts.derive_decoder_key(vk, p, params).reveal(), params.algorithm) for p in pans
    ]


@settings(max_examples=120, suppress_health_check=_SUPPRESS)
@given(vk=vk04, pans=pans, params=params_04)
def test_dkga04_keys_are_the_per_token_keys(
    backend: str, vk: VendingKey, pans: list[str], params: KeyParameters
) -> None:
    got = batch.derive_decoder_keys(vk, pans, params)
    assert [k.reveal() for k in got] == [sts.derive_decoder_key(vk, p, params).reveal() for p in pans]


@pytest.mark.parametrize(
    "pan",
    ["600727 1400000000 9", "600727000000000008", "60072700000000000", "6007270000000000x9", "000014000000000009"],
)
def test_odd_pans_behave_as_per_token(backend: str, pan: str) -> None:
    good = _pan(1, False)
    for vk, params in (
        (VendingKey.from_hex("abababababababab"), KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1)),
        (
            VendingKey(bytes(range(20))),
            KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1, dkga=Dkga.DKGA04),
        ),
    ):
        try:
            want: object = [sts.derive_decoder_key(vk, p, params).reveal() for p in (good, pan)]
        except StsError as exc:
            want = (type(exc), str(exc))
        try:
            got: object = [k.reveal() for k in batch.derive_decoder_keys(vk, [good, pan], params)]
        except StsError as exc:
            got = (type(exc), str(exc))
        assert got == want


def test_dkga02_needs_an_8_byte_vending_key(backend: str) -> None:
    params = KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1)
    with pytest.raises(sts.InvalidKey, match="8-byte"):
        batch.derive_decoder_keys(VendingKey(bytes(16)), [_pan(1, False)], params)


def test_dkga03_loops_the_per_token_engine(backend: str) -> None:
    params = KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1, dkga=Dkga.DKGA03)
    vk = VendingKey(bytes(range(16)))
    meters = [_pan(i, False) for i in range(3)]
    assert batch.derive_decoder_keys(vk, meters, params) == [sts.derive_decoder_key(vk, p, params) for p in meters]


new_keys_for = {
    EncryptionAlgorithm.STA: st.binary(min_size=8, max_size=8),
    EncryptionAlgorithm.DEA: st.binary(min_size=8, max_size=8),
    EncryptionAlgorithm.MISTY1: st.binary(min_size=16, max_size=16),
}


@settings(max_examples=150, suppress_health_check=_SUPPRESS)
@given(data=st.data(), n=st.integers(0, 6), rollover=st.booleans())
def test_key_change_sets_are_the_per_token_sets(backend: str, data: Any, n: int, rollover: bool) -> None:
    current = [data.draw(keys) for _ in range(n)]
    params = [data.draw(params_04) for _ in range(n)]
    new = [DecoderKey(data.draw(new_keys_for[p.algorithm]), p.algorithm) for p in params]
    want = [sts.encode_key_change(c, k, p, rollover=rollover) for c, k, p in zip(current, new, params, strict=True)]
    assert batch.key_change_sets(current, new, params, rollover=rollover) == want
    if n:
        same = [sts.encode_key_change(c, k, params[0], rollover=rollover) for c, k in zip(current, new, strict=True)
                if k.algorithm is params[0].algorithm]  # fmt: skip
        pairs = [(c, k) for c, k in zip(current, new, strict=True) if k.algorithm is params[0].algorithm]
        got = batch.key_change_sets([c for c, _ in pairs], [k for _, k in pairs], params[0], rollover=rollover)
        assert got == same
    for tokens, key in zip(want, current, strict=True):
        assert len(tokens) in (2, 4)
        assert all(isinstance(t, sts.KeyChangeToken) for t in batch.decode_tokens(tokens, key))


def test_key_change_with_a_key_of_another_algorithm_is_refused(backend: str) -> None:
    params = KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=2)
    with pytest.raises(sts.InvalidKey, match="different algorithms"):
        batch.key_change_sets([STA_KEY, STA_KEY], [DEA_KEY, MISTY_KEY], params)
    with pytest.raises(ValueError, match="new keys"):
        batch.key_change_sets([STA_KEY], [], params)


@settings(max_examples=60, suppress_health_check=_SUPPRESS)
@given(
    pans=pans, cur=st.one_of(st.tuples(vk02, params_02), st.tuples(vk04, params_04)),
    new=st.one_of(st.tuples(vk02, params_02), st.tuples(vk04, params_04)), rollover=st.booleans(),
)  # fmt: skip
def test_meter_key_changes_derive_and_encode_as_per_token(
    backend: str, pans: list[str], cur: tuple[VendingKey, KeyParameters], new: tuple[VendingKey, KeyParameters],
    rollover: bool,
) -> None:  # fmt: skip
    want = [
        sts.encode_key_change(
            sts.derive_decoder_key(cur[0], p, cur[1]), sts.derive_decoder_key(new[0], p, new[1]), new[1],
            rollover=rollover,
        )
        for p in pans
    ]  # fmt: skip
    assert batch.meter_key_changes(pans, cur, new, rollover=rollover) == want


@settings(max_examples=60, suppress_health_check=_SUPPRESS)
@given(
    serials=st.lists(st.tuples(st.integers(0, 10**8 - 1), st.booleans()), max_size=6),
    units=st.lists(st.text("0123456789ABCXYZ-", min_size=1, max_size=8), min_size=6, max_size=6),
    cur=st.one_of(st.tuples(vk02, params_02), st.tuples(vk04, params_04)),
    new=st.one_of(st.tuples(vk02, params_02), st.tuples(vk04, params_04)), rollover=st.booleans(),
)  # fmt: skip
def test_key_change_lines_are_the_per_token_sets_as_copy_lines(
    backend: str, serials: list[tuple[int, bool]], units: list[str], cur: tuple[VendingKey, KeyParameters],
    new: tuple[VendingKey, KeyParameters], rollover: bool,
) -> None:  # fmt: skip
    numbers = [_number(*t) for t in serials]
    seconds = units[: len(numbers)]
    lines = batch.meter_key_change_lines(
        numbers, seconds, cur, new, rollover=rollover, before="7\t", middle="\t3\ta\tb\t", after="\tgenerated\n"
    )
    want = "".join(
        f"7\t{n}\t{u}\t3\ta\tb\t"
        + " ".join(
            sts.encode_key_change(
                sts.derive_decoder_key(cur[0], sts.meter_pan.from_meter_number(n), cur[1]),
                sts.derive_decoder_key(new[0], sts.meter_pan.from_meter_number(n), new[1]), new[1], rollover=rollover,
            )
        )
        + "\tgenerated\n"
        for n, u in zip(numbers, seconds, strict=True)
    )  # fmt: skip
    assert lines == want.encode("ascii")


@pytest.mark.parametrize("bad", ["a\tb", "a\nb", "a\\b", "a\rb", "ünit"])
def test_key_change_lines_refuse_a_field_that_would_break_the_copy(backend: str, bad: str) -> None:
    old = (VendingKey.from_hex("abababababababab"), KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1))
    new = (old[0], KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=2))
    numbers = [_number(1, False), _number(2, False)]
    with pytest.raises(ValueError, match=r"second 1 (is not|has)"):
        batch.meter_key_change_lines(numbers, ["ok", bad], old, new)
    with pytest.raises(ValueError, match="2 meters but 1"):
        batch.meter_key_change_lines(numbers, ["ok"], old, new)
    with pytest.raises(StsError):  # a meter number that is not one: the per-token error
        batch.meter_key_change_lines([numbers[0], "14312593288"], ["ok", "ok"], old, new)


@settings(max_examples=40, suppress_health_check=_SUPPRESS)
@given(key=st.binary(max_size=130), messages=st.lists(st.binary(max_size=200), max_size=6))
def test_c_hmac_sha256_is_hashlib(key: bytes, messages: list[bytes]) -> None:
    import hashlib
    import hmac

    from prabayar.sts import _batch

    assert _batch.hmac_sha256(key, messages) == [hmac.digest(key, m, hashlib.sha256) for m in messages]


def test_a_meter_takes_its_key_change_set_and_then_the_new_credit(backend: str) -> None:
    """End to end through the meter's view: KCTs under the old key carry the new key."""
    pan = _pan(42, False)
    old = (VendingKey.from_hex("abababababababab"), KeyParameters(key_type=2, sgc="123456", tariff_index="01", krn=1))
    new_params = KeyParameters(
        key_type=2, sgc="123457", tariff_index="01", krn=1, algorithm=EncryptionAlgorithm.MISTY1,
        dkga=Dkga.DKGA04, base_date=BaseDate.Y2014,
    )  # fmt: skip
    new = (VendingKey(bytes(range(20))), new_params)
    [kcts] = batch.meter_key_changes([pan], old, new)
    old_key = sts.derive_decoder_key(old[0], pan, old[1])
    sections = {t.subclass: t for t in (sts.decode(d, old_key) for d in kcts)}
    new_key = DecoderKey(sts.assemble_key(sections, 16), EncryptionAlgorithm.MISTY1)
    assert new_key == sts.derive_decoder_key(new[0], pan, new_params)
    [credit] = batch.encode_credits(new_key, [7], Decimal("20"))
    assert sts.decode(credit, new_key) == sts.ElectricityCredit(tid=7, amount=Decimal(20))


# ---------------------------------------------------------------- the fallback


def test_the_fallback_says_so_once(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(batch, "_c", None)
    monkeypatch.setattr(batch, "_told", False)
    monkeypatch.setattr(batch, "_why_not", "test: no extension")
    with caplog.at_level(logging.WARNING, logger="prabayar.sts.batch"):
        batch.encode_credits(STA_KEY, [1, 2], Decimal(1))
        batch.screen(["0" * 20], STA_KEY)
    lines = [r.getMessage() for r in caplog.records if r.name == "prabayar.sts.batch"]
    assert len(lines) == 1 and "pure-Python fallback" in lines[0] and "test: no extension" in lines[0]
    assert batch.backend() == "python"


def test_the_environment_can_ask_for_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRABAYAR_STS_BATCH", "python")
    module, why = batch._load()
    assert module is None and "PRABAYAR_STS_BATCH" in why
    monkeypatch.setenv("PRABAYAR_STS_BATCH", "")
    module, why = batch._load()
    assert (module is not None) == C_BUILT


def test_encode_credits_is_for_transfer_credits_only() -> None:
    with pytest.raises(TypeError, match="encode_tokens"):
        batch.encode_credits(STA_KEY, [1], Decimal(1), 0, sts.ElectricityCurrencyCredit)  # type: ignore[arg-type]


@pytest.mark.skipif(not C_BUILT, reason="the C extension is not built here")
def test_the_c_module_refuses_malformed_calls() -> None:
    from prabayar.sts import _batch

    with pytest.raises(ValueError, match="key bytes"):
        _batch.encode(7, b"short", 0, [0], 0)
    with pytest.raises(ValueError, match="key bytes"):
        _batch.encode(11, bytes(16), 0, [0, 0, 0], 2)  # 3 blocks at 2 per key need 2 keys
    with pytest.raises(ValueError, match="unknown algorithm"):
        _batch.decode(5, bytes(8), ["0" * 20])
    with pytest.raises(ValueError, match="bad block"):
        _batch.encode(7, bytes(8), 0, [2**64], 0)
    with pytest.raises(ValueError, match="bad TID at index 1"):
        _batch.encode_fields(7, bytes(8), 0, 0, [1, -1], 0, 0)
    with pytest.raises(ValueError, match="2 items"):
        _batch.encode_fields(7, bytes(8), 0, 0, [1, 2], [3], 0)
    with pytest.raises(ValueError, match="head blocks"):
        _batch.key_change(7, bytes(8), bytes(8), 8, [0, 0, 0, 0])
    with pytest.raises(ValueError, match="whole number"):
        _batch.key_change(7, bytes(8), bytes(12), 8, [0, 0])
    with pytest.raises(ValueError, match="20 ASCII digits"):
        _batch.two_digit_variants("123", 5, 0, b"")
    with pytest.raises(ValueError, match="8-byte"):
        _batch.dkga02(bytes(7), [], 0, False)
    with pytest.raises(TypeError):
        _batch.encode(7, bytes(8), 0, 5, 0)
    assert _batch.encode(7, bytes(8), 0, [], 0) == []
    assert _batch.check(7, bytes(8), [b"x", 5, "1" * 20])[:2] == bytes([2, 2])  # type: ignore[list-item]


@settings(max_examples=100, suppress_health_check=_SUPPRESS)
@given(
    numbers=st.lists(
        st.one_of(
            st.integers(0, 10**10 - 1).map(lambda v: f"{v:010d}"),
            st.integers(0, 10**12 - 1).map(lambda v: f"{v:012d}"),
        ).map(lambda body: body + sts.meter_number.calc_check_digit(body)),
        max_size=8,
    )
)
def test_meter_pans_are_the_per_token_pans(backend: str, numbers: list[str]) -> None:
    assert batch.meter_pans(numbers) == [sts.meter_pan.from_meter_number(n) for n in numbers]


@pytest.mark.parametrize("odd", ["1431 2593 289", "14312593288", "1431259328", "143125932890x", "١٤٣١٢٥٩٣٢٨٩", ""])
def test_odd_meter_numbers_behave_as_per_token(backend: str, odd: str) -> None:
    numbers = ["14312593289", odd]
    try:
        want: object = [sts.meter_pan.from_meter_number(n) for n in numbers]
    except StsError as exc:
        want = (type(exc), str(exc))
    try:
        got: object = batch.meter_pans(numbers)
    except StsError as exc:
        got = (type(exc), str(exc))
    assert got == want
