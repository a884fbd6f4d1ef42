"""The one list of routers the app mounts. Each package adds its own line here.

``API_ROUTERS`` are mounted under ``/api/v1`` and appear in the OpenAPI document;
``PAGE_ROUTERS`` are the server-rendered pages (not in the OpenAPI document). The order is the
order of the OpenAPI tags and of route matching.

A new router uses the same building blocks as the ones below: ``prabayar.web.deps``
(``ServicesDep`` whose ``.vending`` is the ``VendingService``; ``CurrentOperator``,
``CurrentCustomer``, ... for the API), ``prabayar.web.pages.guards`` (``PageOperator``,
``PageCustomer``, ``Csrf``) and ``prabayar.web.pages.rendering.render`` for pages (templates
extend ``base.html``); raise ``prabayar.web.errors.WebError`` subclasses for errors. The
authorisation matrix test (tests/web/test_authorization.py) covers every route of the OpenAPI
document, the support tickets and the approvals included.
"""

from __future__ import annotations

from fastapi import APIRouter

from prabayar.web.api import approvals as api_approvals
from prabayar.web.api import auth as api_auth
from prabayar.web.api import campaigns as api_campaigns
from prabayar.web.api import channel as api_channel
from prabayar.web.api import dashboard as api_dashboard
from prabayar.web.api import gateway as api_gateway
from prabayar.web.api import health as api_health
from prabayar.web.api import masterdata as api_masterdata
from prabayar.web.api import me as api_me
from prabayar.web.api import operator as api_operator
from prabayar.web.api import social as api_social
from prabayar.web.api import support as api_support
from prabayar.web.pages import account as page_account
from prabayar.web.pages import approvals as page_approvals
from prabayar.web.pages import auth as page_auth
from prabayar.web.pages import campaigns as page_campaigns
from prabayar.web.pages import chat as page_chat
from prabayar.web.pages import complaints as page_complaints
from prabayar.web.pages import customer as page_customer
from prabayar.web.pages import dashboard as page_dashboard
from prabayar.web.pages import gateway as page_gateway
from prabayar.web.pages import masterdata as page_masterdata
from prabayar.web.pages import meter as page_meter
from prabayar.web.pages import operator as page_operator
from prabayar.web.pages import support as page_support

API_ROUTERS: list[APIRouter] = [
    api_health.router,
    api_auth.router,
    api_channel.router,
    api_me.router,
    api_operator.router,
    api_gateway.router,
    api_masterdata.router,
    api_approvals.router,
    api_campaigns.router,
    api_dashboard.router,
    api_support.router,
    api_social.router,  # /social/{channel}/messages: HMAC-signed webhook, no user roles
]

PAGE_ROUTERS: list[APIRouter] = [
    page_auth.router,
    page_support.router,  # before page_customer: GET /token-gagal gets the diagnosis form
    page_customer.router,
    page_complaints.router,  # a customer's reply/confirm/reopen on their own tickets
    page_account.router,  # /akun/tambah-meter, /akun/kata-sandi, /lupa-sandi, /konsol/reset-sandi
    page_meter.router,
    page_masterdata.router,  # /konsol/data/*, before the console's /konsol routes
    page_operator.router,
    page_gateway.router,
    page_approvals.router,
    page_chat.router,  # /obrolan (customer live chat), /konsol/obrolan (agents' queue)
    page_campaigns.router,
    page_dashboard.router,  # /konsol/dasbor (charts, CSV, weekly summary)
]
