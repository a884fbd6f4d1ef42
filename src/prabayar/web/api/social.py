"""Social media webhook: a message to @pln_123 on X, PLN's Facebook page or @pln_id on Instagram
becomes a complaint ticket on that channel, and the same assistant as the live chat answers
when the text carries a meter number and a 20-digit token.

Authentication is per channel: the connector that receives the platform's messages signs each
request with the channel's secret (``PRABAYAR_SOCIAL_SECRET_X``, ``..._FACEBOOK``,
``..._INSTAGRAM``; a channel without a secret is switched off)::

    X-Prabayar-Timestamp: <unix seconds>
    X-Prabayar-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

A timestamp more than 5 minutes away from the server's clock is refused (replays). The same
``message_id`` on the same channel is answered from its first ticket, never a second one
(platforms retry deliveries).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from prabayar.support import DiagnosisRequest
from prabayar.support.chat import answer, extract
from prabayar.support.errors import MeterNotFound, SupportError
from prabayar.support.models import TicketRow
from prabayar.support.ticket_service import TicketService
from prabayar.support.tickets import Channel
from prabayar.web.api.schemas import error_responses
from prabayar.web.api.support import diagnosis_engine
from prabayar.web.deps import ServicesDep
from prabayar.web.errors import NotAuthenticated, WebError
from prabayar.web.services import Services

router = APIRouter(prefix="/social", tags=["social"])
MAX_SKEW_SECONDS = 300
SocialChannel = Literal["x", "facebook", "instagram"]
_DISPLAY = re.compile(r"\b(GAGAL|BENAR|USED|OLD|PERIKSA|OVER|FAIL|ERROR)\b", re.IGNORECASE)


class SocialMessageIn(BaseModel):
    """One message as the platform connector forwards it."""

    model_config = ConfigDict(extra="forbid")
    message_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                            description="the platform's id of the message (retries carry the same id)")  # fmt: skip
    sender: str = Field(min_length=1, max_length=100, description="the sender's handle or name on the platform")
    text: str = Field(min_length=1, max_length=2000)


class ReplyText(BaseModel):
    id: str
    en: str


class SocialReplyOut(BaseModel):
    """What to post back to the sender (``reply``), and the ticket opened for the message."""

    channel: str
    ticket: str | None = Field(description="the complaint ticket, when the message names a known meter")
    duplicate: bool = Field(description="the message_id was seen before: the first ticket is returned")
    meter_number: str | None
    cause: str | None = Field(description="the diagnosis' cause when a meter and a token were recognised")
    corrected_token: str | None = Field(description="the token to key in instead, when the diagnosis found one")
    reply: ReplyText


def channel_secret(channel: str) -> bytes | None:
    """The channel's webhook secret from the environment (never logged, never stored)."""
    value = os.environ.get(f"PRABAYAR_SOCIAL_SECRET_{channel.upper()}", "")
    return value.encode() if value else None


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class BadSignature(NotAuthenticated):
    message_id = "Tanda tangan webhook tidak sah atau kedaluwarsa."
    message_en = "The webhook signature is missing, wrong or expired."


class ChannelOff(WebError):
    status_code = 503
    slug = "channel_not_configured"
    message_id = "Kanal media sosial ini belum dikonfigurasi."
    message_en = "This social channel is not configured (no webhook secret)."


@router.post(
    "/{channel}/messages",
    response_model=SocialReplyOut,
    responses=error_responses(401, 422, 503),
    summary="Receive a message from X, Facebook or Instagram",
)
async def social_message(
    request: Request,
    message: SocialMessageIn,
    services: ServicesDep,
    channel: Annotated[SocialChannel, Path(description="x, facebook or instagram")],
    x_prabayar_timestamp: Annotated[str | None, Header(max_length=20, description="unix seconds")] = None,
    x_prabayar_signature: Annotated[
        str | None, Header(max_length=80, description='"sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)')
    ] = None,
) -> SocialReplyOut:
    """Opens a complaint ticket on the channel for a message that names a known meter (the
    diagnosis attached when it also carries a token) and returns the assistant's reply."""
    stamp = (x_prabayar_timestamp or "").strip()
    if not x_prabayar_signature or not stamp.isascii() or not stamp.isdigit():
        raise BadSignature()
    if abs(time.time() - int(stamp)) > MAX_SKEW_SECONDS:
        raise BadSignature()
    secret = channel_secret(channel)
    if secret is None:
        raise ChannelOff()
    body = await request.body()
    if not hmac.compare_digest(signature(secret, stamp, body), x_prabayar_signature):
        raise BadSignature()
    return await run_in_threadpool(_handle, request, services, channel, message)


