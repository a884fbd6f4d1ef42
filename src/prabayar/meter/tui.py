"""The terminal meter: LCD, credit LED, a keypad that can be clicked or typed, the alarm.

A face over ``Meter``: it holds no rules. Digits are grouped 4-4-4-4-4 as they are typed;
Enter sends up to 6 digits as a service code and anything longer as a token (``Meter.key_in``).
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import Button, Footer, Header, Static

from prabayar.meter.display import kwh
from prabayar.meter.errors import MeterError
from prabayar.meter.indicators import CreditLed
from prabayar.meter.meter import Meter, MeterStatus
from prabayar.meter.model import RelayState

MAX_DIGITS = 20
LOAD_STEP = 500

LED_STYLE = {
    CreditLed.GREEN: ("green", "hijau / green"),
    CreditLed.YELLOW: ("yellow", "kuning / yellow"),
    CreditLed.RED: ("red", "merah / red"),
    CreditLed.RED_BLINKING: ("red", "merah berkedip / red blinking"),
}


ALARM_LABEL = {
    "low_credit": "kredit rendah / low credit",
    "tamper": "PERIKSA / tamper",
    "overload": "beban lebih / overload",
}


def group(digits: str) -> str:
    """Typed digits as PLN prints tokens: groups of four."""
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _key(label: str, key_id: str) -> Button:
    """A keypad button that never takes focus, so typed keys always reach the meter."""
    button = Button(label, id=key_id, variant="success" if key_id == "enter" else "default")
    button.can_focus = False
    return button


class MeterApp(App[None]):
    """A prepaid meter in the terminal."""

    TITLE = "prabayar meter"
    CSS = """
    Screen { align: center middle; }
    #body { width: 64; height: auto; border: round $accent; padding: 0 1; }
    #lcd { height: 5; background: #1d3b1d; color: #b6f5b6; padding: 0 1; }
    #lcd-id { width: 1fr; text-style: bold; }
    #lcd-en { width: 1fr; color: #7fbf7f; }
    #entry { height: 1; margin: 1 0 0 0; text-style: bold; }
    #indicators { height: 1; margin: 1 0; }
    #led { width: 1fr; }
    #relay { width: 1fr; }
    #alarm { width: 1fr; color: $error; text-style: bold; }
    #keypad { grid-size: 3 5; grid-gutter: 0 1; height: 5; }
    #keypad Button { width: 100%; min-width: 6; height: 1; border: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Enter"),
        Binding("backspace", "backspace", "Hapus/Delete"),
        Binding("escape", "clear", "Batal/Clear"),
        Binding("plus", "load(1)", f"+{LOAD_STEP} W"),
        Binding("minus", "load(-1)", f"-{LOAD_STEP} W"),
        Binding("q", "quit", "Keluar/Quit"),
    ]

    def __init__(self, meter: Meter, *, refresh_seconds: float = 1.0) -> None:
        super().__init__()
        self.meter = meter
        self.digits = ""
        self.lcd_id: tuple[str, ...] = ()
        self.lcd_en: tuple[str, ...] = ()
        self.last_status: MeterStatus | None = None
        self._refresh_seconds = refresh_seconds
        self._alarm_was_on = False
        self._showing_result = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            with Horizontal(id="lcd"):
                yield Static(id="lcd-id")
                yield Static(id="lcd-en")
            yield Static(id="entry")
            with Horizontal(id="indicators"):
                yield Static(id="led")
                yield Static(id="relay")
                yield Static(id="alarm")
            with Grid(id="keypad"):
                for label in "123456789":
                    yield _key(label, f"k{label}")
                yield _key("⌫", "back")
                yield _key("0", "k0")
                yield _key("⏎", "enter")
                yield _key(f"-{LOAD_STEP} W", "load-down")
                yield _key("Batal", "clear")
                yield _key(f"+{LOAD_STEP} W", "load-up")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(self._refresh_seconds, self.refresh_status)

    # ----------------------------------------------------------------- input

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if character is not None and character.isdigit() and character.isascii():
            self.press_digit(character)
            event.stop()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button.startswith("k") and button[1:].isascii() and button[1:].isdigit():
            self.press_digit(button[1:])
        elif button == "back":
            self.action_backspace()
        elif button == "enter":
            self.action_submit()
        elif button == "clear":
            self.action_clear()
        elif button == "load-up":
            self.action_load(1)
        elif button == "load-down":
            self.action_load(-1)

    def press_digit(self, digit: str) -> None:
        if len(self.digits) < MAX_DIGITS:
            self.digits += digit
        self._show_entry()

    def action_backspace(self) -> None:
        self.digits = self.digits[:-1]
        self._show_entry()

    def action_clear(self) -> None:
        self.digits = ""
        self._showing_result = False
        self._show_entry()
        self.refresh_status()

    def action_submit(self) -> None:
        if not self.digits:
            return
        typed, self.digits = self.digits, ""
        try:
            result = self.meter.key_in(typed)
        except MeterError as exc:
            self._set_lcd(("KESALAHAN", exc.message_id), ("ERROR", exc.message_en))
        else:
            self._set_lcd(result.lines_id, result.lines_en)
        self._showing_result = True
        self._show_entry()
        self.refresh_status()

    def action_load(self, direction: int) -> None:
        watts = max(0, self.meter.state.load_watts + direction * LOAD_STEP)
        try:
            self.meter.set_load(watts)
        except MeterError as exc:
            self._set_lcd(("KESALAHAN", exc.message_id), ("ERROR", exc.message_en))
        self.refresh_status()

    # ----------------------------------------------------------------- display

    def _set_lcd(self, lines_id: tuple[str, ...], lines_en: tuple[str, ...]) -> None:
        self.lcd_id, self.lcd_en = lines_id, lines_en
        self.query_one("#lcd-id", Static).update("\n".join(lines_id))
        self.query_one("#lcd-en", Static).update("\n".join(lines_en))

    def _show_entry(self) -> None:
        shown = group(self.digits) if self.digits else "_"
        self.query_one("#entry", Static).update(f"> {shown}")

    def refresh_status(self) -> None:
        """Idle display, LED, relay and alarm at the meter's present."""
        try:
            self._refresh_status()
        except NoMatches:  # a timer tick while the app is closing: nothing left to draw
            return

    def _refresh_status(self) -> None:
        try:
            status = self.meter.status()
        except MeterError as exc:
            self._set_lcd(("KESALAHAN", exc.message_id), ("ERROR", exc.message_en))
            return
        self.last_status = status
        if not self._showing_result:
            self._set_lcd(status.lines_id, status.lines_en)
        colour, name = LED_STYLE[status.led]
        self.query_one("#led", Static).update(f"[{colour}]●[/] {name}")
        relay = "ON" if status.relay is RelayState.CLOSED else "OFF"
        self.query_one("#relay", Static).update(f"relai {relay} {status.load_watts} W")
        alarm_on = bool(status.alarm)
        labels = ", ".join(ALARM_LABEL.get(reason, reason) for reason in status.alarm)
        self.query_one("#alarm", Static).update(f"ALARM {labels}" if alarm_on else "")
        if alarm_on and not self._alarm_was_on:
            self.bell()
        self._alarm_was_on = alarm_on
        self.sub_title = f"{status.meter_number}  {kwh(status.credit_kwh)}"
        self._show_entry()
