"""K2 corrections on Temporal's time-skipping server (POLICY.md part 2 "What a case owes, and
corrections"): a case states what it owes per benefit month, and a fact dated in the past, a
replacing lift date or a backdated parameter change adds rows to its ledger, never edits one.

Amounts derived by hand from the shipped defaults: ui.monthly_benefit 150000, ui.epidemic_uplift
20000 for months starting in [S, L + 3 months), recovery.max_deduction_ratio 50/100. Each test
asserts the exact rows and that, for every (program, period), the original plus its corrections
is what the facts known now give.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from temporalio.testing import WorkflowEnvironment

from contracts.cases import PaymentRequest
from streams.intake import Outcome
from tests.workflow.harness import World, world
from workflows import unemployment_insurance

UI = "unemployment_insurance"
UPLIFT = "epidemic_uplift"
LINKAGE = "price_linkage"
S = date(2020, 1, 25)
SIGN = {"payment": 1, "arrears": 1, "overpayment": -1, "deduction": 0}
# (program, period, entry, amount, due_on, corrects, cause)
Row = tuple[str, str, str, int, date, str | None, str | None]


def key(outcome: Outcome) -> str:
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


def rows(w: World, case: str, entries: tuple[str, ...] = ("arrears", "overpayment", "deduction")) -> list[Row]:
    return [(p.program, p.period, p.entry, p.amount, p.due_on, p.corrects, p.cause)
            for p in sorted(_ledger(w, case), key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))
            if p.entry in entries]


def _ledger(w: World, case: str) -> list[PaymentRequest]:
    return [p for p in w.store.ledger.values() if p.case_id == case]


def worth(w: World, case: str) -> dict[tuple[str, str], int]:
    """Original + corrections per (program, period)."""
    total: dict[tuple[str, str], int] = defaultdict(int)
    for p in _ledger(w, case):
        total[(p.program, p.period)] += SIGN[p.entry] * p.amount
    return dict(total)


def month(n: int) -> str:
    return f"month-{n}"


async def test_k2_backdated_reemployment_overpays_the_months_after_it_and_raises_recovery(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("C1", date(2020, 3, 15))  # months start 03-15, 04-15, 05-15, 06-15
        await w.advance_to_day(date(2020, 6, 20))
        # An employer's contribution for 2020-05, known on 06-20: re-employed from 05-01, so
        # months 3 (05-15) and 4 (06-15) are not owed; the case closes with nothing more to pay.
        cause = key(await w.contribution("C1", "2020-05", date(2020, 6, 20)))
        case = "ui/C1/2020-03-15"
        assert rows(w, case) == [
            (UI, month(3), "overpayment", 150000, date(2020, 6, 20), month(3), cause),
            (UI, month(4), "overpayment", 150000, date(2020, 6, 20), month(4), cause),
        ]
        assert worth(w, case) == {(UI, month(1)): 150000, (UI, month(2)): 150000, (UI, month(3)): 0, (UI, month(4)): 0}
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 5, 1))
        tasks = [t for t in w.store.tasks.values() if t["case_id"] == case]
        assert [(t["kind"], t["state"], t["details"]["amount"], t["details"]["periods"]) for t in tasks] == [
            ("overpayment_recovery", "open", 300000, [month(3), month(4)])
        ]


async def test_k2_lift_date_moved_later_pays_the_uplift_and_moved_earlier_overpays_it(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as w:
        await w.declared(S)
        await w.claim("C2", date(2020, 3, 2))
        case = "ui/C2/2020-03-02"
        await w.lifted(date(2020, 4, 28))  # uplift for months starting before 2020-07-28
        await w.advance_to_day(date(2020, 8, 5))
        assert [r[1] for r in rows(w, case, ("payment",)) if r[0] == UPLIFT] == [month(n) for n in range(1, 6)]
        assert rows(w, case, ("payment",))[-1] == (UI, month(6), "payment", 150000, date(2020, 8, 2), None, None)
        # Moved later (until 2020-08-20): month 6 (08-02) is owed its uplift, due the day it is known.
        await w.lifted(date(2020, 5, 20), announced=date(2020, 8, 10))
        assert rows(w, case, ("payment",))[-1] == (UPLIFT, month(6), "payment", 20000, date(2020, 8, 10), None, None)
        # Moved earlier (until 2020-07-01): months 5 (07-02) and 6 are owed none; the overpayments
        # are recovered from month 7's benefit, at most half of it.
        later = key(await w.lifted(date(2020, 4, 1), announced=date(2020, 8, 25)))
        await w.advance_to_day(date(2020, 9, 10))
        assert rows(w, case) == [
            (UPLIFT, month(5), "overpayment", 20000, date(2020, 8, 25), month(5), later),
            (UPLIFT, month(6), "overpayment", 20000, date(2020, 8, 25), month(6), later),
            # A deduction names the event that made the period it recovers overpaid.
            (UI, month(7), "deduction", 20000, date(2020, 9, 2), month(5), later),
            (UI, month(7), "deduction", 20000, date(2020, 9, 2), month(6), later),
        ]
        assert worth(w, case) == {
            **{(UI, month(n)): 150000 for n in range(1, 8)},
            **{(UPLIFT, month(n)): 20000 for n in range(1, 5)},
            (UPLIFT, month(5)): 0,
            (UPLIFT, month(6)): 0,
        }
        view = await w.view(case)
        assert view.paid_fen == 7 * 150000 + 6 * 20000 - 40000
        assert w.store.tasks == {}


async def test_k2_backdated_benefit_change_pays_arrears_for_the_months_since(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("C3", date(2020, 3, 2))
        await w.advance_to_day(date(2020, 5, 10))
        change = key(await w.parameter("ui.monthly_benefit", 160000, effective=date(2020, 4, 1), day=date(2020, 5, 10)))
        await w.advance_to_day(date(2020, 6, 10))
        case = "ui/C3/2020-03-02"
        assert rows(w, case) == [
            (UI, month(2), "arrears", 10000, date(2020, 5, 10), month(2), change),
            (UI, month(3), "arrears", 10000, date(2020, 5, 10), month(3), change),
        ]
        assert rows(w, case, ("payment",))[-1] == (UI, month(4), "payment", 160000, date(2020, 6, 2), None, None)
        assert worth(w, case) == {(UI, month(1)): 150000, **{(UI, month(n)): 160000 for n in (2, 3, 4)}}


async def test_k2_backdated_benefit_cut_is_recovered_from_later_payments(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("C4", date(2020, 3, 2))
        await w.advance_to_day(date(2020, 5, 10))
        cut = key(await w.parameter("ui.monthly_benefit", 100000, effective=date(2020, 3, 1), day=date(2020, 5, 10)))
        await w.advance_to_day(date(2020, 7, 10))
        case = "ui/C4/2020-03-02"
        # Months 1-3 overpaid by 50000 each (150000 open); months 4 and 5 pay 100000 and each
        # carries a deduction of at most half of it, oldest overpayment first.
        assert rows(w, case) == [
            (UI, month(1), "overpayment", 50000, date(2020, 5, 10), month(1), cut),
            (UI, month(2), "overpayment", 50000, date(2020, 5, 10), month(2), cut),
            (UI, month(3), "overpayment", 50000, date(2020, 5, 10), month(3), cut),
            (UI, month(4), "deduction", 50000, date(2020, 6, 2), month(1), cut),
            (UI, month(5), "deduction", 50000, date(2020, 7, 2), month(2), cut),
        ]
        assert worth(w, case) == {(UI, month(n)): 100000 for n in range(1, 6)}
        assert (await w.view(case)).paid_fen == 3 * 150000 + 2 * 100000 - 2 * 50000


# -- price linkage in what is owed (LINKAGE_OWED) ---------------------------------------------------
async def test_k2_linkage_of_a_month_a_backdated_reemployment_removes_is_overpaid_with_its_cause(env: WorkflowEnvironment) -> None:
    """§18 价格联动 is paid for a calendar month in which the case pays benefit: a re-employment
    learnt late that removes the benefit month removes its linkage too, an overpayment caused by
    the re-employment under the linkage's rule, left for recovery with the months'."""
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("L1", date(2020, 3, 15))  # months start 03-15, 04-15, 05-15, 06-15
        await w.price_linkage("2020-05", 5000, date(2020, 5, 10))
        await w.advance_to_day(date(2020, 6, 20))
        case = "ui/L1/2020-03-15"
        assert w.originals(case, LINKAGE) == [("price-linkage-2020-05", 5000, date(2020, 5, 15))]
        cause = key(await w.contribution("L1", "2020-05", date(2020, 6, 20)))  # re-employed from 05-01
        assert rows(w, case) == [
            (LINKAGE, "price-linkage-2020-05", "overpayment", 5000, date(2020, 6, 20), "price-linkage-2020-05", cause),
            (UI, month(3), "overpayment", 150000, date(2020, 6, 20), month(3), cause),
            (UI, month(4), "overpayment", 150000, date(2020, 6, 20), month(4), cause),
        ]
        (linkage_row,) = [p for p in _ledger(w, case) if p.program == LINKAGE and p.entry == "overpayment"]
        assert linkage_row.rule == unemployment_insurance.RULE_LINKAGE_NOT_OWED
        assert worth(w, case) == {(UI, month(1)): 150000, (UI, month(2)): 150000, (UI, month(3)): 0, (UI, month(4)): 0,
                                  (LINKAGE, "price-linkage-2020-05"): 0}
        tasks = [t for t in w.store.tasks.values() if t["case_id"] == case]
        assert [(t["kind"], t["state"], t["details"]["amount"], t["details"]["periods"]) for t in tasks] == [
            ("overpayment_recovery", "open", 305000, [month(3), month(4), "price-linkage-2020-05"])
        ]


async def test_k2_linkage_learnt_late_for_a_paid_month_is_its_first_payment_due_the_day_it_is_learnt(env: WorkflowEnvironment) -> None:
    """A linkage triggered after its month's benefit was paid: no linkage row existed to correct,
    so it is the period's original payment (not arrears), due the day it was triggered; a linkage
    for a month the case does not pay (after the re-employment it knows) is owed nothing."""
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("L2", date(2020, 3, 2))
        await w.advance_to_day(date(2020, 5, 10))
        await w.price_linkage("2020-04", 7000, date(2020, 5, 10))  # month 2 (04-02) paid already
        case = "ui/L2/2020-03-02"
        assert rows(w, case, ("payment", "arrears"))[-1:] == [
            (LINKAGE, "price-linkage-2020-04", "payment", 7000, date(2020, 5, 10), None, None)]
        await w.employment("L2", date(2020, 5, 20))  # month 3 (05-02) is the last paid
        await w.price_linkage("2020-06", 6000, date(2020, 6, 5))  # no benefit month in June now
        await w.advance_to_day(date(2020, 6, 10))
        assert w.originals(case, LINKAGE) == [("price-linkage-2020-04", 7000, date(2020, 5, 10))]
        assert rows(w, case) == []
        assert (await w.view(case)).details["price_linkage_months"] == ["2020-04"]
