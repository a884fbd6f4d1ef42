"""The words: for each cause, what happened and what to do, in Indonesian and English.

Kept apart from the engine so that support staff can review the wording in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from prabayar.support.present import grouped, kwh, mask_name, mask_number, wib
from prabayar.support.result import Action, Cause, Confidence, NextStep, TokenCandidate
from prabayar.support.sources import MeterRecord, Sale
from prabayar.support.text import Text

__all__ = ["Finding", "Text", "kwh", "wib"]


@dataclass(frozen=True)
class Finding:
    """The engine's conclusion before evidence is attached."""

    cause: Cause
    confidence: Confidence
    explanation: Text
    next_steps: tuple[NextStep, ...]
    ticket_needed: bool
    candidates: tuple[TokenCandidate, ...] = ()


def _c(certain: bool) -> Confidence:
    return Confidence.CERTAIN if certain else Confidence.LIKELY


_CALL_123 = NextStep(
    Action.CONTACT_123,
    Text(
        "Hubungi Contact Center PLN 123 atau buat pengaduan di aplikasi PLN Mobile.",
        "Call PLN Contact Center 123 or file a complaint in the PLN Mobile app.",
    ),
)
_TECHNICIAN = NextStep(
    Action.WAIT_FOR_TECHNICIAN,
    Text(
        "Buat tiket pengaduan (Contact Center 123 atau PLN Mobile); petugas PLN akan datang "
        "memeriksa meter Anda.",
        "Open a complaint ticket (Contact Center 123 or PLN Mobile); a PLN technician will then "
        "visit to inspect your meter.",
    ),
)


def broken_meter(credit: str | None, *, certain: bool) -> Finding:
    carried = (
        f" Sisa kredit {credit} akan dipindahkan ke meter baru."
        if credit
        else " Sisa kredit Anda akan dipindahkan ke meter baru."
    )
    carried_en = (
        f" The remaining credit of {credit} is carried over to the new meter." if credit else
        " Your remaining credit is carried over to the new meter."
    )  # fmt: skip
    return Finding(
        Cause.BROKEN_METER,
        _c(certain),
        Text(
            "Meter Anda rusak sehingga tidak dapat menerima token. Penggantian meter gratis." + carried,
            "Your meter is broken and cannot accept tokens. It is replaced free of charge." + carried_en,
        ),
        (_TECHNICIAN,),
        True,
    )


def tamper(detail: str | None, *, certain: bool) -> Finding:
    what = f" ({detail})" if detail else ""
    return Finding(
        Cause.TAMPER,
        _c(certain),
        Text(
            f"Meter menunjukkan PERIKSA{what}: ada gangguan instalasi atau indikasi tamper. "
            "Meter menolak token kredit sampai petugas memeriksa instalasi dan memasukkan token "
            "clear tamper. Jangan membuka meter sendiri.",
            f"The meter shows PERIKSA{what}: an installation fault or tamper was detected. It "
            "rejects credit tokens until a technician has inspected the installation and entered a "
            "clear-tamper token. Do not open the meter yourself.",
        ),
        (_TECHNICIAN,),
        True,
    )


def customer_blocked(*, certain: bool) -> Finding:
    return Finding(
        Cause.CUSTOMER_BLOCKED,
        _c(certain),
        Text(
            "ID pelanggan / meter Anda diblokir untuk pembelian token (KONSUMEN DIBLOKIR).",
            "Your customer ID / meter is blocked from buying tokens (consumer blocked).",
        ),
        (
            NextStep(
                Action.VISIT_PLN_OFFICE,
                Text(
                    "Datang ke kantor PLN (ULP) terdekat dengan identitas dan nomor meter.",
                    "Visit the nearest PLN service office (ULP) with your ID and meter number.",
                ),
            ),
        ),
        False,
    )


def blocked_note() -> Text:
    return Text(
        "Catatan: ID pelanggan Anda diblokir untuk pembelian baru; hubungi kantor PLN.",
        "Note: your customer ID is blocked from new purchases; contact the PLN office.",
    )


def kct_before_clear_tamper(tokens: tuple[str, ...]) -> Text:
    listed = "; ".join(grouped(t) for t in tokens)
    return Text(
        "Catatan untuk petugas: meter belum menerima token ganti kunci (KCT). Masukkan dulu "
        f"KCT berikut, baru token clear tamper: {listed}.",
        "Note for the officer: the meter has not taken its key change tokens (KCT) yet. Enter "
        f"these KCTs first, then the clear tamper token: {listed}.",
    )


