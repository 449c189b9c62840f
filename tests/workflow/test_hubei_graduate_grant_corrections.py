"""K11 corrections on Temporal's time-skipping server (POLICY.md part 2): the grant is what the
facts known now give for the one period "once", and a fact that changes it after payment adds a
row to the ledger, never edits one. The case closes as it pays, so the corrections reach it
through the base's after-close window, the events sent through the intake.

Amounts by hand from the shipped defaults: hubei_grant.amount 150000 fen, hukou province 42,
institution province 21, the 2020 cohort. Each test asserts the exact rows and that the
original plus its corrections is what the facts known now give.
"""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from tests.workflow._late_facts import send_to_closed
from tests.workflow.harness import World, at, world

ELIGIBLE = {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}
FUND = "employment_subsidy_fund"
SIGN = {"payment": 1, "arrears": 1, "overpayment": -1, "deduction": 0}


def application(person: str, on: date, details: dict[str, object]) -> dict[str, object]:
    return {"program": "hubei_graduate_grant", "applicant": person, "on": on.isoformat(), "details": details}


def rows(h: World, case: str) -> list[tuple[str, str, int, date, str | None, str | None]]:
    return [(p.entry, p.period, p.amount, p.due_on, p.corrects, p.cause)
            for p in sorted(h.payments(case), key=lambda p: (p.due_on, p.entry, p.seq))]


def worth(h: World, case: str) -> int:
    return sum(SIGN[p.entry] * p.amount for p in h.payments(case))


async def test_k11_corrected_household_registration_after_payment_is_an_overpayment_and_a_recovery_task(
    env: WorkflowEnvironment,
) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await h.send("application.submitted", application("HC1", date(2020, 4, 1), ELIGIBLE), at(date(2020, 4, 1)), subject="person/HC1")
        case = "hubei_grant/HC1"
        assert h.status(case) == "paid"
        # The registry corrects the household registration: Henan (41), not Hubei.
        corrected = application("HC1", date(2020, 6, 10), {**ELIGIBLE, "hukou_province": "41"})
        cause = await send_to_closed(h, case, "application.submitted", corrected, "person/HC1", at(date(2020, 6, 10)))
        assert rows(h, case) == [
            ("payment", "once", 150000, date(2020, 4, 1), None, None),
            ("overpayment", "once", 150000, date(2020, 6, 10), "once", cause),
        ]
        assert worth(h, case) == 0  # not 湖北籍 on the facts known now: nothing owed
        (task,) = [t for t in h.tasks(case) if t["kind"] == "overpayment_recovery"]
        assert (task["details"]["payee"], task["details"]["fund"], task["details"]["amount"], task["details"]["periods"]) == (
            "person/HC1", FUND, 150000, ["once"])
        # The same details again change nothing.
        await send_to_closed(h, case, "application.submitted", corrected, "person/HC1", at(date(2020, 6, 20)))
        assert len(rows(h, case)) == 2 and len([t for t in h.tasks(case) if t["kind"] == "overpayment_recovery"]) == 1


async def test_k11_backdated_change_of_the_grant_amount_is_arrears(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await h.send("application.submitted", application("HC2", date(2020, 4, 1), ELIGIBLE), at(date(2020, 4, 1)), subject="person/HC2")
        case = "hubei_grant/HC2"
        # Announced on 05-10, effective from 03-01 (before the application of 04-01): 200000.
        change = {"city": None, "name": "hubei_grant.amount", "value": 200000, "effective_on": "2020-03-01"}
        cause = await send_to_closed(h, case, "policy.parameter.changed", change, "province/21", at(date(2020, 5, 10)),
                                     source="policy/21")
        # A change effective after the application date does not touch it.
        later = {"city": None, "name": "hubei_grant.amount", "value": 300000, "effective_on": "2020-04-02"}
        await send_to_closed(h, case, "policy.parameter.changed", later, "province/21", at(date(2020, 5, 20)), source="policy/21")
        assert rows(h, case) == [
            ("payment", "once", 150000, date(2020, 4, 1), None, None),
            ("arrears", "once", 50000, date(2020, 5, 10), "once", cause),
        ]
        assert worth(h, case) == 200000
        assert [t for t in h.tasks(case) if t["kind"] == "overpayment_recovery"] == []
