"""Conformance checking against vector files in the schema of ``shared/sts/vectors.json``.

Pure: takes the parsed JSON entries and returns one ``VectorResult`` per entry. Field names vary
between sources (``rnd`` / ``rnd_or_SE``, ``register`` / ``value16`` / ``value16_hex``, ...), so
inputs are read tolerantly, but every expected value present in an entry is compared.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from prabayar.sts import amount as amt
from prabayar.sts import crc
from prabayar.sts.ciphers import dea, misty1, sta
from prabayar.sts.codec import decode_trace, encode_trace, insert_class
from prabayar.sts.errors import KeyExpiredError, StsError, TidRolloverError
from prabayar.sts.keys import (
    DecoderKey,
    Dkga,
    EncryptionAlgorithm,
    KeyParameters,
    KeyType,
    VendingKey,
    check_key_expiry,
    derive_decoder_key,
    kdf_input,
)
from prabayar.sts.tid import BaseDate, tid_from_datetime
from prabayar.sts.tokens import (
    CLASS0,
    CLASS2,
    ClearCredit,
    ClearTamper,
    CurrencyCredit,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange4,
    MeterTestDisplay,
    SetMaximumPowerLimit,
    SetPhaseUnbalanceLimit,
    SetTariffRate,
    SetWaterMeterFactor,
    Token,
    TransferCredit,
)

Entry = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class VectorResult:
    """Outcome of one vector entry."""

    id: str
    kind: str
    passed: bool
    reason: str = ""
    unreadable: bool = False


class VectorUnreadable(Exception):
    """The entry lacks what is needed to check it."""


def _hex(value: Any) -> int:
    return int(str(value), 16)


def _get(mapping: Entry, *names: str) -> Any:
    for name in names:
        if name in mapping and mapping[name] is not None:
            return mapping[name]
    return None


_TYPE_NAMES: dict[str, tuple[int, int]] = {
    **{t.name.lower(): (0, sub) for sub, t in CLASS0.items()},
    **{t.name.lower(): (2, sub) for sub, t in CLASS2.items()},
    "initiatemetertestordisplay1": (1, 0),
    "initiatemetertestordisplay2": (1, 1),
    "transfertimecredit": (0, 3),
}


def _class_and_subclass(entry: Entry, fields: Entry) -> tuple[int, int]:
    name = str(entry.get("token_type", "")).lower().removesuffix("token")
    token_class = entry.get("token_class")
    subclass = fields.get("subclass")
    if name in _TYPE_NAMES:
        cls_, sub = _TYPE_NAMES[name]
        return int(token_class) if token_class is not None else cls_, (int(subclass) if subclass is not None else sub)
    if token_class is None or subclass is None:
        raise VectorUnreadable(f"cannot tell the token type of {entry.get('token_type')!r}")
    return int(token_class), int(subclass)


def _tid(fields: Entry) -> int:
    tid = fields.get("tid")
    if tid is not None:
        return int(tid)
    when = _get(fields, "issue_datetime_utc", "issue_datetime_utc_in_test")
    base = _get(fields, "tid_base_date")
    if when is None:
        raise VectorUnreadable("no tid and no issue time")
    stamp = datetime.fromisoformat(str(when))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return tid_from_datetime(stamp, BaseDate.from_code(base or "1993"))


def _value16(fields: Entry, *names: str) -> int | None:
    raw = _get(fields, *names, "value16")
    if raw is not None:
        return int(raw)
    raw_hex = _get(fields, "value16_hex")
    return _hex(raw_hex) if raw_hex is not None else None


def _credit_amount(fields: Entry) -> Decimal:
    field_hex = fields.get("amount_field_hex")
    if field_hex is not None:
        return amt.decode_amount(_hex(field_hex))
    units = fields.get("amount_units_0_1")
    if units is not None:
        return Decimal(int(units)) * amt.TENTH
    raw = _value16(fields)
    if raw is not None:
        return amt.decode_amount(raw)
    value = _get(fields, "amount_value", "amount_main_units", "amount")
    if value is None:
        raise VectorUnreadable("no amount")
    return Decimal(str(value))


def build_token(entry: Entry) -> Token:
    """The token an entry's inputs describe."""
    fields: Entry = entry.get("fields") or {}
    token_class, subclass = _class_and_subclass(entry, fields)
    rnd = int(_get(fields, "rnd", "rnd_or_SE") or 0)
    if token_class == 1:
        if subclass == 0:
            control = _hex(_get(fields, "control_36bit_hex", "control_hex"))
        else:
            control = _hex(_get(fields, "control_28bit_hex", "control_hex"))
        mfr = int(fields.get("manufacturer_code") or 0)
        return MeterTestDisplay(control=control, manufacturer_code=mfr, format=subclass)
    if token_class == 0:
        kind = CLASS0.get(subclass)
        if kind is None:
            raise VectorUnreadable(f"class 0 subclass {subclass} is reserved")
        if issubclass(kind, CurrencyCredit):
            field_hex = fields.get("amount_field_hex")
            if field_hex is not None:
                value = amt.decode_currency(rnd, _hex(field_hex))
            else:
                value = Decimal(str(_get(fields, "amount_value", "amount_main_units")))
            return kind(tid=_tid(fields), amount=value)
        assert issubclass(kind, TransferCredit)
        return kind(tid=_tid(fields), amount=_credit_amount(fields), rnd=rnd)
    if token_class != 2:
        raise VectorUnreadable(f"token class {token_class} is reserved")
    if subclass == 3:
        return KeyChange1(
            ken_high=int(fields["kenho"]),
            krn=int(fields["krn"]),
            key_type=int(fields["kt"]),
            key_high=_hex(fields["nkho_hex"]),
            rollover=bool(int(fields.get("ro") or 0)),
            reserved=int(fields.get("res_or_3kct") or 0),
        )
    if subclass == 4:
        return KeyChange2(
            ken_low=int(fields["kenlo"]),
            tariff_index=int(fields["ti"]),
            key_low=_hex(fields["nklo_hex"]),
        )
    if subclass == 8:
        return KeyChange3(sgc_low=_hex(fields["sgc_part12_hex"]), key_mid2=_hex(fields["nkmo_hex"]))
    if subclass == 9:
        return KeyChange4(sgc_high=_hex(fields["sgc_part12_hex"]), key_mid1=_hex(fields["nkmo_hex"]))
    tid = _tid(fields)
    if subclass in (0, 6):
        # In the vectors "maximum_power_limit" / "mppul" hold the raw 16-bit field; the watts
        # it means are in "*_decoded_watts" (e.g. field 16746 = 0x416A = 20004 W).
        watts = _get(fields, "maximum_power_limit_decoded_watts", "mppul_decoded_watts", "watts")
        if watts is None:
            raw = _value16(fields, "maximum_power_limit", "mppul")
            if raw is None:
                raise VectorUnreadable("no power value")
            watts = amt.decode_units(raw)
        kind2 = SetMaximumPowerLimit if subclass == 0 else SetPhaseUnbalanceLimit
        return kind2(tid=tid, rnd=rnd, watts=int(watts))
    raw16 = _value16(fields, "register", "pad", "rate", "factor", "wm_factor")
    value16 = 0 if raw16 is None else raw16
    if subclass == 1:
        return ClearCredit(tid=tid, rnd=rnd, register=value16)
    if subclass == 2:
        return SetTariffRate(tid=tid, rnd=rnd, rate=value16)
    if subclass == 5:
        return ClearTamper(tid=tid, rnd=rnd, pad=value16)
    if subclass == 7:
        return SetWaterMeterFactor(tid=tid, rnd=rnd, factor=value16)
    raise VectorUnreadable(f"class 2 subclass {subclass} is reserved")


