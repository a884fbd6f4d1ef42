"""Typed errors for meters and customers taken out of service (master data)."""

from __future__ import annotations

from prabayar.vending.errors import CustomerBlocked, UnknownMeter, VendingError


class MeterNotInService(UnknownMeter):
    """The meter was removed from its connection or is broken: nothing is sold for it (0014)."""

    def __init__(self, meter_number: str, status: str) -> None:
        self.meter_number = meter_number
        self.luhn_failed = False
        self.status = status
        word = {"removed": "SUDAH DIBONGKAR", "broken": "RUSAK"}.get(status, "TIDAK AKTIF")
        VendingError.__init__(
            self,
            f"METER {meter_number} {word}, HUBUNGI PLN",
            f"meter {meter_number} is {status} and out of service; contact PLN",
        )


class CustomerClosed(CustomerBlocked):
    """The customer ended the connection (berhenti langganan); nothing is sold (0077)."""

    def __init__(self, idpel: str) -> None:
        self.identifier = idpel
        VendingError.__init__(
            self,
            f"PELANGGAN {idpel} SUDAH BERHENTI BERLANGGANAN, HUBUNGI PLN",
            f"customer {idpel} is closed (connection ended); contact PLN",
        )
