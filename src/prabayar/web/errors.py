"""The error model of the HTTP face: an HTTP status plus a PLN-style four-digit response code.

Payment points speak PLN's response codes (``0000`` success, ``0014`` unknown meter, ...), so
every error the API returns carries one beside the HTTP status, together with a stable machine
slug and a message in Indonesian and English. Nothing else (no traceback) ever reaches a client.
"""

from __future__ import annotations

from enum import StrEnum


class ResponseCode(StrEnum):
    """PLN biller response codes used by this face (``shared/domain/PLN.md`` section 5.3)."""

    SUCCESS = "0000"
    OTHER_ERROR = "0005"
    INVALID_AMOUNT = "0013"
    UNKNOWN_METER = "0014"
    UNKNOWN_IDPEL = "0015"
    INVALID_MESSAGE = "0030"
    UNREGISTERED_CHANNEL = "0031"
    BELOW_MINIMUM = "0041"
    ABOVE_MAXIMUM = "0042"
    KWH_CAP = "0047"
    TIMEOUT = "0068"
    CUSTOMER_BLOCKED = "0077"
    CUT_OFF = "0090"
    REFERENCE_NOT_AVAILABLE = "0092"
    REFERENCE_INVALID = "0093"
    IN_PROCESS = "0099"


class WebError(Exception):
    """An error a person or a payment point caused, rendered as JSON or as a page."""

    status_code: int = 400
    response_code: str = ResponseCode.OTHER_ERROR
    slug: str = "bad_request"
    message_id: str = "Permintaan tidak dapat diproses."
    message_en: str = "The request cannot be processed."

    def __init__(
        self,
        message_id: str | None = None,
        message_en: str | None = None,
        *,
        status_code: int | None = None,
        response_code: str | None = None,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message_id = message_id or type(self).message_id
        self.message_en = message_en or type(self).message_en
        if status_code is not None:
            self.status_code = status_code
        if response_code is not None:
            self.response_code = response_code
        if slug is not None:
            self.slug = slug
        self.headers = headers or {}
        super().__init__(self.message_en)

    def body(self, request_id: str) -> dict[str, object]:
        """The JSON error document (also documented in ``docs/api.md``)."""
        return {
            "response_code": str(self.response_code),
            "error": self.slug,
            "message": self.message_id,
            "message_en": self.message_en,
            "request_id": request_id,
        }


class NotAuthenticated(WebError):
    status_code = 401
    slug = "not_authenticated"
    message_id = "Silakan masuk terlebih dahulu."
    message_en = "Please log in first."


class InvalidCredentials(WebError):
    status_code = 401
    slug = "invalid_credentials"
    message_id = "Nama pengguna atau kata sandi salah."
    message_en = "Wrong user name or password."


class UnknownChannel(WebError):
    status_code = 401
    response_code = ResponseCode.UNREGISTERED_CHANNEL
    slug = "unregistered_channel"
    message_id = "Kanal pembayaran tidak terdaftar atau kunci API salah."
    message_en = "Unregistered payment channel or wrong API key."


class Forbidden(WebError):
    status_code = 403
    slug = "forbidden"
    message_id = "Anda tidak berhak melakukan ini."
    message_en = "You are not allowed to do this."


class CsrfFailed(WebError):
    status_code = 403
    slug = "csrf_failed"
    message_id = "Formulir kedaluwarsa. Muat ulang halaman dan coba lagi."
    message_en = "The form has expired. Reload the page and try again."


class NotFound(WebError):
    status_code = 404
    slug = "not_found"
    message_id = "Tidak ditemukan."
    message_en = "Not found."


class RateLimited(WebError):
    status_code = 429
    slug = "rate_limited"
    message_id = "Terlalu banyak percobaan. Tunggu sebentar lalu coba lagi."
    message_en = "Too many attempts. Wait a moment and try again."

    def __init__(self, retry_after: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class InvalidRequest(WebError):
    status_code = 422
    response_code = ResponseCode.INVALID_MESSAGE
    slug = "invalid_request"
    message_id = "Isi permintaan tidak valid."
    message_en = "The request is not valid."


class InvalidJson(WebError):
    """A body that is not JSON at all (one status for every route: 400, RC 0030)."""

    status_code = 400
    response_code = ResponseCode.INVALID_MESSAGE
    slug = "invalid_json"
    message_id = "Isi permintaan bukan JSON yang valid."
    message_en = "The request body is not valid JSON."


class PayloadTooLarge(WebError):
    """A body over the API's limit (``PRABAYAR_MAX_JSON_BODY``, 64 KiB by default)."""

    status_code = 413
    response_code = ResponseCode.INVALID_MESSAGE
    slug = "payload_too_large"
    message_id = "Isi permintaan terlalu besar."
    message_en = "The request body is too large."


class ServiceUnavailable(WebError):
    status_code = 503
    slug = "not_ready"
    message_id = "Layanan belum siap."
    message_en = "The service is not ready."
