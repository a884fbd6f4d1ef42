"""Indonesian first, English on request: gettext catalogues and the language choice.

The texts live in standard gettext catalogues, one per language:
``src/prabayar/web/locale/<lang>/LC_MESSAGES/messages.po`` (``id`` and ``en``), read with
Babel at first use (no compile step; ``make messages`` also writes the ``.mo`` files for tools
that want them). The message ids are stable keys (``nav.buy``, ``cause.typo``), so templates
say ``t("nav.buy")`` or, with Jinja2's i18n extension, ``_("nav.buy")`` /
``{% trans %}nav.buy{% endtrans %}``; translators edit the ``msgstr`` of each language with
any PO editor (``#.`` comments show the other language). ``make messages`` extracts the keys
used in the code and templates (Babel, ``babel.cfg``) and adds new ones to both catalogues
without dropping the keys the code builds at run time (``label("cause", ...)``).

The language is kept in a cookie (``lang``) set by ``/bahasa/<code>``; the default is Indonesian,
as on PLN's own channels. A missing key shows the key itself, so a gap is visible, not fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po
from starlette.requests import Request

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANG_COOKIE = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> msgstr of one language's ``.po`` file (translated entries only)."""
    path = po_path(lang)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.id, str) and m.string}


class CataloguePairs(Mapping[str, tuple[str, str]]):
    """The catalogues seen as ``key -> (Indonesian, English)`` (what ``MESSAGES`` was)."""

    def __init__(self, extra: Mapping[str, tuple[str, str]] | None = None) -> None:
        self._extra = extra or {}

    def _keys(self) -> dict[str, None]:
        keys = dict.fromkeys(catalogue("id"))
        keys.update(dict.fromkeys(catalogue("en")))
        keys.update(dict.fromkeys(self._extra))
        return keys

    def __getitem__(self, key: str) -> tuple[str, str]:
        ind, eng = catalogue("id").get(key), catalogue("en").get(key)
        if ind is None and eng is None:
            return self._extra[key]
        fallback = self._extra.get(key, (key, key))
        return (ind if ind is not None else fallback[0], eng if eng is not None else fallback[1])

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


