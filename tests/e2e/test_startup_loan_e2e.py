"""End to end on the real stack for K13 startup_loan_interest: a bank's `finance.loans` reports
produced to Kafka by `jiuye emit` go through the intake, Temporal and the worker into the
PostgreSQL ledger and tasks: the subsidy of a reported quarter paid to the bank, a corrected
report of the same quarter written as a correction (never an edit), the borrower's fourth loan
refused by the shared slot limit, and a default raising the guarantee review.

Dates are real and lie in the past, so each report is handled as soon as it arrives."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from contracts.cases import CaseView, TaskDecision
from policy import startup_loan
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2101"


class Borrower:
    def __init__(self, system: System, suffix: str):
        self.id = f"E2E{system.tag}{suffix}"
        self.bank = f"BK{system.tag}"
        self.source = f"bank/{CITY}-e2e"
        self.n = 0

    def event(self, type_: str, on: date, data: dict[str, Any]) -> bytes:
        self.n += 1
        return line(cloud_event(source=self.source, id=f"{self.id}-{self.n}", type=type_, subject=f"person/{self.id}", on=on, data=data))

    def grant(self, loan: str, on: date) -> bytes:
        return self.event("loan.granted", on, {
            "loan_id": loan, "bank_id": self.bank, "borrower": self.id, "borrower_kind": "individual", "city": CITY,
            "principal": 15_000_000, "rate_bp": 485, "lpr_bp": 385, "granted_on": on.isoformat(), "term_months": 24,
            "groups": ["returnee"],
        })


def quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


async def ledger(system: System, case_id: str) -> list[tuple[Any, ...]]:
    rows = await system.pool.fetch(
        "SELECT period, entry, amount_fen, payee, fund, corrects, cause FROM ledger WHERE case_id = $1 ORDER BY due_on, entry, seq",
        case_id,
    )
    return [tuple(r) for r in rows]


async def tasks_of(system: System, case_id: str) -> list[dict[str, Any]]:
    rows = await system.pool.fetch("SELECT task_id, kind, state FROM tasks WHERE case_id = $1 ORDER BY kind", case_id)
    return [dict(r) for r in rows]


async def status_of(system: System, case_id: str) -> str | None:
    return await system.pool.fetchval("SELECT status FROM cases WHERE case_id = $1", case_id)


async def test_k13_bank_interest_reports_pay_the_bank_and_a_corrected_report_is_a_correction(system: System) -> None:
    b = Borrower(system, "K13")
    params = system.pack.parameters(CITY)
    today = business_today()
    granted = today - timedelta(days=200)
    loans = [f"{b.id}-L{n}" for n in range(1, 5)]
    await system.emit([b.grant(loan, granted + timedelta(days=n)) for n, loan in enumerate(loans)], name="loans.jsonl")
    cases = [f"loan/{b.bank}/{loan}" for loan in loans]

    async def judged() -> list[int]:
        # Three subsidised loans per borrower (§2 累计次数不得超过3次): one of the four is refused.
        # The four cases run at once, so which one is the one whose case reached the store last.
        statuses = [await status_of(system, c) for c in cases]
        assert sorted(statuses, key=str) == ["active", "active", "active", "rejected"], statuses
        return [n for n, s in enumerate(statuses) if s == "active"]

    active = await assert_eventually(judged, timeout=120)
    refused = next(n for n in range(4) if n not in active)
    view = await system.client.get_workflow_handle(cases[refused]).query("state", result_type=CaseView)
    assert "already has 3 subsidised loans" in str(view.timeline[-1].rule)
    n0, n1 = active[0], active[1]
    loans, cases = [loans[n0], loans[n1]], [cases[n0], cases[n1]]
    granted = granted + timedelta(days=n0)

    first = startup_loan.Loan.from_data({"loan_id": loans[0], "bank_id": b.bank, "borrower": b.id, "borrower_kind": "individual",
                                "principal": 15_000_000, "rate_bp": 485, "lpr_bp": 385, "granted_on": granted.isoformat(),
                                "term_months": 24, "groups": ["returnee"]})
    start, end = granted, granted + timedelta(days=89)
    label = quarter(start)

    def report(interest: int, on: date) -> bytes:
        return b.event("loan.interest_charged", on, {"loan_id": loans[0], "period": label, "from": start.isoformat(),
                                                     "to": end.isoformat(), "interest": interest})

    reported = report(121_250, end + timedelta(days=2))
    await system.emit([reported])
    paid = startup_loan.period_subsidy(startup_loan.InterestPeriod(label, start, end, 121_250), first, startup_loan.term_end(first), params)
    assert paid == 62_500
    bank = startup_loan.payee(b.bank)

    async def paid_once() -> None:
        assert await ledger(system, cases[0]) == [(label, "payment", paid, bank, startup_loan.FUND.value, None, None)]

    await assert_eventually(paid_once, timeout=120)

    # The bank corrects the quarter's interest: the ledger gets an overpayment row for the
    # difference, naming the quarter and the corrected report; the original row stays.
    corrected = report(97_000, end + timedelta(days=9))
    await system.emit([corrected])
    owed_now = startup_loan.period_subsidy(startup_loan.InterestPeriod(label, start, end, 97_000), first, startup_loan.term_end(first), params)
    cause = f"{b.source}#{b.id}-{b.n}"

    async def corrected_once() -> None:
        assert await ledger(system, cases[0]) == [
            (label, "payment", paid, bank, startup_loan.FUND.value, None, None),
            (label, "overpayment", paid - owed_now, bank, startup_loan.FUND.value, label, cause),
        ]

    await assert_eventually(corrected_once, timeout=120)

    await system.emit([b.event("loan.defaulted", today, {"loan_id": loans[1], "on": today.isoformat()})])

    async def review_raised() -> str:
        found = await tasks_of(system, cases[1])
        assert [(t["kind"], t["state"]) for t in found] == [("guarantee_claim", "open")]
        return str(found[0]["task_id"])

    task_id = await assert_eventually(review_raised, timeout=120)
    await system.client.get_workflow_handle(cases[1]).execute_update(
        "decide", TaskDecision(task_id=task_id, decided_by="sup-e2e", decision={"approve": False, "reason": "贷款银行未尽调"}))

    async def defaulted() -> None:
        assert await status_of(system, cases[1]) == "defaulted"
        assert [(t["kind"], t["state"]) for t in await tasks_of(system, cases[1])] == [("guarantee_claim", "decided")]

    await assert_eventually(defaulted, timeout=120)


async def test_k13_an_enterprise_registration_learnt_late_reopens_the_rejected_loan(system: System) -> None:
    """POLICY.md part 2 "late facts across topics" on the real stack: a small enterprise's loan
    arrives before its registration (another topic) and is rejected ("no registration on
    file"); the bank's report reaching it meanwhile is held; the registration, within
    intake.late_fact_days, reaches the loan through the enterprise's key in PostgreSQL's
    case_keys and reopens it, and the held report is paid with its own date."""
    enterprise = f"E2E{system.tag}K13E"
    bank, source = f"BK{system.tag}", f"bank/{CITY}-e2e"
    today = business_today()
    granted, reported_on = today - timedelta(days=40), today - timedelta(days=2)
    loan = f"{enterprise}-L1"
    case = f"loan/{bank}/{loan}"

    def event(n: int, type_: str, on: date, data: dict[str, Any], src: str = source) -> bytes:
        return line(cloud_event(source=src, id=f"{enterprise}-{n}", type=type_, subject=f"enterprise/{enterprise}", on=on, data=data))

    terms = {"loan_id": loan, "bank_id": bank, "borrower": enterprise, "borrower_kind": startup_loan.SMALL_ENTERPRISE, "city": CITY,
             "principal": 200_000_000, "rate_bp": 485, "lpr_bp": 385, "granted_on": granted.isoformat(), "term_months": 24}
    await system.emit([event(1, "loan.granted", granted, terms)], name="loan.jsonl")

    async def rejected() -> None:
        assert await status_of(system, case) == "rejected"

    await assert_eventually(rejected, timeout=120)
    start, end = granted, granted + timedelta(days=30)
    period = quarter(start)
    await system.emit([event(2, "loan.interest_charged", reported_on, {"loan_id": loan, "period": period, "from": start.isoformat(),
                                                                      "to": end.isoformat(), "interest": 121_250})])

    async def held() -> None:
        view = await system.client.get_workflow_handle(case).query("state", result_type=CaseView)
        assert any("held while rejected" in t.what for t in view.timeline)

    await assert_eventually(held, timeout=120)
    assert await ledger(system, case) == []
    registered = {"enterprise_id": enterprise, "city": CITY, "industry": "catering", "size": "small"}
    await system.emit([event(3, "enterprise.registered", today - timedelta(days=1), registered, src=f"amr/{CITY}-e2e")])
    first = startup_loan.Loan.from_data(terms)
    paid = startup_loan.period_subsidy(startup_loan.InterestPeriod(period, start, end, 121_250), first, startup_loan.term_end(first),
                                       system.pack.parameters(CITY))
    assert paid == 62_500

    async def reopened_and_paid() -> None:
        assert await status_of(system, case) == "active"
        assert await ledger(system, case) == [(period, "payment", paid, startup_loan.payee(bank), startup_loan.FUND.value, None, None)]
        due = await system.pool.fetchval("SELECT due_on FROM ledger WHERE case_id = $1", case)
        assert due == reported_on

    await assert_eventually(reopened_and_paid, timeout=120)