def lockout_note(until: datetime) -> Text:
    return Text(
        f"Catatan: keypad meter terkunci karena salah input berulang sampai {wib(until)}; "
        "masukkan token setelah itu.",
        f"Note: the meter's keypad is locked after repeated wrong entries until {wib(until)}; "
        "enter the token after that.",
    )


def sale_not_completed(sale: Sale) -> Finding:
    # advice is keyed by the seller's own reference; the PLN reference alone gets 0092 there
    advice_ref = sale.channel_reference or sale.reference
    pln_id = f" (ref PLN {sale.reference})" if sale.channel_reference else ""
    pln_en = f" (PLN ref {sale.reference})" if sale.channel_reference else ""
    if not sale.completed:
        text = Text(
            f"Pembelian Anda di {sale.channel} pada {wib(sale.created_at)} belum selesai di PLN, "
            "sehingga token belum terbit.",
            f"Your purchase at {sale.channel} on {wib(sale.created_at)} did not complete at PLN, "
            "so no token was issued.",
        )
    else:
        text = Text(
            f"Token Anda dari pembelian di {sale.channel} pada {wib(sale.created_at)} sudah "
            "terbit tetapi belum sampai ke Anda (token belum terkirim / unsold). Token tersimpan "
            "dan tidak hilang.",
            f"The token from your purchase at {sale.channel} on {wib(sale.created_at)} was issued "
            "but never reached you (undelivered / unsold token). It is stored and not lost.",
        )
    return Finding(
        Cause.SALE_NOT_COMPLETED,
        Confidence.CERTAIN,
        text,
        (
            NextStep(
                Action.CONTACT_SELLER,
                Text(
                    f"Minta {sale.channel} melakukan cek ulang (advice) dengan nomor referensi "
                    f"transaksi Anda di sana: {advice_ref}{pln_id}; token akan ditampilkan "
                    "kembali tanpa membayar lagi.",
                    f"Ask {sale.channel} to re-check the purchase (advice) with {sale.channel}'s own "
                    f"transaction reference {advice_ref}{pln_en}; the token is shown again without "
                    "paying twice.",
                ),
            ),
            NextStep(
                Action.CHECK_PURCHASE_HISTORY,
                Text(
                    "Atau lihat riwayat pembelian di PLN Mobile (Lihat Transaksi Saya).",
                    "Or check the purchase history in PLN Mobile (Lihat Transaksi Saya).",
                ),
            ),
        ),
        False,
    )


def sale_delivered(sale: Sale) -> Finding:
    return Finding(
        Cause.UNKNOWN,
        Confidence.POSSIBLE,
        Text(
            f"Pembelian terakhir ({sale.channel}, {wib(sale.created_at)}) sudah selesai dan token "
            "sudah terkirim. Masukkan angka token yang Anda ketik agar kami dapat memeriksanya.",
            f"Your last purchase ({sale.channel}, {wib(sale.created_at)}) completed and the token "
            "was delivered. Enter the digits you typed so that we can check them.",
        ),
        (
            NextStep(
                Action.CHECK_RECEIPT,
                Text(
                    "Lihat struk / SMS pembelian untuk 20 angka token.",
                    "Look at the receipt or purchase message for the 20 token digits.",
                ),
            ),
        ),
        False,
    )


def no_sale_recorded(days: int) -> Finding:
    return Finding(
        Cause.SALE_NOT_COMPLETED,
        Confidence.LIKELY,
        Text(
            f"Tidak ada pembelian token untuk meter ini dalam {days} hari terakhir: pembayaran "
            "Anda belum sampai ke PLN.",
            f"No token purchase for this meter was recorded in the last {days} days: your payment never reached PLN.",
        ),
        (
            NextStep(
                Action.CONTACT_SELLER,
                Text(
                    "Tanyakan status transaksi ke penjual / bank dengan bukti bayar; "
                    "minta pengembalian dana bila transaksi gagal.",
                    "Ask the seller or bank about the transaction with your proof of payment; "
                    "ask for a refund if it failed.",
                ),
            ),
        ),
        False,
    )


