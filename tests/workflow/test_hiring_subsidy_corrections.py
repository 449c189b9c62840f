"""K6 corrections on Temporal's time-skipping server (POLICY.md part 2): per program the period
"once" is worth what the facts known now give, and a fact that changes it after payment adds rows
to the ledger, never edits one. The case closes as it pays, so the corrections reach it through
the base's after-close window, the events sent through the intake.

The agency's fee is paid under its cap across cases by the store (`pay_capped`); what a case owes
the agency is never more than that payment, so a fee the cap cut stays cut and no correction
passes the cap (a lower fee or a removed eligibility is an overpayment).

Amounts by hand from the shipped defaults: hiring.epidemic_per_hire 100000, hiring.agency_per_hire
20000, hiring.si_months 3. Each test asserts the exact rows and that the original plus its
corrections is what the facts known now give.
"""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from tests.workflow._late_facts import send_to_closed
from tests.workflow.harness import World, at, employer_contribution, enterprise, epidemic_declared, hire, hiring_application, world

S = date(2020, 1, 25)
FUND = "employment_subsidy_fund"
SIGN = {"payment": 1, "arrears": 1, "overpayment": -1, "deduction": 0}


def rows(h: World, case: str) -> list[tuple[str, str, str, int, date, str | None, str | None]]:
    return [(p.payee, p.entry, p.period, p.amount, p.due_on, p.corrects, p.cause)
            for p in sorted(h.payments(case), key=lambda p: (p.due_on, p.payee, p.entry, p.seq))]


def worth(h: World, case: str) -> dict[str, int]:
    total: dict[str, int] = {}
    for p in h.payments(case):
        total[p.payee] = total.get(p.payee, 0) + SIGN[p.entry] * p.amount
    return total


def recovery_tasks(h: World, case: str) -> list[tuple[object, object, object]]:
    return sorted((t["details"]["payee"], t["details"]["fund"], t["details"]["amount"])
                  for t in h.tasks(case) if t["kind"] == "overpayment_recovery")


def change(name: str, value: int, effective_on: str) -> dict[str, object]:
    return {"city": None, "name": name, "value": value, "effective_on": effective_on}


async def test_k6a_corrected_lift_date_puts_the_hire_outside_the_period_overpayments_and_recovery_tasks(
    env: WorkflowEnvironment,
) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await epidemic_declared(h, S)
        await enterprise(h, "EC1", True, date(2020, 1, 21))
        await hire(h, "X1", "EC1", date(2020, 3, 5), 36, agency="AC1")
        await employer_contribution(h, "X1", "EC1", "2020-03", date(2020, 4, 8))
        await hiring_application(h, "EC1", date(2020, 4, 20), ["X1"])
        case = "hiring/epidemic/EC1/X1"
        assert h.status(case) == "paid"
        # The lift is corrected to 03-01: the hire of 03-05 was not in [S, L] after all.
        cause = await send_to_closed(h, case, "policy.epidemic.lifted", {"on": "2020-03-01"}, "province/21",
                                     at(date(2020, 6, 10)), source="gov/21")
        assert rows(h, case) == [
            ("agency/AC1", "payment", "once", 20000, date(2020, 4, 20), None, None),
            ("enterprise/EC1", "payment", "once", 100000, date(2020, 4, 20), None, None),
            ("agency/AC1", "overpayment", "once", 20000, date(2020, 6, 10), "once", cause),
            ("enterprise/EC1", "overpayment", "once", 100000, date(2020, 6, 10), "once", cause),
        ]
        assert all("在疫情防控期间新招用" in p.rule for p in h.payments(case) if p.entry == "overpayment")
        assert worth(h, case) == {"agency/AC1": 0, "enterprise/EC1": 0}
        assert recovery_tasks(h, case) == [("agency/AC1", FUND, 20000), ("enterprise/EC1", FUND, 100000)]