def _derivation_key(deriv: Entry, algorithm: EncryptionAlgorithm) -> DecoderKey | None:
    """Re-derive a decoder key from a derivation record, when it carries enough inputs."""
    name = str(deriv.get("algorithm", "")).upper()
    if name == "DKGA02":
        vudk = bytes.fromhex(str(deriv["vudk_hex"]))
        if deriv.get("meter_pan") and deriv.get("sgc"):
            params = KeyParameters(
                key_type=KeyType(int(deriv["key_type"])),
                sgc=str(deriv["sgc"]),
                tariff_index=str(deriv["tariff_index"]),
                krn=int(deriv["krn"]),
                algorithm=algorithm,
            )
            return derive_decoder_key(VendingKey(vudk), str(deriv["meter_pan"]), params)
        if deriv.get("pan_block") and deriv.get("control_block"):
            x = (_hex(deriv["pan_block"]) ^ _hex(deriv["control_block"])).to_bytes(8, "big")
            e = dea.encrypt_bytes(x, vudk)
            return DecoderKey(bytes(a ^ b ^ c for a, b, c in zip(e, x, vudk, strict=True)), algorithm)
        return None
    if name == "DKGA04":
        vk = VendingKey(bytes.fromhex(str(_get(deriv, "vending_key_hex", "vk_hex", "vending_key"))))
        parsed = deriv.get("kdf_input_parsed") or (deriv if deriv.get("sgc") and deriv.get("meter_pan") else None)
        if parsed:
            ea = _get(parsed, "ea_code", "encryption", "ea")
            params = KeyParameters(
                key_type=KeyType(int(parsed["key_type"])),
                sgc=str(parsed["sgc"]),
                tariff_index=str(parsed["tariff_index"]),
                krn=int(parsed["krn"]),
                algorithm=EncryptionAlgorithm.parse(str(ea)) if ea else algorithm,
                base_date=BaseDate.from_code(str(_get(parsed, "base_date_code", "base_date") or "93")),
                dkga=Dkga.DKGA04,
            )
            key = derive_decoder_key(vk, str(parsed["meter_pan"]), params)
            if deriv.get("kdf_input_hex") and kdf_input(str(parsed["meter_pan"]), params).hex() != str(
                deriv["kdf_input_hex"]
            ).lower().replace(" ", ""):
                raise AssertionError("KDF input built from the parsed fields differs from kdf_input_hex")
        elif deriv.get("kdf_input_hex"):
            digest = hmac.new(vk.reveal(), bytes.fromhex(str(deriv["kdf_input_hex"])), hashlib.sha256).digest()
            key = DecoderKey(digest[: algorithm.key_bytes], algorithm)
        else:
            return None
        if deriv.get("hmac_sha256_hex") and deriv.get("kdf_input_hex"):
            mac = hmac.new(vk.reveal(), bytes.fromhex(str(deriv["kdf_input_hex"])), hashlib.sha256).hexdigest()
            if mac != str(deriv["hmac_sha256_hex"]).lower():
                raise AssertionError("HMAC of the KDF input differs from the vector")
        return key
    return None