def sixteen_digits(candidates: tuple[TokenCandidate, ...]) -> Finding:
    extra_id = extra_en = ""
    if candidates:
        extra_id = f" Token lengkap untuk meter Anda: {candidates[0].grouped}."
        extra_en = f" The full token for your meter: {candidates[0].grouped}."
    return Finding(
        Cause.SIXTEEN_DIGITS,
        Confidence.CERTAIN,
        Text(
            "Token listrik PLN selalu 20 angka (5 kelompok x 4 angka), bukan 16. Informasi "
            '"16 digit" yang beredar keliru.' + extra_id,
            "A PLN electricity token always has 20 digits (5 groups of 4), not 16. The "
            '"16 digits" information going around is wrong.' + extra_en,
        ),
        (
            NextStep(
                Action.ENTER_CORRECTED_TOKEN,
                Text(
                    "Ketik ke-20 angka dari struk lalu tekan Enter.",
                    "Key in all 20 digits from the receipt, then press Enter.",
                ),
                tuple(c.digits for c in candidates[:1]),
            ),
        ),
        False,
        candidates,
    )


def wrong_length(length: int) -> Finding:
    return Finding(
        Cause.TYPO,
        Confidence.POSSIBLE,
        Text(
            f"Anda mengetik {length} angka; token harus 20 angka. Kami tidak menemukan token yang "
            "cocok untuk meter Anda.",
            f"You typed {length} digits; a token has 20. We found no matching token for your meter.",
        ),
        (
            NextStep(
                Action.CHECK_RECEIPT,
                Text(
                    "Periksa kembali ke-20 angka pada struk dan ketik ulang perlahan.",
                    "Check the 20 digits on the receipt and key them in again slowly.",
                ),
            ),
        ),
        False,
    )


def not_a_token_letters() -> Finding:
    return Finding(
        Cause.NOT_A_TOKEN,
        Confidence.CERTAIN,
        Text(
            "Token hanya berisi angka (20 angka). Yang Anda ketik berisi huruf atau simbol.",
            "A token consists of digits only (20 of them). What you typed has letters or symbols.",
        ),
        (_check_receipt(),),
        False,
    )


def _check_receipt() -> NextStep:
    return NextStep(
        Action.CHECK_RECEIPT,
        Text(
            "Cari baris STROOM/TOKEN pada struk: 20 angka dalam 5 kelompok.",
            "Find the STROOM/TOKEN line on the receipt: 20 digits in 5 groups.",
        ),
    )


def not_a_token(digits: str) -> Finding:
    from prabayar.support.entry import NumberKind, identify_non_token

    kind = identify_non_token(digits)
    what = {
        NumberKind.METER_NUMBER: ("nomor meter", "a meter number"),
        NumberKind.IDPEL: ("ID pelanggan (IDPEL)", "a customer ID (IDPEL)"),
        NumberKind.PHONE: ("nomor telepon", "a phone number"),
        NumberKind.OTHER: ("bukan token", "not a token"),
    }[kind]
    if kind is NumberKind.OTHER:
        id_text = f"{len(digits)} angka bukan token listrik; token selalu 20 angka."
        en_text = f"{len(digits)} digits are not an electricity token; a token has 20 digits."
    else:
        id_text = f"Yang Anda ketik tampaknya {what[0]}, bukan token (token selalu 20 angka)."
        en_text = f"What you typed looks like {what[1]}, not a token (a token has 20 digits)."
    return Finding(Cause.NOT_A_TOKEN, Confidence.CERTAIN, Text(id_text, en_text),
                   (_check_receipt(),), False)  # fmt: skip


def not_a_token_too_large() -> Finding:
    return Finding(
        Cause.NOT_A_TOKEN,
        Confidence.CERTAIN,
        Text(
            "Angka ini tidak mungkin token listrik (nilainya di luar jangkauan token STS).",
            "This number cannot be an electricity token (its value is outside the STS range).",
        ),
        (_check_receipt(),),
        False,
    )


