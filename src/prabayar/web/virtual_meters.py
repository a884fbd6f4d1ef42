"""Emulated meters behind the virtual-meter page: the real ``prabayar.meter``, one state file per
meter at ``<data_dir>/meters/<meter_number>.json`` (decoder key sealed under a key derived from
the platform master key, the layout ``prabayar.support`` reads too).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from prabayar.config import Settings
from prabayar.digits import is_digits
from prabayar.meter import (
    AesGcmBox,
    ManualClock,
    Meter,
    MeterError,
    MeterResult,
    StateFile,
    SystemClock,
)
from prabayar.sts import BaseDate, TidRolloverError, datetime_from_tid, tid_from_datetime
from prabayar.web.errors import WebError
from prabayar.web.i18n import pick, translate
from prabayar.web.pages.rendering import kwh as kwh_text
from prabayar.web.services import Services

#: How far before its first use a virtual meter is "manufactured": tokens bought before the
#: visitor first opened the page must still be newer than the meter's factory TID memory.
FACTORY_LEAD = timedelta(days=1)
MAX_TID = 0xFFFFFF


#: A meter still on an exhausted base date (1993) was made this long before its TID rollover.
BEFORE_ROLLOVER = timedelta(days=30)


def factory_time_for(base_date: BaseDate, now: datetime) -> datetime:
    """When the emulated meter was "made": a day ago, or, for a meter whose base date has run
    out (the 2024 TID rollover), a month before that rollover, so that it still exists and
    needs its key change tokens, as the real ones did."""
    wanted = now - FACTORY_LEAD
    try:
        tid_from_datetime(wanted, base_date)
    except TidRolloverError:
        last = datetime_from_tid(MAX_TID, base_date)
        return min(wanted, last - BEFORE_ROLLOVER)
    return wanted


class MeterUnavailable(WebError):
    status_code = 409
    slug = "meter_unavailable"
    message_id = "Meter virtual tidak dapat dibuka."
    message_en = "The virtual meter cannot be opened."


@dataclass(frozen=True)
class MeterView:
    """What the page shows: the LCD lines, the credit, the LED, recent events."""

    meter_number: str
    main: str
    sub: str
    credit: Decimal
    relay_on: bool
    led: str
    tamper: str | None
    events: list[Any]


def _master_key_bytes(settings: Settings) -> bytes:
    from prabayar.vending.setup import master_key_for

    return base64.b64decode(master_key_for(settings).to_base64())


class VirtualMeters:
    """Opens (or, the first time, manufactures) the emulated meter for a meter number."""

    def __init__(self, settings: Settings, services: Services) -> None:
        self.directory = settings.data_dir / "meters"
        self._settings = settings
        self._services = services
        self._box: AesGcmBox | None = None
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, meter_number: str) -> Path:
        """The state file; only an 11- or 13-digit ASCII number names one (no second file for
        ``"14100000018\\n"``, no path tricks)."""
        if not (is_digits(meter_number) and len(meter_number) in (11, 13)):
            raise ValueError(f"not a meter number: {meter_number!r}")
        return self.directory / f"{meter_number}.json"

    def _sealing_box(self) -> AesGcmBox:
        if self._box is None:
            self._box = AesGcmBox.from_master_key(_master_key_bytes(self._settings))
        return self._box

    def _lock(self, meter_number: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(meter_number, threading.Lock())

    @contextmanager
    def open(self, meter_number: str, actor: str) -> Iterator[Meter]:
        """The meter, one request at a time (its state file is read, changed and replaced)."""
        with self._lock(meter_number):
            store = StateFile(self.path(meter_number), self._sealing_box())
            try:
                if store.exists():
                    meter = Meter.open(store, SystemClock())
                else:
                    meter = self._manufacture(meter_number, actor, store)
                yield meter
            except MeterError as exc:
                raise MeterUnavailable(exc.message_id, exc.message_en) from exc

    def known_credit(self, meter_number: str) -> Decimal | None:
        """The credit register of a virtual meter that exists already, else None (never made
        one: "My meters" must not manufacture meters nor ask for keys just to show a number)."""
        try:
            path = self.path(meter_number)
        except ValueError:
            return None
        with self._lock(meter_number):
            store = StateFile(path, self._sealing_box())
            if not store.exists():
                return None
            try:
                return Meter.open(store, SystemClock()).status().credit_kwh
            except MeterError:
                return None

    def _manufacture(self, meter_number: str, actor: str, store: StateFile) -> Meter:
        key = self._services.call(self._services.vending.meter_key, meter_number, actor=actor, purpose="virtual meter")
        factory_time = factory_time_for(key.params.base_date, SystemClock().now())
        made = Meter.manufacture(
            meter_number, key.decoder_key, key.params, clock=ManualClock(factory_time), store=store
        )
        return Meter(made.state, SystemClock(), store)

    def after_key_change(self, meter: Meter, actor: str) -> None:
        """Label the new key with the DKGA the vending system derived it with (a KCT has none)."""
        key = self._services.call(
            self._services.vending.meter_key, meter.state.meter_number, actor=actor, purpose="virtual meter key change"
        )
        if key.decoder_key.reveal() == meter.state.key.reveal():
            meter.relabel_dkga(key.params.dkga)

    def view(self, meter: Meter, lang: str, last: dict[str, Any] | None) -> MeterView:
        """The LCD after the last key-in (kept for one page view), else the idle display."""
        status = meter.status()
        idle = pick(lang, status.lines_id, status.lines_en)  # the meter's own two-language LCD
        if last:
            lines = pick(lang, last["id"], last["en"])
            main, sub = lines[0], " ".join(lines[1:])
        else:
            main, sub = idle[0], " ".join(idle[1:])
        tamper = None
        if status.tamper is not None:
            tamper = pick(lang, status.tamper.label_id, status.tamper.label_en)
        events = list(reversed(meter.state.events[-12:]))
        return MeterView(
            meter_number=status.meter_number,
            main=main,
            sub=sub,
            credit=status.credit_kwh,
            relay_on=status.relay.value == "closed",
            led=str(status.led.value).split("_")[0],
            tamper=tamper,
            events=[
                _Event(e.at, e.kind, e.detail, event_words(e.kind, e.detail, lang), lang == DETAIL_LANGUAGE)
                for e in events
            ],
        )


@dataclass(frozen=True)
class _Event:
    """One meter log line: its kind (the page names it in the visitor's language), the meter's
    own technical detail (English) and, where the page can say it in words, those words."""

    at: datetime
    kind: str
    text: str
    words: str
    #: the technical detail is shown (after the kind) only on a page in its own language
    detail_shown: bool = False


#: The language the meter writes its log details in (technical English, like support's facts).
DETAIL_LANGUAGE = "en"


_CREDIT = re.compile(r"^credit \+([0-9.]+) kWh, total ([0-9.]+) kWh\b")
_CODE = re.compile(r"code '([^']*)'")  # fullmatch


def _comma(number: str) -> str:
    return kwh_text(Decimal(number))


def event_words(kind: str, detail: str, lang: str) -> str:
    """The numbers a customer looks for in a log line, in their language; "" when there are none
    (the page then shows the kind alone, plus the technical detail in English)."""
    if kind == "token_accepted" and (credit := _CREDIT.match(detail)):
        added, total = _comma(credit[1]), _comma(credit[2])
        return translate("meter_log.credit", lang).format(added=added, total=total)
    if kind == "unknown_code" and (code := _CODE.fullmatch(detail)):
        return code[1]
    if kind == "token_rejected":
        if detail.endswith("already used"):
            return translate("meter_log.already_used", lang)
        if detail.startswith("crc:"):
            return translate("meter_log.wrong_token", lang)
    return ""


def result_document(result: MeterResult) -> dict[str, Any]:
    """A key-in result as kept in the session for the next page view (no token digits)."""
    return {
        "kind": result.kind.value,
        "accepted": result.accepted,
        "rejected": result.kind.is_token_rejection,
        "id": list(result.lines_id),
        "en": list(result.lines_en),
        "credit": str(result.credit_kwh),
    }
