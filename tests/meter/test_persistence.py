"""The state file: atomic JSON, sealed decoder key, clear errors, never overwritten silently."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from prabayar import sts
from prabayar.meter import (
    FORMAT,
    AesGcmBox,
    DamagedStateFile,
    ForeignStateFile,
    Meter,
    MeterError,
    ResultKind,
    StateFile,
    StateFileExists,
    StateFileMissing,
    StateKeyError,
    TamperCause,
)

from .conftest import CTS_STA_KEY, METER_NUMBER, MakeRig, Rig


@pytest.fixture
def stored(make_rig: MakeRig, state_path: Path, box: AesGcmBox) -> Rig:
    return make_rig(store=StateFile(state_path, box))


def reopen(rig: Rig, box: AesGcmBox) -> Meter:
    assert rig.meter.store is not None
    return Meter.open(StateFile(rig.meter.store.path, box), rig.clock)


def doc(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_restarted_meter_keeps_everything(stored: Rig, box: AesGcmBox) -> None:
    digits = stored.credit("20")
    stored.enter(digits)
    stored.meter.key_in("45610")
    stored.meter.tamper(TamperCause.EARTH_LEAKAGE_LOW_MAINS)
    stored.enter("1111 2222 3333 4444 5555")
    again = reopen(stored, box)
    assert vars(again.state) == vars(stored.meter.state)
    assert again.enter_token(digits).kind is ResultKind.TAMPER
    assert again.status().lines_id[1] == "PERIKSA"
    again.enter_token(stored.encode(sts.ClearTamper(tid=stored.next_tid())))
    third = reopen(stored, box)
    assert third.enter_token(digits).kind is ResultKind.USED
    assert third.state.credit_kwh == 20
    assert third.state.wrong_entries == 0  # the accepted clear tamper reset the counter


def test_staged_key_change_survives_a_reload(stored: Rig, box: AesGcmBox) -> None:
    new_key = sts.DecoderKey.from_hex("0102030405060708")
    first, second = stored.key_change(new_key, stored.params)
    stored.enter(first)
    again = reopen(stored, box)
    assert again.enter_token(second).kind is ResultKind.KEY_CHANGED
    assert again.state.key == new_key


def test_decoder_key_is_never_in_clear(stored: Rig, state_path: Path) -> None:
    text = state_path.read_text(encoding="utf-8")
    raw = bytes.fromhex(CTS_STA_KEY)
    for form in (CTS_STA_KEY, CTS_STA_KEY.upper(), base64.b64encode(raw).decode(), str(list(raw))):
        assert form not in text
    assert doc(state_path)["decoder_key"]["scheme"] == "AES-256-GCM"
    assert "secret" not in repr(stored.meter.state) and CTS_STA_KEY not in repr(stored.meter.state)


def test_document_format(stored: Rig, state_path: Path) -> None:
    stored.enter(stored.credit("12.5"))
    data = doc(state_path)
    assert (data["format"], data["version"]) == (FORMAT, 1)
    assert data["meter_number"] == METER_NUMBER and data["credit_kwh"] == "12.5"
    assert data["key_parameters"]["krn"] == 1 and len(data["tid_memory"]) == 50
    assert [e["kind"] for e in data["events"][-2:]] == ["token_accepted", "relay_closed"]
    assert data["meter_time"].endswith("+00:00")


def test_wrong_state_key_is_a_typed_error(stored: Rig) -> None:
    with pytest.raises(StateKeyError) as info:
        reopen(stored, AesGcmBox(b"\x01" * 32))
    assert "wrong state key" in info.value.message_en and info.value.message_id


def test_sealed_key_copied_to_another_meter_does_not_open(
    stored: Rig, state_path: Path, box: AesGcmBox, make_rig: MakeRig, tmp_path: Path
) -> None:
    payload = "0123456780"
    other_number = payload + sts.meter_number.calc_check_digit(payload)
    other_path = tmp_path / f"{other_number}.json"
    make_rig(number=other_number, key_hex="0011223344556677", store=StateFile(other_path, box))
    other = doc(other_path)
    other["decoder_key"] = doc(state_path)["decoder_key"]
    other_path.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(StateKeyError):
        StateFile(other_path, box).load()


def test_other_sealing_scheme_is_refused(stored: Rig, state_path: Path, box: AesGcmBox) -> None:
    data = doc(state_path)
    data["decoder_key"]["scheme"] = "ROT13"
    state_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StateKeyError):
        StateFile(state_path, box).load()


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("credit_kwh"),
        lambda d: d.update(credit_kwh="-1"),
        lambda d: d.update(credit_kwh="lots"),
        lambda d: d.update(credit_kwh=12),
        lambda d: d.update(tid_memory=[1, "x"]),
        lambda d: d.update(tid_memory=[1 << 24]),
        lambda d: d.update(relay="half-open"),
        lambda d: d.update(relay="closed", credit_kwh="0"),
        lambda d: d.update(meter_time="yesterday"),
        lambda d: d.update(meter_time="2025-01-01T00:00:00"),
        lambda d: d.update(meter_number="01234567890"),
        lambda d: d.update(tamper=42),
        lambda d: d.update(wrong_entries=True),
        lambda d: d.update(wrong_entries=-1),
        lambda d: d.update(load_watts=-5),
        lambda d: d.update(kct_sections={"5": "1" * 20}),
        lambda d: d.update(kct_sections={"x": "1" * 20}),
        lambda d: d["decoder_key"].update(sealed="***"),
        lambda d: d["key_parameters"].update(krn=12),
        lambda d: d["key_parameters"].update(algorithm="11"),
        lambda d: d["settings"].update(tid_memory_size=0),
        lambda d: d.update(events=[{"at": "2025-01-01T00:00:00+00:00"}]),
    ],
)
def test_damaged_fields_are_reported(stored: Rig, state_path: Path, box: AesGcmBox, damage: Any) -> None:
    data = doc(state_path)
    damage(data)
    state_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises((DamagedStateFile, StateKeyError)) as info:
        StateFile(state_path, box).load()
    assert str(state_path) in info.value.message_en


@pytest.mark.parametrize("content", ["", "{", "not json", '{"format": "prabayar.meter.state"'])
def test_broken_json_is_damaged(state_path: Path, box: AesGcmBox, content: str) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text(content, encoding="utf-8")
    with pytest.raises(DamagedStateFile):
        StateFile(state_path, box).load()


def test_binary_garbage_is_damaged(state_path: Path, box: AesGcmBox) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DamagedStateFile):
        StateFile(state_path, box).load()


@pytest.mark.parametrize(
    "content",
    [
        [],
        {"format": "something.else"},
        {"hello": 1},
        {"format": FORMAT, "version": 2},
        {"format": FORMAT, "version": "1"},
    ],
)
def test_foreign_files_are_refused(state_path: Path, box: AesGcmBox, content: object) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(ForeignStateFile):
        StateFile(state_path, box).load()


def test_missing_file(state_path: Path, box: AesGcmBox) -> None:
    with pytest.raises(StateFileMissing) as info:
        StateFile(state_path, box).load()
    assert "prabayar meter new" in info.value.message_en


def test_a_new_meter_never_replaces_a_file(stored: Rig, state_path: Path, box: AesGcmBox, make_rig: MakeRig) -> None:
    before = state_path.read_bytes()
    with pytest.raises(StateFileExists):
        make_rig(store=StateFile(state_path, box))
    assert state_path.read_bytes() == before


def test_save_refuses_to_overwrite_a_damaged_or_foreign_file(stored: Rig, state_path: Path) -> None:
    state_path.write_text("{oops", encoding="utf-8")
    with pytest.raises(DamagedStateFile):
        stored.enter(stored.credit("1"))
    assert state_path.read_text(encoding="utf-8") == "{oops"
    state_path.write_text(json.dumps({"format": FORMAT, "version": 1, "meter_number": "14312593289"}))
    with pytest.raises(ForeignStateFile) as info:
        stored.meter.key_in("37")
    assert "14312593289" in info.value.message_en
    state_path.write_text(json.dumps({"some": "thing"}))
    with pytest.raises(ForeignStateFile):
        stored.meter.tick()
    assert json.loads(state_path.read_text()) == {"some": "thing"}


def test_write_is_atomic_and_leaves_no_temporary_files(
    stored: Rig, state_path: Path, box: AesGcmBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored.enter(stored.credit("5"))
    before = state_path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk pulled out"):
        stored.enter(stored.credit("5"))
    monkeypatch.undo()
    assert state_path.read_bytes() == before
    assert sorted(p.name for p in state_path.parent.iterdir()) == [state_path.name]
    assert StateFile(state_path, box).load().credit_kwh == 5


def test_box_checks_and_derivation() -> None:
    with pytest.raises(MeterError):
        AesGcmBox(b"short")
    with pytest.raises(MeterError):
        AesGcmBox.from_master_key(b"tiny")
    master = bytes(range(32))
    derived = AesGcmBox.from_master_key(master)
    sealed = derived.seal(b"secret", b"aad")
    assert derived.open(sealed, b"aad") == b"secret"
    with pytest.raises(ValueError):
        AesGcmBox(master).open(sealed, b"aad")  # derived key differs from the master itself
    with pytest.raises(ValueError):
        derived.open(sealed, b"other aad")
    with pytest.raises(ValueError):
        derived.open(b"short", b"aad")
    assert "secret" in repr(derived) and master.hex() not in repr(derived)


def test_a_file_written_before_key_change_in_tamper_existed_loads_with_the_default(
    stored: Rig, state_path: Path, box: AesGcmBox
) -> None:
    data = doc(state_path)
    assert data["settings"]["key_change_in_tamper"] is True
    del data["settings"]["key_change_in_tamper"]
    state_path.write_text(json.dumps(data), encoding="utf-8")
    assert StateFile(state_path, box).load().settings.key_change_in_tamper is True
    data["settings"]["key_change_in_tamper"] = "yes"
    state_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DamagedStateFile):
        StateFile(state_path, box).load()
