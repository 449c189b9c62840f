"""Issue 13's property: for random event sequences of each kind, delivering the same events in
any order, or with some delivered late, ends with the same net owed per (case, program, period)
as in-order delivery (POLICY.md part 2: what a case owes is a function of the facts it knows).

Each example runs two worlds on Temporal's time-skipping server (tests/workflow/harness.py: the
production intake, gateway and worker on a MemoryStore): one with
every event delivered at its own business time, one with the delivery hypothesis drew
(tests/workflow/_order_independence.py). Net owed = Σ WORTH_SIGN × amount of the ledger rows
(policy.corrections), compared on a day after everything settled.

Deterministic in CI: `derandomize=True`, no example database; a handful of examples per kind,
because each runs two cases over months of business time.

Every kind that pays takes part: K2 and K17 here, the others in tests/workflow/
_order_independence_kinds.py. K8 layoff_plan, K9 unemployed_followup and K12 (the difficult-to-
employ determination, a rule the others use) pay nothing, so they have no net owed to compare.

Adding a kind: a strategy of its `Sequence`s registered in `SEQUENCES` with `@kind(...)`; the
sequences the policy itself makes order-dependent are left out, and its docstring says which.

What it found: a case took the epidemic lift date that arrived last, not the one announced last
(as `load_context` does for the stored facts), so a correction overtaken by the announcement it
corrects was undone (`test_an_earlier_lift_announcement_arriving_last_...`; fixed in
`CaseWorkflow.apply_shared_fact` behind `workflow.patched`). Also fixed: K1 and K10 cases that
closed were not corrected by a hire, end or interruption (K1) or a restated grant (K10)
delivered after they closed (their generators now deliver those late; see their docstrings in
_order_independence_kinds.py); K5's `apply`
ignored every event once the case closed, so a listening K5 case was never corrected
(`test_k5_a_backdated_raise_...`; behind `workflow.patched`); so did K4's and K15's
(`test_k4_a_backdated_ratio_...`, `test_k15_a_backdated_months_cut_...`; their generators now
close the case inside a sequence too); K18 never counted a placement
whose job (or the placement itself) was delivered after the quarter was settled (`test_k18_a_
job_arriving_...`; behind `k18-late-jobs`); K13 took the interest report that arrived last
rather than the one announced last, and completed unpaid (so listened for nothing) when a
report past the term arrived first (`test_k13_...`; behind `k13-order-independent`); K6b
counted the first report of a month it was delivered, not the one announced last (`test_a_
corrected_report_stands_whatever_order_it_arrives_hiring_subsidy`; behind
`k6-latest-report-stands`), and K11 the application delivered last
(`test_a_corrected_report_stands_whatever_order_it_arrives_hubei_graduate_grant`; behind
`k11-latest-application-stands`), and K16 the expenses report delivered last
(`..._incubator_subsidy`; behind `k16-latest-report-stands`) and a month's rent relief report
delivered last (`test_a_corrected_rent_relief_stands_whatever_order_it_arrives_incubator_subsidy`;
behind `k16-latest-rent-relief-stands`); K1, with a later interruption still open, ignored an
earlier one reported late with its resumption, which then ended the later pause (`test_a_
resumption_ends_its_own_pause_whatever_order_it_arrives_internship_subsidy`; behind
`k1-resume-matches-its-pause`); K10 took, of two grants from one month, the one delivered last
(`test_a_restated_grant_stands_whatever_order_it_arrives_dibao_taper`; behind
`k10-latest-grant-stands`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from contracts import kinds
from policy import hiring, unemployment
from policy.calendar import add_months, first_of_month, month_of
from policy.monthly_schedule import month_start
from policy.pack import load_pack
from tests.workflow import _order_independence_kinds as kind_generators  # registers the other paying kinds' generators
from tests.workflow._order_independence import SEQUENCES, Delivery, Event, Net, Sequence, days, deliveries, in_order, person_id, run, schedule
from tests.workflow.harness import world

# Each example is two cases over up to a year and a half of business time (~5 s on 2 cores);
# 4 per kind keeps the file within its CI budget (~6 minutes) across every paying kind. A longer
# search, outside CI: JIUYE_ORDER_EXAMPLES=25 pytest tests/workflow/test_order_independence.py
EXAMPLES = int(os.environ.get("JIUYE_ORDER_EXAMPLES", "4"))
LATE_DAYS = st.sampled_from([0, 0, 12, 40, 75])


def kind(name: str) -> Callable[[Callable[[], st.SearchStrategy[Sequence]]], Callable[[], st.SearchStrategy[Sequence]]]:
    def register(generator: Callable[[], st.SearchStrategy[Sequence]]) -> Callable[[], st.SearchStrategy[Sequence]]:
        SEQUENCES[name] = generator()
        return generator
    return register


# -- K2 unemployment_insurance --------------------------------------------------------------------
CITY = "2101"
K2_FIRST_DAY = date(2020, 1, 20)
K2_DECLARED = date(2020, 1, 25)
K2_CLAIM = date(2020, 3, 2)  # benefit months start on the 2nd; 30 insured months: 12 months
K2_LAST_FACT = date(2020, 9, 30)  # without a re-employment, the last day an event carries
K2_LAST_LIFT = date(2020, 7, 31)  # L + 3 months reaches past the last month paid
K2_UNTIL = date(2020, 12, 28)  # after the latest delivery (last fact + the longest lateness)
K2_PARAMS = load_pack().parameters(CITY)


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
    linkage for the calendar month of any benefit month started by the last event (also one the
    re-employment removes: paid, then overpaid under the linkage's rule, or never paid), and a
    re-employment dated in benefit month 2..7, announced that day or up to 60 days later (the
    months after it, and their linkage, overpaid when it is learnt late).

    Sequences left out, because the policy itself makes order matter there:
    - The claim is delivered first and every other event is announced on or after it: the claim
      opens the case, an event for a person with no case opens nothing (a re-employment before
      the claim concerns the job the person left), and a shared fact announced before it is read
      from the store at opening, not delivered to the case.
    - The re-employment is the closing event: delivered last, and announced on or after every
      other event. A closed K2 case takes facts for `ledger.correction_days` (re-employment
      through streams/routes/unemployment.py `LATE_FACTS`, shared facts through the intake's
      fan-out to listening cases), but this generator does not deliver any after the close;
      neither does it reach an exhausted case (closing into K3): the sequences end well inside
      the 12 months of entitlement.
    """
    closing: Event | None = None
    last = K2_LAST_FACT
    if draw(st.booleans()):
        k = draw(st.integers(2, 7))  # re-employed during benefit month k: months after k are not owed
        on = draw(days(month_start(K2_CLAIM, k), month_start(K2_CLAIM, k + 1) - timedelta(days=1)))
        announced = draw(st.sampled_from([0, 0, 20, 60]).map(lambda late: min(on + timedelta(days=late), K2_LAST_FACT)))
        closing, last = Event(f"reemployed {on}", announced, _reemployed(on)), announced
    paid_months = unemployment.months_started(last, K2_CLAIM)  # the months a case knowing nothing else pays by then
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
        n = draw(st.integers(1, paid_months))  # on the final facts, maybe a month not owed
        month = month_of(month_start(K2_CLAIM, n))
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


