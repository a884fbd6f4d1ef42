"""The one exception family of the token engine: everything it raises is an ``StsError``."""

from __future__ import annotations


class StsError(Exception):
    """Base of every error the token engine raises on bad input."""


class ValidationError(StsError):
    """An identifier or token string is not well formed (python-stdnum style)."""


class InvalidFormat(ValidationError):
    """Characters or structure are wrong (letters, value out of range, ...)."""


class InvalidLength(ValidationError):
    """The number has the wrong count of digits."""


class InvalidChecksum(ValidationError):
    """The check digit does not match."""


class TokenCrcError(StsError):
    """The decrypted block fails its CRC: another meter's token, a wrong key or a typing error."""


class UnsupportedToken(StsError):
    """A reserved class or subclass, or a token type this engine does not produce."""


class KeyRequired(StsError):
    """Class 0 and class 2 tokens can only be made or read with a decoder key."""


class InvalidKey(StsError):
    """Key material or key parameters are malformed (length, range, algorithm mismatch)."""


class TidRolloverError(StsError):
    """The time is past the last minute a 24-bit TID can count from this base date."""


class KeyExpiredError(StsError):
    """The token's TID is beyond the key expiry number (KEN) of the key."""


class AmountRangeError(StsError):
    """The amount or value cannot be encoded in the 16-bit transfer field."""
