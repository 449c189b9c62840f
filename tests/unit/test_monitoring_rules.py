"""Monitoring (§21, §23, §24): the ISO week of a business date, the count keys, the trailing-8-week
surge rule (factor 3/2 strictly exceeded AND at least 100 persons above the mean, shipped
`monitoring.*`), the full-history requirement, and the observer over plain dicts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from activities.memory_store import MemoryStore
from contracts.cases import Fact
from contracts.events import CloudEvent
from policy import monitoring
from policy.pack import load_pack
from streams.monitoring import Monitor, Observation, observation_of, observe

PACK = load_pack()
P = PACK.parameters("2101")
W = "2020-W20"


# -- weeks -----------------------------------------------------------------------------------
def test_week_of_a_date_is_the_iso_week_starting_monday() -> None:
    assert monitoring.iso_week(date(2020, 5, 11)) == "2020-W20"  # Monday
    assert monitoring.iso_week(date(2020, 5, 17)) == "2020-W20"  # Sunday
    assert monitoring.iso_week(date(2020, 5, 18)) == "2020-W21"
    assert monitoring.iso_week(date(2021, 1, 1)) == "2020-W53"  # ISO year, not calendar year
    assert monitoring.week_monday("2020-W20") == date(2020, 5, 11)
    assert monitoring.week_before("2020-W02", 3) == "2019-W51"


def test_count_keys_start_with_the_city_so_a_city_stays_in_one_partition() -> None:
    assert monitoring.day_key("2101", monitoring.UI_CLAIMS, date(2020, 5, 11)) == "2101|ui_claims|day|2020-05-11"
    assert monitoring.week_key("2101", monitoring.UI_CLAIMS, "2020-W20") == "2101|ui_claims|week|2020-W20"


# -- the trailing-8-week rule ------------------------------------------------------------------
def test_trailing_weeks_are_the_8_weeks_before() -> None:
    weeks = monitoring.trailing_weeks(W, P)
    assert weeks[0] == "2020-W12" and weeks[-1] == "2020-W19" and len(weeks) == 8


def test_surge_needs_more_than_mean_times_factor() -> None:
    # mean 200: 1.5 × 200 = 300 must be exceeded (the +100 is met either way).
    trailing = [200] * 8
    assert not monitoring.is_surge(300, trailing, W, P)
    assert monitoring.is_surge(301, trailing, W, P)


def test_surge_needs_at_least_100_persons_above_the_mean() -> None:
    # mean 100: 1.5 × 100 = 150 is passed well before +100 (200) is reached.
    trailing = [100] * 8
    assert not monitoring.is_surge(199, trailing, W, P)
    assert monitoring.is_surge(200, trailing, W, P)  # exactly +100: at least


def test_surge_mean_is_exact_with_missing_weeks_as_zero() -> None:
    trailing = [0, 0, 0, 0, 0, 0, 0, 4]  # mean 1/2
    assert monitoring.trailing_mean(trailing) == Fraction(1, 2)
    assert not monitoring.is_surge(100, trailing, W, P)  # 99.5 above: not 100
    assert monitoring.is_surge(101, trailing, W, P)


def test_full_history_requires_the_first_observed_week_8_weeks_earlier() -> None:
    assert monitoring.has_full_history(W, "2020-W12", P)
    assert not monitoring.has_full_history(W, "2020-W13", P)
    assert not monitoring.has_full_history(W, None, P)


# -- the observer ------------------------------------------------------------------------------
def ev(type_: str, data: dict[str, Any], n: int) -> CloudEvent:
    return CloudEvent(
        specversion="1.0", id=f"e{n}", source="reg/2101", type=type_, subject="person/P1",
        # Processed "now": the date in the data decides, never this.
        time=datetime(2021, 6, 1, tzinfo=timezone.utc), data=data,
    )


def registration(n: int, on: date, city: str = "2101") -> CloudEvent:
    return ev("unemployment.registered", {"person_id": f"P{n}", "city": city, "registered_on": on.isoformat(),
                                         "birth_date": "1980-01-01", "retirement_date": "2040-01-01"}, n)


def test_which_events_count_and_on_which_date() -> None:
    reg = observation_of(registration(1, date(2020, 5, 12)))
    assert reg is not None and (reg.city, reg.metric, reg.on, reg.persons) == ("2101", monitoring.UNEMPLOYMENT_REGISTRATIONS, date(2020, 5, 12), 1)
    claim = observation_of(ev("ui.claim.filed", {"person_id": "P1", "city": "2102", "claim_on": "2020-05-13", "insured_months": 20,
                                                 "involuntary": True, "retirement_date": "2040-01-01"}, 2))
    assert claim is not None and (claim.city, claim.metric, claim.on) == ("2102", monitoring.UI_CLAIMS, date(2020, 5, 13))
    closure = observation_of(ev("enterprise.closure_reported", {"enterprise_id": "E1", "city": "2103", "on": "2020-05-14", "kind": "shutdown"}, 3))
    assert closure is not None and closure.persons == 0 and closure.closure_kind == "shutdown"
    assert observation_of(ev("followup.recorded", {"person_id": "P1", "on": "2020-05-14", "channel": "phone"}, 4)) is None


def test_layoff_executed_counts_its_persons_in_the_city_of_the_enterprise_facts() -> None:
    executed = ev("layoff.executed", {"enterprise_id": "E1", "on": "2020-05-14", "person_ids": ["P1", "P2", "P3"]}, 5)
    assert observation_of(executed) is None  # no city known: not counted
    plan = Fact(key="enterprise/E1", type="layoff.plan_filed", on_date=None, payload={"city": "2104"},
                event_time=datetime(2020, 4, 1, tzinfo=timezone.utc), event_key="hr#1")
    obs = observation_of(executed, [plan])
    assert obs is not None and (obs.city, obs.metric, obs.persons) == ("2104", monitoring.LAYOFFS_EXECUTED, 3)


async def test_dead_letters_are_not_counted_duplicates_are_passed_on() -> None:
    store = MemoryStore()
    assert await observe(registration(1, date(2020, 5, 12)), "dead_letter", store) is None
    assert await observe(registration(1, date(2020, 5, 12)), "duplicate", store) is not None


def obs(n: int, on: date, persons: int = 1, city: str = "2101", metric: str = monitoring.UNEMPLOYMENT_REGISTRATIONS) -> Observation:
    return Observation(city=city, metric=metric, on=on, persons=persons, event_key=f"src#{n}")


MON = date(2020, 3, 2)  # 2020-W10


async def fill(monitor: Monitor, weeks: int, per_week: int, start: int = 0) -> None:
    for k in range(weeks):
        await monitor.apply(obs(start + k, MON + timedelta(weeks=k), per_week))


async def test_surge_alert_once_per_city_metric_and_week() -> None:
    store = MemoryStore()
    monitor = Monitor(PACK, {}, {}, store)
    await fill(monitor, 8, 10)  # W10..W17: 10 a week, mean 10
    raised = await monitor.apply(obs(100, MON + timedelta(weeks=8), 110))  # W18: 110 > 15 and +100
    assert [a.alert_id for a in raised] == ["surge/2101/unemployment_registrations/2020-W18"]
    assert await monitor.apply(obs(101, MON + timedelta(weeks=8, days=2), 5)) == []  # same week: once
    assert [a["alert_id"] for a in store.alerts] == ["surge/2101/unemployment_registrations/2020-W18"]
    assert store.alerts[0]["on"] == "2020-04-27" and store.alerts[0]["details"]["persons"] == 110


async def test_surge_not_judged_without_8_weeks_of_history() -> None:
    store = MemoryStore()
    monitor = Monitor(PACK, {}, {}, store)
    await fill(monitor, 7, 10)  # W10..W16
    assert await monitor.apply(obs(100, MON + timedelta(weeks=7), 500)) == []  # W17: first week only 7 weeks before


async def test_late_event_counts_in_its_own_week() -> None:
    store = MemoryStore()
    monitor = Monitor(PACK, {}, {}, store)
    await fill(monitor, 9, 10)  # W10..W18
    # Arrives after W18 was counted, but happened in W14.
    await monitor.apply(obs(200, MON + timedelta(weeks=4, days=3), 7))
    assert monitor.count("2101", monitoring.UNEMPLOYMENT_REGISTRATIONS, "2020-W14") == 17
    assert monitor.count("2101", monitoring.UNEMPLOYMENT_REGISTRATIONS, "2020-W18") == 10
    assert monitor.counts["2101|unemployment_registrations|day|2020-04-02"] == 7
    # A late burst dated in W18 (processed after W18's other events) makes W18 surge: W18 is
    # judged on its own trailing weeks W10..W17 (mean (70 + 7) / 8), not on processing time.
    raised = await monitor.apply(obs(201, MON + timedelta(weeks=8, days=1), 120))
    assert [a.alert_id for a in raised] == ["surge/2101/unemployment_registrations/2020-W18"]
    assert raised[0].details["persons"] == 130


async def test_history_arriving_after_the_surge_week_still_alerts() -> None:
    """Out of order: the surge week first, its trailing weeks after; when the city's first week
    moves earlier every known week is judged again."""
    store = MemoryStore()
    monitor = Monitor(PACK, {}, {}, store)
    assert await monitor.apply(obs(100, MON + timedelta(weeks=8), 150)) == []
    await fill(monitor, 8, 10)
    assert [a["alert_id"] for a in store.alerts] == ["surge/2101/unemployment_registrations/2020-W18"]


async def test_an_observation_is_counted_once() -> None:
    store = MemoryStore()
    monitor = Monitor(PACK, {}, {}, store)
    await monitor.apply(obs(1, MON, 3))
    await monitor.apply(obs(1, MON, 3))  # redelivered
    assert monitor.count("2101", monitoring.UNEMPLOYMENT_REGISTRATIONS, "2020-W10") == 3


async def test_every_enterprise_closure_alerts_its_city() -> None:
    store = MemoryStore()
    monitor = Monitor(PACK, {}, {}, store)
    closure = observation_of(ev("enterprise.closure_reported",
                                {"enterprise_id": "E1", "city": "2103", "on": "2020-05-14", "kind": "merger", "affected_persons": 40}, 9))
    assert closure is not None
    (alert,) = await monitor.apply(closure)
    assert (alert.alert_id, alert.kind, alert.city, alert.on_date) == ("mass_unemployment/closure/reg/2101/e9", "mass_unemployment", "2103", date(2020, 5, 14))
    assert await monitor.apply(closure) == []
