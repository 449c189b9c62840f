"""The stored facts K12 reads about a person, as a case loads them (K4, K5)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import Fact
    from policy import difficult as k12
    from workflows.case_base import CaseWorkflow

DIBAO_TYPES = ["dibao.granted", "dibao.ended"]


async def person_facts(case: CaseWorkflow, person_id: str, facts: list[Fact]) -> list[Fact]:
    """`facts` (the person's own, `load_facts([person key], PERSON_FACT_TYPES)`) plus the 低保
    grants to their household: a grant made to another member is stored under that member's and
    the household's keys, which K12 names from the household facts (`household_keys`)."""
    keys = k12.household_keys(person_id, facts)
    if not keys:
        return facts
    known = {f.event_key for f in facts}
    more = await case.load_facts(keys, DIBAO_TYPES)
    return facts + [f for f in more if f.event_key not in known]


def registered_city(person_id: str, facts: list[Fact]) -> str | None:
    """The city of the person's latest unemployment registration (applications carry none)."""
    cities = [f.payload.get("city") for f in facts
              if f.type == "unemployment.registered" and f.payload.get("person_id", person_id) == person_id]
    return next((c for c in reversed(cities) if isinstance(c, str)), None)
