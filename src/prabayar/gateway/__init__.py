"""prabayar.gateway: the ISO 8583 host-to-host face for payment partners (docs/iso8583.md).

A face like ``prabayar.web`` and ``prabayar.cli``: it speaks the profile
``shared/domain/ISO8583.md`` on one TCP port per partner and calls the same ``VendingService``
use cases as the JSON channel API. Modules: ``framing`` (§1.2), ``iso`` (the pyiso8583 spec and
§2-§4 checks), ``layouts`` (fields 48/62/63, §5), ``host`` (answers, §4.4/§6), ``server``
(asyncio listeners and connections, §1), ``client`` (a partner-side client), ``metrics``.
"""
