"""Bulk import of customers with their meters: reading and validating the CSV (pure, no I/O).

``prabayar import customers FILE.csv`` streams a region's master data. This module only turns
CSV records into validated rows or typed rejections; the batch writer
(:mod:`prabayar.vending.import_writer`) puts them into the database.

The file has a header row naming at least :data:`REQUIRED_COLUMNS` (any order; the optional
``unit`` and ``phone`` may be added). One record = one customer with the meter installed on it.
Line numbers count the header as line 1 (the first customer is on line 2); a record that
quotes a line break is named by the line it starts on. Blank lines are skipped, not counted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import IO

from prabayar.sts import BaseDate, Dkga, EncryptionAlgorithm, KeyType
from prabayar.vending import validation

REQUIRED_COLUMNS: tuple[str, ...] = (
    "idpel", "name", "address", "tariff", "power_va", "meter_number", "sgc", "tariff_index",
    "krn", "key_type", "ea", "dkga", "base_date",
)  # fmt: skip
OPTIONAL_COLUMNS: tuple[str, ...] = ("unit", "phone")

#: Column order of a validated row (:data:`ValidRow`) and of the staging table.
ROW_FIELDS: tuple[str, ...] = (
    "line", "idpel", "name", "address", "unit_id", "tariff_class_id", "va", "phone",
    "meter_number", "key_type", "sgc", "tariff_index", "krn", "algorithm", "base_date", "dkga",
)  # fmt: skip

#: ``(line, idpel, name, address, unit_id, tariff_class_id, va, phone, meter_number, key_type,
#: sgc, tariff_index, krn, algorithm, base_date, dkga)`` — see :data:`ROW_FIELDS`.
ValidRow = tuple[int, str, str, str, int, int, int, str | None, str, int, str, str, int, str, str, str]

NAME_MAX = 25
ADDRESS_MAX = 120
PHONE_MIN_DIGITS = 8
PHONE_MAX_DIGITS = 15
#: A field longer than this is not master data (keeps memory bounded on a broken file).
FIELD_LIMIT = 4096

_EA = {a.value: a for a in EncryptionAlgorithm}
_DKGA = {"02": Dkga.DKGA02, "04": Dkga.DKGA04}
_BASE_DATES = {"1993": BaseDate.Y1993, "2014": BaseDate.Y2014, "2035": BaseDate.Y2035,
               "93": BaseDate.Y1993, "14": BaseDate.Y2014, "35": BaseDate.Y2035}  # fmt: skip
_KEY_TYPES = {str(k.value): k for k in KeyType}
#: A digit doubled, as the digit sum Luhn adds ("5" -> 10 -> "1").
_DOUBLE_DIGITS = str.maketrans("0123456789", "0246813579")
_PHONE = re.compile(r"\+?[0-9]{8,15}")
_NOT_TEXT = "non-printable characters (control characters, or bytes that are not UTF-8)"


class ImportFileError(Exception):
    """The file cannot be read as an import file at all (missing, not CSV, wrong header)."""


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one record was rejected: ``column`` is a header name, or "" for the whole record."""

    line: int
    column: str
    reason: str


@dataclass(frozen=True, slots=True)
class TariffRef:
    """A tariff class as the import needs it (from ``tariff_classes``)."""

    id: int
    code: str
    print_code: str
    va_min: int
    va_max: int | None
    subsidised: bool