def _algorithm(entry: Entry) -> EncryptionAlgorithm | None:
    text = str(entry.get("encryption", ""))
    if not text or text.lower().startswith("none"):
        return None
    return EncryptionAlgorithm.parse(text.split("/")[0])


def _check_token(entry: Entry) -> None:
    expected: Entry = entry.get("expected") or {}
    digits = expected.get("token_20_digits")
    if digits is None:
        raise VectorUnreadable("no expected token_20_digits")
    algorithm = _algorithm(entry)
    key: DecoderKey | None = None
    if algorithm is not None:
        key_hex = entry.get("decoder_key_hex")
        deriv = entry.get("decoder_key_derivation")
        derived = _derivation_key(deriv, algorithm) if deriv else None
        if key_hex:
            key = DecoderKey(bytes.fromhex(str(key_hex)), algorithm)
            if derived is not None and derived.reveal() != key.reveal():
                raise AssertionError("decoder key derived from the inputs differs from decoder_key_hex")
        else:
            key = derived
        if key is None:
            raise VectorUnreadable("an encrypted token without a decoder key or its derivation")
        new_hex = entry.get("new_decoder_key_hex")
        new_deriv = entry.get("new_decoder_key_derivation")
        if new_hex and new_deriv:
            new_alg = EncryptionAlgorithm.MISTY1 if len(str(new_hex)) == 32 else EncryptionAlgorithm.STA
            new_key = _derivation_key(new_deriv, new_alg)
            if new_key is not None and new_key.reveal().hex() != str(new_hex).lower():
                raise AssertionError("new decoder key derived from the inputs differs from new_decoder_key_hex")
    token = build_token(entry)
    made = encode_trace(token, key)
    _compare("plaintext block", made.plaintext_block, expected.get("plaintext_block_hex"))
    _compare("encrypted block", made.encrypted_block, expected.get("encrypted_block_hex"))
    _compare("66-bit token", made.value66, expected.get("token_66bit_hex"))
    if made.digits != str(digits):
        raise AssertionError(f"encoded {made.digits}, expected {digits}")
    read = decode_trace(str(digits), key)
    if read.token != token:
        raise AssertionError(f"decoding {digits} gave {read.token!r}, expected {token!r}")


def _compare(what: str, got: int, expected_hex: Any) -> None:
    if expected_hex is not None and got != _hex(expected_hex):
        raise AssertionError(f"{what} {got:016x}, expected {str(expected_hex).lower()}")


