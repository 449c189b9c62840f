"""K15 corrections on Temporal's time-skipping server (POLICY.md part 2 "What a case owes, and
corrections"): a case states what it owes per month from the employer's contributions known, and
a corrected contribution report, a fee exemption reported after the months it covers were paid, or
a separation dated in the past adds rows to its ledger, never edits one.

Amounts by hand from the shipped defaults: the employer share actually paid (50000 a month here),
enterprise_si.months 36, one settle month, recovery.max_deduction_ratio 50/100. Each test asserts
the exact rows and that, for every month, the original plus its corrections is what the facts known
now give. (test_enterprise_si_subsidy's exemption test runs the late exemption over a whole period.)
"""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from app.simulate import simulate
from contracts import kinds
from streams.intake import Outcome
from tests.workflow.harness import SCENARIOS, World, at, event_key, registered, scenario_of_kind, world

KIND = kinds.ENTERPRISE_SI_SUBSIDY
FAR = date(2045, 1, 1)


async def hire(h: World, e: str, p: str, signed: date) -> str:
    await h.send("unemployment.registered", registered(p, date(2020, 1, 6), FAR, ["disabled"]), at(date(2020, 1, 6)))
    data = {"person_id": p, "employer_id": e, "signed_on": signed.isoformat(), "starts_on": signed.isoformat(), "term_months": 24}
    await h.send("contract.signed", data, at(signed), subject=f"person/{p}", source="lc/2101")
    return f"enterprise_si/{e}/{p}/{signed.isoformat()}"


async def pay_in(h: World, e: str, p: str, month: str, on: date, employer: int = 50000) -> Outcome:
    data = {"person_id": p, "month": month, "employer_id": e, "base": 300000, "employer_amount": employer,
            "employee_amount": 20000, "insurances": ["pension", "medical"]}
    return await h.send("contribution.paid", data, at(on), subject=f"person/{p}", source="si/2101")


async def paid_then_left(h: World, e: str, p: str, *also: tuple[str, str]) -> str:
    """A hire from 03-05, March's and April's shares paid, the person left on 04-30 (known 05-05);
    on 06-05, after the case closed. `also`: more (employer, person) hires, the same, alongside."""
    hires = [(e, p), *also]
    cases = [await hire(h, e_, p_, date(2020, 3, 5)) for e_, p_ in hires]
    for e_, p_ in hires:
        await pay_in(h, e_, p_, "2020-03", date(2020, 3, 20))
    for e_, p_ in hires:
        await pay_in(h, e_, p_, "2020-04", date(2020, 4, 20))
    for e_, p_ in hires:
        data = {"person_id": p_, "employer_id": e_, "on": "2020-04-30", "reason": "resignation"}
        await h.send("insured.left", data, at(date(2020, 5, 5)), subject=f"person/{p_}", source="si/2101")
    await h.advance_to_day(date(2020, 6, 5))
    return cases[0]


async def test_k15_corrected_report_makes_arrears_or_an_overpayment(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "X21", "Q21", date(2020, 3, 5))
        await pay_in(h, "X21", "Q21", "2020-03", date(2020, 3, 20))
        await pay_in(h, "X21", "Q21", "2020-04", date(2020, 4, 20))
        up = event_key(await pay_in(h, "X21", "Q21", "2020-03", date(2020, 5, 10), employer=60000))
        down = event_key(await pay_in(h, "X21", "Q21", "2020-04", date(2020, 5, 12), employer=30000))
        await pay_in(h, "X21", "Q21", "2020-05", date(2020, 5, 20))
        assert h.rows(case, ("payment",)) == [
            ("2020-03", "payment", 50000, date(2020, 3, 20), None, None),
            ("2020-04", "payment", 50000, date(2020, 4, 20), None, None),
            ("2020-05", "payment", 50000, date(2020, 5, 20), None, None),
        ]
        assert h.rows(case) == [
            ("2020-03", "arrears", 10000, date(2020, 5, 10), "2020-03", up),
            ("2020-04", "overpayment", 20000, date(2020, 5, 12), "2020-04", down),
            ("2020-05", "deduction", 20000, date(2020, 5, 20), "2020-04", down),
        ]
        assert h.worth_by_period(case) == {"2020-03": 60000, "2020-04": 30000, "2020-05": 50000}
        assert (await h.view(case)).paid_fen == 3 * 50000 + 10000 - 20000