def wrong_meter(sale: Sale, other: MeterRecord | None) -> Finding:
    who = f"meter {mask_number(sale.meter_number)}"
    if sale.idpel:
        who += f" / IDPEL {mask_number(sale.idpel)}"
    if other is not None and other.name:
        who += f" ({mask_name(other.name)})"
    if sale.kind != "credit":
        return _officer_token_for_another_meter(sale, who)
    return Finding(
        Cause.WRONG_METER,
        Confidence.CERTAIN,
        Text(
            f"Token ini dibeli untuk {who} pada {wib(sale.created_at)} lewat {sale.channel}, bukan "
            "untuk meter Anda. Token hanya bisa dipakai di meter tujuan pembelian.",
            f"This token was bought for {who} on {wib(sale.created_at)} via {sale.channel}, not "
            "for your meter. A token only works on the meter it was bought for.",
        ),
        (
            NextStep(
                Action.CONTACT_SELLER,
                Text(
                    f"Hubungi {sale.channel} dengan struk (ref {sale.reference}): token tidak "
                    "dapat dipindah ke meter lain dan tidak dapat dikembalikan oleh PLN.",
                    f"Contact {sale.channel} with the receipt (ref {sale.reference}): a token "
                    "cannot be moved to another meter and PLN cannot refund it.",
                ),
            ),
            NextStep(
                Action.BUY_NEW_TOKEN,
                Text(
                    "Beli token baru dengan nomor meter / IDPEL yang tertera di meter Anda.",
                    "Buy a new token with the meter number / IDPEL printed on your meter.",
                ),
            ),
        ),
        False,
    )


def _officer_token_for_another_meter(sale: Sale, who: str) -> Finding:
    return Finding(
        Cause.WRONG_METER,
        Confidence.CERTAIN,
        Text(
            f"Token ini adalah token petugas PLN ({sale.kind}) yang diterbitkan untuk {who} pada "
            f"{wib(sale.created_at)}, bukan untuk meter Anda; meter Anda menolaknya.",
            f"This is a PLN officer's token ({sale.kind}) issued for {who} on "
            f"{wib(sale.created_at)}, not for your meter; your meter rejects it.",
        ),
        (
            NextStep(
                Action.CONTACT_123,
                Text(
                    "Minta petugas PLN menerbitkan token untuk nomor meter Anda sendiri.",
                    "Ask the PLN officer for a token issued for your own meter number.",
                ),
            ),
        ),
        False,
    )


def own_other_meter(sale: Sale) -> Finding:
    """Bought for another meter of the same customer: no stranger to protect, no money lost."""
    return Finding(
        Cause.WRONG_METER,
        Confidence.CERTAIN,
        Text(
            f"Token ini dibeli untuk meter Anda yang lain, {sale.meter_number}, pada "
            f"{wib(sale.created_at)} lewat {sale.channel}. Token hanya bisa dipakai di meter "
            "tujuan pembelian; di meter itu token ini masih berlaku.",
            f"This token was bought for your other meter, {sale.meter_number}, on "
            f"{wib(sale.created_at)} via {sale.channel}. A token only works on the meter it was "
            "bought for; on that meter it is still good.",
        ),
        (
            NextStep(
                Action.ENTER_ON_OTHER_METER,
                Text(
                    f"Masukkan token ini di meter {sale.meter_number}. Untuk meter ini, beli "
                    "token dengan nomor meter yang tertera di meter ini.",
                    f"Enter this token on meter {sale.meter_number}. For this meter, buy a token "
                    "with the meter number printed on it.",
                ),
                (sale.token,) if sale.token else (),
            ),
        ),
        False,
    )


def replaced_meter_token(sale: Sale, new_meter: str | None) -> Finding:
    """Bought for the customer's previous meter, which has since been replaced."""
    new_id = f" dengan meter {new_meter}" if new_meter else ""
    new_en = f" by meter {new_meter}" if new_meter else ""
    return Finding(
        Cause.WRONG_METER,
        Confidence.CERTAIN,
        Text(
            f"Token ini dibeli pada {wib(sale.created_at)} untuk meter lama Anda "
            f"{sale.meter_number}, yang sudah diganti{new_id}. Token meter lama tidak bisa "
            "masuk ke meter baru; jika belum dimasukkan, kreditnya dipindahkan PLN.",
            f"This token was bought on {wib(sale.created_at)} for your previous meter "
            f"{sale.meter_number}, which has been replaced{new_en}. A token for the old meter "
            "cannot go into the new one; if it was never entered, PLN transfers its credit.",
        ),
        (
            NextStep(
                Action.CONTACT_123,
                Text(
                    f"Buat tiket pengaduan: petugas memeriksa apakah token (ref {sale.reference}) sudah "
                    "masuk ke meter lama dan menerbitkan kreditnya sebagai token untuk meter baru.",
                    f"Open a complaint ticket: an officer checks whether the token (ref {sale.reference}) "
                    "reached the old meter and issues its credit as a token for the new meter.",
                ),
            ),
        ),
        True,
    )


