"""The live preview's rebuild on the real stack (app/live_events.py; POLICY.md part 2, "Parameter
changes with a preview and two pairs of eyes"): a K7 refund that rests on contributions no case
took and on enrolments that name the enterprise only in their data, previewed from the inbox,
`subject_facts`, `contribution_facts` and Kafka, equals what the case then does; and reading the
events back from Kafka reads the offsets the inbox names, not the topic.

K7's cases decide on the application date and keep listening `ledger.correction_days` after it,
and `retention.until` ends applications in 2020, so a K7 case a change still reaches runs on the
business clock (`JIUYE_BUSINESS_DATE`, as `jiuye demo`): the intake starts it in 2020, and the
console's preview announces the change on that clock (app/parameter_preview.py `live_previewer`)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from app.live_events import live_events
from app.parameter_preview import difference, live_previewer, preview_live
from console.service import Console, Principal
from console.service.proposals import attach_preview, compute_preview, decide, propose
from contracts import kinds
from contracts.topics import TOPIC_OF_TYPE
from policy import hiring as hiring_policy
from policy.calendar import add_months, month_of
from testkit.events import line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today
from tests.e2e.test_enterprise_e2e import Events, closed_case
from tests.e2e.test_intake_e2e import CITY, MONTHS_AGO, Internship
from tests.e2e.test_parameter_preview_e2e import worth

pytestmark = pytest.mark.e2e

# The business day the intake's clock starts on: after the applications, within their window.
BUSINESS = date(2020, 4, 1)
APPLIED = date(2020, 3, 10)
FUND = "ui_fund"


async def test_live_preview_rebuilds_contributions_no_case_took_from_contribution_facts_on_the_stack(
        bare_system: System) -> None:
    """A large manufacturer's refund is 50% of its staff's prior-year UI premiums (2 × 60000 fen
    → 60000). Its staff have no case: their contributions have no inbox row, only
    `contribution_facts`; their enrolments are about `person/<staff>` and name the enterprise in
    `employer_id`. Raising `retention.large_ratio` to 60% from 2020-01-01 is previewed from the
    live store as arrears of 12000 fen on the case, and the ledger after approval has exactly
    those."""
    system = bare_system
    system.settings = system.settings.model_copy(update={"business_date": BUSINESS})
    await system.start_intake()
    ev = Events(system, "LK7")
    firm = f"{ev.tag}F"
    staff = [f"{firm}P1", f"{firm}P2"]
    start = date(2019, 10, 2)
    facts = [
        ev.registered(firm, "manufacturing", "large", start),
        *[ev.enrolled(firm, p, start) for p in staff],
        ev.contribution(firm, staff[0], "2019-11", date(2019, 11, 20), 40000, 20000, ["unemployment"]),
        ev.contribution(firm, staff[1], "2019-12", date(2019, 12, 20), 40000, 20000, ["unemployment"]),
    ]
    await system.emit(facts, name="facts.jsonl")
    await system.settled()
    application = ev.event("application.submitted", f"enterprise/{firm}", APPLIED,
                           {"program": "job_retention", "applicant": firm, "on": APPLIED.isoformat(),
                            "details": {"year": 2020}}, source=f"es/{CITY}-e2e")
    await system.emit([application])
    case_id = kinds.job_retention_case_id(firm, 2020)
    refunded = await assert_eventually(lambda: closed_case(system, case_id), timeout=120)
    assert refunded == {"status": "refunded", "closed_on": APPLIED}
    before = await worth(system, case_id)
    assert before == {("2020-03", FUND): 60000}
    # What makes this the rule's case: the contributions were taken by no case (no inbox row).
    assert await system.pool.fetchval("SELECT count(*) FROM inbox WHERE type = 'contribution.paid'") == 0
    assert await system.pool.fetchval("SELECT count(*) FROM contribution_facts WHERE employer_id = $1", firm) == 2

    console = Console(settings=system.settings, pool=system.pool, client=system.client, secret="e2e",
                      previewer=live_previewer(system.settings, system.pack))
    alice = Principal(sub="alice", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    bob = Principal(sub="bob", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    name, value, effective_on = "retention.large_ratio", [60, 100], date(2020, 1, 1)
    made = await propose(console, alice, name, value, CITY, effective_on)
    # The console's "compute preview": to the business clock's today, announced on it.
    shown = (await compute_preview(console, alice, made["id"]))["preview"]
    assert shown["until"] == BUSINESS.isoformat(), shown
    assert shown["touched_cases"] == [case_id], shown
    assert shown["by_month_and_fund"] == [
        {"month": "2020-04", "fund": FUND, "before": 0, "after": 12000, "difference": 12000}], shown
    # Registration, 2 enrolments and the application from Kafka; 2 contributions rebuilt.
    assert (shown["events"], shown["records_read"]) == (6, 4), shown
    await decide(console, bob, made["id"], "approve")

    async def corrected() -> list[dict[str, Any]]:
        rows = await system.pool.fetch(
            "SELECT period, entry, amount_fen, corrects, rule FROM ledger WHERE case_id = $1 AND entry <> 'payment' ORDER BY seq",
            case_id)
        assert len(rows) == 1, f"{len(rows)} corrections so far"
        return [dict(r) for r in rows]

    written = await assert_eventually(corrected, timeout=90)
    assert difference(before, await worth(system, case_id)) == shown["by_month_and_fund"]
    assert [(r["period"], r["entry"], r["amount_fen"], r["corrects"], r["rule"]) for r in written] == \
        [(c["period"], c["entry"], c["amount"], c["corrects"], c["rule"]) for c in shown["corrections"]]


# Unrelated records on the internship's topic, around its one record.
UNRELATED = 1500


async def test_live_preview_reads_only_the_offsets_it_needs_on_the_stack(system: System) -> None:
    """An internship's agreement sits among 3000 records of other persons on employment.service
    (ended internships of nobody's case, ignored by the intake): its preview from the live store
    reads back its one record, and the preview says so (`records_read`), far below the records
    in the topic."""
    internship = Internship(system, "RO")
    topic = TOPIC_OF_TYPE["internship.agreement_signed"]

    def unrelated(batch: str) -> list[bytes]:
        return [line(Internship(system, f"{batch}{n}").ended()) for n in range(UNRELATED)]

    await system.emit(unrelated("X"), name="before.jsonl")
    await system.emit([line(internship.signed())])
    await system.emit(unrelated("Y"), name="after.jsonl")
    await system.settled(timeout=180)

    async def paid() -> None:
        count = await system.pool.fetchval("SELECT count(*) FROM ledger WHERE case_id = $1", internship.case_id)
        assert count == MONTHS_AGO, f"{count} of {MONTHS_AGO} completed months paid so far"

    await assert_eventually(paid, timeout=90)
    in_topic = sum((await system.kafka.ends([topic])).values())
    assert in_topic >= 2 * UNRELATED + 1, in_topic
    shown = await preview_live(system.pool, system.settings, "internship.monthly_subsidy", internship.monthly + 10000,
                               CITY, internship.starts_on, internship.today, system.pack)
    assert shown["touched_cases"] == [internship.case_id], shown
    assert shown["events"] == 1 and shown["records_read"] == 1, (shown["events"], shown["records_read"], in_topic)


async def test_live_preview_of_hires_an_employer_applied_for_equals_what_the_cases_then_pay_on_the_stack(
        system: System) -> None:
    """K6a (hiring_epidemic) cases are keyed by the hire (`person/P`, matched on the employer) and
    their subject is the employer: the employer's application naming its hires, its registration
    (epidemic supplies), the hires' contracts and contributions are all rebuilt, and raising
    `hiring.epidemic_per_hire` from before the hire is previewed as arrears on both hires that
    the ledger after approval has exactly."""
    today = business_today()
    declared_on, hired_on = today - timedelta(days=200), today - timedelta(days=150)
    applied_on = hired_on + timedelta(days=40)
    ev = Events(system, "DK6")
    firm = f"{ev.tag}F"
    hires = [f"{firm}P1", f"{firm}P2"]
    setup = [
        ev.event("policy.epidemic.declared", f"city/{CITY}", declared_on, {"on": declared_on.isoformat()}, source=f"gov/{CITY}-e2e"),
        ev.event("enterprise.registered", f"enterprise/{firm}", declared_on,
                 {"enterprise_id": firm, "city": CITY, "industry": "manufacturing", "size": "medium", "epidemic_supplies": True},
                 source=f"mr/{CITY}-e2e"),
    ]
    await system.emit(setup, name="setup.jsonl")
    await system.settled()
    hiring = []
    for p in hires:
        hiring.append(ev.event("contract.signed", f"person/{p}", hired_on, {
            "person_id": p, "employer_id": firm, "signed_on": hired_on.isoformat(), "starts_on": hired_on.isoformat(),
            "term_months": 12}, source=f"lc/{CITY}-e2e"))
        hiring.append(ev.contribution(firm, p, month_of(hired_on), hired_on + timedelta(days=20), 60000, 20000,
                                      ["pension", "unemployment", "medical"]))
    await system.emit(hiring, name="hiring.jsonl")
    await system.settled()
    application = ev.event("application.submitted", f"enterprise/{firm}", applied_on, {
        "program": "hiring_epidemic", "applicant": firm, "on": applied_on.isoformat(),
        "details": {"enterprise_id": firm, "person_ids": hires}}, source=f"es/{CITY}-e2e")
    await system.emit([application], name="application.jsonl")
    cases = [kinds.hiring_case_id(hiring_policy.EPIDEMIC, firm, p) for p in hires]

    async def paid() -> dict[str, dict[tuple[str, str], int]]:
        worths = {c: await worth(system, c) for c in cases}
        assert all(worths.values()), f"paid so far: {worths}"
        return worths

    before = await assert_eventually(paid, timeout=120)
    rebuilt = {(e["type"], e["subject"]) for e in map(json.loads, (await live_events(system.pool, system.settings, CITY)).lines)}
    assert {("application.submitted", f"enterprise/{firm}"), ("enterprise.registered", f"enterprise/{firm}")} <= rebuilt, rebuilt

    console = Console(settings=system.settings, pool=system.pool, client=system.client, secret="e2e")
    alice = Principal(sub="alice", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    bob = Principal(sub="bob", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    name, effective_on = "hiring.epidemic_per_hire", declared_on
    value = system.pack.parameters(CITY).get(name, hired_on) + 20000
    made = await propose(console, alice, name, value, CITY, effective_on)
    shown = await preview_live(system.pool, system.settings, name, value, CITY, effective_on, today, system.pack)
    assert shown["touched_cases"] == sorted(cases), shown
    assert shown["total_difference"] == 2 * 20000, shown
    await attach_preview(console, alice, made["id"], shown)
    await decide(console, bob, made["id"], "approve")

    async def corrected() -> dict[str, dict[tuple[str, str], int]]:
        worths = {c: await worth(system, c) for c in cases}
        changed = [c for c in cases if worths[c] != before[c]]
        assert len(changed) == len(cases), f"corrected so far: {changed}"
        return worths

    after = await assert_eventually(corrected, timeout=90)
    assert difference(summed(before), summed(after)) == shown["by_month_and_fund"]


def summed(worths: dict[str, dict[tuple[str, str], int]]) -> dict[tuple[str, str], int]:
    """Several cases' worth per month and fund, added up."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for w in worths.values():
        for key, fen in w.items():
            out[key] += fen
    return dict(out)


async def test_live_preview_finds_events_naming_the_case_only_in_their_data_on_the_stack(system: System) -> None:
    """K15 (enterprise_si_subsidy) cases are about the hire (`person/P`, matched on the employer)
    and read the employer's fee exemptions under `enterprise/E`: an exemption stored before the
    contract, which no case took and whose subject is no key of the case, is rebuilt through the
    case's employer match; one that reached the running case is rebuilt too."""
    ev = Events(system, "DK15")
    employer, person = f"{ev.tag}E", f"{ev.tag}P"
    today = business_today()
    starts = add_months(today.replace(day=1), -6)
    months = [month_of(add_months(starts, i)) for i in range(6)]
    signed = add_months(starts, -1)

    def exemption(first: int, last: int, on: date) -> bytes:
        return ev.event("si.fee_exemption", f"enterprise/{employer}", on,
                        {"enterprise_id": employer, "from_month": months[first], "to_month": months[last]})

    before_contract = exemption(1, 2, add_months(starts, -2))
    await system.emit([
        ev.event("unemployment.registered", f"person/{person}", add_months(starts, -3), {
            "person_id": person, "city": CITY, "registered_on": add_months(starts, -3).isoformat(),
            "birth_date": "1980-01-01", "retirement_date": "2045-01-01", "categories": ["disabled"]},
            source=f"ru/{CITY}-e2e"),
        before_contract,
        ev.contribution(employer, person, months[0], add_months(starts, 0).replace(day=20), 51000, 20000, ["pension"]),
    ], name="facts.jsonl")
    await system.settled()
    await system.emit([ev.event("contract.signed", f"person/{person}", signed, {
        "person_id": person, "employer_id": employer, "signed_on": signed.isoformat(), "starts_on": starts.isoformat(),
        "term_months": None}, source=f"lc/{CITY}-e2e")], name="contract.jsonl")
    case_id = f"enterprise_si/{employer}/{person}/{signed.isoformat()}"

    async def opened() -> None:
        assert await system.pool.fetchval("SELECT count(*) FROM cases WHERE case_id = $1", case_id) == 1, "no case yet"

    await assert_eventually(opened, timeout=120)
    taken = exemption(4, 4, today)
    await system.emit([taken], name="later.jsonl")
    await system.settled()
    keys = await system.pool.fetch("SELECT key FROM case_keys WHERE case_id = $1", case_id)
    assert [r["key"] for r in keys] == [f"person/{person}"], keys
    assert await system.pool.fetchval("SELECT subject FROM cases WHERE case_id = $1", case_id) == f"person/{person}"
    rebuilt = {e["id"] for e in map(json.loads, (await live_events(system.pool, system.settings, CITY)).lines)}
    assert {json.loads(before_contract)["id"], json.loads(taken)["id"]} <= rebuilt, rebuilt