async def test_a_linkage_of_a_month_a_late_reemployment_removes_nets_to_nothing_in_either_order(env: WorkflowEnvironment) -> None:
    """K2's price linkage is in what is owed (k2-price-linkage-owed): June's linkage (month 4,
    06-02) is paid, whether it arrives on its day or 40 days late, and the re-employment of 05-10
    announced on 07-05 removes months 4 and 5 with their linkage, so net owed is the same."""
    declared, claim = _k2_opening()
    linkage = Event("price linkage 2020-06 12000", date(2020, 6, 5), _shared(
        "policy.price_linkage.triggered", {"city": CITY, "month": "2020-06", "amount": 12000}, f"city/{CITY}"))
    lifted = Event("lifted 2020-04-20", date(2020, 6, 20), _lifted(date(2020, 4, 20)))
    closing = Event("reemployed 2020-05-10", date(2020, 7, 5), _reemployed(date(2020, 5, 10)))
    sequence = Sequence(K2_FIRST_DAY, (declared, claim), (linkage, lifted), closing, date(2020, 10, 10))
    await assert_order_independent(env, "unemployment_insurance", sequence, Delivery((1, 0), (0, 40)))


async def test_k18_a_job_arriving_after_the_quarter_was_settled_confirms_the_placement(env: WorkflowEnvironment) -> None:
    """What the property found: a placement on 04-10 whose person was employed on 05-21 (within
    service_subsidy.confirm_days) earns per_placement for 2020-Q2 when the job arrives in time;
    delivered on 11-19, after Q2 was settled (09-28), it is never counted (Q2 owes 0, not 30000),
    although the job is dated inside the confirmation window."""
    first = kind_generators.K18_FIRST
    employed = date(2020, 5, 21)
    sequence = Sequence(date(2020, 4, 1), (Event("placement S1", first, kind_generators._service(first, "job_placement", "S1")),),
                        (Event(f"S1 employed {employed}", employed, kind_generators._placed("S1", employed, True)),), None,
                        date(2021, 4, 20))
    await assert_order_independent(env, "employment_service_subsidy", sequence, Delivery((0,), (182,)))


