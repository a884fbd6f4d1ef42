"""Live chat pages: the customer's guided assistant with hand-over to an agent (``/obrolan``),
the agents' live queue and conversation pages (``/konsol/obrolan``), and their server-sent
event streams.

The pages work without JavaScript (each form posts and redirects back); ``static/chat.js``
sends the forms with ``fetch`` and appends new messages from the stream as they arrive.
Streams are bounded (``STREAM_SECONDS``); the browser's EventSource reconnects by itself with
``Last-Event-ID`` so that no message is lost or shown twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from prabayar.support import DiagnosisRequest
from prabayar.support.chat_service import (
    CLOSED,
    QUEUE_TOPIC,
    Chat,
    ChatClosed,
    ChatNotFound,
    ChatService,
    chat_topic,
)
from prabayar.support.errors import SupportError
from prabayar.support.present import WIB
from prabayar.support.result import Diagnosis
from prabayar.support.text import Text
from prabayar.web.api.support import Conflict, diagnosis_engine, support_call
from prabayar.web.chat_bus import ChatBus, open_bus
from prabayar.web.deps import LimiterDep, LimitsDep, ServicesDep
from prabayar.web.errors import NotFound, WebError
from prabayar.web.i18n import translate
from prabayar.web.pages.guards import Csrf, PageCustomer, PageOperator
from prabayar.web.pages.rendering import flash, flash_texts, render
from prabayar.web.security import Principal
from prabayar.web.services import Services

router = APIRouter()
T = TypeVar("T")

#: How long one stream stays open before the browser reconnects (keeps workers free).
STREAM_SECONDS = 60.0
#: Longest quiet time between two looks at the table (also the keep-alive interval).
WAKE_SECONDS = 15.0
TextField = Annotated[str, Form(max_length=2000)]


def chat_call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A chat use case; an unknown (or someone else's) conversation is a 404."""
    try:
        return fn(*args, **kwargs)
    except ChatNotFound as exc:
        raise NotFound(exc.message.id, exc.message.en) from exc
    except ChatClosed as exc:
        raise Conflict(exc.message.id, exc.message.en) from exc
    except SupportError as exc:  # the other support errors as the rest of the web maps them
        failure = exc

        def again() -> T:
            raise failure

        return support_call(again)


def chat_bus(request: Request) -> ChatBus:
    """The app's bus, made on first use from the settings (Redis when configured)."""
    bus = getattr(request.app.state, "chat_bus", None)
    if bus is None:
        settings = request.app.state.settings
        bus = open_bus(getattr(settings, "redis_url", None), getattr(settings, "redis_prefix", "prabayar"))
        request.app.state.chat_bus = bus
    return bus


def chats_of(request: Request, services: Services) -> ChatService:
    return ChatService(services.vending, notify=chat_bus(request).publish)


def _lang(request: Request) -> str:
    from prabayar.web.i18n import language_of

    return language_of(request)


