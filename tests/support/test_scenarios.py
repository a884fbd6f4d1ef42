"""Scenario corpus: every cause reproduced end to end (purchase, meter, entry, diagnosis).

Each story buys through the vending service, keys digits into an emulated meter, asks the
diagnosis engine, and checks the cause and the next step; where the next step is a token,
the story keys it in and checks that the meter now accepts.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest

from prabayar import sts
from prabayar.meter import MeterSettings, ResultKind, TamperCause
from prabayar.support.errors import MeterNotFound
from prabayar.support.replacement import Replacement
from prabayar.support.result import Action, Cause, Confidence
from prabayar.support.typos import TypoClass
from prabayar.vending import CustomerBlocked, MeterReplaced, NotAuthorized

from .conftest import ADMIN, BUDI, CHECKER, JOKO_BLOCKED, OPERATOR, SITI, YULIANTI_LEGACY, World, mistype


def _swap(d: str, pos: int) -> str:
    return d[: pos - 1] + d[pos] + d[pos - 1] + d[pos + 1 :]


def test_wrong_meter_names_the_masked_meter_it_was_bought_for(world: World) -> None:
    mine = world.meter(BUDI.meter_number)
    sale = world.buy(SITI.meter_number)  # the seller typed Siti's number
    assert mine.enter_token(sale.token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.WRONG_METER
    assert d.confidence is Confidence.CERTAIN
    masked = SITI.meter_number[:3] + "*****" + SITI.meter_number[-3:]
    assert masked in d.explanation.id and masked in d.explanation.en
    assert SITI.meter_number not in d.explanation.en  # never the full number of someone else
    assert "S*** R*****" in d.explanation.en
    assert not any(SITI.meter_number in e.fact or SITI.idpel in e.fact for e in d.evidence)
    assert [s.action for s in d.next_steps] == [Action.CONTACT_SELLER, Action.BUY_NEW_TOKEN]
    assert not d.ticket_needed


@pytest.mark.parametrize(
    ("typo", "make"),
    [
        (TypoClass.WRONG_DIGIT, lambda t: mistype(t, 7)),
        (TypoClass.ADJACENT_SWAP, lambda t: _swap(t, 12) if t[11] != t[12] else _swap(t, 3)),
        (TypoClass.MISSING_DIGIT, lambda t: t[:9] + t[10:]),
        (TypoClass.EXTRA_DIGIT, lambda t: t[:4] + t[4] + t[4:]),
        (TypoClass.TWO_WRONG_DIGITS, lambda t: mistype(mistype(t, 2), 17)),
    ],
)
def test_typo_is_found_and_the_corrected_token_works(world: World, typo: TypoClass, make) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    typed = make(sale.token)
    assert typed != sale.token
    assert not meter.enter_token(typed).kind.accepted
    d = world.diagnose(BUDI.meter_number, typed, "SALAH")
    assert d.cause is Cause.TYPO
    assert d.confidence is Confidence.CERTAIN  # proven by key + ledger
    assert [c.digits for c in d.candidates] == [sale.token]
    cand = d.candidates[0]
    assert cand.in_ledger and cand.typo in (typo, TypoClass.ADJACENT_SWAP, TypoClass.WRONG_DIGIT)
    step = d.next_steps[0]
    assert step.action is Action.ENTER_CORRECTED_TOKEN and step.tokens == (sale.token,)
    assert meter.enter_token(step.tokens[0]).kind is ResultKind.ACCEPT


def test_typo_positions_are_reported(world: World) -> None:
    sale = world.buy(BUDI.meter_number)
    world.meter(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number, mistype(sale.token, 5))
    assert d.candidates[0].positions == (5,)
    assert "5" in d.explanation.en


def test_typo_of_a_token_not_in_our_ledger_is_found_by_key_alone(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    mk = world.service.meter_key(BUDI.meter_number, actor="test", purpose="foreign vendor")
    tid = sts.tid_from_datetime(world.clock.now(), mk.params.base_date)
    token = sts.encode(sts.ElectricityCredit(tid=tid, amount=Decimal("20.0"), rnd=3), mk.decoder_key)
    d = world.diagnose(BUDI.meter_number, mistype(token, 11))
    assert d.cause is Cause.TYPO
    assert d.confidence is Confidence.LIKELY  # key and CRC only, no ledger row
    assert token in [c.digits for c in d.candidates]
    assert not d.candidates[0].in_ledger
    assert meter.enter_token(token).kind is ResultKind.ACCEPT


def test_broken_meter_opens_a_ticket_and_replacement_carries_the_credit(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    first = world.buy(BUDI.meter_number)
    assert meter.enter_token(first.token).kind is ResultKind.ACCEPT
    credit = meter.state.credit_kwh
    second = world.buy(BUDI.meter_number)
    # the meter's memory fails: its state can no longer be read
    (world.data_dir / "meters" / f"{BUDI.meter_number}.json").write_text("\x00garbage")
    d = world.diagnose(BUDI.meter_number, second.token, "")
    assert d.cause is Cause.BROKEN_METER and d.ticket_needed
    assert d.next_steps[0].action is Action.WAIT_FOR_TECHNICIAN
    assert "free of charge" in d.explanation.en
    assert "Your remaining credit is carried over" in d.explanation.en  # no made-up figure

    tickets = world.tickets()
    t = tickets.open(channel="cc123", identifier=BUDI.idpel, actor="agent1", diagnosis=d,
                     description="meter mati, token tidak bisa masuk")  # fmt: skip
    assert t.category == "broken_meter" and t.diagnosis and t.diagnosis["cause"] == "broken_meter"
    tickets.assign(t.number, "teknisi-andi", "spv1")
    tickets.schedule_visit(t.number, world.clock.now() + timedelta(hours=3), "spv1")
    tickets.record_inspection(t.number, "LCD mati, memori rusak", installation_ok=True,
                              actor="teknisi-andi")  # fmt: skip
    carried = credit + second.price.kwh  # the unused second token is carried over too
    new_number = "14100000998"
    new_number = new_number[:10] + sts.meter_number.calc_check_digit(new_number[:10])
    request = tickets.replace_meter(t.number, OPERATOR, new_number, carried)
    assert request.pending and request.tokens == ()  # four eyes: nothing happens yet
    with pytest.raises(NotAuthorized):
        world.service.approve(request.id, OPERATOR)  # the maker (and not an admin)
    done = Replacement.of(world.service.approve(request.id, ADMIN))
    assert done.token is not None
    new_meter = world.meter(new_number)
    result = new_meter.enter_token(done.token)
    assert result.kind is ResultKind.ACCEPT
    assert new_meter.state.credit_kwh == carried.quantize(Decimal("0.1"), rounding=ROUND_DOWN)  # never up
    tickets.resolve(t.number, "meter diganti, kredit dipindahkan", "teknisi-andi")
    closed = tickets.close(t.number, "spv1")
    assert closed.replacement_meter == new_number
    assert [e.kind for e in closed.events] == [
        "opened", "assigned", "visit_scheduled", "inspected", "replacement_requested",
        "meter_replaced", "resolved", "closed",
    ]  # fmt: skip
    # vending now refuses the old number and sells for the new one
    with pytest.raises(MeterReplaced):
        world.buy(BUDI.meter_number)
    actions = [a.action for a in world.service.audit_log(meter_number=BUDI.meter_number)]
    assert "management.meter_replaced" in actions and "support.ticket.closed" in actions


def test_tamper_needs_inspection_before_clear_tamper(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    meter.tamper(TamperCause.BYPASS)
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.TAMPER
    d = world.diagnose(BUDI.meter_number, sale.token, "PERIKSA")
    assert d.cause is Cause.TAMPER and d.confidence is Confidence.CERTAIN and d.ticket_needed
    assert "bypass" in d.explanation.en

    from prabayar.support.errors import InspectionRequired

    tickets = world.tickets()
    t = tickets.open(channel="app", identifier=BUDI.meter_number, actor="BUDI", diagnosis=d)
    tickets.assign(t.number, "teknisi-rina", "spv1")
    with pytest.raises(InspectionRequired):
        tickets.clear_tamper(t.number, OPERATOR)
    tickets.record_inspection(t.number, "bypass found and removed", installation_ok=False,
                              actor="teknisi-rina")  # fmt: skip
    with pytest.raises(InspectionRequired):  # installation not yet fine
        tickets.clear_tamper(t.number, OPERATOR)
    tickets.record_inspection(t.number, "instalasi diperbaiki, normal", installation_ok=True,
                              actor="teknisi-rina")  # fmt: skip
    (clear,) = tickets.clear_tamper(t.number, OPERATOR)
    assert meter.enter_token(clear).kind is ResultKind.ACCEPT
    assert meter.state.tamper is None
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT
    done = tickets.resolve(t.number, "clear tamper entered", "teknisi-rina")
    assert done.issued_tokens == (clear,)


def test_already_used_says_when_and_on_which_meter(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    entered_at = meter.now()
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT
    world.clock.advance(timedelta(days=2))
    assert meter.enter_token(sale.token).kind is ResultKind.USED
    d = world.diagnose(BUDI.meter_number, sale.token, "USED")
    assert d.cause is Cause.ALREADY_USED and d.confidence is Confidence.CERTAIN
    assert BUDI.meter_number in d.explanation.en
    from prabayar.support.present import wib

    assert wib(entered_at) in d.explanation.en
    assert not d.ticket_needed


def test_token_older_than_the_meter_memory(world: World) -> None:
    meter = world.meter(BUDI.meter_number, MeterSettings(tid_memory_size=5))
    forgotten = world.buy(BUDI.meter_number, 20_000)
    for _ in range(5):
        assert meter.enter_token(world.buy(BUDI.meter_number, 20_000).token).kind.accepted
    assert meter.enter_token(forgotten.token).kind is ResultKind.OLD
    d = world.diagnose(BUDI.meter_number, forgotten.token, "OLD")
    assert d.cause is Cause.TOO_OLD and d.confidence is Confidence.CERTAIN
    assert d.ticket_needed and d.next_steps[0].action is Action.CONTACT_123


def test_key_change_needed_gives_the_kcts_and_then_the_token_works(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    world.key_change(BUDI.meter_number, "KRN update 2 -> 3")
    sale = world.buy(BUDI.meter_number)  # made with the new key the meter does not have
    assert meter.enter_token(sale.token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.KEY_CHANGE_NEEDED and d.confidence is Confidence.CERTAIN
    step = d.next_steps[0]
    assert step.action is Action.ENTER_KEY_CHANGE_TOKENS and len(step.tokens) == 2
    issued = world.service.management_history(BUDI.meter_number)[0].tokens
    assert step.tokens == issued  # the same set the officer's key change produced
    for kct in step.tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT


def test_meter_on_an_expired_base_date_needs_a_rollover_key_change(world: World) -> None:
    d = world.diagnose(YULIANTI_LEGACY.meter_number)
    assert d.cause is Cause.KEY_CHANGE_NEEDED and d.ticket_needed
    assert "rollover" in d.explanation.en
    tickets = world.tickets()
    t = tickets.open(channel="whatsapp", identifier=YULIANTI_LEGACY.idpel, actor="wa-bot",
                     diagnosis=d)  # fmt: skip
    tickets.assign(t.number, "petugas-kct", "spv1")
    with pytest.raises(NotAuthorized):
        tickets.key_change(t.number, OPERATOR, rollover=True)  # admins only
    request = tickets.key_change(t.number, ADMIN, rollover=True)
    kcts = world.service.approve(request.id, CHECKER).tokens
    assert len(kcts) == 2 and tickets.get(t.number).issued_tokens == kcts
    meter = world.meter(YULIANTI_LEGACY.meter_number)  # now made with the *new* key...
    assert meter.enter_token(world.buy(YULIANTI_LEGACY.meter_number).token).kind.accepted
    assert world.diagnose(YULIANTI_LEGACY.meter_number).cause is not Cause.KEY_CHANGE_NEEDED


def test_credit_overflow(world: World) -> None:
    meter = world.meter(BUDI.meter_number, MeterSettings(credit_max_kwh=Decimal("100.0")))
    assert meter.enter_token(world.buy(BUDI.meter_number).token).kind is ResultKind.ACCEPT
    big = world.buy(BUDI.meter_number)
    assert meter.enter_token(big.token).kind is ResultKind.OVER
    d = world.diagnose(BUDI.meter_number, big.token, "OVER")
    assert d.cause is Cause.CREDIT_OVERFLOW and d.confidence is Confidence.CERTAIN
    assert [s.action for s in d.next_steps] == [Action.USE_CREDIT_FIRST,
                                                Action.REQUEST_POWER_UPGRADE]  # fmt: skip


def test_blocked_customer(world: World) -> None:
    with pytest.raises(CustomerBlocked):
        world.buy(JOKO_BLOCKED.meter_number)
    d = world.diagnose(JOKO_BLOCKED.idpel)
    assert d.cause is Cause.CUSTOMER_BLOCKED and d.confidence is Confidence.CERTAIN
    assert d.next_steps[0].action is Action.VISIT_PLN_OFFICE


def test_undelivered_sale_points_to_advice(world: World) -> None:
    sale = world.buy(BUDI.meter_number, deliver=False)
    d = world.diagnose(BUDI.meter_number)
    assert d.cause is Cause.SALE_NOT_COMPLETED and d.confidence is Confidence.CERTAIN
    assert sale.reference_number in d.next_steps[0].text.en
    assert d.next_steps[0].action is Action.CONTACT_SELLER
    assert sale.token not in d.explanation.en  # the token itself comes back through advice
    # advice is keyed by the seller's own reference: the PLN one alone would get 0092 there
    assert f"reference {sale.channel_reference}" in d.next_steps[0].text.en
    assert f"referensi transaksi Anda di sana: {sale.channel_reference} (ref PLN" in d.next_steps[0].text.id
    replayed = world.service.advice(sale.channel, sale.channel_reference)
    assert replayed.token == sale.token


def test_no_step_claims_a_ticket_was_opened(world: World) -> None:
    """The diagnosis advises; only a ticket use case opens a ticket."""
    world.buy(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number, "1234 5678 9012 3456 7890")
    for step in d.next_steps:
        assert "ticket is opened" not in step.text.en and "Tiket dibuat" not in step.text.id


def test_no_sale_at_all(world: World) -> None:
    d = world.diagnose(SITI.meter_number)
    assert d.cause is Cause.SALE_NOT_COMPLETED and d.confidence is Confidence.LIKELY


def test_sixteen_digits(world: World) -> None:
    sale = world.buy(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number, " ".join(sale.token[i : i + 4] for i in range(0, 16, 4)))
    assert d.cause is Cause.SIXTEEN_DIGITS
    assert "20 digits" in d.explanation.en and "16" in d.explanation.en
    assert d.next_steps[0].tokens == (sale.token,)
    assert d.candidates[0].positions == (17, 18, 19, 20)


@pytest.mark.parametrize(
    ("typed", "what"),
    [
        (BUDI.meter_number, "meter number"),
        (BUDI.idpel, "IDPEL"),
        ("081234567890", "phone number"),
        ("1234 abcd 5678", "letters"),
        ("99999999999999999999", "outside"),
        ("12345", "not an electricity token"),
    ],
)
def test_not_a_token(world: World, typed: str, what: str) -> None:
    world.meter(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number, typed)
    assert d.cause is Cause.NOT_A_TOKEN
    assert what in d.explanation.en
    assert d.next_steps[0].action is Action.CHECK_RECEIPT


def test_token_from_another_utility(world: World) -> None:
    world.meter(BUDI.meter_number)
    other = sts.DecoderKey(bytes.fromhex("0123456789abcdef"), sts.EncryptionAlgorithm.STA)
    water = sts.encode(sts.WaterCredit(tid=1000, amount=Decimal("5.0"), rnd=1), other)
    d = world.diagnose(BUDI.meter_number, water, "REJECT")
    assert d.cause is Cause.FOREIGN_TOKEN
    assert "another utility" in d.explanation.en
    assert not d.candidates


def test_valid_unused_token_means_no_fault(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.NO_FAULT_FOUND
    assert [s.action for s in d.next_steps] == [Action.RESTART_METER, Action.RETRY_ENTRY]
    assert meter.enter_token(d.next_steps[1].tokens[0]).kind is ResultKind.ACCEPT


def test_keypad_lockout_is_reported_with_its_end(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    for pos in (1, 2, 3, 4):
        meter.enter_token(mistype(sale.token, pos))
    d = world.diagnose(BUDI.meter_number, sale.token)
    assert d.cause is Cause.NO_FAULT_FOUND
    assert "locked" in d.explanation.en and d.next_steps[0].action is Action.RETRY_ENTRY


def test_without_meter_state_the_ledger_still_explains(world: World) -> None:
    sale = world.buy(BUDI.meter_number)  # real meter: no emulator state file
    d = world.diagnose(BUDI.meter_number, sale.token, "USED")
    assert d.cause is Cause.ALREADY_USED and d.confidence is Confidence.LIKELY
    d = world.diagnose(BUDI.meter_number, mistype(sale.token, 3))
    assert d.cause is Cause.TYPO and d.candidates[0].digits == sale.token


def test_unknown_meter_is_a_typed_error(world: World) -> None:
    with pytest.raises(MeterNotFound) as err:
        world.diagnose("14999999990")
    assert "tidak ditemukan" in err.value.message.id


def test_blocked_note_accompanies_a_token_cause(world: World) -> None:
    sale = world.buy(BUDI.meter_number)
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from prabayar.vending.models import Customer

    with Session(world.service.engine) as s:
        s.execute(update(Customer).where(Customer.idpel == BUDI.idpel).values(status="blocked"))
        s.commit()
    d = world.diagnose(BUDI.meter_number, mistype(sale.token, 9))
    assert d.cause is Cause.TYPO
    assert any("blocked" in f.en for f in d.other_findings)


@pytest.mark.parametrize(
    ("display", "cause"),
    [
        ("OVER", Cause.CREDIT_OVERFLOW),
        ("Old", Cause.TOO_OLD),
        ("KEY EXPIRED", Cause.KEY_CHANGE_NEEDED),
        ("GAGAL", Cause.NO_FAULT_FOUND),
    ],
)
def test_display_guides_the_answer_when_the_meter_cannot_be_read(world: World, display: str, cause: Cause) -> None:
    sale = world.buy(BUDI.meter_number)  # a real meter: no state file to read
    d = world.diagnose(BUDI.meter_number, sale.token, display)
    assert d.cause is cause
    assert d.confidence is Confidence.LIKELY


def test_ledger_alone_knows_a_token_is_older_than_fifty_purchases(world: World) -> None:
    first = world.buy(BUDI.meter_number, 20_000)
    for _ in range(50):
        world.buy(BUDI.meter_number, 20_000)
    d = world.diagnose(BUDI.meter_number, first.token)
    assert d.cause is Cause.TOO_OLD and d.confidence is Confidence.LIKELY


def test_delivered_sale_and_no_digits_asks_for_the_digits(world: World) -> None:
    world.buy(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number)
    assert d.cause is Cause.UNKNOWN and d.next_steps[0].action is Action.CHECK_RECEIPT


def test_nineteen_digits_without_any_candidate(world: World) -> None:
    world.meter(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number, "1" * 19)
    assert d.cause is Cause.TYPO and d.confidence is Confidence.POSSIBLE and not d.candidates
    assert "19" in d.explanation.en


def test_mistyped_used_token_is_reported_as_used(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT
    d = world.diagnose(BUDI.meter_number, mistype(sale.token, 15))
    assert d.cause is Cause.ALREADY_USED
    assert any("mistyped" in e.fact for e in d.evidence)


def test_mistyped_clear_tamper_token_is_found_in_the_management_ledger(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    meter.tamper(TamperCause.MAGNET)
    (clear,) = world.service.clear_tamper(OPERATOR, BUDI.meter_number, "inspected, ok").tokens
    # the tamper is what the customer sees first; the typo is what support finds in the digits
    from prabayar.support.engine import DiagnosisRequest

    engine = world.engine()
    d = engine.diagnose(DiagnosisRequest(BUDI.meter_number, mistype(clear, 4)))
    assert d.cause is Cause.TAMPER
    meter.state.tamper = None  # suppose the officer cleared it another way
    meter.store.save(meter.state)  # type: ignore[union-attr]
    d = engine.diagnose(DiagnosisRequest(BUDI.meter_number, mistype(clear, 4)))
    assert d.cause is Cause.TYPO and d.candidates[0].digits == clear
    assert d.candidates[0].in_ledger


@pytest.mark.parametrize("make", [lambda t: mistype(t, 6), lambda t: t[:12] + t[13:]])
def test_token_for_another_meter_typed_with_a_typo(world: World, make) -> None:
    world.meter(BUDI.meter_number)
    sale = world.buy(SITI.meter_number)
    d = world.diagnose(BUDI.meter_number, make(sale.token))
    assert d.cause is Cause.WRONG_METER
    assert "one typing error" in " ".join(e.fact for e in d.evidence)
    assert SITI.meter_number not in d.explanation.en


def test_naive_report_time_is_refused(world: World) -> None:
    from datetime import datetime

    from prabayar.support.engine import DiagnosisRequest
    from prabayar.support.errors import InvalidDiagnosisRequest

    with pytest.raises(InvalidDiagnosisRequest):
        world.engine().diagnose(DiagnosisRequest(BUDI.meter_number, reported_at=datetime(2026, 1, 1)))


def test_a_mistyped_used_token_names_both_the_digit_and_when_it_was_used(world: World) -> None:
    """'digit 8 was mistyped; that token was already entered on ...', not just 'USED'."""
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT
    typed = sale.token[:7] + str((int(sale.token[7]) + 1) % 10) + sale.token[8:]
    d = world.diagnose(BUDI.meter_number, typed, "GAGAL")
    assert d.cause is Cause.ALREADY_USED
    assert [c.digits for c in d.candidates] == [sale.token] and d.candidates[0].positions == (8,)
    assert d.explanation.en.startswith("Digit 8 was mistyped; the token you meant is ")
    assert "already entered into meter" in d.explanation.en and " on " in d.explanation.en
    assert d.explanation.id.startswith("Ada salah ketik pada digit ke-8; token yang dimaksud adalah ")
    assert "sudah pernah dimasukkan" in d.explanation.id
