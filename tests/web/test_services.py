"""Every vending error becomes the face's error: HTTP status, PLN code, slug, both messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from prabayar.vending import errors as vending_errors
from prabayar.web.errors import WebError
from prabayar.web.services import Services, web_error_from

CASES = [
    (vending_errors.UnknownMeter("14100000011", luhn_failed=True), 404, "0014", "unknown_meter"),
    (vending_errors.MeterReplaced("14100000018", None), 404, "0014", "unknown_meter"),
    (vending_errors.UnknownCustomer("549999999999"), 404, "0015", "unknown_idpel"),
    (vending_errors.DenominationNotAllowed(30_000, (20_000,)), 422, "0013",
     "denomination_not_allowed"),
    (vending_errors.BelowMinimum(10_000, 20_000), 422, "0041", "below_minimum"),
    (vending_errors.AboveMaximum(9, 1), 422, "0042", "above_maximum"),
    (vending_errors.MonthlyCapExceeded(Decimal(324), Decimal(300), Decimal(50)), 422, "0047",
     "monthly_kwh_cap"),
    (vending_errors.CustomerBlocked("541000000011"), 403, "0077", "customer_blocked"),
    (vending_errors.CutOff("23:30-00:30"), 503, "0090", "cut_off"),
    (vending_errors.InProcess(), 503, "0099", "in_process"),
    (vending_errors.UnknownReference("BANKDEMO", "X"), 404, "0092", "unknown_reference"),
    (vending_errors.ReferenceConflict("BANKDEMO", "X"), 409, "0093", "reference_conflict"),
    (vending_errors.UnknownChannel("NOPE"), 401, "0031", "unregistered_channel"),
    (vending_errors.AuthenticationFailed(), 401, "0005", "invalid_credentials"),
    (vending_errors.NotAuthorized("budi", "clear tamper"), 403, "0005", "forbidden"),
    (vending_errors.ReasonRequired(), 422, "0005", "reason_required"),
    (vending_errors.KeyChangeRequired("14100000133", "TID rollover"), 409, "0005",
     "key_change_required"),
    (vending_errors.KeyUnavailable("600101", 9), 503, "0005", "key_unavailable"),
    (vending_errors.InvalidRequest("SALAH", "wrong"), 422, "0005", "invalid_request"),
    (vending_errors.AdminRequired("operator", "issue key change tokens"), 403, "0005", "admin_required"),
    (vending_errors.FourEyesViolation("admin", "made the request"), 403, "0005", "four_eyes"),
    (vending_errors.ApprovalNotFound(9), 404, "0005", "approval_not_found"),
    (vending_errors.ApprovalNotPending(9, "approved"), 409, "0005", "approval_not_pending"),
    (vending_errors.CarriedCreditAboveCap(Decimal(99999), Decimal(936)), 422, "0005", "carried_credit_above_cap"),
]  # fmt: skip


@pytest.mark.parametrize(("error", "status", "code", "slug"), CASES)
def test_vending_error_mapping(error: vending_errors.VendingError, status: int, code: str, slug: str) -> None:
    web = web_error_from(error)
    assert (web.status_code, web.response_code, web.slug) == (status, code, slug)
    assert web.message_id == error.message_id
    assert web.message_en == error.message_en
    assert ("Retry-After" in web.headers) == (status == 503)


def test_every_vending_error_class_is_covered() -> None:
    covered = {type(e) for e, *_ in CASES}
    defined = {
        obj
        for obj in vars(vending_errors).values()
        if isinstance(obj, type)
        and issubclass(obj, vending_errors.VendingError)
        and obj is not vending_errors.VendingError
    }
    assert defined <= covered, defined - covered


def test_lookup_follows_replacements_but_never_loops(services: Services) -> None:
    """Two meters naming each other as their replacement (a damaged ledger) end in 0014, not
    in endless recursion; one replacement is followed to the customer."""
    from sqlalchemy import text

    old, new = "14100001123", "14100000125"  # the demo's replaced meter and its successor
    assert {m.meter_number for m in services.lookup_customer(old)} == {old, new}
    with services.vending.engine.begin() as db:
        db.execute(text("UPDATE meters SET status = 'replaced', replaced_by = :old WHERE meter_number = :new"),
                   {"old": old, "new": new})  # fmt: skip
    with pytest.raises(WebError) as raised:
        services.lookup_customer(old)
    assert raised.value.response_code == "0014"
