"""Bulk import of customers with their meters (issue 10): validation, merge, audit, tokens."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from prabayar import sts
from prabayar.cli import app
from prabayar.config import get_settings
from prabayar.meter import ManualClock, Meter, ResultKind
from prabayar.vending import NotAuthorized, VendingService
from prabayar.vending.bulk_import import (
    REQUIRED_COLUMNS,
    ImportFileError,
    ReferenceData,
    RowError,
    RowValidator,
    TariffRef,
    parse_text,
    validate_stream,
)
from prabayar.vending.db import reading_session
from prabayar.vending.demo import DEMO_CUSTOMERS, demo_meter_number
from prabayar.vending.import_writer import ACTION_IMPORTED, ACTION_UPDATED, ImportSummary
from prabayar.vending.models import AuditRow, Customer, TariffClass
from prabayar.vending.models import Meter as MeterRow
from prabayar.vending.reference import TARIFFS
from prabayar.vending.synthetic_region import HEADER, write_region_csv
from prabayar.vending.synthetic_region import meter_number as synthetic_meter

if TYPE_CHECKING:
    from conftest import FakeClock

COLUMNS = (*REQUIRED_COLUMNS, "unit", "phone")


def meter(serial: int) -> str:
    return synthetic_meter(serial)


def row(serial: int, **changes: str) -> dict[str, str]:
    """A valid row: IDPEL 549 + serial, meter 45 + serial, STA/DKGA04 on base date 2014."""
    values = {
        "idpel": f"549{serial:09d}", "name": f"PELANGGAN {serial}", "address": f"JL. IMPOR {serial}, JAKARTA",
        "tariff": "R1", "power_va": "1300", "meter_number": meter(serial), "sgc": "123456",
        "tariff_index": "01", "krn": "2", "key_type": "2", "ea": "07", "dkga": "04", "base_date": "2014",
        "unit": "54", "phone": "081234567890",
    }  # fmt: skip
    values.update(changes)
    return values


def csv_text(rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([r[c] for c in columns] for r in rows)
    return out.getvalue()


def write(tmp_path: Path, rows: list[dict[str, str]], name: str = "region.csv", **kw: tuple[str, ...]) -> Path:
    path = tmp_path / name
    path.write_text(csv_text(rows, **kw), encoding="utf-8")
    return path


def reference(default_unit: str | None = "54") -> ReferenceData:
    tariffs = tuple(
        TariffRef(i + 1, t.code, t.print_code, t.va_min, t.va_max, t.subsidised) for i, t in enumerate(TARIFFS)
    )
    return ReferenceData(tariffs, {"54": 101, "51": 102}, default_unit)


def check(text: str, ref: ReferenceData | None = None) -> list[object]:
    header, records = parse_text(text)
    return list(validate_stream(records, RowValidator(header, ref or reference())))


def run_import(service: VendingService, path: Path, **kw: object) -> tuple[ImportSummary, list[RowError]]:
    errors: list[RowError] = []
    summary = service.import_customers(path, actor="operator", on_errors=errors.extend, **kw)  # type: ignore[arg-type]
    return summary, errors


def audit_count(service: VendingService, action: str) -> int:
    with reading_session(service.engine) as s:
        return int(s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == action)) or 0)


# --- validation (pure) ------------------------------------------------------------------------

BAD_VALUES = [
    ("idpel", "54900000001", "12 digits"),
    ("idpel", "5490000000X1", "12 digits"),
    ("name", "", "1 to 25 characters"),
    ("name", "N" * 26, "1 to 25 characters"),
    ("name", "BELL\x07", "non-printable"),
    ("address", "", "1 to 120 characters"),
    ("address", "A" * 121, "1 to 120 characters"),
    ("tariff", "R9", "unknown tariff class 'R9'"),
    ("tariff", "", "empty"),
    ("power_va", "1000", "not a power of tariff R1"),
    ("power_va", "abc", "whole number of VA"),
    ("meter_number", "45000000011", "check digit"),
    ("meter_number", "4500000001", "11 (or 13)"),
    ("meter_number", "4500000001²", "only digits"),
    ("sgc", "12345", "6 digits"),
    ("tariff_index", "1", "2 digits"),
    ("krn", "0", "1..9"),
    ("krn", "10", "1..9"),
    ("key_type", "4", "0..3"),
    ("ea", "08", "07, 09 or 11"),
    ("dkga", "03", "02 or 04"),
    ("base_date", "2000", "1993, 2014 or 2035"),
    ("unit", "99", "unknown unit '99'"),
    ("phone", "12ab", "8-15 digits"),
]


@pytest.mark.parametrize(("column", "value", "reason"), BAD_VALUES)
def test_each_rule_rejects_with_its_column_and_reason(column: str, value: str, reason: str) -> None:
    results = check(csv_text([row(1), row(2, **{column: value})]))
    assert isinstance(results[0], tuple)
    errors = results[1]
    assert isinstance(errors, list) and len(errors) == 1, errors
    assert errors[0].line == 3 and errors[0].column == column and reason in errors[0].reason


def test_misty1_needs_dkga04_and_all_errors_of_a_row_are_reported() -> None:
    (errors,) = check(csv_text([row(1, ea="11", dkga="02")]))
    assert errors == [RowError(2, "dkga", "EA 11 (MISTY1) needs DKGA 04")]
    (errors,) = check(csv_text([row(1, sgc="1", krn="x", key_type="9")]))
    assert isinstance(errors, list) and [e.column for e in errors] == ["sgc", "krn", "key_type"]


def test_values_are_normalised_like_a_single_registration() -> None:
    (valid,) = check(csv_text([row(1, name="  budi   santoso ", address="jl. a  1", ea="7", dkga="4", base_date="14",
                                   power_va="1.300", phone="0812-3456-7890")]))  # fmt: skip
    assert isinstance(valid, tuple)
    assert valid[2:4] == ("BUDI SANTOSO", "JL. A 1")
    assert valid[6:8] == (1300, "081234567890")
    assert valid[13:] == ("07", "14", "04")


def test_tariff_codes_follow_the_shared_rule() -> None:
    ids = {t.code: i + 1 for i, t in enumerate(TARIFFS)}
    (r1_900, exact, r2, s1) = check(csv_text([
        row(1, tariff="R1", power_va="900"), row(2, tariff="R1-900", power_va="900"),
        row(3, tariff="r2", power_va="5500"), row(4, tariff="S1", power_va="5500"),
    ]))  # fmt: skip
    assert isinstance(r1_900, tuple) and r1_900[5] == ids["R1-900RTM"]  # non-subsidised unless named
    assert isinstance(exact, tuple) and exact[5] == ids["R1-900"]
    assert isinstance(r2, tuple) and r2[5] == ids["R2"]
    assert isinstance(s1, tuple) and s1[5] == ids["S1-3500"]


def test_optional_columns_default_unit_and_no_phone() -> None:
    columns = REQUIRED_COLUMNS
    (valid,) = check(csv_text([row(1)], columns=columns))
    assert isinstance(valid, tuple) and valid[4] == 101 and valid[7] is None
    with pytest.raises(ImportFileError, match="no default unit"):
        check(csv_text([row(1)], columns=columns), reference(default_unit=None))
    (errors,) = check(csv_text([row(1, unit="")]), reference(default_unit=None))
    assert errors == [RowError(2, "unit", "no unit given and no default unit configured")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("idpel,name\n1,2\n", "lacks the column(s) address"),
        (",".join(COLUMNS) + ",colour\n", "unknown column(s) in the header: colour"),
        (",".join(COLUMNS) + ",name\n", "named twice"),
    ],
)
def test_unusable_headers(text: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check(text)


def test_line_numbers_count_the_header_as_line_1() -> None:
    good = csv_text([row(1)]).splitlines()[1]
    multi = csv_text([row(2, address="JL. A\nRT 01")]).split("\n", 1)[1]  # one record on 2 lines
    text = ",".join(COLUMNS) + "\n" + good + "\n\n" + multi + "too,few\n" + '"unclosed\n'
    results = check(text)
    assert isinstance(results[0], tuple) and results[0][0] == 2
    assert isinstance(results[1], tuple) and results[1][0] == 4  # blank line 3 skipped
    assert results[1][3] == "JL. A RT 01"  # white space collapses, as in a registration
    assert results[2] == [RowError(6, "", "2 fields, the header has 15")]
    assert isinstance(results[3], list) and results[3][0].line == 7 and "CSV" in results[3][0].reason


# --- the import on a database (SQLite and PostgreSQL) -----------------------------------------


def test_import_then_same_file_again_changes_nothing(service: VendingService, tmp_path: Path) -> None:
    path = write(tmp_path, [row(i) for i in range(1, 8)])
    summary, errors = run_import(service, path, batch_size=3)
    assert summary.line() == "7 imported, 0 updated, 0 unchanged, 0 rejected" and not errors
    info = service.inquiry(meter(5))
    assert (info.idpel, info.name, info.tariff_code, info.va) == ("549000000005", "PELANGGAN 5", "R1", 1300)
    with reading_session(service.engine) as s:
        m = s.scalar(select(MeterRow).where(MeterRow.meter_number == meter(5)))
        assert m is not None and (m.sgc, m.krn, m.algorithm, m.base_date, m.dkga, m.last_tid) == (
            "123456", 2, "07", "14", "04", 0)  # fmt: skip
        c = s.scalar(select(Customer).where(Customer.idpel == "549000000005"))
        assert c is not None and c.phone == "081234567890"
        audit = s.scalars(select(AuditRow).where(AuditRow.action == ACTION_IMPORTED)).all()
    assert len(audit) == 7 and {a.actor for a in audit} == {"operator"}
    detail = json.loads(next(a.detail for a in audit if a.meter_number == meter(5)))
    assert detail == {"idpel": "549000000005", "line": 6, "reason": "bulk import of region.csv",
                      "source": "region.csv"}  # fmt: skip

    again, errors = run_import(service, path, batch_size=3)
    assert again.line() == "0 imported, 0 updated, 7 unchanged, 0 rejected" and not errors
    assert audit_count(service, ACTION_IMPORTED) == 7 and audit_count(service, ACTION_UPDATED) == 0


def test_changed_rows_update_what_is_stored_with_an_audit_entry(service: VendingService, tmp_path: Path) -> None:
    run_import(service, write(tmp_path, [row(1), row(2), row(3)]))
    changed = [row(1), row(2, name="NAMA BARU", tariff="R2", power_va="3500", krn="3"), row(3, phone="")]
    summary, errors = run_import(service, write(tmp_path, changed, "v2.csv"), reason="data PLN Maret")
    assert summary.line() == "0 imported, 2 updated, 1 unchanged, 0 rejected" and not errors
    info = service.inquiry(meter(2))
    assert (info.name, info.tariff_code, info.va) == ("NAMA BARU", "R2", 3500)
    with reading_session(service.engine) as s:
        m = s.scalar(select(MeterRow).where(MeterRow.meter_number == meter(2)))
        assert m is not None and m.krn == 3
        c3 = s.scalar(select(Customer).where(Customer.idpel == "549000000003"))
        assert c3 is not None and c3.phone is None
        rows = s.scalars(select(AuditRow).where(AuditRow.action == ACTION_UPDATED).order_by(AuditRow.id)).all()
        r2 = s.scalar(select(TariffClass.id).where(TariffClass.code == "R2"))
        r1 = s.scalar(select(TariffClass.id).where(TariffClass.code == "R1-1300"))
    assert [r.meter_number for r in rows] == [meter(2), meter(3)]
    detail = json.loads(rows[0].detail)
    assert detail["changes"] == {"name": ["PELANGGAN 2", "NAMA BARU"], "tariff_class_id": [r1, r2],
                                 "va": [1300, 3500], "krn": [2, 3]}  # fmt: skip
    assert detail["reason"] == "data PLN Maret" and rows[0].actor == "operator"
    assert json.loads(rows[1].detail)["changes"] == {"phone": ["081234567890", None]}
    # Without a phone column the stored phone numbers are left alone.
    summary, _ = run_import(service, write(tmp_path, [row(1)], "nophone.csv", columns=(*REQUIRED_COLUMNS, "unit")))
    assert summary.line() == "0 imported, 0 updated, 1 unchanged, 0 rejected"


@pytest.mark.parametrize("batch_size", [100, 2])
def test_the_first_row_wins_within_a_file(service: VendingService, tmp_path: Path, batch_size: int) -> None:
    rows = [row(1), row(2), row(3, idpel=row(1)["idpel"]), row(4), row(5, meter_number=meter(2)), row(1)]
    summary, errors = run_import(service, write(tmp_path, rows), batch_size=batch_size)
    assert summary.line() == "3 imported, 0 updated, 0 unchanged, 3 rejected"
    assert [(e.line, e.column) for e in errors] == [(4, "idpel"), (6, "meter_number"), (7, "idpel")]
    assert errors[0].reason == "the same IDPEL is on line 2; the first row wins"
    assert errors[1].reason == "the same meter number is on line 3; the first row wins"
    assert service.inquiry(row(1)["idpel"]).meter_number == meter(1)


def test_rows_that_contradict_the_database_are_rejected(service: VendingService, tmp_path: Path) -> None:
    budi, andi = DEMO_CUSTOMERS[0], DEMO_CUSTOMERS[11]
    rows = [
        row(1, meter_number=budi.meter_number),  # meter installed on another customer
        row(2, idpel=budi.idpel),  # customer already has another meter
        row(3, idpel=andi.idpel, meter_number=demo_meter_number(10000112)),  # replaced meter
        row(4),
    ]
    summary, errors = run_import(service, write(tmp_path, rows))
    assert summary.line() == "1 imported, 0 updated, 0 unchanged, 3 rejected"
    assert [(e.line, e.column) for e in errors] == [(2, "meter_number"), (3, "idpel"), (4, "meter_number")]
    assert errors[0].reason == f"this meter is installed on IDPEL {budi.idpel}"
    assert errors[1].reason.startswith(f"this customer already has meter {budi.meter_number}")
    assert "replaced by" in errors[2].reason
    assert service.inquiry(budi.idpel).name == budi.name  # untouched


def test_dry_run_counts_the_same_and_changes_nothing(service: VendingService, tmp_path: Path) -> None:
    run_import(service, write(tmp_path, [row(1)]))
    rows = [row(1, name="BERUBAH"), row(2), row(3, krn="0"), row(2)]
    path = write(tmp_path, rows, "next.csv")
    before = audit_count(service, ACTION_IMPORTED), audit_count(service, ACTION_UPDATED)
    dry, dry_errors = run_import(service, path, dry_run=True)
    assert dry.line() == "1 imported, 1 updated, 0 unchanged, 2 rejected"
    assert (audit_count(service, ACTION_IMPORTED), audit_count(service, ACTION_UPDATED)) == before
    assert service.inquiry(meter(1)).name == "PELANGGAN 1"
    with pytest.raises(Exception, match=r"0014|meter"):
        service.inquiry(meter(2))
    real, real_errors = run_import(service, path)
    assert real.line() == dry.line() and real_errors == dry_errors


def test_a_customer_without_a_meter_gets_the_imported_one(service: VendingService, tmp_path: Path) -> None:
    run_import(service, write(tmp_path, [row(1)]))
    service.remove_meter("cli:root", meter(1), "taken off the connection", server=True)
    summary, errors = run_import(service, write(tmp_path, [row(1, meter_number=meter(9))], "new-meter.csv"))
    assert summary.line() == "0 imported, 1 updated, 0 unchanged, 0 rejected", errors
    assert service.inquiry(row(1)["idpel"]).meter_number == meter(9)
    summary, errors = run_import(service, write(tmp_path, [row(1)], "old-meter.csv"))
    assert summary.rejected == 1 and "removed" in errors[0].reason


def test_bad_bytes_and_unreadable_files(service: VendingService, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    text = csv_text([row(1, name="JOSÉ"), row(2)])
    path.write_bytes(text.encode("latin-1"))
    summary, errors = run_import(service, path)
    assert summary.line() == "1 imported, 0 updated, 0 unchanged, 1 rejected"
    assert errors[0].line == 2 and errors[0].column == "name" and "not UTF-8" in errors[0].reason
    with pytest.raises(ImportFileError, match="cannot read"):
        run_import(service, tmp_path / "missing.csv")
    with pytest.raises(ImportFileError, match="unknown unit"):
        run_import(service, write(tmp_path, [row(3)], "x.csv"), unit="77")


def test_only_operators_may_import(service: VendingService, tmp_path: Path) -> None:
    path = write(tmp_path, [row(1)])
    with pytest.raises(NotAuthorized):
        service.import_customers(path, actor="budi")
    assert service.import_customers(path, actor="budi", dry_run=True).imported == 1
    assert service.import_customers(path, actor="cli:root", server=True).imported == 1


def test_the_synthetic_region_imports_cleanly(service: VendingService, tmp_path: Path) -> None:
    path = tmp_path / "synthetic.csv"
    write_region_csv(path, 300)
    assert path.read_text().splitlines()[0] == ",".join(HEADER)
    summary, errors = run_import(service, path, batch_size=128)
    assert summary.line() == "300 imported, 0 updated, 0 unchanged, 0 rejected", errors[:3]


# --- a token sold for an imported meter works on an emulated meter -----------------------------


@pytest.mark.parametrize(
    ("ea", "dkga", "krn", "key_hex"),
    [("07", "02", "1", "0123456789abcdef"), ("11", "04", "2", "00112233445566778899aabbccddeeff01020304")],
    ids=["STA-DKGA02", "MISTY1-DKGA04"],
)
def test_a_token_for_an_imported_meter_is_accepted(
    service: VendingService, tmp_path: Path, clock: FakeClock, ea: str, dkga: str, krn: str, key_hex: str
) -> None:
    service.import_vending_key("cli:root", "345678", int(krn), key_hex, "key from the KMC", server=True,
                               dkga=dkga)  # fmt: skip
    imported = row(1, sgc="345678", krn=krn, ea=ea, dkga=dkga, base_date="2014", tariff="R1", power_va="2200")
    summary, errors = run_import(service, write(tmp_path, [imported]))
    assert summary.imported == 1, errors
    # The meter maker builds the meter from the same key parameters and the imported vending key.
    params = sts.KeyParameters(
        key_type=sts.KeyType.DUTK, sgc="345678", tariff_index="01", krn=int(krn),
        algorithm=sts.EncryptionAlgorithm(ea), base_date=sts.BaseDate.Y2014, dkga=sts.Dkga(dkga),
    )  # fmt: skip
    pan = sts.meter_pan.from_meter_number(meter(1))
    decoder = sts.derive_decoder_key(sts.VendingKey.from_hex(key_hex), pan, params)
    device = Meter.manufacture(meter(1), decoder, params, clock=ManualClock(clock.now - timedelta(days=1)))
    device.clock = ManualClock(clock.now + timedelta(minutes=5))
    sale = service.purchase("BANKDEMO", "IMP-1", imported["idpel"], 50_000)
    result = device.enter_token(sale.token)
    assert result.kind is ResultKind.ACCEPT and result.kwh_added == sale.kwh


# --- the CLI (embedded SQLite) -----------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("PRABAYAR_DATABASE_URL", "PRABAYAR_MASTER_KEY", "PRABAYAR_CUTOFF_WIB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRABAYAR_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield runner
    get_settings.cache_clear()


def run_cli(cli: CliRunner, *args: str, code: int = 0) -> list[str]:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output.strip().splitlines()


def test_seed_reference_is_idempotent_and_enough_to_import(cli: CliRunner, tmp_path: Path) -> None:
    assert run_cli(cli, "seed", "--reference") == ["reference data loaded"]
    assert run_cli(cli, "seed", "--reference") == ["reference data already present; nothing changed"]
    path = write(tmp_path, [row(1), row(2)])
    assert run_cli(cli, "import", "customers", str(path))[-1] == "2 imported, 0 updated, 0 unchanged, 0 rejected"
    demo = " ".join(run_cli(cli, "seed", "--demo"))  # the demo builds on the same reference data
    assert "BUDI SANTOSA WIJAYA" in demo


def test_errors_file_exit_codes_and_last_line(cli: CliRunner, tmp_path: Path) -> None:
    run_cli(cli, "seed", "--reference")
    rows = [row(1), row(2, sgc="12"), row(3), row(4, idpel=row(1)["idpel"]), row(5, tariff="X", krn="0")]
    path = write(tmp_path, rows)
    errors = tmp_path / "errors.csv"
    out = run_cli(cli, "import", "customers", str(path), "--dry-run", "--errors", str(errors))
    assert out[-1] == "2 imported, 0 updated, 0 unchanged, 3 rejected"
    out = run_cli(cli, "import", "customers", str(path), "--errors", str(errors), "--strict", code=1)
    assert out[-1] == "2 imported, 0 updated, 0 unchanged, 3 rejected"
    with errors.open(newline="") as f:
        lines = list(csv.reader(f))
    assert lines == [
        ["line", "column", "reason"],
        ["3", "sgc", "a supply group code has 6 digits, got '12'"],
        ["5", "idpel", "the same IDPEL is on line 2; the first row wins"],
        ["6", "tariff", "unknown tariff class 'X'"],
        ["6", "krn", "a key revision number is 1..9, got '0'"],
    ]
    out = run_cli(cli, "import", "customers", str(path))  # without --errors: shown on stderr, exit 0
    assert out[-1] == "0 imported, 0 updated, 2 unchanged, 3 rejected"
    assert any(line.startswith("line 3: sgc:") for line in out)
    good = write(tmp_path, [row(1), row(3)], "good.csv")
    assert (
        run_cli(cli, "import", "customers", str(good), "--strict")[-1]
        == "0 imported, 0 updated, 2 unchanged, 0 rejected"
    )


def test_unusable_files_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    run_cli(cli, "seed", "--reference")
    assert "cannot read" in " ".join(run_cli(cli, "import", "customers", str(tmp_path / "missing.csv"), code=2))
    bad = tmp_path / "bad.csv"
    bad.write_text("idpel,nama\n1,2\n")
    assert "lacks the column" in " ".join(run_cli(cli, "import", "customers", str(bad), code=2))
    path = write(tmp_path, [row(1)])
    out = run_cli(cli, "import", "customers", str(path), "--errors", str(tmp_path / "no" / "dir.csv"), code=2)
    assert "cannot write the errors file" in " ".join(out)
    assert "unknown unit" in " ".join(run_cli(cli, "import", "customers", str(path), "--unit", "77", code=2))


def test_import_needs_reference_data(cli: CliRunner, tmp_path: Path) -> None:
    out = run_cli(cli, "import", "customers", str(write(tmp_path, [row(1)])), code=2)
    assert "seed --reference" in " ".join(out)


def test_meters_in_stock_are_installed_from_it_and_closed_customers_refused(
    service: VendingService, tmp_path: Path
) -> None:
    for serial, krn in ((1, 2), (2, 1)):
        service.register_meter("cli:root", meter(serial), sgc="123456", tariff_index="01", krn=str(krn),
                               key_type="2", ea="07", dkga="04", base_date="2014", reason="delivery",
                               server=True)  # fmt: skip
    summary, errors = run_import(service, write(tmp_path, [row(1), row(2)]))  # meter 2 is stocked with KRN 1
    assert summary.line() == "1 imported, 0 updated, 0 unchanged, 1 rejected"
    assert errors == [RowError(3, "meter_number", "this meter is in stock with other key parameters")]
    assert [m.meter_number for m in service.meter_stock()] == [meter(2)]
    assert service.inquiry(meter(1)).idpel == row(1)["idpel"]
    service.close_customer("cli:root", row(1)["idpel"], "berhenti langganan", server=True)
    summary, errors = run_import(service, write(tmp_path, [row(1, meter_number=meter(3))], "closed.csv"))
    assert summary.rejected == 1 and errors[0].reason == "this customer is closed (berhenti langganan)"


def test_a_failing_batch_stops_the_pipeline_with_its_error() -> None:
    from prabayar.vending.bulk_import import ValidRow
    from prabayar.vending.import_writer import Batch, BatchOutcome, BatchWriter, run_batches

    class Broken(BatchWriter):
        def __init__(self) -> None:
            self.calls = 0

        def write(self, rows: list[ValidRow]) -> BatchOutcome:
            self.calls += 1
            raise RuntimeError("database went away")

    def endless() -> Iterator[Batch]:
        line = 1
        while True:
            line += 1
            yield Batch([(line,)], [], 0)  # type: ignore[list-item]

    writer = Broken()
    with pytest.raises(RuntimeError, match="database went away"):
        run_batches(writer, endless())
    assert writer.calls == 1