def _check_sta(entry: Entry, *, sample: bool) -> None:
    inputs: Entry = entry["inputs"]
    expected: Entry = entry["expected"]
    key = _hex(inputs["key_hex"])
    block = _hex(inputs["plaintext_block_hex"])
    out = sta.encrypt(block, key, sample_tables=sample)
    want = _get(expected, "encrypted_block_hex", "ciphertext_hex")
    _compare("ciphertext", out, want)
    if sta.decrypt(out, key, sample_tables=sample) != block:
        raise AssertionError("decryption does not give the plaintext back")
    if "token_66bit_hex" in expected or "token_20_digits" in expected:
        value = insert_class(out, int(inputs.get("token_class", 0)))
        _compare("66-bit token", value, expected.get("token_66bit_hex"))
        if "token_20_digits" in expected and f"{value:020d}" != expected["token_20_digits"]:
            raise AssertionError(f"token {value:020d}, expected {expected['token_20_digits']}")


def _check_misty1(entry: Entry) -> None:
    inputs: Entry = entry["inputs"]
    key = bytes.fromhex(str(inputs["key_hex"]))
    block = _hex(inputs["plaintext_hex"])
    out = misty1.encrypt(block, key)
    _compare("ciphertext", out, entry["expected"]["ciphertext_hex"])
    if misty1.decrypt(out, key) != block:
        raise AssertionError("decryption does not give the plaintext back")


def _check_crc(entry: Entry) -> None:
    inputs: Entry = entry["inputs"]
    value = _hex(_get(inputs, "value50_hex", "bytes_hex_7"))
    variant = " ".join(str(v) for v in (inputs.get("variant"), inputs.get("crc_variant"))).upper()
    currency = bool(inputs.get("currency") or inputs.get("crc_c")) or "CRC_C" in variant
    got = crc.field(value, currency=currency)
    _compare("CRC field", got, entry["expected"]["crc_field_hex"])


def _check_dkga02(entry: Entry) -> None:
    inputs: Entry = entry["inputs"]
    expected: Entry = entry["expected"]
    key = _derivation_key({"algorithm": "DKGA02", **inputs}, EncryptionAlgorithm.STA)
    if key is None:
        raise VectorUnreadable("DKGA02 entry without meter_pan or blocks")
    if key.reveal().hex() != str(expected["decoder_key_hex"]).lower():
        raise AssertionError(f"derived {key.reveal().hex()}, expected {expected['decoder_key_hex']}")


def _check_dkga04(entry: Entry) -> None:
    inputs: Entry = entry["inputs"]
    expected: Entry = entry["expected"]
    want = str(expected["decoder_key_hex"]).lower()
    alg = EncryptionAlgorithm.MISTY1 if len(want) == 32 else EncryptionAlgorithm.STA
    key = _derivation_key({"algorithm": "DKGA04", **inputs}, alg)
    if key is None:
        raise VectorUnreadable("DKGA04 entry without its inputs")
    if key.reveal().hex() != want:
        raise AssertionError(f"derived {key.reveal().hex()}, expected {want}")


def _check_amount(entry: Entry) -> None:
    inputs: Entry = entry["inputs"]
    expected: Entry = entry["expected"]
    units = inputs.get("amount_in_0.1_units")
    if units is not None:
        kwh: Any = Decimal(int(units)) * amt.TENTH
    else:
        text = _get(inputs, "kwh", "amount")
        if text is None:
            raise VectorUnreadable("no amount input")
        kwh = str(text).split()[0]
    field = amt.encode_amount(Decimal(str(kwh)))
    _compare("amount field", field, expected.get("amount_field_hex"))
    decoded = expected.get("decoded_0.1_units")
    if decoded is not None and amt.decode_units(field) != int(decoded):
        raise AssertionError(f"decodes to {amt.decode_units(field)} tenths, expected {decoded}")


