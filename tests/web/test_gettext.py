"""The web's texts in gettext catalogues (.po for id and en, Babel, Jinja2's i18n extension)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from prabayar.web import catalogues, i18n
from prabayar.web.pages.rendering import TEMPLATES_DIR, templates

KEY_CALL = re.compile(r"""\b(?:t|_)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']\s*\)""")


def _template_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES_DIR.rglob("*.html"):
        keys.update(KEY_CALL.findall(path.read_text(encoding="utf-8")))
    return keys


def test_jinja_i18n_extension_speaks_the_page_language() -> None:
    page = templates.env.from_string('{{ _("nav.buy") }}|{% trans %}nav.history{% endtrans %}|{{ t("nav.buy") }}')
    assert page.render(lang="en", t=i18n.translator("en")) == "Buy a token|History|Buy a token"
    assert page.render(lang="id", t=i18n.translator("id")) == "Beli token|Riwayat|Beli token"
    assert templates.env.from_string('{{ _("no.such.key") }}').render(lang="en") == "no.such.key"


def test_every_key_a_template_uses_is_translated_in_both_languages() -> None:
    keys = _template_keys()
    assert len(keys) > 100
    gaps = {(k, lang) for k in keys for lang in i18n.LANGUAGES if i18n.translate(k, lang) == k}
    assert not gaps


def test_the_catalogue_files_parse_and_are_package_data() -> None:
    for lang in i18n.LANGUAGES:
        path = i18n.po_path(lang)
        if not path.exists():
            pytest.skip("catalogues not converted yet")
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        assert catalog.locale_identifier == lang
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert '"**/*.po"' in pyproject.read_text()


def test_merge_sync_compile_check_in_a_scratch_locale_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        assert catalogues.merge({"a.one": ("satu", "one"), "a.two": ("dua", "two")}) == 2
        assert i18n.catalogue("id") == {"a.one": "satu", "a.two": "dua"}
        assert i18n.catalogue("en")["a.two"] == "two"
        # a translator's change is kept by a later merge
        po = i18n.po_path("en")
        po.write_text(po.read_text(encoding="utf-8").replace('msgstr "one"', 'msgstr "ONE"'), encoding="utf-8")
        assert catalogues.merge({"a.one": ("satu", "one")}) == 0
        assert i18n.catalogue("en")["a.one"] == "ONE"
        assert "#. id: satu" in po.read_text(encoding="utf-8")
        # extracted keys are added untranslated, nothing is dropped
        pot = tmp_path / "messages.pot"
        pot.write_text('msgid ""\nmsgstr ""\n\nmsgid "b.new"\nmsgstr ""\n', encoding="utf-8")
        assert catalogues.sync(pot) == 1
        assert catalogues.missing() == {"id": ["b.new"], "en": ["b.new"]}
        assert catalogues.main(["check"]) == 1
        assert set(i18n.catalogue("id")) == {"a.one", "a.two"}
        for mo in catalogues.compile_mo():
            with mo.open("rb") as handle:
                assert read_mo(handle).get("a.two") is not None
    finally:
        i18n.catalogue.cache_clear()