async def test_k1_a_hire_arriving_after_the_internship_completed_removes_the_months_after_it(env: WorkflowEnvironment) -> None:
    """What the property found (fixed behind `k1-late-facts-correct`): a 5-month internship from
    03-02 whose unit hired the intern on 05-25 (a third or more left: completed months only) owes
    months 1 and 2; delivered on 08-08, after the internship completed (08-02), the hire was never
    routed to the closed case (it listens for corrections), and months 3..5 stayed paid."""
    start = kind_generators.K1_START
    hired = date(2020, 5, 25)
    agreement = Event("agreement", start, kind_generators._person_event("internship.agreement_signed", lambda p: {
        "person_id": p, "unit_id": f"{p}U", "city": CITY, "starts_on": start.isoformat(), "months": 5, "cohort": 2020}))
    sequence = Sequence(date(2020, 2, 20), (agreement,), (), Event(f"hired {hired}", hired, kind_generators._contract(
        hired, hired + timedelta(days=1), 12, "U")), date(2020, 12, 1))
    await assert_order_independent(env, "internship_subsidy", sequence, Delivery((), (), 75))


async def test_k1_an_open_interruption_arriving_after_a_month_it_holds_was_paid_owes_nothing_for_it(env: WorkflowEnvironment) -> None:
    """What the property found (fixed behind `k1-open-pause-owes-nothing`): a 3-month internship
    from 03-02 interrupted (epidemic) from 04-14, never resumed: in order month 2 (completing after
    04-14) is never paid; delivered on 05-24, after month 2 was paid (05-02), it stayed 120000,
    since a month an open epidemic pause held stayed owed (its end moves with the pause). An open
    pause owes nothing from its start until a resumption is known."""
    start = kind_generators.K1_START
    agreement = Event("agreement", start, kind_generators._person_event("internship.agreement_signed", lambda p: {
        "person_id": p, "unit_id": f"{p}U", "city": CITY, "starts_on": start.isoformat(), "months": 3, "cohort": 2020}))
    on = date(2020, 4, 14)
    interrupted = Event(f"interrupted (epidemic) {on}", on, kind_generators._person_event("internship.interrupted", lambda p: {
        "person_id": p, "unit_id": f"{p}U", "on": on.isoformat(), "reason": "epidemic"}))
    sequence = Sequence(date(2020, 2, 20), (agreement,), (interrupted,), None, date(2020, 12, 1))
    await assert_order_independent(env, "internship_subsidy", sequence, Delivery((0,), (40,)))


