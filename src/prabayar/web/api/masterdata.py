"""The master-data API: customers, meters, units (operators); channels, tariffs, keys (admins).

Every change names its reason and is audited by vending with the caller's user name. A new
tariff version or a vending key import is a maker-checker request: the answer is ``202`` with
the pending request, which another admin approves at ``/api/v1/operator/approvals/{id}``. Keys
travel only wrapped (AES key wrap under the KEK); no response ever holds a key, only its
fingerprint. A channel's API key is in the response of ``POST /admin/channels`` and
``.../rotate-key`` only: it is not stored in clear and cannot be shown again.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from prabayar.web.api.approvals import PENDING_RESPONSE, accepted
from prabayar.web.api.schemas import error_responses
from prabayar.web.deps import CurrentAdmin, CurrentOperator, ServicesDep

router = APIRouter(prefix="/admin", tags=["master data"])

_READ = error_responses(401, 403, 404, 422, 429, 503)
_WRITE = error_responses(401, 403, 404, 409, 422, 429, 503)
IdpelPath = Path(pattern=r"^[0-9]{12}$", description="12-digit IDPEL")
MeterPath = Path(pattern=r"^[0-9]{11}$|^[0-9]{13}$", description="11- or 13-digit meter number")
IdentifierPath = Path(pattern=r"^[0-9]{11,13}$", description="IDPEL or meter number")
CodePath = Path(pattern=r"^[A-Za-z0-9_-]{1,16}$", description="channel, unit or tariff code")
Reason = Annotated[str, Field(min_length=3, max_length=500, description="why (kept in the audit log)")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReasonIn(In):
    reason: Reason


# --- documents ------------------------------------------------------------------------------------
class MeterRecordOut(BaseModel):
    meter_number: str
    status: str = Field(description="in_stock, active, blocked, removed, broken or replaced")
    idpel: str | None
    sgc: str
    tariff_index: str
    krn: int
    key_type: int
    ea: str = Field(description="07 STA, 09 DEA, 11 MISTY1")
    dkga: str
    base_date: str = Field(description="1993, 2014 or 2035")
    ken: int
    last_tid: int
    replaced_by: str | None

    @classmethod
    def of(cls, m: Any) -> MeterRecordOut:
        return cls(
            meter_number=m.meter_number,
            status=m.status,
            idpel=m.idpel,
            sgc=m.sgc,
            tariff_index=m.tariff_index,
            krn=m.krn,
            key_type=m.key_type,
            ea=m.ea,
            dkga=m.dkga,
            base_date=m.base_year,
            ken=m.ken,
            last_tid=m.last_tid,
            replaced_by=m.replaced_by,
        )


class CustomerRecordOut(BaseModel):
    idpel: str
    name: str
    address: str
    unit: str
    tariff_class: str = Field(examples=["R1-1300"])
    tariff: str = Field(examples=["R1"], description="as printed on the struk")
    power_va: int
    phone: str | None
    status: str = Field(description="active, blocked or closed")
    status_reason: str | None
    monthly_cap_kwh: Decimal
    meters: list[MeterRecordOut]

    @classmethod
    def of(cls, c: Any) -> CustomerRecordOut:
        return cls(
            idpel=c.idpel,
            name=c.name,
            address=c.address,
            unit=c.unit_code,
            tariff_class=c.tariff_class,
            tariff=c.tariff_code,
            power_va=c.va,
            phone=c.phone,
            status=c.status,
            status_reason=c.status_reason,
            monthly_cap_kwh=c.monthly_cap_kwh,
            meters=[MeterRecordOut.of(m) for m in c.meters],
        )


class CustomerListOut(BaseModel):
    customers: list[CustomerRecordOut]


class MeterListOut(BaseModel):
    meters: list[MeterRecordOut]


class UnitOut(BaseModel):
    code: str
    uid_name: str
    up3_name: str
    is_default: bool
    pbjt_rates: dict[str, Decimal] = Field(description="tariff class -> rate (0.024 = 2.4 %)")

    @classmethod
    def of(cls, u: Any) -> UnitOut:
        return cls(
            code=u.code,
            uid_name=u.uid_name,
            up3_name=u.up3_name,
            is_default=u.is_default,
            pbjt_rates=dict(u.pbjt_rates),
        )


class UnitListOut(BaseModel):
    units: list[UnitOut]


class ChannelOut(BaseModel):
    code: str
    name: str
    kind: str
    active: bool
    admin_fee_tiers: list[tuple[int, int]] = Field(description="[from nominal, fee]; the highest reached applies")
    allowed_nominals: list[int] | None = Field(description="null: any amount between min and max")
    min_nominal: int
    max_nominal: int
    purchases_per_minute: int = Field(description="0 = unlimited")
    key_version: int = Field(description="changes on every key rotation or disable (for key caches)")
    active_keys: int

    @classmethod
    def of(cls, c: Any) -> ChannelOut:
        return cls(
            code=c.code,
            name=c.name,
            kind=c.kind,
            active=c.active,
            admin_fee_tiers=list(c.admin_fee_tiers),
            allowed_nominals=list(c.allowed_nominals) if c.allowed_nominals is not None else None,
            min_nominal=c.min_nominal,
            max_nominal=c.max_nominal,
            purchases_per_minute=c.purchases_per_minute,
            key_version=c.key_version,
            active_keys=c.active_keys,
        )


class ChannelListOut(BaseModel):
    channels: list[ChannelOut]


class ChannelKeyOut(BaseModel):
    code: str
    api_key: str = Field(description="shown this once: only its hash is kept")
    key_version: int


class NewChannelOut(BaseModel):
    channel: ChannelOut
    api_key: str = Field(description="shown this once: only its hash is kept")


class TariffVersionOut(BaseModel):
    tariff: str
    effective_from: datetime
    rp_per_kwh: Decimal
    created_at: datetime
    created_by: str
    reason: str

    @classmethod
    def of(cls, v: Any) -> TariffVersionOut:
        return cls(
            tariff=v.tariff,
            effective_from=v.effective_from,
            rp_per_kwh=v.rp_per_kwh,
            created_at=v.created_at,
            created_by=v.created_by,
            reason=v.reason,
        )


class TariffOut(BaseModel):
    code: str
    print_code: str
    description: str
    va_min: int
    va_max: int | None
    household: bool
    subsidised: bool
    rp_per_kwh: Decimal = Field(description="in force now")
    next_version: TariffVersionOut | None


class TariffListOut(BaseModel):
    tariffs: list[TariffOut]


class TariffHistoryOut(BaseModel):
    versions: list[TariffVersionOut]


class VendingKeyOut(BaseModel):
    sgc: str
    krn: int
    dkga: str
    fingerprint: str = Field(description="a short non-secret id; the key itself is never shown")
    created_at: datetime
    state: Literal["current", "staged", "retired"]
    meters: int


class VendingKeyListOut(BaseModel):
    keys: list[VendingKeyOut]


# --- requests -------------------------------------------------------------------------------------
class CustomerIn(In):
    idpel: str = Field(pattern=r"^[0-9]{12}$")
    name: str = Field(min_length=1, max_length=25)
    address: str = Field(min_length=1, max_length=120)
    tariff: str = Field(min_length=1, max_length=16, examples=["R1"], description="R1, R2, B2 ... or R1-900")
    power_va: int = Field(gt=0, le=100_000_000)
    unit: str | None = Field(default=None, max_length=8, description="default: the configured default unit")
    phone: str | None = Field(default=None, max_length=20)
    reason: Reason


class CustomerUpdateIn(In):
    name: str | None = Field(default=None, min_length=1, max_length=25)
    address: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(default=None, max_length=8)
    reason: Reason


class PowerIn(In):
    power_va: int = Field(gt=0, le=100_000_000)
    tariff: str | None = Field(default=None, max_length=16, description="default: the same group at the new VA")
    reason: Reason


class MeterIn(In):
    meter_number: str = Field(pattern=r"^[0-9]{11}$|^[0-9]{13}$")
    sgc: str = Field(pattern=r"^[0-9]{6}$")
    tariff_index: str = Field(default="01", pattern=r"^[0-9]{2}$")
    krn: int = Field(ge=1, le=9)
    key_type: int = Field(default=2, ge=0, le=3)
    ea: Literal["07", "09", "11"] = "07"
    dkga: Literal["02", "04"] = "04"
    base_date: Literal["1993", "2014", "2035"] = "2014"
    ken: int = Field(default=255, ge=0, le=255)
    reason: Reason


class InstallIn(In):
    idpel: str = Field(pattern=r"^[0-9]{12}$")
    reason: Reason


class UnitIn(In):
    code: str = Field(pattern=r"^[0-9]{1,8}$")
    uid_name: str = Field(min_length=1, max_length=80)
    up3_name: str = Field(min_length=1, max_length=80)
    default_rate: Decimal = Field(default=Decimal(0), ge=0, lt=1)
    pbjt_rates: dict[str, Decimal] = Field(default_factory=dict)
    reason: Reason


class RateIn(In):
    pbjt_rate: Decimal = Field(ge=0, lt=1, description="0.024 = 2.4 %")
    reason: Reason


class ChannelIn(In):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{2,16}$")
    name: str | None = Field(default=None, max_length=80)
    kind: Literal["bank", "minimarket", "ewallet", "app", "aggregator"] = "aggregator"
    admin_fee: int | list[tuple[int, int]] = Field(default=0, description="Rp, or tiers [[0, 1000], [100000, 2500]]")
    allowed_nominals: list[int] | Literal["free"] | None = Field(
        default=None, description="default: PLN's standard denominations"
    )
    min_nominal: int | None = None
    max_nominal: int | None = None
    purchases_per_minute: int = Field(default=600, ge=0, le=1_000_000, description="0 = unlimited")
    reason: Reason


class ChannelUpdateIn(In):
    name: str | None = Field(default=None, max_length=80)
    admin_fee: int | list[tuple[int, int]] | None = None
    allowed_nominals: list[int] | Literal["free"] | None = None
    min_nominal: int | None = None
    max_nominal: int | None = None
    purchases_per_minute: int | None = Field(default=None, ge=0, le=1_000_000)
    reason: Reason


class TariffVersionIn(In):
    rp_per_kwh: Decimal = Field(gt=0, lt=100_000, examples=["1444.70"])
    effective_from: datetime = Field(description="with a time zone; not in the past")
    reason: Reason


class VendingKeyIn(In):
    sgc: str = Field(pattern=r"^[0-9]{6}$")
    krn: int = Field(ge=1, le=9)
    wrapped_key_hex: str = Field(
        min_length=32,
        max_length=128,
        pattern=r"^[0-9A-Fa-f]+$",
        description="the key wrapped under the KEK (RFC 3394 / RFC 5649), in hex; never a clear key",
    )
    dkga: Literal["02", "04"] | None = None
    reason: Reason


# --- customers ------------------------------------------------------------------------------------
@router.get(
    "/customers",
    response_model=CustomerListOut,
    responses=_READ,
    summary="Search customers by name, address, IDPEL or meter number",
)
def search_customers(
    operator: CurrentOperator,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=2, max_length=80)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerListOut:
    found = services.call(services.vending.search_customers, q, limit=limit)
    return CustomerListOut(customers=[CustomerRecordOut.of(c) for c in found])


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerRecordOut,
    responses=_WRITE,
    summary="Register a customer (then install a meter)",
)
def register_customer(body: CustomerIn, operator: CurrentOperator, services: ServicesDep) -> CustomerRecordOut:
    c = services.call(
        services.vending.register_customer,
        operator.subject,
        idpel=body.idpel,
        name=body.name,
        address=body.address,
        tariff=body.tariff,
        power_va=body.power_va,
        unit=body.unit,
        phone=body.phone,
        reason=body.reason,
    )
    return CustomerRecordOut.of(c)


@router.get(
    "/customers/{identifier}",
    response_model=CustomerRecordOut,
    responses=_READ,
    summary="A customer with every meter it had, by IDPEL or meter number",
)
def customer_record(
    operator: CurrentOperator, services: ServicesDep, identifier: str = IdentifierPath
) -> CustomerRecordOut:
    return CustomerRecordOut.of(services.call(services.vending.customer_record, identifier))


@router.patch(
    "/customers/{idpel}",
    response_model=CustomerRecordOut,
    responses=_WRITE,
    summary="Correct name, address, phone or unit",
)
def update_customer(
    body: CustomerUpdateIn, operator: CurrentOperator, services: ServicesDep, idpel: str = IdpelPath
) -> CustomerRecordOut:
    c = services.call(
        services.vending.update_customer,
        operator.subject,
        idpel,
        body.reason,
        name=body.name,
        address=body.address,
        phone=body.phone,
        unit=body.unit,
    )
    return CustomerRecordOut.of(c)


@router.post(
    "/customers/{idpel}/power",
    response_model=CustomerRecordOut,
    responses=_WRITE,
    summary="Ubah daya: new VA, tariff class and monthly cap",
)
def change_power(
    body: PowerIn, operator: CurrentOperator, services: ServicesDep, idpel: str = IdpelPath
) -> CustomerRecordOut:
    c = services.call(
        services.vending.change_power, operator.subject, idpel, body.power_va, body.reason, tariff=body.tariff
    )
    return CustomerRecordOut.of(c)


def _status_route(verb: str, method: str, summary: str) -> None:
    def route(
        body: ReasonIn, operator: CurrentOperator, services: ServicesDep, idpel: str = IdpelPath
    ) -> CustomerRecordOut:
        return CustomerRecordOut.of(
            services.call(getattr(services.vending, method), operator.subject, idpel, body.reason)
        )

    route.__name__ = f"{verb}_customer"
    router.post(f"/customers/{{idpel}}/{verb}", response_model=CustomerRecordOut, responses=_WRITE, summary=summary)(
        route
    )


_status_route("block", "block_customer", "Block a customer from buying (RC 0077)")
_status_route("unblock", "unblock_customer", "Let a blocked customer buy again")
_status_route("close", "close_customer", "Close a customer for good (its meters are taken off)")


# --- meters ---------------------------------------------------------------------------------------
@router.post(
    "/meters",
    status_code=201,
    response_model=MeterRecordOut,
    responses=_WRITE,
    summary="Register a meter with its key parameters (into stock)",
)
def register_meter(body: MeterIn, operator: CurrentOperator, services: ServicesDep) -> MeterRecordOut:
    m = services.call(
        services.vending.register_meter,
        operator.subject,
        body.meter_number,
        sgc=body.sgc,
        tariff_index=body.tariff_index,
        krn=body.krn,
        key_type=body.key_type,
        ea=body.ea,
        dkga=body.dkga,
        base_date=body.base_date,
        ken=body.ken,
        reason=body.reason,
    )
    return MeterRecordOut.of(m)


@router.get("/meters", response_model=MeterListOut, responses=_READ, summary="Meters in stock (not installed)")
def meter_stock(
    operator: CurrentOperator, services: ServicesDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> MeterListOut:
    return MeterListOut(meters=[MeterRecordOut.of(m) for m in services.call(services.vending.meter_stock, limit=limit)])


@router.get(
    "/meters/{meter_number}",
    response_model=MeterRecordOut,
    responses=_READ,
    summary="A meter with its key parameters (installed or in stock)",
)
def meter_record(operator: CurrentOperator, services: ServicesDep, meter_number: str = MeterPath) -> MeterRecordOut:
    return MeterRecordOut.of(services.call(services.vending.meter_record, meter_number))


@router.post(
    "/meters/{meter_number}/install",
    response_model=CustomerRecordOut,
    responses=_WRITE,
    summary="Pasang baru: install a meter on a customer",
)
def install_meter(
    body: InstallIn, operator: CurrentOperator, services: ServicesDep, meter_number: str = MeterPath
) -> CustomerRecordOut:
    c = services.call(services.vending.install_meter, operator.subject, meter_number, body.idpel, body.reason)
    return CustomerRecordOut.of(c)


@router.post(
    "/meters/{meter_number}/remove",
    response_model=MeterRecordOut,
    responses=_WRITE,
    summary="Take a meter off its customer",
)
def remove_meter(
    body: ReasonIn, operator: CurrentOperator, services: ServicesDep, meter_number: str = MeterPath
) -> MeterRecordOut:
    return MeterRecordOut.of(services.call(services.vending.remove_meter, operator.subject, meter_number, body.reason))


@router.post(
    "/meters/{meter_number}/broken",
    response_model=MeterRecordOut,
    responses=_WRITE,
    summary="Mark a meter broken (nothing is sold for it)",
)
def broken_meter(
    body: ReasonIn, operator: CurrentOperator, services: ServicesDep, meter_number: str = MeterPath
) -> MeterRecordOut:
    return MeterRecordOut.of(
        services.call(services.vending.mark_meter_broken, operator.subject, meter_number, body.reason)
    )


# --- units ----------------------------------------------------------------------------------------
@router.get("/units", response_model=UnitListOut, responses=_READ, summary="Units with their PBJT-TL rates")
def units(operator: CurrentOperator, services: ServicesDep) -> UnitListOut:
    return UnitListOut(units=[UnitOut.of(u) for u in services.call(services.vending.units)])


@router.post("/units", status_code=201, response_model=UnitOut, responses=_WRITE, summary="Add a unit (admin)")
def add_unit(body: UnitIn, admin: CurrentAdmin, services: ServicesDep) -> UnitOut:
    u = services.call(
        services.vending.add_unit,
        admin.subject,
        body.code,
        body.uid_name,
        body.up3_name,
        body.reason,
        pbjt_rates={k: str(v) for k, v in body.pbjt_rates.items()},
        default_rate=str(body.default_rate),
    )
    return UnitOut.of(u)


@router.put(
    "/units/{code}/rates/{tariff}",
    response_model=UnitOut,
    responses=_WRITE,
    summary="Set one PBJT-TL rate of a unit (admin)",
)
def set_rate(
    body: RateIn,
    admin: CurrentAdmin,
    services: ServicesDep,
    code: str = CodePath,
    tariff: str = Path(pattern=r"^[A-Za-z0-9-]{1,16}$"),
) -> UnitOut:
    return UnitOut.of(
        services.call(services.vending.set_unit_tax_rate, admin.subject, code, tariff, str(body.pbjt_rate), body.reason)
    )


@router.post(
    "/units/{code}/default",
    status_code=204,
    responses=_WRITE,
    summary="Make a unit the default for customers registered without one (admin)",
)
def set_default_unit(body: ReasonIn, admin: CurrentAdmin, services: ServicesDep, code: str = CodePath) -> None:
    services.call(services.vending.set_default_unit, admin.subject, code, body.reason)


# --- channels -------------------------------------------------------------------------------------
@router.get("/channels", response_model=ChannelListOut, responses=_READ, summary="Sales channels (admin)")
def channels(admin: CurrentAdmin, services: ServicesDep) -> ChannelListOut:
    return ChannelListOut(channels=[ChannelOut.of(c) for c in services.call(services.vending.channel_details)])


@router.post(
    "/channels",
    status_code=201,
    response_model=NewChannelOut,
    responses=_WRITE,
    summary="Add a sales channel; its API key is in this response only (admin)",
)
def add_channel(body: ChannelIn, admin: CurrentAdmin, services: ServicesDep) -> JSONResponse:
    detail, key = services.call(
        services.vending.add_channel,
        admin.subject,
        body.code,
        body.reason,
        name=body.name,
        kind=body.kind,
        admin_fee=body.admin_fee,
        purchases_per_minute=body.purchases_per_minute,
        allowed_nominals=body.allowed_nominals,
        min_nominal=body.min_nominal,
        max_nominal=body.max_nominal,
    )
    out = NewChannelOut(channel=ChannelOut.of(detail), api_key=key.api_key)
    return JSONResponse(status_code=201, content=out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.patch(
    "/channels/{code}",
    response_model=ChannelOut,
    responses=_WRITE,
    summary="Change a channel's fee, nominals or purchase rate limit (admin)",
)
def update_channel(
    body: ChannelUpdateIn, admin: CurrentAdmin, services: ServicesDep, code: str = CodePath
) -> ChannelOut:
    c = services.call(
        services.vending.update_channel,
        admin.subject,
        code,
        body.reason,
        name=body.name,
        admin_fee=body.admin_fee,
        purchases_per_minute=body.purchases_per_minute,
        allowed_nominals=body.allowed_nominals,
        min_nominal=body.min_nominal,
        max_nominal=body.max_nominal,
    )
    return ChannelOut.of(c)


@router.post(
    "/channels/{code}/rotate-key",
    response_model=ChannelKeyOut,
    responses=_WRITE,
    summary="A new API key (in this response only); earlier keys stop working (admin)",
)
def rotate_key(body: ReasonIn, admin: CurrentAdmin, services: ServicesDep, code: str = CodePath) -> JSONResponse:
    key = services.call(services.vending.rotate_channel_key, admin.subject, code, body.reason)
    out = ChannelKeyOut(code=key.code, api_key=key.api_key, key_version=key.key_version)
    return JSONResponse(content=out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.post(
    "/channels/{code}/disable",
    response_model=ChannelOut,
    responses=_WRITE,
    summary="Disable a channel: its keys are revoked (admin)",
)
def disable_channel(body: ReasonIn, admin: CurrentAdmin, services: ServicesDep, code: str = CodePath) -> ChannelOut:
    return ChannelOut.of(services.call(services.vending.disable_channel, admin.subject, code, body.reason))


# --- tariffs --------------------------------------------------------------------------------------
@router.get(
    "/tariffs",
    response_model=TariffListOut,
    responses=_READ,
    summary="Tariff classes with the price in force and the next version",
)
def tariffs(operator: CurrentOperator, services: ServicesDep) -> TariffListOut:
    found = services.call(services.vending.tariff_classes)
    return TariffListOut(
        tariffs=[
            TariffOut(
                code=t.code,
                print_code=t.print_code,
                description=t.description,
                va_min=t.va_min,
                va_max=t.va_max,
                household=t.household,
                subsidised=t.subsidised,
                rp_per_kwh=t.rp_per_kwh,
                next_version=TariffVersionOut.of(t.next_version) if t.next_version else None,
            )
            for t in found
        ]
    )


@router.get(
    "/tariffs/{code}/versions",
    response_model=TariffHistoryOut,
    responses=_READ,
    summary="Every price version of a class, newest first",
)
def tariff_history(operator: CurrentOperator, services: ServicesDep, code: str = CodePath) -> TariffHistoryOut:
    return TariffHistoryOut(
        versions=[TariffVersionOut.of(v) for v in services.call(services.vending.tariff_history, code)]
    )


@router.post(
    "/tariffs/{code}/versions",
    status_code=202,
    responses={**_WRITE, **PENDING_RESPONSE},
    summary="Ask for a new price version: another admin approves it (admin)",
)
def request_tariff_version(
    body: TariffVersionIn, admin: CurrentAdmin, services: ServicesDep, code: str = CodePath
) -> JSONResponse:
    request = services.call(
        services.vending.request_tariff_version,
        admin.subject,
        code,
        str(body.rp_per_kwh),
        body.effective_from,
        body.reason,
    )
    return accepted(request)


# --- vending keys ---------------------------------------------------------------------------------
@router.get(
    "/vending-keys",
    response_model=VendingKeyListOut,
    responses=_READ,
    summary="Held vending keys: fingerprint and state, never the key (admin)",
)
def vending_keys(admin: CurrentAdmin, services: ServicesDep) -> VendingKeyListOut:
    keys = services.call(services.vending.vending_keys)
    return VendingKeyListOut(keys=[VendingKeyOut(**k.__dict__) for k in keys])


@router.post(
    "/vending-keys",
    status_code=202,
    responses={**_WRITE, **PENDING_RESPONSE},
    summary="Ask to import a wrapped vending key: another admin approves it (admin)",
)
def request_key_import(body: VendingKeyIn, admin: CurrentAdmin, services: ServicesDep) -> JSONResponse:
    request = services.call(
        services.vending.request_vending_key_import,
        admin.subject,
        body.sgc,
        body.krn,
        body.wrapped_key_hex,
        body.reason,
        dkga=body.dkga,
    )
    return accepted(request)
