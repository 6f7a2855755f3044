"""Fixtures shared by the ember.cost tests."""

from __future__ import annotations

import pytest

from ember.cost.table import PriceTable, bundled_table


@pytest.fixture(scope="session")
def bundled() -> PriceTable:
    """The price table that ships with Ember (parsed once; PriceTable is never mutated)."""
    return bundled_table()
