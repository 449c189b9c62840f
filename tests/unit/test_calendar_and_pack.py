"""`policy/calendar.py` (POLICY.md conventions on dates) and `policy/pack.py` (parameters,
city overrides, dated changes)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from contracts.parameters import Change, Parameters, UnknownParameter
from policy.calendar import (
    SHANGHAI,
    add_months,
    business_date,
    days_between,
    first_of_month,
    month_of,
    month_window,
    start_of_day,
    within_years_of,
)
from policy.pack import PolicyPack, load_pack

D = date


# --- calendar ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2020, 1, 31), 1, D(2020, 2, 29)),  # leap February clamps to the 29th
        (D(2021, 1, 31), 1, D(2021, 2, 28)),  # common February to the 28th
        (D(2020, 2, 29), 12, D(2021, 2, 28)),
        (D(2020, 2, 29), 48, D(2024, 2, 29)),
        (D(2020, 3, 31), 1, D(2020, 4, 30)),
        (D(2020, 1, 31), 2, D(2020, 3, 31)),  # from the start, not from the clamped Feb 29
        (D(2020, 11, 15), 2, D(2021, 1, 15)),  # across a year end
        (D(2020, 3, 31), -1, D(2020, 2, 29)),  # backwards clamps too
        (D(2020, 5, 6), 0, D(2020, 5, 6)),
    ],
)
def test_add_months_is_the_same_day_clamped_to_a_shorter_month(day: date, months: int, expected: date) -> None:
    """POLICY.md conventions: "Month n of a period that starts on day D is [D + (n-1) months, D + n months)"."""
    assert add_months(day, months) == expected


def test_month_window_is_n_minus_1_to_n_months_from_the_start() -> None:
    """POLICY.md conventions: month n = [D + (n-1) months, D + n months)."""
    assert month_window(D(2020, 1, 31), 1) == (D(2020, 1, 31), D(2020, 2, 29))
    assert month_window(D(2020, 1, 31), 2) == (D(2020, 2, 29), D(2020, 3, 31))


@pytest.mark.parametrize(
    ("retirement", "day", "years", "within"),
    [
        (D(2025, 6, 30), D(2020, 6, 30), 5, True),  # exactly 5 years: retirement − date = 5 years
        (D(2025, 7, 1), D(2020, 6, 30), 5, False),  # a day more than 5 years
        (D(2025, 6, 29), D(2020, 6, 30), 5, True),
        (D(2021, 2, 28), D(2020, 2, 29), 1, True),  # leap day + 1 year = 2021-02-28
        (D(2021, 3, 1), D(2020, 2, 29), 1, False),
        (D(2020, 1, 1), D(2020, 6, 30), 1, True),  # already past retirement
    ],
)
def test_within_years_of_retirement_is_inclusive(retirement: date, day: date, years: int, within: bool) -> None:
    """POLICY.md conventions: "Within k years of retirement" means `retirement_date - date <= k years`."""
    assert within_years_of(retirement, day, years) is within


def test_business_date_is_the_shanghai_day() -> None:
    """POLICY.md conventions: "Dates are business dates in Asia/Shanghai"."""
    # 2020-03-01 16:30 UTC is already 2020-03-02 00:30 in Shanghai.
    assert business_date(datetime(2020, 3, 1, 16, 30, tzinfo=timezone.utc)) == D(2020, 3, 2)
    assert business_date(datetime(2020, 3, 1, 15, 59, tzinfo=timezone.utc)) == D(2020, 3, 1)
    assert start_of_day(D(2020, 3, 2)) == datetime(2020, 3, 1, 16, 0, tzinfo=timezone.utc)
    assert start_of_day(D(2020, 3, 2)).utcoffset() == timedelta(hours=8) and SHANGHAI.utcoffset(None) == timedelta(hours=8)


def test_months_and_day_counts() -> None:
    assert month_of(D(2020, 3, 2)) == "2020-03"
    assert first_of_month("2020-02") == D(2020, 2, 1)
    assert days_between(D(2020, 2, 1), D(2020, 3, 1)) == 29


# --- policy pack ------------------------------------------------------------------------------
def test_pack_ships_the_k1_defaults_of_policy_md() -> None:
    """POLICY.md shipped defaults: internship.monthly_subsidy 120000 fen, cohorts 2020/2021,
    months 3..12, full_subsidy_until 2020-12-31."""
    params = load_pack().parameters("2101")
    assert params.get("internship.monthly_subsidy") == 120000
    assert params.get("internship.cohorts") == [2020, 2021]
    assert (params.get("internship.months_min"), params.get("internship.months_max")) == (3, 12)
    assert params.day("internship.full_subsidy_until") == D(2020, 12, 31)


def test_pack_city_override_wins_for_that_city_only() -> None:
    """POLICY.md: "Cities (tenant key; each has its own parameters)"."""
    base = load_pack()
    pack = PolicyPack(name=base.name, defaults=base.defaults, cities={"2102": {"internship.monthly_subsidy": 150000}})
    assert pack.value("internship.monthly_subsidy", "2102") == 150000
    assert pack.value("internship.monthly_subsidy", "2101") == 120000
    assert pack.value("internship.monthly_subsidy", None) == 120000


def test_dated_change_value_before_and_on_the_effective_date() -> None:
    """POLICY.md shared facts: "a city's parameter can change from an effective date; a case
    uses the value in force on the date of each payment's period start"."""
    params = load_pack().parameters("2101").with_change("internship.monthly_subsidy", 150000, D(2020, 7, 1))
    assert params.get("internship.monthly_subsidy", D(2020, 6, 30)) == 120000
    assert params.get("internship.monthly_subsidy", D(2020, 7, 1)) == 150000
    assert params.get("internship.monthly_subsidy", D(2020, 12, 1)) == 150000


