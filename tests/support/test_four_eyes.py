"""A replacement through a ticket: neither the maker nor anyone who recorded an inspection approves."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prabayar import sts
from prabayar.vending import ApprovalStatus, FourEyesViolation

from .conftest import BUDI, OPERATOR, World


def test_every_inspector_of_the_ticket_is_barred_from_approving(world: World) -> None:
    tickets = world.tickets()
    t = tickets.open(channel="cc123", identifier=BUDI.meter_number, actor="agent")
    tickets.assign(t.number, "tek", OPERATOR)
    tickets.record_inspection(t.number, "LCD dim", installation_ok=True, actor="admin")
    tickets.record_inspection(t.number, "LCD dead", installation_ok=True, actor="supervisor")
    new = "1410000099"
    new += sts.meter_number.calc_check_digit(new)
    request = tickets.replace_meter(t.number, OPERATOR, new, Decimal("3.05"))
    assert request.payload["not_approvable_by"] == ["admin", "supervisor"]
    assert request.payload["carried_kwh"] == "3.0" and request.payload["ticket"] == t.number
    for checker in ("admin", "supervisor"):
        with pytest.raises(FourEyesViolation):
            world.service.approve(request.id, checker)
    assert world.service.approval(request.id).status is ApprovalStatus.PENDING
    assert tickets.get(t.number).replacement_meter is None
    events = [e.kind for e in tickets.get(t.number).events]
    assert events[-1] == "replacement_requested"
