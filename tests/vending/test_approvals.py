"""Maker-checker (four eyes): clear credit, key change and meter replacement wait for an admin
other than the maker; the audit log carries both names, the reason and the time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from prabayar import sts
from prabayar.vending import (
    AdminRequired,
    ApprovalKind,
    ApprovalNotFound,
    ApprovalNotPending,
    ApprovalStatus,
    CarriedCreditAboveCap,
    FourEyesViolation,
    InvalidRequest,
    MeterReplaced,
    NotAuthorized,
    ReasonRequired,
    VendingService,
    add_approval_hook,
    register_approval_kind,
)
from prabayar.vending.approvals import APPROVAL_KINDS
from prabayar.vending.demo import DEMO_CUSTOMERS, demo_meter_number
from prabayar.vending.management import carried_credit

BUDI, DEWI, YULI = DEMO_CUSTOMERS[0], DEMO_CUSTOMERS[3], DEMO_CUSTOMERS[12]


def test_clear_credit_waits_for_an_admin_other_than_the_maker(service: VendingService) -> None:
    request = service.clear_credit("operator", DEWI.meter_number, "credit dispute")
    assert request.status is ApprovalStatus.PENDING and request.tokens == ()
    assert service.management_history(DEWI.meter_number) == []  # nothing issued yet
    assert [r.id for r in service.pending_approvals()] == [request.id]
    with pytest.raises(NotAuthorized):
        service.approve(request.id, "operator")  # an operator never approves
    with pytest.raises(NotAuthorized):
        service.approve(request.id, "budi")
    done = service.approve(request.id, "admin", reason="checked the complaint")
    assert done.status is ApprovalStatus.APPROVED and done.checker == "admin"
    (token,) = done.tokens
    decoded = sts.decode(token, service.meter_key(DEWI.meter_number, actor="t", purpose="p").decoder_key)
    assert isinstance(decoded, sts.ClearCredit)
    assert service.pending_approvals() == []
    with pytest.raises(ApprovalNotPending):
        service.approve(request.id, "supervisor")  # executed at most once
    [issued] = service.audit_log(action="management.clear_credit")
    assert issued.actor == "operator" and issued.detail["approved_by"] == "admin"
    [asked] = service.audit_log(action="approval.requested")
    [yes] = service.audit_log(action="approval.approved")
    assert asked.detail["maker"] == "operator" and asked.detail["reason"] == "credit dispute"
    assert yes.actor == "admin" and yes.detail["maker"] == "operator" and yes.detail["checker"] == "admin"
    assert yes.detail["reason"] == "credit dispute" and yes.detail["decision_reason"] == "checked the complaint"
    assert yes.at is not None and asked.at is not None


def test_the_maker_cannot_approve_even_as_admin(service: VendingService) -> None:
    request = service.clear_credit("admin", DEWI.meter_number, "credit dispute")
    with pytest.raises(FourEyesViolation):
        service.approve(request.id, "admin")
    with pytest.raises(FourEyesViolation):
        service.reject(request.id, "admin", "changed my mind")
    assert service.approval(request.id).status is ApprovalStatus.PENDING
    assert service.approve(request.id, "supervisor").tokens


def test_reject_runs_nothing_and_is_audited(service: VendingService) -> None:
    request = service.clear_credit("operator", DEWI.meter_number, "credit dispute")
    with pytest.raises(ReasonRequired):
        service.reject(request.id, "admin", "")
    done = service.reject(request.id, "admin", "no evidence")
    assert done.status is ApprovalStatus.REJECTED and done.decision_reason == "no evidence"
    assert service.management_history(DEWI.meter_number) == []
    with pytest.raises(ApprovalNotPending):
        service.approve(request.id, "supervisor")
    [no] = service.audit_log(action="approval.rejected")
    assert no.actor == "admin" and no.detail["maker"] == "operator" and no.detail["decision_reason"] == "no evidence"
    with pytest.raises(ApprovalNotFound):
        service.approve(99_999, "admin")


def test_one_pending_request_per_kind_and_meter(service: VendingService) -> None:
    service.clear_credit("operator", DEWI.meter_number, "credit dispute")
    with pytest.raises(InvalidRequest, match="already pending"):
        service.clear_credit("operator", DEWI.meter_number, "again")


def test_key_change_is_admin_only_and_needs_a_second_admin(service: VendingService) -> None:
    with pytest.raises(AdminRequired):
        service.key_change("operator", BUDI.meter_number, "suspected key compromise")
    with pytest.raises(AdminRequired):  # also when it would be refused for another reason
        service.key_change("operator", BUDI.meter_number, "bad krn", new_krn=12)
    request = service.key_change("admin", BUDI.meter_number, "suspected key compromise")
    assert request.payload == {"meter_number": BUDI.meter_number, "new_krn": 3, "rollover": False}
    assert service.meter_key(BUDI.meter_number, actor="t", purpose="p").params.krn == 2  # unchanged
    with pytest.raises(FourEyesViolation):
        service.approve(request.id, "admin")
    with pytest.raises(NotAuthorized):
        service.approve(request.id, "operator")
    done = service.approve(request.id, "supervisor")
    assert done.result is not None and done.result["kind"] == "key_change" and len(done.tokens) == 2
    assert service.meter_key(BUDI.meter_number, actor="t", purpose="p").params.krn == 3
    [entry] = service.audit_log(action="key.key_change")
    assert entry.actor == "admin" and entry.detail["approved_by"] == "supervisor"


def test_an_operators_request_for_an_admin_only_kind_is_refused_at_approval_too(service: VendingService) -> None:
    """A key change request whose maker lost the admin role in the meantime fails when run."""
    request = service.key_change("admin", YULI.meter_number, "TID rollover", rollover=True)
    from prabayar.vending.db import claiming_session
    from prabayar.vending.models import UserAccount

    with claiming_session(service.engine) as session:
        user = session.query(UserAccount).filter_by(username="admin").one()
        user.role = "operator"
    with pytest.raises(AdminRequired):
        service.approve(request.id, "supervisor")
    failed = service.approval(request.id)
    assert failed.status is ApprovalStatus.FAILED and failed.result is not None
    assert failed.result["error"] == "0005"
    assert service.audit_log(action="approval.failed")


def test_carried_credit_is_rounded_down_never_up() -> None:
    assert carried_credit(Decimal("12.34")) == Decimal("12.3")
    assert carried_credit(Decimal("12.39")) == Decimal("12.3")
    assert carried_credit(Decimal("0.05")) == Decimal("0")
    assert carried_credit(Decimal("1638.3")) == Decimal("1638.3")
    # above 1,638.3 kWh a token counts in coarser steps: the step below, never the one above
    big = carried_credit(Decimal("1700.95"))
    assert big <= Decimal("1700.95") and sts.amount.representable(big) == big
    assert big == Decimal("1700.4") and sts.amount.representable(big + Decimal("0.1")) == Decimal("1701.4")


def test_replacement_rounds_down_and_refuses_above_the_monthly_cap(service: VendingService) -> None:
    new_number = demo_meter_number(92)
    # DEWI has 2,200 VA: 720 h x 2,200 VA = 1,584 kWh
    with pytest.raises(CarriedCreditAboveCap) as exc:
        service.replace_meter("operator", DEWI.meter_number, new_number, Decimal("99999"), "meter dead")
    assert "1584" in str(exc.value)
    with pytest.raises(CarriedCreditAboveCap):
        service.replace_meter("operator", DEWI.meter_number, new_number, Decimal("1584.01"), "meter dead")
    request = service.replace_meter(
        "operator", DEWI.meter_number, new_number, Decimal("12.39"), "meter dead", inspector="teknisi-op"
    )
    assert request.payload["carried_kwh"] == "12.3" and request.payload["requested_kwh"] == "12.39"
    with pytest.raises(NotAuthorized):
        service.approve(request.id, "operator")  # the maker, and not an admin
    done = service.approve(request.id, "admin")
    assert done.result is not None and done.result["carried_kwh"] == "12.3"
    (token,) = done.tokens
    key = service.meter_key(new_number, actor="t", purpose="p").decoder_key
    credit = sts.decode(token, key)
    assert isinstance(credit, sts.ElectricityCredit) and credit.amount == Decimal("12.3")
    with pytest.raises(MeterReplaced):
        service.purchase("BANKDEMO", "after", DEWI.meter_number, 20_000)
    [entry] = service.audit_log(action="management.meter_replaced")
    assert entry.detail["carried_kwh"] == "12.3" and entry.detail["approved_by"] == "admin"


def test_the_inspector_cannot_approve_the_replacement(service: VendingService) -> None:
    request = service.replace_meter(
        "operator", DEWI.meter_number, demo_meter_number(92), Decimal(1), "meter dead", inspector="supervisor"
    )
    with pytest.raises(FourEyesViolation, match="inspection"):
        service.approve(request.id, "supervisor")
    assert service.approve(request.id, "admin").status is ApprovalStatus.APPROVED


def test_an_action_refused_when_run_marks_the_request_failed(service: VendingService) -> None:
    first = service.replace_meter("operator", DEWI.meter_number, demo_meter_number(92), Decimal(1), "dead")
    credit = service.clear_credit("operator", DEWI.meter_number, "credit dispute")
    service.approve(first.id, "admin")
    with pytest.raises(MeterReplaced):
        service.approve(credit.id, "admin")
    failed = service.approval(credit.id)
    assert failed.status is ApprovalStatus.FAILED and failed.result is not None
    assert failed.result["error"] == "0014" and failed.checker == "admin"


def test_a_new_kind_plugs_in_with_its_executor_and_hooks(service: VendingService) -> None:
    ran: list[Any] = []

    def execute(svc: VendingService, request: Any, checker: str) -> dict[str, Any]:
        ran.append((request.payload["x"], request.maker, checker))
        return {"done": True}

    register_approval_kind(ApprovalKind("test.demo", "Uji", "Test", execute))
    add_approval_hook("test.demo", lambda svc, request, result: ran.append(("hook", result)))
    try:
        with pytest.raises(InvalidRequest, match="plain JSON"):
            service.request_approval("test.demo", "operator", "a reason", {"key": b"\x01\x02"})
        with pytest.raises(InvalidRequest, match="unknown approval kind"):
            service.request_approval("test.nope", "operator", "a reason", {})
        with pytest.raises(ReasonRequired):
            service.request_approval("test.demo", "operator", " ", {"x": 1})
        request = service.request_approval("test.demo", "operator", "a reason", {"x": 1})
        assert service.approve(request.id, "admin").result == {"done": True}
        assert ran == [(1, "operator", "admin"), ("hook", {"done": True})]
        with pytest.raises(ValueError, match="already registered"):
            register_approval_kind(ApprovalKind("test.demo", "Uji", "Test", lambda *a: {}))
    finally:
        APPROVAL_KINDS.pop("test.demo", None)


def test_two_admins_approving_at_once_run_the_action_once(service: VendingService) -> None:
    from concurrent.futures import ThreadPoolExecutor

    request = service.clear_credit("operator", DEWI.meter_number, "credit dispute")

    def decide(checker: str) -> str:
        try:
            return service.approve(request.id, checker).status.value
        except ApprovalNotPending:
            return "refused"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(decide, ["admin", "supervisor"]))
    assert outcomes == ["approved", "refused"]
    assert len(service.management_history(DEWI.meter_number)) == 1  # one token, never two
    assert len(service.audit_log(action="approval.approved")) == 1