async def test_k15_late_exemption_of_paid_months_overpays_them_and_postpones_the_period(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "X23", "Q23", date(2020, 3, 5))
        for month, day in (("2020-03", date(2020, 3, 20)), ("2020-04", date(2020, 4, 20)), ("2020-05", date(2020, 5, 20))):
            await pay_in(h, "X23", "Q23", month, day)
        assert (await h.view(case)).details["last_month"] == "2023-02"
        data = {"enterprise_id": "X23", "from_month": "2020-04", "to_month": "2020-05"}
        exemption = event_key(await h.send("si.fee_exemption", data, at(date(2020, 6, 10)), subject="enterprise/X23", source="si/2101"))
        # Read when June falls due: April and May are no longer counted (overpaid), June's payment
        # carries a deduction of half of it (oldest first); the period gains two months at its end.
        await pay_in(h, "X23", "Q23", "2020-06", date(2020, 6, 20))
        assert h.rows(case) == [
            ("2020-04", "overpayment", 50000, date(2020, 6, 20), "2020-04", exemption),
            ("2020-05", "overpayment", 50000, date(2020, 6, 20), "2020-05", exemption),
            ("2020-06", "deduction", 25000, date(2020, 6, 20), "2020-04", exemption),
        ]
        assert h.worth_by_period(case) == {"2020-03": 50000, "2020-04": 0, "2020-05": 0, "2020-06": 50000}
        view = await h.view(case)
        assert (view.details["last_month"], view.details["exempt_months"]) == ("2023-04", ["2020-04", "2020-05"])


async def test_k15_separation_dated_in_the_past_overpays_the_months_after_it(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "X22", "Q22", date(2020, 3, 5))
        for month, day in (("2020-03", date(2020, 3, 20)), ("2020-04", date(2020, 4, 20)), ("2020-05", date(2020, 5, 20)),
                           ("2020-06", date(2020, 6, 20))):
            await pay_in(h, "X22", "Q22", month, day)
        # Known on 07-10: the person left on 04-20. May and June come after the separation's month.
        data = {"person_id": "Q22", "employer_id": "X22", "on": "2020-04-20", "reason": "resignation"}
        left = event_key(await h.send("insured.left", data, at(date(2020, 7, 10)), subject="person/Q22", source="si/2101"))
        assert h.rows(case) == [
            ("2020-05", "overpayment", 50000, date(2020, 7, 10), "2020-05", left),
            ("2020-06", "overpayment", 50000, date(2020, 7, 10), "2020-06", left),
        ]
        assert h.worth_by_period(case) == {"2020-03": 50000, "2020-04": 50000, "2020-05": 0, "2020-06": 0}
        # The wait for April's contribution ended on 06-01: closed then, the rest left to recover.
        assert (h.status(case), h.record(case).closed_on) == ("ended", date(2020, 6, 1))
        assert [(t["kind"], t["state"], t["details"]["amount"], t["details"]["periods"]) for t in h.tasks(case)] == [
            ("overpayment_recovery", "open", 100000, ["2020-05", "2020-06"])
        ]


