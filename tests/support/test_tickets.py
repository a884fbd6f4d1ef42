"""Complaint tickets: channels, status flow, SLA timers and overdue flags, history, errors."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from prabayar.support.errors import (
    InspectionRequired,
    MeterNotFound,
    SupportError,
    TicketNotFound,
    TicketTransitionError,
)
from prabayar.support.replacement import Replacement, ReplacementError
from prabayar.support.tickets import Channel, SlaPolicy, SlaTarget, TicketStatus
from prabayar.vending import NotAuthorized

from .conftest import BUDI, OPERATOR, SITI, World


@pytest.mark.parametrize("channel", list(Channel))
def test_tickets_come_from_every_channel(world: World, channel: Channel) -> None:
    t = world.tickets().open(channel=channel.value, identifier=BUDI.meter_number,
                             actor="agent", description="token gagal", contact="0812xxx")  # fmt: skip
    assert t.channel is channel and t.status is TicketStatus.OPEN
    assert t.number.startswith("PGD-20261102-")
    assert t.idpel == BUDI.idpel and t.category == "other"
    assert channel.label


def test_unknown_channel_category_meter_and_ticket_are_typed_errors(world: World) -> None:
    tickets = world.tickets()
    with pytest.raises(SupportError, match="channel"):
        tickets.open(channel="fax", identifier=BUDI.meter_number, actor="a")
    with pytest.raises(SupportError, match="category"):
        tickets.open(channel="app", identifier=BUDI.meter_number, actor="a", category="weather")
    with pytest.raises(MeterNotFound):
        tickets.open(channel="app", identifier="14999999990", actor="a")
    with pytest.raises(TicketNotFound):
        tickets.get("PGD-19990101-000001")


def test_status_flow_refuses_skips_and_reopens(world: World) -> None:
    tickets = world.tickets()
    t = tickets.open(channel="cc123", identifier=BUDI.meter_number, actor="agent")
    with pytest.raises(TicketTransitionError):
        tickets.close(t.number, "spv")  # open -> closed is not allowed
    with pytest.raises(TicketTransitionError):
        tickets.schedule_visit(t.number, world.clock.now(), "spv")  # no technician yet
    with pytest.raises(TicketTransitionError):
        tickets.record_inspection(t.number, "x", installation_ok=True, actor="t")
    with pytest.raises(SupportError):
        tickets.assign(t.number, "  ", "spv")
    tickets.assign(t.number, "tech", "spv")
    with pytest.raises(SupportError):
        tickets.schedule_visit(t.number, datetime(2026, 11, 3, 9, 0), "spv")  # naive
    tickets.resolve(t.number, "remote advice", "agent")
    with pytest.raises(TicketTransitionError):
        tickets.key_change(t.number, OPERATOR)  # resolved: reopen first
    again = tickets.reopen(t.number, "customer called back", "agent")
    assert again.status is TicketStatus.ASSIGNED and again.resolved_at is None
    tickets.comment(t.number, "called customer", "agent")
    tickets.resolve(t.number, "fixed", "agent")
    closed = tickets.close(t.number, "spv")
    assert closed.status is TicketStatus.CLOSED
    with pytest.raises(TicketTransitionError):
        tickets.reopen(t.number, "too late", "agent")
    kinds = [e.kind for e in closed.events]
    assert kinds == ["opened", "assigned", "resolved", "reopened", "comment", "resolved", "closed"]
    audit = world.service.audit_log(action="support.ticket.")
    assert len(audit) == len(kinds)
    assert all(a.detail["ticket"] == t.number for a in audit)


def test_sla_timers_and_overdue_flags(world: World) -> None:
    tickets = world.tickets()
    broken = tickets.open(channel="cc123", identifier=BUDI.meter_number, actor="a",
                          category="broken_meter")  # fmt: skip
    other = tickets.open(channel="x", identifier=SITI.meter_number, actor="a")
    assert broken.response_due - broken.created_at == timedelta(hours=1)
    assert broken.resolution_due - broken.created_at == timedelta(hours=24)
    assert other.resolution_due - other.created_at == timedelta(days=3)
    assert not broken.overdue
    world.clock.advance(timedelta(hours=2))
    late = tickets.get(broken.number)
    assert late.response_overdue and late.overdue and not late.resolution_overdue
    assert not tickets.get(other.number).overdue
    assert [t.number for t in tickets.list(overdue_only=True)] == [broken.number]
    tickets.assign(broken.number, "tech", "spv")
    assert tickets.get(broken.number).response_overdue  # picked up late stays on record
    world.clock.advance(timedelta(days=1))
    assert tickets.get(broken.number).resolution_overdue
    tickets.resolve(broken.number, "replaced", "tech")
    assert not tickets.get(broken.number).overdue  # no longer open
    assert tickets.get(broken.number).resolution_overdue  # but it was late


def test_custom_sla_policy(world: World) -> None:
    policy = SlaPolicy(default=SlaTarget(timedelta(minutes=5), timedelta(minutes=30)),
                       per_category={})  # fmt: skip
    tickets = type(world.tickets())(world.service, clock=world.clock.now, sla=policy)
    t = tickets.open(channel="app", identifier=BUDI.meter_number, actor="a", category="tamper")
    assert t.resolution_due - t.created_at == timedelta(minutes=30)


def test_customers_see_only_their_own_tickets(world: World) -> None:
    tickets = world.tickets()
    mine = tickets.open(channel="app", identifier=BUDI.idpel, actor="budi")
    tickets.open(channel="app", identifier=SITI.idpel, actor="siti")
    assert [t.number for t in tickets.list(idpel=BUDI.idpel)] == [mine.number]
    assert [t.number for t in tickets.list(status=TicketStatus.OPEN)] != []
    assert tickets.list(meter_number=BUDI.meter_number)[0].number == mine.number


def test_closing_actions_need_an_operator_and_valid_input(world: World) -> None:
    tickets = world.tickets()
    t = tickets.open(channel="cc123", identifier=BUDI.meter_number, actor="a")
    tickets.assign(t.number, "tech", "spv")
    with pytest.raises(InspectionRequired):
        tickets.replace_meter(t.number, OPERATOR, "14100000992", Decimal(0))
    tickets.record_inspection(t.number, "meter dead", installation_ok=True, actor="tech")
    with pytest.raises(NotAuthorized):  # vending refuses a non-operator
        tickets.clear_tamper(t.number, "budi")
    with pytest.raises(ReplacementError):
        tickets.replace_meter(t.number, OPERATOR, "14100000999", Decimal("1"))  # bad Luhn
    with pytest.raises(ReplacementError):
        tickets.replace_meter(t.number, OPERATOR, SITI.meter_number, Decimal("1"))  # taken
    with pytest.raises(NotAuthorized):  # a permission error stays one
        tickets.replace_meter(t.number, "budi", "14100000992", Decimal("1"))
    with pytest.raises(ReplacementError):
        tickets.replace_meter(t.number, OPERATOR, "14100000992", Decimal("-1"))
    request = tickets.replace_meter(t.number, OPERATOR, "14100000992", Decimal("0"))
    assert tickets.get(t.number).replacement_meter is None  # pending approval
    with pytest.raises(NotAuthorized):
        world.service.approve(request.id, "supervisor_that_does_not_exist")
    nothing_left = Replacement.of(world.service.approve(request.id, "admin"))
    assert nothing_left.token is None
    assert tickets.get(t.number).replacement_meter == "14100000992"
