"""JIUYE_BUSINESS_DATE (development and `jiuye demo` only): the clock offset the intake gives the
cases it opens."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from pydantic import ValidationError

from contracts.settings import Settings
from streams.app import business_clock_offset


def test_unset_is_the_real_clock() -> None:
    assert business_clock_offset(Settings(_env_file=None)) == 0


def test_the_offset_makes_the_business_day_start_at_the_date() -> None:
    settings = Settings(_env_file=None, business_date=date(2021, 4, 1))
    now = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    offset = business_clock_offset(settings, now)
    # 2021-04-01 00:00 in Shanghai is 2021-03-31 16:00 UTC.
    assert offset == int((datetime(2021, 3, 31, 16, 0, tzinfo=timezone.utc) - now).total_seconds())


def test_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="JIUYE_BUSINESS_DATE"):
        Settings(_env_file=None, env="production", business_date=date(2021, 4, 1))
