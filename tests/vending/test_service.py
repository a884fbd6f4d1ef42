"""Every vending use case and every error path, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.vending import (
    AboveMaximum,
    ApprovalRequest,
    AuthenticationFailed,
    BelowMinimum,
    CustomerBlocked,
    CutOff,
    CutOffWindow,
    DenominationNotAllowed,
    InvalidRequest,
    KeyChangeRequired,
    KeyUnavailable,
    MeterReplaced,
    MonthlyCapExceeded,
    NotAuthorized,
    ReasonRequired,
    ReferenceConflict,
    UnknownChannel,
    UnknownCustomer,
    UnknownMeter,
    UnknownReference,
    VendingError,
    VendingService,
)
from prabayar.vending.demo import DEMO_CHANNEL_KEYS, DEMO_CUSTOMERS, demo_meter_number
from prabayar.vending.models import ChannelApiKey, UserAccount

if TYPE_CHECKING:
    from conftest import FakeClock

BUDI, SITI, AGUS, DEWI, HENDRA, RATNA, TOKO, MASJID, WAHYU, SRI, JOKO, ANDI, YULI = DEMO_CUSTOMERS


def _approved(service: VendingService, request: ApprovalRequest, checker: str = "supervisor") -> ApprovalRequest:
    """Four eyes: a second admin approves the maker's request (tests/vending/test_approvals.py)."""
    return service.approve(request.id, checker)


def _decode(service: VendingService, meter: str, token: str) -> sts.Token:
    key = service.meter_key(meter, actor="test", purpose="decode in a test").decoder_key
    return sts.decode(token, key)


# -- inquiry -------------------------------------------------------------------------------


def test_inquiry_by_meter_number_and_by_idpel(service: VendingService) -> None:
    by_meter = service.inquiry(BUDI.meter_number)
    by_idpel = service.inquiry(BUDI.idpel)
    assert by_meter == by_idpel
    assert (by_meter.name, by_meter.tariff_code, by_meter.va) == ("BUDI SANTOSA WIJAYA", "R1", 1300)
    assert by_meter.unit_name == "UID JAKARTA RAYA / UP3 MENTENG"
    assert by_meter.monthly_cap_kwh == Decimal(936)
    assert by_meter.kwh_this_month == 0
    assert service.inquiry(" 1410 0000 018 ").meter_number == BUDI.meter_number


def test_inquiry_errors(service: VendingService) -> None:
    typo = BUDI.meter_number[:-1] + str((int(BUDI.meter_number[-1]) + 1) % 10)
    with pytest.raises(UnknownMeter) as luhn:
        service.inquiry(typo)
    assert luhn.value.luhn_failed and luhn.value.code == "0014"
    assert "check digit" in str(luhn.value) and "DIGIT PERIKSA" in str(luhn.value)
    with pytest.raises(UnknownMeter) as unknown:
        service.inquiry(demo_meter_number(99999999))
    assert not unknown.value.luhn_failed
    assert "TIDAK DITEMUKAN" in unknown.value.message_id
    with pytest.raises(UnknownCustomer) as idpel:
        service.inquiry("999999999999")
    assert idpel.value.code == "0015"
    with pytest.raises(UnknownMeter, match="10 digits"):
        service.inquiry("1234567890")
    with pytest.raises(UnknownMeter, match="only digits"):
        service.inquiry("14A00000018")
    with pytest.raises(CustomerBlocked) as blocked:
        service.inquiry(JOKO.idpel)
    assert blocked.value.code == "0077" and "DIBLOKIR" in blocked.value.message_id
    with pytest.raises(CustomerBlocked):
        service.inquiry(JOKO.meter_number)


def test_replaced_meter(service: VendingService) -> None:
    old = demo_meter_number(10000112)
    with pytest.raises(MeterReplaced) as replaced:
        service.inquiry(old)
    assert replaced.value.replacement == ANDI.meter_number
    assert replaced.value.code == "0014" and ANDI.meter_number in str(replaced.value)
    # The IDPEL leads to the meter now installed.
    assert service.inquiry(ANDI.idpel).meter_number == ANDI.meter_number
    with pytest.raises(MeterReplaced):
        service.purchase("BANKDEMO", "old-meter", old, 20_000)
    meters = service.customer_meters(ANDI.idpel)
    assert [(m.meter_number, m.meter_status) for m in meters] == [
        (old, "replaced"), (ANDI.meter_number, "active"),
    ]  # fmt: skip