# key -> (Indonesian, English)
_PY_MESSAGES: Mapping[str, tuple[str, str]] = {
    "app.name": ("prabayar", "prabayar"),
    "app.tagline": (
        "Listrik prabayar: token STS, meter, dan layanan pelanggan",
        "Prepaid electricity: STS tokens, meters and customer care",
    ),
    "nav.home": ("Beranda", "Home"),
    "nav.meters": ("Meter saya", "My meters"),
    "nav.buy": ("Beli token", "Buy a token"),
    "nav.history": ("Riwayat", "History"),
    "nav.failed": ("Token gagal?", "Token failed?"),
    "nav.complaint": ("Pengaduan", "Complaint"),
    "nav.console": ("Konsol operator", "Operator console"),
    "nav.audit": ("Log audit", "Audit log"),
    "nav.login": ("Masuk", "Log in"),
    "nav.logout": ("Keluar", "Log out"),
    "nav.meter": ("Meter virtual", "Virtual meter"),
    "lang.switch": ("English", "Bahasa Indonesia"),
    "login.title": ("Masuk ke akun", "Log in to your account"),
    "login.username": ("Nama pengguna", "User name"),
    "login.password": ("Kata sandi", "Password"),
    "login.submit": ("Masuk", "Log in"),
    "login.demo": ("Akun demo", "Demo accounts"),
    "home.welcome": ("Selamat datang", "Welcome"),
    "home.intro": (
        "Beli token listrik, masukkan ke meter virtual, dan lihat kredit bertambah. "
        "Semua token dibuat dengan mesin STS (IEC 62055-41) yang sebenarnya.",
        "Buy an electricity token, key it into the virtual meter and watch the credit rise. "
        "Every token is made by a real STS (IEC 62055-41) engine.",
    ),
    "home.start": ("Mulai", "Get started"),
    "meters.title": ("Meter saya", "My meters"),
    "meters.none": ("Belum ada meter terdaftar.", "No meter registered yet."),
    "field.meter_number": ("Nomor meter", "Meter number"),
    "field.idpel": ("IDPEL", "Customer ID (IDPEL)"),
    "field.name": ("Nama", "Name"),
    "field.tariff": ("Tarif/Daya", "Tariff/Power"),
    "field.status": ("Status", "Status"),
    "field.unit": ("Unit", "Unit"),
    "field.address": ("Alamat", "Address"),
    "field.nominal": ("Nominal", "Amount"),
    "field.admin": ("Biaya admin", "Admin fee"),
    "field.pbjt": ("PBJT-TL", "PBJT-TL (electricity tax)"),
    "field.ppn": ("PPN", "VAT (PPN)"),
    "field.meterai": ("Meterai", "Stamp duty"),
    "field.angsuran": ("Angsuran", "Instalment"),
    "field.stroom": ("Rp Stroom/Token", "Energy value"),
    "field.kwh": ("Jumlah kWh", "kWh"),
    "field.total": ("Total bayar", "Total to pay"),
    "field.token": ("Token", "Token"),
    "field.reference": ("No. Ref", "Reference"),
    "field.time": ("Waktu (WIB)", "Time (WIB)"),
    "field.channel": ("Kanal", "Channel"),
    "field.reason": ("Alasan", "Reason"),
    "field.kind": ("Jenis", "Kind"),
    "field.actor": ("Pelaku", "Actor"),
    "field.action": ("Tindakan", "Action"),
    "field.detail": ("Rincian", "Detail"),
    "field.subject": ("Objek", "Subject"),
    "field.credit": ("Kredit", "Credit"),
    "buy.title": ("Beli token listrik", "Buy an electricity token"),
    "buy.choose_meter": ("Pilih meter", "Choose a meter"),
    "buy.choose_nominal": ("Pilih nominal", "Choose an amount"),
    "buy.next": ("Lanjut", "Continue"),
    "buy.breakdown": ("Rincian harga", "Price breakdown"),
    "buy.pay": ("Bayar", "Pay"),
    "buy.cancel": ("Batal", "Cancel"),
    "buy.receipt": ("Struk pembelian", "Receipt"),
    "buy.done": (
        "Pembayaran berhasil. Masukkan token ini ke meter Anda.",
        "Payment successful. Key this token into your meter.",
    ),
    "buy.try_meter": ("Masukkan di meter virtual", "Enter it on the virtual meter"),
    "history.title": ("Riwayat token", "Token history"),
    "history.none": ("Belum ada pembelian.", "No purchases yet."),
    "history.reprint": ("Cetak ulang", "Reprint"),
    "failed.title": ("Token gagal masuk?", "Token not accepted?"),
    "failed.causes": ("Penyebab yang sering terjadi", "Common causes"),
    "complaint.title": ("Pengaduan", "Complaint"),
    "complaint.category": ("Kategori", "Category"),
    "complaint.description": ("Uraian masalah", "Describe the problem"),
    "complaint.submit": ("Kirim pengaduan", "Send complaint"),
    "complaint.sent": ("Pengaduan diterima. Nomor tiket:", "Complaint received. Ticket number:"),
    "meter.title": ("Meter virtual", "Virtual meter"),
    "meter.help": (
        "Ketik 20 digit token dengan tombol lalu tekan ENTER. Kode layanan (mis. 37) juga bisa.",
        "Type the 20 token digits on the keypad and press ENTER. Service codes (e.g. 37) work too.",
    ),
    "meter.enter": ("ENTER", "ENTER"),
    "meter.clear": ("HAPUS", "CLEAR"),
    "meter.relay_on": ("Listrik menyala", "Power on"),
    "meter.relay_off": ("Listrik padam", "Power off"),
    "meter.log": ("Catatan meter", "Meter log"),
    "meter.why": ("Token ditolak? Cari tahu sebabnya:", "Token refused? Find out why:"),
    "console.title": ("Konsol operator", "Operator console"),
    "console.search": ("Cari nomor meter atau IDPEL", "Search by meter number or IDPEL"),
    "console.search_button": ("Cari", "Search"),
    "console.no_result": ("Tidak ada yang cocok.", "Nothing matches."),
    "console.customer": ("Pelanggan", "Customer"),
    "console.meters": ("Meter pelanggan", "Customer's meters"),
    "kind.clear_tamper": ("Clear tamper (hapus PERIKSA)", "Clear tamper (PERIKSA)"),
    "kind.clear_credit": ("Hapus kredit", "Clear credit"),
    "kind.set_power_limit": ("Atur batas daya", "Set power limit"),
    "kind.key_change": ("Ganti kunci (KCT)", "Key change (KCT)"),
    # vending's result kinds (what was issued) next to the form's choices above
    "kind.power_limit": ("Atur batas daya", "Set power limit"),
    "kind.key_change_rollover": ("Ganti kunci (KCT, TID rollover)", "Key change (KCT, TID rollover)"),
    "console.watts": (
        "Batas daya (watt, hanya untuk Atur batas daya)",
        "Power limit (watt, only for Set power limit)",
    ),
    "console.rollover": (
        "TID rollover (hanya Ganti kunci: pindah ke tanggal dasar berikutnya, mis. 1993 → 2014)",
        "TID rollover (key change only: move to the next base date, e.g. 1993 → 2014)",
    ),
    "console.tickets": ("Tiket pengaduan", "Complaint tickets"),
    "console.tip": (
        "Coba nomor meter data demo, misalnya 14100000018 (Budi), 14100000117 (diblokir), "
        "14100000133 (perlu KCT) atau 14100001123 (meter lama yang sudah diganti).",
        "Try a demo meter number, e.g. 14100000018 (Budi), 14100000117 (blocked), "
        "14100000133 (needs key change tokens) or 14100001123 (an old meter, replaced).",
    ),
    "audit.filter": ("Saring", "Filter"),
    "audit.all": ("Semua", "All"),
    "console.purchases": ("Pembelian", "Purchases"),
    "console.management": ("Token manajemen", "Management tokens"),
    "console.issue": ("Terbitkan", "Issue"),
    "console.issued": ("Token manajemen diterbitkan", "Management token issued"),
    "audit.title": ("Log audit", "Audit log"),
    "error.title": ("Terjadi kesalahan", "Something went wrong"),
    "error.back": ("Kembali", "Go back"),
    "status.active": ("aktif", "active"),
    "status.blocked": ("diblokir", "blocked"),
    "status.replaced": ("diganti", "replaced"),
    "role.customer": ("pelanggan", "customer"),
    "role.operator": ("operator", "operator"),
    "role.admin": ("admin", "admin"),
    "login.demo_hint": (
        "Demo: akun dan kata sandi ditampilkan di terminal oleh `make run` (prabayar serve).",
        "Demo: the accounts and passwords are printed in the terminal by `make run` (prabayar serve).",
    ),
    "back.complaints": ("Kembali ke pengaduan saya", "Back to my complaints"),
    # issue 14, customers: receipt, history, my meters, passwords
    "receipt.sold_at": ("Tanggal & jam pembelian", "Date & time of sale"),
    "receipt.copy": ("Salin token", "Copy token"),
    "receipt.copied": ("Token disalin", "Token copied"),
    "receipt.print": ("Cetak", "Print"),
    "receipt.pdf": ("Unduh PDF", "Download PDF"),
    "receipt.kct_first": (
        "Masukkan token ganti kunci (KCT) ini berurutan sebelum token stroom:",
        "Key these key change tokens (KCT) in order before the credit token:",
    ),
    "history.search": ("Cari nomor meter, no. ref atau angka token", "Search meter number, reference or token digits"),
    "history.from": ("Dari tanggal", "From"),
    "history.to": ("Sampai tanggal", "To"),
    "history.apply": ("Tampilkan", "Show"),
    "history.reset": ("Hapus saringan", "Clear filters"),
    "history.count": ("pembelian", "purchases"),
    "history.prev": ("Sebelumnya", "Previous"),
    "history.next": ("Berikutnya", "Next"),
    "history.page": ("Halaman", "Page"),
    "history.bad_date": ("Tanggal tidak valid (format TTTT-BB-HH).", "Invalid date (use YYYY-MM-DD)."),
    "meters.credit": ("Sisa kredit", "Remaining credit"),
    "meters.credit_unknown": (
        "belum diketahui (meter virtual belum dibuka)",
        "not known yet (virtual meter not opened)",
    ),
    "meters.last_token": ("Token terakhir", "Last token"),
    "meters.no_token": ("belum ada", "none yet"),
    "meters.blocked_note": (
        "Meter ini diblokir: pembelian ditolak. Hubungi Contact Center 123 atau kantor unit.",
        "This meter is blocked: purchases are refused. Call Contact Center 123 or the unit office.",
    ),
    "meters.add": ("Tambah meter milik Anda", "Add a meter you own"),
    "meters.add_help": (
        "Buktikan kepemilikan dengan token yang dibeli untuk meter itu dalam 90 hari terakhir, "
        "atau dengan IDPEL-nya (tertera di struk).",
        "Prove that it is yours with a token bought for it in the last 90 days, "
        "or with its IDPEL (printed on every receipt).",
    ),
    "meters.add_token": ("Token terakhir meter itu (20 digit)", "A recent token of that meter (20 digits)"),
    "meters.add_or": ("atau", "or"),
    "meters.add_submit": ("Tambahkan", "Add"),
    "account.password": ("Ganti kata sandi", "Change password"),
    "account.current": ("Kata sandi sekarang", "Current password"),
    "account.new": ("Kata sandi baru (minimal 8 karakter)", "New password (at least 8 characters)"),
    "account.repeat": ("Ulangi kata sandi baru", "Repeat the new password"),
    "account.save": ("Simpan", "Save"),
    "reset.title": ("Lupa kata sandi", "Forgot your password"),
    "reset.link": ("Lupa kata sandi?", "Forgot your password?"),
    "reset.help": (
        "Hubungi Contact Center 123 (atau datang ke kantor unit). Setelah identitas Anda diperiksa, "
        "petugas memberi kode sekali pakai 8 digit yang berlaku 30 menit. Masukkan di sini.",
        "Call Contact Center 123 (or visit the unit office). Once your identity is checked, the agent "
        "gives you a one-time 8-digit code valid for 30 minutes. Enter it here.",
    ),
    "reset.code": ("Kode reset (8 digit)", "Reset code (8 digits)"),
    "reset.issue_title": ("Kode reset kata sandi pelanggan", "Customer password reset code"),
    "reset.issue_help": (
        "Periksa identitas penelepon (nama, alamat, IDPEL, token terakhir) sebelum memberi kode. "
        "Kode hanya tampil sekali; permintaan dicatat di log audit.",
        "Check the caller's identity (name, address, IDPEL, a recent token) before giving the code. "
        "The code shows only once; the request is recorded in the audit log.",
    ),
    "reset.issue": ("Buat kode", "Issue a code"),
    "reset.issued": ("Kode untuk", "Code for"),
    "reset.valid": ("berlaku 30 menit, sekali pakai", "valid 30 minutes, once"),
    "mytickets.conversation": ("Percakapan dan alasan", "Conversation and reasons"),
    "mytickets.reply": ("Balas", "Reply"),
    "mytickets.reply_placeholder": ("Tulis balasan atau informasi tambahan", "Write a reply or more information"),
    "mytickets.confirm": ("Masalah sudah selesai, tutup tiket", "The problem is solved, close the ticket"),
    "mytickets.reopen": ("Belum selesai, buka kembali", "Not solved, reopen"),
    "mytickets.reopen_reason": ("Mengapa belum selesai?", "Why is it not solved?"),
    "mytickets.resolved_ask": (
        "Petugas menandai tiket ini selesai. Apakah masalah Anda sudah teratasi?",
        "An agent marked this ticket resolved. Is your problem solved?",
    ),
    "mytickets.diagnosis": ("Hasil pemeriksaan token terlampir", "Attached token check"),
    "mytickets.typed": ("Angka yang diketik", "Digits typed"),
    "mytickets.display": ("Tampilan meter", "Meter display"),
    "complaint.contact": ("Telepon atau e-mail (opsional)", "Phone or e-mail (optional)"),
    "complaint.mine": ("Pengaduan saya", "My complaints"),
    "complaint.token": ("Angka token yang diketik (opsional)", "Token digits typed (optional)"),
    "complaint.display": ("Tampilan meter (opsional)", "What the meter showed (optional)"),
    "complaint.token_help": (
        "Jika diisi, hasil pemeriksaan token otomatis dilampirkan ke tiket.",
        "If given, the token check's result is attached to the ticket.",
    ),
    # support's diagnosis: causes and how sure the engine is
    "cause.wrong_meter": ("Token untuk meter lain", "Token for another meter"),
    "cause.typo": ("Salah ketik", "Typing error"),
    "cause.broken_meter": ("Meter rusak", "Broken meter"),
    "cause.tamper": ("PERIKSA / tamper", "PERIKSA / tamper"),
    "cause.already_used": ("Sudah dipakai", "Already used"),
    "cause.too_old": ("Token terlalu lama", "Token too old"),
    "cause.key_change_needed": ("Perlu ganti kunci (KCT)", "Key change needed (KCT)"),
    "cause.key_changed_since_sale": (
        "Kunci meter berganti setelah pembelian",
        "Meter key changed after the purchase",
    ),
    "cause.function_not_supported": ("Fungsi tidak didukung meter", "Function not supported by the meter"),
    "cause.credit_overflow": ("Kredit penuh (OVER)", "Credit overflow (OVER)"),
    "cause.customer_blocked": ("Pelanggan diblokir", "Customer blocked"),
    "cause.sale_not_completed": ("Pembelian belum selesai", "Sale not completed"),
    "cause.sixteen_digits": ("Token bukan 16 digit", "A token is not 16 digits"),
    "cause.not_a_token": ("Bukan token", "Not a token"),
    "cause.foreign_token": ("Token tidak dikenal", "Unknown token"),
    "cause.no_fault_found": ("Tidak ada kesalahan", "No fault found"),
    "cause.unknown": ("Belum diketahui", "Unknown"),
    "cause.other": ("Lainnya", "Other"),
    # complaint categories as the customer's form names them (support's codes; the rest of
    # the codes are diagnosis causes and read as such)
    "category.typo": ("Token ditolak (GAGAL)", "Token rejected (GAGAL)"),
    "category.already_used": ("Token sudah dipakai (USED)", "Token already used (USED)"),
    "category.wrong_meter": ("Token untuk meter lain", "Token bought for another meter"),
    "category.sale_not_completed": ("Sudah bayar, token tidak muncul", "Paid but no token"),
    "category.tamper": ("Meter menampilkan PERIKSA", "Meter shows PERIKSA"),
    "category.broken_meter": ("Meter rusak / mati", "Meter broken / dead"),
    "category.other": ("Lainnya", "Other"),
    "confidence.certain": ("pasti", "certain"),
    "confidence.likely": ("kemungkinan besar", "likely"),
    "confidence.possible": ("mungkin", "possible"),
    # complaint tickets: status and the steps in a ticket's history
    "ticket.open": ("terbuka", "open"),
    "ticket.assigned": ("ditugaskan", "assigned"),
    "ticket.visit_scheduled": ("kunjungan dijadwalkan", "visit scheduled"),
    "ticket.resolved": ("selesai", "resolved"),
    "ticket.closed": ("ditutup", "closed"),
    "step.opened": ("dibuat", "opened"),
    "step.assigned": ("ditugaskan", "assigned"),
    "step.visit_scheduled": ("kunjungan dijadwalkan", "visit scheduled"),
    "step.inspected": ("diperiksa", "inspected"),
    "step.comment": ("catatan", "note"),
    "step.resolved": ("diselesaikan", "resolved"),
    "step.reopened": ("dibuka kembali", "reopened"),
    "step.closed": ("ditutup", "closed"),
    "step.clear_tamper_issued": ("token clear tamper diterbitkan", "clear tamper token issued"),
    "step.key_change_issued": ("token KCT diterbitkan", "key change tokens issued"),
    "step.meter_replaced": ("meter diganti", "meter replaced"),
    "step.key_change_requested": ("KCT diajukan (menunggu persetujuan)", "key change requested (pending approval)"),
    "step.replacement_requested": ("penggantian meter diajukan (menunggu persetujuan)",
                                   "meter replacement requested (pending approval)"),
    "approvals.title": ("Persetujuan", "Approvals"),
    "approvals.pending_one": ("Menunggu persetujuan", "Pending approval"),
    "approvals.pending_text": ("Permintaan dicatat dan menunggu persetujuan admin lain:",
                               "Recorded; it waits for another admin's approval:"),
    "approvals.none": ("Tidak ada permintaan yang menunggu.", "Nothing is waiting for approval."),
    "approvals.approve": ("Setujui", "Approve"),
    "approvals.reject": ("Tolak", "Reject"),
    "approvals.recent": ("Keputusan terakhir", "Recent decisions"),
    "approvals.admins_only": ("Hanya admin selain pembuat permintaan yang dapat memutuskan.",
                              "Only an admin other than the maker can decide."),
    "ticket.closed_note": (
        "Tiket sudah ditutup; tidak ada tindakan lagi.",
        "The ticket is closed; no further steps.",
    ),
    # the emulated meter's event log (its details are the meter's own technical English)
    "event.manufactured": ("Meter dibuat", "Meter manufactured"),
    "event.token_accepted": ("Token diterima", "Token accepted"),
    "event.token_rejected": ("Token ditolak", "Token rejected"),
    "event.entry_refused": ("Keypad terkunci", "Keypad locked"),
    "event.relay_open": ("Listrik padam (kredit habis)", "Power off (no credit)"),
    "event.relay_closed": ("Listrik menyala", "Power on"),
    "event.credit_exhausted": ("Kredit habis", "Credit used up"),
    "event.overload_trip": ("Beban lebih: relai trip", "Overload: relay tripped"),
    "event.restart": ("Meter dimulai ulang", "Meter restarted"),
    "event.unknown_code": ("Kode tidak dikenal", "Unknown code"),
    "event.lockout": ("Keypad dikunci sementara", "Keypad locked for a while"),
    "event.kct_section": ("Bagian token KCT diterima", "Key change section received"),
    "event.kct_timeout": ("Token KCT kedaluwarsa", "Key change sections forgotten"),
    "event.key_changed": ("Kunci meter diganti", "Meter key changed"),
    "event.tamper": ("Tamper terdeteksi", "Tamper detected"),
    "event.test_display": ("Uji tampilan", "Display test"),
    "event.load": ("Beban diubah", "Load changed"),
    "event.alarm_threshold": ("Batas alarm diatur", "Alarm threshold set"),
    "event.alarm_silenced": ("Alarm kredit dimatikan", "Low-credit alarm silenced"),
    "event.alarm_restored": ("Alarm kredit diaktifkan", "Low-credit alarm restored"),
    "event.alarm_muted": ("Alarm dibisukan", "Alarm muted"),
}


