"""Four eyes on the API: pending requests, and an admin's approve / reject.

A route that *makes* a request (clear credit, key change, meter replacement, and other engineers'
kinds) answers ``202 Accepted`` with :class:`ApprovalOut` (``id``, ``status: pending``); an admin
other than the maker decides here. The rules are vending's (``prabayar.vending.approvals``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from prabayar.web.api.schemas import error_responses
from prabayar.web.deps import CurrentAdmin, CurrentOperator, ServicesDep

router = APIRouter(prefix="/operator/approvals", tags=["approvals"])
_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 503)
ApprovalId = Path(ge=1, le=2**31 - 1, description="the approval request's id")


class ApprovalOut(BaseModel):
    """A maker's request and, once decided, the checker's decision and the result."""

    id: int = Field(description="give this id to an admin to approve or reject")
    kind: str = Field(examples=["key_change"])
    label_id: str
    label_en: str
    status: Literal["pending", "approved", "rejected", "failed"]
    meter_number: str | None
    payload: dict[str, Any]
    maker: str
    maker_role: str
    reason: str
    created_at: datetime
    checker: str | None
    decided_at: datetime | None
    decision_reason: str | None
    result: dict[str, Any] | None
    tokens: list[str] = Field(description="the tokens issued once approved (empty while pending)")

    @classmethod
    def of(cls, request: Any) -> ApprovalOut:
        return cls(**request.as_dict(), tokens=list(request.tokens))


class ApprovalListOut(BaseModel):
    approvals: list[ApprovalOut]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500, description="why (required to reject)")


PENDING_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {"model": ApprovalOut, "description": "Recorded as pending: an admin other than the maker must approve it."}
}


def accepted(request: Any) -> JSONResponse:
    """The 202 answer of a route that made an approval request."""
    return JSONResponse(status_code=202, content=jsonable_encoder(ApprovalOut.of(request)))


@router.get("", response_model=ApprovalListOut, responses=_ERRORS,
            summary="Approval requests (default: those pending, oldest first)")  # fmt: skip
def list_approvals(
    operator: CurrentOperator,
    services: ServicesDep,
    status: Annotated[Literal["pending", "approved", "rejected", "failed"] | None, Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ApprovalListOut:
    vending = services.vending
    if status == "pending":
        found = services.call(vending.pending_approvals, limit=limit)
    else:
        found = services.call(vending.approvals, status=status, limit=limit)
    return ApprovalListOut(approvals=[ApprovalOut.of(r) for r in found])


@router.get("/{approval_id}", response_model=ApprovalOut, responses=_ERRORS, summary="One approval request")
def get_approval(operator: CurrentOperator, services: ServicesDep, approval_id: int = ApprovalId) -> ApprovalOut:
    return ApprovalOut.of(services.call(services.vending.approval, approval_id))


@router.post("/{approval_id}/approve", response_model=ApprovalOut, responses=_ERRORS,
             summary="Approve (an admin other than the maker): the action runs now")  # fmt: skip
def approve(
    admin: CurrentAdmin, services: ServicesDep, body: DecisionIn | None = None, approval_id: int = ApprovalId
) -> ApprovalOut:
    reason = body.reason if body else ""
    return ApprovalOut.of(services.call(services.vending.approve, approval_id, admin.subject, reason=reason))


@router.post("/{approval_id}/reject", response_model=ApprovalOut, responses=_ERRORS,
             summary="Reject (an admin other than the maker, with a reason): nothing runs")  # fmt: skip
def reject(admin: CurrentAdmin, services: ServicesDep, body: DecisionIn, approval_id: int = ApprovalId) -> ApprovalOut:
    return ApprovalOut.of(services.call(services.vending.reject, approval_id, admin.subject, body.reason))
