"""POLICY.md part 2 "Funds, budgets and forecasts (§22)": a case's schedule (what it owes and has
not paid), the forecast as the sum of open cases' schedules, spend (instructed and not returned),
budgets replaced by a later `fund.budget_set`, and the `fund_shortfall` alert naming the month the
budget runs out. On the in-memory store `jiuye simulate` runs on (the PostgreSQL store's twin:
tests/e2e/test_forecast_store.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from activities.forecast_desk import check_shortfall, fund_forecasts
from activities.memory_store import MemoryStore
from activities.store import BudgetRow
from contracts.cases import ScheduleLine, ScheduleRecord
from contracts.events import parse_event
from policy import forecast
from policy.corrections import LedgerEntry, Owed
from policy.disbursement import Disbursement, Due
from policy.pack import load_pack
from streams.routing import SetBudget, route

UI = "ui_fund"
T0 = datetime(2020, 1, 10, tzinfo=timezone.utc)


def owed(period: str, amount: int, due_on: date, program: str = "ui_benefit") -> Owed:
    return Owed(program=program, period=period, amount=amount, fund=UI, payee="person/P1", due_on=due_on, rule="r")


def paid(period: str, amount: int, entry: str = "payment", program: str = "ui_benefit") -> LedgerEntry:
    return LedgerEntry(program=program, period=period, entry=entry, amount=amount, fund=UI, payee="person/P1",  # type: ignore[arg-type]
                       due_on=date(2020, 1, 1), rule="r")


def test_a_case_schedule_is_what_it_owes_and_has_not_paid() -> None:
    """Paid periods drop out, arrears still owed on a paid period stay (as the difference), a period
    already due but unpaid (a held case) falls due today, an overpaid one forecasts nothing."""
    today = date(2020, 3, 15)
    lines = forecast.schedule(
        [owed("month-1", 150000, date(2020, 1, 1)), owed("month-2", 170000, date(2020, 2, 1)),
         owed("month-3", 150000, date(2020, 3, 1)), owed("month-4", 150000, date(2020, 4, 1)),
         owed("month-5", 0, date(2020, 5, 1))],
        [paid("month-1", 150000), paid("month-2", 150000), paid("month-5", 150000)],
        today,
    )
    assert [(s.period, s.amount, s.due_on) for s in lines] == [
        ("month-2", 20000, today), ("month-3", 150000, today), ("month-4", 150000, date(2020, 4, 1))]
    assert [s.month for s in lines] == ["2020-03", "2020-03", "2020-04"]


def test_fund_shortfall_names_the_month_the_budget_runs_out() -> None:
    """Spend for the months so far, the forecast from this month on: the first month the running
    total passes the budget; none when the year fits."""
    spend = {"2020-01": 100, "2020-02": 100, "2020-03": 50}
    plan = {"2020-03": 50, "2020-04": 100, "2020-05": 100, "2020-06": 100}
    today = date(2020, 3, 20)
    assert forecast.run_out(449, spend, plan, 2020, today) == "2020-05"
    assert forecast.run_out(500, spend, plan, 2020, today) == "2020-06"
    assert forecast.run_out(600, spend, plan, 2020, today) is None
    # What was spent in a month before today's is not forecast again, nor is a stale forecast of it.
    assert forecast.run_out(300, spend, {**plan, "2020-02": 1000}, 2020, today) == "2020-04"


def schedule(case_id: str, city: str, *lines: tuple[str, int, date]) -> ScheduleRecord:
    return ScheduleRecord(case_id=case_id, kind="unemployment_insurance", city=city, on=date(2020, 3, 1),
                          lines=[ScheduleLine(program="ui_benefit", period=p, amount=a, fund=UI, due_on=d) for p, a, d in lines])


async def test_forecast_is_the_sum_of_open_case_schedules() -> None:
    """Two open cases of one city sum per month; a case whose schedule is replaced counts only its
    new one, a closed case (empty schedule) nothing; another city stays apart."""
    store = MemoryStore()
    await store.record_schedule(schedule("c1", "2101", ("m1", 100, date(2020, 4, 1)), ("m2", 100, date(2020, 5, 1))))
    await store.record_schedule(schedule("c2", "2101", ("m1", 30, date(2020, 4, 3))))
    await store.record_schedule(schedule("c3", "2101", ("m1", 999, date(2020, 4, 3))))
    await store.record_schedule(schedule("c3", "2101"))  # closed
    await store.record_schedule(schedule("c2", "2101", ("m1", 40, date(2020, 4, 3)), ("m2", 40, date(2021, 1, 3))))
    await store.record_schedule(schedule("c4", "2102", ("m1", 7, date(2020, 4, 1))))
    (figures,) = await fund_forecasts(store, 2020, date(2020, 3, 20), city="2101")
    by_month = {m.month: m.forecast for m in figures.months if m.forecast}
    assert by_month == {"2020-04": 140, "2020-05": 100}
    assert figures.forecast == 240 and figures.budget is None and figures.runs_out is None


def disbursed(n: int, status: str, on: date, amount: int, city: str = "2101") -> Disbursement:
    due = Due(ledger_key=f"c{n}|ui_benefit|month-{n}|payment|0", case_id=f"c{n}", payee="person/P1", fund=UI, city=city,
              amount=amount, due_on=on)
    return Disbursement(due=due, status=status, since=on, attempt=1, instructed_on=on)  # type: ignore[arg-type]


async def test_spend_is_what_was_instructed_and_not_returned_in_the_year() -> None:
    store = MemoryStore()
    for d in (disbursed(1, "instructed", date(2020, 2, 3), 100), disbursed(2, "settled", date(2020, 2, 4), 50),
              disbursed(3, "returned", date(2020, 2, 5), 70), disbursed(4, "settled", date(2019, 12, 30), 90),
              disbursed(5, "settled", date(2020, 3, 1), 10, city="2102")):
        store.disbursement_states[d.due.ledger_key] = d
    (figures,) = await fund_forecasts(store, 2020, date(2020, 3, 20), city="2101")
    assert figures.spend == 150 and {m.month: m.spend for m in figures.months if m.spend} == {"2020-02": 150}


async def test_a_later_fund_budget_set_replaces_the_budget_whatever_the_arrival_order() -> None:
    store = MemoryStore()
    later = BudgetRow("2101", UI, 2020, 500, "budget#2", T0 + timedelta(days=1))
    earlier = BudgetRow("2101", UI, 2020, 900, "budget#1", T0)
    assert await store.set_budget(later)
    assert not await store.set_budget(earlier)
    assert await store.set_budget(later)  # redelivered: still the one that stands
    assert [b.amount for b in await store.budgets("2101", UI, 2020)] == [500]
    assert await store.budgets("2101", UI, 2021) == []


async def test_fund_shortfall_is_raised_once_per_run_out_month_and_again_when_the_month_moves() -> None:
    store = MemoryStore()
    await store.record_schedule(schedule("c1", "2101", *((f"m{n}", 100, date(2020, n, 1)) for n in range(4, 13))))
    await store.set_budget(BudgetRow("2101", UI, 2020, 450, "budget#1", T0))
    today = date(2020, 3, 20)
    first = await check_shortfall(store, "2101", UI, 2020, today)
    assert first is not None and first.details["runs_out"] == "2020-08" and first.kind == forecast.FUND_SHORTFALL
    assert first.details["budget"] == 450 and first.details["forecast"] == 900 and first.city == "2101"
    assert await check_shortfall(store, "2101", UI, 2020, today) is None  # same month: once
    await store.record_schedule(schedule("c2", "2101", ("m1", 200, date(2020, 4, 2))))
    moved = await check_shortfall(store, "2101", UI, 2020, today)
    assert moved is not None and moved.details["runs_out"] == "2020-06"
    assert [a["details"]["runs_out"] for a in store.alerts] == ["2020-08", "2020-06"]
    await store.set_budget(BudgetRow("2101", UI, 2020, 10_000, "budget#2", T0 + timedelta(days=1)))
    assert await check_shortfall(store, "2101", UI, 2020, today) is None


def test_fund_budget_set_is_stored_as_a_budget_by_no_case() -> None:
    raw = json.dumps({"specversion": "1.0", "id": "b1", "source": "finance/2101", "type": "fund.budget_set",
                      "subject": "city/2101", "time": "2020-01-02T09:00:00+08:00",
                      "data": {"city": "2101", "fund": UI, "year": 2020, "amount": 500000000}}).encode()
    assert route(parse_event(raw), [], load_pack()) == [SetBudget(city="2101", fund=UI, year=2020, amount=500000000)]


def budget_event(ident: str, amount: int, time: str) -> bytes:
    return json.dumps({"specversion": "1.0", "id": ident, "source": "finance/2101", "type": "fund.budget_set",
                       "subject": "city/2101", "time": time,
                       "data": {"city": "2101", "fund": UI, "year": 2020, "amount": amount}}).encode()


async def test_fund_budget_set_through_the_intake_sets_the_budget_and_judges_the_shortfall_at_once() -> None:
    """The intake stores the budget and raises `fund_shortfall` on it (no case is involved, so the
    gateway to Temporal is never called: None stands for it); an earlier budget arriving later is
    not taken, a redelivered one is a duplicate. On 3 January the January line (due the 1st) is
    behind: February to August at 100 each pass 650 in August."""
    from activities.store import Origin
    from app.simulate import ListSink
    from streams.intake import Intake

    store = MemoryStore()
    await store.record_schedule(schedule("c1", "2101", *((f"m{n}", 100, date(2020, n, 1)) for n in range(1, 13))))
    intake = Intake(store, None, ListSink(), load_pack())
    later = await intake.handle(budget_event("b2", 650, "2020-01-03T09:00:00+08:00"), Origin(topic="policy.events", offset=1))
    assert later.status == "applied" and "fund_shortfall: runs out 2020-08" in later.detail
    earlier = await intake.handle(budget_event("b1", 5000, "2020-01-02T09:00:00+08:00"), Origin(topic="policy.events", offset=2))
    assert "a later one stands" in earlier.detail
    again = await intake.handle(budget_event("b2", 650, "2020-01-03T09:00:00+08:00"), Origin(topic="policy.events", offset=3))
    assert again.status == "duplicate"
    assert [b.amount for b in await store.budgets("2101", UI, 2020)] == [650]
    assert [a["alert_id"] for a in store.alerts] == ["fund_shortfall:2101:ui_fund:2020:2020-08"]