async def test_a_resumption_ends_its_own_pause_whatever_order_it_arrives_internship_subsidy(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2, what is owed depends on the facts, not the order they arrive in — for
    two interruptions of a K1 internship (fixed behind `k1-resume-matches-its-pause`): a 4-month
    internship from 03-02 interrupted (epidemic) 03-20..04-05, reported with its resumption on
    04-05, and interrupted (other reason) from 05-10, never resumed. In order both pauses stand:
    month 1 is paid, month 2 is held by the open pause. With the first delivered on 05-10 after
    the second, the case ignored the earlier interruption (it was already interrupted) and its
    resumption ended the open pause on 05-10, so months 2..4 were paid."""
    start = kind_generators.K1_START
    agreement = Event("agreement", start, kind_generators._person_event("internship.agreement_signed", lambda p: {
        "person_id": p, "unit_id": f"{p}U", "city": CITY, "starts_on": start.isoformat(), "months": 4, "cohort": 2020}))
    first = Event("interrupted (epidemic) 2020-03-20..2020-04-05", date(2020, 4, 5),
                  kind_generators._k1_interrupted(date(2020, 3, 20), "epidemic"), (kind_generators._k1_resumed(date(2020, 4, 5)),))
    second = Event("interrupted (other) 2020-05-10", date(2020, 5, 10), kind_generators._k1_interrupted(date(2020, 5, 10), "other"))
    sequence = Sequence(date(2020, 2, 20), (agreement,), (first, second), None, date(2020, 12, 1))
    net = await assert_order_independent(env, "internship_subsidy", sequence, Delivery((1, 0), (0, 0)))
    assert [period for (_, _, period) in net] == ["month-1"], "the open pause holds month 2 and after"


async def test_a_restated_grant_stands_whatever_order_it_arrives_dibao_taper(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2, a corrected report replaces an earlier one — for K10's 低保 grant (fixed
    behind `k10-latest-grant-stands`): 低保 of 60000 from 2020-01, employment on 03-10 (the taper
    pays from 04-01), the grant restated from 2020-03 on 03-20 (50000) and again on 03-21
    (70000). Both delivered on 03-21, the later first: the case took the grant delivered last
    (50000), where in order 70000 stands. The grant announced last stands in both."""
    g = kind_generators
    opening = (Event("低保", date(2020, 1, 5), g._dibao(60000, "2020-01")), Event("employed", g.K10_EMPLOYED, g._employed(g.K10_EMPLOYED)))
    first = Event("低保 restated 50000 from 2020-03", date(2020, 3, 20), g._dibao(50000, "2020-03"))
    again = Event("低保 restated again 70000 from 2020-03 on 2020-03-21", date(2020, 3, 21), g._dibao(70000, "2020-03"))
    sequence = Sequence(date(2020, 1, 1), opening, (first, again), None, date(2021, 2, 20))
    net = await assert_order_independent(env, "dibao_taper", sequence, Delivery((1, 0), (0, 0)))
    assert set(net.values()) == {70000}, "every taper month pays the grant announced last"


async def test_k10_a_restated_grant_arriving_after_the_taper_completed_corrects_it(env: WorkflowEnvironment) -> None:
    """What the property found (fixed in streams/routes/dibao.py): 低保 of 60000 from 2020-01,
    employment on 03-10 (six months of taper from April), and on 07-19 the grant restated as
    70000 from 2020-02: in order, each month is owed 70000; delivered on 10-02, after the taper
    completed, the grant opened a new case that waits for an employment, and the taper kept
    60000 a month. It covers the employment, so it now reaches the listening taper."""
    opening = (Event("低保", date(2020, 1, 5), kind_generators._dibao(60000, "2020-01")),
               Event("employed", kind_generators.K10_EMPLOYED, kind_generators._employed(kind_generators.K10_EMPLOYED)))
    restated = Event("低保 restated 70000 from 2020-02", date(2020, 7, 19), kind_generators._dibao(70000, "2020-02"))
    sequence = Sequence(date(2020, 1, 1), opening, (restated,), None, date(2021, 1, 20))
    await assert_order_independent(env, "dibao_taper", sequence, Delivery((0,), (75,)))


async def test_k13_an_original_interest_report_arriving_after_its_correction_does_not_replace_it(env: WorkflowEnvironment) -> None:
    """What the property found: Q3's interest reported on 10-02 (121250: subsidy 62500) and
    corrected on 12-27 (100000: 51546); both delivered on 2021-02-05, the correction first, the
    case kept the original's 62500 — the report announced last stands, as for the lift date."""
    quarter = ("2020-Q3", "2020-07-01", "2020-09-30")
    original = Event("interest 2020-Q3", date(2020, 10, 2), kind_generators._interest(*quarter, 121250))
    corrected = Event("interest 2020-Q3 corrected", date(2020, 12, 27), kind_generators._interest(*quarter, 100000))
    granted = kind_generators.k13_opening()
    sequence = Sequence(date(2020, 3, 20), granted, (original, corrected), None, date(2021, 5, 1))
    await assert_order_independent(env, "startup_loan_interest", sequence, Delivery((1, 0), (40, 40)))


async def test_k13_a_report_after_the_term_arriving_first_does_not_complete_the_case_unpaid(env: WorkflowEnvironment) -> None:
    """What the property found: Q2's interest (subsidy 62500) and Q4's (wholly after the term
    ending 10-01: nothing) both delivered on 2021-01-04, Q4's first: the case completed on it,
    with nothing paid, so it did not listen for corrections and Q2's report found no case."""
    q2 = Event("interest 2020-Q2", date(2020, 7, 2), kind_generators._interest("2020-Q2", "2020-04-01", "2020-06-30", 121250))
    q4 = Event("interest 2020-Q4", date(2021, 1, 4), kind_generators._interest("2020-Q4", "2020-10-01", "2020-12-31", 121250))
    sequence = Sequence(date(2020, 3, 20), kind_generators.k13_opening(), (q2, q4), None, date(2021, 5, 1))
    await assert_order_independent(env, "startup_loan_interest", sequence, Delivery((1, 0), (0, 0)))


async def test_a_corrected_report_stands_whatever_order_it_arrives_hiring_subsidy(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2, a corrected report replaces an earlier one — what the property found at
    8 examples (fixed behind `k6-latest-report-stands`): a K6b hire from 07-01, July's employer
    share reported on 08-05 (50000) and corrected on 08-06 (30000), August's and September's
    (50000 each) on their 5th. K6b counted the first report of a month it was delivered and
    ignored the rest: 150000 in order, 130000 with the correction delivered first. The report
    announced last stands in both: the correction's share and the other two months."""
    g = kind_generators
    original = Event("contribution 2020-07", date(2020, 8, 5), g._employer_contribution("2020-07", 50000))
    corrected = Event("contribution 2020-07 corrected to 30000", date(2020, 8, 6), g._employer_contribution("2020-07", 30000))
    later = tuple(Event(f"contribution {month}", on, g._employer_contribution(month, 50000))
                  for month, on in (("2020-08", date(2020, 9, 5)), ("2020-09", date(2020, 10, 5))))
    sequence = Sequence(g.K6_FIRST_DAY, g.k6_opening(), (original, corrected, *later), None, g.K6_UNTIL)
    net = await assert_order_independent(env, "hiring_subsidy", sequence, Delivery((1, 0, 2, 3), (0, 1, 0, 0)))
    case = kinds.hiring_case_id(hiring.PRIORITY, "{person}E", "{person}")
    assert net == {(case, hiring.PRIORITY, hiring.PERIOD): 30000 + 50000 + 50000}


async def test_a_corrected_report_stands_whatever_order_it_arrives_hubei_graduate_grant(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2, a corrected report replaces an earlier one — what the property found at
    8 examples (fixed behind `k11-latest-application-stands`): the grant paid on 04-01 (hukou 42),
    the application restated on 04-02 (42) and on 05-29 (41: not 湖北籍); both delivered on 05-29,
    the later first: the case took the details delivered last (42) and kept the grant, where in
    order 41 stands and the grant is overpaid. The application announced last stands in both."""
    g = kind_generators
    opening = (Event("applied", g.K11_APPLIED, g._k11_application(g.K11_APPLIED, "42")),)
    restated = Event("application corrected to hukou 42", date(2020, 4, 2), g._k11_application(date(2020, 4, 2), "42"))
    corrected = Event("application corrected to hukou 41", date(2020, 5, 29), g._k11_application(date(2020, 5, 29), "41"))
    sequence = Sequence(date(2020, 3, 20), opening, (restated, corrected), None, date(2020, 12, 20))
    net = await assert_order_independent(env, "hubei_graduate_grant", sequence, Delivery((1, 0), (0, 0)))
    assert net == {}, "hukou 41 stands: the grant is not owed"


async def test_a_corrected_report_stands_whatever_order_it_arrives_incubator_subsidy(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2, a corrected report replaces an earlier one — what the property found at
    8 examples (fixed behind `k16-latest-report-stands`): 2020's expenses reported on 2021-02-01
    (operating 2000000) and corrected on 02-02 (1000000); both delivered on 02-02, the correction
    first: the case took the report delivered last, and the city's support was 900000 where in
    order it is 600000. The report announced last stands in both."""
    g = kind_generators
    original = Event("expenses 2020", date(2021, 2, 1), g._expenses(2000000, date(2021, 2, 1)))
    corrected = Event("expenses 2020 corrected on 2021-02-02", date(2021, 2, 2), g._expenses(1000000, date(2021, 2, 2)))
    sequence = Sequence(g.K16_FIRST_DAY, g.k16_opening(), (original, corrected), None, g.K16_UNTIL)
    await assert_order_independent(env, "incubator_subsidy", sequence, Delivery((1, 0), (0, 0)))


async def test_a_corrected_rent_relief_stands_whatever_order_it_arrives_incubator_subsidy(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2, a corrected report replaces an earlier one — for K16's rent relief
    (fixed behind `k16-latest-rent-relief-stands`): March's rent relief reported on 2020-04-02
    (60000 waived) and corrected on 04-03 (120000); both delivered on 04-03, the correction
    first: the case took the report delivered last, and March's relief was half of 60000 where
    in order it is half of 120000. The report announced last stands in both."""
    g = kind_generators
    original = Event("rent relief 2020-03", date(2020, 4, 2), g._rent_relief("2020-03", 60000, date(2020, 4, 2)))
    corrected = Event("rent relief 2020-03 corrected on 2020-04-03", date(2020, 4, 3),
                      g._rent_relief("2020-03", 120000, date(2020, 4, 3)))
    sequence = Sequence(g.K16_FIRST_DAY, g.k16_opening(), (original, corrected), None, g.K16_UNTIL)
    await assert_order_independent(env, "incubator_subsidy", sequence, Delivery((1, 0), (0, 0)))


async def test_k5_a_backdated_raise_arriving_after_a_temporary_post_completed_pays_arrears(env: WorkflowEnvironment) -> None:
    """What the property found (fixed behind `k5-late-facts-correct`): a 3-month temporary post
    from 03-02 and, announced on 05-17, welfare_post.post_subsidy 175000 from 03-07: in order
    months 2 and 3 are owed 175000; delivered on 06-26, after the post completed (06-02), the
    listening case noted "what is owed is unchanged" (its `apply` returned for a closed case)
    and they stayed at 165000."""
    opening = (Event("registered", date(2020, 1, 2), kind_generators._registered(["disabled"], date(2020, 1, 2), date(2035, 1, 1))),
               Event("placed for 3 months", kind_generators.K5_START, kind_generators._person_event("welfare_post.placed", lambda p: {
                   "person_id": p, "post_id": f"{p}POST", "city": CITY, "starts_on": kind_generators.K5_START.isoformat(),
                   "kind": "temporary", "months": 3})))
    raised = Event("welfare_post.post_subsidy 175000 from 2020-03-07", date(2020, 5, 17),
                   kind_generators._parameter("welfare_post.post_subsidy", 175000, date(2020, 3, 7)))
    sequence = Sequence(date(2020, 1, 1), opening, (raised,), None, date(2020, 9, 1))
    await assert_order_independent(env, "public_welfare_post", sequence, Delivery((0,), (40,)))


@pytest.mark.parametrize("off_post", ["left", "stable contract"])
async def test_k5_leaving_the_post_sent_before_the_late_registration_that_reopens_the_case_ends_it(
        env: WorkflowEnvironment, off_post: str) -> None:
    """Found by the demo (its `late_fact_reopen` scenario sent as one story): a placement from
    03-02 reported on 05-01 and rejected, the person not registered as difficult to employ; on
    05-10 the person leaves the post (or signs a stable contract from 05-10), and the
    registration of 01-02 arrives after it. In order months 1 and 2 are owed; delivered so, the
    leaving found no open case (K5's route gave it to open cases only) and was dead-lettered, and
    the registration reopened the case, which paid on to the end of the year. Fixed in
    streams/routes/welfare_post.py (they reach a listening case) and `held_while_rejected`."""
    registered = Event("registered", date(2020, 1, 2), kind_generators._registered(["disabled"], date(2020, 1, 2), date(2035, 1, 1)))
    placed = Event("placed", kind_generators.K5_START, kind_generators._person_event("welfare_post.placed", lambda p: {
        "person_id": p, "post_id": f"{p}POST", "city": CITY, "starts_on": kind_generators.K5_START.isoformat(), "kind": "regular"}))
    on = date(2020, 5, 10)
    if off_post == "left":
        leaving = Event(f"left {on}", on, kind_generators._person_event("welfare_post.left", lambda p: {
            "person_id": p, "post_id": f"{p}POST", "on": on.isoformat()}))
    else:
        leaving = Event(f"stable contract {on}", on, kind_generators._contract(on, on, None))
    sequence = Sequence(date(2020, 1, 1), (), (registered, placed, leaving), None, date(2020, 12, 20))
    expected = await assert_order_independent(env, "public_welfare_post", sequence, Delivery((1, 2, 0), (0, 60, 0)))
    assert {period for _, _, period in expected} == {"month-1", "month-2"}


async def test_k4_a_backdated_ratio_arriving_after_a_stable_contract_closed_the_case_pays_arrears(env: WorkflowEnvironment) -> None:
    """As K5's (fixed behind `k4-late-facts-correct`): May's and June's own contributions paid,
    flexible.ratio 3/4 from 05-01 announced on 06-15, and a stable contract from 07-10 that
    closes the case `employed`: in order both months are owed 3/4; the change delivered on 07-25,
    after the close, found a listening case whose `apply` returned, and they stayed at 2/3."""
    opening = (Event("registered", date(2020, 3, 2), kind_generators._registered(["disabled"], date(2020, 3, 2))),
               Event("applied", kind_generators.K4_APPLIED, kind_generators._person_event("application.submitted", lambda p: {
                   "program": "flexible_employment_si", "applicant": p, "on": kind_generators.K4_APPLIED.isoformat(), "details": {}})),
               Event("contribution 2020-05", date(2020, 5, 20), kind_generators._k4_contribution("2020-05", 60000, 24000)),
               Event("contribution 2020-06", date(2020, 6, 20), kind_generators._k4_contribution("2020-06", 60000, 24000)))
    raised = Event("flexible.ratio [3, 4] from 2020-05-01", date(2020, 6, 15),
                   kind_generators._parameter("flexible.ratio", [3, 4], date(2020, 5, 1)))
    hired = Event("stable contract 2020-07-10", date(2020, 7, 10), kind_generators._contract(date(2020, 7, 10), date(2020, 7, 10), 12))
    sequence = Sequence(date(2020, 3, 1), opening, (raised, hired), None, date(2020, 9, 1))
    await assert_order_independent(env, "flexible_employment_subsidy", sequence, Delivery((1, 0), (40, 0)))


async def test_k15_a_backdated_months_cut_arriving_after_a_separation_closed_the_case_overpays(env: WorkflowEnvironment) -> None:
    """As K5's (fixed behind `k15-late-facts-correct`): a hire from 03-05, March's and April's
    employer shares paid, the person left on 04-30 (reported 05-05; the case ends 06-01, after
    the wait for April's contribution), and, announced on 05-10, enterprise_si.months 1 from
    03-01: in order April is overpaid; delivered on 06-19, after the close, the change found a
    listening case whose `apply` returned, and April stayed paid."""
    opening = (Event("registered", date(2020, 1, 6), kind_generators._registered(["disabled"], date(2020, 1, 6))),
               Event("hired", kind_generators.K15_SIGNED, kind_generators._contract(kind_generators.K15_SIGNED, kind_generators.K15_SIGNED, 24)),
               Event("contribution 2020-03", date(2020, 4, 20), kind_generators._employer_contribution("2020-03", 50000)),
               Event("contribution 2020-04", date(2020, 5, 20), kind_generators._employer_contribution("2020-04", 50000)))
    left = Event("left 2020-04-30", date(2020, 5, 5), lambda p: ("insured.left", {
        "person_id": p, "employer_id": f"{p}E", "on": "2020-04-30", "reason": "resignation"}, f"person/{p}"))
    cut = Event("enterprise_si.months 1 from 2020-03-01", date(2020, 5, 10), kind_generators._parameter("enterprise_si.months", 1, date(2020, 3, 1)))
    sequence = Sequence(date(2020, 1, 5), opening, (left, cut), None, date(2020, 9, 1))
    await assert_order_independent(env, "enterprise_si_subsidy", sequence, Delivery((0, 1), (0, 40)))


async def test_k15_a_corrected_report_arriving_after_a_separation_closed_the_case_corrects_it(env: WorkflowEnvironment) -> None:
    """Fixed in streams/routes/enterprise_si.py: a hire from 03-05, March's employer share paid
    (50000), the person left on 04-10 (reported 04-25; the case ends 06-01, after the wait for
    April's contribution), and March reported again on 05-10 with 60000: in order March is worth
    60000; delivered on 06-19, after the close, the report reached no case (the route gave
    contributions to open cases only) and March stayed 50000."""
    opening = (Event("registered", date(2020, 1, 6), kind_generators._registered(["disabled"], date(2020, 1, 6))),
               Event("hired", kind_generators.K15_SIGNED, kind_generators._contract(kind_generators.K15_SIGNED, kind_generators.K15_SIGNED, 24)),
               Event("contribution 2020-03", date(2020, 4, 20), kind_generators._employer_contribution("2020-03", 50000)))
    left = Event("left 2020-04-10", date(2020, 4, 25), kind_generators._left(date(2020, 4, 10)))
    corrected = Event("contribution 2020-03 corrected to 60000", date(2020, 5, 10), kind_generators._employer_contribution("2020-03", 60000))
    sequence = Sequence(date(2020, 1, 5), opening, (left, corrected), None, date(2020, 9, 1))
    await assert_order_independent(env, "enterprise_si_subsidy", sequence, Delivery((0, 1), (0, 40)))


async def test_k15_a_fee_exemption_arriving_after_a_separation_closed_the_case_overpays(env: WorkflowEnvironment) -> None:
    """Fixed behind `k15-fee-exemption-delivered`: a hire from 03-05, March's and April's employer
    shares paid, the person left on 04-30 (reported 05-05; the case ends 06-01), and, reported on
    05-10, the employer's fees exempted in April: in order the case reads it when it closes and
    April is overpaid; delivered on 06-19, after the close, the exemption reached no case (it was
    routed to none, and a closed case never read the exemptions again) and April stayed paid."""
    opening = (Event("registered", date(2020, 1, 6), kind_generators._registered(["disabled"], date(2020, 1, 6))),
               Event("hired", kind_generators.K15_SIGNED, kind_generators._contract(kind_generators.K15_SIGNED, kind_generators.K15_SIGNED, 24)),
               Event("contribution 2020-03", date(2020, 4, 20), kind_generators._employer_contribution("2020-03", 50000)),
               Event("contribution 2020-04", date(2020, 5, 20), kind_generators._employer_contribution("2020-04", 50000)))
    left = Event("left 2020-04-30", date(2020, 5, 5), kind_generators._left(date(2020, 4, 30)))
    exempted = Event("fee exemption 2020-04", date(2020, 5, 10), kind_generators._enterprise("si.fee_exemption", lambda p: {
        "enterprise_id": f"{p}E", "from_month": "2020-04", "to_month": "2020-04"}))
    sequence = Sequence(date(2020, 1, 5), opening, (left, exempted), None, date(2020, 9, 1))
    await assert_order_independent(env, "enterprise_si_subsidy", sequence, Delivery((0, 1), (0, 40)))


async def test_k4_a_contribution_arriving_after_a_stable_contract_closed_the_case_is_paid(env: WorkflowEnvironment) -> None:
    """Fixed in streams/routes/flexible.py: a flexible-employment period from 05-01, May's and
    June's own contributions (84000 each: 56000 owed), a stable contract from 07-01: in order June
    is paid 56000; June's contribution delivered after the contract closed the case reached no
    case (the route gave contributions to open cases only) and June was owed nothing."""
    opening = (Event("registered", date(2020, 3, 2), kind_generators._registered(["disabled"], date(2020, 3, 2))),
               Event("applied", kind_generators.K4_APPLIED, kind_generators._person_event("application.submitted", lambda p: {
                   "program": "flexible_employment_si", "applicant": p, "on": kind_generators.K4_APPLIED.isoformat(), "details": {}})),
               Event("contribution 2020-05", date(2020, 5, 20), kind_generators._k4_contribution("2020-05", 60000, 24000)))
    june = Event("contribution 2020-06", date(2020, 6, 20), kind_generators._k4_contribution("2020-06", 60000, 24000))
    signed = date(2020, 7, 1)
    contract = Event(f"stable contract {signed}", signed, kind_generators._contract(signed, signed, 12))
    sequence = Sequence(date(2020, 3, 1), opening, (june, contract), None, date(2020, 12, 1))
    await assert_order_independent(env, "flexible_employment_subsidy", sequence, Delivery((1, 0), (0, 0)))


async def assert_order_independent(env: WorkflowEnvironment, name: str, sequence: Sequence, delivery: Delivery) -> Net:
    """Net owed is the same delivered in order and as `delivery` says; returns it."""
    async with world(env, sequence.first_day) as w:
        expected = await run(w, person_id(name), sequence, in_order(sequence))
        # A period paid and then overpaid in full nets to nothing, and is a test all the same.
        paid = any(p.entry == "payment" for p in w.store.ledger.values())
    assert paid, "in-order delivery paid nothing: the example tests nothing"
    async with world(env, sequence.first_day) as w:
        got = await run(w, person_id(name), sequence, delivery)
    assert got == expected
    return expected
