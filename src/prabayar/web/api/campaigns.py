"""Key-change campaigns on the API (docs/campaigns.md): staff read status and export per unit;
admins create (202: a second admin approves through /operator/approvals or here), approve and
run. Generation on PostgreSQL goes to the procrastinate queue (``prabayar campaign worker``);
on the embedded SQLite it runs in the request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from prabayar.vending.campaigns import CampaignInfo, Selection, Target
from prabayar.web.api.schemas import error_responses
from prabayar.web.deps import CurrentAdmin, CurrentOperator, ServicesDep

router = APIRouter(prefix="/operator/campaigns", tags=["campaigns"])
_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 503)
CampaignId = Path(ge=1, le=2**31 - 1, description="the campaign's id")


class CountsOut(BaseModel):
    selected: int
    generated: int
    delivered: int = Field(description="KCTs handed out (with a purchase or keyed by a field team)")
    confirmed: int = Field(description="a later token under the new key is known to be accepted")
    skipped: int = 0
    stale: int = 0


class UnitOut(CountsOut):
    unit_code: str


class CampaignOut(BaseModel):
    id: int
    name: str
    status: str = Field(description="pending_approval, approved, running, done or rejected")
    selection: dict[str, Any]
    target: dict[str, Any]
    reason: str
    created_by: str
    created_at: datetime
    approval_id: int | None = Field(description="the four-eyes request a second admin approves")
    approved_by: str | None
    approved_at: datetime | None
    finished_at: datetime | None
    chunks_total: int
    chunks_done: int
    counts: CountsOut
    units: list[UnitOut]

    @classmethod
    def of(cls, info: CampaignInfo) -> CampaignOut:
        return cls.model_validate(info.as_dict())


class CampaignListOut(BaseModel):
    campaigns: list[CampaignOut]


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)
    reason: str = Field(min_length=3, max_length=500)
    sgc: str | None = Field(default=None, max_length=6, description="select: supply group code")
    krn: int | None = Field(default=None, ge=1, le=9, description="select: current key revision")
    base_date: str | None = Field(default=None, max_length=4, description="select: 1993, 2014 or 2035")
    algorithm: str | None = Field(default=None, max_length=6, description="select: STA, DEA or MISTY1")
    unit: str | None = Field(default=None, max_length=8, description="select: unit code")
    meters: list[str] = Field(default_factory=list, max_length=100_000, description="select: meter numbers")
    new_krn: int | None = Field(default=None, ge=1, le=9, description="target: key revision")
    new_base_date: str | None = Field(default=None, max_length=4, description="target: 2014 or 2035")
    rollover: bool = Field(default=False, description="target: the next base date (TID rollover)")
    new_algorithm: str | None = Field(default=None, max_length=6, description="target: algorithm")
    dkga: str | None = Field(default=None, max_length=2, description="target: the new vending key's DKGA")
    chunk_size: int = Field(default=20_000, ge=100, le=200_000)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


@router.get("", response_model=CampaignListOut, responses=_ERRORS, summary="Campaigns, newest first")
def list_campaigns(
    operator: CurrentOperator, services: ServicesDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> CampaignListOut:
    return CampaignListOut(
        campaigns=[CampaignOut.of(c) for c in services.call(services.vending.campaigns, limit=limit)]
    )


@router.post("", status_code=202, response_model=CampaignOut, responses=_ERRORS,
             summary="Create a campaign (admin): pending until a second admin approves")  # fmt: skip
def create_campaign(admin: CurrentAdmin, services: ServicesDep, body: CampaignIn) -> CampaignOut:
    selection = Selection(body.sgc, body.krn, body.base_date, body.algorithm, body.unit, tuple(body.meters))
    target = Target(body.new_krn, body.new_base_date, body.rollover, body.new_algorithm, body.dkga)
    info = services.call(services.vending.create_campaign, admin.subject, body.name, body.reason, selection, target,
                         chunk_size=body.chunk_size)  # fmt: skip
    return CampaignOut.of(info)


@router.get("/{campaign_id}", response_model=CampaignOut, responses=_ERRORS,
            summary="Status: selected / generated / delivered / confirmed, overall and per unit")  # fmt: skip
def get_campaign(operator: CurrentOperator, services: ServicesDep, campaign_id: int = CampaignId) -> CampaignOut:
    return CampaignOut.of(services.call(services.vending.campaign, campaign_id, per_unit=True))


@router.post("/{campaign_id}/approve", response_model=CampaignOut, responses=_ERRORS,
             summary="Approve (an admin other than the maker)")  # fmt: skip
def approve_campaign(
    admin: CurrentAdmin, services: ServicesDep, body: ApproveIn | None = None, campaign_id: int = CampaignId
) -> CampaignOut:
    reason = body.reason if body else ""
    return CampaignOut.of(services.call(services.vending.approve_campaign, campaign_id, admin.subject, reason=reason))


@router.post("/{campaign_id}/run", response_model=CampaignOut, responses=_ERRORS,
             summary="Generate (SQLite: now, in-process; PostgreSQL: chunks queued for campaign workers)")  # fmt: skip
def run_campaign(admin: CurrentAdmin, services: ServicesDep, campaign_id: int = CampaignId) -> CampaignOut:
    vending = services.vending

    def go() -> CampaignInfo:
        from prabayar.vending.db import is_sqlite

        if is_sqlite(vending.engine):
            vending.run_campaign(campaign_id)
        else:
            from prabayar.vending import campaign_queue

            url = vending.engine.url.render_as_string(hide_password=False)
            vending.plan_campaign(campaign_id)
            campaign_queue.ensure_schema(url)
            app = campaign_queue.build_app(url, lambda: vending)
            campaign_queue.defer_chunks(app, campaign_id, vending.pending_chunks(campaign_id))
        info: CampaignInfo = vending.campaign(campaign_id, per_unit=True)
        return info

    return CampaignOut.of(services.call(go))


@router.get("/{campaign_id}/export", response_class=PlainTextResponse, responses=_ERRORS,
            summary="CSV for a unit's field team: meters with their KCTs in keying order")  # fmt: skip
def export_campaign(
    operator: CurrentOperator, services: ServicesDep, unit: Annotated[str, Query(min_length=1, max_length=8)],
    campaign_id: int = CampaignId,
) -> PlainTextResponse:  # fmt: skip
    text = services.call(services.vending.export_campaign, campaign_id, unit)
    safe = "".join(ch for ch in unit if ch.isascii() and ch.isalnum())
    disposition = f'attachment; filename="kampanye-{campaign_id}-{safe}.csv"'
    return PlainTextResponse(text, media_type="text/csv", headers={"Content-Disposition": disposition})