def key_changed_since_sale(sale: Sale, changed_at: datetime, *, certain: bool) -> Finding:
    """Made with the meter's previous key; the meter has taken its key change tokens since."""
    amount = f" ({kwh(sale.kwh)})" if sale.kwh is not None else ""
    if certain:
        when_id = f"Pada {wib(changed_at)} meter menerima token ganti kunci (KCT, update KRN); sejak itu"
        when_en = f"On {wib(changed_at)} the meter took key change tokens (KCT, KRN update); since then"
    else:
        when_id = (
            f"Pada {wib(changed_at)} token ganti kunci (KCT, update KRN) diterbitkan untuk meter "
            "Anda; setelah KCT dimasukkan,"
        )
        when_en = (
            f"On {wib(changed_at)} key change tokens (KCT, KRN update) were issued for your meter; "
            "once they are entered,"
        )
    return Finding(
        Cause.KEY_CHANGED_SINCE_SALE,
        _c(certain),
        Text(
            f"Token ini{amount} dibuat pada {wib(sale.created_at)} dengan kunci lama meter Anda. "
            f"{when_id} meter hanya menerima token dengan kunci baru, jadi token ini ditolak. "
            "Kreditnya tidak hilang.",
            f"This token{amount} was made on {wib(sale.created_at)} with your meter's previous "
            f"key. {when_en} the meter only accepts tokens made with the new key, so it rejects "
            "this one. The credit is not lost.",
        ),
        (
            NextStep(
                Action.CONTACT_123,
                Text(
                    f"Buat tiket pengaduan: PLN menerbitkan ulang kredit token ini (ref {sale.reference}) "
                    "sebagai token dengan kunci baru. Lain kali masukkan token lama sebelum KCT.",
                    f"Open a complaint ticket: PLN issues this token's credit (ref {sale.reference}) "
                    "again as a token for the new key. Next time, enter old tokens before the KCTs.",
                ),
            ),
        ),
        True,
    )


def key_change_done(*, certain: bool) -> Finding:
    """Key change tokens typed again after the meter already took them."""
    return Finding(
        Cause.ALREADY_USED,
        _c(certain),
        Text(
            "Token ganti kunci (KCT) ini sudah diterima meter: meter sudah memakai kunci baru, "
            "jadi KCT yang sama ditolak bila dimasukkan lagi. Tidak perlu dimasukkan lagi.",
            "These key change tokens (KCT) were already taken by the meter: it now uses the new "
            "key, so the same KCT is rejected when entered again. There is no need to enter it again.",
        ),
        (
            NextStep(
                Action.NONE,
                Text(
                    "Masukkan token listrik Anda yang dibeli setelah ganti kunci.",
                    "Enter your electricity token bought after the key change.",
                ),
            ),
        ),
        False,
    )


def function_not_supported(what_id: str, what_en: str) -> Finding:
    """A genuine token for this meter asking for something it cannot do (RangeError/FunctionError)."""
    return Finding(
        Cause.FUNCTION_NOT_SUPPORTED,
        Confidence.CERTAIN,
        Text(
            f"Token ini asli untuk meter Anda, tetapi meminta {what_id}, yang tidak dimiliki meter "
            "listrik satu fasa ini; meter menolaknya (GAGAL).",
            f"This token is genuine for your meter but asks for {what_en}, which this single-phase "
            "electricity meter does not have; the meter rejects it (REJECT).",
        ),
        (
            NextStep(
                Action.CONTACT_123,
                Text(
                    "Buat tiket pengaduan: petugas PLN menerbitkan token yang benar (register 0 = listrik).",
                    "Open a complaint ticket: a PLN officer issues the right token (register 0 = electricity).",
                ),
            ),
        ),
        True,
    )


