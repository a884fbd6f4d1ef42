"""Sales channels (payment points): add, change rules, rotate the API key, disable.

A new channel sells PLN's standard denominations between the standard minimum and maximum
(PLN.md 2.7) until configured otherwise; its purchase rate limit defaults to 600 a minute
(0 = unlimited). An API key is shown once, when it is made: only its SHA-256 is kept. Rotating
revokes every earlier key of the channel; disabling revokes them all and stops sales. Both bump
``channels.key_version`` (``ChannelInfo.key_version``) so that a cache of API keys can tell an
entry is stale (``channel_key_version(code)``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from prabayar.digits import is_digits
from prabayar.vending import accounts, validation
from prabayar.vending._core import _channel_info
from prabayar.vending.db import claiming_session, reading_session
from prabayar.vending.errors import InvalidRequest, UnknownChannel
from prabayar.vending.models import Channel, ChannelApiKey, ChannelKind, Role
from prabayar.vending.onboarding import MasterDataUseCases
from prabayar.vending.pricing import AdminFeeRule
from prabayar.vending.reference import STANDARD_MAX_NOMINAL, STANDARD_MIN_NOMINAL, STANDARD_NOMINALS
from prabayar.vending.results import ChannelInfo

_CODE = re.compile(r"[A-Z0-9_-]{2,16}")  # fullmatch, never "$"
DEFAULT_PURCHASES_PER_MINUTE = 600
#: The highest nominal any channel may be configured to sell (H2H products, PLN.md 2.7).
MAX_CONFIGURABLE_NOMINAL = 50_000_000


@dataclass(frozen=True)
class ChannelDetail:
    """A channel as an administrator sees it (never a key, only how many are active)."""

    code: str
    name: str
    kind: str
    active: bool
    admin_fee_tiers: tuple[tuple[int, int], ...]
    allowed_nominals: tuple[int, ...] | None
    min_nominal: int
    max_nominal: int
    purchases_per_minute: int
    key_version: int
    active_keys: int
    last_key_at: datetime | None


@dataclass(frozen=True)
class NewChannelKey:
    """The one time an API key is shown."""

    code: str
    api_key: str
    key_version: int


def _fee_rule(admin_fee: object) -> AdminFeeRule:
    """A flat fee (``2500``) or tiers (``[[0, 1000], [100000, 2500]]`` / ``"0:1000,100000:2500"``)."""
    try:
        if isinstance(admin_fee, int) and not isinstance(admin_fee, bool):
            return AdminFeeRule.flat(admin_fee)
        if isinstance(admin_fee, str):
            text = admin_fee.strip()
            if is_digits(text):
                return AdminFeeRule.flat(int(text))
            pairs = [p.split(":") for p in text.split(",") if p.strip()]
            return AdminFeeRule(tuple((int(a), int(b)) for a, b in pairs))
        if isinstance(admin_fee, list | tuple):
            return AdminFeeRule(tuple((int(a), int(b)) for a, b in admin_fee))
    except (ValueError, TypeError) as exc:
        raise validation.InvalidField("admin_fee", "BIAYA ADMIN TIDAK VALID", f"invalid admin fee: {exc}") from exc
    raise validation.InvalidField("admin_fee", "BIAYA ADMIN TIDAK VALID", "an admin fee is rupiah or tiers")


def _check_fee(rule: AdminFeeRule) -> AdminFeeRule:
    if any(fee > 50_000 for _, fee in rule.tiers):
        raise validation.InvalidField("admin_fee", "BIAYA ADMIN TERLALU BESAR", "an admin fee is at most Rp 50,000")
    return rule


def _nominals(allowed: object, minimum: int | None, maximum: int | None) -> tuple[tuple[int, ...] | None, int, int]:
    low = STANDARD_MIN_NOMINAL if minimum is None else minimum
    high = STANDARD_MAX_NOMINAL if maximum is None else maximum
    if isinstance(low, bool) or isinstance(high, bool) or not isinstance(low, int) or not isinstance(high, int):
        raise validation.InvalidField("min_nominal", "NOMINAL MINIMUM/MAKSIMUM TIDAK VALID", "whole rupiah")
    if not STANDARD_MIN_NOMINAL <= low <= high <= MAX_CONFIGURABLE_NOMINAL:
        raise validation.InvalidField(
            "min_nominal",
            "NOMINAL MINIMUM/MAKSIMUM TIDAK VALID",
            f"need {STANDARD_MIN_NOMINAL:,} <= minimum <= maximum <= {MAX_CONFIGURABLE_NOMINAL:,}",
        )
    if allowed == "free" or allowed == ():
        return None, low, high
    if allowed is None:
        values: tuple[int, ...] = tuple(n for n in STANDARD_NOMINALS if low <= n <= high)
    else:
        try:
            items = allowed.split(",") if isinstance(allowed, str) else list(allowed)  # type: ignore[call-overload]
            values = tuple(sorted({int(str(n).strip().replace(".", "")) for n in items if str(n).strip()}))
        except (ValueError, TypeError):
            raise validation.InvalidField(
                "allowed_nominals", "DAFTAR NOMINAL TIDAK VALID", "nominals are whole rupiah, comma separated"
            ) from None
        if any(not low <= n <= high for n in values):
            raise validation.InvalidField(
                "allowed_nominals", "NOMINAL DI LUAR BATAS MINIMUM/MAKSIMUM", "every nominal is within min..max"
            )
    if not values:
        raise validation.InvalidField(
            "allowed_nominals", "DAFTAR NOMINAL KOSONG", "no nominal lies between the minimum and the maximum"
        )
    return values, low, high


def _rate_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise validation.InvalidField(
            "purchases_per_minute",
            "BATAS TRANSAKSI PER MENIT TIDAK VALID",
            "purchases per minute is 0 (unlimited) to 1,000,000",
        )
    return value


class ChannelAdminUseCases(MasterDataUseCases):
    """Channel administration (admins; the server CLI with ``server=True``)."""

    @staticmethod
    def _any_channel(session: Session, code: str) -> Channel:
        channel = session.scalar(select(Channel).where(Channel.code == (code or "").strip().upper()))
        if channel is None:
            raise UnknownChannel(code)
        return channel

    def add_channel(
        self,
        actor: str,
        code: str,
        reason: str,
        *,
        name: str | None = None,
        kind: str = ChannelKind.AGGREGATOR.value,
        admin_fee: object = 0,
        purchases_per_minute: int = DEFAULT_PURCHASES_PER_MINUTE,
        allowed_nominals: object = None,
        min_nominal: int | None = None,
        max_nominal: int | None = None,
        server: bool = False,
    ) -> tuple[ChannelDetail, NewChannelKey]:
        """A new channel and its first API key (returned once, never stored in clear)."""
        why = validation.reason(reason)
        channel_code = (code or "").strip().upper()
        if not _CODE.fullmatch(channel_code):
            raise validation.InvalidField(
                "code", "KODE LOKET TIDAK VALID", "a channel code is 2-16 of A-Z, 0-9, '_' or '-'"
            )
        title = " ".join((name or channel_code).split())
        if not 1 <= len(title) <= 80:
            raise validation.InvalidField("name", "NAMA LOKET TIDAK VALID", "a channel name has 1-80 characters")
        try:
            channel_kind = ChannelKind(kind)
        except ValueError:
            raise validation.InvalidField(
                "kind", "JENIS LOKET TIDAK VALID", f"kind is one of {[k.value for k in ChannelKind]}"
            ) from None
        rule = _check_fee(_fee_rule(admin_fee))
        values, low, high = _nominals(allowed_nominals, min_nominal, max_nominal)
        limit = _rate_limit(purchases_per_minute)
        api_key = accounts.new_api_key()
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "add a sales channel", (Role.ADMIN.value,), server)
            if session.scalar(select(Channel.id).where(Channel.code == channel_code)) is not None:
                raise validation.InvalidField(
                    "code", f"KODE LOKET {channel_code} SUDAH ADA", f"channel {channel_code} already exists"
                )
            channel = Channel(
                code=channel_code,
                name=title,
                kind=channel_kind.value,
                admin_fee_rule=rule.to_json(),
                allowed_nominals=json.dumps(list(values)) if values is not None else None,
                min_nominal=low,
                max_nominal=high,
                active=True,
                purchases_per_minute=limit,
                key_version=1,
            )
            session.add(channel)
            session.flush()
            session.add(ChannelApiKey(channel_id=channel.id, key_hash=accounts.hash_api_key(api_key), created_at=now))
            self._audit(
                session, now, who, "channel.add", None, channel=channel_code, name=title, kind=channel_kind.value,
                admin_fee=rule.to_json(), allowed_nominals=list(values) if values else None, min=low, max=high,
                purchases_per_minute=limit, reason=why,
            )  # fmt: skip
            session.flush()
            detail = self._detail(session, channel)
        return detail, NewChannelKey(channel_code, api_key, detail.key_version)

    def update_channel(
        self,
        actor: str,
        code: str,
        reason: str,
        *,
        name: str | None = None,
        admin_fee: object = None,
        purchases_per_minute: int | None = None,
        allowed_nominals: object = None,
        min_nominal: int | None = None,
        max_nominal: int | None = None,
        server: bool = False,
    ) -> ChannelDetail:
        """Change a channel's name, admin fee, nominals or purchase rate limit (only those given).

        ``allowed_nominals="free"`` lets the channel sell any amount between min and max.
        """
        why = validation.reason(reason)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "change a sales channel", (Role.ADMIN.value,), server)
            ch = self._any_channel(session, code)
            before = self._detail(session, ch)
            if name is not None:
                title = " ".join(name.split())
                if not 1 <= len(title) <= 80:
                    raise validation.InvalidField("name", "NAMA LOKET TIDAK VALID", "a channel name has 1-80 chars")
                ch.name = title
            if admin_fee is not None:
                ch.admin_fee_rule = _check_fee(_fee_rule(admin_fee)).to_json()
            if purchases_per_minute is not None:
                ch.purchases_per_minute = _rate_limit(purchases_per_minute)
            if allowed_nominals is not None or min_nominal is not None or max_nominal is not None:
                current = before.allowed_nominals
                keep: object = allowed_nominals if allowed_nominals is not None else (current or "free")
                values, low, high = _nominals(
                    keep,
                    min_nominal if min_nominal is not None else ch.min_nominal,
                    max_nominal if max_nominal is not None else ch.max_nominal,
                )
                ch.allowed_nominals = json.dumps(list(values)) if values is not None else None
                ch.min_nominal, ch.max_nominal = low, high
            session.flush()
            after = self._detail(session, ch)
            changes = {
                f: [str(getattr(before, f)), str(getattr(after, f))]
                for f in ("name", "admin_fee_tiers", "allowed_nominals", "min_nominal", "max_nominal",
                          "purchases_per_minute")
                if getattr(before, f) != getattr(after, f)
            }  # fmt: skip
            if not changes:
                raise InvalidRequest("TIDAK ADA PERUBAHAN", "nothing to change")
            self._audit(session, now, who, "channel.update", None, channel=ch.code, changes=changes, reason=why)
            return after

    def rotate_channel_key(self, actor: str, code: str, reason: str, *, server: bool = False) -> NewChannelKey:
        """A new API key for the channel; every earlier key stops working at once."""
        why = validation.reason(reason)
        api_key = accounts.new_api_key()
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "rotate a channel's API key", (Role.ADMIN.value,), server)
            ch = self._any_channel(session, code)
            if not ch.active:
                raise InvalidRequest(f"LOKET {ch.code} NONAKTIF", f"channel {ch.code} is disabled")
            revoked = self._revoke(session, ch, now)
            session.add(ChannelApiKey(channel_id=ch.id, key_hash=accounts.hash_api_key(api_key), created_at=now))
            ch.key_version += 1
            self._audit(session, now, who, "channel.key_rotated", None, channel=ch.code, revoked=revoked,
                        key_version=ch.key_version, reason=why)  # fmt: skip
            return NewChannelKey(ch.code, api_key, ch.key_version)

    def disable_channel(self, actor: str, code: str, reason: str, *, server: bool = False) -> ChannelDetail:
        """Stop a channel: its keys are revoked and it can sell nothing (its history stays)."""
        why = validation.reason(reason)
        now = self.now()
        with claiming_session(self.engine) as session:
            who = self._authorise(session, actor, "disable a sales channel", (Role.ADMIN.value,), server)
            ch = self._any_channel(session, code)
            if not ch.active:
                raise InvalidRequest(f"LOKET {ch.code} SUDAH NONAKTIF", f"channel {ch.code} is already disabled")
            revoked = self._revoke(session, ch, now)
            ch.active = False
            ch.key_version += 1
            self._audit(session, now, who, "channel.disable", None, channel=ch.code, revoked=revoked, reason=why)
            session.flush()
            return self._detail(session, ch)

    @staticmethod
    def _revoke(session: Session, ch: Channel, now: datetime) -> int:
        result = session.execute(
            update(ChannelApiKey)
            .where(ChannelApiKey.channel_id == ch.id, ChannelApiKey.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    @staticmethod
    def _detail(session: Session, ch: Channel) -> ChannelDetail:
        info: ChannelInfo = _channel_info(ch)
        keys = session.scalars(
            select(ChannelApiKey).where(ChannelApiKey.channel_id == ch.id, ChannelApiKey.revoked_at.is_(None))
        ).all()
        return ChannelDetail(
            code=ch.code,
            name=ch.name,
            kind=ch.kind,
            active=ch.active,
            admin_fee_tiers=AdminFeeRule.from_json(ch.admin_fee_rule).tiers,
            allowed_nominals=info.allowed_nominals,
            min_nominal=ch.min_nominal,
            max_nominal=ch.max_nominal,
            purchases_per_minute=ch.purchases_per_minute,
            key_version=ch.key_version,
            active_keys=len(keys),
            last_key_at=max((k.created_at for k in keys), default=None),
        )

    def channel_details(self, *, include_disabled: bool = True) -> list[ChannelDetail]:
        with reading_session(self.engine) as session:
            stmt = select(Channel).order_by(Channel.code)
            if not include_disabled:
                stmt = stmt.where(Channel.active)
            return [self._detail(session, c) for c in session.scalars(stmt)]

    def channel_detail(self, code: str) -> ChannelDetail:
        with reading_session(self.engine) as session:
            return self._detail(session, self._any_channel(session, code))

    def channel_key_version(self, code: str) -> int:
        """The hook for API-key caches: changes whenever the channel's keys may have changed."""
        with reading_session(self.engine) as session:
            version = session.scalar(select(Channel.key_version).where(Channel.code == code))
            if version is None:
                raise UnknownChannel(code)
            return int(version)