async def test_k15_facts_still_correct_a_case_within_the_correction_days_after_it_closed(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: facts still correct a case up to ledger.correction_days after it closed
    (patch k15-late-facts-correct; before it, the listening case noted the change and corrected
    nothing)."""
    async with world(env, date(2020, 1, 1)) as h:
        case = await paid_then_left(h, "X24", "Q24")
        # The wait for April's contribution ended on 06-01: closed then, March and April paid.
        assert (h.status(case), h.record(case).closed_on) == ("ended", date(2020, 6, 1))
        assert h.rows(case) == []
        # enterprise_si.months 1 from 03-01, announced 06-10, after the case closed: April is no
        # longer counted, so it is overpaid; with nothing more to pay, a recovery task.
        change = event_key(await h.parameter("enterprise_si.months", 1, effective=date(2020, 3, 1), day=date(2020, 6, 10)))
        assert h.rows(case) == [("2020-04", "overpayment", 50000, date(2020, 6, 10), "2020-04", change)]
        assert h.worth_by_period(case) == {"2020-03": 50000, "2020-04": 0}
        assert (h.status(case), h.record(case).closed_on) == ("ended", date(2020, 6, 1))
        assert [(t["kind"], t["state"], t["details"]["amount"], t["details"]["periods"]) for t in h.tasks(case)] == [
            ("overpayment_recovery", "open", 50000, ["2020-04"])
        ]


async def test_k15_corrected_report_still_corrects_a_case_within_the_correction_days_after_it_closed(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: a corrected contribution report (a second `contribution.paid` for the
    same person, employer and month replaces the first) reaching a closed hire in its window
    corrects it as it corrects an open one: the route signals listening cases too."""
    async with world(env, date(2020, 1, 1)) as h:
        case = await paid_then_left(h, "X25", "Q25")
        assert (h.status(case), h.record(case).closed_on) == ("ended", date(2020, 6, 1))
        # March reported again on 06-10 with 60000: arrears of 10000, paid at once (nothing to wait for).
        up = event_key(await pay_in(h, "X25", "Q25", "2020-03", date(2020, 6, 10), employer=60000))
        assert h.rows(case) == [("2020-03", "arrears", 10000, date(2020, 6, 10), "2020-03", up)]
        assert h.worth_by_period(case) == {"2020-03": 60000, "2020-04": 50000}
        assert (h.status(case), h.record(case).closed_on) == ("ended", date(2020, 6, 1))
        assert h.tasks(case) == []


async def test_k15_separation_known_after_it_closed_still_corrects_a_closed_case(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: a separation dated before months the closed hire paid, known within the
    correction window, overpays them (an earlier separation replaces the one it closed on)."""
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "X26", "Q26", date(2020, 3, 5))
        for month, day in (("2020-03", date(2020, 3, 20)), ("2020-04", date(2020, 4, 20)), ("2020-05", date(2020, 5, 20))):
            await pay_in(h, "X26", "Q26", month, day)
        data = {"person_id": "Q26", "employer_id": "X26", "on": "2020-05-31", "reason": "resignation"}
        await h.send("insured.left", data, at(date(2020, 6, 5)), subject="person/Q26", source="si/2101")
        await h.advance_to_day(date(2020, 7, 5))
        assert h.status(case) == "ended"
        closed_on = h.record(case).closed_on
        # Known on 07-10: the contract was terminated on 03-31 already; April and May come after it.
        ended = {"person_id": "Q26", "employer_id": "X26", "on": "2020-03-31", "reason": "dismissal"}
        terminated = event_key(await h.send("contract.terminated", ended, at(date(2020, 7, 10)), subject="person/Q26", source="lc/2101"))
        assert h.rows(case) == [
            ("2020-04", "overpayment", 50000, date(2020, 7, 10), "2020-04", terminated),
            ("2020-05", "overpayment", 50000, date(2020, 7, 10), "2020-05", terminated),
        ]
        assert (h.status(case), h.record(case).closed_on) == ("ended", closed_on)
        assert [(t["kind"], t["state"], t["details"]["amount"]) for t in h.tasks(case)] == [("overpayment_recovery", "open", 100000)]


async def exempt(h: World, e: str, from_month: str, to_month: str, on: date) -> Outcome:
    data = {"enterprise_id": e, "from_month": from_month, "to_month": to_month}
    return await h.send("si.fee_exemption", data, at(on), subject=f"enterprise/{e}", source="si/2101")


async def test_k15_fee_exemption_reaching_a_closed_hire_in_its_window_corrects_it(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: a fee exemption reported after the hire closed, within
    ledger.correction_days, corrects it as it would an open one (patch
    k15-fee-exemption-delivered): the event names only the enterprise, and the route finds the
    employer's listening hires by employer (Store.employer_cases). Before it, a closed hire never
    read the enterprise's exemptions again."""
    async with world(env, date(2020, 1, 1)) as h:
        # Another employer's hire, closed and listening alike.
        case = await paid_then_left(h, "X27", "Q27", ("X28", "Q28"))
        other = "enterprise_si/X28/Q28/2020-03-05"
        assert [(h.status(c), h.record(c).closed_on) for c in (case, other)] == [("ended", date(2020, 6, 1))] * 2
        assert h.rows(case) == []
        # Known on 06-10: X27's fees were exempted in April. April is no longer counted (the
        # period is postponed, but the person left on 04-30): its 50000 is overpaid, at once,
        # and with nothing more to pay, a recovery task.
        outcome = await exempt(h, "X27", "2020-04", "2020-04", date(2020, 6, 10))
        assert (outcome.status, outcome.detail) == ("applied", f"→ {case}")
        exemption = event_key(outcome)
        assert h.rows(case) == [("2020-04", "overpayment", 50000, date(2020, 6, 10), "2020-04", exemption)]
        assert h.worth_by_period(case) == {"2020-03": 50000, "2020-04": 0}
        assert (h.status(case), h.record(case).closed_on) == ("ended", date(2020, 6, 1))
        assert [(t["kind"], t["state"], t["details"]["amount"], t["details"]["periods"]) for t in h.tasks(case)] == [
            ("overpayment_recovery", "open", 50000, ["2020-04"])
        ]
        assert (await h.view(case)).details["exempt_months"] == ["2020-04"]
        # The other employer's hire is not touched.
        assert (h.rows(other), h.tasks(other)) == ([], [])


async def test_k15_fee_exemption_after_the_correction_window_is_ignored_and_says_why(env: WorkflowEnvironment) -> None:
    """Past ledger.correction_days (365) after closing the hire's keys no longer listen: the
    exemption reaches no case, the intake records why, and the ledger stays as it was."""
    async with world(env, date(2020, 1, 1)) as h:
        case = await paid_then_left(h, "X29", "Q29")
        await h.advance_to_day(date(2021, 6, 5))
        view = await h.view(case)
        assert any("no longer taking late facts" in t.what for t in view.timeline)
        outcome = await exempt(h, "X29", "2020-04", "2020-04", date(2021, 6, 10))
        assert (outcome.status, outcome.detail) == ("ignored", "no open or listening enterprise_si_subsidy case of X29")
        assert h.rows(case) == []
        assert h.worth_by_period(case) == {"2020-03": 50000, "2020-04": 50000}
        assert h.tasks(case) == []


async def test_k15_fee_exemption_reaching_an_open_hire_is_read_when_the_next_month_falls_due(env: WorkflowEnvironment) -> None:
    """An open hire is signalled too (so one closing meanwhile still gets it) and reads the
    exemption as it did before: with the others, when the next month falls due."""
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "X30", "Q30", date(2020, 3, 5))
        await pay_in(h, "X30", "Q30", "2020-03", date(2020, 3, 20))
        await pay_in(h, "X30", "Q30", "2020-04", date(2020, 4, 20))
        outcome = await exempt(h, "X30", "2020-04", "2020-04", date(2020, 5, 10))
        assert (outcome.status, outcome.detail) == ("applied", f"→ {case}")
        assert h.rows(case) == []
        assert any("read when a month falls due" in t.what and t.event == event_key(outcome) for t in (await h.view(case)).timeline)
        await pay_in(h, "X30", "Q30", "2020-05", date(2020, 5, 20))
        assert h.rows(case) == [
            ("2020-04", "overpayment", 50000, date(2020, 5, 20), "2020-04", event_key(outcome)),
            ("2020-05", "deduction", 25000, date(2020, 5, 20), "2020-04", event_key(outcome)),
        ]


async def test_k15_corrections_scenario_matches_hand_derived_expectation() -> None:
    """tests/scenarios/k15_corrections.jsonl through `simulate`: a corrected report up and down, a
    late exemption of paid months, a separation known late (the expected file's "_how")."""
    got, expected = await scenario_of_kind("k15_corrections", KIND)
    assert got == {k: expected[k] for k in ("cases", "payments", "tasks", "dead_letters")}


async def test_k15_fee_exemption_after_closing_scenario_matches_hand_derived_expectation() -> None:
    """tests/scenarios/k15_fee_exemption_closed.jsonl through `simulate`: one employer's fee
    exemption reaching its closed hire in the window overpays the exempted month; the other's,
    after the window, changes nothing (the expected file's "_how")."""
    got, expected = await scenario_of_kind("k15_fee_exemption_closed", KIND)
    assert got == {k: expected[k] for k in ("cases", "payments", "tasks", "dead_letters")}
    result = await simulate(SCENARIOS / "k15_fee_exemption_closed.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["corrections"] if c["case_id"].startswith("enterprise_si/")] == expected["corrections"]
