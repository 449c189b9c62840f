"""K1 corrections on Temporal's time-skipping server (POLICY.md part 2 "What a case owes, and
corrections"): a K1 case states what the unit is owed per completed internship month, and a late
interruption, an early end or a hire reported late, or a backdated `internship.monthly_subsidy`
adds rows to its ledger, never edits one.

Amounts derived by hand from the shipped defaults: internship.monthly_subsidy 120000 fen, paid to
the unit (enterprise/<unit>) from employment_subsidy_fund; recovery.max_deduction_ratio 50/100.
Each test asserts the exact rows and that, for every period, the original plus its corrections is
what the facts known now give; the scenario test runs tests/scenarios/k1_corrections.jsonl.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from app import simulate
from tests.workflow._corrections import event_key
from tests.workflow._corrections import recovery_tasks as tasks_of
from tests.workflow._corrections import worth as worth_of
from tests.workflow.harness import World, agreement, internship_case_id, world

D = date
MONTHLY = 120000
K1 = "internship_subsidy"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# (period, entry, amount, due_on, corrects, cause)
Row = tuple[str, str, int, date, str | None, str | None]


def rows(w: World, case: str, entries: tuple[str, ...] = ("arrears", "overpayment", "deduction")) -> list[Row]:
    ledger = sorted((p for p in w.store.ledger.values() if p.case_id == case), key=lambda p: (p.due_on, p.period, p.entry, p.seq))
    assert {p.program for p in ledger} <= {K1}
    return [(p.period, p.entry, p.amount, p.due_on, p.corrects, p.cause) for p in ledger if p.entry in entries]


def worth(w: World, case: str) -> dict[str, int]:
    """Original + corrections per period (K1 has one program)."""
    return {period: fen for (_, period), fen in worth_of(w.store.ledger.values(), case).items()}


def recovery_tasks(w: World, case: str) -> list[tuple[str, str, int, list[str]]]:
    return [(kind, payee, amount, periods) for kind, payee, _, amount, periods in tasks_of(w.store.tasks.values(), case)]


def month(n: int) -> str:
    return f"month-{n}"


async def open_case(w: World, person: str, unit: str, start: date, p: int) -> str:
    outcome = await w.send("internship.agreement_signed", agreement(person, unit, start, p), start)
    assert outcome.status == "applied", outcome
    return internship_case_id(person, unit, start)


def pause(person: str, unit: str, on: str, reason: str | None = None) -> dict[str, str]:
    return {"person_id": person, "unit_id": unit, "on": on, **({"reason": reason} if reason else {})}


async def test_k1_late_interruption_overpays_the_months_it_holds_and_its_resumption_owes_them_again(env: WorkflowEnvironment) -> None:
    """Start 03-02, P = 4 (end 07-02, a non-epidemic pause does not move it); months 1-3 paid
    04-02, 05-02, 06-02. Reported on 06-10: interrupted (other) 04-10, resumed 05-20 = 40 days.
    An open interruption owes nothing from its start until a resumption is known (as in order,
    patch k1-open-pause-owes-nothing): months 2 and 3 are overpaid at once, caused by the
    interruption. With its end known: month 2 completes 06-11 and is owed again (arrears that
    day, half of which is deducted for the overpayment outstanding), month 3 on 07-12 > 07-02
    cannot complete, month 4 never. Closes `completed` on 07-02 with the rest to recover: one
    overpayment_recovery task of 240000 - 60000."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "C1", "U1", D(2020, 3, 2), 4)
        await w.advance_to_day(D(2020, 6, 10))
        cause = event_key(await w.send("internship.interrupted", pause("C1", "U1", "2020-04-10", "other"), D(2020, 4, 10),
                                 deliver_on=D(2020, 6, 10)))
        held = [(month(2), "overpayment", MONTHLY, D(2020, 6, 10), month(2), cause),
                (month(3), "overpayment", MONTHLY, D(2020, 6, 10), month(3), cause)]
        assert rows(w, case) == held and (await w.view(case)).status == "paused"
        resumed = event_key(await w.send("internship.resumed", pause("C1", "U1", "2020-05-20"), D(2020, 5, 20), deliver_on=D(2020, 6, 10)))
        assert rows(w, case) == held
        await w.advance_to_day(D(2020, 6, 11))
        assert rows(w, case) == [*held, (month(2), "arrears", MONTHLY, D(2020, 6, 11), month(2), resumed),
                                 (month(2), "deduction", MONTHLY // 2, D(2020, 6, 11), month(2), cause)]
        await w.advance_to_day(D(2020, 7, 2))
        assert rows(w, case, ("payment",)) == [
            (month(1), "payment", MONTHLY, D(2020, 4, 2), None, None),
            (month(2), "payment", MONTHLY, D(2020, 5, 2), None, None),
            (month(3), "payment", MONTHLY, D(2020, 6, 2), None, None),
        ]
        assert worth(w, case) == {month(1): MONTHLY, month(2): MONTHLY, month(3): 0}
        assert (w.record(case).status, w.record(case).closed_on) == ("completed", D(2020, 7, 2))
        assert recovery_tasks(w, case) == [("overpayment_recovery", "enterprise/U1", 2 * MONTHLY - MONTHLY // 2, [month(2), month(3)])]


async def test_k1_open_interruption_owes_nothing_from_its_start_until_a_resumption_is_known(env: WorkflowEnvironment) -> None:
    """Start 03-02, P = 3 (end 06-02); months 1, 2 paid 04-02, 05-02. An interruption (other)
    dated 04-20 is reported on 05-10 and never resumed: month 2 is held, so overpaid at once
    (in order it would never have been paid; patch k1-open-pause-owes-nothing), caused by the
    interruption; closes `completed` on 06-02 with a recovery task."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "C2", "U2", D(2020, 3, 2), 3)
        await w.advance_to_day(D(2020, 5, 10))
        cause = event_key(await w.send("internship.interrupted", pause("C2", "U2", "2020-04-20", "other"), D(2020, 4, 20),
                                 deliver_on=D(2020, 5, 10)))
        assert rows(w, case) == [(month(2), "overpayment", MONTHLY, D(2020, 5, 10), month(2), cause)]
        await w.advance_to_day(D(2020, 6, 2))
        assert rows(w, case) == [(month(2), "overpayment", MONTHLY, D(2020, 5, 10), month(2), cause)]
        assert worth(w, case) == {month(1): MONTHLY, month(2): 0}
        assert (w.record(case).status, w.record(case).closed_on) == ("completed", D(2020, 6, 2))
        assert recovery_tasks(w, case) == [("overpayment_recovery", "enterprise/U2", MONTHLY, [month(2)])]


async def test_k1_early_end_reported_late_overpays_the_months_after_it(env: WorkflowEnvironment) -> None:
    """Start 03-02, P = 6; months 1-4 paid 04-02 .. 07-02. On 07-10 the internship is reported
    ended on 05-20: months 1, 2 completed by then; 3 and 4 overpaid, due 07-10; closes `ended`
    on 05-20 with a recovery task for 240000."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "C3", "U3", D(2020, 3, 2), 6)
        await w.advance_to_day(D(2020, 7, 10))
        ended = event_key(await w.send("internship.ended", {**pause("C3", "U3", "2020-05-20"), "reason": "quit"}, D(2020, 5, 20),
                                 deliver_on=D(2020, 7, 10)))
        assert rows(w, case) == [
            (month(3), "overpayment", MONTHLY, D(2020, 7, 10), month(3), ended),
            (month(4), "overpayment", MONTHLY, D(2020, 7, 10), month(4), ended),
        ]
        assert worth(w, case) == {month(1): MONTHLY, month(2): MONTHLY, month(3): 0, month(4): 0}
        assert (w.record(case).status, w.record(case).closed_on) == ("ended", D(2020, 5, 20))
        assert recovery_tasks(w, case) == [("overpayment_recovery", "enterprise/U3", 2 * MONTHLY, [month(3), month(4)])]


async def test_k1_hire_reported_late_with_a_third_left_overpays_the_months_after_it(env: WorkflowEnvironment) -> None:
    """Start 03-02, P = 6, D = 184; months 1-4 paid. A contract with the unit signed 06-10 is
    reported on 07-10: S = 100, D - S = 84 >= 61.33, not the lump: months completed by 06-10 are
    1-3, month 4 (07-02) overpaid; closes `hired` on 06-10."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "C4", "U4", D(2020, 3, 2), 6)
        await w.advance_to_day(D(2020, 7, 10))
        contract = {"person_id": "C4", "employer_id": "U4", "signed_on": "2020-06-10", "starts_on": "2020-06-10", "term_months": 12}
        hired = event_key(await w.send("contract.signed", contract, D(2020, 6, 10), source="lc/2101", deliver_on=D(2020, 7, 10)))
        assert rows(w, case) == [(month(4), "overpayment", MONTHLY, D(2020, 7, 10), month(4), hired)]
        assert (w.record(case).status, w.record(case).closed_on) == ("hired", D(2020, 6, 10))
        assert recovery_tasks(w, case) == [("overpayment_recovery", "enterprise/U4", MONTHLY, [month(4)])]


async def test_k1_hire_inside_the_internship_arriving_after_it_completed_corrects_the_closed_case(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: facts still correct a case up to ledger.correction_days after it closed.
    Start 03-02, P = 4 (D = 122); months 1-4 paid 04-02 .. 07-02, `completed` on 07-02. On 07-20 a
    contract with the unit signed 04-20 is delivered: S = 49, D - S = 73 >= 40.67, not the lump:
    only month 1 completed by then; months 2-4 overpaid, due 07-20, caused by the hire; the case
    stays `completed` and raises a recovery task. A contract with the unit signed 07-10, after
    the internship ended, concerns no month of it: nothing changes."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "C9", "U9", D(2020, 3, 2), 4)
        await w.advance_to_day(D(2020, 7, 20))
        assert (w.record(case).status, w.record(case).closed_on) == ("completed", D(2020, 7, 2))
        contract = {"person_id": "C9", "employer_id": "U9", "signed_on": "2020-04-20", "starts_on": "2020-04-21", "term_months": 12}
        hired = event_key(await w.send("contract.signed", contract, D(2020, 4, 20), source="lc/2101", deliver_on=D(2020, 7, 20)))
        assert rows(w, case) == [(month(n), "overpayment", MONTHLY, D(2020, 7, 20), month(n), hired) for n in (2, 3, 4)]
        assert worth(w, case) == {month(1): MONTHLY, month(2): 0, month(3): 0, month(4): 0}
        assert (w.record(case).status, w.record(case).closed_on) == ("completed", D(2020, 7, 2))
        assert recovery_tasks(w, case) == [("overpayment_recovery", "enterprise/U9", 3 * MONTHLY, [month(2), month(3), month(4)])]
        after = {**contract, "signed_on": "2020-07-10", "starts_on": "2020-07-11"}
        await w.send("contract.signed", after, D(2020, 7, 10), source="lc/2101", deliver_on=D(2020, 7, 25))
        assert rows(w, case) == [(month(n), "overpayment", MONTHLY, D(2020, 7, 20), month(n), hired) for n in (2, 3, 4)]


async def test_k1_backdated_subsidy_raise_pays_arrears_for_the_months_begun_since(env: WorkflowEnvironment) -> None:
    """Start 03-02, P = 3; months 1, 2 paid 120000 (they begin 03-02, 04-02). On 05-10 city 2101
    raises internship.monthly_subsidy to 140000 from 04-01: month 2 began after it -> arrears
    20000 due 05-10; month 3 (begins 05-02) paid 140000 on 06-02."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "C5", "U5", D(2020, 3, 2), 3)
        await w.advance_to_day(D(2020, 5, 10))
        change = {"city": "2101", "name": "internship.monthly_subsidy", "value": 140000, "effective_on": "2020-04-01"}
        raised = event_key(await w.send("policy.parameter.changed", change, D(2020, 5, 10), subject="city/2101", source="policy/2101"))
        await w.advance_to_day(D(2020, 6, 2))
        assert rows(w, case) == [(month(2), "arrears", 20000, D(2020, 5, 10), month(2), raised)]
        assert rows(w, case, ("payment",))[-1] == (month(3), "payment", 140000, D(2020, 6, 2), None, None)
        assert worth(w, case) == {month(1): MONTHLY, month(2): 140000, month(3): 140000}
        assert (w.status(case), (await w.view(case)).paid_fen) == ("completed", 2 * MONTHLY + 20000 + 140000)


async def test_k1_backdated_subsidy_cut_is_recovered_from_the_units_later_months(env: WorkflowEnvironment) -> None:
    """Start 03-02, P = 4; months 1, 2 paid 120000. On 05-10 internship.monthly_subsidy becomes
    100000 from 03-01: months 1, 2 overpaid 20000 each (due 05-10); month 3 (06-02) pays 100000
    less two deductions of 20000 (at most half of it, oldest first); month 4 pays 100000 in full.
    A short history limit makes the case continue as new on the way: the ledger it reconciles
    against is carried."""
    async with world(env, D(2020, 3, 2), history_limit=20) as w:
        case = await open_case(w, "C6", "U6", D(2020, 3, 2), 4)
        await w.advance_to_day(D(2020, 5, 10))
        change = {"city": "2101", "name": "internship.monthly_subsidy", "value": 100000, "effective_on": "2020-03-01"}
        cut = event_key(await w.send("policy.parameter.changed", change, D(2020, 5, 10), subject="city/2101", source="policy/2101"))
        await w.advance_to_day(D(2020, 7, 2))
        assert rows(w, case) == [
            (month(1), "overpayment", 20000, D(2020, 5, 10), month(1), cut),
            (month(2), "overpayment", 20000, D(2020, 5, 10), month(2), cut),
            (month(3), "deduction", 20000, D(2020, 6, 2), month(1), cut),
            (month(3), "deduction", 20000, D(2020, 6, 2), month(2), cut),
        ]
        assert worth(w, case) == {month(n): 100000 for n in range(1, 5)}
        view = await w.view(case)
        assert (w.status(case), view.paid_fen, view.details["generation"] > 0) == ("completed", 2 * MONTHLY + 2 * 100000 - 40000, True)
        assert recovery_tasks(w, case) == []


async def test_simulate_k1_corrections_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k1_corrections.jsonl through `simulate`; its expectation was derived by
    hand ("_derivation")."""
    expected = json.loads((SCENARIOS / "k1_corrections.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k1_corrections.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert (result["tasks"], result["alerts"]) == (expected["tasks"], expected["alerts"])
