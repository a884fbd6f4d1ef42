"""Typed errors of the vending back office, each with PLN's 4-digit response code.

A payment channel shows ``message_id`` (Indonesian) to the customer; ``message_en`` is for
operators and logs. ``str()`` carries both so that a face can print it as is.
"""

from __future__ import annotations

SUCCESS = "0000"


class VendingError(Exception):
    """Base of every error a person (customer, channel, operator) can cause in vending."""

    code = "0005"

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(f"{message_en} / {message_id}")
        self.message_id = message_id
        self.message_en = message_en

    def as_dict(self) -> dict[str, str]:
        """A response body for a face: code and both messages, nothing else."""
        return {"code": self.code, "message_id": self.message_id, "message_en": self.message_en}


class UnknownMeter(VendingError):
    """No meter with this number (0014); ``luhn_failed`` tells a typo from an unknown meter."""

    code = "0014"

    def __init__(self, meter_number: str, *, luhn_failed: bool = False, detail: str = "") -> None:
        self.meter_number = meter_number
        self.luhn_failed = luhn_failed
        if luhn_failed:
            super().__init__(
                f"NOMOR METER {meter_number} SALAH (DIGIT PERIKSA TIDAK COCOK)",
                f"meter number {meter_number} is wrong: its check digit (Luhn) does not match",
            )
        else:
            extra = f" ({detail})" if detail else ""
            super().__init__(
                f"NOMOR METER {meter_number} TIDAK DITEMUKAN",
                f"meter number {meter_number} is not registered{extra}",
            )


class MeterReplaced(VendingError):
    """The meter was replaced; tokens can only be bought for the new one (0014)."""

    code = "0014"

    def __init__(self, meter_number: str, replacement: str | None) -> None:
        self.meter_number = meter_number
        self.replacement = replacement
        new = f" {replacement}" if replacement else ""
        super().__init__(
            f"METER {meter_number} SUDAH DIGANTI, GUNAKAN NOMOR METER BARU{new}",
            f"meter {meter_number} was replaced; buy for the new meter{new}",
        )


class UnknownCustomer(VendingError):
    """No customer with this IDPEL (0015)."""

    code = "0015"

    def __init__(self, idpel: str, detail: str = "") -> None:
        self.idpel = idpel
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"ID PELANGGAN {idpel} TIDAK DITEMUKAN",
            f"customer ID (IDPEL) {idpel} is not registered{extra}",
        )


class DenominationNotAllowed(VendingError):
    """The nominal is not one this channel sells (0013)."""

    code = "0013"

    def __init__(self, nominal: int, allowed: tuple[int, ...]) -> None:
        self.nominal = nominal
        self.allowed = allowed
        listed = ", ".join(f"{a:,}".replace(",", ".") for a in allowed)
        super().__init__(
            f"NOMINAL PEMBELIAN TIDAK TERDAFTAR (PILIHAN: {listed})",
            f"denomination Rp {nominal:,} is not sold on this channel (allowed: {listed})",
        )


class BelowMinimum(VendingError):
    """Below the minimum purchase (0041)."""

    code = "0041"

    def __init__(self, nominal: int, minimum: int) -> None:
        self.nominal = nominal
        self.minimum = minimum
        super().__init__(
            f"PEMBELIAN MINIMAL RP. {minimum // 1000} RIBU",
            f"Rp {nominal:,} is below the minimum purchase of Rp {minimum:,}",
        )


class AboveMaximum(VendingError):
    """Above the maximum purchase (0042)."""

    code = "0042"

    def __init__(self, nominal: int, maximum: int) -> None:
        self.nominal = nominal
        self.maximum = maximum
        super().__init__(
            f"PEMBELIAN MELEBIHI BATAS MAKSIMUM RP. {maximum:,}".replace(",", "."),
            f"Rp {nominal:,} is above the maximum purchase of Rp {maximum:,}",
        )


class MonthlyCapExceeded(VendingError):
    """The month's 720 "jam nyala" would be exceeded (0047)."""

    code = "0047"

    def __init__(self, cap_kwh: object, bought_kwh: object, requested_kwh: object) -> None:
        self.cap_kwh = cap_kwh
        self.bought_kwh = bought_kwh
        self.requested_kwh = requested_kwh
        super().__init__(
            "TOTAL KWH MELEBIHI BATAS MAKSIMUM",
            f"monthly limit of {cap_kwh} kWh (720 jam nyala) exceeded: {bought_kwh} kWh bought "
            f"this month, {requested_kwh} kWh requested",
        )


class CustomerBlocked(VendingError):
    """PLN blocked this customer or meter from buying (0077)."""

    code = "0077"

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier
        super().__init__(
            "KONSUMEN DIBLOKIR HUBUNGI PLN",
            f"customer/meter {identifier} is blocked from buying; contact PLN",
        )


class CutOff(VendingError):
    """The nightly cut-off window is running (0090)."""

    code = "0090"

    def __init__(self, window: str) -> None:
        super().__init__(
            f"TRANSAKSI CUT OFF ({window} WIB), COBA LAGI NANTI",
            f"cut-off in progress ({window} WIB); try again later",
        )