# -- purchase -------------------------------------------------------------------------------


def test_purchase_signs_a_token_for_the_meter(service: VendingService, clock: FakeClock) -> None:
    result = service.purchase("MINIMART", "MM-0001", BUDI.meter_number, 20_000)
    p = result.price
    # Jakarta R1/1300: PBJT-TL 2.4 % inclusive, admin Rp 3,500 on top.
    assert (p.total_paid, p.admin_fee, p.pbjt, p.stroom, p.kwh) == (
        23_500, 3_500, 469, 19_531, Decimal("13.6"),
    )  # fmt: skip
    assert len(result.reference_number) == 32 and result.reference_number.isalnum()
    assert result.reference_number.startswith("54260310")
    assert len(result.token) == 20 and result.token.isdigit()
    assert not result.replayed and not result.delivered
    token = _decode(service, BUDI.meter_number, result.token)
    assert isinstance(token, sts.ElectricityCredit)
    assert token.amount == result.kwh
    assert token.tid == sts.tid_from_datetime(clock.now, sts.BaseDate.Y2014) == result.tid
    receipt = result.receipt.text()
    assert "RP BAYAR        : Rp 23.500,00" in receipt
    assert "PBJT-TL         : Rp 469,00" in receipt
    assert "JML KWH         : 13,6" in receipt
    assert service.inquiry(BUDI.idpel).kwh_this_month == Decimal("13.6")
    [entry] = service.audit_log(action="purchase")
    assert entry.actor == "MINIMART" and entry.meter_number == BUDI.meter_number
    assert entry.detail["reference_number"] == result.reference_number
    assert result.token not in str(entry.detail)


def test_purchase_is_idempotent_per_channel_reference(service: VendingService) -> None:
    first = service.purchase("BANKDEMO", "B-77", BUDI.meter_number, 50_000)
    again = service.purchase("BANKDEMO", "B-77", BUDI.meter_number, 50_000)
    by_idpel = service.purchase("BANKDEMO", "B-77", BUDI.idpel, 50_000)
    assert again.replayed and by_idpel.replayed
    assert again.token == by_idpel.token == first.token
    assert again.reference_number == first.reference_number
    with pytest.raises(ReferenceConflict) as conflict:
        service.purchase("BANKDEMO", "B-77", BUDI.meter_number, 100_000)
    assert conflict.value.code == "0093"
    with pytest.raises(ReferenceConflict):
        service.purchase("BANKDEMO", "B-77", SITI.meter_number, 50_000)
    other_channel = service.purchase("MINIMART", "B-77", BUDI.meter_number, 50_000)
    assert other_channel.token != first.token
    assert len(service.reprint(BUDI.meter_number)) == 2
    assert service.inquiry(BUDI.meter_number).kwh_this_month == first.kwh + other_channel.kwh


def test_tids_strictly_increase_within_one_minute(service: VendingService, clock: FakeClock) -> None:
    tids = [service.purchase("H2HDEMO", f"T{i}", BUDI.meter_number, 20_000).tid for i in range(5)]
    base = sts.tid_from_datetime(clock.now, sts.BaseDate.Y2014)
    assert tids == list(range(base, base + 5))
    clock.advance(hours=1)
    later = service.purchase("H2HDEMO", "T-later", BUDI.meter_number, 20_000).tid
    assert later == base + 60
    # Another meter has its own counter.
    assert service.purchase("H2HDEMO", "T-siti", SITI.meter_number, 20_000).tid == base + 60


@pytest.mark.parametrize(
    ("channel", "nominal", "error", "code"),
    [
        ("MINIMART", 30_000, DenominationNotAllowed, "0013"),
        ("MINIMART", 10_000, BelowMinimum, "0041"),
        ("MINIMART", 2_000_000, AboveMaximum, "0042"),
        ("H2HDEMO", 19_999, BelowMinimum, "0041"),
    ],
)
def test_denomination_rules(
    service: VendingService, channel: str, nominal: int, error: type[VendingError], code: str
) -> None:
    with pytest.raises(error) as exc:
        service.purchase(channel, "D-1", BUDI.meter_number, nominal)
    assert exc.value.code == code
    with pytest.raises(error):
        service.quote(channel, BUDI.meter_number, nominal)
    assert service.reprint(BUDI.meter_number) == []


