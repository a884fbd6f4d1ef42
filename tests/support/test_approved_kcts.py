"""KCTs that were issued and approved are handed to the customer again without a new approval."""

from __future__ import annotations

from prabayar.meter import ResultKind
from prabayar.support.result import Cause

from .conftest import BUDI, World


def test_an_approved_kct_set_is_handed_out_again_without_a_new_request(world: World) -> None:
    meter = world.meter(BUDI.meter_number)
    approved = world.key_change(BUDI.meter_number, "KRN update")  # asked by admin, approved by supervisor
    assert approved.checker == "supervisor" and len(approved.tokens) == 2
    sale = world.buy(BUDI.meter_number)  # sold under the new key; the KCTs were never entered
    assert meter.enter_token(sale.token).kind is ResultKind.REJECT
    d = world.diagnose(BUDI.meter_number, sale.token, "GAGAL")
    assert d.cause is Cause.KEY_CHANGE_NEEDED and d.next_steps[0].tokens == approved.tokens
    assert [r.id for r in world.service.approvals()] == [approved.id]  # no second request
    assert world.service.pending_approvals() == []
    for kct in d.next_steps[0].tokens:
        assert meter.enter_token(kct).kind.accepted
    assert meter.enter_token(sale.token).kind is ResultKind.ACCEPT
