"""Key change tokens: 2 or 4 sections in any order, timeout, rollover, CTS vector sets."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from prabayar import sts
from prabayar.meter import MeterSettings, ResultKind, TamperCause

from .conftest import CTS_MISTY1_KEY, MakeRig, Rig, load_vectors, params_for

NEW_STA = sts.DecoderKey.from_hex("060b8643c59a27f1")
NEW_MISTY1 = sts.DecoderKey.from_hex("b2088343" + "11" * 12)


def kct_sets() -> list[tuple[str, list[dict[str, Any]]]]:
    """Complete key change sets from the shared CTS vectors, grouped by test step."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for v in load_vectors():
        if v["kind"] == "token_generation" and "SectionDecoderKey" in v.get("token_type", ""):
            test, step = v["id"].rsplit(".", 1)
            groups[(test, step[:5], v["decoder_key_hex"])].append(v)
    complete = []
    for (test, step, _), items in sorted(groups.items()):
        need = 2 if items[0]["encryption"].startswith("EA07") else 4
        if len({v["fields"]["subclass"] for v in items}) == need == len(items):
            complete.append((f"{'_'.join(test.split('_')[-2:])}.{step}", items))
    return complete


@pytest.mark.parametrize(("name", "items"), kct_sets(), ids=[n for n, _ in kct_sets()])
def test_cts_key_change_sets_install_the_new_key(make_rig: MakeRig, name: str, items: list[dict[str, Any]]) -> None:
    key = sts.DecoderKey.from_hex(items[0]["decoder_key_hex"])
    rig = make_rig(
        key_hex=items[0]["decoder_key_hex"],
        params=params_for(key.algorithm, base_date=sts.BaseDate.Y1993),
        start=datetime(2010, 1, 1, tzinfo=UTC),
    )
    items = sorted(items, key=lambda v: -v["fields"]["subclass"])  # last section first
    results = [rig.enter(v["expected"]["token_20_digits"]) for v in items]
    assert all(r.kind is ResultKind.KCT_PARTIAL for r in results[:-1])
    assert results[-1].kind is ResultKind.KEY_CHANGED, results[-1]
    assert rig.meter.state.key.reveal().hex() == items[0]["new_decoder_key_hex"]
    first = next(v for v in items if v["fields"]["subclass"] == 3)["fields"]
    assert rig.meter.state.params.krn == first["krn"]
    assert rig.meter.state.params.key_type == first["kt"]
    rolled = bool(first["ro"])
    assert rig.meter.state.params.base_date is (sts.BaseDate.Y2014 if rolled else sts.BaseDate.Y1993)


def test_cts_vectors_hold_both_kinds_of_set() -> None:
    sizes = {len(items) for _, items in kct_sets()}
    assert sizes == {2, 4}


def test_two_sections_in_either_order(rig: Rig) -> None:
    new_params = params_for(krn=2, ken=200, tariff_index="07")
    first, second = rig.key_change(NEW_STA, new_params)
    partial = rig.enter(second)
    assert partial.kind is ResultKind.KCT_PARTIAL
    assert partial.lines_id == ("2nd KCT", "Masukkan token berikutnya")
    assert partial.lines_en[0] == "2nd KCT" and partial.kct_sections == (2,)
    assert rig.meter.status().kct_sections == (2,)
    done = rig.enter(first)
    assert done.kind is ResultKind.KEY_CHANGED and done.lines_id == ("BENAR", "Kunci baru KRN 2")
    p = rig.meter.state.params
    assert (p.krn, p.ken, p.tariff_index, p.sgc) == (2, 200, "07", "123456")
    assert rig.meter.state.kct_sections == {}
    old_key_token = rig.credit("5")
    assert rig.enter(old_key_token).reason == "crc"
    rig.switch_key(NEW_STA, new_params)
    assert rig.enter(rig.credit("5")).kind is ResultKind.ACCEPT


def test_four_sections_for_a_128_bit_key_any_order(make_rig: MakeRig) -> None:
    rig = make_rig(key_hex=CTS_MISTY1_KEY)
    new_params = params_for(sts.EncryptionAlgorithm.MISTY1, sgc="654321", krn=3)
    kcts = rig.key_change(NEW_MISTY1, new_params)
    shown = [rig.enter(kcts[i]).lines_en[0] for i in (3, 1, 2)]
    assert shown == ["4th KCT", "2nd KCT", "3rd KCT"]
    assert rig.meter.status().kct_sections == (2, 3, 4)
    assert rig.enter(kcts[0]).kind is ResultKind.KEY_CHANGED
    assert rig.meter.state.key == NEW_MISTY1
    assert rig.meter.state.params.sgc == "654321" and rig.meter.state.params.krn == 3


def test_sections_are_forgotten_after_the_timeout(rig: Rig) -> None:
    first, second = rig.key_change(NEW_STA, params_for(krn=2))
    rig.enter(first)
    rig.clock.advance(timedelta(minutes=10, seconds=1))
    late = rig.enter(second)
    assert late.kind is ResultKind.KCT_PARTIAL and late.kct_sections == (2,)
    assert any(e.kind == "kct_timeout" for e in rig.meter.state.events)
    assert rig.meter.state.key.reveal().hex() == "e653341f9d5bf36f"


def test_sections_within_the_timeout_complete(rig: Rig) -> None:
    first, second = rig.key_change(NEW_STA, params_for(krn=2))
    rig.enter(first)
    rig.clock.advance(timedelta(minutes=9))
    assert rig.enter(second).kind is ResultKind.KEY_CHANGED


def test_restart_drops_staged_sections(rig: Rig) -> None:
    first, second = rig.key_change(NEW_STA, params_for(krn=2))
    rig.enter(first)
    rig.meter.restart()
    assert rig.enter(second).kind is ResultKind.KCT_PARTIAL