#: key -> (Indonesian, English): the catalogues, with the Python table above for keys not yet in
#: them (the table is being moved into the ``.po`` files; see ``tools/messages_to_po.py``).
MESSAGES: Mapping[str, tuple[str, str]] = CataloguePairs(_PY_MESSAGES)


def language_of(request: Request) -> str:
    """The visitor's language: the ``lang`` cookie when valid, else Indonesian."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, lang: str) -> str:
    """The text of ``key`` in ``lang`` (``en`` or Indonesian), or the key itself when missing."""
    found = catalogue("en" if lang == "en" else "id").get(key)
    if found is not None:
        return found
    pair = _PY_MESSAGES.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def translator(lang: str) -> Callable[[str], str]:
    """A ``t(key)`` function for templates."""
    return lambda key: translate(key, lang)


def labeller(lang: str) -> Callable[[str, object], str]:
    """A ``label(group, value)`` function for templates: a machine value (a cause, a ticket
    status, a meter event kind) in words, or the value itself when the catalogue lacks it."""

    def label(group: str, value: object) -> str:
        text = str(getattr(value, "value", value))
        key = f"{group}.{text}"
        if key not in MESSAGES and group == "category":  # a category that is a diagnosis cause
            key = f"cause.{text}"
        if key not in MESSAGES:
            return text
        return translate(key, lang)

    return label


def pick(lang: str, indonesian: str, english: str) -> str:
    """Choose between two texts that come from elsewhere (e.g. an error's two messages)."""
    return english if lang == "en" else indonesian
