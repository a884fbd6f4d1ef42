"""The live chat's guided assistant: a small state machine over the diagnosis, not a language
model.

It asks, in order, for the meter (number or IDPEL; a customer's own meters are offered), the
digits the customer keyed in, and what the meter showed; then it runs the diagnosis and answers
in plain Indonesian or English with the next step and the corrected token where there is one.
"petugas" / "agent" at any time asks for a human (the service hands the conversation over).

Pure: :func:`advance` takes the state and the customer's text and returns the new state and
the replies; the diagnosis is a callable passed in, so the machine is tested without a
database. :func:`extract` finds a meter number and a 20-digit token in free text (social media).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from prabayar.support.result import Diagnosis
from prabayar.support.text import Text

ASK_METER = "ask_meter"
ASK_TOKEN = "ask_token"
ASK_DISPLAY = "ask_display"
DONE = "done"

_HANDOVER = re.compile(r"\b(petugas|agen|agent|manusia|human|cs|operator)\b", re.IGNORECASE)
_RESTART = re.compile(r"^\s*(ulang|mulai|restart|again|lagi|baru)\s*$", re.IGNORECASE)
_NONE = re.compile(r"^\s*(tidak ada|belum|none|no|-|kosong)\s*$", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]")
#: 20 digits, maybe grouped by spaces or hyphens (as printed on the struk).
_TOKEN = re.compile(r"(?<![0-9])(?:[0-9][ -]?){19}[0-9](?![0-9])")
#: An 11-digit meter number or a 12-digit IDPEL standing alone.
_METER = re.compile(r"(?<![0-9])(?:[0-9]{11,12})(?![0-9])")

DISPLAYS = ("GAGAL", "BENAR", "USED", "OLD", "PERIKSA", "OVER", "kosong / blank")


@dataclass(frozen=True)
class ChatState:
    step: str = ASK_METER
    meter: str = ""
    token: str = ""
    display: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"step": self.step, "meter": self.meter, "token": self.token, "display": self.display}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatState:
        step = str(data.get("step", ASK_METER))
        return cls(
            step if step in (ASK_METER, ASK_TOKEN, ASK_DISPLAY, DONE) else ASK_METER,
            str(data.get("meter", "")),
            str(data.get("token", "")),
            str(data.get("display", "")),
        )


@dataclass(frozen=True)
class Reply:
    """One assistant message; ``diagnosis`` is attached to the answer message (for the agent)."""

    text: Text
    diagnosis: Diagnosis | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    state: ChatState
    replies: tuple[Reply, ...]
    handover: bool = False
    diagnosis: Diagnosis | None = field(default=None)


def greeting(meters: Sequence[str] = ()) -> Reply:
    listed = ", ".join(meters)
    return Reply(
        Text(
            "Halo, saya asisten token PLN. Saya bantu memeriksa token yang gagal. "
            + (f"Meter mana yang bermasalah? ({listed})" if meters else "Berapa nomor meter atau IDPEL Anda?")
            + " Ketik 'petugas' kapan saja untuk bicara dengan petugas.",
            "Hello, I am the PLN token assistant. I help check a token that failed. "
            + (f"Which meter has the problem? ({listed})" if meters else "What is your meter number or IDPEL?")
            + " Type 'agent' at any time to talk to a person.",
        ),
        options=tuple(meters),
    )


def _ask_token(meter: str) -> Reply:
    return Reply(
        Text(
            f"Meter {meter}. Ketik 20 angka token yang Anda masukkan ke meter, persis seperti yang "
            "diketik (boleh dengan spasi). Ketik 'tidak ada' jika belum memasukkan token.",
            f"Meter {meter}. Type the 20 digits you keyed into the meter, exactly as typed (spaces "
            "are fine). Type 'none' if you have not entered a token yet.",
        )
    )


def _ask_display() -> Reply:
    return Reply(
        Text(
            "Apa yang tampil di layar meter setelah itu? Misalnya GAGAL, BENAR, USED, OLD, PERIKSA, "
            "OVER, atau 'kosong' jika tidak ada tulisan.",
            "What did the meter's display show after that? For example GAGAL, BENAR, USED, OLD, "
            "PERIKSA, OVER, or 'blank' if nothing.",
        ),
        options=DISPLAYS,
    )


def _after() -> Reply:
    return Reply(
        Text(
            "Ketik 'ulang' untuk memeriksa token lain, atau 'petugas' untuk bicara dengan petugas.",
            "Type 'again' to check another token, or 'agent' to talk to a person.",
        )
    )


def answer(diagnosis: Diagnosis) -> Reply:
    """The diagnosis in chat words: the explanation, then each next step with its tokens."""
    id_lines = [diagnosis.explanation.id]
    en_lines = [diagnosis.explanation.en]
    for number, step in enumerate(diagnosis.next_steps, 1):
        tokens = " / ".join(grouped(t) for t in step.tokens if grouped(t) not in step.text.id)
        id_lines.append(f"{number}. {step.text.id}" + (f" Token: {tokens}" if tokens else ""))
        tokens = " / ".join(grouped(t) for t in step.tokens if grouped(t) not in step.text.en)
        en_lines.append(f"{number}. {step.text.en}" + (f" Token: {tokens}" if tokens else ""))
    if diagnosis.ticket_needed:
        id_lines.append("Ini perlu ditangani petugas: ketik 'petugas' dan kami buatkan tiket pengaduan.")
        en_lines.append("This needs an agent: type 'agent' and we open a complaint ticket for you.")
    return Reply(Text("\n".join(id_lines), "\n".join(en_lines)), diagnosis=diagnosis)


def grouped(token: str) -> str:
    digits = "".join(_DIGITS.findall(token))
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def wants_agent(text: str) -> bool:
    return bool(_HANDOVER.search(text))


def advance(
    state: ChatState,
    text: str,
    *,
    diagnose: Callable[[str, str | None, str | None], Diagnosis],
    known_meter: Callable[[str], bool],
    meters: Sequence[str] = (),
) -> Outcome:
    """One customer message: the next state and what the assistant says.

    ``diagnose(meter, token, display)`` runs the diagnosis (its typed errors propagate to the
    caller, which shows their message); ``known_meter(meter)`` says whether this customer may
    ask about that meter (their own, for a logged-in customer)."""
    said = text.strip()
    if wants_agent(said):
        return Outcome(state, (), handover=True)
    if _RESTART.match(said) or (state.step == DONE and _METER.search(said) is None):
        if _RESTART.match(said):
            return Outcome(ChatState(), (greeting(meters),))
        return Outcome(state, (_after(),))
    if state.step in (ASK_METER, DONE):
        digits = "".join(_DIGITS.findall(said))
        if len(digits) not in (11, 12) or not known_meter(digits):
            return Outcome(
                replace(state, step=ASK_METER),
                (
                    Reply(
                        Text(
                            "Nomor itu tidak saya kenal sebagai meter Anda. Ketik 11 angka nomor meter "
                            "atau 12 angka IDPEL" + (f" ({', '.join(meters)})." if meters else "."),
                            "I do not know that number as your meter. Type the 11-digit meter number "
                            "or the 12-digit IDPEL" + (f" ({', '.join(meters)})." if meters else "."),
                        ),
                        options=tuple(meters),
                    ),
                ),
            )
        return Outcome(ChatState(step=ASK_TOKEN, meter=digits), (_ask_token(digits),))
    if state.step == ASK_TOKEN:
        if _NONE.match(said):
            return Outcome(replace(state, step=ASK_DISPLAY, token=""), (_ask_display(),))
        digits = "".join(_DIGITS.findall(said))
        if not digits:
            return Outcome(state, (_ask_token(state.meter),))
        return Outcome(replace(state, step=ASK_DISPLAY, token=said[:64]), (_ask_display(),))
    # ASK_DISPLAY: anything goes (the engine reads GAGAL/USED/... and ignores the rest)
    display = "" if _NONE.match(said) or said.lower() in ("kosong", "blank") else said[:40]
    diagnosis = diagnose(state.meter, state.token or None, display or None)
    done = replace(state, step=DONE, display=display)
    return Outcome(done, (answer(diagnosis), _after()), diagnosis=diagnosis)


@dataclass(frozen=True)
class Extracted:
    meter: str | None
    token: str | None


def extract(text: str) -> Extracted:
    """A 20-digit token and an 11-digit meter number (or 12-digit IDPEL) in free text, as a
    social-media post writes them ("token 1234 5678 ... gagal di meter 14100000018")."""
    token_match = _TOKEN.search(text)
    token = "".join(_DIGITS.findall(token_match.group(0))) if token_match else None
    rest = text.replace(token_match.group(0), " ") if token_match else text
    meter_match = _METER.search(rest)
    return Extracted(meter_match.group(0) if meter_match else None, token)