async def test_k6a_backdated_per_hire_amounts_arrears_for_the_enterprise_the_agency_never_past_its_cap(
    env: WorkflowEnvironment,
) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        cap = {"city": "2101", "name": "hiring.agency_cap", "value": 25000, "effective_on": "2020-01-01"}
        await h.send("policy.parameter.changed", cap, at(date(2020, 1, 2)), subject="city/2101", source="gov/2101")
        await enterprise(h, "EC2", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        for n, person in enumerate(("Y1", "Y2")):
            await hire(h, person, "EC2", date(2020, 2, 10 + n), agency="AC2")
            await employer_contribution(h, person, "EC2", "2020-02", date(2020, 3, 5 + n))
            await hiring_application(h, "EC2", date(2020, 4, 1 + n), [person])
        cases = ["hiring/epidemic/EC2/Y1", "hiring/epidemic/EC2/Y2"]
        # Y2's fee was cut by the cap: 25000 - 20000 = 5000.
        assert [[p.amount for p in h.payments(c) if p.payee == "agency/AC2"] for c in cases] == [[20000], [5000]]
        # Both amounts raised from 01-01 (before the hires): the enterprise gets arrears; the agency
        # nothing more — Y2's cut stays cut and neither case passes the cap.
        raised = await send_to_closed(h, cases, "policy.parameter.changed", change("hiring.epidemic_per_hire", 120000, "2020-01-01"),
                                      "province/21", at(date(2020, 5, 10)), source="policy/21")
        await send_to_closed(h, cases, "policy.parameter.changed", change("hiring.agency_per_hire", 30000, "2020-01-01"),
                             "province/21", at(date(2020, 5, 11)), source="policy/21")
        # Then the agency fee lowered to 4000 from 01-01: both agency payments were too high.
        lowered = await send_to_closed(h, cases, "policy.parameter.changed", change("hiring.agency_per_hire", 4000, "2020-01-01"),
                                       "province/21", at(date(2020, 5, 20)), source="policy/21")
        assert rows(h, cases[0]) == [
            ("agency/AC2", "payment", "once", 20000, date(2020, 4, 1), None, None),
            ("enterprise/EC2", "payment", "once", 100000, date(2020, 4, 1), None, None),
            ("enterprise/EC2", "arrears", "once", 20000, date(2020, 5, 10), "once", raised),
            ("agency/AC2", "overpayment", "once", 16000, date(2020, 5, 20), "once", lowered),
        ]
        assert rows(h, cases[1]) == [
            ("agency/AC2", "payment", "once", 5000, date(2020, 4, 2), None, None),
            ("enterprise/EC2", "payment", "once", 100000, date(2020, 4, 2), None, None),
            ("enterprise/EC2", "arrears", "once", 20000, date(2020, 5, 10), "once", raised),
            ("agency/AC2", "overpayment", "once", 1000, date(2020, 5, 20), "once", lowered),
        ]
        assert [worth(h, c) for c in cases] == [{"agency/AC2": 4000, "enterprise/EC2": 120000}] * 2
        assert sum(p.amount for p in h.store.ledger.values() if p.payee == "agency/AC2" and p.entry in ("payment", "arrears")) <= 25000
        assert [recovery_tasks(h, c) for c in cases] == [[("agency/AC2", FUND, 16000)], [("agency/AC2", FUND, 1000)]]


async def test_k6b_contract_end_reported_late_before_the_months_were_paid_is_an_overpayment_and_a_recovery_task(
    env: WorkflowEnvironment,
) -> None:
    async with world(env, date(2020, 6, 1)) as h:
        await hire(h, "J2", "EC3", date(2020, 7, 1), None, graduation_year=2020)
        case = "hiring/priority/EC3/J2"
        await employer_contribution(h, "J2", "EC3", "2020-07", date(2020, 8, 5), 50000)
        await employer_contribution(h, "J2", "EC3", "2020-08", date(2020, 9, 5), 51000)
        await employer_contribution(h, "J2", "EC3", "2020-09", date(2020, 10, 5), 52000)
        assert h.status(case) == "paid" and [p.amount for p in h.payments(case)] == [153000]
        # Reported on 11-02: the contract ended on 09-20, before the third month was paid (10-05).
        ended = {"person_id": "J2", "employer_id": "EC3", "on": "2020-09-20"}
        cause = await send_to_closed(h, case, "contract.terminated", ended, "person/J2", at(date(2020, 11, 2)), "lc/2101")
        assert rows(h, case) == [
            ("enterprise/EC3", "payment", "once", 153000, date(2020, 10, 5), None, None),
            ("enterprise/EC3", "overpayment", "once", 153000, date(2020, 11, 2), "once", cause),
        ]
        (overpayment,) = [p for p in h.payments(case) if p.entry == "overpayment"]
        assert "contract ended on 2020-09-20" in overpayment.rule
        assert worth(h, case) == {"enterprise/EC3": 0}
        assert recovery_tasks(h, case) == [("enterprise/EC3", FUND, 153000)]
        # A contract end after the months were paid changes nothing.
        later = {"person_id": "J2", "employer_id": "EC3", "on": "2020-12-31"}
        await send_to_closed(h, case, "contract.terminated", later, "person/J2", at(date(2020, 11, 20)), "lc/2101")
        assert len(rows(h, case)) == 2


async def test_k6a_corrected_lift_date_makes_the_application_late_an_overpayment(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await epidemic_declared(h, S)
        await enterprise(h, "EC4", True, date(2020, 1, 21))
        await h.send("policy.epidemic.lifted", {"on": "2020-06-30"}, at(date(2020, 6, 30)), subject="province/21", source="gov/21")
        await hire(h, "X4", "EC4", date(2020, 3, 5), 36)
        await employer_contribution(h, "X4", "EC4", "2020-03", date(2020, 4, 8))
        await hiring_application(h, "EC4", date(2020, 9, 20), ["X4"])  # by L + 3 months = 09-30
        case = "hiring/epidemic/EC4/X4"
        assert h.status(case) == "paid"
        # The lift is corrected to 05-15: the last day to apply was 08-15, before the application.
        cause = await send_to_closed(h, case, "policy.epidemic.lifted", {"on": "2020-05-15"}, "province/21",
                                     at(date(2020, 10, 10)), source="gov/21")
        assert rows(h, case) == [
            ("enterprise/EC4", "payment", "once", 100000, date(2020, 9, 20), None, None),
            ("enterprise/EC4", "overpayment", "once", 100000, date(2020, 10, 10), "once", cause),
        ]
        (overpayment,) = [p for p in h.payments(case) if p.entry == "overpayment"]
        assert "疫情解除后3个月内" in overpayment.rule and "2020-08-15" in overpayment.rule
        assert worth(h, case) == {"enterprise/EC4": 0}
        assert recovery_tasks(h, case) == [("enterprise/EC4", FUND, 100000)]
