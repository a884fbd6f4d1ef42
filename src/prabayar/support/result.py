"""What a diagnosis says: the cause, how sure, why, and what the customer should do next."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from prabayar.support.text import Text
from prabayar.support.typos import TypoClass


class Cause(StrEnum):
    """Why a token entry failed (PLN.md section 4, issue 6)."""

    WRONG_METER = "wrong_meter"  # bought for another meter / IDPEL
    TYPO = "typo"  # keyed in with a typing error
    BROKEN_METER = "broken_meter"
    TAMPER = "tamper"  # PERIKSA: installation fault or tamper
    ALREADY_USED = "already_used"
    TOO_OLD = "too_old"  # older than the meter's TID memory
    KEY_CHANGE_NEEDED = "key_change_needed"
    KEY_CHANGED_SINCE_SALE = "key_changed_since_sale"  # made with the key the meter had before its KCT
    FUNCTION_NOT_SUPPORTED = "function_not_supported"  # a genuine token the meter cannot carry out
    CREDIT_OVERFLOW = "credit_overflow"  # OVER
    CUSTOMER_BLOCKED = "customer_blocked"
    SALE_NOT_COMPLETED = "sale_not_completed"  # pending, failed, or never delivered
    SIXTEEN_DIGITS = "sixteen_digits"  # the "token has 16 digits" confusion
    NOT_A_TOKEN = "not_a_token"  # a meter number, IDPEL, phone number, > 2**66 ...
    FOREIGN_TOKEN = "foreign_token"  # a valid-looking STS number no key of ours opens
    NO_FAULT_FOUND = "no_fault_found"  # the token is fine for this meter right now
    UNKNOWN = "unknown"


class Confidence(StrEnum):
    """How sure the engine is: certain = proven by key/ledger/meter; likely = strong evidence."""

    CERTAIN = "certain"
    LIKELY = "likely"
    POSSIBLE = "possible"


class Action(StrEnum):
    """Machine-readable next steps; the faces render ``NextStep.text``."""

    ENTER_CORRECTED_TOKEN = "enter_corrected_token"
    ENTER_ON_OTHER_METER = "enter_on_other_meter"  # the customer's own other meter
    CHOOSE_BETWEEN_CANDIDATES = "choose_between_candidates"
    CHECK_RECEIPT = "check_receipt"
    CONTACT_SELLER = "contact_seller"
    BUY_NEW_TOKEN = "buy_new_token"
    ENTER_KEY_CHANGE_TOKENS = "enter_key_change_tokens"
    WAIT_FOR_TECHNICIAN = "wait_for_technician"
    VISIT_PLN_OFFICE = "visit_pln_office"
    REQUEST_POWER_UPGRADE = "request_power_upgrade"
    USE_CREDIT_FIRST = "use_credit_first"
    CHECK_PURCHASE_HISTORY = "check_purchase_history"
    RETRY_ENTRY = "retry_entry"
    RESTART_METER = "restart_meter"
    CONTACT_123 = "contact_123"
    NONE = "none"


@dataclass(frozen=True)
class NextStep:
    action: Action
    text: Text
    tokens: tuple[str, ...] = ()  # tokens to key in, in order (key change, corrected token)


@dataclass(frozen=True)
class Evidence:
    """One fact the conclusion rests on; ``source``: ledger, meter, key or input."""

    source: str
    fact: str


@dataclass(frozen=True)
class TokenCandidate:
    """A token the customer probably meant, with the positions that were typed wrong."""

    digits: str
    typo: TypoClass
    positions: tuple[int, ...]
    description: str  # what the token is, e.g. "credit 12.6 kWh, sold 2026-11-26 10:00 WIB"
    in_ledger: bool

    @property
    def grouped(self) -> str:
        return " ".join(self.digits[i : i + 4] for i in range(0, len(self.digits), 4))


@dataclass(frozen=True)
class Diagnosis:
    """The typed answer to "why did my token fail?"."""

    cause: Cause
    confidence: Confidence
    explanation: Text
    next_steps: tuple[NextStep, ...]
    ticket_needed: bool
    evidence: tuple[Evidence, ...] = ()
    candidates: tuple[TokenCandidate, ...] = ()
    meter_number: str | None = None
    other_findings: tuple[Text, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API and the CLI's ``--json``."""
        return {
            "cause": self.cause.value,
            "confidence": self.confidence.value,
            "explanation": self.explanation.as_dict(),
            "next_steps": [
                {"action": s.action.value, "text": s.text.as_dict(), "tokens": list(s.tokens)} for s in self.next_steps
            ],
            "ticket_needed": self.ticket_needed,
            "evidence": [{"source": e.source, "fact": e.fact} for e in self.evidence],
            "candidates": [
                {
                    "token": c.grouped,
                    "typo": c.typo.value,
                    "positions": list(c.positions),
                    "description": c.description,
                    "in_ledger": c.in_ledger,
                }
                for c in self.candidates
            ],
            "meter_number": self.meter_number,
            "other_findings": [t.as_dict() for t in self.other_findings],
        }
