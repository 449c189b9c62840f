"""Routes of K6 hiring_subsidy (一次性吸纳就业补贴, §10).

A stable contract opens a K6a case when the employer makes epidemic supplies and a K6b case when
the person is in a priority group (both may start). An application for `hiring_epidemic` opens
or reaches the K6a case of each person it names, so a hire whose employer's registration arrived
after the contract (topics are not ordered against each other) is still judged. Cases are keyed
by `person/P` with `match={"employer_id": E}`: contributions and terminations reach only the
cases of their (enterprise, person) pair, never every case of a big enterprise.

Late facts across topics (POLICY.md part 2): a case rejected for want of a fact listens for it —
the pair's contract, the employer's registration (a K6a case rejected for it also listens under
`enterprise/E`, with no match), the person's registration. A registration that comes after a
contract the route ignored for want of it opens the K6b case the contract would have opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import CloudEvent, city_of_source
from policy import hiring
from policy.difficult import PERSON_FACT_TYPES
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, Reject, StartCase, signal_listening, signal_open

KIND = kinds.HIRING_SUBSIDY
HOLDS_SHARED_FACTS = True
# A paid case listens for ledger.correction_days: a contract end or a contribution reported late;
# a case rejected for want of a fact, intake.late_fact_days for the contract or a registration.
LATE_FACTS = ("contribution.paid", "contract.terminated", "contract.signed", hiring.ENTERPRISE_FACT_TYPE, hiring.REGISTRATION)
# Its contribution handler only reaches this kind's cases of the event's keys (streams/routes/kind_route.py).
CASE_ONLY = ("contribution.paid",)
# The cases read the contract, its end and the employer's registration about the pair, the
# person's K12 facts (registration), and the contributions paid before they started.
FACT_TYPES = tuple(
    sorted(set(PERSON_FACT_TYPES) | set(hiring.CONTRACT_FACT_TYPES) | {hiring.ENTERPRISE_FACT_TYPE, hiring.CONTRIBUTION})
)
# A contract opens a case only if the employer makes epidemic supplies or the person was
# registered unemployed long enough: facts about the event's keys, not open cases.
# A late registration opens a K6b case if a contract of the person came shortly before it.
ROUTE_FACTS = {
    "contract.signed": {"person": tuple(PERSON_FACT_TYPES), "enterprise": (hiring.ENTERPRISE_FACT_TYPE,)},
    hiring.REGISTRATION: {"person": tuple(sorted({"contract.signed", *PERSON_FACT_TYPES}))},
}


def _start(case_id: str, person: str, employer: str, city: str | None) -> StartCase:
    return StartCase(kind=KIND, case_id=case_id, city=city, keys=[f"person/{person}"], match={"employer_id": employer})


def contract_signed(
    event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, facts: Sequence[Fact] = (), listening: Sequence[OpenCase] = ()
) -> list[Command]:
    """A stable contract: K6a if the employer makes epidemic supplies, K6b if the person is in a
    priority group and the contract is signed by `hiring.priority_until`; a case of the pair
    rejected for want of it (an application before the contract) is judged again."""
    d = event.data
    person, employer = d["person_id"], d["employer_id"]
    hire = hiring.Hire(employer, person, date.fromisoformat(d["signed_on"]), d.get("term_months"), d.get("graduation_year"))
    city = hiring.enterprise_city(employer, facts) or city_of_source(event.source)
    params = pack.parameters(city)
    if not hiring.stable_hire(hire.term_months, hire.signed_on, params):
        return [Ignore(f"contract of {d.get('term_months')} months: not a contract of 1 year or more (§10)")]
    commands: list[Command] = signal_listening([c for c in listening if c.key == f"person/{person}"], KIND, employer_id=employer)
    judged_again = {c.case_id for c in listening}
    person_facts = [f for f in facts if f.type in PERSON_FACT_TYPES]
    starts = [
        kinds.hiring_case_id(program, employer, person)
        for program in (hiring.EPIDEMIC, hiring.PRIORITY)
        if hiring.judge(program, hire, person_facts, facts, params).refusal is None
    ]
    commands += [_start(case_id, person, employer, city) for case_id in starts if case_id not in judged_again]
    return commands or [Ignore("no hiring subsidy: employer not making epidemic supplies, person not in a §10 priority group")]


def employer_registered(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """The employer's registration reaches its K6a cases rejected for want of it (listening
    under `enterprise/E`)."""
    key = f"enterprise/{event.data['enterprise_id']}"
    return signal_listening([c for c in listening if c.key == key], KIND) or [Ignore("no hiring subsidy case of this employer is listening")]


def person_registered(
    event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, facts: Sequence[Fact] = (), listening: Sequence[OpenCase] = ()
) -> list[Command]:
    """The person's unemployment registration reaches their K6 cases rejected for want of it, and
    opens the K6b case of a contract that came shortly before it (`hiring.opened_by_late_registration`)."""
    person = event.data["person_id"]
    commands: list[Command] = signal_listening([c for c in listening if c.key == f"person/{person}"], KIND)
    known = {c.case_id for c in [*open_cases, *listening]}
    key = event.key
    now = [f for f in facts if f.type in PERSON_FACT_TYPES]
    before = [f for f in now if f.event_key != key]
    city = event.data.get("city") if isinstance(event.data.get("city"), str) else city_of_source(event.source)
    params = pack.parameters(city)
    for f in facts:
        c = f.payload
        if f.type != "contract.signed" or c.get("person_id") != person or not isinstance(c.get("employer_id"), str):
            continue
        case_id = kinds.hiring_case_id(hiring.PRIORITY, c["employer_id"], person)
        if case_id in known or not hiring.opened_by_late_registration(person, c, f.event_time, event.time, before, now, params):
            continue
        known.add(case_id)
        commands.append(_start(case_id, person, c["employer_id"], city))
    return commands or [Ignore("no hiring subsidy case waits for this registration")]


def application(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """`hiring_epidemic` (details: enterprise_id, person_ids): one K6a case per person, started or
    reached (the gateway's signal-with-start); other programs are other kinds'."""
    d = event.data
    if d["program"] != hiring.EPIDEMIC:
        return [Ignore(f"application for {d['program']}: not a hiring subsidy application")]
    details: dict[str, Any] = d.get("details") or {}
    enterprise = details.get("enterprise_id", d["applicant"])
    persons = details.get("person_ids")
    if not isinstance(enterprise, str) or not enterprise:
        return [Reject("application.submitted hiring_epidemic: details.enterprise_id missing")]
    if not isinstance(persons, list) or not persons or not all(isinstance(p, str) and p for p in persons):
        return [Reject("application.submitted hiring_epidemic: details.person_ids must be a non-empty list of ids")]
    city = city_of_source(event.source)
    return [_start(kinds.hiring_case_id(hiring.EPIDEMIC, enterprise, p), p, enterprise, city) for p in dict.fromkeys(persons)]


def of_the_pair(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """A contribution or a contract end reaches the pair's cases (an employer's only), and the
    paid ones still listening for a fact that shows the hire did not qualify."""
    employer = event.data.get("employer_id")
    if not employer:
        return [Ignore("no employer: not about a hire")]
    return signal_open([*open_cases, *listening], KIND, employer_id=employer) or [Ignore("no open hiring subsidy case for this pair")]



ROUTES: dict[str, Handler] = {
    "contract.signed": contract_signed,
    "application.submitted": application,
    "contribution.paid": of_the_pair,
    "contract.terminated": of_the_pair,
    hiring.ENTERPRISE_FACT_TYPE: employer_registered,
    hiring.REGISTRATION: person_registered,
}
