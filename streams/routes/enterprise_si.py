"""Routes of K15 enterprise_si_subsidy (企业吸纳就业困难人员社会保险补贴, §2).

A stable contract of a person registered unemployed the day before signing opens a case (K12 is
judged by the case itself). The case is registered under the person's key with the employer as
match field: a large employer's every contribution would otherwise look relevant. Fee exemptions
are about the enterprise: a case reads them from the store whenever it is about to pay or close,
and each one is also signalled to the employer's hires, open or closed but still listening, found
by their employer (`EMPLOYER_CASES`: one look-up per batch of this rare topic, none for
contributions), so that one reaching a closed hire in its window corrects it (POLICY.md part 2).
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import CloudEvent, ContractSigned
from policy import enterprise_profile, enterprise_si
from policy.difficult import PERSON_FACT_TYPES, registered_city
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, StartCase, signal_listening, signal_open

KIND = kinds.ENTERPRISE_SI_SUBSIDY
HOLDS_SHARED_FACTS = True  # parameter changes (e.g. enterprise_si.months) reach running cases
# The person's K12 facts (judged by the case) and the enterprise's fee exemptions (read by the
# case whenever it is about to pay or close).
# `contract.terminated` too: a case picks up the separations of its hire stored before it opened.
FACT_TYPES = tuple(sorted(set(PERSON_FACT_TYPES) | set(enterprise_profile.ENTERPRISE_FACT_TYPES) | {"contract.terminated"}))
# A contract opens a case only if the person was registered unemployed the day before signing.
ROUTE_FACTS = {"contract.signed": {"person": tuple(PERSON_FACT_TYPES)}}
# A hire rejected as not difficult to employ takes, within intake.late_fact_days, the K12 fact
# about the person that arrives late (POLICY.md part 2 "late facts across topics").
# A hire that paid listens for ledger.correction_days after closing: a corrected contribution
# report or a separation dated in the past still corrects it (POLICY.md part 2), like an open
# one. The intake's one look-up of a batch's keys finds the listening cases too.
CORRECTING_FACTS = ("contribution.paid", "contract.terminated", "insured.left")
LATE_FACTS = PERSON_FACT_TYPES + CORRECTING_FACTS
# Its contribution handler only reaches this kind's cases of the event's keys (streams/routes/kind_route.py).
CASE_ONLY = ("contribution.paid",)
# Names the enterprise only; the hires are registered under their persons' keys.
EMPLOYER_CASES = (enterprise_profile.FEE_EXEMPTION,)


def contract_signed(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, facts: Sequence[Fact] = ()) -> list[Command]:
    c = ContractSigned.model_validate(event.data)
    city = registered_city(c.person_id, facts)
    params = pack.parameters(city)
    if not enterprise_si.is_stable_hire(c, params):
        return [Ignore(f"contract of {c.term_months} months: not a stable hire for {enterprise_si.PROGRAM}")]
    if not enterprise_si.registered_before_signing(c.person_id, list(facts), c):
        return [Ignore(f"{c.person_id} was not registered unemployed on {enterprise_si.judged_on(c)}")]
    running = [o.case_id for o in open_cases if o.kind == KIND and o.match.get("employer_id") == c.employer_id]
    if running:
        return [Ignore(f"{c.employer_id} is already subsidised for {c.person_id} ({running[0]})")]
    return [
        StartCase(
            kind=KIND,
            case_id=kinds.enterprise_si_case_id(c.employer_id, c.person_id, c.signed_on),
            city=city,
            keys=[f"person/{c.person_id}"],
            match={"employer_id": c.employer_id},
        )
    ]


def about_the_employer(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """A contribution, a termination or a separation by the hiring employer for the person, to
    its running hire or to one closed but still listening."""
    employer = event.data.get("employer_id")
    if not employer:
        return [Ignore("no employer: not about an enterprise's hire")]
    return signal_open([*open_cases, *listening], KIND, employer_id=employer) or [Ignore(f"no open or listening {KIND} case for this hire")]


def late_fact(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """A K12 fact about the person reaches their rejected hires still listening."""
    return signal_listening(list(listening), KIND) or [Ignore(f"no {KIND} case of this person is listening")]


def fee_exemption(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, employer_cases: Sequence[OpenCase] = ()) -> list[Command]:
    """The enterprise's exemption reaches each of its hires, running or listening: the case reads
    the enterprise's exemptions again and reconciles (a closed one corrects at once)."""
    enterprise = event.data["enterprise_id"]
    return signal_open(list(employer_cases), KIND, employer_id=enterprise) or [Ignore(f"no open or listening {KIND} case of {enterprise}")]


ROUTES: dict[str, Handler] = {
    "contract.signed": contract_signed,
    **{t: about_the_employer for t in CORRECTING_FACTS},
    **{t: late_fact for t in PERSON_FACT_TYPES},
    enterprise_profile.FEE_EXEMPTION: fee_exemption,
}