def test_free_amount_channel(service: VendingService) -> None:
    result = service.purchase("H2HDEMO", "free-1", BUDI.meter_number, 123_456)
    assert result.price.nominal == 123_456 and result.price.admin_fee == 2_000


def test_quote_matches_purchase_and_buys_nothing(service: VendingService) -> None:
    quote = service.quote("EWALLET", SITI.idpel, 100_000)
    assert quote.admin_fee == 3_000 and quote.tariff_rp_per_kwh == Decimal("605.00")
    assert service.reprint(SITI.idpel) == []
    assert service.purchase("EWALLET", "Q-1", SITI.idpel, 100_000).price == quote


def test_monthly_cap(service: VendingService, clock: FakeClock) -> None:
    # 450 VA: 324 kWh a month; Rp 100,000 buys 235.4 kWh at Rp 415 with 2.4 % PBJT-TL.
    first = service.purchase("BANKDEMO", "cap-1", AGUS.meter_number, 100_000)
    assert first.kwh == Decimal("235.4")
    with pytest.raises(MonthlyCapExceeded) as cap:
        service.purchase("BANKDEMO", "cap-2", AGUS.meter_number, 100_000)
    assert cap.value.code == "0047" and "MELEBIHI BATAS" in cap.value.message_id
    assert service.inquiry(AGUS.meter_number).kwh_this_month == Decimal("235.4")
    assert service.inquiry(AGUS.meter_number).kwh_remaining_this_month == Decimal("88.6")
    service.purchase("BANKDEMO", "cap-3", AGUS.meter_number, 20_000)  # still fits
    clock.now = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 1 April 00:00 WIB: a new month
    service.purchase("BANKDEMO", "cap-4", AGUS.meter_number, 100_000)


def test_cut_off_window(service: VendingService, clock: FakeClock) -> None:
    done = service.purchase("BANKDEMO", "before-cutoff", BUDI.meter_number, 20_000)
    service.cutoff = CutOffWindow.parse("23:30-00:30")
    clock.now = datetime(2026, 3, 10, 16, 45, tzinfo=UTC)  # 23:45 WIB
    for call in (
        lambda: service.inquiry(BUDI.meter_number),
        lambda: service.quote("BANKDEMO", BUDI.meter_number, 20_000),
        lambda: service.purchase("BANKDEMO", "during-cutoff", BUDI.meter_number, 20_000),
    ):
        with pytest.raises(CutOff) as exc:
            call()
        assert exc.value.code == "0090" and "23:30-00:30" in str(exc.value)
    # Retries and advice of what was already sold still get their answer.
    assert service.purchase("BANKDEMO", "before-cutoff", BUDI.meter_number, 20_000).replayed
    assert service.advice("BANKDEMO", "before-cutoff").token == done.token
    clock.now = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)  # 00:30 WIB: open again
    service.inquiry(BUDI.meter_number)
    assert not CutOffWindow.parse("01:00-02:00").active(clock.now)
    with pytest.raises(ValueError, match="23:30-00:30"):
        CutOffWindow.parse("late at night")


def test_unknown_channel_and_bad_requests(service: VendingService) -> None:
    with pytest.raises(UnknownChannel) as exc:
        service.purchase("NOPE", "x", BUDI.meter_number, 20_000)
    assert exc.value.code == "0031"
    with pytest.raises(InvalidRequest, match="channel reference"):
        service.purchase("BANKDEMO", "  ", BUDI.meter_number, 20_000)
    with pytest.raises(InvalidRequest, match="channel reference"):
        service.purchase("BANKDEMO", "x" * 65, BUDI.meter_number, 20_000)
    with pytest.raises(InvalidRequest, match="whole rupiah"):
        service.purchase("BANKDEMO", "y", BUDI.meter_number, Decimal(20_000))  # type: ignore[arg-type]


