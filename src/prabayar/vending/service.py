"""The vending service: every use case of the back office on one object.

``VendingService(engine, key_store, clock=…, cutoff=…)`` combines the use-case groups (sales,
management, access); the faces and ``prabayar.support`` call it and nothing below it.
"""

from __future__ import annotations

from prabayar.vending._core import (
    WIB,
    CutOffWindow,
    ServiceCore,
    month_of,
    new_reference_number,
    utc_now,
)
from prabayar.vending.access import AccessUseCases
from prabayar.vending.approvals import ApprovalUseCases
from prabayar.vending.campaigns import CampaignUseCases
from prabayar.vending.channels_admin import ChannelAdminUseCases
from prabayar.vending.customer_accounts import CustomerAccountUseCases
from prabayar.vending.customer_import import CustomerImportUseCases
from prabayar.vending.hostlink import HostLinkUseCases
from prabayar.vending.management import ManagementUseCases
from prabayar.vending.sales import SalesUseCases
from prabayar.vending.tariffs import TariffUseCases
from prabayar.vending.vending_keys import VendingKeyUseCases

__all__ = [
    "WIB", "CutOffWindow", "ServiceCore", "VendingService", "month_of", "new_reference_number",
    "utc_now",
]  # fmt: skip


class VendingService(
    CampaignUseCases,
    SalesUseCases,
    ManagementUseCases,
    AccessUseCases,
    HostLinkUseCases,
    ChannelAdminUseCases,
    TariffUseCases,
    VendingKeyUseCases,
    ApprovalUseCases,
    CustomerImportUseCases,
    CustomerAccountUseCases,
):
    """The back office's use cases over one database and one key store."""
