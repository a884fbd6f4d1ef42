"""Live chat use cases: a customer talks to the guided assistant, hands over to an agent, the
agent answers and may open a ticket with the transcript attached.

Every message is a row (``support_chat_messages``), so any server process can serve any
conversation; after each write the service calls ``notify(topic)`` (topics ``chat:<id>`` and
``chat:queue``) so that the faces' live streams wake up at once (Redis pub/sub), or find the
new rows on their next poll of the table (embedded database). Statuses::

    bot --(hand over)--> waiting --(agent takes it)--> agent --(close)--> closed
     \\_________________________________________________________________/^
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from prabayar.support.chat import ChatState, Reply, advance, greeting
from prabayar.support.chat_models import ChatMessageRow, ChatRow
from prabayar.support.errors import SupportError
from prabayar.support.result import Diagnosis
from prabayar.support.text import Text
from prabayar.support.ticket_service import TicketService
from prabayar.support.tickets import Ticket
from prabayar.vending import VendingService
from prabayar.vending.db import claiming_session
from prabayar.vending.models import AuditRow

BOT = "bot"
WAITING = "waiting"
AGENT = "agent"
CLOSED = "closed"
QUEUE_TOPIC = "chat:queue"


def chat_topic(chat_id: int) -> str:
    return f"chat:{chat_id}"


class ChatNotFound(SupportError):
    def __init__(self, chat_id: int) -> None:
        super().__init__(Text(f"Obrolan {chat_id} tidak ditemukan.", f"Chat {chat_id} was not found."))


class ChatClosed(SupportError):
    def __init__(self, chat_id: int) -> None:
        super().__init__(Text(f"Obrolan {chat_id} sudah ditutup.", f"Chat {chat_id} is closed."))


@dataclass(frozen=True)
class ChatMessage:
    id: int
    chat_id: int
    at: datetime
    sender: str
    author: str
    text: str
    diagnosis: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "chat_id": self.chat_id, "at": self.at.isoformat(), "sender": self.sender,
            "author": self.author, "text": self.text, "has_diagnosis": self.diagnosis is not None,
        }  # fmt: skip


@dataclass(frozen=True)
class Chat:
    id: int
    customer: str
    idpel: str | None
    channel: str
    status: str
    state: ChatState
    lang: str
    agent: str | None
    ticket_number: str | None
    created_at: datetime
    updated_at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ChatService:
    def __init__(
        self,
        vending: VendingService,
        *,
        notify: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.vending = vending
        self.engine: Engine = vending.engine
        self.notify = notify or (lambda topic: None)
        self.clock = clock or _utcnow

    # -- reading -------------------------------------------------------------------------

    def get(self, chat_id: int) -> Chat:
        with Session(self.engine) as session:
            row = session.get(ChatRow, chat_id)
            if row is None:
                raise ChatNotFound(chat_id)
            return _view(row)

    def messages(self, chat_id: int, after: int = 0, limit: int = 500) -> list[ChatMessage]:
        stmt = (
            select(ChatMessageRow)
            .where(ChatMessageRow.chat_id == chat_id, ChatMessageRow.id > after)
            .order_by(ChatMessageRow.id)
            .limit(limit)
        )
        with Session(self.engine) as session:
            return [_message(r) for r in session.scalars(stmt)]

    def queue(self, *, limit: int = 100) -> list[Chat]:
        """Conversations waiting for an agent (oldest first), then those agents are in."""
        stmt = select(ChatRow).where(ChatRow.status.in_((WAITING, AGENT))).order_by(ChatRow.updated_at).limit(limit)
        with Session(self.engine) as session:
            chats = [_view(r) for r in session.scalars(stmt)]
        return sorted(chats, key=lambda c: (c.status != WAITING, c.updated_at))

    def active_for(self, customer: str) -> Chat | None:
        stmt = (
            select(ChatRow)
            .where(ChatRow.customer == customer, ChatRow.status != CLOSED)
            .order_by(ChatRow.id.desc())
            .limit(1)
        )
        with Session(self.engine) as session:
            row = session.scalar(stmt)
            return _view(row) if row is not None else None

    def last_diagnosis(self, chat_id: int) -> dict[str, Any] | None:
        stmt = (
            select(ChatMessageRow.payload)
            .where(ChatMessageRow.chat_id == chat_id, ChatMessageRow.payload.contains('"diagnosis":'))
            .order_by(ChatMessageRow.id.desc())
            .limit(1)
        )
        with Session(self.engine) as session:
            payload = session.scalar(stmt)
        if not payload:
            return None
        value = json.loads(payload).get("diagnosis")
        return value if isinstance(value, dict) else None

    def transcript(self, chat_id: int) -> str:
        lines = []
        for m in self.messages(chat_id, limit=2000):
            who = {"customer": "Pelanggan", "bot": "Asisten", "agent": "Petugas", "system": "Sistem"}.get(m.sender, "")
            lines.append(f"[{m.at:%Y-%m-%d %H:%M} UTC] {who} ({m.author}): {m.text}")
        return "\n".join(lines)

    # -- the customer's side -------------------------------------------------------------

    def start(self, customer: str, *, idpel: str | None, lang: str, meters: Sequence[str] = (),
              channel: str = "app") -> Chat:  # fmt: skip
        """The customer's open conversation, or a new one that starts with the greeting."""
        existing = self.active_for(customer)
        if existing is not None:
            return existing
        now = self.clock()
        with claiming_session(self.engine) as session:
            row = ChatRow(
                customer=customer, idpel=idpel, channel=channel, status=BOT,
                state=json.dumps(ChatState().as_dict()), lang="en" if lang == "en" else "id",
                created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(row)
            session.flush()
            self._bot(session, row, greeting(meters), now)
            chat_id = row.id
        return self.get(chat_id)

    def say(
        self,
        chat_id: int,
        customer: str,
        text: str,
        *,
        diagnose: Callable[[str, str | None, str | None], Diagnosis],
        known_meter: Callable[[str], bool],
        meters: Sequence[str] = (),
    ) -> Chat:
        """A customer's message: stored; while no agent has it, the assistant answers (and a
        request for a person hands the conversation over)."""
        text = text.strip()[:1000]
        if not text:
            return self.get(chat_id)
        chat = self._own(chat_id, customer)
        now = self.clock()
        outcome = None
        error: Reply | None = None
        if chat.status == BOT:
            try:
                outcome = advance(chat.state, text, diagnose=diagnose, known_meter=known_meter, meters=meters)
            except SupportError as exc:  # the diagnosis refused (e.g. unknown meter): say why
                error = Reply(exc.message)
        with claiming_session(self.engine) as session:
            row = self._row(session, chat_id)
            session.add(ChatMessageRow(chat_id=row.id, at=now, sender="customer", author=customer, text=text))
            row.updated_at = now
            if outcome is not None:
                row.state = json.dumps(outcome.state.as_dict())
                for reply in outcome.replies:
                    self._bot(session, row, reply, now)
                if outcome.handover:
                    self._hand_over(session, row, customer, now)
            elif error is not None:
                self._bot(session, row, error, now)
        self.notify(chat_topic(chat_id))
        if chat.status != BOT or (outcome is not None and outcome.handover):
            self.notify(QUEUE_TOPIC)
        return self.get(chat_id)

    def hand_over(self, chat_id: int, customer: str) -> Chat:
        chat = self._own(chat_id, customer)
        if chat.status == BOT:
            now = self.clock()
            with claiming_session(self.engine) as session:
                self._hand_over(session, self._row(session, chat_id), customer, now)
            self.notify(chat_topic(chat_id))
            self.notify(QUEUE_TOPIC)
        return self.get(chat_id)

    # -- the agent's side ----------------------------------------------------------------

    def take(self, chat_id: int, agent: str) -> Chat:
        now = self.clock()
        with claiming_session(self.engine) as session:
            row = self._row(session, chat_id)
            if row.status == CLOSED:
                raise ChatClosed(chat_id)
            if row.agent != agent:
                row.agent = agent
                row.status = AGENT
                row.updated_at = now
                self._system(session, row, now, f"Petugas {agent} bergabung.", f"Agent {agent} joined.")
        self.notify(chat_topic(chat_id))
        self.notify(QUEUE_TOPIC)
        return self.get(chat_id)

    def agent_says(self, chat_id: int, agent: str, text: str) -> Chat:
        text = text.strip()[:2000]
        if not text:
            return self.get(chat_id)
        if self.get(chat_id).agent != agent:
            self.take(chat_id, agent)
        now = self.clock()
        with claiming_session(self.engine) as session:
            row = self._row(session, chat_id)
            session.add(ChatMessageRow(chat_id=row.id, at=now, sender="agent", author=agent, text=text))
            row.updated_at = now
        self.notify(chat_topic(chat_id))
        return self.get(chat_id)

    def close(self, chat_id: int, actor: str) -> Chat:
        now = self.clock()
        with claiming_session(self.engine) as session:
            row = self._row(session, chat_id)
            if row.status != CLOSED:
                row.status = CLOSED
                row.updated_at = now
                self._system(session, row, now, "Obrolan ditutup.", "The chat was closed.")
        self.notify(chat_topic(chat_id))
        self.notify(QUEUE_TOPIC)
        return self.get(chat_id)

    def open_ticket(self, chat_id: int, agent: str, diagnosis: Diagnosis | None = None) -> Ticket:
        """A complaint ticket on the conversation's meter with the transcript as its
        description and the diagnosis (re-run by the face) attached."""
        chat = self.get(chat_id)
        meter = chat.state.meter or chat.idpel
        if not meter:
            raise SupportError(Text(
                "Nomor meter belum diketahui dalam obrolan ini; tanyakan dulu kepada pelanggan.",
                "No meter number is known in this chat yet; ask the customer first.",
            ))  # fmt: skip
        ticket = TicketService(self.vending, clock=self.clock).open(
            channel=chat.channel, identifier=meter, actor=agent, diagnosis=diagnosis,
            description="Transkrip obrolan / chat transcript:\n" + self.transcript(chat_id),
            contact=f"chat #{chat_id} ({chat.customer})", typed=chat.state.token, display=chat.state.display,
        )  # fmt: skip
        now = self.clock()
        with claiming_session(self.engine) as session:
            row = self._row(session, chat_id)
            row.ticket_number = ticket.number
            row.updated_at = now
            self._system(session, row, now, f"Tiket pengaduan {ticket.number} dibuat.",
                         f"Complaint ticket {ticket.number} opened.")  # fmt: skip
        self.notify(chat_topic(chat_id))
        return ticket

    # -- plumbing ------------------------------------------------------------------------

    def _own(self, chat_id: int, customer: str) -> Chat:
        chat = self.get(chat_id)
        if chat.customer != customer:
            raise ChatNotFound(chat_id)  # never tell a stranger the conversation exists
        if chat.status == CLOSED:
            raise ChatClosed(chat_id)
        return chat

    @staticmethod
    def _row(session: Session, chat_id: int) -> ChatRow:
        row = session.get(ChatRow, chat_id)
        if row is None:
            raise ChatNotFound(chat_id)
        return row

    @staticmethod
    def _bot(session: Session, row: ChatRow, reply: Reply, at: datetime) -> None:
        payload: dict[str, Any] = {"id": reply.text.id, "en": reply.text.en}
        if reply.options:
            payload["options"] = list(reply.options)
        if reply.diagnosis is not None:
            payload["diagnosis"] = reply.diagnosis.as_dict()
        text = reply.text.en if row.lang == "en" else reply.text.id
        session.add(ChatMessageRow(chat_id=row.id, at=at, sender="bot", author="asisten", text=text,
                                   payload=json.dumps(payload)))  # fmt: skip

    @staticmethod
    def _system(session: Session, row: ChatRow, at: datetime, id_: str, en: str) -> None:
        session.add(ChatMessageRow(chat_id=row.id, at=at, sender="system", author="sistem",
                                   text=en if row.lang == "en" else id_))  # fmt: skip

    def _hand_over(self, session: Session, row: ChatRow, actor: str, at: datetime) -> None:
        row.status = WAITING
        row.updated_at = at
        self._system(session, row, at, "Menghubungkan Anda dengan petugas. Mohon tunggu sebentar.",
                     "Connecting you with an agent. Please wait a moment.")  # fmt: skip
        meter = json.loads(row.state).get("meter", "")
        detail = json.dumps({"chat": row.id, "meter": meter})
        action = "support.chat.handed_over"
        session.add(AuditRow(at=at, actor=actor[:64], action=action, meter_number=None, detail=detail))


def _view(row: ChatRow) -> Chat:
    return Chat(
        row.id, row.customer, row.idpel, row.channel, row.status, ChatState.from_dict(json.loads(row.state)),
        row.lang, row.agent, row.ticket_number, row.created_at, row.updated_at,
    )  # fmt: skip


def _message(row: ChatMessageRow) -> ChatMessage:
    diagnosis = None
    if row.payload:
        value = json.loads(row.payload).get("diagnosis")
        diagnosis = value if isinstance(value, dict) else None
    return ChatMessage(row.id, row.chat_id, row.at, row.sender, row.author, row.text, diagnosis)
