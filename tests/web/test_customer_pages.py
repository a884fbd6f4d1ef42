"""Issue 14, customers: the digits typed on the virtual meter reach "Token gagal?", the price
reads as the sum it is, the receipt (date, copy, print, PDF), history search/filter/pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from .conftest import BUDI_METER, signed_in
from .test_pages import buy, csrf


def _rp(text: str) -> int:
    return int(text.replace("Rp", "").replace(".", "").strip())


def test_typed_digits_are_carried_into_token_gagal_without_a_url(client: TestClient) -> None:
    signed_in(client, "budi")
    _, digits = buy(client, nominal=20_000)
    token = csrf(client.get(f"/meter/{BUDI_METER}").text)
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    refused = client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": wrong}).text
    link = re.search(r'data-testid="why-rejected">[^<]*<a href="([^"]+)"', refused)
    assert link is not None
    assert wrong not in link.group(1)  # never in a URL (access logs)
    form = client.get(link.group(1).replace("&amp;", "&")).text
    assert f'name="token" value="{wrong}"' in form
    # another meter's form is not prefilled with these digits
    assert f'value="{wrong}"' not in client.get("/token-gagal?meter=14100000000").text
    # an accepted entry forgets them
    client.post(f"/meter/{BUDI_METER}/tombol", data={"csrf_token": token, "keys": digits})
    assert f'value="{wrong}"' not in client.get(f"/token-gagal?meter={BUDI_METER}").text


def test_price_breakdown_adds_up(client: TestClient) -> None:
    signed_in(client, "budi")
    token = csrf(client.get("/beli").text)
    page = client.post("/beli/rincian", data={"csrf_token": token, "meter_number": BUDI_METER, "nominal": 100_000}).text
    part = {k: _rp(v) for k, v in re.findall(r'data-testid="p-([a-z]+)">([^<]+)<', page)}
    total = _rp(re.search(r'data-testid="total">([^<]+)<', page).group(1))  # type: ignore[union-attr]
    assert part["nominal"] == 100_000
    assert part["stroom"] + part["pbjt"] + part["ppn"] + part["meterai"] + part["angsuran"] == part["nominal"]
    assert part["nominal"] + part["admin"] == total
    # the rows read in the order of the sum
    order = re.findall(r'data-part="([a-z]+)"', page)
    assert order == ["stroom", "pbjt", "ppn", "meterai", "angsuran", "admin"]
