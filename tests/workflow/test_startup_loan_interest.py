"""K13 startup_loan_interest (创业担保贷款贴息, §2, §13, §15) on Temporal's time-skipping server,
through the intake as in production. Each test is named after the POLICY.md rule it guards.

Amounts by hand from the shipped defaults (loan.borrower_bp_below_lpr 150, loan.rate_cap_over_lpr_bp
150, loan.max_subsidized_loans 3, loan.individual_max 20,000,000 fen, loan.extension_max_months 12,
loan.extension_window_until 2020-12-31): with LPR 385 bp and rate 485 bp the subsidy pays
485 − (385 − 150) = 250 bp of the 485 charged.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

import app.simulate
from contracts.cases import TaskDecision
from policy.corrections import WORTH_SIGN
from streams.intake import Outcome
from tests.workflow._order_independence import Event, deliver
from tests.workflow.harness import World, world

PROGRAM = "loan_interest_subsidy"
FUND = "inclusive_finance_fund"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


async def grant(w: World, loan: str, borrower: str = "P1", on: date = date(2020, 4, 1), *, kind: str = "individual",
                principal: int = 10_000_000, term: int = 24, groups: list[str] | None = None, bank: str = "B1") -> Outcome:
    subject = f"{'person' if kind == 'individual' else 'enterprise'}/{borrower}"
    data: dict[str, Any] = {"loan_id": loan, "bank_id": bank, "borrower": borrower, "borrower_kind": kind, "city": "2101",
                            "principal": principal, "rate_bp": 485, "lpr_bp": 385, "granted_on": on.isoformat(),
                            "term_months": term, "groups": ["graduate"] if groups is None else groups}
    return await w.send("loan.granted", data, on, subject=subject)


async def interest(w: World, loan: str, period: str, start: date, end: date, amount: int, day: date,
                   borrower: str = "person/P1") -> Outcome:
    return await w.send("loan.interest_charged", {"loan_id": loan, "period": period, "from": start.isoformat(),
                                                  "to": end.isoformat(), "interest": amount}, day, subject=borrower)


async def loan_event(w: World, type_: str, loan: str, on: date, day: date | None = None, **more: Any) -> Outcome:
    return await w.send(type_, {"loan_id": loan, "on": on.isoformat(), **more}, day or on, subject="person/P1")


def key(outcome: Outcome) -> str:
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


def rows(w: World, case: str) -> list[tuple[str, str, int, date, str | None]]:
    return [(p.period, p.entry, p.amount, p.due_on, p.cause) for p in
            sorted(w.payments(case), key=lambda p: (p.due_on, p.period, p.entry, p.seq))]


def net(w: World, case: str) -> dict[str, int]:
    total: dict[str, int] = {}
    for p in w.payments(case):
        total[p.period] = total.get(p.period, 0) + WORTH_SIGN[p.entry] * p.amount
    return total


async def test_k13_worked_example_pays_62500_to_the_lending_bank(env: WorkflowEnvironment) -> None:
    """Worked example: LPR 385 bp, rate 485 bp, interest 121,250 fen → 62,500 fen, paid to the
    lending bank (`bank/<id>`), program `loan_interest_subsidy`, period `YYYY-Qn`, fund
    `inclusive_finance_fund`."""
    async with world(env, date(2020, 3, 30)) as w:
        await grant(w, "L1")
        await interest(w, "L1", "2020-Q2", date(2020, 4, 1), date(2020, 6, 30), 121_250, date(2020, 7, 2))
        case = "loan/B1/L1"
        assert [(p.payee, p.program, p.period, p.amount, p.fund, p.due_on) for p in w.payments(case)] == [
            ("bank/B1", PROGRAM, "2020-Q2", 62_500, FUND, date(2020, 7, 2)),
        ]
        assert w.status(case) == "active"


async def test_k13_an_individual_outside_the_startup_groups_or_over_the_principal_is_rejected(env: WorkflowEnvironment) -> None:
    """Eligible, else `rejected` with nothing paid: an individual in a startup group, principal ≤
    `loan.individual_max`."""
    async with world(env, date(2020, 3, 30)) as w:
        await grant(w, "L2", borrower="P2", groups=[])
        await grant(w, "L3", borrower="P3", principal=20_000_001)
        await interest(w, "L2", "2020-Q2", date(2020, 4, 1), date(2020, 6, 30), 121_250, date(2020, 7, 2), borrower="person/P2")
        assert (w.status("loan/B1/L2"), w.status("loan/B1/L3")) == ("rejected", "rejected")
        assert w.payments("loan/B1/L2") == w.payments("loan/B1/L3") == []


async def test_k13_a_micro_or_small_enterprise_on_file_is_eligible_one_not_on_file_is_not(env: WorkflowEnvironment) -> None:
    """...or a micro or small enterprise (its registration), principal ≤ `loan.enterprise_max`."""
    async with world(env, date(2020, 3, 30)) as w:
        await w.send("enterprise.registered", {"enterprise_id": "E1", "city": "2101", "industry": "catering", "size": "small"},
                     date(2020, 3, 30), subject="enterprise/E1")
        await grant(w, "L4", borrower="E1", kind="small_enterprise", principal=200_000_000, groups=[])
        await grant(w, "L5", borrower="E2", kind="small_enterprise", principal=200_000_000, groups=[])
        assert (w.status("loan/B1/L4"), w.status("loan/B1/L5")) == ("active", "rejected")


async def test_k13_fewer_than_max_subsidized_loans_earlier_loans_not_rejected(env: WorkflowEnvironment) -> None:
    """fewer than `loan.max_subsidized_loans` earlier loans of the same borrower that were not
    rejected (累计次数不得超过3次): a rejected loan takes no slot; the fourth eligible one is refused."""
    async with world(env, date(2020, 3, 30)) as w:
        await grant(w, "M0", borrower="P9", principal=30_000_000)  # over the cap: rejected, no slot
        for n in range(1, 5):
            await grant(w, f"M{n}", borrower="P9", on=date(2020, 4, n), bank=f"B{n}")
        statuses = [w.status(c) for c in ("loan/B1/M0", "loan/B1/M1", "loan/B2/M2", "loan/B3/M3", "loan/B4/M4")]
        assert statuses == ["rejected", "active", "active", "active", "rejected"]
        closing = (await w.view("loan/B4/M4")).timeline[-1]
        assert closing.what == "closed rejected" and "already has 3 subsidised loans" in (closing.rule or "")


async def test_k13_a_period_running_past_the_term_is_paid_pro_rata_and_one_wholly_after_pays_nothing(env: WorkflowEnvironment) -> None:
    """A period that runs past the end of the subsidised term is paid pro rata by days inside it
    (floor); a period wholly after it pays nothing; the term over and its last period paid →
    `completed`."""
    async with world(env, date(2020, 4, 30)) as w:
        await grant(w, "L6", on=date(2020, 5, 1), term=3)  # term [2020-05-01, 2020-08-01)
        await interest(w, "L6", "2020-Q2", date(2020, 5, 1), date(2020, 6, 30), 80_000, date(2020, 7, 2))
        await interest(w, "L6", "2020-Q3", date(2020, 7, 1), date(2020, 9, 30), 92_000, date(2020, 10, 2))
        case = "loan/B1/L6"
        # Q2: floor(80000 × 250 / 485) = 41237; Q3: 31 of 92 days inside: floor(92000 × 250 × 31 / (485 × 92)) = 15979.
        assert rows(w, case) == [("2020-Q2", "payment", 41_237, date(2020, 7, 2), None),
                                 ("2020-Q3", "payment", 15_979, date(2020, 10, 2), None)]
        assert w.status(case) == "completed"


async def test_k13_an_epidemic_extension_in_time_lengthens_the_subsidised_term(env: WorkflowEnvironment) -> None:
    """Extension (展期) with reason `epidemic`, requested on or before `loan.extension_window_until`:
    the subsidised term grows by those months; any other extension is noted and not subsidised."""
    async with world(env, date(2020, 4, 30)) as w:
        await grant(w, "L7", on=date(2020, 5, 1), term=3)  # term [2020-05-01, 2020-08-01)
        await loan_event(w, "loan.extended", "L7", date(2020, 7, 20), months=6, reason="epidemic")
        await loan_event(w, "loan.extended", "L7", date(2020, 7, 21), months=3, reason="other")
        await interest(w, "L7", "2020-Q3", date(2020, 7, 1), date(2020, 9, 30), 92_000, date(2020, 10, 2))
        case = "loan/B1/L7"
        # Term until 2021-02-01: Q3 is wholly inside: floor(92000 × 250 / 485) = 47422 (15979 without the extension).
        assert rows(w, case) == [("2020-Q3", "payment", 47_422, date(2020, 10, 2), None)]
        assert (await w.view(case)).details["term_end"] == "2021-02-01"
        assert w.status(case) == "active"


async def test_k13_a_default_stops_the_subsidy_and_raises_a_guarantee_claim(env: WorkflowEnvironment) -> None:
    """`loan.defaulted` → `defaulted`: no subsidy for periods ending after the default date, and a
    supervisor task `guarantee_claim`. A default dated before a period already paid makes that
    period an overpayment; with nothing more to pay to the bank, an `overpayment_recovery` task."""
    async with world(env, date(2020, 3, 30)) as w:
        await grant(w, "L8")
        await interest(w, "L8", "2020-Q2", date(2020, 4, 1), date(2020, 6, 30), 121_250, date(2020, 7, 2))
        default = key(await loan_event(w, "loan.defaulted", "L8", date(2020, 6, 15), day=date(2020, 7, 10)))
        case = "loan/B1/L8"
        assert rows(w, case) == [("2020-Q2", "payment", 62_500, date(2020, 7, 2), None),
                                 ("2020-Q2", "overpayment", 62_500, date(2020, 7, 10), default)]
        tasks = [t for t in w.store.tasks.values() if t["case_id"] == case]
        assert [(t["kind"], t["state"]) for t in tasks] == [("guarantee_claim", "open")]
        handle = w.env.client.get_workflow_handle(case)
        with pytest.raises(WorkflowUpdateFailedError):  # a decision must say why
            await handle.execute_update("decide", TaskDecision(task_id=tasks[0]["task_id"], decided_by="sup-1",
                                                               decision={"approve": True}))
        await handle.execute_update("decide", TaskDecision(task_id=tasks[0]["task_id"], decided_by="sup-1",
                                                           decision={"approve": True, "reason": "担保基金代偿"}))
        await w.advance_to_day(date(2020, 7, 12))
        assert w.status(case) == "defaulted"
        tasks = sorted((t for t in w.store.tasks.values() if t["case_id"] == case), key=lambda t: t["kind"])
        assert [(t["kind"], t["state"]) for t in tasks] == [("guarantee_claim", "decided"), ("overpayment_recovery", "open")]


async def test_k13_repaid_closes_the_case(env: WorkflowEnvironment) -> None:
    """`loan.repaid` → `repaid`."""
    async with world(env, date(2020, 3, 30)) as w:
        await grant(w, "L9")
        await interest(w, "L9", "2020-Q2", date(2020, 4, 1), date(2020, 6, 30), 121_250, date(2020, 7, 2))
        await loan_event(w, "loan.repaid", "L9", date(2020, 7, 15))
        case = "loan/B1/L9"
        assert (w.status(case), w.closed_on(case)) == ("repaid", date(2020, 7, 15))
        assert net(w, case) == {"2020-Q2": 62_500}


async def test_k13_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k13_startup_loans.jsonl through `simulate` (its "_how" derives every row):
    the worked example, pro rata at the term end, the loan limit, a corrected report's
    overpayment recovered by deduction, a default's overpayment and guarantee review."""
    expected = json.loads((SCENARIOS / "k13_startup_loans.expected.json").read_text(encoding="utf-8"))
    result = await app.simulate.simulate(SCENARIOS / "k13_startup_loans.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert [[c["case_id"], c["period"], c["entry"], c["cause"]] for c in result["corrections"]
            if c["entry"] != "deduction"] == expected["causes"]
    assert (result["tasks"], result["alerts"], result["dead_letters"]) == (expected["tasks"], expected["alerts"], expected["dead_letters"])


