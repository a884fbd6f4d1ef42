"""The audit log in words: ``management.clear_tamper`` reads "Token clear tamper diterbitkan".

Each action code maps to an (Indonesian, English) sentence; an action not listed falls back to
its family ("meter.*" -> "Meter: ..."), then to the code itself, so a new action never breaks the
page. ``describe`` also turns the JSON detail into one short line of words (the reason, the
ticket, the channel ...), never a key or a token.
"""

from __future__ import annotations

from typing import Any

ACTIONS: dict[str, tuple[str, str]] = {
    "purchase": ("Token dijual", "Token sold"),
    "delivery.confirmed": ("Penyerahan token dikonfirmasi", "Token delivery confirmed"),
    "management.clear_tamper": ("Token clear tamper diterbitkan", "Clear tamper token issued"),
    "management.clear_credit": ("Token hapus kredit diterbitkan", "Clear credit token issued"),
    "management.set_power_limit": ("Token batas daya diterbitkan", "Power limit token issued"),
    "management.key_change": ("Token ganti kunci (KCT) diterbitkan", "Key change tokens (KCT) issued"),
    "management.meter_replaced": ("Meter diganti", "Meter replaced"),
    "approval.requested": ("Persetujuan diminta", "Approval requested"),
    "approval.approved": ("Permintaan disetujui", "Request approved"),
    "approval.rejected": ("Permintaan ditolak", "Request rejected"),
    "approval.failed": ("Permintaan yang disetujui gagal dijalankan", "Approved request failed to run"),
    "customer.register": ("Pelanggan didaftarkan", "Customer registered"),
    "customer.update": ("Data pelanggan diubah", "Customer details changed"),
    "customer.import": ("Pelanggan diimpor", "Customer imported"),
    "customer.import_update": ("Pelanggan diperbarui lewat impor", "Customer updated by import"),
    "customer.change_power": ("Daya pelanggan diubah", "Customer's power changed"),
    "customer.block": ("Pelanggan diblokir", "Customer blocked"),
    "customer.unblock": ("Blokir pelanggan dibuka", "Customer unblocked"),
    "meter.register": ("Meter didaftarkan", "Meter registered"),
    "meter.install": ("Meter dipasang", "Meter installed"),
    "meter.remove": ("Meter dilepas", "Meter removed"),
    "channel.add": ("Loket ditambahkan", "Channel added"),
    "channel.update": ("Loket diubah", "Channel changed"),
    "channel.disable": ("Loket dinonaktifkan", "Channel disabled"),
    "channel.key_issued": ("Kunci API loket diterbitkan", "Channel API key issued"),
    "channel.key_rotated": ("Kunci API loket diganti", "Channel API key rotated"),
    "gateway.partner_add": ("Mitra H2H ditambahkan", "H2H partner added"),
    "gateway.partner_remove": ("Mitra H2H dihapus", "H2H partner removed"),
    "key.vending_generate": ("Kunci vending dibuat", "Vending key generated"),
    "key.vending_import": ("Kunci vending diimpor", "Vending key imported"),
    "key.vending_import_wrapped": ("Kunci vending terbungkus diimpor", "Wrapped vending key imported"),
    "key.decoder_read": ("Kunci dekoder dibaca", "Decoder key read"),
    "key.import": ("Kunci diimpor", "Key imported"),
    "tariff.version": ("Versi tarif baru", "New tariff version"),
    "unit.add": ("Unit ditambahkan", "Unit added"),
    "unit.default": ("Unit bawaan diubah", "Default unit changed"),
    "unit.pbjt_rate": ("Tarif PBJT-TL unit diubah", "Unit PBJT-TL rate changed"),
    "user.create": ("Pengguna dibuat", "User created"),
    "user.access_revoked": ("Sesi pengguna diakhiri", "User's sessions ended"),
    "user.password_changed": ("Kata sandi diganti", "Password changed"),
    "user.password_reset": ("Kata sandi direset", "Password reset"),
    "user.password_reset_issued": ("Kode reset kata sandi diterbitkan", "Password reset code issued"),
    "user.password_reset_refused": ("Reset kata sandi ditolak", "Password reset refused"),
    "account.meter_linked": ("Meter ditambahkan ke akun", "Meter linked to an account"),
    "account.link_refused": ("Penambahan meter ke akun ditolak", "Meter link to an account refused"),
    "campaign.created": ("Kampanye ganti kunci dibuat", "Key-change campaign created"),
    "campaign.approved": ("Kampanye ganti kunci disetujui", "Key-change campaign approved"),
    "campaign.delivered": ("KCT kampanye diserahkan", "Campaign KCTs delivered"),
    "campaign.confirmed": ("KCT kampanye dikonfirmasi di meter", "Campaign KCTs confirmed on the meter"),
    "campaign.field_keyed": ("KCT kampanye dimasukkan petugas", "Campaign KCTs keyed in by a technician"),
    "reference.seed": ("Data referensi dimuat", "Reference data loaded"),
    "support.ticket.opened": ("Tiket pengaduan dibuat", "Complaint ticket opened"),
    "support.ticket.assigned": ("Tiket ditugaskan", "Ticket assigned"),
    "support.ticket.visit_scheduled": ("Kunjungan dijadwalkan", "Visit scheduled"),
    "support.ticket.inspected": ("Hasil pemeriksaan dicatat", "Inspection recorded"),
    "support.ticket.comment": ("Catatan pada tiket", "Note on a ticket"),
    "support.ticket.resolved": ("Tiket diselesaikan", "Ticket resolved"),
    "support.ticket.reopened": ("Tiket dibuka kembali", "Ticket reopened"),
    "support.ticket.closed": ("Tiket ditutup", "Ticket closed"),
    "support.ticket.clear_tamper_issued": ("Token clear tamper diterbitkan untuk tiket",
                                           "Clear tamper token issued for a ticket"),
    "support.ticket.key_change_requested": ("KCT diajukan untuk tiket", "Key change asked for a ticket"),
    "support.ticket.key_change_issued": ("KCT diterbitkan untuk tiket", "Key change tokens issued for a ticket"),
    "support.ticket.replacement_requested": ("Penggantian meter diajukan", "Meter replacement asked for"),
    "support.ticket.meter_replaced": ("Meter diganti (tiket)", "Meter replaced (ticket)"),
    "support.chat.handed_over": ("Obrolan diteruskan ke petugas", "Chat handed over to an agent"),
    "support.social.received": ("Pesan media sosial diterima", "Social media message received"),
}  # fmt: skip