class InProcess(VendingError):
    """The database could not take the transaction in time; the channel sends advice (0099)."""

    code = "0099"

    def __init__(self, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            "TRANSAKSI MASIH DALAM PROSES",
            f"transaction still in process; send an advice for the same reference{extra}",
        )


class UnknownReference(VendingError):
    """Advice or delivery confirmation for a channel reference never seen (0092)."""

    code = "0092"

    def __init__(self, channel: str, channel_reference: str) -> None:
        super().__init__(
            f"REFERENSI {channel_reference} TIDAK DITEMUKAN",
            f"no purchase with reference {channel_reference!r} from channel {channel}",
        )


class ReferenceConflict(VendingError):
    """The channel reused a reference for a different request (0093)."""

    code = "0093"

    def __init__(self, channel: str, channel_reference: str) -> None:
        super().__init__(
            f"REFERENSI {channel_reference} SUDAH DIPAKAI UNTUK TRANSAKSI LAIN",
            f"reference {channel_reference!r} of channel {channel} was already used for a "
            "different purchase",
        )


class UnknownChannel(VendingError):
    """The sales channel is not registered (0031)."""

    code = "0031"

    def __init__(self, channel: str) -> None:
        super().__init__(
            f"KODE LOKET {channel} BELUM TERDAFTAR",
            f"sales channel {channel!r} is not registered",
        )


class AuthenticationFailed(VendingError):
    """Wrong username/password or API key; never says which part was wrong."""

    def __init__(self) -> None:
        super().__init__("LOGIN GAGAL", "authentication failed")


class NotAuthorized(VendingError):
    """The acting user may not do this (management tokens need an operator)."""

    def __init__(self, who: str, action: str) -> None:
        super().__init__(
            f"PENGGUNA {who} TIDAK BERWENANG",
            f"user {who!r} is not allowed to {action}; an operator or admin is required",
        )


class ReasonRequired(VendingError):
    """Management tokens are only issued with a written reason."""

    def __init__(self) -> None:
        super().__init__("ALASAN WAJIB DIISI", "a reason is required for a management token")


class KeyChangeRequired(VendingError):
    """The meter's key cannot sign a token now (TID rollover or KEN expiry): a KCT is due."""

    def __init__(self, meter_number: str, detail: str) -> None:
        self.meter_number = meter_number
        super().__init__(
            f"METER {meter_number} PERLU PENGGANTIAN KUNCI (KCT), HUBUNGI PLN 123",
            f"meter {meter_number} needs a key change token before it can be vended: {detail}",
        )


class KeyUnavailable(VendingError):
    """The key store holds no vending key for the meter's supply group and revision."""

    def __init__(self, sgc: str, krn: int) -> None:
        super().__init__(
            "KUNCI VENDING TIDAK TERSEDIA, HUBUNGI PLN",
            f"no vending key for supply group {sgc} revision {krn} in the key store",
        )


class InvalidRequest(VendingError):
    """A malformed field in a request (empty reference, non-positive watts, …)."""

    def __init__(self, message_id: str, message_en: str) -> None:
        super().__init__(message_id, message_en)


class AdminRequired(NotAuthorized):
    """Only an admin may do this (key changes, approving a maker's request)."""

    def __init__(self, who: str, action: str) -> None:
        VendingError.__init__(
            self,
            f"PENGGUNA {who} TIDAK BERWENANG (HANYA ADMIN)",
            f"user {who!r} is not allowed to {action}; an admin is required",
        )


class FourEyesViolation(NotAuthorized):
    """Maker-checker: the maker (or the inspector of a replacement) cannot approve it."""

    def __init__(self, who: str, detail: str) -> None:
        VendingError.__init__(
            self,
            f"PENGGUNA {who} TIDAK BOLEH MENYETUJUI PERMINTAAN INI (EMPAT MATA)",
            f"user {who!r} may not approve this request (four eyes): {detail}",
        )


class ApprovalNotFound(VendingError):
    """No approval request with this id."""

    def __init__(self, approval_id: int) -> None:
        self.approval_id = approval_id
        super().__init__(
            f"PERMINTAAN PERSETUJUAN {approval_id} TIDAK DITEMUKAN",
            f"no approval request with id {approval_id}",
        )


class ApprovalNotPending(VendingError):
    """The request was already approved, rejected or failed: it cannot be decided again."""

    def __init__(self, approval_id: int, status: str) -> None:
        self.approval_id = approval_id
        self.status = status
        super().__init__(
            f"PERMINTAAN {approval_id} SUDAH DIPUTUSKAN ({status.upper()})",
            f"approval request {approval_id} is already {status}; it cannot be decided again",
        )


class CarriedCreditAboveCap(VendingError):
    """A replacement may carry at most the meter's monthly cap (720 h x VA)."""

    def __init__(self, requested_kwh: object, cap_kwh: object) -> None:
        self.requested_kwh = requested_kwh
        self.cap_kwh = cap_kwh
        super().__init__(
            f"SISA KREDIT {requested_kwh} KWH MELEBIHI BATAS {cap_kwh} KWH (720 JAM NYALA)",
            f"carried credit of {requested_kwh} kWh is above the meter's monthly cap of {cap_kwh} kWh "
            "(720 h x VA); it is refused, never cut down silently",
        )