def _fetching(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def _done(request: Request, target: str) -> Response:
    return Response(status_code=204) if _fetching(request) else RedirectResponse(target, status_code=303)


#: Senders the chat names in the reader's language (``chat.author.<sender>``); a customer or an
#: agent is named by their user name.
_NAMED_SENDERS = ("bot", "system")


def _message_view(m: Any, lang: str) -> dict[str, Any]:
    author = translate(f"chat.author.{m.sender}", lang) if m.sender in _NAMED_SENDERS else m.author
    return {"id": m.id, "sender": m.sender, "author": author, "text": m.text,
            "at": m.at.astimezone(WIB).strftime("%H:%M")}  # fmt: skip


# --- the customer ---------------------------------------------------------------------------


def _customer_meters(services: Services, user: Principal) -> list[Any]:
    return services.customer_meters(user)


def _diagnose_for(request: Request, services: Services, user: Principal) -> Callable[..., Diagnosis]:
    engine = diagnosis_engine(request, services, user.subject)

    def diagnose(meter: str, token: str | None, display: str | None) -> Diagnosis:
        try:
            return services.call(engine.diagnose, DiagnosisRequest(meter, token, display))
        except WebError as exc:
            raise SupportError(Text(exc.message_id, exc.message_en)) from exc

    return diagnose


@router.get("/obrolan")
def customer_chat(request: Request, user: PageCustomer, services: ServicesDep) -> Response:
    meters = _customer_meters(services, user)
    chats = chats_of(request, services)
    chat = chat_call(chats.start, user.subject, idpel=user.customer_id, lang=_lang(request),
                        meters=[m.meter_number for m in meters])  # fmt: skip
    messages = [_message_view(m, _lang(request)) for m in chats.messages(chat.id)]
    return render(request, "chat/customer.html", {"chat": chat, "messages": messages})


@router.post("/obrolan/{chat_id}/kirim")
def customer_says(
    request: Request, chat_id: int, _: Csrf, user: PageCustomer, services: ServicesDep,
    limiter: LimiterDep, limits: LimitsDep, text: TextField = "",
) -> Response:  # fmt: skip
    limiter.hit(f"diagnosis:{user.subject}", limits.meter_entries)
    meters = _customer_meters(services, user)
    owned = {m.meter_number for m in meters} | {m.idpel for m in meters}
    chat_call(
        chats_of(request, services).say, chat_id, user.subject, text,
        diagnose=_diagnose_for(request, services, user), known_meter=owned.__contains__,
        meters=[m.meter_number for m in meters],
    )  # fmt: skip
    return _done(request, "/obrolan")


@router.post("/obrolan/{chat_id}/petugas")
def customer_hands_over(request: Request, chat_id: int, _: Csrf, user: PageCustomer, services: ServicesDep) -> Response:
    chat_call(chats_of(request, services).hand_over, chat_id, user.subject)
    return _done(request, "/obrolan")


@router.post("/obrolan/{chat_id}/tutup")
def customer_closes(request: Request, chat_id: int, _: Csrf, user: PageCustomer, services: ServicesDep) -> Response:
    chats = chats_of(request, services)
    chat = chat_call(chats.get, chat_id)
    if chat.customer != user.subject:
        raise NotFound("Obrolan tidak ditemukan.", "No such chat.")
    chats.close(chat_id, user.subject)
    return RedirectResponse("/obrolan", status_code=303)


@router.get("/obrolan/{chat_id}/aliran")
async def customer_stream(request: Request, chat_id: int, user: PageCustomer, services: ServicesDep) -> Response:
    chats = chats_of(request, services)
    chat = await run_in_threadpool(chat_call, chats.get, chat_id)
    if chat.customer != user.subject:
        raise NotFound("Obrolan tidak ditemukan.", "No such chat.")
    return _stream(request, chats, chat_id)


# --- the agents -----------------------------------------------------------------------------


@router.get("/konsol/obrolan")
def agent_queue(request: Request, operator: PageOperator, services: ServicesDep) -> Response:
    queue = chats_of(request, services).queue()
    return render(request, "chat/queue.html", {"queue": queue})


@router.get("/konsol/obrolan/{chat_id}")
def agent_chat(request: Request, chat_id: int, operator: PageOperator, services: ServicesDep) -> Response:
    chats = chats_of(request, services)
    chat = chat_call(chats.get, chat_id)
    messages = [_message_view(m, _lang(request)) for m in chats.messages(chat.id)]
    context = {"chat": chat, "messages": messages, "diagnosis": chats.last_diagnosis(chat_id), "agent_view": True}
    return render(request, "chat/agent.html", context)


@router.post("/konsol/obrolan/{chat_id}/ambil")
def agent_takes(request: Request, chat_id: int, _: Csrf, operator: PageOperator, services: ServicesDep) -> Response:
    chat_call(chats_of(request, services).take, chat_id, operator.subject)
    return _done(request, f"/konsol/obrolan/{chat_id}")


@router.post("/konsol/obrolan/{chat_id}/kirim")
def agent_says(
    request: Request, chat_id: int, _: Csrf, operator: PageOperator, services: ServicesDep, text: TextField = ""
) -> Response:
    chat_call(chats_of(request, services).agent_says, chat_id, operator.subject, text)
    return _done(request, f"/konsol/obrolan/{chat_id}")


@router.post("/konsol/obrolan/{chat_id}/tutup")
def agent_closes(request: Request, chat_id: int, _: Csrf, operator: PageOperator, services: ServicesDep) -> Response:
    chat_call(chats_of(request, services).close, chat_id, operator.subject)
    return RedirectResponse("/konsol/obrolan", status_code=303)


@router.post("/konsol/obrolan/{chat_id}/tiket")
def agent_opens_ticket(
    request: Request, chat_id: int, _: Csrf, operator: PageOperator, services: ServicesDep
) -> Response:
    """A ticket on the chat's meter: the diagnosis re-run from what the customer said (never
    trusted from a form), the transcript attached."""
    chats = chats_of(request, services)
    chat = chat_call(chats.get, chat_id)
    diagnosis = None
    meter = chat.state.meter or chat.idpel
    if meter:
        try:
            engine = diagnosis_engine(request, services, operator.subject)
            request_ = DiagnosisRequest(meter, chat.state.token or None, chat.state.display or None)
            diagnosis = services.call(engine.diagnose, request_)
        except (SupportError, WebError):
            diagnosis = None  # the ticket is still opened; the agent sees no diagnosis on it
    try:
        ticket = chat_call(chats.open_ticket, chat_id, operator.subject, diagnosis)
    except WebError as exc:
        flash_texts(request, exc.message_id, exc.message_en)
        return RedirectResponse(f"/konsol/obrolan/{chat_id}", status_code=303)
    flash(request, "chat.ticket_opened", number=ticket.number)
    return RedirectResponse(f"/konsol/tiket/{ticket.number}", status_code=303)


@router.get("/konsol/obrolan/{chat_id}/aliran")
async def agent_stream(request: Request, chat_id: int, operator: PageOperator, services: ServicesDep) -> Response:
    chats = chats_of(request, services)
    await run_in_threadpool(chat_call, chats.get, chat_id)
    return _stream(request, chats, chat_id)


@router.get("/konsol/obrolan-aliran")
async def queue_stream(request: Request, operator: PageOperator, services: ServicesDep) -> Response:
    """One ``queue`` event whenever the queue may have changed (the page then reloads it)."""
    bus = chat_bus(request)

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        loop = asyncio.get_running_loop()
        end = loop.time() + STREAM_SECONDS
        last = await run_in_threadpool(_queue_signature, chats_of(request, services))
        while loop.time() < end and not await request.is_disconnected():
            await bus.wait([QUEUE_TOPIC], min(WAKE_SECONDS, end - loop.time()))
            now = await run_in_threadpool(_queue_signature, chats_of(request, services))
            if now != last:
                last = now
                yield b"event: queue\ndata: {}\n\n"
            else:
                yield b": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=_STREAM_HEADERS)


def _queue_signature(chats: ChatService) -> tuple[tuple[int, str, str], ...]:
    return tuple((c.id, c.status, c.updated_at.isoformat()) for c in chats.queue())


_STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _stream(request: Request, chats: ChatService, chat_id: int) -> StreamingResponse:
    """Messages after ``Last-Event-ID`` (or ``?after=``), then each new one as it is written;
    a ``status`` event when the conversation's status changes (bot, waiting, agent, closed)."""
    bus = chat_bus(request)
    lang = _lang(request)
    try:
        after = int(request.headers.get("last-event-id") or request.query_params.get("after") or 0)
    except ValueError:
        after = 0

    async def events() -> AsyncIterator[bytes]:
        nonlocal after
        yield b"retry: 1000\n\n"
        loop = asyncio.get_running_loop()
        end = loop.time() + STREAM_SECONDS
        status = ""
        while True:
            chat: Chat = await run_in_threadpool(chats.get, chat_id)
            fresh = await run_in_threadpool(chats.messages, chat_id, after)
            for m in fresh:
                after = m.id
                data = json.dumps(_message_view(m, lang), ensure_ascii=False)
                yield f"id: {m.id}\nevent: message\ndata: {data}\n\n".encode()
            if chat.status != status:
                status = chat.status
                info = {"status": status, "agent": chat.agent or "", "ticket": chat.ticket_number or ""}
                yield f"event: status\ndata: {json.dumps(info)}\n\n".encode()
            if status == CLOSED or loop.time() >= end or await request.is_disconnected():
                return
            await bus.wait([chat_topic(chat_id)], min(WAKE_SECONDS, max(0.05, end - loop.time())))
            if not fresh:
                yield b": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers=_STREAM_HEADERS)