def test_token(code: int, own: int, *, fits: bool) -> Finding:
    """A class 1 meter test/display token: never credit."""
    if fits:
        text = Text(
            f"Ini token uji meter (kelas 1, kode pabrikan {code:02d}), bukan token listrik: meter "
            "hanya menampilkan data uji dan tidak ada kredit yang masuk.",
            f"This is a meter test token (class 1, manufacturer code {code:02d}), not an "
            "electricity token: the meter only shows test items, and no credit is added.",
        )
    else:
        text = Text(
            f"Ini token uji meter (kelas 1) untuk pabrikan kode {code:02d}, sedangkan meter Anda "
            f"buatan pabrikan {own:02d}; meter menolaknya. Token uji tidak pernah berisi kredit.",
            f"This is a meter test token (class 1) for manufacturer code {code:02d}, but your meter "
            f"is from manufacturer {own:02d}, so it rejects it. A test token never holds credit "
            "(no credit is added).",
        )
    return Finding(Cause.NOT_A_TOKEN, Confidence.CERTAIN, text, (_check_receipt(),), False)


def key_change(tokens: tuple[str, ...], *, certain: bool, rollover: bool = False) -> Finding:
    if tokens:
        listed = "; ".join(grouped(t) for t in tokens)
        steps: tuple[NextStep, ...] = (
            NextStep(
                Action.ENTER_KEY_CHANGE_TOKENS,
                Text(
                    "Mulai ulang meter dulu (tekan 00 lalu Enter) agar potongan KCT yang "
                    f"tersimpan terhapus. Lalu masukkan {len(tokens)} token ganti kunci (KCT) "
                    f"berurutan, masing-masing diakhiri Enter dan harus tampil BENAR: {listed}. "
                    "Setelah itu masukkan lagi token Anda.",
                    "First restart the meter (press 00, then Enter) so that no earlier KCT section "
                    f"is still held. Then enter the {len(tokens)} key change tokens (KCT) in order, "
                    f"each followed by Enter and each must show ACCEPT: {listed}. Then enter your "
                    "token again.",
                ),
                tokens,
            ),
        )
        ticket = False
    else:
        steps = (
            NextStep(
                Action.WAIT_FOR_TECHNICIAN,
                Text(
                    "Buat tiket pengaduan; petugas PLN akan memberikan token ganti kunci (KCT) lewat "
                    "kunjungan atau WhatsApp. Masukkan berurutan, lalu masukkan lagi token Anda.",
                    "Open a complaint ticket; a PLN officer gives you the key change tokens (KCT) on a "
                    "visit or by WhatsApp. Enter them in order, then enter your token again.",
                ),
            ),
        )
        ticket = True
    if rollover:
        text = Text(
            "Kunci meter Anda sudah habis masa berlakunya (TID rollover 2024): token baru tidak "
            "dapat dibuat sebelum meter menerima token ganti kunci (KCT) dari petugas PLN.",
            "Your meter's key has run out (the 2024 TID rollover): no new token can be made "
            "until the meter has received key change tokens (KCT) from a PLN officer.",
        )
    else:
        text = Text(
            "Meter Anda perlu pembaruan kunci (update KRN / key change): token baru dibuat dengan "
            "kunci baru yang belum ada di meter.",
            "Your meter needs a key update (KRN update / key change): new tokens are made with "
            "a new key the meter does not have yet.",
        )
    return Finding(
        Cause.KEY_CHANGE_NEEDED,
        _c(certain),
        text,
        steps,
        ticket,
    )


def already_used(meter_number: str, when: datetime | None, certain: bool) -> Finding:
    at_id = f" pada {wib(when)}" if when else ""
    at_en = f" on {wib(when)}" if when else ""
    return Finding(
        Cause.ALREADY_USED,
        _c(certain),
        Text(
            f"Token ini sudah pernah dimasukkan ke meter {meter_number}{at_id} (USED); kreditnya "
            "sudah masuk. Token hanya bisa dipakai sekali.",
            f"This token was already entered into meter {meter_number}{at_en} (USED); its credit "
            "was added then. A token works only once.",
        ),
        (
            NextStep(
                Action.NONE,
                Text(
                    "Cek sisa kWh dengan kode 37 atau token terakhir dengan kode 54 di meter.",
                    "Check the remaining kWh with code 37, or the last token with code 54.",
                ),
            ),
        ),
        False,
    )