@dataclass(frozen=True)
class ReferenceData:
    """Units and tariff classes known to the database, and the unit used when a row has none."""

    tariffs: tuple[TariffRef, ...]
    units: dict[str, int]
    default_unit: str | None = None
    _cache: dict[tuple[str, int], int | tuple[str, str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cache", {})
        if self.default_unit is not None and self.default_unit not in self.units:
            raise ImportFileError(f"the default unit {self.default_unit!r} is not in the database")

    def resolve_tariff(self, tariff: str, va: int) -> int | tuple[str, str]:
        """The tariff class id for a struk code and power, or (column, reason) why there is none.

        The rule is the one every master-data path uses (:func:`validation.resolve_tariff`):
        ``tariff`` is the struk code (``R1``, ``R2``, ``B2`` ...) or an exact class code
        (``R1-900``); where one code has two classes at that power (R1 at 900 VA) the
        non-subsidised one (``R1-900RTM``) is taken, and ``R1-900`` names the subsidised one.
        """
        key = (tariff, va)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        result: int | tuple[str, str]
        try:
            result = validation.resolve_tariff(self.tariffs, tariff, va).id
        except validation.InvalidField as exc:
            result = (exc.field, exc.message_en)
        if len(self._cache) < 10_000:
            self._cache[key] = result
        return result


def luhn_ok(digits: str) -> bool:
    """Luhn over a string of ASCII digits (the last one is the check digit)."""
    rev = digits[::-1]
    doubled = rev[1::2].translate(_DOUBLE_DIGITS)
    return (sum(rev[0::2].encode()) + sum(doubled.encode()) - 48 * len(digits)) % 10 == 0


def _is_digits(text: str, width: int) -> bool:
    return len(text) == width and text.isascii() and text.isdigit()


class RowValidator:
    """Validates records of one file against the reference data (header fixed at creation)."""

    def __init__(self, header: list[str], ref: ReferenceData) -> None:
        names = [h.strip().lower() for h in header]
        if names and names[0].startswith("\ufeff"):
            names[0] = names[0][1:]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ImportFileError(f"the header lacks the column(s) {', '.join(missing)}")
        unknown = [n for n in names if n not in REQUIRED_COLUMNS and n not in OPTIONAL_COLUMNS]
        if unknown:
            raise ImportFileError(f"unknown column(s) in the header: {', '.join(unknown)}")
        if len(set(names)) != len(names):
            raise ImportFileError("a column is named twice in the header")
        self.width = len(names)
        self.index = {n: i for i, n in enumerate(names)}
        self.has_unit = "unit" in self.index
        self.has_phone = "phone" in self.index
        self.ref = ref
        wanted = [*REQUIRED_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in self.index)]
        self._fields = itemgetter(*(self.index[c] for c in wanted))
        if not self.has_unit and ref.default_unit is None:
            raise ImportFileError(
                "the file has no unit column and no default unit is configured (give --unit or load the reference data)"
            )

    def _fast(self, line: int, record: list[str]) -> ValidRow | None:
        """The row when every value is in its plain form (the common case), else None.

        Accepts a subset of what :meth:`validate` accepts and gives the same result for it;
        anything else (and every error) goes the long way, which says what is wrong.
        """
        fields = self._fields(record)
        idpel, name, address, tariff, va_text, meter, sgc, ti, krn_text, kt, ea, dkga_text, bd = (
            f.strip() for f in fields[:13]
        )
        if not (len(idpel) == 12 and idpel.isascii() and idpel.isdigit()):
            return None
        name = " ".join(name.split()).upper()
        address = " ".join(address.split()).upper()
        if not (0 < len(name) <= NAME_MAX and 0 < len(address) <= ADDRESS_MAX):
            return None
        if not (name.isprintable() and address.isprintable()):
            return None
        rest = fields[13:]
        unit_code = rest[0].strip() if self.has_unit else ""
        unit_id = self.ref.units.get(unit_code or self.ref.default_unit or "")
        if unit_id is None:
            return None
        phone: str | None = None
        if self.has_phone:
            phone = rest[-1].strip() or None
            if phone is not None and _PHONE.fullmatch(phone) is None:
                return None
        if not (0 < len(va_text) <= 9 and va_text.isascii() and va_text.isdigit()):
            return None
        va = int(va_text)
        if not va or not tariff:
            return None
        tariff_class_id = self.ref.resolve_tariff(tariff, va)
        if not isinstance(tariff_class_id, int):
            return None
        if not (len(meter) in (11, 13) and meter.isascii() and meter.isdigit() and luhn_ok(meter)):
            return None
        if not (len(sgc) == 6 and sgc.isascii() and sgc.isdigit() and len(ti) == 2 and ti.isascii() and ti.isdigit()):
            return None
        if not (len(krn_text) == 1 and "1" <= krn_text <= "9"):
            return None
        key_type, algorithm, dkga, base_date = (
            _KEY_TYPES.get(kt),
            _EA.get(ea),
            _DKGA.get(dkga_text),
            _BASE_DATES.get(bd),
        )
        if key_type is None or algorithm is None or dkga is None or base_date is None:
            return None
        if algorithm is EncryptionAlgorithm.MISTY1 and dkga is Dkga.DKGA02:
            return None
        return (
            line, idpel, name, address, unit_id, tariff_class_id, va, phone, meter,
            key_type.value, sgc, ti, int(krn_text), algorithm.value, base_date.code, dkga.value,
        )  # fmt: skip

    def validate(self, line: int, record: list[str]) -> ValidRow | list[RowError]:
        """A validated row, or every problem found in the record.

        Values are accepted and normalised exactly as :mod:`prabayar.vending.validation` does
        for a single registration (names and addresses upper case with single spaces); the
        common case is checked inline because a region has millions of rows.
        """
        if len(record) != self.width:
            return [RowError(line, "", f"{len(record)} fields, the header has {self.width}")]
        fast = self._fast(line, record)
        if fast is not None:
            return fast
        ix = self.index
        errors: list[RowError] = []

        def bad(column: str, reason: str) -> None:
            errors.append(RowError(line, column, reason))

        def check(column: str, fn: Callable[[str], str], value: str) -> str:
            """The shared validator's verdict on a value the fast path did not accept."""
            try:
                return fn(value)
            except validation.InvalidField as exc:
                bad(exc.field or column, exc.message_en)
                return ""

        idpel = record[ix["idpel"]].strip()
        if not _is_digits(idpel, 12):
            idpel = check("idpel", validation.idpel, idpel)
        name = " ".join(record[ix["name"]].split()).upper()
        if not 1 <= len(name) <= NAME_MAX:
            check("name", validation.name, name)
        elif not name.isprintable():
            bad("name", _NOT_TEXT)
        address = " ".join(record[ix["address"]].split()).upper()
        if not 1 <= len(address) <= ADDRESS_MAX:
            check("address", validation.address, address)
        elif not address.isprintable():
            bad("address", _NOT_TEXT)
        unit_code = record[ix["unit"]].strip() if self.has_unit else ""
        if not unit_code:
            unit_code = self.ref.default_unit or ""
        unit_id = self.ref.units.get(unit_code)
        if unit_id is None:
            if unit_code:
                bad("unit", f"unknown unit {unit_code!r}")
            else:
                bad("unit", "no unit given and no default unit configured")
        phone: str | None = None
        if self.has_phone:
            raw_phone = record[ix["phone"]]
            if raw_phone.strip():
                try:
                    phone = validation.phone(raw_phone)
                except validation.InvalidField as exc:
                    bad("phone", exc.message_en)
        va_text = record[ix["power_va"]].strip()
        va = int(va_text) if _is_digits(va_text, len(va_text)) and len(va_text) <= 9 else 0
        if not va:
            try:
                va = validation.power_va(va_text)
            except validation.InvalidField as exc:
                bad("power_va", exc.message_en)
        tariff = record[ix["tariff"]].strip()
        tariff_class_id = 0
        if not tariff:
            bad("tariff", "the tariff class is empty")
        elif va > 0:
            resolved = self.ref.resolve_tariff(tariff, va)
            if isinstance(resolved, tuple):
                bad(*resolved)
            else:
                tariff_class_id = resolved
        meter = record[ix["meter_number"]].strip()
        if not (len(meter) in (11, 13) and meter.isascii() and meter.isdigit() and luhn_ok(meter)):
            meter = check("meter_number", validation.meter_number, meter)
        sgc = record[ix["sgc"]].strip()
        if not _is_digits(sgc, 6):
            bad("sgc", f"a supply group code has 6 digits, got {sgc!r}")
        tariff_index = record[ix["tariff_index"]].strip()
        if not _is_digits(tariff_index, 2):
            bad("tariff_index", f"a tariff index has 2 digits, got {tariff_index!r}")
        krn_text = record[ix["krn"]].strip()
        krn = int(krn_text) if len(krn_text) == 1 and "1" <= krn_text <= "9" else 0
        if not krn:
            bad("krn", f"a key revision number is 1..9, got {krn_text!r}")
        kt_text = record[ix["key_type"]].strip()
        key_type = _KEY_TYPES.get(kt_text)
        if key_type is None:
            bad("key_type", f"a key type is 0..3, got {kt_text!r}")
        ea_text = record[ix["ea"]].strip().zfill(2)
        algorithm = _EA.get(ea_text)
        if algorithm is None:
            bad("ea", f"EA is 07, 09 or 11, got {ea_text!r}")
        dkga_text = record[ix["dkga"]].strip().zfill(2)
        dkga = _DKGA.get(dkga_text)
        if dkga is None:
            bad("dkga", f"DKGA is 02 or 04, got {dkga_text!r}")
        bd_text = record[ix["base_date"]].strip()
        base_date = _BASE_DATES.get(bd_text)
        if base_date is None:
            bad("base_date", f"the base date is 1993, 2014 or 2035, got {bd_text!r}")
        if algorithm is EncryptionAlgorithm.MISTY1 and dkga is Dkga.DKGA02:
            bad("dkga", "EA 11 (MISTY1) needs DKGA 04")
        if errors:
            return errors
        assert key_type is not None and algorithm is not None and dkga is not None
        assert base_date is not None and unit_id is not None
        return (
            line, idpel, name, address, unit_id, tariff_class_id, va, phone, meter,
            key_type.value, sgc, tariff_index, krn, algorithm.value, base_date.code, dkga.value,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: the line it starts on (header = 1) and its fields, or a parse error."""

    line: int
    fields: list[str] | None
    error: str | None = None


def open_csv(path: str) -> IO[str]:
    """Open the import file for streaming; bytes that are not UTF-8 are rejected row by row."""
    try:
        return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_records(stream: IO[str]) -> tuple[list[str], Iterator[Record]]:
    """The header and an iterator over the data records (blank lines are skipped).

    Reads one record at a time: memory does not grow with the file.
    """
    csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty (no header row)") from None
    except (csv.Error, OSError) as exc:
        raise ImportFileError(f"the header row cannot be read: {exc}") from exc
    except UnicodeError as exc:  # pragma: no cover - surrogateescape never raises
        raise ImportFileError(f"the header row is not text: {exc}") from exc

    def records() -> Iterator[Record]:
        end = reader.line_num
        while True:
            start = end + 1  # a record quoting a line break starts on this line
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = reader.line_num
                yield Record(start, None, f"not valid CSV: {exc}")
                continue
            except OSError as exc:
                raise ImportFileError(f"reading stopped: {exc}") from exc
            end = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            yield Record(start, fields)

    return header, records()


def validate_stream(records: Iterable[Record], validator: RowValidator) -> Iterator[ValidRow | list[RowError]]:
    """Each record as a valid row or its errors (in file order)."""
    for rec in records:
        if rec.fields is None:
            yield [RowError(rec.line, "", rec.error or "not valid CSV")]
        else:
            yield validator.validate(rec.line, rec.fields)


def parse_text(text: str) -> tuple[list[str], Iterator[Record]]:
    """``read_records`` over a string (tests, small uploads)."""
    return read_records(io.StringIO(text, newline=""))
