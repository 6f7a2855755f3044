"""ISO times shown and returned by the API never come out later than the stored ns time, so a
time read back from a row and sent again as a lower bound still includes that row."""

from __future__ import annotations

from datetime import datetime

import pytest

from ember.model import iso_time

NS_TIMES = [
    0,
    1_700_000_000_000_000_000,
    1_700_000_000_123_456_789,
    1_700_000_000_999_999_999,  # through a float this rounds up to the next second
    1_764_000_000_000_000_999,
    1_999_999_999_999_999_999,
]


@pytest.mark.parametrize("unix_nano", NS_TIMES)
def test_iso_time_is_the_time_cut_to_the_microsecond(unix_nano: int) -> None:
    text = iso_time(unix_nano)
    assert text.endswith("+00:00")
    moment = datetime.fromisoformat(text)
    whole_seconds = int(moment.replace(microsecond=0).timestamp())
    back = whole_seconds * 1_000_000_000 + moment.microsecond * 1000
    assert back == unix_nano - unix_nano % 1000