def test_angsuran_ppn_and_meterai(service: VendingService) -> None:
    sri = service.purchase("BANKDEMO", "ang-1", SRI.meter_number, 50_000)
    assert sri.price.angsuran == 5_000
    assert sri.price.stroom == 45_000 * 10 // 11  # Surabaya: PBJT-TL 10 %
    assert service.inquiry(SRI.idpel).debt_remaining == 45_000
    assert "ANGSURAN        : Rp 5.000,00" in sri.receipt.text()
    ratna = service.purchase("BANKDEMO", "ppn-1", RATNA.meter_number, 1_000_000)
    assert ratna.price.ppn > 0  # R-3 household above 6,600 VA
    assert ratna.price.stroom == 869_565  # 1,000,000 / (1 + 0.04 + 0.11)
    toko = service.purchase("BANKDEMO", "meterai-1", TOKO.meter_number, 10_000_000)
    assert (toko.price.meterai, toko.price.ppn) == (10_000, 0)
    masjid = service.purchase("BANKDEMO", "sosial-1", MASJID.meter_number, 20_000)
    assert masjid.price.pbjt == 0 and masjid.price.stroom == 20_000


def test_debt_is_recovered_until_paid(service: VendingService) -> None:
    for i in range(10):
        service.purchase("BANKDEMO", f"debt-{i}", SRI.meter_number, 20_000)
    assert service.inquiry(SRI.idpel).debt_remaining == 0
    assert service.purchase("BANKDEMO", "debt-10", SRI.meter_number, 20_000).price.angsuran == 0


# -- advice, unsold tokens, reprint ------------------------------------------------------------


def test_advice_unsold_and_confirm(service: VendingService) -> None:
    lost = service.purchase("EWALLET", "lost-1", SITI.meter_number, 20_000)
    kept = service.purchase("EWALLET", "kept-1", SITI.meter_number, 50_000)
    service.confirm_delivery("EWALLET", "kept-1")
    unsold = service.unsold_tokens(SITI.idpel)
    assert [u.channel_reference for u in unsold] == ["lost-1"]
    assert [u.token for u in service.inquiry(SITI.meter_number).unsold] == [lost.token]
    answer = service.advice("EWALLET", "lost-1")
    assert answer.token == lost.token and answer.delivered and not kept.delivered
    assert service.unsold_tokens(SITI.meter_number) == []
    assert service.advice("EWALLET", "lost-1").token == lost.token  # advice may repeat
    with pytest.raises(UnknownReference) as exc:
        service.advice("EWALLET", "never-sent")
    assert exc.value.code == "0092"
    with pytest.raises(UnknownReference):
        service.confirm_delivery("BANKDEMO", "lost-1")  # another channel's reference
    actions = [e.action for e in service.audit_log(meter_number=SITI.meter_number)]
    assert actions.count("advice") == 2 and "delivery.confirmed" in actions


def test_reprint_prints_the_same_kwh_as_the_sale(service: VendingService) -> None:
    sold = service.purchase("PLNAPP", "KWH-FORMAT", DEWI.meter_number, 20_000)
    again = service.reprint(DEWI.meter_number, limit=1)[0]
    assert again.receipt == sold.receipt
    assert again.receipt.text() == sold.receipt.text()


def test_reprint_is_newest_first_and_limited(service: VendingService, clock: FakeClock) -> None:
    refs = []
    for i in range(4):
        refs.append(service.purchase("PLNAPP", f"R{i}", DEWI.meter_number, 20_000).reference_number)
        clock.advance(minutes=3)
    history = service.reprint(DEWI.idpel, limit=3)
    assert [h.reference_number for h in history] == refs[::-1][:3]
    assert all(h.receipt.token == h.token for h in history)
    assert service.reprint(DEWI.meter_number, limit=10)[-1].reference_number == refs[0]
    with pytest.raises(InvalidRequest):
        service.reprint(DEWI.meter_number, limit=0)
    with pytest.raises(UnknownMeter):
        service.reprint(demo_meter_number(55555555))


# -- keys and management tokens ---------------------------------------------------------------


