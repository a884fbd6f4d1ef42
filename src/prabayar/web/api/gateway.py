"""Operator API for the ISO 8583 gateway's partners (list for staff; add and remove for admins).

A running ``prabayar gateway run`` polls the partner table and applies a change within seconds,
without touching other partners' connections (docs/iso8583.md).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from prabayar.vending.hostlink import GatewayPartner
from prabayar.web.api.schemas import error_responses
from prabayar.web.deps import CurrentAdmin, CurrentOperator, ServicesDep

router = APIRouter(prefix="/operator/gateway-partners", tags=["gateway"])
_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 503)
ChannelPath = Path(pattern=r"^[A-Za-z0-9_.-]{1,16}$", description="channel code")


class PartnerIn(BaseModel):
    """A partner (ISO8583.md §1.1); the channel is created with the ``new_channel_*`` values if missing."""

    channel: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,16}$")
    port: int = Field(ge=1, le=65535)
    framing: Literal["trailer", "len2"] = "trailer"
    switcher_id: str = Field(min_length=7, max_length=7)
    pcid: str = Field(pattern=r"^[0-9]{1,11}$")
    bank_codes: list[str] = Field(min_length=1, max_length=20)
    sources: list[str] = Field(min_length=1, max_length=50)
    max_connections: int = Field(default=2, ge=1, le=64)
    max_in_flight: int = Field(default=32, ge=1, le=1024)
    new_channel_admin_fee: int = Field(default=0, ge=0, le=1_000_000)
    new_channel_nominals: list[int] | None = None
    new_channel_min_nominal: int | None = Field(default=None, ge=1)
    new_channel_max_nominal: int | None = Field(default=None, ge=1)


class PartnerOut(BaseModel):
    channel: str
    port: int
    framing: str
    switcher_id: str
    pcid: str
    bank_codes: list[str]
    sources: list[str]
    max_connections: int
    max_in_flight: int

    @classmethod
    def of(cls, p: GatewayPartner) -> PartnerOut:
        return cls(
            channel=p.channel, port=p.port, framing=p.framing, switcher_id=p.switcher_id, pcid=p.pcid,
            bank_codes=list(p.bank_codes), sources=list(p.sources), max_connections=p.max_connections,
            max_in_flight=p.max_in_flight,
        )  # fmt: skip


class PartnerListOut(BaseModel):
    partners: list[PartnerOut]


@router.get("", response_model=PartnerListOut, responses=_ERRORS, summary="The ISO 8583 partners, by port")
def list_partners(operator: CurrentOperator, services: ServicesDep) -> PartnerListOut:
    return PartnerListOut(partners=[PartnerOut.of(p) for p in services.call(services.vending.gateway_partners)])


@router.post(
    "",
    response_model=PartnerOut,
    status_code=201,
    responses=_ERRORS,
    summary="Make a channel an ISO 8583 partner (admins; the channel is created if missing)",
)
def add_partner(body: PartnerIn, admin: CurrentAdmin, services: ServicesDep) -> PartnerOut:
    partner = services.call(
        services.vending.add_gateway_partner,
        body.channel, port=body.port, framing=body.framing, switcher_id=body.switcher_id, pcid=body.pcid,
        bank_codes=body.bank_codes, sources=body.sources, max_connections=body.max_connections,
        max_in_flight=body.max_in_flight, actor=admin.subject, admin_fee=body.new_channel_admin_fee,
        nominals=body.new_channel_nominals, min_nominal=body.new_channel_min_nominal,
        max_nominal=body.new_channel_max_nominal,
    )  # fmt: skip
    return PartnerOut.of(partner)


@router.delete(
    "/{channel}",
    status_code=204,
    responses=_ERRORS,
    summary="Remove a partner (its port closes; the channel and its sales stay) (admins)",
)
def remove_partner(admin: CurrentAdmin, services: ServicesDep, channel: str = ChannelPath) -> Response:
    services.call(services.vending.remove_gateway_partner, channel, actor=admin.subject)
    return Response(status_code=204)
