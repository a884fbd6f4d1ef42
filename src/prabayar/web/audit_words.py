"""The audit log in words: ``management.clear_tamper`` reads "Token clear tamper diterbitkan".

The words live in the gettext catalogues: ``audit.action.<code>`` for each action,
``audit.family.<prefix>`` for an action not listed there ("meter.*" -> "Meter: ..."), then the
code itself, so a new action never breaks the page. ``describe`` turns the JSON detail into one
short line of words (``audit.detail.<field>``: the reason, the ticket, the channel ...), never a
key or a token.
"""

from __future__ import annotations

from typing import Any

from prabayar.web.i18n import MESSAGES, translate

#: The filter menu: prefixes of action codes; their words are ``audit.filter.<prefix>``.
FILTERS: tuple[str, ...] = (
    "purchase", "management.", "approval.", "support.", "customer.", "meter.", "channel.", "key.",
    "user.", "campaign.", "tariff.",
)  # fmt: skip

#: Detail fields shown in words (``audit.detail.<field>``), in this order; anything else stays
#: out of the line (the CSV export keeps the whole JSON detail).
DETAIL_FIELDS: tuple[str, ...] = (
    "ticket", "reason", "text", "resolution", "technician", "channel", "reference_number", "nominal",
    "username", "idpel", "approval", "kind", "watts", "campaign", "status",
)  # fmt: skip


def action_words(action: str, lang: str) -> str:
    key = f"audit.action.{action}"
    if key in MESSAGES:
        return translate(key, lang)
    family, _, rest = action.partition(".")
    family_key = f"audit.family.{family}"
    if family_key not in MESSAGES:
        return action
    words = rest.replace("ticket.", "").replace("_", " ").replace(".", " ")
    return f"{translate(family_key, lang)}: {words}"


def filters(lang: str) -> list[tuple[str, str]]:
    """The filter menu as (prefix, words)."""
    return [(code, translate(f"audit.filter.{code.rstrip('.')}", lang)) for code in FILTERS]


#: Where a ``status`` in a detail is named: a ticket's, a customer's or meter's, a campaign's.
_STATUS_GROUPS = ("ticket", "status", "campaign_status")


def _status_words(value: str, lang: str) -> str:
    for group in _STATUS_GROUPS:
        if f"{group}.{value}" in MESSAGES:
            return translate(f"{group}.{value}", lang)
    return value


def describe(detail: dict[str, Any], lang: str) -> str:
    """The detail that matters to a reader, as ``alasan: ...; tiket: ...``."""
    parts = []
    for field in DETAIL_FIELDS:
        value = detail.get(field)
        if value in (None, "", [], {}):
            continue
        if isinstance(value, (dict, list)):
            continue
        if field == "status":
            value = _status_words(str(value), lang)
        parts.append(f"{translate(f'audit.detail.{field}', lang)}: {value}")
    return "; ".join(parts)