def test_legacy_meter_needs_the_rollover_key_change(service: VendingService) -> None:
    with pytest.raises(KeyChangeRequired):
        service.quote("BANKDEMO", YULI.meter_number, 20_000)  # an inquiry refuses as a sale would
    with pytest.raises(KeyChangeRequired) as exc:
        service.purchase("BANKDEMO", "yuli-1", YULI.meter_number, 20_000)
    assert "rollover" in str(exc.value) and "KCT" in exc.value.message_id
    old_key = service.meter_key(YULI.meter_number, actor="test", purpose="before").decoder_key
    kct = _approved(service, service.key_change("admin", YULI.meter_number, "2024 TID rollover", rollover=True))
    assert kct.result is not None and kct.result["kind"] == "key_change_rollover" and len(kct.tokens) == 2
    first, second = (sts.decode(t, old_key) for t in kct.tokens)
    assert isinstance(first, sts.KeyChange1) and first.rollover and first.krn == 2
    assert isinstance(second, sts.KeyChange2)
    new = service.meter_key(YULI.meter_number, actor="test", purpose="after")
    assert (new.params.krn, new.params.base_date, new.params.dkga) == (
        2, sts.BaseDate.Y2014, sts.Dkga.DKGA04,
    )  # fmt: skip
    sale = service.purchase("BANKDEMO", "yuli-2", YULI.meter_number, 20_000)
    assert isinstance(sts.decode(sale.token, new.decoder_key), sts.ElectricityCredit)
    with pytest.raises(sts.TokenCrcError):
        sts.decode(sale.token, old_key)
    [entry] = service.audit_log(action="key.key_change_rollover")
    assert entry.detail["old_krn"] == 1 and entry.detail["new_base_date"] == "14"
    assert old_key.reveal().hex() not in str(entry.detail)


def test_key_change_to_next_revision(service: VendingService) -> None:
    before = service.purchase("BANKDEMO", "kc-1", BUDI.meter_number, 20_000)
    old_key = service.meter_key(BUDI.meter_number, actor="t", purpose="p").decoder_key
    kct = _approved(service, service.key_change("admin", BUDI.meter_number, "suspected key compromise"))
    assert kct.result is not None and kct.result["kind"] == "key_change" and len(kct.tokens) == 2
    assert sts.decode(kct.tokens[0], old_key).krn == 3  # type: ignore[attr-defined]
    after = service.purchase("BANKDEMO", "kc-2", BUDI.meter_number, 20_000)
    assert after.tid > before.tid  # no rollover: the TID counter continues
    new_key = service.meter_key(BUDI.meter_number, actor="t", purpose="p").decoder_key
    assert isinstance(sts.decode(after.token, new_key), sts.ElectricityCredit)
    with pytest.raises(InvalidRequest, match="already uses KRN 3"):
        service.key_change("admin", BUDI.meter_number, "again", new_krn=3)
    with pytest.raises(KeyUnavailable):
        service.key_change("admin", BUDI.meter_number, "no such key", new_krn=7)
    with pytest.raises(InvalidRequest, match=r"1\.\.9"):
        service.key_change("admin", BUDI.meter_number, "bad krn", new_krn=12)


def test_management_tokens(service: VendingService) -> None:
    sale = service.purchase("BANKDEMO", "m-1", DEWI.meter_number, 20_000)
    tamper = service.clear_tamper("operator", DEWI.meter_number, "  seal replaced after visit ")
    assert tamper.reason == "seal replaced after visit" and tamper.tid == sale.tid + 1
    decoded = _decode(service, DEWI.meter_number, tamper.tokens[0])
    assert isinstance(decoded, sts.ClearTamper) and decoded.tid == tamper.tid
    limit = service.set_power_limit("operator", DEWI.meter_number, 2_200, "contract power")
    power = _decode(service, DEWI.meter_number, limit.tokens[0])
    assert isinstance(power, sts.SetMaximumPowerLimit) and power.watts >= 2_200
    clear = _approved(service, service.clear_credit("operator", DEWI.meter_number, "meter moved house", 0))
    credit = _decode(service, DEWI.meter_number, clear.tokens[0])
    assert isinstance(credit, sts.ClearCredit) and credit.register == 0
    history = service.management_history(DEWI.meter_number)
    assert [h.kind for h in history] == ["clear_credit", "power_limit", "clear_tamper"]
    kinds = [e.action for e in service.audit_log(action="management.")]
    assert kinds[:3] == ["management.clear_credit", "management.power_limit",
                         "management.clear_tamper"]  # fmt: skip


