"""Issue 13's property: for random event sequences of each kind, delivering the same events in
any order, or with some delivered late, ends with the same net owed per (case, program, period)
as in-order delivery (POLICY.md part 2: what a case owes is a function of the facts it knows).

Each example runs two worlds on Temporal's time-skipping server (tests/workflow/
_unemployment_harness.py: the production intake, gateway and worker on a MemoryStore): one with
every event delivered at its own business time, one with the delivery hypothesis drew
(tests/workflow/_order_independence.py). Net owed = Σ WORTH_SIGN × amount of the ledger rows
(policy.corrections), compared on a day after everything settled.

Deterministic in CI: `derandomize=True`, no example database; a handful of examples per kind,
because each runs two cases over months of business time.

Adding a kind: a strategy of its `Sequence`s registered in `SEQUENCES` with `@kind(...)`; the
sequences the policy itself makes order-dependent are left out, and its docstring says which.

What it found: a case took the epidemic lift date that arrived last, not the one announced last
(as `load_context` does for the stored facts), so a correction overtaken by the announcement it
corrects was undone (`test_an_earlier_lift_announcement_arriving_last_...`; fixed in
`CaseWorkflow.apply_shared_fact` behind `workflow.patched`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from policy import unemployment as ui
from policy.calendar import add_months, first_of_month, month_of
from policy.pack import load_pack
from tests.workflow._order_independence import SEQUENCES, Delivery, Event, Sequence, deliveries, in_order, person_id, run, schedule
from tests.workflow._unemployment_harness import world

# Each example is two cases over up to a year of business time (~10 s on 2 cores).
EXAMPLES = 6
LATE_DAYS = st.sampled_from([0, 0, 12, 40, 75])


def kind(name: str) -> Callable[[Callable[[], st.SearchStrategy[Sequence]]], Callable[[], st.SearchStrategy[Sequence]]]:
    def register(generator: Callable[[], st.SearchStrategy[Sequence]]) -> Callable[[], st.SearchStrategy[Sequence]]:
        SEQUENCES[name] = generator()
        return generator
    return register


def days(first: date, last: date) -> st.SearchStrategy[date]:
    """A day in [first, last]."""
    return st.integers(0, max(0, (last - first).days)).map(lambda n: first + timedelta(days=n))


# -- K2 unemployment_insurance --------------------------------------------------------------------
CITY = "2101"
K2_FIRST_DAY = date(2020, 1, 20)
K2_DECLARED = date(2020, 1, 25)
K2_CLAIM = date(2020, 3, 2)  # benefit months start on the 2nd; 30 insured months: 12 months
K2_LAST_FACT = date(2020, 9, 30)  # without a re-employment, the last day an event carries
K2_LAST_LIFT = date(2020, 7, 31)  # L + 3 months reaches past the last month paid
K2_UNTIL = date(2020, 12, 28)  # after the latest delivery (last fact + the longest lateness)
K2_PARAMS = load_pack().parameters(CITY)
K2_MONTHS_BY_LAST_FACT = max(n for n in range(1, 13) if ui.benefit_month_start(K2_CLAIM, n) <= K2_LAST_FACT)


def _k2_claim(person: str) -> tuple[str, dict[str, object], str]:
    return "ui.claim.filed", {"person_id": person, "city": CITY, "claim_on": K2_CLAIM.isoformat(), "insured_months": 30,
                              "involuntary": True, "retirement_date": "2045-01-01"}, f"person/{person}"


def _shared(type_: str, data: dict[str, object], subject: str) -> Callable[[str], tuple[str, dict[str, object], str]]:
    return lambda person: (type_, data, subject)


def _lifted(on: date) -> Callable[[str], tuple[str, dict[str, object], str]]:
    return _shared("policy.epidemic.lifted", {"on": on.isoformat()}, "province/21")


def _reemployed(on: date) -> Callable[[str], tuple[str, dict[str, object], str]]:
    return lambda person: ("employment.registered", {"person_id": person, "city": CITY, "on": on.isoformat(),
                                                     "kind": "employee", "employer_id": "E7"}, f"person/{person}")


@kind("unemployment_insurance")
@st.composite
def k2_sequences(draw: st.DrawFn) -> Sequence:
    """A claim (the epidemic declared before it), then any of: one or two lift dates (the second
    announced later: it corrects the first, whichever arrives last), a `ui.monthly_benefit`
    change effective on a day on or before it is announced (backdated when before), a price
    linkage, and a re-employment dated in benefit month 2..7 (the months after it overpaid when
    it arrives late).

    Sequences left out, because the policy itself makes order matter there:
    - The claim is delivered first and every other event is announced on or after it: the claim
      opens the case, an event for a person with no case opens nothing (a re-employment before
      the claim concerns the job the person left), and a shared fact announced before it is read
      from the store at opening, not delivered to the case.
    - The re-employment is the closing event: delivered last, and dated on or after every other
      event. A closed K2 case takes no more facts (the intake answers `late`), so an event
      delivered after it closed would count in one order and not in another; POLICY.md's
      "facts still correct a case up to `ledger.correction_days` after it closed" is not done
      for K2 yet. Neither is an exhausted case (closing into K3): the sequences end well inside
      the 12 months of entitlement.
    - The price linkage is for a calendar month in which benefit is paid on the final facts
      ("paying benefit in that month", POLICY.md shared facts): it is paid with the benefit
      month that starts in it and is not part of `owed`, so a re-employment learnt after that
      month was paid would leave it paid, and one learnt before would never pay it.
    """
    closing: Event | None = None
    last = K2_LAST_FACT
    paid_months = K2_MONTHS_BY_LAST_FACT
    if draw(st.booleans()):
        k = draw(st.integers(2, 7))  # re-employed during benefit month k: months after k are not owed
        on = draw(days(ui.benefit_month_start(K2_CLAIM, k), ui.benefit_month_start(K2_CLAIM, k + 1) - timedelta(days=1)))
        closing, last, paid_months = Event("reemployed", on, _reemployed(on)), on, k
    events: list[Event] = []
    if draw(st.booleans()):
        lift = draw(days(K2_CLAIM, K2_LAST_LIFT))
        announced = draw(days(lift, last)) if lift <= last else last
        events.append(Event(f"lifted {lift}", announced, _lifted(lift)))
        if announced < last and draw(st.booleans()):
            corrected = draw(days(K2_CLAIM, K2_LAST_LIFT).filter(lambda d: d != lift))
            events.append(Event(f"lift corrected to {corrected}", draw(days(announced + timedelta(days=1), last)),
                                _lifted(corrected)))
    if draw(st.booleans()):
        effective = draw(days(K2_FIRST_DAY, last))  # from before the claim, too
        benefit = K2_PARAMS.get("ui.monthly_benefit", effective)
        value = benefit + draw(st.sampled_from([-50000, -20000, 10000, 30000]))
        events.append(Event(f"ui.monthly_benefit {value} from {effective}", draw(days(max(effective, K2_CLAIM), last)), _shared(
            "policy.parameter.changed", {"city": CITY, "name": "ui.monthly_benefit", "value": value,
                                         "effective_on": effective.isoformat()}, f"city/{CITY}")))
    if draw(st.booleans()):
        n = draw(st.integers(1, paid_months))
        month = month_of(ui.benefit_month_start(K2_CLAIM, n))
        triggered = draw(days(max(first_of_month(month), K2_CLAIM),
                              min(last, add_months(first_of_month(month), 1) - timedelta(days=1))))
        amount = draw(st.sampled_from([5000, 12000, 30000]))
        events.append(Event(f"price linkage {month} {amount}", triggered, _shared(
            "policy.price_linkage.triggered", {"city": CITY, "month": month, "amount": amount}, f"city/{CITY}")))
    return Sequence(K2_FIRST_DAY, _k2_opening(), tuple(sorted(events, key=lambda e: e.on)), closing, K2_UNTIL)


def _k2_opening() -> tuple[Event, Event]:
    return (Event("declared", K2_DECLARED, _shared("policy.epidemic.declared", {"on": K2_DECLARED.isoformat()},
                                                   "province/21")),
            Event("claim", K2_CLAIM, _k2_claim))


# -- K17 temporary_living_allowance ----------------------------------------------------------------
K17_FIRST_DAY = date(2020, 1, 20)
K17_APPLIED = date(2020, 4, 15)  # months start on the 15th: 04-15, 05-15, 06-15
K17_LAST_FACT = date(2020, 8, 31)
K17_UNTIL = date(2020, 12, 28)


def _k17_registered(person: str) -> tuple[str, dict[str, object], str]:
    return "unemployment.registered", {"person_id": person, "city": CITY, "registered_on": "2020-02-01",
                                       "birth_date": "1980-01-01", "retirement_date": "2045-01-01"}, f"person/{person}"


def _k17_dibao(person: str) -> tuple[str, dict[str, object], str]:
    return "dibao.granted", {"person_id": person, "household_id": f"H-{person}", "city": CITY, "monthly_amount": 60000,
                             "from_month": "2020-01"}, f"person/{person}"


def _k17_application(person: str) -> tuple[str, dict[str, object], str]:
    return "application.submitted", {"program": "temporary_living_allowance", "applicant": person,
                                     "on": K17_APPLIED.isoformat()}, f"person/{person}"


@kind("temporary_living_allowance")
@st.composite
def k17_sequences(draw: st.DrawFn) -> Sequence:
    """A registered person of a 低保 household applies; then any of: a re-employment dated in
    allowance month 1..3 (the months after it are not owed: overpaid when it arrives late, also
    after the case completed, since a closed case takes facts for ledger.correction_days), and a
    backdated or current change of `tla.monthly`, announced on or after its effective day.

    Left out: the registration and the 低保 grant come before the application (a rejection for
    want of them is judged again only within intake.late_fact_days: a fact later than that
    makes order matter, by the policy's own rule); every event is announced on or after the
    application (a fact announced before it is read at opening)."""
    events: list[Event] = []
    if draw(st.booleans()):
        on = draw(days(K17_APPLIED, date(2020, 7, 14)))
        events.append(Event(f"reemployed {on}", draw(days(on, K17_LAST_FACT)), _reemployed(on)))
    if draw(st.booleans()) or not events:
        effective = draw(days(date(2020, 3, 1), date(2020, 7, 1)))
        value = draw(st.sampled_from([50000, 70000, 90000]))
        events.append(Event(f"tla.monthly {value} from {effective}", draw(days(max(effective, K17_APPLIED), K17_LAST_FACT)),
                            _shared("policy.parameter.changed", {"city": CITY, "name": "tla.monthly", "value": value,
                                                                 "effective_on": effective.isoformat()}, f"city/{CITY}")))
    opening = (Event("registered", date(2020, 2, 1), _k17_registered), Event("低保", date(2020, 2, 3), _k17_dibao),
               Event("applied", K17_APPLIED, _k17_application))
    return Sequence(K17_FIRST_DAY, opening, tuple(sorted(events, key=lambda e: e.on)), None, K17_UNTIL)


# -- the property --------------------------------------------------------------------------------


@st.composite
def sequence_and_delivery(draw: st.DrawFn, name: str) -> tuple[Sequence, Delivery]:
    sequence = draw(SEQUENCES[name])
    return sequence, draw(deliveries(sequence, LATE_DAYS))


@pytest.mark.parametrize("name", sorted(SEQUENCES))
@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_net_owed_does_not_depend_on_delivery_order(env: WorkflowEnvironment, name: str, data: st.DataObject) -> None:
    sequence, delivery = data.draw(sequence_and_delivery(name))
    note(f"delivered: {[(str(day), repr(e)) for day, e in schedule(sequence, delivery)]}")
    await assert_order_independent(env, name, sequence, delivery)


async def test_an_earlier_lift_announcement_arriving_last_does_not_replace_the_correction(env: WorkflowEnvironment) -> None:
    """What the property found (shrunk): the lift date corrected to 03-01 on 03-05 arrives before
    the first announcement (03-04, lifted 03-04). The case took whichever arrived last, so month
    4 (06-02: before 03-04 + 3 months, not before 03-01 + 3 months) was paid its uplift; the
    later announcement stands now, as for a case that reads both from the store."""
    declared, claim = _k2_opening()
    first = Event("lifted 2020-03-04", date(2020, 3, 4), _lifted(date(2020, 3, 4)))
    corrected = Event("lift corrected to 2020-03-01", date(2020, 3, 5), _lifted(date(2020, 3, 1)))
    sequence = Sequence(K2_FIRST_DAY, (declared, claim), (first, corrected), None, date(2020, 7, 10))
    await assert_order_independent(env, "unemployment_insurance", sequence, Delivery((1, 0), (0, 0)))


async def assert_order_independent(env: WorkflowEnvironment, name: str, sequence: Sequence, delivery: Delivery) -> None:
    async with world(env, sequence.first_day) as w:
        expected = await run(w, person_id(name), sequence, in_order(sequence))
    assert any(amount > 0 for amount in expected.values()), "in-order delivery paid nothing: the example tests nothing"
    async with world(env, sequence.first_day) as w:
        got = await run(w, person_id(name), sequence, delivery)
    assert got == expected
