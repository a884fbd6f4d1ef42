"""Maintain the web's gettext catalogues (``src/prabayar/web/locale/{id,en}/LC_MESSAGES``).

``python -m prabayar.web.catalogues sync build/messages.pot``
    add every key Babel extracted (``make messages``) to both ``.po`` files, untranslated;
    nothing is ever dropped (keys built at run time, e.g. ``cause.<code>``, are not extractable).
``python -m prabayar.web.catalogues compile``
    write the ``.mo`` next to each ``.po`` (the app itself reads the ``.po``).
``python -m prabayar.web.catalogues check``
    exit 1 when a key lacks a translation in a language (listing them).
``python -m prabayar.web.catalogues convert``
    one-off: move the Python table ``prabayar.web.i18n._PY_MESSAGES`` into the catalogues
    (an existing translation wins; the other language is kept as a ``#.`` comment).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from prabayar.web.i18n import DOMAIN, LANGUAGES, catalogue, po_path

_NAMES = {"id": "Indonesian", "en": "English"}


def _load(lang: str) -> Catalog:
    path = po_path(lang)
    if path.exists():
        with path.open("rb") as handle:
            return read_po(handle, locale=lang, domain=DOMAIN)
    return Catalog(
        locale=lang,
        domain=DOMAIN,
        project="prabayar",
        version="0.1.0",
        copyright_holder="prabayar contributors",
        language_team=f"{_NAMES[lang]} <https://github.com/prabayar>",
        creation_date=datetime.now(UTC),
        fuzzy=False,
    )


def _save(lang: str, catalog: Catalog) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, include_previous=False)
    catalogue.cache_clear()


def merge(pairs: Mapping[str, tuple[str, str]]) -> int:
    """Add ``key -> (Indonesian, English)`` to both catalogues; returns how many keys were new.

    A translation already in a catalogue wins over the given text (translators' work is kept).
    """
    added = 0
    catalogs = {lang: _load(lang) for lang in LANGUAGES}
    for key, (indonesian, english) in pairs.items():
        texts = {"id": indonesian, "en": english}
        for lang, catalog in catalogs.items():
            other = texts["en" if lang == "id" else "id"]
            existing = catalog.get(key)
            if existing is None:
                added += lang == "id"
                catalog.add(key, texts[lang], auto_comments=[f"{'en' if lang == 'id' else 'id'}: {other}"])
            elif not existing.string:
                existing.string = texts[lang]
    for lang, catalog in catalogs.items():
        _save(lang, catalog)
    return added


def sync(pot: Path) -> int:
    """Add the keys of an extracted template (``.pot``) that a catalogue lacks (untranslated)."""
    with pot.open("rb") as handle:
        template = read_po(handle)
    added = 0
    for lang in LANGUAGES:
        catalog = _load(lang)
        for message in template:
            if message.id and isinstance(message.id, str) and catalog.get(message.id) is None:
                catalog.add(message.id, "", locations=message.locations)
                added += lang == "id"
        _save(lang, catalog)
    return added


def compile_mo() -> list[Path]:
    written = []
    for lang in LANGUAGES:
        target = po_path(lang).with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, _load(lang))
        written.append(target)
    return written


def missing() -> dict[str, list[str]]:
    """Keys without a translation, per language (every key of either catalogue counts)."""
    keys: set[str] = set()
    per_lang = {lang: _load(lang) for lang in LANGUAGES}
    for catalog in per_lang.values():
        keys.update(str(m.id) for m in catalog if m.id)
    out: dict[str, list[str]] = {}
    for lang, catalog in per_lang.items():
        gaps = sorted(k for k in keys if not ((m := catalog.get(k)) and m.string))
        if gaps:
            out[lang] = gaps
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "sync" and len(argv) == 2:
        print(f"{sync(Path(argv[1]))} new key(s) added to {', '.join(LANGUAGES)}")
        return 0
    if command == "compile":
        for path in compile_mo():
            print(f"wrote {path}")
        return 0
    if command == "check":
        gaps = missing()
        for lang, keys in gaps.items():
            print(f"{lang}: {len(keys)} untranslated: {', '.join(keys[:20])}{' …' if len(keys) > 20 else ''}")
        return 1 if gaps else 0
    if command == "convert":
        from prabayar.web import i18n

        print(f"{merge(i18n._PY_MESSAGES)} key(s) moved into the catalogues")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
