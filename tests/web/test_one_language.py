"""One language per page (issue 14): every text of the web lives in the gettext catalogues, none
as an inline (Indonesian, English) pair in a template or in the web's Python, and a page shows
nothing of the other language's catalogue."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from prabayar.web import i18n
from prabayar.web.pages.rendering import TEMPLATES_DIR

from .conftest import BUDI_METER, signed_in
from .test_pages import buy, csrf

WEB = Path(i18n.__file__).parent
#: The language machinery itself chooses between two texts; nothing else in the web may.
MACHINERY = {WEB / "i18n.py", WEB / "catalogues.py"}

#: What an inline pair looks like: ``"Ticket" if en else "Tiket"``, ``x if lang == "en" else y``,
#: ``{% set en = lang == "en" %}``, a ``tr("id", "en")`` macro, ``pick(lang, "id", "en")``.
INLINE_PAIR = re.compile(
    r"""\bif\s+en\s+else\b"""
    r"""|\blang\s*[!=]=\s*["'](?:en|id)["']"""
    r"""|\{%-?\s*set\s+en\s*="""
    r"""|\bmacro\s+tr\s*\("""
    r"""|\btr\(\s*["']"""
    r"""|\bpick\(\s*lang\s*,\s*f?["']"""
    r"""|\b\w+_en[ \t]+if[ \t]"""
)

#: A word only Indonesian / only English uses, to find a two-language word table in Python.
INDONESIAN = re.compile(r"\b(yang|dan|untuk|tidak|dengan|sudah|belum|diterbitkan|dibuat|ditolak|diubah|lewat)\b")
ENGLISH = re.compile(r"\b(the|and|for|not|with|issued|opened|rejected|changed|added|removed|was)\b")


def _sources() -> list[Path]:
    templates = sorted(TEMPLATES_DIR.rglob("*.html"))
    python = sorted(p for p in WEB.rglob("*.py") if p not in MACHINERY)
    return templates + python


def _inline_pairs(text: str) -> list[str]:
    """The lines where an inline pair starts (a ``pick(`` may span lines)."""
    lines = text.splitlines()
    return [lines[text.count("\n", 0, m.start())].strip() for m in INLINE_PAIR.finditer(text)]


def test_the_scan_recognises_each_form_of_inline_pair() -> None:
    samples = [
        '{{ "Ticket" if en else "Tiket" }}',
        "{{ 'Phone' if lang == 'en' else 'Telepon' }}",
        'idle = status.lines_en if lang == "en" else status.lines_id',
        "if lang != 'en':",
        '{% set en = lang == "en" %}',
        '{% macro tr(i, e) %}{{ e if lang == "en" else i }}{% endmacro %}',
        '{{ tr("Cari", "Search") }}',
        'error = pick(lang, "Pilih kategori.", "Choose a category.")',
        'error = pick(\n    lang,\n    "Kode tidak berlaku.",\n    "The code is not valid.",\n)',
        "{{ label_en if x else label_id }}",
    ]
    for sample in samples:
        assert _inline_pairs(sample), sample
    allowed = '{{ t("desk.ticket") }} {{ d.explanation | in_lang }} pick(lang, exc.message_id, exc.message_en)'
    assert not _inline_pairs(allowed)


def test_no_inline_bilingual_pair_in_templates_or_web_python() -> None:
    found = {
        str(path.relative_to(WEB)): pairs
        for path in _sources()
        if (pairs := _inline_pairs(path.read_text(encoding="utf-8")))
    }
    assert not found