def too_old(size: int, *, certain: bool) -> Finding:
    return Finding(
        Cause.TOO_OLD,
        _c(certain),
        Text(
            f"Token ini lebih lama dari {size} token terakhir yang diingat meter (OLD). Token yang "
            f"tidak dimasukkan sebelum {size} pembelian berikutnya tidak dapat dipakai lagi.",
            f"This token is older than the last {size} tokens the meter remembers (OLD). A token "
            f"not entered before {size} later purchases can no longer be used.",
        ),
        (_CALL_123,),
        True,
    )


def credit_overflow(credit: Decimal | None, amount: Decimal | None, *, certain: bool) -> Finding:
    detail_id = detail_en = ""
    if credit is not None and amount is not None:
        detail_id = f" Sisa {kwh(credit)} ditambah {kwh(amount)} melebihi kapasitas meter."
        detail_en = f" {kwh(credit)} left plus {kwh(amount)} exceeds the meter's capacity."
    return Finding(
        Cause.CREDIT_OVERFLOW,
        _c(certain),
        Text(
            "Meter menolak token karena kredit akan melebihi batas yang bisa disimpan (OVER)." + detail_id,
            "The meter refuses the token because the credit would exceed what it can hold (OVER)." + detail_en,
        ),
        (
            NextStep(
                Action.USE_CREDIT_FIRST,
                Text(
                    "Pakai dulu sebagian kredit, lalu masukkan token lagi (token tidak hangus).",
                    "Use up part of the credit first, then enter the token again (it does not expire).",
                ),
            ),
            NextStep(
                Action.REQUEST_POWER_UPGRADE,
                Text(
                    "Bila sering terjadi, ajukan tambah daya lewat PLN Mobile atau 123.",
                    "If this happens often, request a power upgrade via PLN Mobile or 123.",
                ),
            ),
        ),
        False,
    )


def foreign_token() -> Finding:
    return Finding(
        Cause.FOREIGN_TOKEN,
        Confidence.LIKELY,
        Text(
            "Angka ini bukan token untuk meter Anda dan tidak ada di catatan penjualan PLN: "
            "mungkin token dari penyedia lain (mis. air), bukan token, atau salah ketik lebih dari "
            "dua angka.",
            "These digits are not a token for your meter and are not in PLN's sales records: "
            "perhaps a token from another utility (e.g. water), not a token at all, or more than "
            "two digits mistyped.",
        ),
        (_check_receipt(), _CALL_123),
        False,
    )


def typo(candidates: tuple[TokenCandidate, ...], confidence: Confidence) -> Finding:
    if len(candidates) == 1:
        c = candidates[0]
        positions = ", ".join(str(p) for p in c.positions)
        return Finding(
            Cause.TYPO,
            confidence,
            Text(
                f"Ada salah ketik pada posisi {positions}. Token yang dimaksud: {c.grouped}.",
                f"There is a typing error at position(s) {positions}. The token you meant: {c.grouped}.",
            ),
            (
                NextStep(
                    Action.ENTER_CORRECTED_TOKEN,
                    Text(
                        f"Masukkan {c.grouped} lalu tekan Enter.",
                        f"Enter {c.grouped}, then press Enter.",
                    ),
                    (c.digits,),
                ),
            ),
            False,
            candidates,
        )
    listed = " atau ".join(c.grouped for c in candidates)
    listed_en = " or ".join(c.grouped for c in candidates)
    return Finding(
        Cause.TYPO,
        confidence,
        Text(
            f"Ada salah ketik; {len(candidates)} token cocok dan kami tidak dapat memilih: "
            f"{listed}. Bandingkan dengan struk Anda.",
            f"There is a typing error; {len(candidates)} tokens fit and we cannot tell which: "
            f"{listed_en}. Compare them with your receipt.",
        ),
        (
            NextStep(
                Action.CHOOSE_BETWEEN_CANDIDATES,
                Text(
                    "Pilih token yang sama dengan struk Anda lalu masukkan.",
                    "Pick the one that matches your receipt and enter it.",
                ),
                tuple(c.digits for c in candidates),
            ),
        ),
        False,
        candidates,
    )


