"""What the person kinds share about a person: the stored facts K12 reads as a case loads them
(K4, K5, K17), the city of their registration, and a sign of re-employment (K3, K17)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from datetime import date

    from contracts.cases import CaseEvent, Fact
    from policy import difficult, unemployment
    from policy.calendar import business_date
    from workflows.case_base import CaseWorkflow

DIBAO_TYPES = ["dibao.granted", "dibao.ended"]


async def person_facts(case: CaseWorkflow, person_id: str, facts: list[Fact]) -> list[Fact]:
    """`facts` (the person's own, `load_facts([person key], PERSON_FACT_TYPES)`) plus the 低保
    grants to their household: a grant made to another member is stored under that member's and
    the household's keys, which K12 names from the household facts (`household_keys`)."""
    keys = difficult.household_keys(person_id, facts)
    if not keys:
        return facts
    known = {f.event_key for f in facts}
    more = await case.load_facts(keys, DIBAO_TYPES)
    return facts + [f for f in more if f.event_key not in known]


def take_reemployment(case: CaseWorkflow, ev: CaseEvent, since: date, stops: str, rule: str | None = None) -> None:
    """A sign of re-employment (`unemployment.REEMPLOYMENT_TYPES`) for a case that stops paying from the
    month after it (K3, K17): the earliest re-employment since `since` is kept in the kind's state
    (`reemployed_on`), and its event becomes the cause of the corrections it makes (`cause`)."""
    on = unemployment.reemployment_date(ev.type, ev.data, since)
    if on is None:
        case.note(business_date(ev.time), f"{ev.type}: no re-employment since {since}", event=ev.key)
    elif case.st.reemployed_on is None or on < case.st.reemployed_on:
        case.st.reemployed_on = on
        case.st.cause = ev.key
        case.note(on, f"re-employed ({ev.type}): {stops}", rule=rule, event=ev.key)
