"""Request and response documents of the HTTP API (money in int rupiah, kWh as decimal strings)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{11,13}$",
        description="11-digit meter number (13 for a long DRN) or 12-digit IDPEL",
        examples=["14312593289"],
    ),
]
ChannelReference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="the channel's own transaction reference; the idempotency key of a purchase",
        examples=["BANKDEMO-20260101-000001"],
    ),
]
Nominal = Annotated[int, Field(gt=0, le=1_000_000_000, description="token nominal in rupiah")]


def kwh2(value: Decimal) -> Decimal:
    """kWh always with two decimals (as PLN's H2H messages carry it), whatever the source scale."""
    return Decimal(value).quantize(Decimal("0.01"))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDocument(BaseModel):
    """Every error: HTTP status plus PLN response code, a slug and both messages."""

    response_code: str = Field(examples=["0014"])
    error: str = Field(examples=["unknown_meter"])
    message: str = Field(description="Indonesian, for the customer")
    message_en: str
    request_id: str
    detail: list[dict[str, Any]] | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` argument documenting the error document for these statuses."""
    return {status: ERROR_RESPONSES[status] for status in statuses}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorDocument} for code in (400, 401, 403, 404, 409, 422, 429, 503)
}


class HealthOut(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyOut(BaseModel):
    status: Literal["ready"] = "ready"
    database: Literal["ok"] = "ok"


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str


class MeOut(BaseModel):
    username: str
    role: str
    idpel: str | None


class PriceOut(BaseModel):
    nominal: int
    admin_fee: int
    total_paid: int
    meterai: int
    ppn: int
    pbjt: int
    angsuran: int
    stroom: int
    kwh: Decimal
    tariff_rp_per_kwh: Decimal
    pbjt_rate: Decimal

    @classmethod
    def of(cls, price: Any) -> PriceOut:
        return cls(
            nominal=price.nominal,
            admin_fee=price.admin_fee,
            total_paid=price.total_paid,
            meterai=price.meterai,
            ppn=price.ppn,
            pbjt=price.pbjt,
            angsuran=price.angsuran,
            stroom=price.stroom,
            kwh=kwh2(price.kwh),
            tariff_rp_per_kwh=Decimal(str(price.tariff_rp_per_kwh)),
            pbjt_rate=Decimal(str(price.pbjt_rate)),
        )


class ReceiptLine(BaseModel):
    label: str
    value: str


def _kct_instruction(n: int) -> str | None:
    if not n:
        return None
    return (f"Masukkan {n} token ganti kunci (KCT) berurutan, lalu token listrik / "
            f"Key in the {n} key change tokens (KCT) in order, then the credit token")  # fmt: skip


class PurchaseOut(BaseModel):
    response_code: str = "0000"
    reference_number: str = Field(description="PLN's 32-character reference (NO REF)")
    channel: str
    channel_reference: str
    meter_number: str
    idpel: str
    name: str
    tariff: str
    power_va: int
    token: str = Field(description="the 20 digits")
    token_display: str = Field(description="grouped 4-4-4-4-4 as printed")
    price: PriceOut
    created_at: datetime
    delivered: bool
    replayed: bool
    receipt: list[ReceiptLine]
    key_change_tokens: list[str] = Field(
        default_factory=list,
        description="a key-change campaign's KCTs: key them in this order BEFORE `token`, which is made "
        "with the new key (empty for an ordinary sale)",
    )
    key_change_instruction: str | None = Field(
        default=None, description="what to tell the customer when `key_change_tokens` is not empty (id / en)"
    )

    @classmethod
    def of(cls, result: Any) -> PurchaseOut:
        token = str(result.token)
        receipt = result.receipt
        return cls(
            reference_number=result.reference_number,
            channel=result.channel,
            channel_reference=result.channel_reference,
            meter_number=result.meter_number,
            idpel=result.idpel,
            name=result.name,
            tariff=result.tariff_code,
            power_va=result.va,
            token=token,
            token_display=" ".join(token[i : i + 4] for i in range(0, len(token), 4)),
            price=PriceOut.of(result.price),
            created_at=result.created_at,
            delivered=result.delivered,
            replayed=result.replayed,
            receipt=[ReceiptLine(label=str(k), value=str(v)) for k, v in receipt.lines()],
            key_change_tokens=list(getattr(result, "key_change_tokens", ())),
            key_change_instruction=_kct_instruction(len(getattr(result, "key_change_tokens", ()))),
        )


class InquiryIn(Strict):
    identifier: Identifier
    nominal: Nominal | None = Field(
        default=None, description="when given, the price breakdown for this nominal is included"
    )


class InquiryOut(BaseModel):
    response_code: str = "0000"
    meter_number: str
    idpel: str
    name: str
    tariff: str
    power_va: int
    unit: str
    monthly_cap_kwh: Decimal
    kwh_this_month: Decimal
    debt_remaining: int = Field(description="outstanding debt recovered by angsuran")
    unsold_tokens: list[PurchaseOut] = Field(
        default=[], description="tokens this channel sold but never confirmed as delivered"
    )
    price: PriceOut | None = None

    @classmethod
    def of(cls, inquiry: Any, unsold: list[Any], price: Any | None) -> InquiryOut:
        return cls(
            meter_number=inquiry.meter_number,
            idpel=inquiry.idpel,
            name=inquiry.name,
            tariff=inquiry.tariff_code,
            power_va=inquiry.va,
            unit=inquiry.unit_name,
            monthly_cap_kwh=kwh2(inquiry.monthly_cap_kwh),
            kwh_this_month=kwh2(inquiry.kwh_this_month),
            debt_remaining=inquiry.debt_remaining,
            unsold_tokens=[PurchaseOut.of(p) for p in unsold],
            price=PriceOut.of(price) if price is not None else None,
        )


class PurchaseIn(Strict):
    channel_reference: ChannelReference
    identifier: Identifier
    nominal: Nominal


class ReferenceIn(Strict):
    channel_reference: ChannelReference


class ConfirmOut(BaseModel):
    response_code: str = "0000"
    channel_reference: str
    delivered: bool = True


class ReprintIn(Strict):
    identifier: Identifier
    limit: int = Field(default=10, ge=1, le=50)


class PurchaseListOut(BaseModel):
    response_code: str = "0000"
    purchases: list[PurchaseOut]


class MeterOut(BaseModel):
    meter_number: str
    idpel: str
    name: str
    address: str
    tariff: str
    power_va: int
    unit: str
    status: str
    customer_status: str

    @classmethod
    def of(cls, inquiry: Any) -> MeterOut:
        return cls(
            meter_number=inquiry.meter_number,
            idpel=inquiry.idpel,
            name=inquiry.name,
            address=inquiry.address,
            tariff=inquiry.tariff_code,
            power_va=inquiry.va,
            unit=inquiry.unit_name,
            status=inquiry.meter_status,
            customer_status=inquiry.customer_status,
        )


class MeterListOut(BaseModel):
    meters: list[MeterOut]


class CustomerOut(BaseModel):
    idpel: str
    name: str
    address: str
    meters: list[MeterOut]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    meter_number: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: Any) -> AuditEntryOut:
        return cls(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            meter_number=entry.meter_number,
            detail=dict(entry.detail),
        )


class AuditListOut(BaseModel):
    entries: list[AuditEntryOut]


class ManagementIn(Strict):
    meter_number: Annotated[str, Field(pattern=r"^[0-9]{11,13}$")]
    kind: Literal["clear_tamper", "clear_credit", "set_power_limit", "key_change"]
    # No length rule here: vending decides (at least 3 characters) and answers 0005
    # reason_required, the one documented code for a missing, blank or too short reason.
    reason: str = Field(default="", max_length=500)
    watts: int | None = Field(default=None, ge=1, le=1_000_000)
    credit_register: int = Field(default=0, ge=0, le=0xFFFF, description="clear_credit: 0 electricity, 65535 all")
    rollover: bool = False


class ManagementOut(BaseModel):
    response_code: str = "0000"
    kind: str
    meter_number: str
    tokens: list[str]
    operator: str
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, result: Any) -> ManagementOut:
        return cls(
            kind=str(result.kind),
            meter_number=result.meter_number,
            tokens=[str(t) for t in result.tokens],
            operator=result.operator,
            reason=result.reason,
            created_at=result.created_at,
        )
