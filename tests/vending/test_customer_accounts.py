"""A customer's own account: linking another meter (proof of ownership, audit), history
search/date/pages, password change and the operator-issued one-time reset code."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from prabayar.vending import AuthenticationFailed, NotAuthorized, VendingService
from prabayar.vending.customer_accounts import (
    RESET_MAX_ATTEMPTS,
    AlreadyLinked,
    OwnershipNotShown,
)
from prabayar.vending.demo import DEMO_CUSTOMERS

if TYPE_CHECKING:
    from conftest import FakeClock

BUDI, SITI = DEMO_CUSTOMERS[0], DEMO_CUSTOMERS[1]


def _actions(service: VendingService, actor: str) -> list[str]:
    return [e.action for e in service.audit_log(actor=actor, limit=50)]


def test_link_by_meter_and_idpel_or_recent_token(service: VendingService, clock: FakeClock) -> None:
    assert service.account_idpels("budi") == [BUDI.idpel]
    with pytest.raises(OwnershipNotShown):
        service.link_customer("budi", SITI.meter_number, idpel=BUDI.idpel)
    assert "account.link_refused" in _actions(service, "budi")
    linked = service.link_customer("budi", SITI.meter_number, idpel=SITI.idpel)
    assert linked.meter_number == SITI.meter_number
    assert service.account_idpels("budi") == [BUDI.idpel, SITI.idpel]
    assert {m.meter_number for m in service.account_meters("budi")} >= {BUDI.meter_number, SITI.meter_number}
    with pytest.raises(AlreadyLinked):
        service.link_customer("budi", SITI.meter_number, idpel=SITI.idpel)
    assert "account.meter_linked" in _actions(service, "budi")
    # by a recent token: siti links budi's meter with a token sold for it
    sale = service.purchase("BANKDEMO", "acct-1", BUDI.meter_number, 20_000)
    clock.advance(days=91)
    with pytest.raises(OwnershipNotShown):  # too old
        service.link_customer("siti", BUDI.meter_number, token=sale.token)
    sale = service.purchase("BANKDEMO", "acct-2", BUDI.meter_number, 20_000)
    service.link_customer("siti", BUDI.meter_number, token=" ".join(sale.token[i : i + 4] for i in range(0, 20, 4)))
    assert BUDI.idpel in service.account_idpels("siti")
    with pytest.raises(NotAuthorized):
        service.link_customer("operator", BUDI.meter_number, idpel=BUDI.idpel)


def test_history_search_dates_and_pages(service: VendingService, clock: FakeClock) -> None:
    sales = []
    for i in range(5):
        sales.append(service.purchase("BANKDEMO", f"hist-{i}", BUDI.meter_number, 20_000))
        clock.advance(days=1)
    page = service.purchase_history("budi", limit=2)
    assert page.total >= 5 and len(page.items) == 2
    assert page.items[0].reference_number == sales[-1].reference_number  # newest first
    second = service.purchase_history("budi", limit=2, offset=2)
    assert {p.reference_number for p in second.items}.isdisjoint({p.reference_number for p in page.items})
    found = service.purchase_history("budi", search=sales[2].token[4:12])
    assert [p.reference_number for p in found.items] == [sales[2].reference_number]
    day = sales[1].created_at
    window = service.purchase_history("budi", since=day, until=day + timedelta(days=1))
    assert [p.reference_number for p in window.items] == [sales[1].reference_number]
    assert service.purchase_history("siti").total == 0 or all(
        p.idpel == SITI.idpel for p in service.purchase_history("siti").items
    )


def test_change_password(service: VendingService) -> None:
    with pytest.raises(AuthenticationFailed):
        service.change_password("budi", "wrong-password", "new-password-1")
    service.change_password("budi", "budi-prabayar", "new-password-1")
    assert service.authenticate_user("budi", "new-password-1").username == "budi"
    assert "user.password_changed" in _actions(service, "budi")


def test_reset_code_is_one_time_expires_and_locks(service: VendingService, clock: FakeClock) -> None:
    with pytest.raises(NotAuthorized):
        service.issue_password_reset("budi", "siti", "caller verified")
    with pytest.raises(NotAuthorized):
        service.issue_password_reset("operator", "admin", "no staff resets")
    code = service.issue_password_reset("operator", "budi", "caller verified at CC 123")
    assert len(code) == 8 and code.isdigit()
    service.reset_password("budi", code, "reset-password-1")
    assert service.authenticate_user("budi", "reset-password-1").username == "budi"
    with pytest.raises(AuthenticationFailed):  # used once
        service.reset_password("budi", code, "reset-password-2")
    code = service.issue_password_reset("operator", "budi", "again")
    clock.advance(minutes=31)
    with pytest.raises(AuthenticationFailed):  # expired
        service.reset_password("budi", code, "reset-password-2")
    code = service.issue_password_reset("operator", "budi", "again")
    wrong = "0" * 8 if code != "0" * 8 else "1" * 8
    for _ in range(RESET_MAX_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            service.reset_password("budi", wrong, "reset-password-2")
    with pytest.raises(AuthenticationFailed):  # locked after too many tries
        service.reset_password("budi", code, "reset-password-2")
    assert "user.password_reset_issued" in _actions(service, "operator")
