"""Framing, the pyiso8583 spec and the field 48/62 layouts against ISO8583.md §9, byte for byte."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from prabayar.gateway import iso
from prabayar.gateway.client import decode
from prabayar.gateway.framing import MAX_MESSAGE, FrameDecoder, FrameTooLong, encode_frame
from prabayar.gateway.layouts import (
    FOOTER,
    LayoutError,
    Request48,
    Sale48,
    field62,
    mask_sale_answer,
    mask_token,
    parse_advice,
    parse_inquiry,
    parse_purchase,
    sale_answer,
    text_value,
    valid_srn,
)

#: The worked examples of §9, in the profile's order (kept here so the test runs without the file).
PROFILE = Path(__file__).resolve().parents[3] / "shared" / "domain" / "ISO8583.md"
SIGN_ON = "28008030000080000000040000000000000000000000000120261127063500077700001001"
SIGN_ON_ANSWER = "281080300000820000000400000000000000000000000001202611270635000777000010000001"
INQUIRY = (
    "210040300041808100000599502000000000002202611270643056012070080001077700001BANKDEMOATM00001031"
    "BNKDEMO141000000180000000000000"
)
PURCHASE_48 = (
    "BNKDEMO14100000018541000000001054261127Q4MZ7C2KX9T1VBR8N3WD5HJ054261127S8F3LN6YQ2ZA0GK7XP4CM9TE"
    "BUDI SANTOSA WIJAYA      R1  000001300200003000000"
)
SALE_48 = (
    "BNKDEMO141000000185410000000010542611273QXACE7RMM1W8DG5AXMUXQYO54261127S8F3LN6YQ2ZA0GK7XP4CM9TE"
    "06786703BUDI SANTOSA WIJAYA      R1  00000130002000030000020000000000200000000002000023440020000000000"
    "200000976560020000006760108650285951631250980"
)[:241]
SALE_62 = "5454   123            0086800000000000000000000000"


def _profile_examples() -> list[str]:
    if not PROFILE.exists():
        pytest.skip("the profile is not beside the repository")
    blocks = re.findall(r"```\n(.*?)```", PROFILE.read_text(), re.S)
    return [line for b in blocks for line in b.strip().split("\n")]


def test_sign_on_and_answer_bytes() -> None:
    mti, fields = decode(SIGN_ON.encode())
    assert (mti, fields) == ("2800", {"11": "000000000001", "12": "20261127063500", "33": "7700001", "70": "001"})
    answer = iso.encode("2810", {**fields, "39": "0000"})
    assert answer == SIGN_ON_ANSWER.encode()
    assert encode_frame("trailer", answer) == answer + b"\xff"
    assert encode_frame("len2", SIGN_ON.encode())[:2] == b"\x00\x4a"
    assert encode_frame("len2", answer)[:2] == b"\x00\x4e"


def test_every_worked_example_decodes_validates_and_reencodes() -> None:
    lines = _profile_examples()
    assert len(lines) == 10
    for line in lines:
        raw = line.encode()
        mti, fields = decode(raw)
        assert iso.encode(mti, fields) == raw, mti
        if mti in iso.REQUESTS:
            assert iso.parse(raw).fields == fields
    requests = {decode(x.encode())[0]: decode(x.encode())[1] for x in lines}
    assert parse_inquiry(requests["2100"]["48"]).identifier == "14100000018"
    purchase = parse_purchase(requests["2200"]["48"])
    assert purchase.srn == "54261127S8F3LN6YQ2ZA0GK7XP4CM9TE"
    assert parse_advice(requests["2220"]["48"]).srn == purchase.srn
    assert requests["2210"]["48"] == SALE_48
    assert requests["2210"]["62"] == SALE_62
    assert requests["2210"]["63"] == FOOTER


def test_inquiry_bytes_from_the_client_builder() -> None:
    from prabayar.gateway.client import Partner

    p = Partner(switcher_id="BNKDEMO", pcid="7700001", bank_code="0080001", terminal_id="BANKDEMOATM00001")
    mti, fields = p.inquiry("14100000018", stan="000000000002")
    fields["12"] = "20261127064305"
    assert iso.encode(mti, fields) == INQUIRY.encode()


def test_sale_answer_and_field_62_layout() -> None:
    req = parse_purchase(PURCHASE_48)
    sale = Sale48(
        meter_number="14100000018", idpel="541000000001", reference_number="542611273QXACE7RMM1W8DG5AXMUXQYO",
        tid=6786703, name="Budi Santosa Wijaya", tariff_code="R1", va=1300, admin_fee=3000, meterai=0, ppn=0,
        pbjt=2344, angsuran=0, stroom=97656, kwh=Decimal("67.6"), token="10865028595163125098",
    )  # fmt: skip
    assert sale_answer(req, sale) == SALE_48
    assert field62("54", Decimal("868.4"), []) == SALE_62
    assert field62("54", Decimal(936), [100_000, 50_000, 20_000])[27:] == "2" + f"{100_000:011d}" + f"{50_000:011d}"
    masked = mask_sale_answer(SALE_48)
    assert "10865028595163125098" not in masked and masked.endswith("5098")
    assert "BUDI" not in masked
    assert mask_token("10865028595163125098") == "****************5098"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("BNKDEMO14100000018000000000000", "31"),
        ("BNKDEMO1410000001800000000000002", "31"),
        ("BNKDEMO141000000180000000000002", "flag"),
        ("BNKDEMO1410000001X0000000000000", "meter"),
        ("BNKDEMO00000000000541000000X011", "IDPEL"),
    ],
)
def test_inquiry_48_errors(value: str, error: str) -> None:
    with pytest.raises(LayoutError, match=error):
        parse_inquiry(value)


def test_inquiry_48_checks_only_the_slot_the_flag_selects() -> None:
    assert parse_inquiry("BNKDEMOXXXXXXXXXXX5410000000011").identifier == "541000000001"
    assert parse_inquiry("BNKDEMO14100000018YYYYYYYYYYYY0").identifier == "14100000018"


def test_purchase_and_advice_lengths_and_buying_option() -> None:
    with pytest.raises(LayoutError, match="buying option"):
        parse_purchase(PURCHASE_48[:144] + "1")
    with pytest.raises(LayoutError):
        parse_purchase(PURCHASE_48[:144])
    assert parse_advice(PURCHASE_48[:95]) == parse_advice(PURCHASE_48)
    with pytest.raises(LayoutError):
        parse_advice(PURCHASE_48[:96])


def test_srn_rule() -> None:
    assert valid_srn("A.b_c:d-9")
    assert not valid_srn("")
    assert not valid_srn("0" * 32)
    assert not valid_srn("WITH SPACE")
    assert Request48("S", "1", "2", "0", "ABC" + " " * 29).srn == "ABC"


def test_names_are_folded_to_ascii() -> None:
    assert text_value("Dédé Ñoño Łukasz", 25) == "DEDE NONO ?UKASZ".ljust(25)
    assert len(text_value("X" * 40, 25)) == 25


def test_trailer_frames_split_and_joined() -> None:
    d = FrameDecoder("trailer")
    assert d.feed(b"28") == []
    assert d.feed(b"00\xff\xff2810\xffab") == [b"2800", b"2810"]
    assert d.buffered == 2
    assert d.feed(b"c\xff") == [b"abc"]
    d.feed(b"x" * MAX_MESSAGE + b"\xff")  # a 4096-byte message and its trailer is legal
    with pytest.raises(FrameTooLong):
        FrameDecoder("trailer").feed(b"x" * (MAX_MESSAGE + 1))


def test_len2_frames_split_and_joined() -> None:
    d = FrameDecoder("len2")
    assert d.feed(b"\x00") == []
    assert d.feed(b"\x042800\x00\x00\x00\x02ab") == [b"2800", b"ab"]
    with pytest.raises(FrameTooLong):
        FrameDecoder("len2").feed((MAX_MESSAGE + 1).to_bytes(2, "big"))
    assert FrameDecoder("len2").feed(MAX_MESSAGE.to_bytes(2, "big") + b"y" * MAX_MESSAGE) == [b"y" * MAX_MESSAGE]


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        (b"ABCD", iso.CloseConnection),
        (b"21", iso.CloseConnection),
        (b"2110" + b"0" * 16, iso.Ignore),
        (b"0800" + b"0" * 16, iso.BadMessage),
        (SIGN_ON.replace("77700001", "7770000X").encode(), iso.BadMessage),
        (SIGN_ON.encode() + b"0", iso.BadMessage),
        (SIGN_ON.replace("8030000080000000", "803000008000000g").encode(), iso.BadMessage),
    ],
)
def test_parse_outcomes(raw: bytes, outcome: type[Exception]) -> None:
    with pytest.raises(outcome):
        iso.parse(raw)


def test_short_0030_keeps_only_a_well_formed_stan() -> None:
    with pytest.raises(iso.BadMessage) as bad:
        iso.parse(SIGN_ON.replace("000000000001", "00000000000X").encode())
    assert bad.value.stan is None and bad.value.mti == "2810"
    with pytest.raises(iso.BadMessage) as bad:
        iso.parse(SIGN_ON.encode()[:-1])
    assert bad.value.stan == "000000000001"


def test_lowercase_bitmap_is_accepted() -> None:
    assert iso.parse(INQUIRY.replace("4030004180810000", "4030004180810000".lower()).encode()).mti == "2100"
