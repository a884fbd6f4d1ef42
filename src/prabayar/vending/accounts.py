"""Password and API-key hashing for the web app's logins and the channels' credentials.

Passwords use argon2id (argon2-cffi); channel API keys are long random strings, so a plain
SHA-256 of the key is enough to make a stolen database useless for calling the API.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
API_KEY_PREFIX = "pby_"
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: str | None = None


def verify_dummy(password: str) -> bool:
    """Spend the same argon2 time as :func:`verify_password` for a user name that does not exist
    (or is disabled), so the answer's timing does not tell which names are real. Always False."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None or _HASHER.check_needs_rehash(_DUMMY_HASH):
        # made (again) with the hasher's current cost, so it takes as long as a real user's
        _DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
    verify_password(_DUMMY_HASH, password)
    return False


def new_api_key() -> str:
    """A fresh channel API key (256 bits of randomness)."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def api_key_matches(api_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(api_key), stored_hash)
