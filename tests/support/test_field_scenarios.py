"""Field scenarios beyond the corpus: what customers and technicians meet after key changes,
on meters with an odd history, and with the words they copy from the meter's display.

Every story buys through the vending service, keys digits into an emulated meter, asks the
engine, and checks the cause, the next step and whether a ticket is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prabayar import sts
from prabayar.meter import ResultKind, TamperCause
from prabayar.support.entry import DisplayHint, read_display
from prabayar.support.result import Action, Cause, Confidence
from prabayar.vending import VendingError
from prabayar.vending.models import Meter as MeterRow
from prabayar.vending.models import MeterStatus

from .conftest import BUDI, OPERATOR, SITI, YULIANTI_LEGACY, World

# -- after a key change ----------------------------------------------------------------------


def test_token_used_before_a_key_change_and_typed_again_is_already_used(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT
    kc = world.key_change(BUDI.meter_number, "KRN update")
    for kct in kc.tokens:
        assert meter.enter_token(kct).kind.accepted
    again = meter.enter_token(sale.token)  # now a CRC failure: the key changed
    assert again.kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.ALREADY_USED and d.confidence is Confidence.CERTAIN
    assert not d.ticket_needed


def test_used_token_out_of_the_last_token_memory_is_found_in_the_event_log(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT
    for _ in range(6):  # the meter remembers the digits of its last five tokens only
        assert meter.enter_token(world.buy(BUDI.meter_number, 20_000).token).kind is ResultKind.ACCEPT
    kc = world.key_change(BUDI.meter_number, "KRN update")
    for kct in kc.tokens:
        meter.enter_token(kct)
    assert all(t.digits != sale.token for t in meter.state.last_tokens)
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.ALREADY_USED and d.confidence is Confidence.CERTAIN
    assert any("event log" in e.fact for e in d.evidence)


def test_token_bought_before_a_key_change_entered_after_it(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)  # kept for later
    world.clock.advance(timedelta(hours=1))
    kc = world.key_change(BUDI.meter_number, "KRN update")
    for kct in kc.tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(sale.token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.KEY_CHANGED_SINCE_SALE and d.confidence is Confidence.CERTAIN
    assert d.ticket_needed  # PLN must issue the credit again under the new key
    assert d.next_steps[0].action is Action.CONTACT_123
    assert "KRN" in d.explanation.en and "the meter took key change tokens" in d.explanation.en
    assert not any(s.action is Action.ENTER_KEY_CHANGE_TOKENS for s in d.next_steps)
    t = world.tickets().open(channel="app", identifier=BUDI.meter_number, actor="BUDI", diagnosis=d)
    assert t.category == "key_changed_since_sale" and t.diagnosis is not None


def test_token_bought_before_a_key_change_without_meter_state(world: World) -> None:
    sale = world.buy(BUDI.meter_number)
    world.clock.advance(timedelta(hours=1))
    world.key_change(BUDI.meter_number, "KRN update")
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")  # a real meter: no state file
    assert d.cause is Cause.KEY_CHANGED_SINCE_SALE and d.confidence is Confidence.LIKELY
    assert d.ticket_needed
    assert "were issued for your meter" in d.explanation.en and "the meter took" not in d.explanation.en


def test_token_bought_before_a_key_change_still_works_before_the_kcts(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    world.key_change(BUDI.meter_number, "KRN update")
    d = world.diagnose(BUDI.meter_number, sale.token)
    assert d.cause is Cause.NO_FAULT_FOUND
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT


def test_key_change_sections_from_two_sets_then_the_diagnosis_repairs_the_key(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    first = world.key_change(BUDI.meter_number, "KRN update")
    assert meter.enter_token(first.tokens[0]).kind is ResultKind.KCT_PARTIAL
    # the officer thought it failed and issued another set; the customer typed its 2nd section
    mk = world.service.meter_key(BUDI.meter_number, actor="test", purpose="officer")
    other_key = sts.DecoderKey(bytes(8), mk.decoder_key.algorithm)
    other_params = mk.params
    mixed_second = sts.encode_key_change(meter.state.key, other_key, other_params)[1]
    assert meter.enter_token(mixed_second).kind is ResultKind.KEY_CHANGED  # no set id: a mixed key
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.KEY_CHANGE_NEEDED and d.confidence is Confidence.CERTAIN
    for kct in d.next_steps[0].tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT


def test_rollover_then_tokens_in_any_order_and_an_old_token_replayed(world: World) -> None:
    number = YULIANTI_LEGACY.meter_number
    meter = world.meter(number, made=datetime(2023, 5, 1, tzinfo=UTC))  # still on base date 1993
    kc = world.key_change(number, "TID rollover", rollover=True)
    early = world.buy(number)
    later = world.buy(number)
    for kct in kc.tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(later.token).kind is ResultKind.ACCEPT
    assert meter.enter_token(early.token).kind is ResultKind.ACCEPT
    d = world.diagnose(number, early.token, "USED")
    assert d.cause is Cause.ALREADY_USED


# -- tamper ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cause", list(TamperCause))
def test_each_tamper_cause_is_named_with_its_code(world: World, cause: TamperCause) -> None:
    meter = world.meter(BUDI.meter_number)
    meter.tamper(cause)
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.TAMPER
    d = world.diagnose(BUDI.meter_number, sale.token, "PERIKSA")
    assert d.cause is Cause.TAMPER and d.confidence is Confidence.CERTAIN and d.ticket_needed
    assert f"code 08 shows {int(cause)}" in d.explanation.en
    assert cause.label_en in d.explanation.en


# -- who the token was for ---------------------------------------------------------------------


def _second_meter_for(world: World, idpel_owner_meter: str) -> str:
    """Give the owner of ``idpel_owner_meter`` a second meter (a second house on one IDPEL)."""
    number = "14100000" + "77"
    number += sts.meter_number.calc_check_digit(number)
    with Session(world.service.engine) as session, session.begin():
        first = session.scalar(select(MeterRow).where(MeterRow.meter_number == idpel_owner_meter))
        assert first is not None
        session.add(
            MeterRow(
                meter_number=number, customer_id=first.customer_id, status=MeterStatus.ACTIVE,
                key_type=first.key_type, sgc=first.sgc, tariff_index=first.tariff_index,
                krn=first.krn, ken=first.ken, algorithm=first.algorithm,
                base_date=first.base_date, dkga=first.dkga, last_tid=0,
            )
        )  # fmt: skip
    return number


def test_token_for_the_customers_other_meter(world: World) -> None:
    second = _second_meter_for(world, BUDI.meter_number)
    first_meter = world.meter(BUDI.meter_number)
    sale = world.buy(second)  # bought for the kos house, typed at home
    assert first_meter.enter_token(sale.token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.WRONG_METER
    # the customer's own meter: no need to mask it, and the next step is to enter it there
    assert second in d.explanation.en and second in d.explanation.id
    assert d.next_steps[0].action is Action.ENTER_ON_OTHER_METER
    assert world.meter(second).enter_token(sale.token).kind is ResultKind.ACCEPT


def test_diagnosis_by_idpel_with_two_meters_follows_the_token(world: World) -> None:
    second = _second_meter_for(world, BUDI.meter_number)
    world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    d = world.diagnose(BUDI.idpel, sale.token)
    assert d.meter_number == BUDI.meter_number and d.cause is Cause.NO_FAULT_FOUND
    sale2 = world.buy(second)
    d2 = world.diagnose(BUDI.idpel, sale2.token)
    assert d2.meter_number == second and d2.cause is Cause.NO_FAULT_FOUND


def test_neighbours_token_stays_masked(world: World) -> None:
    world.meter(BUDI.meter_number)
    sale = world.buy(SITI.meter_number)
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.WRONG_METER and SITI.meter_number not in d.explanation.en
    assert d.next_steps[0].action is Action.CONTACT_SELLER


# -- what customers copy from the display ------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "hint"),
    [
        ("GAGAL · Token salah", DisplayHint.REJECTED),
        ("REJECT token", DisplayHint.REJECTED),
        ("token gagal", DisplayHint.REJECTED),
        ("TERKUNCI · Tunggu 40 detik", DisplayHint.LOCKED),
        ("LOCKED OUT · Wait 40 s", DisplayHint.LOCKED),
        ("Loc Out", DisplayHint.LOCKED),
        ("USED · Token sudah dipakai", DisplayHint.USED),
        ("OLD · Token terlalu lama", DisplayHint.OLD),
        ("OVER · Kredit melebihi kapasitas", DisplayHint.OVER),
        ("KEY EXP · Kunci kedaluwarsa", DisplayHint.KEY_EXPIRED),
        ("PERIKSA · Hubungi PLN 123", DisplayHint.PERIKSA),
        ("BENAR +20.0 kWh", DisplayHint.ACCEPTED),
        ("rUSAk", DisplayHint.COVER_OPEN),
        ("Reject 2", DisplayHint.REJECTED),
        ("layar mati", DisplayHint.BLANK),
        ("Blocked", DisplayHint.BLOCKED),
    ],
)
def test_display_words_as_the_meter_shows_them(display: str, hint: DisplayHint) -> None:
    assert read_display(display) is hint


def test_rejected_display_without_meter_state_is_not_read_as_accepted(world: World) -> None:
    sale = world.buy(SITI.meter_number)
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL token salah")
    assert d.cause is Cause.WRONG_METER
    assert any("rejected" in e.fact for e in d.evidence)


# -- a replaced meter --------------------------------------------------------------------------


def _replace(world: World, old: str) -> str:
    """Replace ``old`` through a complaint ticket (inspection first), carrying nothing."""
    new = "1410000099"
    new += sts.meter_number.calc_check_digit(new)
    tickets = world.tickets()
    t = tickets.open(channel="cc123", identifier=old, actor="agent1", description="LCD mati")
    tickets.assign(t.number, "teknisi-andi", "spv1")
    tickets.record_inspection(t.number, "LCD mati", installation_ok=True, actor="teknisi-andi")
    request = tickets.replace_meter(t.number, OPERATOR, new, Decimal(0))
    world.service.approve(request.id, "admin")  # four eyes: not the maker, not the inspector
    return new


def test_token_for_the_replaced_meter_entered_on_the_new_one(world: World) -> None:
    world.meter(BUDI.meter_number)
    kept = world.buy(BUDI.meter_number)  # bought, never entered, then the meter broke
    new = _replace(world, BUDI.meter_number)
    new_meter = world.meter(new)
    assert new_meter.enter_token(kept.token).kind is ResultKind.REJECT
    d = world.diagnose(new, kept.token, "GAGAL")
    assert d.cause is Cause.WRONG_METER and d.ticket_needed
    assert BUDI.meter_number in d.explanation.en and "replaced" in d.explanation.en
    assert d.next_steps[0].action is Action.CONTACT_123
    # asked with the IDPEL, the answer is the same (the old meter is not "the" meter any more)
    d2 = world.diagnose(BUDI.idpel, kept.token, "GAGAL")
    assert d2.meter_number == new and d2.cause is Cause.WRONG_METER and d2.ticket_needed


def test_diagnosis_asked_for_the_old_meter_number_names_the_new_meter(world: World) -> None:
    world.meter(BUDI.meter_number)
    new = _replace(world, BUDI.meter_number)
    sale = world.buy(new)
    d = world.diagnose(BUDI.meter_number, sale.token)
    assert d.cause is Cause.WRONG_METER
    assert new in d.explanation.en
    assert d.next_steps[0].action is Action.ENTER_ON_OTHER_METER


# -- the display against the meter's own state -------------------------------------------------


def test_listrik_mati_on_a_working_meter_out_of_credit_is_not_a_broken_meter(world: World) -> None:
    meter = world.meter(BUDI.meter_number)  # no credit: the relay is open, "listrik mati"
    sale = world.buy(BUDI.meter_number)
    d = world.diagnose(BUDI.meter_number, sale.token, "listrik mati")
    assert d.cause is Cause.NO_FAULT_FOUND and not d.ticket_needed
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT


def test_periksa_reported_but_the_meter_state_has_no_tamper(world: World) -> None:
    world.meter(BUDI.meter_number)
    sale = world.buy(SITI.meter_number)
    d = world.diagnose(BUDI.meter_number, sale.token, "PERIKSA")
    assert d.cause is Cause.WRONG_METER  # the meter's own state outranks the words reported


@pytest.mark.parametrize(
    ("display", "hint"),
    [("listrik mati", DisplayHint.UNKNOWN), ("layar mati", DisplayHint.BLANK),
     ("listrik mati, GAGAL", DisplayHint.REJECTED), ("meter mati total", DisplayHint.BLANK)],
)  # fmt: skip
def test_supply_off_is_not_a_dead_display(display: str, hint: DisplayHint) -> None:
    assert read_display(display) is hint


# -- management and test tokens ----------------------------------------------------------------

ANY_KEY = sts.DecoderKey(bytes(8), sts.EncryptionAlgorithm.STA)  # class 1 is not encrypted


def test_key_change_tokens_typed_again_after_success(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    kc = world.key_change(BUDI.meter_number, "KRN update")
    for kct in kc.tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(kc.tokens[0]).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, kc.tokens[0], "GAGAL")
    assert d.cause is Cause.ALREADY_USED and not d.ticket_needed
    assert "key change" in d.explanation.en


def test_key_change_timed_out_then_the_diagnosis_gives_the_set_again(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    kc = world.key_change(BUDI.meter_number, "KRN update")
    assert meter.enter_token(kc.tokens[0]).kind is ResultKind.KCT_PARTIAL
    world.clock.advance(timedelta(minutes=15))  # the second one only a quarter of an hour later
    assert meter.enter_token(kc.tokens[1]).kind is ResultKind.KCT_PARTIAL
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(sale.token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.KEY_CHANGE_NEEDED and d.next_steps[0].tokens == kc.tokens
    # a lone staged section would complete the set early and make the next KCT fail: the
    # step says to restart the meter (00) first, which forgets staged sections
    assert "00" in d.next_steps[0].text.en and "restart" in d.next_steps[0].text.en
    assert meter.key_in("00").kind is ResultKind.CODE
    for kct in d.next_steps[0].tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT


def test_clear_credit_for_a_register_the_meter_does_not_have(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    with pytest.raises(VendingError):  # vending refuses it now; another system's token may still come
        world.service.clear_credit(OPERATOR, BUDI.meter_number, "water register", register=1)
    key = world.service.meter_key(BUDI.meter_number, actor="test", purpose="foreign vendor").decoder_key
    token = sts.encode(sts.ClearCredit(tid=max(meter.state.tid_memory) + 1, register=1), key)
    assert meter.enter_token(token).kind is ResultKind.RANGE_ERROR
    d = world.diagnose(BUDI.meter_number, token, "GAGAL")
    assert d.cause is not Cause.NO_FAULT_FOUND
    assert d.ticket_needed and "register" in d.explanation.en


def test_test_token_for_another_manufacturer(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    token = sts.encode(sts.MeterTestDisplay(control=0, manufacturer_code=99), ANY_KEY)
    assert meter.enter_token(token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, token, "GAGAL")
    assert d.cause is Cause.NOT_A_TOKEN
    assert "test" in d.explanation.en and "99" in d.explanation.en


def test_test_token_for_this_meter_adds_no_credit(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    own = sts.meter_number.manufacturer_code(BUDI.meter_number)
    token = sts.encode(sts.MeterTestDisplay(control=0, manufacturer_code=own), ANY_KEY)
    assert meter.enter_token(token).kind is ResultKind.TEST_DISPLAY
    d = world.diagnose(BUDI.meter_number, token)
    assert d.cause is Cause.NOT_A_TOKEN and "test" in d.explanation.en and "no credit" in d.explanation.en


@pytest.mark.parametrize("swap", [("0", "O"), ("1", "l"), ("1", "I"), ("0", "o")])
def test_letters_that_look_like_digits_in_a_chat_message(world: World, swap: tuple[str, str]) -> None:
    world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    digit, letter = swap
    token = sale.token
    if digit not in token:
        pytest.skip("no such digit in this token")
    typed = token.replace(digit, letter, 1)
    d = world.diagnose(BUDI.meter_number, typed)
    assert d.cause is Cause.NO_FAULT_FOUND
    assert any("letter" in e.fact for e in d.evidence)


def test_typo_found_while_the_keypad_is_locked_mentions_the_lock(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    typed = sale.token[:6] + str((int(sale.token[6]) + 1) % 10) + sale.token[7:]
    for _ in range(3):
        assert meter.enter_token(typed).kind is ResultKind.REJECT
    assert meter.enter_token(sale.token).kind is ResultKind.LOCKED
    d = world.diagnose(BUDI.meter_number, typed, "TERKUNCI")
    assert d.cause is Cause.TYPO and d.candidates[0].digits == sale.token
    assert any("locked" in f.en for f in d.other_findings)
    world.clock.advance(timedelta(minutes=2))
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT


def test_token_pasted_from_an_sms_with_words_around_it(world: World) -> None:
    world.meter(BUDI.meter_number)
    sale = world.buy(BUDI.meter_number)
    t = sale.token
    grouped = "-".join(t[i : i + 4] for i in range(0, 20, 4))
    d = world.diagnose(BUDI.meter_number, f"Token PLN Anda: {grouped} (12,6 kWh) IDPEL {BUDI.idpel}")
    assert d.cause is Cause.NO_FAULT_FOUND
    assert any("pasted" in e.fact for e in d.evidence)
    two = world.diagnose(BUDI.meter_number, f"token {grouped} atau {grouped[::-1]}")
    assert two.cause is Cause.NOT_A_TOKEN  # two tokens in one message: ask which


def test_tamper_with_a_pending_key_change_tells_the_officer_to_enter_the_kcts_first(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    kc = world.key_change(BUDI.meter_number, "KRN update")  # never entered
    meter.tamper(TamperCause.COVER_OPEN_POWER_ON)
    d = world.diagnose(BUDI.meter_number, display="PERIKSA")
    assert d.cause is Cause.TAMPER and d.ticket_needed
    note = next(f for f in d.other_findings if "KCT" in f.en)
    assert all(" ".join(k[i : i + 4] for i in range(0, 20, 4)) in note.en for k in kc.tokens)
    tickets = world.tickets()
    t = tickets.open(channel="cc123", identifier=BUDI.meter_number, actor="agent1", diagnosis=d)
    tickets.assign(t.number, "teknisi-andi", "spv1")
    tickets.record_inspection(t.number, "tutup terminal terbuka, dipasang lagi", installation_ok=True,
                              actor="teknisi-andi")  # fmt: skip
    (clear,) = tickets.clear_tamper(t.number, OPERATOR)
    assert meter.enter_token(clear).kind is ResultKind.REJECT  # made with the new key
    for kct in kc.tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(clear).kind is ResultKind.ACCEPT and meter.state.tamper is None


def test_officers_token_for_another_meter(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    (clear,) = world.service.clear_tamper(OPERATOR, SITI.meter_number, "inspected").tokens
    assert meter.enter_token(clear).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, clear, "GAGAL")
    assert d.cause is Cause.WRONG_METER
    masked = SITI.meter_number[:3] + "*****" + SITI.meter_number[-3:]
    assert masked in d.explanation.en and "IDPEL  " not in d.explanation.en and "IDPEL ()" not in d.explanation.en
    assert SITI.idpel not in d.explanation.en and "officer" in d.explanation.en
    assert d.next_steps[0].action is Action.CONTACT_123


def test_the_meter_is_read_as_it_is_now_not_as_last_saved(world: World) -> None:
    """A running load keeps drawing after the last key press: OVER is judged on today's credit."""
    from prabayar.meter import MeterSettings

    meter = world.meter(BUDI.meter_number, MeterSettings(credit_max_kwh=Decimal(100)))
    first = world.buy(BUDI.meter_number, 100_000)
    assert meter.enter_token(first.token).kind is ResultKind.ACCEPT  # ~63 kWh
    meter.set_load(3000)  # saved now; nobody touches the meter for 12 hours
    world.clock.advance(timedelta(hours=12))  # 36 kWh drawn: ~27 kWh left
    second = world.buy(BUDI.meter_number, 100_000)
    d = world.diagnose(BUDI.meter_number, second.token)
    assert d.cause is Cause.NO_FAULT_FOUND, d.evidence
    assert meter.enter_token(second.token).kind is ResultKind.ACCEPT