async def test_k13_an_epidemic_extension_learnt_after_the_term_was_paid_out_is_arrears(env: WorkflowEnvironment) -> None:
    """A straddling period paid pro rata, then the case completed; an epidemic extension requested
    in time but learnt later lengthens the term: the rest of that period is an `arrears` row
    naming the extension (facts still correct a case up to `ledger.correction_days` after it closed)."""
    async with world(env, date(2020, 4, 30)) as w:
        await grant(w, "L10", on=date(2020, 5, 1), term=3)
        await interest(w, "L10", "2020-Q3", date(2020, 7, 1), date(2020, 9, 30), 92_000, date(2020, 10, 2))
        case = "loan/B1/L10"
        assert w.status(case) == "completed"
        extended = key(await loan_event(w, "loan.extended", "L10", date(2020, 7, 20), day=date(2020, 10, 9), months=6, reason="epidemic"))
        # Term now until 2021-02-01: Q3 is wholly inside: floor(92000 × 250 / 485) = 47422 = 15979 + 31443.
        assert rows(w, case) == [("2020-Q3", "payment", 15_979, date(2020, 10, 2), None),
                                 ("2020-Q3", "arrears", 31_443, date(2020, 10, 9), extended)]
        assert net(w, case) == {"2020-Q3": 47_422}


