"""The diagnosis knows key-change campaigns: a token bought after the campaign handed out the
meter's KCTs fails on a meter that never took them, and the customer is told to key them, with
the tokens; once keyed, the same token is accepted."""

from __future__ import annotations

from prabayar.support import Cause
from prabayar.support.result import Action
from prabayar.vending.campaigns import Selection, Target

from .conftest import ADMIN, BUDI, CHECKER, SITI, World


def test_a_token_under_the_new_key_tells_the_customer_to_key_the_campaign_kcts(world: World) -> None:
    meter = world.meter(BUDI.meter_number)  # keeps the key it was made with
    info = world.service.create_campaign(ADMIN, "KRN 3", "rotasi kunci unit 54", Selection(unit="54"), Target(krn=3))
    world.service.approve_campaign(info.id, CHECKER)
    world.service.run_campaign(info.id)
    sale = world.buy(BUDI.meter_number, 50_000)
    assert len(sale.key_change_tokens) == 2
    assert not meter.enter_token(sale.token).accepted  # the KCTs were not keyed

    diagnosis = world.diagnose(BUDI.meter_number, sale.token)
    assert diagnosis.cause is Cause.KEY_CHANGE_NEEDED
    step = next(s for s in diagnosis.next_steps if s.action is Action.ENTER_KEY_CHANGE_TOKENS)
    assert tuple(step.tokens) == sale.key_change_tokens

    assert all(meter.enter_token(t).accepted for t in step.tokens)
    assert meter.enter_token(sale.token).accepted

    # a meter we cannot read (no emulated state): the campaign's record says it all
    other = world.buy(SITI.meter_number, 20_000)
    found = world.diagnose(SITI.meter_number, other.token)
    assert found.cause is Cause.KEY_CHANGE_NEEDED
    step = next(s for s in found.next_steps if s.action is Action.ENTER_KEY_CHANGE_TOKENS)
    assert tuple(step.tokens) == other.key_change_tokens and len(step.tokens) == 2
    assert any(e.source == "campaign" for e in found.evidence)
