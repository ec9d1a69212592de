"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from al_core.store.records import IterationRecord
from tests.unit.records import three_versions


@pytest.fixture
def three() -> list[IterationRecord]:
    return three_versions()