def test_management_needs_an_operator_and_a_reason(service: VendingService) -> None:
    for who in ("budi", "nobody"):
        with pytest.raises(NotAuthorized, match="operator or admin"):
            service.clear_tamper(who, DEWI.meter_number, "just because")
    with pytest.raises(ReasonRequired):
        service.clear_tamper("operator", DEWI.meter_number, "  ")
    with pytest.raises(ReasonRequired):
        service.key_change("operator", DEWI.meter_number, "")
    with pytest.raises(InvalidRequest):
        service.set_power_limit("operator", DEWI.meter_number, 0, "zero")
    with pytest.raises(InvalidRequest):
        service.clear_credit("operator", DEWI.meter_number, "bad register", 70_000)
    with pytest.raises(MeterReplaced):
        service.clear_tamper("operator", demo_meter_number(10000112), "old meter")
    assert service.management_history(DEWI.meter_number) == []
    assert service.audit_log(action="management.") == []


def test_meter_key_is_audited_and_hidden(service: VendingService) -> None:
    mk = service.meter_key(BUDI.idpel, actor="support", purpose="diagnosis T-1")
    assert mk.meter_pan == sts.meter_pan.from_meter_number(BUDI.meter_number)
    assert mk.decoder_key.reveal().hex() not in repr(mk)
    [entry] = service.audit_log(action="key.decoder_read")
    assert (entry.actor, entry.detail["purpose"]) == ("support", "diagnosis T-1")
    assert entry.detail["key"] == mk.decoder_key.fingerprint()
    with pytest.raises(ReasonRequired):
        service.meter_key(BUDI.meter_number, actor="support", purpose=" ")


# -- accounts and channels -------------------------------------------------------------------


def test_user_logins(service: VendingService) -> None:
    budi = service.authenticate_user("budi", "budi-prabayar")
    assert (budi.role, budi.idpel) == ("customer", BUDI.idpel)
    assert service.authenticate_user("operator", "operator-prabayar").role == "operator"
    for user, password in (("budi", "wrong-password"), ("ghost", "budi-prabayar")):
        with pytest.raises(AuthenticationFailed):
            service.authenticate_user(user, password)
    with Session(service.engine) as session:
        stored = session.scalar(select(UserAccount.password_hash).where(UserAccount.username == "budi"))
    assert stored is not None and stored.startswith("$argon2") and "budi-prabayar" not in stored


def test_create_user_errors(service: VendingService) -> None:
    service.create_user("dewi", "dewi-prabayar", "customer", idpel=DEWI.idpel)
    assert service.authenticate_user("dewi", "dewi-prabayar").idpel == DEWI.idpel
    with pytest.raises(InvalidRequest, match="already exists"):
        service.create_user("dewi", "another-password", "customer")
    with pytest.raises(InvalidRequest, match="8 characters"):
        service.create_user("x", "short", "customer")
    with pytest.raises(InvalidRequest):
        service.create_user("y", "long-enough", "superuser")
    with pytest.raises(InvalidRequest):
        service.create_user(" ", "long-enough", "customer")
    with pytest.raises(UnknownCustomer):
        service.create_user("z", "long-enough", "customer", idpel="000000000000")


def test_channel_keys(service: VendingService) -> None:
    assert service.authenticate_channel(DEMO_CHANNEL_KEYS["BANKDEMO"]).code == "BANKDEMO"
    fresh = service.issue_channel_key("EWALLET")
    assert fresh.startswith("pby_") and service.authenticate_channel(fresh).code == "EWALLET"
    with pytest.raises(AuthenticationFailed):
        service.authenticate_channel(fresh + "x")
    with pytest.raises(InvalidRequest):
        service.issue_channel_key("EWALLET", "short")
    with pytest.raises(UnknownChannel):
        service.issue_channel_key("NOPE")
    with Session(service.engine) as session:
        hashes = session.scalars(select(ChannelApiKey.key_hash)).all()
    assert fresh not in hashes and all(len(h) == 64 for h in hashes)
    codes = [c.code for c in service.channels()]
    assert codes == ["BANKDEMO", "EWALLET", "H2HDEMO", "MINIMART", "PLNAPP"]
    minimart = next(c for c in service.channels() if c.code == "MINIMART")
    assert minimart.allowed_nominals is not None and 20_000 in minimart.allowed_nominals


