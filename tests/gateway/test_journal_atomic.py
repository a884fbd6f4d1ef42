"""A sale made over the ISO 8583 link commits together with its journal row (gateway_sales):
a crash right after the sale can no longer leave a sale the link never journalled."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from prabayar.vending.fastpath import SALE_COMPANION
from prabayar.vending.service import VendingService


def _sell(service: VendingService, k: Any, srn: str, bank: str = "0080001") -> Any:
    return service.gateway_purchase(
        "H2HISO", srn, k.BUDI_METER, 100_000,
        stan="000123", local_time="101500", bank_code=bank, pcid="7700001", terminal_id="T0000001",
    )  # fmt: skip


def _journal(service: VendingService, srn: str) -> list[Any]:
    with service.engine.connect() as conn:
        return list(conn.execute(text("SELECT stan, bank_code, reference_number FROM gateway_sales WHERE srn = :s"),
                                 {"s": srn}))  # fmt: skip


def test_the_journal_row_is_in_the_sales_transaction(
    service: VendingService, k: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    k.add_partners(service)

    def crash(*_args: Any, **_kwargs: Any) -> Any:  # the process dies right after the sale commits
        raise SystemExit("killed after the sale")

    monkeypatch.setattr(type(service), "_journal", crash)
    with pytest.raises(SystemExit):
        _sell(service, k, "SRNATOMIC0000001")
    rows = _journal(service, "SRNATOMIC0000001")
    assert len(rows) == 1
    assert rows[0].stan == "000123" and rows[0].bank_code == "0080001"
    with service.engine.connect() as conn:
        sold = conn.execute(
            text("SELECT reference_number FROM purchases WHERE channel_reference = 'SRNATOMIC0000001'")
        ).scalar_one()
    assert rows[0].reference_number == sold
    assert SALE_COMPANION.get() is None  # nothing leaks into later sales


def test_a_repeat_after_the_crash_answers_the_same_sale_with_its_bank(service: VendingService, k: Any) -> None:
    k.add_partners(service)
    first = _sell(service, k, "SRNATOMIC0000002")
    again = _sell(service, k, "SRNATOMIC0000002", bank="0080002")
    assert again.purchase.token == first.purchase.token and again.purchase.replayed
    assert again.bank_code == "0080001"  # the selling request's field 32: the host answers 0097
    assert len(_journal(service, "SRNATOMIC0000002")) == 1


def test_a_refused_sale_writes_no_journal_row(service: VendingService, k: Any) -> None:
    k.add_partners(service)
    with pytest.raises(Exception):  # noqa: B017 - any typed refusal; the point is what is not written
        service.gateway_purchase(
            "H2HISO", "SRNATOMIC0000003", k.BUDI_METER, 12_345,
            stan="000124", local_time="101501", bank_code="0080001", pcid="7700001", terminal_id="T0000001",
        )  # fmt: skip
    assert _journal(service, "SRNATOMIC0000003") == []
