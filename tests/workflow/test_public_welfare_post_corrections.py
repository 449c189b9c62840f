"""K5 corrections on Temporal's time-skipping server (POLICY.md part 2 "What a case owes, and
corrections"): a K5 case states both subsidies of every month completed on the post, and a leaving
or a stable-employment contract dated in the past, or a backdated subsidy change, adds rows to
its ledger, never edits one.

Amounts derived by hand from the shipped defaults: welfare_post.post_subsidy 165000 (program
welfare_post_subsidy) + welfare_post.si_subsidy 60000 (welfare_post_si_subsidy) per completed
month, paid to the person from employment_subsidy_fund (first placement), due on D + n months;
recovery.max_deduction_ratio 50/100. Each test asserts the exact rows and that, for every
(program, period), the original plus its corrections is what the facts known now give; the
scenario test runs tests/scenarios/k5_corrections.jsonl.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from tests.workflow._corrections import event_key
from tests.workflow._corrections import recovery_tasks as tasks_of
from tests.workflow._corrections import worth as worth_of
from tests.workflow.harness import World, at, registered, world

D = date
POST, SI = "welfare_post_subsidy", "welfare_post_si_subsidy"
POST_FEN, SI_FEN = 165000, 60000
FUND = "employment_subsidy_fund"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# (program, period, entry, amount, due_on, corrects, cause)
Row = tuple[str, str, str, int, date, str | None, str | None]


def rows(h: World, case: str, entries: tuple[str, ...] = ("arrears", "overpayment", "deduction")) -> list[Row]:
    ledger = sorted((p for p in h.store.ledger.values() if p.case_id == case), key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))
    assert {p.fund for p in ledger} <= {FUND}
    return [(p.program, p.period, p.entry, p.amount, p.due_on, p.corrects, p.cause) for p in ledger if p.entry in entries]


def worth(h: World, case: str) -> dict[tuple[str, str], int]:
    return worth_of(h.store.ledger.values(), case)


def month(n: int) -> str:
    return f"month-{n}"


def full(months: range, post: int = POST_FEN, si: int = SI_FEN) -> dict[tuple[str, str], int]:
    return {**{(POST, month(n)): post for n in months}, **{(SI, month(n)): si for n in months}}


def recovery_tasks(h: World, case: str) -> list[tuple[str, str, str, int, list[str]]]:
    return tasks_of(h.tasks(case), case)


async def placed(h: World, person: str, post: str, start: date) -> str:
    await h.send("unemployment.registered", registered(person, D(2020, 1, 2), D(2045, 1, 1), ["disabled"]), at(D(2020, 1, 2)))
    data: dict[str, Any] = {"person_id": person, "post_id": post, "city": "2101", "kind": "regular", "starts_on": start.isoformat()}
    await h.send("welfare_post.placed", data, at(start), subject=f"person/{person}")
    return kinds.welfare_post_case_id(person, post, start)


async def test_k5_leaving_dated_in_the_past_overpays_both_subsidies_of_the_months_after_it(env: WorkflowEnvironment) -> None:
    """Start 03-16: months 1-4 paid 04-16 .. 07-16. On 07-20 the person is reported to have left
    on 06-01: months 1, 2 were completed on the post, months 3 and 4 were not -> an overpayment
    of each subsidy of each, due 07-20; closes `ended` on 06-01 with one recovery task."""
    async with world(env, D(2020, 1, 1)) as h:
        case = await placed(h, "W21", "P21", D(2020, 3, 16))
        await h.advance_to_day(D(2020, 7, 20))
        left = event_key(await h.send("welfare_post.left", {"person_id": "W21", "post_id": "P21", "on": "2020-06-01"}, at(D(2020, 7, 20))))
        assert rows(h, case) == [
            (SI, month(3), "overpayment", SI_FEN, D(2020, 7, 20), month(3), left),
            (SI, month(4), "overpayment", SI_FEN, D(2020, 7, 20), month(4), left),
            (POST, month(3), "overpayment", POST_FEN, D(2020, 7, 20), month(3), left),
            (POST, month(4), "overpayment", POST_FEN, D(2020, 7, 20), month(4), left),
        ]
        assert worth(h, case) == {**full(range(1, 3)), **full(range(3, 5), 0, 0)}
        assert (h.status(case), h.record(case).closed_on, h.record(case).summary["paid_past_end"]) == ("ended", D(2020, 6, 1), 2)
        assert recovery_tasks(h, case) == [("overpayment_recovery", "person/W21", FUND, 2 * (POST_FEN + SI_FEN), [month(3), month(4)])]


async def test_k5_stable_employment_dated_in_the_past_overpays_the_months_after_it(env: WorkflowEnvironment) -> None:
    """Start 03-02: months 1-4 paid 04-02 .. 07-02. On 07-05 an open-ended contract signed 05-20,
    starting 05-25, is reported: stable employment from 05-25, so months 3 (to 06-02) and 4 were
    not completed on the post -> overpaid, due 07-05; closes `ended` on 05-25."""
    async with world(env, D(2020, 1, 1)) as h:
        case = await placed(h, "W22", "P22", D(2020, 3, 2))
        await h.advance_to_day(D(2020, 7, 5))
        contract = {"person_id": "W22", "employer_id": "E9", "signed_on": "2020-05-20", "starts_on": "2020-05-25", "term_months": None}
        signed = event_key(await h.send("contract.signed", contract, at(D(2020, 7, 5)), subject="person/W22", source="lc/2101"))
        assert rows(h, case) == [
            (SI, month(3), "overpayment", SI_FEN, D(2020, 7, 5), month(3), signed),
            (SI, month(4), "overpayment", SI_FEN, D(2020, 7, 5), month(4), signed),
            (POST, month(3), "overpayment", POST_FEN, D(2020, 7, 5), month(3), signed),
            (POST, month(4), "overpayment", POST_FEN, D(2020, 7, 5), month(4), signed),
        ]
        assert worth(h, case) == {**full(range(1, 3)), **full(range(3, 5), 0, 0)}
        assert (h.status(case), h.record(case).closed_on) == ("ended", D(2020, 5, 25))
        assert recovery_tasks(h, case) == [("overpayment_recovery", "person/W22", FUND, 2 * (POST_FEN + SI_FEN), [month(3), month(4)])]


async def test_k5_backdated_post_subsidy_raise_pays_arrears_for_the_months_begun_since(env: WorkflowEnvironment) -> None:
    """Start 03-16: months 1-3 paid by 06-20 (they begin 03-16, 04-16, 05-16). On 06-20 city 2101
    raises welfare_post.post_subsidy to 175000 from 05-01: month 3 began after it -> arrears
    10000 of the post subsidy, due 06-20; month 4 (begins 06-16) pays 175000 on 07-16; the
    social-insurance subsidy is unchanged."""
    async with world(env, D(2020, 1, 1)) as h:
        case = await placed(h, "W23", "P23", D(2020, 3, 16))
        await h.advance_to_day(D(2020, 6, 20))
        change = {"city": "2101", "name": "welfare_post.post_subsidy", "value": 175000, "effective_on": "2020-05-01"}
        raised = event_key(await h.send("policy.parameter.changed", change, at(D(2020, 6, 20)), subject="person/W23", source="policy/2101"))
        await h.advance_to_day(D(2020, 7, 16))
        assert rows(h, case) == [(POST, month(3), "arrears", 10000, D(2020, 6, 20), month(3), raised)]
        assert worth(h, case) == {**full(range(1, 3)), **full(range(3, 5), 175000)}
        assert h.status(case) == "active" and recovery_tasks(h, case) == []


async def test_k5_backdated_si_subsidy_cut_is_recovered_from_the_next_month(env: WorkflowEnvironment) -> None:
    """Start 03-16: months 1, 2 paid by 05-20. On 05-20 welfare_post.si_subsidy becomes 50000 from
    03-01: 10000 overpaid for each; month 3 (06-16) pays 50000 + 165000 of the same fund, and the
    first of them (the social-insurance row) carries both deductions (at most half of it)."""
    async with world(env, D(2020, 1, 1)) as h:
        case = await placed(h, "W24", "P24", D(2020, 3, 16))
        await h.advance_to_day(D(2020, 5, 20))
        change = {"city": "2101", "name": "welfare_post.si_subsidy", "value": 50000, "effective_on": "2020-03-01"}
        cut = event_key(await h.send("policy.parameter.changed", change, at(D(2020, 5, 20)), subject="person/W24", source="policy/2101"))
        await h.advance_to_day(D(2020, 6, 16))
        assert rows(h, case) == [
            (SI, month(1), "overpayment", 10000, D(2020, 5, 20), month(1), cut),
            (SI, month(2), "overpayment", 10000, D(2020, 5, 20), month(2), cut),
            (SI, month(3), "deduction", 10000, D(2020, 6, 16), month(1), cut),
            (SI, month(3), "deduction", 10000, D(2020, 6, 16), month(2), cut),
        ]
        assert worth(h, case) == full(range(1, 4), POST_FEN, 50000)
        assert (await h.view(case)).paid_fen == 2 * (POST_FEN + SI_FEN) + POST_FEN + 50000 - 20000


async def test_simulate_k5_corrections_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k5_corrections.jsonl through `simulate`; its expectation was derived by
    hand ("_derivation"). Only K5's cases, rows and tasks are compared (a registration opens a
    follow-up case too)."""
    expected = json.loads((SCENARIOS / "k5_corrections.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k5_corrections.jsonl", date.fromisoformat(expected["until"]))
    mine = {c["case_id"] for c in result["cases"] if c["kind"] == "public_welfare_post"}
    assert [c for c in result["cases"] if c["case_id"] in mine] == expected["cases"]
    assert [p for p in result["payments"] if p["case_id"] in mine] == expected["payments"]
    assert [t for t in result["tasks"] if t["case_id"] in mine] == expected["tasks"]
    assert result["dead_letters"] == expected["dead_letters"]