def _word_tables(path: Path) -> list[str]:
    """Tuples of string literals holding an Indonesian and an English text (a word table)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Tuple):
            continue
        texts = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        if any(INDONESIAN.search(t) for t in texts) and any(ENGLISH.search(t) for t in texts):
            found.append(f"{path.name}:{node.lineno}: {texts}")
    return found


def test_no_word_table_of_indonesian_english_pairs_in_web_python(tmp_path: Path) -> None:
    sample = tmp_path / "table.py"
    sample.write_text('WORDS = {"x": ("Token dibuat untuk meter", "Token made for the meter")}\n')
    assert _word_tables(sample)
    found = [hit for path in _sources() if path.suffix == ".py" for hit in _word_tables(path)]
    assert not found


def _po(lang: str) -> dict[str, str]:
    with i18n.po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    assert not [m.id for m in catalog if m.id and m.fuzzy], "fuzzy entries are not used"
    return {str(m.id): str(m.string) for m in catalog if m.id}


PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def test_both_catalogues_have_the_same_keys_each_translated_with_the_same_placeholders() -> None:
    ind, eng = _po("id"), _po("en")
    assert set(ind) == set(eng)
    assert len(ind) > 500
    assert not [k for k in ind if not ind[k].strip() or not eng[k].strip()]
    # a translation may leave a value out (the Indonesian "sale ... not completed/delivered" has
    # one word for both), never use one the other language does not get (a typo would raise)
    mismatched = [
        k for k in ind
        if not (set(PLACEHOLDER.findall(ind[k])) <= set(PLACEHOLDER.findall(eng[k]))
                or set(PLACEHOLDER.findall(eng[k])) <= set(PLACEHOLDER.findall(ind[k])))
    ]  # fmt: skip
    assert not mismatched
    assert all(re.fullmatch(r"[a-z0-9_]+(\.[A-Za-z0-9_]+)+", k) for k in ind), "keys are dotted names"


KEY_IN_PYTHON = re.compile(
    r"""(?:translate\(|flash\(request,\s*|\bt\()\s*["']([a-z_]+\.[a-z0-9_.]+)["']|["'](md\.done\.[a-z_]+)["']"""
)


def test_every_key_the_code_names_is_in_both_catalogues() -> None:
    named = set()
    for path in _sources():
        for match in KEY_IN_PYTHON.finditer(path.read_text(encoding="utf-8")):
            named.add(match.group(1) or match.group(2))
    assert len(named) > 400
    ind, eng = _po("id"), _po("en")
    assert not sorted(k for k in named if k not in ind or k not in eng)


def test_keys_built_at_run_time_exist_for_every_value() -> None:
    from prabayar.sts import tokens
    from prabayar.vending.campaigns import STATUSES
    from prabayar.vending.models import CustomerStatus, MeterStatus
    from prabayar.web import audit_words
    from prabayar.web.pages.campaigns import SERIES

    keys = [f"audit.filter.{code.rstrip('.')}" for code in audit_words.FILTERS]
    keys += [f"audit.detail.{field}" for field in audit_words.DETAIL_FIELDS]
    keys += [f"campaign_status.{status}" for status in STATUSES]
    keys += [f"status.{s.value}" for s in (*CustomerStatus, *MeterStatus)]
    keys += [f"campaigns.{field}" for field, _ in SERIES]
    classes = {getattr(c, "name", None) for c in vars(tokens).values() if isinstance(c, type)}
    keys += [f"token_class.{name}" for name in classes if isinstance(name, str)]
    assert len(keys) > 60
    assert not [k for k in keys if k not in i18n.MESSAGES]


def test_audit_words_come_from_the_catalogues() -> None:
    from prabayar.web.audit_words import action_words, describe, filters

    assert action_words("management.clear_tamper", "id") == "Token clear tamper diterbitkan"
    assert action_words("management.clear_tamper", "en") == "Clear tamper token issued"
    assert action_words("meter.something_new", "en") == "Meter: something new"  # the family, then words
    assert action_words("nothing.known", "id") == "nothing.known"
    assert ("support.", "Pengaduan") in filters("id") and ("support.", "Complaints") in filters("en")
    assert describe({"reason": "P2TL", "key": "secret", "ticket": "PGD-1"}, "id") == "tiket: PGD-1; alasan: P2TL"
    assert describe({"ticket": "PGD-1", "status": "open"}, "id") == "tiket: PGD-1; status: terbuka"
    assert describe({"status": "something_new"}, "en") == "status: something_new"


def test_a_notice_is_worded_on_the_next_page_in_that_page_language() -> None:
    what = ["Ganti kunci", "Key change"]
    notice = {"kind": "ok", "key": "approvals.approved_notice", "params": {"id": "7", "what": what}}
    assert i18n.notice_text(notice, "id") == "Id 7 (Ganti kunci) disetujui."
    assert i18n.notice_text(notice, "en") == "Id 7 (Key change) approved."
    assert i18n.notice_text({"id": "Ditolak.", "en": "Refused."}, "en") == "Refused."  # an error's own two texts


# --------------------------------------------------------------------------- rendered pages


def _visible(page: str) -> str:
    """What a reader sees: text nodes and the placeholder / label / title attributes."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attrs = " ".join(re.findall(r'\b(?:placeholder|aria-label|title)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attrs)


def _foreign_texts(lang: str) -> list[str]:
    """Texts only the other language's catalogue has (not a word the two share)."""
    own, other = _po(lang), _po("en" if lang == "id" else "id")
    own_texts = " \n ".join(own.values())
    foreign = []
    for key, text in other.items():
        if text == own.get(key) or "{" in text or "<" in text or len(text) < 4 or text in own_texts:
            continue
        foreign.append(text)
    return foreign


#: Master data the seed writes in Indonesian (a channel's name): data, not the page's words.
SEED_DATA = ("Agregator H2H Demo (nominal bebas)",)


def _leaks(page: str, lang: str) -> list[str]:
    seen = _visible(page)
    for data in SEED_DATA:
        seen = seen.replace(data, " ")
    # a word inside a machine code (``support.ticket.opened`` in a title) is not a text
    return [t for t in _foreign_texts(lang) if re.search(r"(?<![\w.])" + re.escape(t) + r"(?![\w.])", seen)]


OPERATOR_PAGES = [
    "/konsol", f"/konsol?q={BUDI_METER}", "/konsol/tiket", "/konsol/audit", "/konsol/kampanye", "/konsol/obrolan",
    "/konsol/data", f"/konsol/data?q={BUDI_METER}", "/konsol/persetujuan", "/konsol/h2h", "/konsol/dasbor",
]  # fmt: skip
ADMIN_PAGES = ["/konsol/data/loket", "/konsol/data/referensi"]
CUSTOMER_PAGES = ["/", "/token-gagal", "/pengaduan", "/obrolan", "/akun", "/riwayat", f"/meter/{BUDI_METER}"]


def _open_ticket(client: TestClient) -> str:
    token = csrf(client.get("/konsol/tiket").text)
    opened = client.post(
        "/konsol/tiket",
        data={"csrf_token": token, "meter_number": BUDI_METER, "channel": "cc123", "description": "Token 1234"},
        follow_redirects=False,
    )
    return str(opened.headers["location"])


@pytest.mark.parametrize("lang", ["id", "en"])
def test_operator_pages_show_one_language(client: TestClient, lang: str) -> None:
    signed_in(client, "admin")
    ticket = _open_ticket(client)
    client.cookies.set(i18n.LANG_COOKIE, lang)
    leaks = {}
    for path in [*OPERATOR_PAGES, *ADMIN_PAGES, ticket]:
        response = client.get(path)
        assert response.status_code == 200, path
        if found := _leaks(response.text, lang):
            leaks[path] = found
    assert not leaks
    desk = client.get(ticket).text
    assert (">Tindakan<" in desk) == (lang == "id") and (">Steps<" in desk) == (lang == "en")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_customer_pages_show_one_language(client: TestClient, lang: str) -> None:
    signed_in(client, "budi")
    client.cookies.set(i18n.LANG_COOKIE, lang)
    leaks = {}
    for path in CUSTOMER_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        if found := _leaks(response.text, lang):
            leaks[path] = found
    assert not leaks
    causes = client.get("/token-gagal").text
    assert ("<strong>Salah ketik (GAGAL / REJECT).</strong>" in causes) == (lang == "id")
    assert ("<strong>A typing error (GAGAL / REJECT).</strong>" in causes) == (lang == "en")
    chat = client.get("/obrolan").text  # the assistant is named in the page's language
    assert ('class="chat-meta">asisten · ' in chat) == (lang == "id")
    assert ('class="chat-meta">assistant · ' in chat) == (lang == "en")


def test_a_notice_set_on_one_page_reads_in_the_language_of_the_next(client: TestClient) -> None:
    signed_in(client, "operator")
    client.cookies.set(i18n.LANG_COOKIE, "en")
    ticket = _open_ticket(client)
    page = client.get(ticket).text
    assert f"Ticket {ticket.rsplit('/', 1)[1]} opened." in page
    assert "dibuat." not in page


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_customer_flow_shows_one_language(client: TestClient, lang: str) -> None:
    """Receipt, the meter after a key-in, a token check with its evidence, the complaint and the
    customer's ticket page: words from the catalogues, the diagnosis' and the meter's own
    two-language texts in the page's language."""
    signed_in(client, "budi")
    client.cookies.set(i18n.LANG_COOKIE, lang)
    receipt, digits = buy(client, nominal=20_000)
    pages = {"receipt": receipt}
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits})
    pages["meter"] = client.get(f"/meter/{BUDI_METER}").text
    typo = digits[:7] + str((int(digits[7]) + 1) % 10) + digits[8:]
    pages["check"] = client.post(
        "/token-gagal", data={"csrf_token": token, "meter_number": BUDI_METER, "token": typo, "display": "USED"}
    ).text
    assert 'data-testid="evidence"' in pages["check"]
    client.post(
        "/pengaduan",
        data={"csrf_token": token, "meter_number": BUDI_METER, "category": "typo", "description": "12345678901234",
              "token": typo, "display": "GAGAL"},
    )  # fmt: skip
    listed = client.get("/pengaduan").text
    number = re.search(r'href="/pengaduan/tiket/(PGD-\d{8}-\d{6})"', listed)
    assert number is not None
    pages["complaints"] = listed
    pages["ticket"] = client.get(f"/pengaduan/tiket/{number.group(1)}").text
    leaks = {name: found for name, page in pages.items() if (found := _leaks(page, lang))}
    assert not leaks
    assert ("Token sudah dipakai" in pages["check"] or "Salah ketik" in pages["check"]) == (lang == "id")