def mistyped_then(candidate: TokenCandidate, finding: Finding) -> Finding:
    """A typing error whose corrected token has its own problem (already used, too old, ...):
    say both, so the customer is not told only "USED" about digits they never typed right."""
    positions = ", ".join(str(p) for p in candidate.positions)
    which_en = "digit" if len(candidate.positions) == 1 else "digits"
    return replace(
        finding,
        explanation=Text(
            f"Ada salah ketik pada digit ke-{positions}; token yang dimaksud adalah {candidate.grouped}. "
            + finding.explanation.id,
            f"{which_en.capitalize()} {positions} was mistyped; the token you meant is {candidate.grouped}. "
            + finding.explanation.en,
        ),
        candidates=(candidate,),
    )


def locked_unknown_end(digits: str) -> Finding:
    """The display says the keypad is locked; without the meter's state its end is unknown."""
    return Finding(
        Cause.NO_FAULT_FOUND,
        Confidence.LIKELY,
        Text(
            "Token ini benar untuk meter Anda. Meter menampilkan TERKUNCI: keypad dikunci sementara "
            "setelah beberapa kali salah input (1 menit, lalu dua kali lipat setiap kesalahan "
            "berikutnya, paling lama sekitar 20 menit).",
            "This token is right for your meter. The meter shows LOCKED: the keypad is locked for a "
            "while after several wrong entries (1 minute, doubling with each further error, at most "
            "about 20 minutes).",
        ),
        (
            NextStep(
                Action.RETRY_ENTRY,
                Text(
                    f"Tunggu sampai tulisan TERKUNCI hilang, lalu masukkan {grouped(digits)} "
                    "perlahan dan tekan Enter. Jangan menekan tombol selama terkunci.",
                    f"Wait until LOCKED disappears, then enter {grouped(digits)} slowly and press "
                    "Enter. Do not press keys while it is locked.",
                ),
                (digits,),
            ),
        ),
        False,
    )


def no_fault(digits: str, *, locked_until: datetime | None) -> Finding:
    if locked_until is not None:
        return Finding(
            Cause.NO_FAULT_FOUND,
            Confidence.CERTAIN,
            Text(
                "Token ini benar untuk meter Anda, tetapi keypad terkunci karena beberapa kali "
                f"salah input. Tunggu sampai {wib(locked_until)}, lalu masukkan lagi.",
                "This token is right for your meter, but the keypad is locked after several wrong "
                f"entries. Wait until {wib(locked_until)}, then enter it again.",
            ),
            (
                NextStep(
                    Action.RETRY_ENTRY,
                    Text(
                        f"Masukkan {grouped(digits)} setelah kunci terbuka.",
                        f"Enter {grouped(digits)} once the lock has expired.",
                    ),
                    (digits,),
                ),
            ),
            False,
        )
    return Finding(
        Cause.NO_FAULT_FOUND,
        Confidence.LIKELY,
        Text(
            "Token ini benar dan belum dipakai untuk meter Anda. Kemungkinan ada salah tekan saat memasukkan.",
            "This token is right for your meter and not used yet. Most likely a key was mis-pressed while entering it.",
        ),
        (
            NextStep(
                Action.RESTART_METER,
                Text(
                    "Tekan 00 lalu Enter untuk memulai ulang meter.",
                    "Press 00 then Enter to restart the meter.",
                ),
            ),
            NextStep(
                Action.RETRY_ENTRY,
                Text(
                    f"Masukkan {grouped(digits)} perlahan lalu tekan Enter.",
                    f"Enter {grouped(digits)} slowly, then press Enter.",
                ),
                (digits,),
            ),
        ),
        False,
    )


def unknown_no_key() -> Finding:
    return Finding(
        Cause.UNKNOWN,
        Confidence.POSSIBLE,
        Text(
            "Kunci meter ini tidak tersedia sehingga token tidak dapat diperiksa.",
            "This meter's key is not available, so the token cannot be checked.",
        ),
        (_CALL_123,),
        True,
    )


def unknown(hint: object) -> Finding:
    return Finding(
        Cause.UNKNOWN,
        Confidence.POSSIBLE,
        Text(
            "Token ini dijual untuk meter Anda tetapi meter menolaknya; perlu pemeriksaan petugas.",
            "This token was sold for your meter but the meter rejects it; a technician must look.",
        ),
        (_CALL_123, _TECHNICIAN),
        True,
    )