def reported_on(period: str, start: date, end: date, amount: int, on: date) -> Event:
    """The bank's report of L11's `period`, announced on `on` (delivered when the test says)."""
    return Event(f"interest {period}", on, lambda p: ("loan.interest_charged", {
        "loan_id": "L11", "period": period, "from": start.isoformat(), "to": end.isoformat(), "interest": amount},
        "person/P1"))


async def test_k13_the_report_announced_last_stands_and_only_the_terms_last_period_completes(env: WorkflowEnvironment) -> None:
    """The subsidised term over and its last period paid → `completed`; a period wholly after the
    term pays nothing and is not the term's last period. Of two reports of one period the one
    announced last stands (POLICY.md part 2: a corrected report replaces an earlier one), in
    whatever order the bank's reports arrive (`k13-order-independent`)."""
    async with world(env, date(2020, 3, 30)) as w:
        await grant(w, "L11", term=6)  # term [2020-04-01, 2020-10-01)
        case = "loan/B1/L11"
        late = date(2021, 1, 5)
        await deliver(w, "P1", reported_on("2020-Q4", date(2020, 10, 1), date(2020, 12, 31), 121_250, date(2021, 1, 4)), late)
        assert (w.status(case), rows(w, case)) == ("active", [])  # wholly after the term: nothing, and not completed
        await deliver(w, "P1", reported_on("2020-Q2", date(2020, 4, 1), date(2020, 6, 30), 121_250, date(2020, 7, 2)), late)
        assert (w.status(case), rows(w, case)) == ("active", [("2020-Q2", "payment", 62_500, date(2020, 7, 2), None)])
        # Q3 holds the term's last day: its corrected report (announced 10-04) arrives before the original (10-02).
        await deliver(w, "P1", reported_on("2020-Q3", date(2020, 7, 1), date(2020, 9, 30), 100_000, date(2020, 10, 4)), late)
        assert w.status(case) == "completed"
        await deliver(w, "P1", reported_on("2020-Q3", date(2020, 7, 1), date(2020, 9, 30), 121_250, date(2020, 10, 2)), late)
        # floor(100000 × 250 / 485) = 51546 stands; the original (62500) announced before it replaces nothing.
        assert rows(w, case) == [("2020-Q2", "payment", 62_500, date(2020, 7, 2), None),
                                 ("2020-Q3", "payment", 51_546, date(2020, 10, 4), None)]
        assert net(w, case) == {"2020-Q2": 62_500, "2020-Q3": 51_546}
        notes = [e.what for e in (await w.view(case)).timeline]
        assert any("which it does not replace" in n for n in notes)
