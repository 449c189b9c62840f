"""K7 corrections on Temporal's time-skipping server (POLICY.md part 2): the refund is what the
assessment on the facts known now gives for the one period "once"; an enterprise fact dated
before the application that arrives after it, or a backdated change of a ratio, adds a row to the
ledger, never edits one. The case closes as it refunds, so the corrections reach it in the base's
after-close window, the events sent through the intake.

Amounts by hand from the shipped defaults: ui.monthly_benefit 150000 fen, 6 benefit months for
an affected industry, retention.large_ratio 50%, the layoff-rate limit 20% for ≤ 30 insured.
Each test asserts the exact rows and that the original plus its corrections is what the facts
known now give.
"""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from tests.workflow._late_facts import send_to_closed
from tests.workflow.harness import World, at, world
from tests.workflow.test_job_retention_refund import apply, enterprise, send

FUND = "ui_fund"
SIGN = {"payment": 1, "arrears": 1, "overpayment": -1, "deduction": 0}


def rows(h: World, case: str) -> list[tuple[str, str, int, date, str | None, str | None]]:
    return [(p.entry, p.period, p.amount, p.due_on, p.corrects, p.cause)
            for p in sorted(h.payments(case), key=lambda p: (p.due_on, p.entry, p.seq))]


def worth(h: World, case: str) -> int:
    return sum(SIGN[p.entry] * p.amount for p in h.payments(case))


def recovery_tasks(h: World, case: str) -> list[dict[str, object]]:
    return [t["details"] for t in h.tasks(case) if t["kind"] == "overpayment_recovery"]


async def test_k7_enrolment_reported_late_raises_the_headcount_and_is_arrears(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await enterprise(h, "WC1", "catering", "small", 3, date(2019, 10, 2))
        await apply(h, "WC1", date(2020, 3, 10), 2020)
        case = "retention/WC1/2020"
        assert h.status(case) == "refunded"
        # A fourth person insured since 2019-10-02, reported on 04-15: 6 × 150000 × 4 = 3600000.
        late = {"person_id": "WC1P4", "employer_id": "WC1", "on": "2019-10-02"}
        cause = await send_to_closed(h, case, "insured.enrolled", late, "person/WC1P4", at(date(2020, 4, 15)), "si/2101")
        assert rows(h, case) == [
            ("payment", "once", 2700000, date(2020, 3, 10), None, None),
            ("arrears", "once", 900000, date(2020, 4, 15), "once", cause),
        ]
        assert worth(h, case) == 3600000 and recovery_tasks(h, case) == []
        # A separation after the application date does not bear on it.
        after = {"person_id": "WC1P1", "employer_id": "WC1", "on": "2020-04-20", "reason": "layoff"}
        await send_to_closed(h, case, "insured.left", after, "person/WC1P1", at(date(2020, 4, 20)), "si/2101")
        assert len(rows(h, case)) == 2
        assert (await h.view(case)).details["insured_headcount"] == 4


async def test_k7_layoff_reported_late_puts_the_rate_over_the_limit_an_overpayment_and_a_recovery_task(
    env: WorkflowEnvironment,
) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await enterprise(h, "WC2", "catering", "small", 3, date(2019, 10, 2))
        await apply(h, "WC2", date(2020, 3, 10), 2020)
        case = "retention/WC2/2020"
        assert [p.amount for p in h.payments(case)] == [2700000]
        # WC2P3 was laid off on 01-15, reported on 05-06: Jan 31 and Feb 29 insure 2 → 1/2 = 50% > 20%.
        late = {"person_id": "WC2P3", "employer_id": "WC2", "on": "2020-01-15", "reason": "layoff"}
        cause = await send_to_closed(h, case, "insured.left", late, "person/WC2P3", at(date(2020, 5, 6)), "si/2101")
        assert rows(h, case) == [
            ("payment", "once", 2700000, date(2020, 3, 10), None, None),
            ("overpayment", "once", 2700000, date(2020, 5, 6), "once", cause),
        ]
        (overpayment,) = [p for p in h.payments(case) if p.entry == "overpayment"]
        assert "layoff rate 1/2 = 50%" in overpayment.rule and "over the limit" in overpayment.rule
        assert worth(h, case) == 0
        assert [(d["payee"], d["fund"], d["amount"], d["periods"]) for d in recovery_tasks(h, case)] == [
            ("enterprise/WC2", FUND, 2700000, ["once"])]


async def test_k7_backdated_retention_ratio_is_arrears(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await enterprise(h, "WC3", "manufacturing", "large", 2, date(2019, 10, 2))
        contribution = {"person_id": "WC3P1", "month": "2019-11", "employer_id": "WC3", "base": 300000,
                        "employer_amount": 40000, "employee_amount": 20000, "insurances": ["unemployment"]}
        await send(h, "contribution.paid", contribution, "person/WC3P1", at(date(2019, 11, 20)))
        await apply(h, "WC3", date(2020, 3, 10), 2020)
        case = "retention/WC3/2020"
        # Large: 50% × 60000 prior-year UI premiums = 30000.
        assert [p.amount for p in h.payments(case)] == [30000]
        # Announced on 06-01, in force from 01-01 (before the application): 60% → 36000.
        change = {"city": None, "name": "retention.large_ratio", "value": [60, 100], "effective_on": "2020-01-01"}
        cause = await send_to_closed(h, case, "policy.parameter.changed", change, "province/21", at(date(2020, 6, 1)),
                                     source="policy/21")
        assert rows(h, case) == [
            ("payment", "once", 30000, date(2020, 3, 10), None, None),
            ("arrears", "once", 6000, date(2020, 6, 1), "once", cause),
        ]
        assert worth(h, case) == 36000 and recovery_tasks(h, case) == []
        # Then lowered twice, each from 01-01: 40% → 24000 (12000 over), 30% → 18000 (6000 more);
        # each overpayment is its own recovery task, the first not asked for twice.
        first = await send_to_closed(h, case, "policy.parameter.changed", {**change, "value": [40, 100]}, "province/21",
                                     at(date(2020, 7, 1)), source="policy/21")
        second = await send_to_closed(h, case, "policy.parameter.changed", {**change, "value": [30, 100]}, "province/21",
                                      at(date(2020, 8, 3)), source="policy/21")
        assert rows(h, case)[2:] == [
            ("overpayment", "once", 12000, date(2020, 7, 1), "once", first),
            ("overpayment", "once", 6000, date(2020, 8, 3), "once", second),
        ]
        assert worth(h, case) == 18000
        assert [(d["payee"], d["fund"], d["amount"]) for d in recovery_tasks(h, case)] == [
            ("enterprise/WC3", FUND, 12000), ("enterprise/WC3", FUND, 6000)]