def _check_pos_rule(entry: Entry) -> None:
    """A vending-side rule: the POS must refuse (key expired, TID rollover) or issue."""
    inputs: Entry = entry["inputs"]
    expected: Entry = entry.get("expected") or {}
    result = str(expected.get("result", "")).lower()
    refuses = any(word in result for word in ("refuse", "expired", "reject", "rollover", "not issue"))
    if "refuse" in expected:
        refuses = bool(expected["refuse"])
    try:
        tid = inputs.get("tid")
        if tid is None:
            tid = _tid(inputs)
        if inputs.get("ken") is not None:
            check_key_expiry(int(tid), int(inputs["ken"]))
    except (KeyExpiredError, TidRolloverError) as exc:
        if not refuses:
            raise AssertionError(f"refused a token the vector expects to be issued: {exc}") from None
        return
    if refuses:
        raise AssertionError(f"issued a token at TID {tid} that the vector expects to be refused")


def _check_decoding(entry: Entry) -> None:
    """A decode-only entry: digits and key in, fields (or an error type name) expected."""
    inputs: Entry = entry.get("inputs") or entry
    expected: Entry = entry.get("expected") or {}
    digits = _get(inputs, "token_20_digits", "token", "digits")
    if digits is None:
        raise VectorUnreadable("no token digits to decode")
    algorithm = _algorithm(entry) or _algorithm(inputs)
    key_hex = _get(inputs, "decoder_key_hex", "key_hex") or entry.get("decoder_key_hex")
    key = None
    if key_hex:
        key = DecoderKey(bytes.fromhex(str(key_hex)), algorithm or EncryptionAlgorithm.STA)
        if algorithm is None and len(str(key_hex)) == 32:
            key = DecoderKey(bytes.fromhex(str(key_hex)), EncryptionAlgorithm.MISTY1)
    wanted_error = _get(expected, "error", "result_error")
    try:
        token = decode_trace(str(digits), key).token
    except StsError as exc:
        if wanted_error and _error_matches(str(wanted_error), exc):
            return
        raise AssertionError(f"decoding raised {type(exc).__name__}: {exc}") from None
    if wanted_error:
        raise AssertionError(f"decoded {token!r}, expected error {wanted_error}")
    fields: Entry = expected.get("fields") or expected
    for name, want in fields.items():
        if name in ("token_class", "class"):
            got: Any = token.token_class
        elif name == "subclass":
            got = token.subclass
        elif hasattr(token, name):
            got = getattr(token, name)
        else:
            continue
        if str(got) != str(want) and not (isinstance(got, Decimal) and got == Decimal(str(want))):
            raise AssertionError(f"{name} decoded as {got}, expected {want}")


def _error_matches(wanted: str, exc: StsError) -> bool:
    names = {type(exc).__name__.lower(), *(c.__name__.lower() for c in type(exc).__mro__)}
    key = wanted.lower().replace(" ", "").replace("_", "")
    aliases = {"crcerror": "tokencrcerror", "formaterror": "invalidformat", "lengtherror": "invalidlength"}
    key = aliases.get(key, key)
    return any(key in n or n in key for n in names if n not in ("exception", "baseexception", "object"))


CHECKS: dict[str, Callable[[Entry], None]] = {
    "token_decoding": _check_decoding,
    "token_decode": _check_decoding,
    "decode": _check_decoding,
    "token_generation": _check_token,
    "sta_block_sample_tables": lambda e: _check_sta(e, sample=True),
    "sta_block_real_tables": lambda e: _check_sta(e, sample=False),
    "misty1_block": _check_misty1,
    "crc16": _check_crc,
    "dkga02": _check_dkga02,
    "dkga04": _check_dkga04,
    "amount_encoding": _check_amount,
    "pos_rule": _check_pos_rule,
}


def check_entry(entry: Any) -> VectorResult:
    """Check one entry; never raises."""
    if not isinstance(entry, Mapping):
        return VectorResult("?", "?", False, "entry is not a JSON object", unreadable=True)
    ident = str(entry.get("id", "?"))
    kind = str(entry.get("kind", "?"))
    check = CHECKS.get(kind)
    if check is None:
        return VectorResult(ident, kind, False, f"unknown kind {kind!r}", unreadable=True)
    try:
        check(entry)
    except AssertionError as exc:
        return VectorResult(ident, kind, False, str(exc))
    except (VectorUnreadable, KeyError, TypeError, ValueError, ArithmeticError) as exc:
        return VectorResult(ident, kind, False, f"cannot read entry: {exc!r}", unreadable=True)
    except StsError as exc:
        return VectorResult(ident, kind, False, f"{type(exc).__name__}: {exc}")
    return VectorResult(ident, kind, True)


def check_all(entries: Iterable[Any]) -> list[VectorResult]:
    """Check every entry of a vector file."""
    return [check_entry(e) for e in entries]