FAMILIES: dict[str, tuple[str, str]] = {
    "management": ("Token manajemen", "Management token"),
    "approval": ("Persetujuan", "Approval"),
    "customer": ("Pelanggan", "Customer"),
    "meter": ("Meter", "Meter"),
    "channel": ("Loket", "Channel"),
    "gateway": ("Gateway H2H", "H2H gateway"),
    "key": ("Kunci", "Key"),
    "tariff": ("Tarif", "Tariff"),
    "unit": ("Unit", "Unit"),
    "user": ("Pengguna", "User"),
    "account": ("Akun", "Account"),
    "campaign": ("Kampanye", "Campaign"),
    "support": ("Pengaduan", "Complaints"),
}

#: The filter menu: prefixes of action codes, in words.
FILTERS: tuple[tuple[str, str, str], ...] = (
    ("purchase", "Penjualan", "Sales"),
    ("management.", "Token manajemen", "Management tokens"),
    ("approval.", "Persetujuan", "Approvals"),
    ("support.", "Pengaduan", "Complaints"),
    ("customer.", "Pelanggan", "Customers"),
    ("meter.", "Meter", "Meters"),
    ("channel.", "Loket", "Channels"),
    ("key.", "Kunci", "Keys"),
    ("user.", "Pengguna", "Users"),
    ("campaign.", "Kampanye", "Campaigns"),
    ("tariff.", "Tarif", "Tariffs"),
)

#: Detail keys shown in words, in this order; anything else stays out of the line (the CSV
#: export keeps the whole JSON detail).
_DETAIL_WORDS: tuple[tuple[str, str, str], ...] = (
    ("ticket", "tiket", "ticket"),
    ("reason", "alasan", "reason"),
    ("text", "catatan", "note"),
    ("resolution", "penyelesaian", "resolution"),
    ("technician", "petugas", "technician"),
    ("channel", "loket", "channel"),
    ("reference_number", "ref", "ref"),
    ("nominal", "nominal", "nominal"),
    ("username", "pengguna", "user"),
    ("idpel", "IDPEL", "IDPEL"),
    ("approval", "persetujuan", "approval"),
    ("kind", "jenis", "kind"),
    ("watts", "watt", "watts"),
    ("campaign", "kampanye", "campaign"),
    ("status", "status", "status"),
)


def action_words(action: str, lang: str) -> str:
    pair = ACTIONS.get(action)
    if pair is None:
        family, _, rest = action.partition(".")
        fam = FAMILIES.get(family)
        if fam is None:
            return action
        words = rest.replace("ticket.", "").replace("_", " ").replace(".", " ")
        pair = (f"{fam[0]}: {words}", f"{fam[1]}: {words}")
    return pair[1] if lang == "en" else pair[0]


def describe(detail: dict[str, Any], lang: str) -> str:
    """The detail that matters to a reader, as ``alasan: ...; tiket: ...``."""
    parts = []
    for key, id_word, en_word in _DETAIL_WORDS:
        value = detail.get(key)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, (dict, list)):
            continue
        parts.append(f"{en_word if lang == 'en' else id_word}: {value}")
    return "; ".join(parts)
