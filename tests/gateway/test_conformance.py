"""ISO8583.md §10: one test per conformance checklist item, over real TCP to a running gateway."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import iso8583
import pytest

from prabayar.gateway import iso
from prabayar.gateway.client import GatewayClient, decode
from prabayar.gateway.framing import encode_frame
from prabayar.gateway.layouts import FOOTER, REVERSAL_REFUSED
from prabayar.gateway.server import Timers
from prabayar.vending.service import CutOffWindow, VendingService

AMOUNT = 100_000


def _inquire(c: GatewayClient, k: Any, identifier: str | None = None, **kw: Any) -> dict[str, str]:
    mti, f = c.request(k.ISO.inquiry(identifier or k.BUDI_METER, **kw))
    assert mti == "2110"
    return f


def _buy(c: GatewayClient, k: Any, srn: str, amount: int = AMOUNT, identifier: str | None = None, **kw: Any):
    f48 = k.ISO.purchase_48(identifier=identifier or k.BUDI_METER, srn=srn)
    mti, f = c.request(k.ISO.purchase(f48, amount, **kw))
    assert mti == "2210"
    return f48, f


def _sales(service: VendingService, meter: str = "14100000018") -> list[Any]:
    return service.reprint(meter, limit=100)


def _silent(c: GatewayClient, wait: float = 0.5) -> bool:
    try:
        c.recv_frame(timeout=wait)
    except TimeoutError:
        return True
    return False


def _closed(sock: socket.socket, wait: float = 5.0) -> bytes | None:
    """b'' (or a reset) when the host closed; the bytes if it sent any."""
    sock.settimeout(wait)
    try:
        data = sock.recv(65536)
    except ConnectionResetError:
        return b""
    return data


def _raw_socket(gateway: Any, channel: str = "H2HISO") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", gateway.port(channel)), timeout=10)
    return s


# --- §1 transport ---------------------------------------------------------------------------


def test_c01_trailer_answer_ends_with_one_ff(gateway: Any, k: Any) -> None:
    s = _raw_socket(gateway)
    with s:
        s.sendall(encode_frame("trailer", iso.encode(*k.ISO.network("001"))))
        data = b""
        while not data.endswith(b"\xff"):
            data += s.recv(4096)
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):
            s.recv(1)
    assert data.count(b"\xff") == 1
    assert data[:4] == b"2810"
    assert decode(data[:-1])[1]["39"] == "0000"


def test_c02_len2_answer_has_length_header_and_no_trailer(gateway: Any, k: Any) -> None:
    s = _raw_socket(gateway, "H2HLEN")
    with s:
        s.sendall(encode_frame("len2", iso.encode(*k.LEN.network("001"))))
        data = b""
        while len(data) < 2 or len(data) < 2 + int.from_bytes(data[:2], "big"):
            data += s.recv(4096)
        s.settimeout(0.3)
        with pytest.raises(TimeoutError):
            s.recv(1)
    assert int.from_bytes(data[:2], "big") == len(data) - 2
    assert b"\xff" not in data
    assert decode(data[2:])[0] == "2810"


def test_c03_two_requests_in_one_write_and_one_byte_by_byte(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    a, b = k.ISO.network("301"), k.ISO.network("301")
    c.send_bytes(encode_frame("trailer", iso.encode(*a)) + encode_frame("trailer", iso.encode(*b)))
    stans = {c.recv()[1]["11"], c.recv()[1]["11"]}
    assert stans == {a[1]["11"], b[1]["11"]}
    one = k.ISO.inquiry(k.BUDI_METER)
    for byte in encode_frame("trailer", iso.encode(*one)):
        c.send_bytes(bytes([byte]))
    mti, f = c.recv()
    assert (mti, f["11"], f["39"]) == ("2110", one[1]["11"], "0000")
    assert _silent(c)


def test_c04_zero_length_frame_is_ignored(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    c.send_bytes(b"\xff")
    assert _silent(c)
    assert c.request(k.ISO.network("301"))[1]["39"] == "0000"
    d = gateway.connect("H2HLEN")
    d.send_bytes(b"\x00\x00")
    assert _silent(d)
    assert d.request(k.LEN.network("301"))[1]["39"] == "0000"


@pytest.mark.parametrize("channel", ["H2HISO", "H2HLEN"])
def test_c05_oversized_frame_closes_only_that_connection(gateway: Any, k: Any, channel: str) -> None:
    other = gateway.connect(channel)
    s = _raw_socket(gateway, channel)
    with s:
        s.sendall(b"2" * 4097 if channel == "H2HISO" else (4097).to_bytes(2, "big") + b"2800")
        assert _closed(s) == b""
    partner = k.LEN if channel == "H2HLEN" else k.ISO
    assert other.request(partner.network("301"))[1]["39"] == "0000"


def test_c05_a_4096_byte_message_with_its_trailer_is_legal(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    c.send_bytes(b"2100" + b"x" * 4092 + b"\xff")
    mti, f = c.recv()  # decoded as far as possible: the short 0030, the connection stays
    assert (mti, f["39"]) == ("2110", "0030")
    assert c.request(k.ISO.network("301"))[1]["39"] == "0000"


def test_c06_non_digit_mti_closes_the_connection(gateway: Any, k: Any) -> None:
    other = gateway.connect()
    s = _raw_socket(gateway)
    with s:
        s.sendall(b"ABCD0000\xff")
        assert _closed(s) == b""
    assert other.request(k.ISO.network("301"))[1]["39"] == "0000"


def test_c07_responses_ignored_unknown_requests_answered(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    mti, fields = k.ISO.inquiry(k.BUDI_METER)
    c.send(("2110", {**fields, "39": "0000"}))
    assert _silent(c)
    c.send(("0200", {"11": "000000000777", "12": fields["12"]}))
    mti, f = c.recv()
    assert (mti, f["39"], f["11"]) == ("0210", "0030", "000000000777")
    assert c.request(k.ISO.network("301"))[1]["39"] == "0000"


def test_c08_field_48_shorter_than_its_prefix(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    mti, fields = k.ISO.inquiry(k.BUDI_METER)
    raw = iso.encode(mti, fields)
    c.send_bytes(encode_frame("trailer", raw[:-1]))  # prefix says 031, 30 characters follow
    mti, f = c.recv()
    assert (mti, f["39"], f["11"]) == ("2110", "0030", fields["11"])
    assert set(f) == {"11", "39", "63"}
    assert c.request(k.ISO.network("301"))[1]["39"] == "0000"


def _with_extra_bit(message: tuple[str, dict[str, str]], bit: str) -> bytes:
    spec = dict(iso.SPEC)
    spec[bit] = {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 16 if bit != "3" else 6,
                 "desc": "test"}  # fmt: skip
    mti, fields = message
    raw, _ = iso8583.encode({"t": mti, **fields, bit: "0" * spec[bit]["max_len"]}, spec)
    return bytes(raw)


@pytest.mark.parametrize("bit", ["3", "64", "128"])
def test_c09_bits_outside_the_profile(gateway: Any, k: Any, bit: str) -> None:
    c = gateway.connect()
    c.send_bytes(encode_frame("trailer", _with_extra_bit(k.ISO.inquiry(k.BUDI_METER), bit)))
    mti, f = c.recv()
    assert (mti, f["39"]) == ("2110", "0030")


def test_c10_source_outside_the_allow_list(gateway: Any, service: VendingService, k: Any) -> None:
    port = k.free_port()
    service.add_gateway_partner(
        "FARAWAY", port=port, switcher_id="FARAWAY", pcid="7700009", bank_codes=["0010001"],
        sources=["10.0.0.0/8"], server=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while "FARAWAY" not in gateway.server.listeners and time.monotonic() < deadline:
        time.sleep(0.05)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    with s:
        s.sendall(encode_frame("trailer", iso.encode(*k.ISO.network("001"))))
        assert _closed(s) == b""


def test_c11_inquiry_and_purchase_in_flight_together(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    inq = k.ISO.inquiry(k.BUDI_METER)
    buy = k.ISO.purchase(k.ISO.purchase_48(identifier=k.BUDI_METER, srn="C11SRN0001"), AMOUNT)
    c.send(inq)
    c.send(buy)
    answers = {m: f for m, f in (c.recv(), c.recv())}
    assert answers["2110"]["11"] == inq[1]["11"]
    assert answers["2210"]["11"] == buy[1]["11"]
    assert answers["2110"]["39"] == answers["2210"]["39"] == "0000"


def test_c12_idle_connections_are_closed_echoing_ones_are_not(ports: dict[str, int], make_gateway: Any, k: Any) -> None:
    gateway = make_gateway(Timers(idle_timeout=1.0))
    idle = gateway.connect(sign_on=False)
    busy = gateway.connect()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.5:
        assert busy.request(k.ISO.network("301"))[1]["39"] == "0000"
        time.sleep(0.4)
    with pytest.raises(ConnectionError):
        idle.recv_frame(timeout=1)
    assert busy.request(k.ISO.network("301"))[1]["39"] == "0000"


# --- §6.1 network management -------------------------------------------------------------


def test_c13_sign_on_echoes_fields(gateway: Any, k: Any) -> None:
    c = gateway.connect(sign_on=False)
    req = k.ISO.network("001")
    mti, f = c.request(req)
    assert mti == "2810"
    assert f["39"] == "0000"
    assert {b: f[b] for b in ("11", "12", "33", "70")} == {b: req[1][b] for b in ("11", "12", "33", "70")}
    assert "63" not in f


def test_c14_sign_on_with_wrong_pcid(gateway: Any, k: Any) -> None:
    c = gateway.connect(sign_on=False)
    mti, fields = k.ISO.network("001")
    assert c.request((mti, {**fields, "33": "7700009"}))[1]["39"] == "0032"
    assert c.request(k.ISO.inquiry(k.BUDI_METER))[1]["39"] == "0011"


def test_c15_inquiry_before_sign_on_echo_allowed(gateway: Any, k: Any) -> None:
    c = gateway.connect(sign_on=False)
    assert c.request(k.ISO.inquiry(k.BUDI_METER))[1]["39"] == "0011"
    assert c.request(k.ISO.network("301"))[1]["39"] == "0000"


def test_c16_sign_off_then_sign_on_again(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    assert c.request(k.ISO.network("002"))[1]["39"] == "0000"
    assert c.request(k.ISO.inquiry(k.BUDI_METER))[1]["39"] == "0011"
    assert c.request(k.ISO.network("001"))[1]["39"] == "0000"
    assert c.request(k.ISO.inquiry(k.BUDI_METER))[1]["39"] == "0000"


def test_c16_pipelined_sign_on_applies_to_the_next_request(gateway: Any, k: Any) -> None:
    c = gateway.connect(sign_on=False)
    c.send(k.ISO.network("001"))
    inq = k.ISO.inquiry(k.BUDI_METER)
    c.send(inq)
    answers = {m: f for m, f in (c.recv(), c.recv())}
    assert answers["2110"]["39"] == "0000"


def test_c17_unknown_network_code(gateway: Any, k: Any) -> None:
    c = gateway.connect(sign_on=False)
    assert c.request(k.ISO.network("999"))[1]["39"] == "0030"


# --- §6.2 inquiry --------------------------------------------------------------------------


def test_c18_inquiry_by_meter(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    f = _inquire(c, k)
    assert f["39"] == "0000"
    f48 = f["48"]
    assert len(f48) == 144
    assert (f48[7:18], f48[18:30], f48[30]) == (k.BUDI_METER, k.BUDI_IDPEL, "0")
    assert f48[95:120] == "BUDI SANTOSA WIJAYA".ljust(25)
    assert (f48[120:124], f48[124:133]) == ("R1  ", "000001300")
    assert f48[133:144] == "20000300000"  # admin Rp 3,000 x 100
    assert len(f["62"]) == 50
    assert "63" not in f


def test_c19_inquiry_by_idpel(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    by_meter = _inquire(c, k)["48"]
    by_idpel = _inquire(c, k, k.BUDI_IDPEL)["48"]
    assert by_idpel[30] == "1"
    assert by_idpel[7:30] == by_meter[7:30]
    assert by_idpel[95:133] == by_meter[95:133]


def test_c20_unknown_meter_luhn_and_idpel(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    assert _inquire(c, k, "14199999990")["39"] == "0014"
    wrong_luhn = k.BUDI_METER[:-1] + str((int(k.BUDI_METER[-1]) + 1) % 10)
    assert _inquire(c, k, wrong_luhn)["39"] == "0014"
    assert _inquire(c, k, "549999999999")["39"] == "0015"


def test_c21_blocked_and_cut_off(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    assert _inquire(c, k, "541000000011")["39"] == "0077"
    service.cutoff = CutOffWindow.parse("11:00-13:00")
    assert _inquire(c, k)["39"] == "0090"


def test_c22_inquiry_field_48_layout(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    mti, fields = k.ISO.inquiry(k.BUDI_METER)
    for bad in (fields["48"][:30], fields["48"] + "0", fields["48"][:30] + "2"):
        f = c.request((mti, {**fields, "11": k.ISO.stan(), "48": bad}))[1]
        assert f["39"] == "0030"
        assert f["48"] == bad  # decoded: a normal response echoing 48


def test_c23_product_bank_and_switcher(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    mti, fields = k.ISO.inquiry(k.BUDI_METER)
    assert c.request((mti, {**fields, "2": "99501"}))[1]["39"] == "0033"
    assert c.request((mti, {**fields, "11": k.ISO.stan(), "32": "0089999"}))[1]["39"] == "0031"
    assert c.request((mti, {**fields, "11": k.ISO.stan(), "48": "BNKXXXX" + fields["48"][7:]}))[1]["39"] == "0032"


def test_c24_amount_checks_only_with_field_4(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    assert _inquire(c, k, amount=75_000)["39"] == "0013"
    assert _inquire(c, k, amount=10_000)["39"] == "0041"
    assert _inquire(c, k, amount=2_000_000)["39"] == "0042"
    assert _inquire(c, k, amount=AMOUNT)["39"] == "0000"
    assert _inquire(c, k)["39"] == "0000"


def test_c25_references_are_new_each_time(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    a, b = _inquire(c, k)["48"], _inquire(c, k)["48"]
    for f48 in (a, b):
        for ref in (f48[31:63], f48[63:95]):
            assert len(ref) == 32 and ref.isalnum() and ref == ref.upper()
    assert a[31:63] != b[31:63] and a[63:95] != b[63:95]


# --- §6.3 purchase -------------------------------------------------------------------------


def test_c26_purchase_answer_layout(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    f2110 = _inquire(c, k)
    f48 = k.ISO.purchase_48(f2110["48"])
    mti, f = c.request(k.ISO.purchase(f48, AMOUNT))
    assert (mti, f["39"]) == ("2210", "0000")
    a48 = f["48"]
    assert len(a48) == 241
    assert a48[63:95] == f2110["48"][63:95]
    assert a48[221:241].isdigit() and len(a48[221:241]) == 20
    assert a48[141] == "0"
    sale_day = datetime.strptime(f["12"][:8], "%Y%m%d")
    assert f["15"] == (sale_day + timedelta(days=1)).strftime("%Y%m%d")


def test_c27_amounts_and_footer(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    for i, amount in enumerate((20_000, AMOUNT, 1_000_000)):
        _f48, f = _buy(c, k, f"C27-{i}", amount, "541000000006")  # R3 7,700 VA: PPN too
        assert f["39"] == "0000", f.get("63")
        a48 = f["48"]
        assert all(a48[off] == "2" for off in (142, 153, 164, 175, 186, 197, 210))
        parts = [int(a48[o + 1 : o + 11]) for o in (153, 164, 175, 186)] + [int(a48[198:210])]
        assert sum(parts) == 100 * amount
        assert a48[210:221].endswith("0")
        assert f["63"] == FOOTER and len(FOOTER) == 80


def test_c28_repeat_returns_the_first_answer(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    f48, first = _buy(c, k, "C28SRN")
    again = c.request(k.ISO.purchase(f48, AMOUNT))[1]
    assert again["39"] == "0000"
    assert again["48"][7:241] == first["48"][7:241]
    assert (again["12"], again["15"]) == (first["12"], first["15"])
    assert again["11"] != first["11"]
    assert len(_sales(service)) == 1


def test_c29_same_srn_other_amount_or_meter(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    _buy(c, k, "C29SRN")
    assert _buy(c, k, "C29SRN", 50_000)[1]["39"] == "0093"
    assert _buy(c, k, "C29SRN", identifier="14100000026")[1]["39"] == "0093"
    assert len(_sales(service)) == 1
    assert _sales(service, "14100000026") == []


def test_c30_same_srn_other_bank_code(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    f48, _ = _buy(c, k, "C30SRN")
    mti, fields = k.ISO.purchase(f48, AMOUNT)
    assert c.request((mti, {**fields, "32": "0080002"}))[1]["39"] == "0097"


@pytest.mark.parametrize("srn", [" " * 32, "0" * 32])
def test_c31_malformed_srn(gateway: Any, service: VendingService, k: Any, srn: str) -> None:
    c = gateway.connect()
    f48 = k.ISO.purchase_48(identifier=k.BUDI_METER, srn="X")
    f48 = f48[:63] + srn + f48[95:]
    assert c.request(k.ISO.purchase(f48, AMOUNT))[1]["39"] == "0093"
    assert _sales(service) == []


def test_c32_ten_concurrent_repeats_one_sale(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    f48 = k.ISO.purchase_48(identifier=k.BUDI_METER, srn="C32SRN")
    msgs = [k.ISO.purchase(f48, AMOUNT) for _ in range(10)]
    c.send_bytes(b"".join(encode_frame("trailer", iso.encode(*m)) for m in msgs))
    answers = [c.recv() for _ in msgs]
    assert {f["11"] for _, f in answers} == {m[1]["11"] for m in msgs}
    assert {f["39"] for _, f in answers} == {"0000"}
    assert len({f["48"][221:241] for _, f in answers}) == 1
    assert len(_sales(service)) == 1


def test_c33_two_srns_two_tokens(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    a = _buy(c, k, "C33-A")[1]["48"][221:241]
    b = _buy(c, k, "C33-B")[1]["48"][221:241]
    assert a != b


def test_c34_buying_option_and_currency(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    f48 = k.ISO.purchase_48(identifier=k.BUDI_METER, srn="C34SRN")
    mti, fields = k.ISO.purchase(f48[:144] + "1", AMOUNT)
    assert c.request((mti, fields))[1]["39"] == "0030"
    for f4 in ("8400000000100000", "3602000000100000"):
        mti, fields = k.ISO.purchase(f48, AMOUNT)
        f = c.request((mti, {**fields, "4": f4}))[1]
        assert f["39"] == "0030"
        assert set(f) == {"11", "39", "63"}


def test_c35_cut_off_replays_but_does_not_sell(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    f48, first = _buy(c, k, "C35SRN")
    service.cutoff = CutOffWindow.parse("11:00-13:00")
    again = c.request(k.ISO.purchase(f48, AMOUNT))[1]
    assert again["39"] == "0000" and again["48"][221:241] == first["48"][221:241]
    assert _buy(c, k, "C35NEW")[1]["39"] == "0090"


def test_c36_kwh_left_this_month(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    assert _inquire(c, k)["62"][22:27] == "00936"  # 720 x 1300 / 1000
    f = _buy(c, k, "C36SRN")[1]
    kwh = Decimal(int(f["48"][211:221])) / 100
    left = int(Decimal(936) - kwh)
    assert _inquire(c, k)["62"][22:27] == f"{left:05d}"
    assert f["62"][22:27] == f"{left:05d}"


# --- §6.4 advice ---------------------------------------------------------------------------


def test_c37_advice_and_repeat_return_the_sale(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    f48, sold = _buy(c, k, "C37SRN")
    for repeat, want in ((False, "2230"), (True, "2231")):
        mti, f = c.request(k.ISO.advice(f48, AMOUNT, repeat=repeat))
        assert (mti, f["39"]) == (want, "0000")
        assert f["48"][7:241] == sold["48"][7:241]
        assert (f["12"], f["15"], f["62"], f["63"]) == (sold["12"], sold["15"], sold["62"], sold["63"])


def test_c38_advice_for_unknown_srn_then_purchase(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    f48 = k.ISO.purchase_48(identifier=k.BUDI_METER, srn="C38SRN")
    assert c.request(k.ISO.advice(f48, AMOUNT))[1]["39"] == "0092"
    assert _sales(service) == []
    assert c.request(k.ISO.purchase(f48, AMOUNT))[1]["39"] == "0000"
    assert len(_sales(service)) == 1


def test_c39_advice_with_another_amount(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    f48, _ = _buy(c, k, "C39SRN")
    assert c.request(k.ISO.advice(f48, 50_000))[1]["39"] == "0093"


def test_c40_advice_with_the_purchase_field_48(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    f48, sold = _buy(c, k, "C40SRN")
    mti, fields = k.ISO.advice(f48, AMOUNT)
    f = c.request((mti, {**fields, "48": f48}))[1]
    assert f["39"] == "0000" and f["48"][7:241] == sold["48"][7:241]


def test_c41_advice_during_cut_off(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    f48, sold = _buy(c, k, "C41SRN")
    service.cutoff = CutOffWindow.parse("11:00-13:00")
    f = c.request(k.ISO.advice(f48, AMOUNT))[1]
    assert f["39"] == "0000" and f["48"][221:241] == sold["48"][221:241]


# --- §6.5 unsold tokens --------------------------------------------------------------------


def test_c42_unsold_token_listed_to_its_partner_only(gateway: Any, service: VendingService, k: Any) -> None:
    s = _raw_socket(gateway)
    f48 = k.ISO.purchase_48(identifier=k.BUDI_METER, srn="C42SRN")
    s.sendall(
        encode_frame("trailer", iso.encode(*k.ISO.network("001")))
        + encode_frame("trailer", iso.encode(*k.ISO.purchase(f48, AMOUNT)))
    )
    s.close()
    deadline = time.monotonic() + 10
    while not _sales(service) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_sales(service)) == 1
    time.sleep(0.3)
    c = gateway.connect()
    f62 = _inquire(c, k)["62"]
    assert f62[27] == "1" and f62[28:39] == f"{AMOUNT:011d}" and f62[39:50] == "0" * 11
    other = gateway.connect("H2HLEN")
    _mti, fields = other.request(k.LEN.inquiry(k.BUDI_METER))
    assert fields["39"] == "0000" and fields["62"][27] == "0"
    assert c.request(k.ISO.advice(f48, AMOUNT))[1]["39"] == "0000"
    time.sleep(0.3)  # the delivery is recorded once the 2230 is written
    assert _inquire(c, k)["62"][27] == "0"


# --- §6.6 reversal -------------------------------------------------------------------------


def test_c43_reversal_is_refused(gateway: Any, service: VendingService, k: Any) -> None:
    c = gateway.connect()
    f48, sold = _buy(c, k, "C43SRN")
    time.sleep(0.3)  # the delivery is recorded just after the 2210 is written
    before = service.audit_log(limit=1000)
    for repeat, want in ((False, "2410"), (True, "2411")):
        mti, fields = k.ISO.reversal(f48, AMOUNT, repeat=repeat)
        fields["90"] = "2200" + fields["11"] + fields["12"] + "0" * 12
        mti_r, f = c.request((mti, fields))
        assert (mti_r, f["39"], f["63"]) == (want, "0005", REVERSAL_REFUSED)
        assert f["90"] == fields["90"]
    assert service.audit_log(limit=1000) == before
    assert c.request(k.ISO.advice(f48, AMOUNT))[1]["48"][221:241] == sold["48"][221:241]


# --- §1.5 isolation, §8 security -----------------------------------------------------------


def test_c44_malformed_request_does_not_disturb_others(gateway: Any, k: Any) -> None:
    c = gateway.connect()
    d = gateway.connect("H2HLEN")
    inq = k.ISO.inquiry(k.BUDI_METER)
    buy = k.ISO.purchase(k.ISO.purchase_48(identifier=k.BUDI_METER, srn="C44SRN"), AMOUNT)
    bad = iso.encode(*k.ISO.inquiry(k.BUDI_METER))[:-3]
    other = k.LEN.inquiry(k.BUDI_METER)
    d.send(other)
    c.send_bytes(b"".join(encode_frame("trailer", m) for m in (iso.encode(*inq), bad, iso.encode(*buy))))
    got = sorted((m, f["39"]) for m, f in (c.recv(), c.recv(), c.recv()))
    assert got == [("2110", "0000"), ("2110", "0030"), ("2210", "0000")]
    assert d.recv()[1]["39"] == "0000"


def test_c45_no_mac_fields_and_no_whole_token_at_info(gateway: Any, k: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="prabayar.gateway")
    c = gateway.connect()
    raws: list[bytes] = []
    orig = c.recv_frame

    def spy(timeout: float | None = None) -> bytes:
        frame = orig(timeout)
        raws.append(frame)
        return frame

    c.recv_frame = spy  # type: ignore[method-assign]
    f48, sold = _buy(c, k, "C45SRN")
    c.request(k.ISO.advice(f48, AMOUNT))
    _inquire(c, k)
    token = sold["48"][221:241]
    time.sleep(0.2)
    for raw in raws:
        bitmap = int(raw[4:20], 16)
        assert not bitmap & 1  # bit 64
        if bitmap >> 63:
            assert not int(raw[20:36], 16) & 1  # bit 128
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any(token[-4:] in line for line in info)
    assert not any(token in line for line in info)


def test_reload_adds_and_removes_partners_without_touching_others(
    gateway: Any, service: VendingService, k: Any
) -> None:
    c = gateway.connect()
    port = k.free_port()
    service.add_gateway_partner(
        "LATECOMER", port=port, switcher_id="LATECOM", pcid="7700005", bank_codes=["0050001"],
        sources=["127.0.0.1/32"], server=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while "LATECOMER" not in gateway.server.listeners and time.monotonic() < deadline:
        time.sleep(0.05)
    late = GatewayClient("127.0.0.1", port)
    gateway.clients.append(late)
    partner = type(k.ISO)(switcher_id="LATECOM", pcid="7700005", bank_code="0050001")
    assert late.request(partner.network("001"))[1]["39"] == "0000"
    service.remove_gateway_partner("LATECOMER", server=True)
    with pytest.raises(ConnectionError):
        late.recv_frame(timeout=10)
    assert c.request(k.ISO.network("301"))[1]["39"] == "0000"


def test_max_connections_closes_the_oldest(gateway: Any, k: Any) -> None:
    first = gateway.connect()
    second = gateway.connect()
    third = gateway.connect()  # H2HISO allows 2
    with pytest.raises(ConnectionError):
        first.recv_frame(timeout=5)
    for c in (second, third):
        assert c.request(k.ISO.network("301"))[1]["39"] == "0000"


def test_back_pressure_keeps_every_answer(gateway: Any, k: Any) -> None:
    """100 pipelined inquiries (max_in_flight 32): all answered, each once."""
    c = gateway.connect()
    msgs = [k.ISO.inquiry(k.BUDI_METER) for _ in range(100)]
    sender = threading.Thread(
        target=lambda: c.send_bytes(b"".join(encode_frame("trailer", iso.encode(*m)) for m in msgs))
    )
    sender.start()
    stans = [c.recv()[1]["11"] for _ in msgs]
    sender.join()
    assert sorted(stans) == sorted(m[1]["11"] for m in msgs)


def test_a_source_taken_off_the_list_loses_its_open_connection(
    ports: dict[str, int], make_gateway: Any, service: VendingService, k: Any
) -> None:
    gateway = make_gateway(reload_interval=0)  # reloads only when asked
    c = gateway.connect("H2HLEN")
    other = gateway.connect()
    service.remove_gateway_partner("H2HLEN", server=True)
    service.add_gateway_partner(
        "H2HLEN", port=ports["H2HLEN"], framing="len2", switcher_id="LENDEMO", pcid="7700002",
        bank_codes=["0090001"], sources=["10.0.0.0/8"], server=True,
    )  # fmt: skip
    gateway.call(gateway.server.reload())
    with pytest.raises(ConnectionError):
        c.recv_frame(timeout=5)
    assert other.request(k.ISO.network("301"))[1]["39"] == "0000"


def test_metrics_count_messages_by_mti_and_response_code(gateway: Any, k: Any) -> None:
    from prometheus_client import generate_latest

    from prabayar.gateway.metrics import MESSAGES, REGISTRY

    def count(mti: str, rc: str) -> float:
        return MESSAGES.labels(partner="H2HISO", mti=mti, rc=rc)._value.get()

    before = (count("2100", "0000"), count("2100", "0014"), count("2800", "0000"))
    c = gateway.connect()
    _inquire(c, k)
    _inquire(c, k, "14199999990")
    time.sleep(0.2)  # counted when the answer is written
    assert (count("2100", "0000"), count("2100", "0014"), count("2800", "0000")) == (
        before[0] + 1, before[1] + 1, before[2] + 1,
    )  # fmt: skip
    text = generate_latest(REGISTRY).decode()
    assert 'prabayar_gateway_messages_total{mti="2100",partner="H2HISO",rc="0000"}' in text
    assert "prabayar_gateway_request_seconds_bucket" in text