def test_128_bit_sections_on_a_64_bit_meter_are_refused(rig: Rig) -> None:
    third = rig.encode(sts.KeyChange3(sgc_low=1, key_mid2=5))
    result = rig.enter(third)
    assert result.kind is ResultKind.FUNCTION_ERROR and rig.meter.state.kct_sections == {}


def test_common_key_type_is_a_key_type_error(rig: Rig) -> None:
    bad = sts.KeyChange1(ken_high=15, krn=2, key_type=int(sts.KeyType.DCTK), key_high=1)
    result = rig.enter(rig.encode(bad))
    assert result.kind is ResultKind.KEY_TYPE_ERROR and rig.meter.state.kct_sections == {}


def test_krn_out_of_range_is_a_range_error(rig: Rig) -> None:
    bad = sts.KeyChange1(ken_high=15, krn=0, key_type=2, key_high=1)
    assert rig.enter(rig.encode(bad)).kind is ResultKind.RANGE_ERROR


def test_tariff_index_out_of_range_is_a_range_error(rig: Rig) -> None:
    bad = sts.KeyChange2(ken_low=15, tariff_index=150, key_low=1)
    assert rig.enter(rig.encode(bad)).kind is ResultKind.RANGE_ERROR


def test_key_change_refused_while_tampered_in_strict_mode(make_rig: MakeRig) -> None:
    rig = make_rig(settings=MeterSettings(key_change_in_tamper=False))
    rig.meter.tamper(TamperCause.BYPASS)
    first, _ = rig.key_change(NEW_STA, params_for(krn=2))
    assert rig.enter(first).kind is ResultKind.TAMPER


def test_key_change_passes_a_tamper_latch_by_default(rig: Rig) -> None:
    """Vending issues its clear-tamper token with the new key: the KCTs must get through first."""
    rig.meter.tamper(TamperCause.BYPASS)
    new_params = params_for(krn=2)
    kcts = rig.key_change(NEW_STA, new_params)
    rig.switch_key(NEW_STA, new_params)
    clear = rig.encode(sts.ClearTamper(tid=rig.next_tid()))
    assert rig.enter(clear).reason == "crc"  # made with the key the meter does not have yet
    assert [rig.enter(k).kind for k in kcts] == [ResultKind.KCT_PARTIAL, ResultKind.KEY_CHANGED]
    assert rig.meter.state.tamper is TamperCause.BYPASS  # still latched
    assert rig.enter(rig.credit("5")).kind is ResultKind.TAMPER
    assert rig.enter(clear).kind is ResultKind.ACCEPT and rig.meter.state.tamper is None


def rollover_rig(make_rig: MakeRig) -> Rig:
    params = params_for(base_date=sts.BaseDate.Y1993, dkga=sts.Dkga.DKGA02)
    return make_rig(params=params, start=datetime(2024, 11, 1, tzinfo=UTC))


def test_tid_rollover_moves_base_date_and_clears_tid_memory(make_rig: MakeRig) -> None:
    rig = rollover_rig(make_rig)
    old_token = rig.credit("10")
    assert rig.enter(old_token).kind is ResultKind.ACCEPT
    rig.clock.advance(timedelta(days=25))  # past 24 Nov 2024 20:15: no more 1993 TIDs
    with pytest.raises(sts.TidRolloverError):
        rig.credit("1")
    new_params = params_for(base_date=sts.BaseDate.Y2014, krn=2)
    kcts = rig.key_change(NEW_STA, new_params, rollover=True)
    assert rig.enter(kcts[0]).kind is ResultKind.KCT_PARTIAL
    done = rig.enter(kcts[1])
    assert done.kind is ResultKind.KEY_CHANGED and done.lines_en[-1] == "Base date 2014"
    state = rig.meter.state
    # a KCT carries no DKGA: the DKGA02 meter keeps its label until the head end says otherwise
    assert state.params.base_date is sts.BaseDate.Y2014 and state.params.dkga is sts.Dkga.DKGA02
    rig.meter.relabel_dkga(sts.Dkga.DKGA04)
    assert rig.meter.state.params.dkga is sts.Dkga.DKGA04 and rig.meter.state.events[-1].kind == "key_relabelled"
    assert state.tid_memory == []
    assert rig.enter(old_token).reason == "crc"  # the replay fails: the key changed too
    rig.switch_key(NEW_STA, new_params)
    accepted = rig.enter(rig.credit("20"))
    assert accepted.kind is ResultKind.ACCEPT and accepted.credit_kwh == Decimal(30)


def test_rollover_without_a_new_key_is_refused(make_rig: MakeRig) -> None:
    rig = rollover_rig(make_rig)
    kcts = rig.key_change(rig.key, params_for(base_date=sts.BaseDate.Y2014), rollover=True)
    rig.enter(kcts[0])
    refused = rig.enter(kcts[1])
    assert (refused.kind, refused.reason) == (ResultKind.KEY_TYPE_ERROR, "rollover_same_key")
    assert rig.meter.state.params.base_date is sts.BaseDate.Y1993
    assert set(rig.meter.state.kct_sections) == {3}  # the refused set left staging as it was


def test_no_rollover_past_the_last_base_date(make_rig: MakeRig) -> None:
    rig = make_rig(params=params_for(base_date=sts.BaseDate.Y2035), start=datetime(2040, 1, 1, tzinfo=UTC))
    kcts = rig.key_change(NEW_STA, params_for(base_date=sts.BaseDate.Y2035), rollover=True)
    result = rig.enter(kcts[0])
    assert (result.kind, result.reason) == (ResultKind.RANGE_ERROR, "no_later_base_date")