def _handle(request: Request, services: Services, channel: str, message: SocialMessageIn) -> SocialReplyOut:
    chan = Channel(channel)
    marker = f"[{chan.value}:{message.message_id}]"
    with Session(services.vending.engine) as session:
        seen = session.scalar(
            select(TicketRow).where(TicketRow.channel == chan.value, TicketRow.description.contains(marker)).limit(1)
        )
        if seen is not None:
            return SocialReplyOut(
                channel=chan.value, ticket=seen.number, duplicate=True, meter_number=seen.meter_number,
                cause=None, corrected_token=None,
                reply=ReplyText(id=f"Pesan Anda sudah tercatat di tiket {seen.number}.",
                                en=f"Your message is already recorded in ticket {seen.number}."),
            )  # fmt: skip
    found = extract(message.text)
    actor = f"{chan.value}:{message.sender}"[:64]
    diagnosis = None
    if found.meter and found.token:
        display = _DISPLAY.search(message.text)
        engine = diagnosis_engine(request, services, actor)
        try:
            diagnosis = services.call(
                engine.diagnose,
                DiagnosisRequest(found.meter, found.token, display.group(1).upper() if display else None),
            )
        except (SupportError, WebError):
            diagnosis = None
    ticket = None
    if found.meter:
        try:
            ticket = TicketService(services.vending).open(
                channel=chan, identifier=found.meter, actor=actor, diagnosis=diagnosis,
                description=f"{marker} {message.sender}: {message.text}",
                contact=f"{chan.label} {message.sender}"[:120],
                typed=found.token or "",
            )  # fmt: skip
        except MeterNotFound:
            ticket = None
    if diagnosis is not None:
        said = answer(diagnosis).text
        corrected = next((t for s in diagnosis.next_steps for t in s.tokens), None)
        reply = ReplyText(id=said.id + (f"\nTiket: {ticket.number}" if ticket else ""),
                          en=said.en + (f"\nTicket: {ticket.number}" if ticket else ""))  # fmt: skip
        return SocialReplyOut(channel=chan.value, ticket=ticket.number if ticket else None, duplicate=False,
                              meter_number=found.meter, cause=diagnosis.cause.value, corrected_token=corrected,
                              reply=reply)  # fmt: skip
    if ticket is not None:
        reply = ReplyText(
            id=f"Terima kasih, pengaduan Anda kami catat dengan nomor tiket {ticket.number}. Kirim juga 20 angka "
            "token yang Anda masukkan dan tulisan di layar meter agar kami bisa langsung memeriksanya.",
            en=f"Thank you, your complaint is recorded as ticket {ticket.number}. Also send the 20 digits you "
            "keyed in and what the meter's display shows, so that we can check it at once.",
        )
    else:
        reply = ReplyText(
            id="Halo, mohon kirim nomor meter (11 angka) atau IDPEL (12 angka) dan 20 angka token yang Anda "
            "masukkan, misalnya: meter 14100000018 token 1234 5678 9012 3456 7890 GAGAL.",
            en="Hello, please send your meter number (11 digits) or IDPEL (12 digits) and the 20 digits you "
            "keyed in, for example: meter 14100000018 token 1234 5678 9012 3456 7890 GAGAL.",
        )
    return SocialReplyOut(channel=chan.value, ticket=ticket.number if ticket else None, duplicate=False,
                          meter_number=found.meter if ticket else None, cause=None, corrected_token=None,
                          reply=reply)  # fmt: skip