def test_dated_changes_apply_in_effective_order_whatever_order_they_arrive_in() -> None:
    """POLICY.md shared facts: the value in force is the latest change on or before the date."""
    params = (
        load_pack()
        .parameters("2101")
        .with_change("internship.monthly_subsidy", 170000, D(2020, 9, 1))
        .with_change("internship.monthly_subsidy", 150000, D(2020, 7, 1))
    )
    assert [params.get("internship.monthly_subsidy", d) for d in (D(2020, 6, 1), D(2020, 7, 1), D(2020, 8, 31), D(2020, 9, 1))] == [
        120000, 150000, 150000, 170000,
    ]


def test_dated_change_on_the_same_date_replaces_the_earlier_one() -> None:
    """A corrected change with the same effective date replaces the first (pack.with_change)."""
    params = (
        load_pack()
        .parameters("2101")
        .with_change("internship.monthly_subsidy", 150000, D(2020, 7, 1))
        .with_change("internship.monthly_subsidy", 140000, D(2020, 7, 1))
    )
    assert params.get("internship.monthly_subsidy", D(2020, 7, 1)) == 140000
    assert len(params.values["internship.monthly_subsidy"]) == 2  # the default and one change


def test_with_change_leaves_the_original_snapshot_untouched() -> None:
    """A running case holds a snapshot; a change makes a new one (Parameters is frozen data)."""
    original = load_pack().parameters("2101")
    original.with_change("internship.monthly_subsidy", 150000, D(2020, 7, 1))
    assert original.get("internship.monthly_subsidy", D(2020, 8, 1)) == 120000


def test_unknown_parameter_raises() -> None:
    params = load_pack().parameters("2101")
    with pytest.raises(UnknownParameter):
        params.get("internship.no_such_thing")
    with pytest.raises(UnknownParameter):
        params.with_change("internship.no_such_thing", 1, D(2020, 1, 1))


def test_pack_rejects_city_overrides_of_unknown_parameters(tmp_path, monkeypatch) -> None:
    """load_pack refuses a city override that names no default (a typo would otherwise be ignored)."""
    import policy.pack as pack_module

    text = '[pack]\nname = "t"\n[defaults]\n"a" = 1\n[cities."2101"]\n"b" = 2\n'

    class _Files:
        def joinpath(self, *parts: str) -> "_Files":
            return self

        def read_text(self, encoding: str) -> str:
            return text

    monkeypatch.setattr("policy.pack.resources.files", lambda _: _Files())
    with pytest.raises(UnknownParameter):
        pack_module.load_pack("t")


def test_parameters_round_trip_as_plain_data() -> None:
    """A Parameters snapshot crosses the Temporal boundary (pydantic JSON) unchanged."""
    params = load_pack().parameters("2101").with_change("internship.monthly_subsidy", 150000, D(2020, 7, 1))
    again = Parameters.model_validate_json(params.model_dump_json())
    assert again.get("internship.monthly_subsidy", D(2020, 7, 1)) == 150000
    assert again.values["internship.monthly_subsidy"][0] == Change(effective_on=None, value=120000)


# --- quarters (POLICY.md part 2: K13 interest periods and K18 settlements are `YYYY-Qn`) -------
@pytest.mark.parametrize(("day", "quarter", "start", "end"), [
    (D(2020, 1, 1), "2020-Q1", D(2020, 1, 1), D(2020, 4, 1)),
    (D(2020, 3, 31), "2020-Q1", D(2020, 1, 1), D(2020, 4, 1)),
    (D(2020, 4, 1), "2020-Q2", D(2020, 4, 1), D(2020, 7, 1)),
    (D(2020, 12, 31), "2020-Q4", D(2020, 10, 1), D(2021, 1, 1)),
])
def test_a_day_falls_in_its_calendar_quarter(day: date, quarter: str, start: date, end: date) -> None:
    from policy.calendar import quarter_end, quarter_of, quarter_start

    assert quarter_of(day) == quarter
    assert (quarter_start(quarter), quarter_end(quarter)) == (start, end)


def test_month_end_and_as_date() -> None:
    from contracts.events import as_date
    from policy.calendar import month_end

    assert (month_end("2020-02"), month_end("2021-02"), month_end("2020-12")) == (D(2020, 2, 29), D(2021, 2, 28), D(2020, 12, 31))
    assert as_date("2020-03-01") == as_date(D(2020, 3, 1)) == D(2020, 3, 1)