def test_errors_speak_both_languages(service: VendingService) -> None:
    with pytest.raises(VendingError) as exc:
        service.purchase("MINIMART", "lang", BUDI.meter_number, 30_000)
    body = exc.value.as_dict()
    assert body["code"] == "0013"
    assert body["message_id"] in str(exc.value) and body["message_en"] in str(exc.value)


def test_seed_is_idempotent(service: VendingService) -> None:
    from prabayar.vending.demo import seed_demo

    assert not seed_demo(service).created
    assert len(service.customer_meters(ANDI.idpel)) == 2


def test_service_refuses_a_naive_clock(service: VendingService) -> None:
    service._clock = lambda: datetime(2026, 3, 10, 12, 0)
    with pytest.raises(ValueError, match="aware"):
        service.inquiry(BUDI.meter_number)


def test_household_discount_programme(service: VendingService) -> None:
    """Jan-Feb 2025: households up to 2,200 VA got 50 % off; R-2 and business did not."""
    service.household_discount = Decimal("0.5")
    dewi = service.quote("BANKDEMO", DEWI.meter_number, 1_000_000)  # R1 2,200 VA, 2.4 %
    assert dewi.stroom == 976_562 and dewi.kwh == Decimal("1352.0")  # 976,562 / 722.35
    hendra = service.quote("BANKDEMO", HENDRA.meter_number, 1_000_000)  # R2 5,500 VA
    assert hendra.kwh == (Decimal(hendra.stroom) / Decimal("1699.53")).quantize(Decimal("0.1"), rounding="ROUND_UP")


def test_generate_vending_key_admin_only(service: VendingService) -> None:
    service.generate_vending_key("admin", "123456", 4)
    assert service.key_store.has_vending_key("123456", 4)
    kct = _approved(service, service.key_change("admin", DEWI.meter_number, "move to KRN 4", new_krn=4))
    assert len(kct.tokens) == 2
    with pytest.raises(NotAuthorized, match="admin only"):
        service.generate_vending_key("operator", "123456", 5)
    with pytest.raises(InvalidRequest, match="already exists"):
        service.generate_vending_key("admin", "123456", 4)
    with pytest.raises(InvalidRequest, match="6 digits"):
        service.generate_vending_key("admin", "12345", 5)
    [entry] = service.audit_log(action="key.vending_generate")
    assert entry.actor == "admin" and entry.detail["krn"] == 4


def test_a_channel_sees_only_its_own_unsold_tokens(service: VendingService) -> None:
    mine = service.purchase("EWALLET", "u-1", SITI.meter_number, 20_000)
    service.purchase("BANKDEMO", "u-2", SITI.meter_number, 20_000)
    assert [u.token for u in service.inquiry(SITI.idpel, channel="EWALLET").unsold] == [mine.token]
    assert len(service.inquiry(SITI.idpel).unsold) == 2  # operators and the customer see all
    with pytest.raises(UnknownChannel):
        service.inquiry(SITI.idpel, channel="NOPE")


def test_key_expiry_and_exhausted_tids_need_a_key_change(service: VendingService) -> None:
    from sqlalchemy import update

    from prabayar.vending.models import Meter

    with Session(service.engine) as session:
        session.execute(update(Meter).where(Meter.meter_number == DEWI.meter_number).values(ken=1))
        session.execute(update(Meter).where(Meter.meter_number == BUDI.meter_number).values(last_tid=sts.TID_MAX))
        session.commit()
    with pytest.raises(KeyChangeRequired, match="expired"):
        service.quote("BANKDEMO", DEWI.meter_number, 20_000)
    with pytest.raises(KeyChangeRequired, match="expired"):
        service.purchase("BANKDEMO", "ken-1", DEWI.meter_number, 20_000)
    with pytest.raises(KeyChangeRequired, match="used up"):
        service.clear_tamper("operator", BUDI.meter_number, "no TIDs left")
    assert service.reprint(DEWI.meter_number) == []


