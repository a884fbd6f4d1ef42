"""Master data: units, customers, meters, channels, tariff versions and vending key import."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_wrap, aes_key_wrap_with_padding
from sqlalchemy import select

from prabayar import sts
from prabayar.meter import ManualClock, Meter, ResultKind
from prabayar.sts import VendingKey, derive_decoder_key
from prabayar.vending import (
    AuthenticationFailed,
    CustomerBlocked,
    DenominationNotAllowed,
    InvalidRequest,
    NotAuthorized,
    UnknownChannel,
    UnknownMeter,
    VendingService,
)
from prabayar.vending.db import reading_session
from prabayar.vending.demo import DEMO_CUSTOMERS, demo_meter_number
from prabayar.vending.errors_masterdata import CustomerClosed, MeterNotInService
from prabayar.vending.keystore import KeyEncryptionKey, MasterKey, SoftwareKeyStore
from prabayar.vending.models import AuditRow, Unit
from prabayar.vending.reference import STANDARD_NOMINALS, seed_reference
from prabayar.vending.validation import InvalidField

if TYPE_CHECKING:
    from conftest import FakeClock

CLI = "cli:root"
BUDI = DEMO_CUSTOMERS[0]


def new_number(serial: int) -> str:
    return demo_meter_number(serial)


def register(service: VendingService, idpel: str = "541999000001", **kw: object) -> None:
    args: dict[str, object] = {
        "idpel": idpel, "name": "Rina Marlina", "address": "Jl. Kenari 3", "tariff": "R1",
        "power_va": 1300, "reason": "pasang baru SPK 1", "phone": "0812 3456 7890",
    }  # fmt: skip
    args.update(kw)
    service.register_customer("operator", **args)  # type: ignore[arg-type]


def meter_params(**kw: object) -> dict[str, object]:
    params: dict[str, object] = {
        "sgc": "123456", "tariff_index": "01", "krn": 2, "key_type": 2, "ea": "07", "dkga": "04",
        "base_date": "2014",
    }  # fmt: skip
    params.update(kw)
    return params


def audit(service: VendingService, action: str) -> list[dict[str, object]]:
    return [dict(e.detail, actor=e.actor) for e in service.audit_log(action=action)]


# --- reference data -------------------------------------------------------------------------------
def test_seed_reference_is_idempotent_and_the_demo_builds_on_it(engine: object, clock: FakeClock) -> None:
    from sqlalchemy import Engine

    from prabayar.vending.demo import seed_demo

    assert isinstance(engine, Engine)
    svc = VendingService(engine, SoftwareKeyStore(engine, MasterKey.generate()), clock=clock)
    assert seed_reference(svc) is True
    assert seed_reference(svc) is False
    units = svc.units()
    assert [u.code for u in units] == ["51", "54"] and svc.default_unit() == "54"
    assert units[1].pbjt_rates["R1-1300"] == Decimal("0.024")
    assert {t.code for t in svc.tariff_classes()} >= {"R1-450", "R1-900RTM", "R3", "S2"}
    assert len(svc.tariff_history("R1-1300")) == 1
    assert seed_demo(svc).created is True  # the demo still loads on top of the reference data
    assert seed_demo(svc).created is False


# --- units ----------------------------------------------------------------------------------------
def test_units_with_their_pbjt_rates(service: VendingService) -> None:
    unit = service.add_unit(
        "admin", "33", "UID Jawa Tengah dan DIY", "UP3 Semarang", "new region",
        default_rate="10%", pbjt_rates={"S1-900": "0"},
    )  # fmt: skip
    assert unit.pbjt_rates["R1-1300"] == Decimal("0.1") and unit.pbjt_rates["S1-900"] == 0
    assert service.set_unit_tax_rate("admin", "33", "R1-1300", "0.08", "perda 2026").pbjt_rates["R1-1300"] == Decimal(
        "0.08"
    )
    service.set_default_unit("admin", "33", "the region we run")
    assert service.default_unit() == "33"
    with pytest.raises(NotAuthorized):
        service.add_unit("operator", "34", "UID X", "UP3 Y", "operators do not add units")
    with pytest.raises(InvalidRequest):
        service.add_unit("admin", "33", "UID X", "UP3 Y", "duplicate")
    with pytest.raises(InvalidField) as bad:
        service.set_unit_tax_rate("admin", "33", "R1-1300", "1.5", "more than everything")
    assert bad.value.field == "pbjt_rate"
    assert audit(service, "unit.pbjt_rate")[0]["actor"] == "admin"


# --- customers ------------------------------------------------------------------------------------
def test_register_customer_and_look_it_up(service: VendingService) -> None:
    register(service)
    found = service.customer_record("541999000001")
    assert (found.name, found.address, found.tariff_class, found.va) == (
        "RINA MARLINA",
        "JL. KENARI 3",
        "R1-1300",
        1300,
    )
    assert found.unit_code == "54" and found.phone == "081234567890" and found.meters == ()
    assert found.monthly_cap_kwh == Decimal("936")
    assert [c.idpel for c in service.search_customers("kenari")] == ["541999000001"]
    assert [c.idpel for c in service.search_customers("rina mar")] == ["541999000001"]
    assert BUDI.idpel in [c.idpel for c in service.search_customers(BUDI.meter_number[:9])]
    entry = audit(service, "customer.register")[0]
    assert entry["actor"] == "operator" and entry["reason"] == "pasang baru SPK 1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"idpel": "54199900000"}, "idpel"),
        ({"idpel": BUDI.idpel}, "idpel"),  # already registered
        ({"name": ""}, "name"),
        ({"tariff": "X9"}, "tariff"),
        ({"tariff": "R1", "power_va": 3500}, "power_va"),
        ({"unit": "99"}, "unit"),
        ({"phone": "12ab"}, "phone"),
        ({"reason": ""}, "reason"),
    ],
)
def test_register_customer_refusals_name_the_field(
    service: VendingService, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidField) as exc:
        register(service, **change)
    assert exc.value.field == field
    assert exc.value.message_id and exc.value.message_en


def test_only_operators_register_customers(service: VendingService) -> None:
    with pytest.raises(NotAuthorized):
        service.register_customer(
            "budi", idpel="541999000002", name="X", address="Y", tariff="R1", power_va=900, reason="self service"
        )
    # the server CLI acts without a web login
    service.register_customer(
        CLI, idpel="541999000002", name="X", address="Y", tariff="R1-900", power_va=900, reason="set-up", server=True
    )
    assert service.customer_record("541999000002").tariff_class == "R1-900"


def test_r1_at_900_va_is_the_non_subsidised_class_unless_named(service: VendingService) -> None:
    register(service, idpel="541999000003", power_va=900)
    assert service.customer_record("541999000003").tariff_class == "R1-900RTM"


def test_change_power_moves_the_tariff_and_the_cap(service: VendingService) -> None:
    siti = DEMO_CUSTOMERS[1]  # R1-900 subsidised
    after = service.change_power("operator", siti.idpel, 1300, "ubah daya permohonan 77")
    assert (after.tariff_class, after.va, after.monthly_cap_kwh) == ("R1-1300", 1300, Decimal("936"))
    assert service.change_power("operator", siti.idpel, 3500, "naik daya").tariff_class == "R2"
    assert service.change_power("operator", siti.idpel, 7700, "naik daya lagi").tariff_class == "R3"
    assert service.inquiry(siti.idpel).monthly_cap_kwh == Decimal("5544")
    with pytest.raises(InvalidRequest):
        service.change_power("operator", siti.idpel, 7700, "nothing changes")
    with pytest.raises(InvalidField):
        service.change_power("operator", siti.idpel, 0, "no power")
    toko = DEMO_CUSTOMERS[6]  # B2 13,200 VA
    with pytest.raises(InvalidField) as exc:
        service.change_power("operator", toko.idpel, 900, "business below its band")
    assert exc.value.field == "power_va"
    entry = audit(service, "customer.change_power")[-1]
    assert (entry["old_tariff"], entry["new_tariff"], entry["old_cap"], entry["new_cap"]) == (
        "R1-900", "R1-1300", "648", "936",
    )  # fmt: skip


def test_block_unblock_and_close(service: VendingService) -> None:
    service.block_customer("operator", BUDI.idpel, "tunggakan P2TL")
    assert service.customer_record(BUDI.idpel).status_reason == "tunggakan P2TL"
    with pytest.raises(CustomerBlocked):
        service.purchase("BANKDEMO", "B-1", BUDI.idpel, 20_000)
    with pytest.raises(InvalidRequest):
        service.block_customer("operator", BUDI.idpel, "twice")
    service.unblock_customer("operator", BUDI.idpel, "lunas")
    assert service.purchase("BANKDEMO", "B-2", BUDI.idpel, 20_000).token
    closed = service.close_customer("operator", BUDI.idpel, "berhenti langganan")
    assert closed.status == "closed" and {m.status for m in closed.meters} == {"removed"}
    with pytest.raises((CustomerClosed, UnknownMeter)):
        service.purchase("BANKDEMO", "B-3", BUDI.meter_number, 20_000)
    with pytest.raises(InvalidRequest):
        service.unblock_customer("operator", BUDI.idpel, "closed is final")
    with pytest.raises(InvalidField):
        service.block_customer("operator", DEMO_CUSTOMERS[1].idpel, "")
    assert [e["new"] for e in audit(service, "customer.close")] == ["closed"]


def test_a_closed_customer_is_refused_with_its_own_error(service: VendingService) -> None:
    register(service, idpel="541999000004")
    number = new_number(30000001)
    service.register_meter("operator", number, reason="delivery", **meter_params())  # type: ignore[arg-type]
    service.install_meter("operator", number, "541999000004", "pasang baru")
    service.close_customer("operator", "541999000004", "pindah rumah")
    with pytest.raises(MeterNotInService) as exc:  # its meter was taken off
        service.purchase("BANKDEMO", "C-1", number, 20_000)
    assert exc.value.code == "0014" and "DIBONGKAR" in exc.value.message_id
    # reinstall the meter on the closed customer: refused
    with pytest.raises(InvalidRequest):
        service.install_meter("operator", number, "541999000004", "again")
    # a customer that is closed but still has a meter recorded in service is refused too
    assert issubclass(CustomerClosed, CustomerBlocked)


# --- meters ---------------------------------------------------------------------------------------
def test_register_install_sell_remove_and_reinstall(service: VendingService, clock: FakeClock) -> None:
    register(service)
    number = new_number(30000002)
    stocked = service.register_meter("operator", number, reason="delivery from factory", **meter_params())  # type: ignore[arg-type]
    assert stocked.status == "in_stock" and stocked.idpel is None and stocked.base_year == "2014"
    assert service.meter_record(number).status == "in_stock"
    assert [m.meter_number for m in service.meter_stock()] == [number]
    with pytest.raises(UnknownMeter):
        service.purchase("BANKDEMO", "S-0", number, 20_000)  # not installed yet
    installed = service.install_meter("operator", number, "541999000001", "pasang baru SPK 1")
    assert [m.meter_number for m in installed.meters] == [number] and service.meter_stock() == []
    sale = service.purchase("BANKDEMO", "S-1", "541999000001", 20_000)
    assert sale.meter_number == number
    # one meter in service per customer
    second = new_number(30000003)
    service.register_meter("operator", second, reason="delivery", **meter_params())  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        service.install_meter("operator", second, "541999000001", "a second one")
    removed = service.remove_meter("operator", number, "bongkar rampung")
    assert removed.status == "removed"
    with pytest.raises(MeterNotInService):
        service.purchase("BANKDEMO", "S-2", number, 20_000)
    # the IDPEL now gets the second meter; the removed one goes to another customer, keeping its TIDs
    service.install_meter("operator", second, "541999000001", "ganti meter")
    assert service.purchase("BANKDEMO", "S-3", "541999000001", 20_000).meter_number == second
    register(service, idpel="541999000005", name="Ahmad")
    service.install_meter("operator", number, "541999000005", "pasang ulang")
    clock.advance(minutes=0)
    again = service.purchase("BANKDEMO", "S-4", number, 20_000)
    assert again.tid > sale.tid and again.idpel == "541999000005"
    entry = audit(service, "meter.install")[0]
    assert entry["previous_idpel"] == "541999000001" and entry["actor"] == "operator"


def test_broken_meters(service: VendingService) -> None:
    broken = service.mark_meter_broken("operator", BUDI.meter_number, "display mati")
    assert broken.status == "broken"
    with pytest.raises(MeterNotInService) as exc:
        service.inquiry(BUDI.meter_number) and service.purchase("BANKDEMO", "K-1", BUDI.meter_number, 20_000)
    assert "RUSAK" in exc.value.message_id
    with pytest.raises(InvalidRequest):
        service.mark_meter_broken("operator", BUDI.meter_number, "twice")
    stock = new_number(30000004)
    service.register_meter("operator", stock, reason="delivery", **meter_params())  # type: ignore[arg-type]
    assert service.mark_meter_broken("operator", stock, "dead on arrival").status == "broken"
    register(service)
    with pytest.raises(InvalidRequest):
        service.install_meter("operator", stock, "541999000001", "a broken one")


@pytest.mark.parametrize(
    ("number", "params", "field"),
    [
        ("01234567890", {}, "meter_number"),  # Luhn
        ("0123456789", {}, "meter_number"),  # 10 digits
        (None, {"sgc": "12345"}, "sgc"),
        (None, {"tariff_index": "1"}, "tariff_index"),
        (None, {"krn": 0}, "krn"),
        (None, {"key_type": 4}, "key_type"),
        (None, {"ea": "08"}, "ea"),
        (None, {"dkga": "03"}, "dkga"),
        (None, {"ea": "11", "dkga": "02"}, "dkga"),  # MISTY1 needs DKGA04
        (None, {"base_date": "2000"}, "base_date"),
    ],
)
def test_meter_registration_refusals(
    service: VendingService, number: str | None, params: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidField) as exc:
        service.register_meter("operator", number or new_number(30000005), reason="delivery", **meter_params(**params))  # type: ignore[arg-type]
    assert exc.value.field == field


def test_a_meter_number_is_registered_once(service: VendingService) -> None:
    with pytest.raises(InvalidField):
        service.register_meter("operator", BUDI.meter_number, reason="again", **meter_params())  # type: ignore[arg-type]
    with pytest.raises(NotAuthorized):
        service.register_meter("budi", new_number(30000006), reason="customer", **meter_params())  # type: ignore[arg-type]


# --- channels -------------------------------------------------------------------------------------
def test_channel_add_sells_standard_nominals_and_the_key_works(service: VendingService) -> None:
    detail, key = service.add_channel("admin", "loket01", "new payment point", name="Loket Satu", admin_fee=2500)
    assert detail.code == "LOKET01" and detail.allowed_nominals == STANDARD_NOMINALS
    assert (detail.min_nominal, detail.max_nominal, detail.purchases_per_minute) == (20_000, 1_000_000, 600)
    info = service.authenticate_channel(key.api_key)
    assert info.code == "LOKET01" and info.purchases_per_minute == 600 and info.key_version == 1
    sale = service.purchase("LOKET01", "L-1", BUDI.idpel, 50_000)
    assert sale.price.admin_fee == 2500
    with pytest.raises(DenominationNotAllowed):
        service.purchase("LOKET01", "L-2", BUDI.idpel, 30_000)
    # the key is not stored in clear anywhere
    with reading_session(service.engine) as session:
        rows = session.scalars(select(AuditRow.detail)).all()
    assert not any(key.api_key in r for r in rows)


def test_channel_rotate_and_disable(service: VendingService) -> None:
    _, first = service.add_channel("admin", "LOKET02", "new", purchases_per_minute=0)
    rotated = service.rotate_channel_key("admin", "LOKET02", "key leaked")
    assert rotated.key_version == 2 and rotated.api_key != first.api_key
    with pytest.raises(AuthenticationFailed):
        service.authenticate_channel(first.api_key)
    assert service.authenticate_channel(rotated.api_key).purchases_per_minute == 0
    assert service.channel_key_version("LOKET02") == 2
    disabled = service.disable_channel("admin", "LOKET02", "contract ended")
    assert not disabled.active and disabled.active_keys == 0 and disabled.key_version == 3
    with pytest.raises(AuthenticationFailed):
        service.authenticate_channel(rotated.api_key)
    with pytest.raises(UnknownChannel):
        service.purchase("LOKET02", "X-1", BUDI.idpel, 20_000)
    with pytest.raises(InvalidRequest):
        service.rotate_channel_key("admin", "LOKET02", "disabled channels get no key")
    with pytest.raises(InvalidRequest):
        service.disable_channel("admin", "LOKET02", "twice")
    assert [e["channel"] for e in audit(service, "channel.key_rotated")] == ["LOKET02"]


def test_channel_rules_can_change(service: VendingService) -> None:
    service.add_channel("admin", "LOKET03", "new")
    changed = service.update_channel(
        "admin", "LOKET03", "free amounts for H2H", allowed_nominals="free", max_nominal=5_000_000,
        admin_fee="0:1000,100000:2500", purchases_per_minute=1200,
    )  # fmt: skip
    assert changed.allowed_nominals is None and changed.max_nominal == 5_000_000
    assert changed.admin_fee_tiers == ((0, 1000), (100_000, 2500)) and changed.purchases_per_minute == 1200
    assert service.quote("LOKET03", BUDI.idpel, 123_000).admin_fee == 2500
    with pytest.raises(InvalidRequest):
        service.update_channel("admin", "LOKET03", "nothing", purchases_per_minute=1200)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"code": "x"}, "code"),
        ({"code": "BANKDEMO"}, "code"),
        ({"purchases_per_minute": -1}, "purchases_per_minute"),
        ({"admin_fee": "abc"}, "admin_fee"),
        ({"admin_fee": 100_000}, "admin_fee"),
        ({"min_nominal": 10_000}, "min_nominal"),
        ({"allowed_nominals": [20_000, 2_000_000]}, "allowed_nominals"),
        ({"kind": "shop"}, "kind"),
    ],
)
def test_channel_add_refusals(service: VendingService, kw: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"code": "LOKET04"}
    args.update(kw)
    code = str(args.pop("code"))
    with pytest.raises(InvalidField) as exc:
        service.add_channel("admin", code, "new", **args)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_only_admins_manage_channels(service: VendingService) -> None:
    with pytest.raises(NotAuthorized):
        service.add_channel("operator", "LOKET05", "operators cannot")
    with pytest.raises(NotAuthorized):
        service.rotate_channel_key("operator", "BANKDEMO", "operators cannot")
    _, key = service.add_channel(CLI, "LOKET05", "server set-up", server=True)
    assert service.authenticate_channel(key.api_key).code == "LOKET05"


# --- tariffs --------------------------------------------------------------------------------------
def test_a_sale_uses_the_tariff_version_in_force(service: VendingService, clock: FakeClock) -> None:
    before = service.quote("BANKDEMO", BUDI.idpel, 100_000)
    assert before.tariff_rp_per_kwh == Decimal("1444.70")
    starts = clock.now + timedelta(days=1)
    version = service.add_tariff_version(CLI, "R1-1300", "1500.25", starts, "Q2 tariff adjustment", server=True)
    assert version.rp_per_kwh == Decimal("1500.25")
    sold_before = service.purchase("BANKDEMO", "T-1", BUDI.idpel, 100_000)
    assert sold_before.price.tariff_rp_per_kwh == Decimal("1444.70")
    info = next(t for t in service.tariff_classes() if t.code == "R1-1300")
    assert info.rp_per_kwh == Decimal("1444.70") and info.next_version == version
    clock.advance(days=1)
    sold_after = service.purchase("BANKDEMO", "T-2", BUDI.idpel, 100_000)
    assert sold_after.price.tariff_rp_per_kwh == Decimal("1500.25") and sold_after.kwh < sold_before.kwh
    history = service.tariff_history("R1-1300")
    assert [v.rp_per_kwh for v in history] == [Decimal("1500.25"), Decimal("1444.70")]
    # the earlier sale keeps its price
    assert service.reprint(BUDI.idpel, limit=5)[-1].price.tariff_rp_per_kwh == Decimal("1444.70")


def test_tariff_version_refusals(service: VendingService, clock: FakeClock) -> None:
    with pytest.raises(InvalidField):
        service.add_tariff_version(CLI, "R1-1300", "1500", clock.now - timedelta(minutes=1), "retroactive", server=True)
    with pytest.raises(InvalidField):
        service.add_tariff_version(CLI, "R1-1300", "-1", clock.now + timedelta(days=1), "negative", server=True)
    with pytest.raises(InvalidField):
        service.add_tariff_version(CLI, "R1-1300", "1500.123", clock.now + timedelta(days=1), "3 decimals", server=True)
    with pytest.raises(InvalidField):
        service.add_tariff_version(CLI, "R9", "1500", clock.now + timedelta(days=1), "unknown", server=True)
    with pytest.raises(InvalidField):  # at least 5 minutes ahead: every server's cache knows it first
        service.add_tariff_version(CLI, "R1-1300", "1500", clock.now + timedelta(minutes=4), "too soon", server=True)
    service.add_tariff_version(CLI, "R1-1300", "1500", clock.now + timedelta(minutes=5), "just in time", server=True)
    with pytest.raises(InvalidRequest):  # a web user needs approval
        service.add_tariff_version("admin", "R1-1300", "1500", clock.now + timedelta(days=1), "direct")
    starts = clock.now + timedelta(days=2)
    service.add_tariff_version(CLI, "R2", "1700", starts, "Q2 adjustment", server=True)
    with pytest.raises(InvalidRequest):
        service.add_tariff_version(CLI, "R2", "1710", starts, "same start", server=True)


def test_tariff_version_through_maker_checker(service: VendingService, clock: FakeClock) -> None:
    from prabayar.vending.errors import FourEyesViolation

    starts = clock.now + timedelta(days=7)
    request = service.request_tariff_version("admin", "R1-2200", "1480.00", starts, "Q2 2026 tariff")
    assert request.pending and service.tariff_history("R1-2200")[0].rp_per_kwh == Decimal("1444.70")
    with pytest.raises(FourEyesViolation):
        service.approve(request.id, "admin")
    done = service.approve(request.id, "supervisor", reason="checked against Permen ESDM")
    assert done.result == {"tariff": "R1-2200", "rp_per_kwh": "1480.00", "effective_from": starts.isoformat()}
    latest = service.tariff_history("R1-2200")[0]
    assert latest.rp_per_kwh == Decimal("1480.00") and latest.created_by == "admin"
    entry = audit(service, "tariff.version")[0]
    assert entry["approved_by"] == "supervisor" and entry["actor"] == "admin"
    with pytest.raises(NotAuthorized):
        service.request_tariff_version("operator", "R1-2200", "1490", starts + timedelta(days=1), "not an admin")
    with pytest.raises(InvalidField):  # checked when asked, not only at approval
        service.request_tariff_version("admin", "R1-2200", "1490", clock.now - timedelta(days=1), "past")


# --- vending keys ---------------------------------------------------------------------------------
KEK = secrets.token_bytes(32)


def kek_service(service: VendingService, master_key: MasterKey, clock: FakeClock) -> VendingService:
    store = SoftwareKeyStore(service.engine, master_key, kek=KeyEncryptionKey(KEK))
    return VendingService(service.engine, store, clock=clock)


def test_import_plain_and_wrapped_keys(service: VendingService, master_key: MasterKey, clock: FakeClock) -> None:
    des = secrets.token_bytes(8)
    info = service.import_vending_key(CLI, "345678", 1, des.hex().upper(), "KMC delivery 2026/01", server=True)
    assert (info.sgc, info.krn, info.dkga, info.state) == ("345678", 1, "02", "staged")
    assert len(info.fingerprint) == 12 and des.hex() not in repr(info)
    with pytest.raises(InvalidRequest):  # never overwritten
        service.import_vending_key(CLI, "345678", 1, secrets.token_hex(8), "again", server=True)
    svc = kek_service(service, master_key, clock)
    vk = secrets.token_bytes(20)
    wrapped = aes_key_wrap_with_padding(KEK, vk).hex()
    info2 = svc.import_vending_key(CLI, "345678", 2, wrapped, "KMC wrapped", wrapped=True, server=True)
    assert info2.dkga == "04"
    with pytest.raises(InvalidRequest):  # a wrong KEK (or a damaged blob) is refused
        svc.import_vending_key(
            CLI, "345678", 3, aes_key_wrap_with_padding(secrets.token_bytes(32), vk).hex(), "bad", wrapped=True,
            server=True,
        )  # fmt: skip
    # RFC 3394 (unpadded) for a 16-byte multiple: a 24-byte blob holds 16 bytes: not a vending key length
    with pytest.raises(InvalidRequest):
        svc.import_vending_key(CLI, "345678", 4, aes_key_wrap(KEK, secrets.token_bytes(16)).hex(), "x",
                               wrapped=True, dkga="04", server=True)  # fmt: skip
    with pytest.raises(InvalidField):
        service.import_vending_key(CLI, "345678", 5, "abc", "odd digits", server=True)
    with pytest.raises(InvalidField):
        service.import_vending_key(CLI, "345678", 5, "00" * 12, "12 bytes", server=True)
    with pytest.raises(InvalidField):
        service.import_vending_key(CLI, "34567", 5, "00" * 8, "bad sgc", server=True)
    with pytest.raises(InvalidRequest):  # no KEK configured here
        service.import_vending_key(CLI, "345678", 6, wrapped, "no kek", wrapped=True, server=True)
    states = {(k.sgc, k.krn): k.state for k in service.vending_keys()}
    assert states[("123456", 2)] == "current" and states[("123456", 1)] in ("current", "retired")
    assert states[("123456", 3)] == "staged"
    with reading_session(service.engine) as session:
        rows = " ".join(session.scalars(select(AuditRow.detail)).all())
    assert des.hex() not in rows.lower() and vk.hex() not in rows.lower()


def test_key_import_through_the_api_needs_approval_and_a_wrapped_key(
    service: VendingService, master_key: MasterKey, clock: FakeClock
) -> None:
    svc = kek_service(service, master_key, clock)
    with pytest.raises(InvalidRequest):
        svc.import_vending_key("admin", "345678", 1, secrets.token_hex(8), "direct from the web")
    wrapped = aes_key_wrap_with_padding(KEK, secrets.token_bytes(8)).hex()
    request = svc.request_vending_key_import("admin", "345678", 1, wrapped, "KMC batch 7")
    assert request.payload["dkga"] == "02" and request.payload["wrapped_key_hex"] == wrapped
    assert not svc.key_store.has_vending_key("345678", 1)
    done = svc.approve(request.id, "supervisor", reason="KMC letter checked")
    assert done.result is not None and done.result["krn"] == 1 and len(done.result["fingerprint"]) == 12
    assert svc.key_store.has_vending_key("345678", 1)
    with pytest.raises(InvalidRequest):  # held already: refused when asked
        svc.request_vending_key_import("admin", "345678", 1, wrapped, "again")
    with pytest.raises(NotAuthorized):
        svc.request_vending_key_import("operator", "345678", 2, wrapped, "operators cannot")


@pytest.mark.parametrize(("ea", "dkga", "size"), [("07", "02", 8), ("11", "04", 20)])
def test_a_token_for_a_new_meter_is_accepted_by_a_meter_made_from_the_same_key(
    service: VendingService, master_key: MasterKey, clock: FakeClock, ea: str, dkga: str, size: int
) -> None:
    """STA/DKGA02 and MISTY1/DKGA04: register, import the key, install, sell, enter."""
    svc = kek_service(service, master_key, clock)
    raw = secrets.token_bytes(size)
    sgc = "456789"
    if size == 8:
        svc.import_vending_key(CLI, sgc, 1, raw.hex(), "KMC plain (development)", server=True)
    else:
        svc.import_vending_key(CLI, sgc, 1, aes_key_wrap_with_padding(KEK, raw).hex(), "KMC", wrapped=True,
                               server=True)  # fmt: skip
    number = new_number(40000000 + size)
    svc.register_meter(
        CLI, number, reason="factory batch", server=True, **meter_params(sgc=sgc, krn=1, ea=ea, dkga=dkga, key_type=2)
    )  # type: ignore[arg-type]
    svc.register_customer(CLI, idpel="541999000099", name="Meter Baru", address="Jl. Baru 1", tariff="R1",
                          power_va=2200, reason="pasang baru", server=True)  # fmt: skip
    svc.install_meter(CLI, number, "541999000099", "pasang baru", server=True)
    _, channel = svc.add_channel(CLI, "LOKETNEW", "set-up", server=True)
    sale = svc.purchase(channel.code, "N-1", number, 50_000)
    params = sts.KeyParameters(
        key_type=sts.KeyType.DUTK, sgc=sgc, tariff_index="01", krn=1,
        algorithm=sts.EncryptionAlgorithm(ea), base_date=sts.BaseDate.Y2014, dkga=sts.Dkga(dkga),
    )  # fmt: skip
    pan = sts.meter_pan.from_meter_number(number)
    meter = Meter.manufacture(
        number, derive_decoder_key(VendingKey(raw), pan, params), params,
        clock=ManualClock(clock.now - timedelta(days=1)),
    )  # fmt: skip
    meter.clock = ManualClock(clock.now + timedelta(minutes=1))
    result = meter.enter_token(sale.token)
    assert result.kind is ResultKind.ACCEPT and result.kwh_added == sale.kwh


def test_key_text_may_group_its_hex_digits(service: VendingService) -> None:
    # key files often group the hex digits
    raw = secrets.token_bytes(8)
    grouped = " ".join(raw.hex()[i : i + 4] for i in range(0, 16, 4))
    info = service.import_vending_key(CLI, "567890", 1, grouped + "\n", "grouped digits", server=True)
    assert info.dkga == "02"


def test_unit_default_is_unique(service: VendingService) -> None:
    service.add_unit("admin", "35", "UID X", "UP3 Y", "new")
    service.set_default_unit("admin", "35", "switch")
    with reading_session(service.engine) as session:
        assert session.scalars(select(Unit.code).where(Unit.is_default)).all() == ["35"]
