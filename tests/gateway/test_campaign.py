"""A meter waiting for a key-change campaign's tokens is refused over ISO 8583 before anything
is sold (RC 0005): the profile has no field that could carry key change tokens."""

from __future__ import annotations

from typing import Any

from prabayar.vending.campaigns import Selection, Target
from prabayar.vending.demo import DEMO_CUSTOMERS
from prabayar.vending.service import VendingService

YULI = DEMO_CUSTOMERS[12]  # still on the 1993 base date


def test_campaign_meter_is_refused_before_a_sale(gateway: Any, service: VendingService, k: Any) -> None:
    info = service.create_campaign(
        "admin", "Rollover", "TID rollover 2024", Selection(base_date="93"), Target(krn=2, rollover=True)
    )
    service.approve_campaign(info.id, "supervisor")
    assert service.run_campaign(info.id).counts.generated == 1
    c = gateway.connect()
    f48 = k.ISO.purchase_48(identifier=YULI.meter_number, srn="KCT-ISO-1")
    mti, f = c.request(k.ISO.purchase(f48, 50_000))
    assert (mti, f["39"]) == ("2210", "0005")
    assert "KCT" in f["63"]
    assert service.reprint(YULI.meter_number, limit=5) == []
    assert c.request(k.ISO.advice(f48, 50_000))[1]["39"] == "0092"