def test_an_idpel_with_two_meters_in_service_is_never_guessed(service: VendingService) -> None:
    from prabayar.vending.models import Meter, MeterStatus

    number = demo_meter_number(77)
    with Session(service.engine) as session, session.begin():
        first = session.scalar(select(Meter).where(Meter.meter_number == DEWI.meter_number))
        assert first is not None
        session.add(
            Meter(
                meter_number=number, customer_id=first.customer_id, status=MeterStatus.ACTIVE,
                key_type=first.key_type, sgc=first.sgc, tariff_index=first.tariff_index, krn=first.krn,
                ken=first.ken, algorithm=first.algorithm, base_date=first.base_date, dkga=first.dkga, last_tid=0,
            )
        )  # fmt: skip
    with pytest.raises(InvalidRequest, match="use the meter number") as exc:
        service.purchase("BANKDEMO", "two-meters", DEWI.idpel, 20_000)
    assert DEWI.meter_number in str(exc.value) and number in str(exc.value)
    assert service.purchase("BANKDEMO", "two-meters", number, 20_000).meter_number == number


def test_replace_meter_carries_the_credit_to_the_new_meter(service: VendingService) -> None:
    new_number = demo_meter_number(91)
    request = service.replace_meter("operator", DEWI.meter_number, new_number, Decimal("12.34"), "meter dead")
    done = _approved(service, request)
    assert done.result is not None and done.result["kind"] == "meter_replaced"
    assert done.result["meter_number"] == new_number and len(done.tokens) == 1
    key = service.meter_key(new_number, actor="test", purpose="check").decoder_key
    credit = sts.decode(done.tokens[0], key)
    assert isinstance(credit, sts.ElectricityCredit) and credit.amount == Decimal("12.3")  # rounded DOWN
    with pytest.raises(MeterReplaced):
        service.purchase("BANKDEMO", "after-swap", DEWI.meter_number, 20_000)
    assert service.purchase("BANKDEMO", "after-swap", DEWI.idpel, 20_000).meter_number == new_number
    actions = [e.action for e in service.audit_log(meter_number=DEWI.meter_number)]
    assert "management.meter_replaced" in actions


def test_replace_meter_refusals(service: VendingService) -> None:
    new_number = demo_meter_number(92)
    with pytest.raises(NotAuthorized):
        service.replace_meter("budi", DEWI.meter_number, new_number, Decimal(1), "meter dead")
    with pytest.raises(ReasonRequired):
        service.replace_meter("operator", DEWI.meter_number, new_number, Decimal(1), "")
    with pytest.raises(InvalidRequest):
        service.replace_meter("operator", DEWI.meter_number, new_number[:-1] + "0", Decimal(1), "bad luhn")
    with pytest.raises(InvalidRequest):
        service.replace_meter("operator", DEWI.meter_number, BUDI.meter_number, Decimal(1), "taken")
    with pytest.raises(InvalidRequest):
        service.replace_meter("operator", DEWI.meter_number, new_number, Decimal(-1), "negative")
    nothing = _approved(service, service.replace_meter("operator", DEWI.meter_number, new_number, Decimal(0), "empty"))
    assert nothing.tokens == () and nothing.result is not None and nothing.result["tid"] is None
    with pytest.raises(MeterReplaced):
        service.replace_meter("operator", DEWI.meter_number, demo_meter_number(93), Decimal(0), "again")


def test_a_meter_past_its_rollover_is_replaced_by_one_on_the_next_base_date(service: VendingService) -> None:
    new_number = demo_meter_number(94)
    done = _approved(service, service.replace_meter("operator", YULI.meter_number, new_number, Decimal("5"), "broken"))
    params = service.meter_key(new_number, actor="test", purpose="check").params
    assert params.base_date is sts.BaseDate.Y2014
    assert len(done.tokens) == 1
    assert service.purchase("BANKDEMO", "yuli-new", new_number, 20_000).meter_number == new_number


def test_clear_credit_only_for_the_registers_an_electricity_meter_has(service: VendingService) -> None:
    for register in (1, 4, 7, 65534):
        with pytest.raises(InvalidRequest, match="register"):
            service.clear_credit("operator", DEWI.meter_number, "wrong register", register=register)
    assert service.management_history(DEWI.meter_number) == []  # no TID used up
    for register in (0, 0xFFFF):
        request = service.clear_credit("operator", DEWI.meter_number, "credit dispute", register=register)
        (token,) = _approved(service, request).tokens
        key = service.meter_key(DEWI.meter_number, actor="test", purpose="check").decoder_key
        cleared = sts.decode(token, key)
        assert isinstance(cleared, sts.ClearCredit) and cleared.register == register
