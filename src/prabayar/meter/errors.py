"""Typed errors of the meter emulator; each carries an Indonesian and an English message.

Token entry never raises for a bad token (the meter shows a result instead); these errors are
for things a person does to the emulator itself: a damaged state file, a wrong state key, a
bad setting.
"""

from __future__ import annotations


class MeterError(Exception):
    """Base of everything the meter emulator raises; ``str()`` is "Indonesian / English"."""

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(f"{message_id} / {message_en}")
        self.message_id = message_id
        self.message_en = message_en


class ClockError(MeterError):
    """A time that cannot be used (naive, or moving a manual clock backwards)."""


class MeterSetupError(MeterError):
    """A meter cannot be made with these inputs (bad meter number, key/algorithm mismatch...)."""


class StateFileError(MeterError):
    """A state file cannot be used; it is never overwritten when this is raised."""

    def __init__(self, message_id: str, message_en: str, path: str) -> None:
        super().__init__(message_id, message_en)
        self.path = path


class StateFileMissing(StateFileError):
    """No state file at the path (no meter made there yet)."""


class StateFileExists(StateFileError):
    """A new meter would replace an existing state file."""


class DamagedStateFile(StateFileError):
    """The file is not valid JSON, or fields are missing or malformed."""


class ForeignStateFile(StateFileError):
    """Valid JSON, but not a prabayar meter state (or another meter's, or a newer format)."""


class StateKeyError(StateFileError):
    """The sealed decoder key cannot be opened: wrong state key, or the file was altered."""


class InvalidLoad(MeterError):
    """A load or duration that cannot be simulated (negative watts, zero duration...)."""
