"""prabayar.meter: a faithful emulator of the PLN single-phase keypad prepaid meter.

It knows only ``prabayar.sts``. Time comes from an injected clock; state lives in a JSON file
(decoder key sealed) written atomically after every change. See docs/meter.md.
"""

from prabayar.meter.clock import Clock, ManualClock, SystemClock
from prabayar.meter.display import WIB, MeterResult, ResultKind
from prabayar.meter.errors import (
    ClockError,
    DamagedStateFile,
    ForeignStateFile,
    InvalidLoad,
    MeterError,
    MeterSetupError,
    StateFileError,
    StateFileExists,
    StateFileMissing,
    StateKeyError,
)
from prabayar.meter.indicators import CreditLed
from prabayar.meter.keypad import SERVICE_CODES, ServiceCode
from prabayar.meter.meter import CurvePoint, Meter, MeterStatus
from prabayar.meter.model import Event, LastEntry, MeterState, RelayState, TamperCause, TokenRecord
from prabayar.meter.persistence import FORMAT, VERSION, StateFile
from prabayar.meter.secretbox import AesGcmBox, SecretBox
from prabayar.meter.settings import MeterSettings

__all__ = [
    "FORMAT",
    "SERVICE_CODES",
    "VERSION",
    "WIB",
    "AesGcmBox",
    "Clock",
    "ClockError",
    "CreditLed",
    "CurvePoint",
    "DamagedStateFile",
    "Event",
    "ForeignStateFile",
    "InvalidLoad",
    "LastEntry",
    "ManualClock",
    "Meter",
    "MeterError",
    "MeterResult",
    "MeterSettings",
    "MeterSetupError",
    "MeterState",
    "MeterStatus",
    "RelayState",
    "ResultKind",
    "SecretBox",
    "ServiceCode",
    "StateFile",
    "StateFileError",
    "StateFileExists",
    "StateFileMissing",
    "StateKeyError",
    "SystemClock",
    "TamperCause",
    "TokenRecord",
]
