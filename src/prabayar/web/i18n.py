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
from typing import TypeVar

from babel.messages.pofile import read_po
from starlette.requests import Request

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANG_COOKIE = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
T = TypeVar("T")


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


#: Texts not (yet) in the catalogues, key -> (Indonesian, English). Empty: since issue 14 every
#: text lives in ``locale/<lang>/LC_MESSAGES/messages.po`` (moved by
#: ``python -m prabayar.web.catalogues convert``). Add new texts to the ``.po`` files.
_PY_MESSAGES: Mapping[str, tuple[str, str]] = {}


#: key -> (Indonesian, English): both catalogues seen together (the tests and the complaint
#: categories read it; pages use ``t``/``_``/``label``).
MESSAGES: Mapping[str, tuple[str, str]] = CataloguePairs(_PY_MESSAGES)


def language_of(request: Request) -> str:
    """The visitor's language: the ``lang`` cookie when valid, else Indonesian."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, lang: str) -> str:
    """The text of ``key`` in ``lang`` (``en`` or Indonesian), or the key itself when missing."""
    found = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if found is not None:
        return found
    pair = _PY_MESSAGES.get(key)
    if pair is None:
        return key
    return pick(lang, *pair)


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


def pick(lang: str, indonesian: T, english: T) -> T:
    """Choose between two texts that come from elsewhere (e.g. an error's two messages).

    The one place a language is chosen between two given texts: the web's own words are in the
    catalogues; only texts another module makes in both languages (a ``WebError``, support's
    ``Text``, the meter's LCD lines) come through here (or :func:`in_language`)."""
    return english if lang == "en" else indonesian


def in_language(value: object, lang: str) -> str:
    """A text another module gives in both languages, in ``lang``: support's ``Text`` (``.id`` /
    ``.en``), its stored form ``{"id": ..., "en": ...}`` or an ``(id, en)`` pair."""
    if isinstance(value, Mapping):
        return pick(lang, str(value.get("id", "")), str(value.get("en", "")))
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return pick(lang, str(value[0]), str(value[1]))
    if hasattr(value, "id") and hasattr(value, "en"):
        return pick(lang, str(value.id), str(value.en))
    return "" if value is None else str(value)


def notice_text(notice: Mapping[str, object], lang: str) -> str:
    """A one-time notice (``rendering.flash``) in ``lang``: a catalogue ``key`` whose ``{name}``
    placeholders take ``params`` (a param given in both languages, like an approval's kind, as
    ``[id, en]``), or two texts from elsewhere (``id`` / ``en``, e.g. an error's messages)."""
    key = notice.get("key")
    if not isinstance(key, str):
        return in_language(notice, lang)
    raw = notice.get("params")
    params = raw if isinstance(raw, Mapping) else {}
    words = {
        str(name): in_language(value, lang) if isinstance(value, (list, tuple, Mapping)) else str(value)
        for name, value in params.items()
    }
    return translate(key, lang).format(**words)
