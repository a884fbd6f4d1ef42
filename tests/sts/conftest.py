"""Shared fixtures for the token engine tests: the conformance vectors (a copy kept in the repo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS_FILE = Path(__file__).resolve().parents[1] / "vectors" / "vectors.json"


def load_vectors() -> list[dict[str, Any]]:
    """Every entry of tests/vectors/vectors.json."""
    data: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def vectors() -> list[dict[str, Any]]:
    return load_vectors()
