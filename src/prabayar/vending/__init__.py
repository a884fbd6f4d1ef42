"""prabayar.vending: the back office — customers, meters, tariffs, keys, the purchase ledger.

Faces call the use cases on one ``VendingService`` (``open_service()`` builds it from the
settings); nothing here returns key bytes. See docs/vending.md and docs/architecture.md.
"""

from prabayar.vending.approvals import (
    APPROVAL_KINDS,
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    add_approval_hook,
    register_approval_kind,
)
from prabayar.vending.db import create_engine_for, upgrade
from prabayar.vending.errors import (
    SUCCESS,
    AboveMaximum,
    AdminRequired,
    ApprovalNotFound,
    ApprovalNotPending,
    AuthenticationFailed,
    BelowMinimum,
    CarriedCreditAboveCap,
    CustomerBlocked,
    CutOff,
    DenominationNotAllowed,
    FourEyesViolation,
    InProcess,
    InvalidRequest,
    KeyChangeRequired,
    KeyUnavailable,
    MeterReplaced,
    MonthlyCapExceeded,
    NotAuthorized,
    ReasonRequired,
    ReferenceConflict,
    UnknownChannel,
    UnknownCustomer,
    UnknownMeter,
    UnknownReference,
    VendingError,
)
from prabayar.vending.keystore import KeyStore, KeyStoreError, MasterKey, SoftwareKeyStore
from prabayar.vending.models import Role
from prabayar.vending.pricing import (
    AdminFeeRule,
    DenominationRule,
    KwhRounding,
    PriceBreakdown,
    monthly_cap_kwh,
    price_purchase,
)
from prabayar.vending.receipt import Receipt
from prabayar.vending.results import (
    AuditEntry,
    ChannelInfo,
    Inquiry,
    ManagementResult,
    MeterKey,
    Principal,
    PurchaseResult,
)
from prabayar.vending.service import WIB, CutOffWindow, VendingService
from prabayar.vending.setup import open_service

__all__ = [
    "APPROVAL_KINDS", "SUCCESS", "WIB", "AboveMaximum", "AdminFeeRule", "AdminRequired",
    "ApprovalKind", "ApprovalNotFound", "ApprovalNotPending", "ApprovalRequest", "ApprovalStatus",
    "AuditEntry", "AuthenticationFailed", "BelowMinimum", "CarriedCreditAboveCap", "ChannelInfo",
    "CustomerBlocked", "CutOff", "CutOffWindow", "DenominationNotAllowed", "DenominationRule",
    "FourEyesViolation", "InProcess", "Inquiry", "InvalidRequest", "KeyChangeRequired", "KeyStore",
    "KeyStoreError", "KeyUnavailable", "KwhRounding", "ManagementResult", "MasterKey", "MeterKey",
    "MeterReplaced", "MonthlyCapExceeded", "NotAuthorized", "PriceBreakdown", "Principal",
    "PurchaseResult", "ReasonRequired", "Receipt", "ReferenceConflict", "Role", "SoftwareKeyStore",
    "UnknownChannel", "UnknownCustomer", "UnknownMeter", "UnknownReference", "VendingError",
    "VendingService", "add_approval_hook", "create_engine_for", "monthly_cap_kwh", "open_service",
    "price_purchase", "register_approval_kind", "upgrade",
]  # fmt: skip