def test_two_key_changes_issued_and_none_taken_one_set_bridges_both(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    krn = meter.state.params.krn
    world.service.generate_vending_key("admin", meter.state.params.sgc, krn % 9 + 2)
    first = world.key_change(BUDI.meter_number, "KRN update")
    world.key_change(BUDI.meter_number, "KRN update again")
    sale = world.buy(BUDI.meter_number)
    assert meter.enter_token(first.tokens[1]).kind is ResultKind.KCT_PARTIAL  # half of the old set
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.KEY_CHANGE_NEEDED
    assert meter.key_in("00").kind is ResultKind.CODE  # as the step says
    for kct in d.next_steps[0].tokens:  # from the key the meter has straight to vending's
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT


def test_tamper_and_a_typo_in_the_same_entry(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    meter.tamper(TamperCause.REVERSE_CURRENT)
    sale = world.buy(BUDI.meter_number)
    typed = sale.token[:3] + str((int(sale.token[3]) + 5) % 10) + sale.token[4:]
    d = world.diagnose(BUDI.meter_number, typed, "GAGAL")
    assert d.cause is Cause.TAMPER and d.ticket_needed  # the latch comes first
    assert [c.digits for c in d.candidates] == [sale.token]  # and the typo is named now
    assert any("typing error" in f.en for f in d.other_findings)


def test_a_typo_that_makes_the_value_too_large_still_finds_every_kind_of_token(world: World) -> None:
    """A first digit typed as 9 always gives a value >= 2**66: the same searches must run."""
    meter = world.meter(BUDI.meter_number)
    neighbours = world.buy(SITI.meter_number)
    d = world.diagnose(BUDI.meter_number, "9" + neighbours.token[1:], "GAGAL")
    assert d.cause is Cause.WRONG_METER
    kept = world.buy(BUDI.meter_number)
    world.clock.advance(timedelta(hours=1))
    for kct in world.key_change(BUDI.meter_number, "KRN update").tokens:
        meter.enter_token(kct)
    d2 = world.diagnose(BUDI.meter_number, "9" + kept.token[1:], "GAGAL")
    assert d2.cause is Cause.KEY_CHANGED_SINCE_SALE and [c.digits for c in d2.candidates] == [kept.token]


@pytest.mark.parametrize("display", ["TERKUNCI", "Loc Out 60", "LOCKED OUT"])
def test_locked_display_on_a_real_meter(world: World, display: str) -> None:
    sale = world.buy(BUDI.meter_number)  # no emulated meter: only the words reported
    d = world.diagnose(BUDI.meter_number, sale.token, display)
    assert d.cause is Cause.NO_FAULT_FOUND and not d.ticket_needed
    assert "LOCKED" in d.explanation.en and d.next_steps[0].action is Action.RETRY_ENTRY
