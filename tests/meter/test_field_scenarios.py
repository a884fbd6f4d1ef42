"""Field scenarios: what a PLN customer or technician meets at a real meter, end to end.

Each story uses tokens made by ``prabayar.sts`` for the meter's own key (as vending would) and
checks what a faithful meter must show and keep: the display, the result kind, the credit, the
wrong-entry counter, and that the state survives a restart and a reload of the state file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from prabayar import sts
from prabayar.meter import (
    AesGcmBox,
    Meter,
    MeterSettings,
    RelayState,
    ResultKind,
    StateFile,
    TamperCause,
)

from .conftest import MakeRig, Rig, params_for

NEW_STA = sts.DecoderKey.from_hex("060b8643c59a27f1")
OTHER_STA = sts.DecoderKey.from_hex("1122334455667788")


def reload(rig: Rig, box: AesGcmBox) -> None:
    """The meter loses power and comes back from its state file."""
    assert rig.meter.store is not None
    rig.meter = Meter.open(StateFile(rig.meter.store.path, box), rig.clock)


# -- OLD, USED across restarts ---------------------------------------------------------------


def test_a_token_kept_while_fifty_later_tokens_were_entered_is_old(rig: Rig) -> None:
    kept = rig.credit("10")  # bought, put in a drawer
    later = [rig.credit("1") for _ in range(50)]
    for digits in later[:49]:
        assert rig.enter(digits).kind is ResultKind.ACCEPT
    # after 49 later tokens the memory still reaches back to it
    assert min(rig.meter.state.tid_memory) < sts.decode(kept, rig.key).tid  # type: ignore[attr-defined]
    assert rig.enter(later[49]).kind is ResultKind.ACCEPT
    before = rig.meter.state.credit_kwh
    old = rig.enter(kept)
    assert (old.kind, old.lines_id[0], old.lines_en[0]) == (ResultKind.OLD, "OLD", "OLD")
    assert old.credit_kwh == before and old.kwh_added is None
    assert rig.meter.state.wrong_entries == 0  # a genuine token: not a wrong entry


def test_a_token_kept_while_49_later_tokens_were_entered_still_works(rig: Rig) -> None:
    kept = rig.credit("10")
    for _ in range(49):
        rig.enter(rig.credit("1"))
    assert rig.enter(kept).kind is ResultKind.ACCEPT
    assert rig.meter.state.credit_kwh == Decimal("59")


def test_used_token_stays_used_after_restart_and_after_reload(make_rig: MakeRig, tmp_path, box: AesGcmBox) -> None:
    store = StateFile(tmp_path / "m.json", box)
    rig = make_rig(store=store)
    digits = rig.credit("20")
    assert rig.enter(digits).kind is ResultKind.ACCEPT
    assert rig.meter.restart().kind is ResultKind.CODE
    assert rig.enter(digits).kind is ResultKind.USED
    reload(rig, box)
    again = rig.enter(digits)
    assert again.kind is ResultKind.USED and again.credit_kwh == Decimal(20)
    shown = rig.meter.key_in("54").lines_en
    assert any(digits in line.replace(" ", "") for line in shown)


def test_a_token_bought_before_a_key_change_is_refused_after_it(rig: Rig) -> None:
    bought_earlier = rig.credit("15")
    new_params = params_for(krn=2)
    for kct in rig.key_change(NEW_STA, new_params):
        rig.enter(kct)
    assert rig.meter.state.params.krn == 2
    result = rig.enter(bought_earlier)
    assert (result.kind, result.reason) == (ResultKind.REJECT, "crc")
    assert result.credit_kwh == 0


# -- key change sets ---------------------------------------------------------------------------


def test_key_change_interrupted_by_a_credit_token_still_completes(rig: Rig) -> None:
    first, second = rig.key_change(NEW_STA, params_for(krn=2))
    assert rig.enter(second).kind is ResultKind.KCT_PARTIAL
    assert rig.enter(rig.credit("5")).kind is ResultKind.ACCEPT  # under the old key
    assert rig.enter(first).kind is ResultKind.KEY_CHANGED
    assert rig.meter.state.key == NEW_STA


def test_timed_out_key_change_leaves_the_old_key_and_new_tokens_fail(rig: Rig) -> None:
    new_params = params_for(krn=2)
    first, second = rig.key_change(NEW_STA, new_params)
    rig.enter(first)
    rig.clock.advance(timedelta(minutes=30))
    assert rig.enter(second).kind is ResultKind.KCT_PARTIAL
    rig.switch_key(NEW_STA, new_params)
    assert rig.enter(rig.credit("5")).reason == "crc"
    assert rig.meter.state.key.reveal().hex() == "e653341f9d5bf36f"
    # entering the first section again within the window finishes the set
    assert rig.enter(first).kind is ResultKind.KEY_CHANGED
    assert rig.meter.state.key == NEW_STA


def test_a_section_from_another_set_installs_a_mixed_key(rig: Rig) -> None:
    """STS sections carry no set identifier: a meter cannot tell two sets apart (SPEC 9)."""
    set_a = rig.key_change(NEW_STA, params_for(krn=2))
    set_b = rig.key_change(OTHER_STA, params_for(krn=3))
    rig.enter(set_a[0])
    done = rig.enter(set_b[1])
    assert done.kind is ResultKind.KEY_CHANGED
    mixed = rig.meter.state.key.reveal()
    assert mixed not in (NEW_STA.reveal(), OTHER_STA.reveal())
    assert mixed[:4] == NEW_STA.reveal()[:4] and mixed[4:] == OTHER_STA.reveal()[4:]


def test_the_same_section_twice_keeps_the_newest(rig: Rig) -> None:
    set_a = rig.key_change(NEW_STA, params_for(krn=2))
    set_b = rig.key_change(OTHER_STA, params_for(krn=3))
    rig.enter(set_a[0])
    again = rig.enter(set_b[0])
    assert again.kind is ResultKind.KCT_PARTIAL and again.kct_sections == (1,)
    assert rig.enter(set_b[1]).kind is ResultKind.KEY_CHANGED
    assert rig.meter.state.key == OTHER_STA and rig.meter.state.params.krn == 3


def test_a_key_change_set_entered_twice_is_rejected_the_second_time(rig: Rig) -> None:
    kcts = rig.key_change(NEW_STA, params_for(krn=2))
    for kct in kcts:
        rig.enter(kct)
    again = rig.enter(kcts[0])  # encrypted under the key the meter no longer has
    assert (again.kind, again.reason) == (ResultKind.REJECT, "crc")
    assert rig.meter.state.key == NEW_STA


def rollover_rig(make_rig: MakeRig) -> Rig:
    params = params_for(base_date=sts.BaseDate.Y1993, dkga=sts.Dkga.DKGA02)
    return make_rig(params=params, start=datetime(2024, 11, 1, tzinfo=UTC))


def test_after_rollover_tokens_entered_out_of_order_are_both_accepted(make_rig: MakeRig) -> None:
    """The rollover empties the TID memory; an emptied memory cannot call anything OLD."""
    rig = rollover_rig(make_rig)
    rig.clock.advance(timedelta(days=25))
    new_params = params_for(base_date=sts.BaseDate.Y2014, krn=2)
    kcts = rig.key_change(NEW_STA, new_params, rollover=True)
    rig.switch_key(NEW_STA, new_params)
    earlier = rig.credit("5")  # bought with the KCTs, typed in last
    rig.clock.advance(timedelta(hours=1))
    later = rig.credit("7")
    for kct in kcts:
        rig.enter(kct)
    assert rig.enter(later).kind is ResultKind.ACCEPT
    result = rig.enter(earlier)
    assert result.kind is ResultKind.ACCEPT and result.credit_kwh == Decimal(12)
    assert rig.enter(earlier).kind is ResultKind.USED


def test_after_rollover_the_memory_fills_and_then_old_works_again(make_rig: MakeRig) -> None:
    rig = rollover_rig(make_rig)
    rig.clock.advance(timedelta(days=25))
    new_params = params_for(base_date=sts.BaseDate.Y2014, krn=2)
    for kct in rig.key_change(NEW_STA, new_params, rollover=True):
        rig.enter(kct)
    rig.switch_key(NEW_STA, new_params)
    kept = rig.credit("3")
    for _ in range(50):
        assert rig.enter(rig.credit("1")).kind is ResultKind.ACCEPT
    assert rig.enter(kept).kind is ResultKind.OLD


def test_rollover_then_an_old_token_replayed_is_rejected(make_rig: MakeRig) -> None:
    rig = rollover_rig(make_rig)
    used = rig.credit("10")
    unused = rig.credit("4")
    assert rig.enter(used).kind is ResultKind.ACCEPT
    rig.clock.advance(timedelta(days=25))
    for kct in rig.key_change(NEW_STA, params_for(base_date=sts.BaseDate.Y2014, krn=2), rollover=True):
        rig.enter(kct)
    for replay in (used, unused):
        r = rig.enter(replay)
        assert (r.kind, r.reason) == (ResultKind.REJECT, "crc") and r.credit_kwh == Decimal(10)


# -- tamper ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cause", list(TamperCause))
def test_each_tamper_cause_blocks_credit_until_clear_tamper(rig: Rig, cause: TamperCause) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.tamper(cause)
    assert rig.meter.key_in("08").lines_en[-1].startswith(f"Tamper {int(cause)}")
    assert "PERIKSA" in rig.meter.status().lines_id
    credit = rig.credit("5")
    refused = rig.enter(credit)
    assert (refused.kind, refused.lines_id[0]) == (ResultKind.TAMPER, "PERIKSA")
    assert refused.credit_kwh == Decimal(10) and rig.meter.state.wrong_entries == 0
    power = rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=2200))
    assert rig.enter(power).kind is ResultKind.TAMPER
    kcts = rig.key_change(NEW_STA, params_for(krn=2))
    assert rig.enter(kcts[0]).kind is ResultKind.KCT_PARTIAL  # key change passes (settings)
    rig.meter.restart()
    test = sts.encode(
        sts.MeterTestDisplay(control=0, manufacturer_code=sts.meter_number.manufacturer_code("01234567897")),
        rig.key,
    )
    assert rig.enter(test).kind is ResultKind.TEST_DISPLAY
    cleared = rig.enter(rig.encode(sts.ClearTamper(tid=rig.next_tid())))
    assert cleared.kind is ResultKind.ACCEPT and rig.meter.state.tamper is None
    # the token refused during the tamper was not spent: it works now
    accepted = rig.enter(credit)
    assert accepted.kind is ResultKind.ACCEPT and accepted.credit_kwh == Decimal(15)


def test_tamper_survives_restart_and_reload(make_rig: MakeRig, tmp_path, box: AesGcmBox) -> None:
    rig = make_rig(store=StateFile(tmp_path / "m.json", box))
    rig.meter.tamper(TamperCause.MAGNET)
    rig.meter.restart()
    reload(rig, box)
    assert rig.enter(rig.credit("5")).kind is ResultKind.TAMPER
    assert rig.meter.key_in("08").lines_en[-1].startswith("Tamper 8")


def test_clear_credit_while_tampered_empties_the_register_and_keeps_the_latch(rig: Rig) -> None:
    rig.enter(rig.credit("10"))
    rig.meter.tamper(TamperCause.BYPASS)
    r = rig.enter(rig.encode(sts.ClearCredit(tid=rig.next_tid(), register=0)))
    assert r.kind is ResultKind.ACCEPT and r.credit_kwh == 0
    assert rig.meter.state.tamper is TamperCause.BYPASS
    assert rig.meter.state.relay is RelayState.OPEN_NO_CREDIT


# -- registers and limits ----------------------------------------------------------------------


def test_over_at_the_register_maximum(make_rig: MakeRig) -> None:
    rig = make_rig(settings=MeterSettings(credit_max_kwh=Decimal("100.0")))
    assert rig.enter(rig.credit("60")).kind is ResultKind.ACCEPT
    exact = rig.enter(rig.credit("40"))  # exactly the maximum is allowed
    assert exact.kind is ResultKind.ACCEPT and exact.credit_kwh == Decimal(100)
    over_token = rig.credit("0.1")
    over = rig.enter(over_token)
    assert (over.kind, over.lines_id[0], over.credit_kwh) == (ResultKind.OVER, "OVER", Decimal(100))
    assert rig.meter.state.wrong_entries == 0
    # after using some energy the same token is accepted (it was not spent)
    rig.meter.set_load(1000)
    rig.clock.advance(timedelta(hours=1))
    assert rig.enter(over_token).kind is ResultKind.ACCEPT


@pytest.mark.parametrize(("register", "kind"), [(0, ResultKind.ACCEPT), (0xFFFF, ResultKind.ACCEPT),
                                                 (1, ResultKind.RANGE_ERROR), (2, ResultKind.RANGE_ERROR)])  # fmt: skip
def test_clear_credit_by_register(rig: Rig, register: int, kind: ResultKind) -> None:
    rig.enter(rig.credit("10"))
    r = rig.enter(rig.encode(sts.ClearCredit(tid=rig.next_tid(), register=register)))
    assert r.kind is kind
    assert r.credit_kwh == (0 if kind is ResultKind.ACCEPT else Decimal(10))


def test_power_limit_then_load_above_and_below(rig: Rig) -> None:
    rig.enter(rig.credit("50"))
    rig.meter.set_load(800)
    r = rig.enter(rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=1300)))
    assert r.kind is ResultKind.ACCEPT and rig.meter.state.relay is RelayState.CLOSED
    rig.meter.set_load(2000)
    assert rig.meter.state.relay is RelayState.TRIPPED_OVERLOAD
    assert "BEBAN LEBIH" in rig.meter.status().lines_id
    rig.clock.advance(timedelta(minutes=5))  # still too much: it keeps tripping, draws nothing
    assert rig.meter.status().relay is RelayState.TRIPPED_OVERLOAD
    assert rig.meter.state.credit_kwh == Decimal(50)
    rig.meter.set_load(1000)
    rig.clock.advance(timedelta(minutes=2))
    assert rig.meter.status().relay is RelayState.CLOSED
    r0 = rig.enter(rig.encode(sts.SetMaximumPowerLimit(tid=rig.next_tid(), watts=0)))
    assert r0.kind is ResultKind.ACCEPT and rig.meter.state.power_limit_watts is None
    rig.meter.set_load(5000)
    assert rig.meter.state.relay is RelayState.CLOSED


# -- lockout -----------------------------------------------------------------------------------


def test_lockout_escalates_survives_reload_and_expires(make_rig: MakeRig, tmp_path, box: AesGcmBox) -> None:
    rig = make_rig(store=StateFile(tmp_path / "m.json", box))
    wrong = "1234 5678 9012 3456 7890"
    rig.enter(wrong)
    rig.enter(wrong)
    third = rig.enter(wrong)
    assert third.lockout_remaining == timedelta(seconds=60)
    assert third.lines_id[-1] == "TERKUNCI 60 detik"
    good = rig.credit("5")
    rig.meter.restart()
    reload(rig, box)
    rig.clock.advance(timedelta(seconds=20))
    locked = rig.enter(good)
    assert (locked.kind, locked.lines_id) == (ResultKind.LOCKED, ("TERKUNCI", "Tunggu 40 detik"))
    assert locked.credit_kwh == 0
    rig.clock.advance(timedelta(seconds=41))
    fourth = rig.enter(wrong)
    assert fourth.lockout_remaining == timedelta(seconds=120)
    for expected in (240, 480, 960, 1280, 1280):
        rig.clock.advance(timedelta(seconds=1281))
        assert rig.enter(wrong).lockout_remaining == timedelta(seconds=expected)
    rig.clock.advance(timedelta(seconds=1281))
    assert rig.enter(good).kind is ResultKind.ACCEPT
    assert rig.meter.state.wrong_entries == 0 and rig.meter.status().lockout_remaining is None


# -- what people type --------------------------------------------------------------------------


def test_test_token_of_another_manufacturer_is_a_wrong_entry(rig: Rig) -> None:
    other = sts.encode(sts.MeterTestDisplay(control=0, manufacturer_code=99), rig.key)
    r = rig.enter(other)
    assert (r.kind, r.reason) == (ResultKind.REJECT, "mfr_code")
    assert rig.meter.state.wrong_entries == 1


@pytest.mark.parametrize("sep", [" ", "-", ".", "  ", " - "])
def test_token_typed_with_separators_is_accepted(rig: Rig, sep: str) -> None:
    digits = rig.credit("2")
    typed = sep.join(digits[i : i + 4] for i in range(0, 20, 4))
    assert rig.meter.key_in(typed).kind is ResultKind.ACCEPT


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d[:19], "length"),
        (lambda d: d + "5", "length"),
        (lambda d: d[:16], "length"),
        (lambda d: d[:10] + "O" + d[11:], "format"),
        (lambda d: d[:5] + "x" + d[5:19], "format"),
    ],
)
def test_wrong_length_or_letters_are_wrong_entries_and_change_nothing(rig: Rig, make, reason: str) -> None:
    digits = rig.credit("3")
    r = rig.meter.key_in(make(digits))
    assert (r.kind, r.reason) == (ResultKind.REJECT, reason)
    assert r.credit_kwh == 0 and rig.meter.state.wrong_entries == 1
    assert rig.enter(digits).kind is ResultKind.ACCEPT  # the real token is still good


def test_the_meter_number_typed_as_a_token_is_a_wrong_entry(rig: Rig) -> None:
    r = rig.meter.key_in("0123 4567 897")
    assert (r.kind, r.reason) == (ResultKind.REJECT, "length")


def test_a_token_made_with_no_key_this_meter_knows(rig: Rig) -> None:
    foreign = sts.encode(sts.ElectricityCredit(tid=rig.next_tid(), amount=Decimal(10)), OTHER_STA)
    r = rig.enter(foreign)
    assert (r.kind, r.reason, r.credit_kwh) == (ResultKind.REJECT, "crc", 0)


def test_after_rollover_the_emptied_memory_survives_a_reload(make_rig: MakeRig, tmp_path, box: AesGcmBox) -> None:
    params = params_for(base_date=sts.BaseDate.Y1993, dkga=sts.Dkga.DKGA02)
    rig = make_rig(params=params, start=datetime(2024, 11, 1, tzinfo=UTC), store=StateFile(tmp_path / "m.json", box))
    rig.clock.advance(timedelta(days=25))
    new_params = params_for(base_date=sts.BaseDate.Y2014, krn=2)
    for kct in rig.key_change(NEW_STA, new_params, rollover=True):
        rig.enter(kct)
    reload(rig, box)
    assert rig.meter.state.tid_memory == [] and rig.meter.state.params.base_date is sts.BaseDate.Y2014
    rig.switch_key(NEW_STA, new_params)
    assert rig.enter(rig.credit("5")).kind is ResultKind.ACCEPT
