"""Tokens sold here are accepted by a prabayar.meter meter made for the same meter number."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from prabayar.meter import ManualClock, Meter, ResultKind
from prabayar.vending import VendingService
from prabayar.vending.demo import DEMO_CUSTOMERS

if TYPE_CHECKING:
    from conftest import FakeClock

BUDI, YULI = DEMO_CUSTOMERS[0], DEMO_CUSTOMERS[12]


def _meter_for(service: VendingService, number: str, clock: FakeClock) -> Meter:
    key = service.meter_key(number, actor="factory", purpose="program a new meter")
    return Meter.manufacture(
        number, key.decoder_key, key.params, clock=ManualClock(clock.now - timedelta(days=1))
    )


def test_bought_tokens_are_accepted_once(service: VendingService, clock: FakeClock) -> None:
    meter = _meter_for(service, BUDI.meter_number, clock)
    meter.clock = ManualClock(clock.now + timedelta(minutes=5))
    first = service.purchase("BANKDEMO", "M-1", BUDI.idpel, 50_000)
    second = service.purchase("BANKDEMO", "M-2", BUDI.idpel, 20_000)  # same minute
    accepted = meter.enter_token(first.token)
    assert accepted.kind is ResultKind.ACCEPT and accepted.kwh_added == first.kwh
    assert meter.enter_token(second.token).kwh_added == second.kwh
    assert meter.enter_token(first.token).kind is ResultKind.USED
    assert meter.state.credit_kwh == first.kwh + second.kwh
    other = service.purchase("BANKDEMO", "M-3", DEMO_CUSTOMERS[1].meter_number, 20_000)
    assert not meter.enter_token(other.token).accepted  # another meter's token


def test_management_and_rollover_key_change_work_on_the_meter(
    service: VendingService, clock: FakeClock
) -> None:
    budi = _meter_for(service, BUDI.meter_number, clock)
    budi.clock = ManualClock(clock.now + timedelta(minutes=5))
    tamper = service.clear_tamper("operator", BUDI.meter_number, "test of the clear tamper token")
    assert budi.enter_token(tamper.tokens[0]).accepted
    limit = service.set_power_limit("operator", BUDI.meter_number, 900, "limit for the test")
    assert budi.enter_token(limit.tokens[0]).accepted

    # Yulianti's meter still runs on the 1993 base date: sell a KCT set, then credit.
    key = service.meter_key(YULI.meter_number, actor="factory", purpose="legacy meter")
    legacy = Meter.manufacture(
        YULI.meter_number, key.decoder_key, key.params,
        clock=ManualClock(key.params.base_date.last_minute - timedelta(days=30)),
    )  # fmt: skip
    legacy.clock = ManualClock(clock.now)
    request = service.key_change("admin", YULI.meter_number, "TID rollover", rollover=True)
    kct = service.approve(request.id, "supervisor")  # four eyes: a second admin
    results = [legacy.enter_token(t) for t in kct.tokens]
    assert all(r.accepted for r in results), [r.text for r in results]
    assert legacy.state.params.krn == 2
    sale = service.purchase("BANKDEMO", "Y-1", YULI.meter_number, 20_000)
    assert legacy.enter_token(sale.token).kwh_added == sale.kwh
