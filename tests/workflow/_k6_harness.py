"""Events of K6 hiring subsidy tests, sent through the production-shaped harness of K4/K5
(`Intake` → routing → `CaseGateway` → worker with a `MemoryStore`, on the time-skipping server)
with the subjects real producers use (enterprise/…, province/21)."""

from __future__ import annotations

from datetime import date, datetime
from itertools import count
from typing import Any

from activities.store import Origin
from streams.intake import Outcome
from testkit.events import cloud_event, line
from tests.workflow._k45_harness import Harness, at

_ids = count(1)


async def send(h: Harness, type_: str, data: dict[str, Any], subject: str, when: datetime, source: str = "lc/2101") -> Outcome:
    """Deliver one CloudEvent at its business time through the intake."""
    await h.advance_to(when)
    number = next(_ids)
    doc = cloud_event(id=f"k6-{number}", source=source, type=type_, subject=subject, on=when, data=data)
    h.sent.append(doc)
    outcome = await h.intake.handle(line(doc), Origin(topic="k6-test", offset=number))
    await h.settle()
    return outcome


async def declared(h: Harness, on: date) -> Outcome:
    return await send(h, "policy.epidemic.declared", {"on": on.isoformat()}, "province/21", at(on), source="gov/21")


async def lifted(h: Harness, on: date, when: date | None = None) -> Outcome:
    return await send(h, "policy.epidemic.lifted", {"on": on.isoformat()}, "province/21", at(when or on), source="gov/21")


async def enterprise(h: Harness, enterprise_id: str, supplies: bool | None, on: date) -> Outcome:
    data: dict[str, Any] = {"enterprise_id": enterprise_id, "city": "2101", "industry": "manufacturing", "size": "medium"}
    if supplies is not None:
        data["epidemic_supplies"] = supplies
    return await send(h, "enterprise.registered", data, f"enterprise/{enterprise_id}", at(on), source="mr/2101")


async def contract(
    h: Harness, person: str, employer: str, signed_on: date, term: int | None = 12, *, starts_on: date | None = None,
    agency: str | None = None, graduation_year: int | None = None,
) -> Outcome:
    data: dict[str, Any] = {
        "person_id": person, "employer_id": employer, "signed_on": signed_on.isoformat(),
        "starts_on": (starts_on or signed_on).isoformat(), "term_months": term,
    }
    if agency:
        data["referred_by_agency"] = agency
    if graduation_year:
        data["graduation_year"] = graduation_year
    return await send(h, "contract.signed", data, f"person/{person}", at(signed_on, 10))


async def contribution(h: Harness, person: str, employer: str, month: str, paid_on: date, employer_amount: int = 50000) -> Outcome:
    data = {
        "person_id": person, "month": month, "employer_id": employer, "base": 400000,
        "employer_amount": employer_amount, "employee_amount": 16000, "insurances": ["pension", "unemployment"],
    }
    return await send(h, "contribution.paid", data, f"person/{person}", at(paid_on, 11), source="si/2101")


async def application(h: Harness, employer: str, on: date, persons: list[str]) -> Outcome:
    data = {"program": "hiring_epidemic", "applicant": employer, "on": on.isoformat(), "details": {"enterprise_id": employer, "person_ids": persons}}
    return await send(h, "application.submitted", data, f"enterprise/{employer}", at(on, 12), source="es/2101")


async def terminated(h: Harness, person: str, employer: str, on: date) -> Outcome:
    return await send(h, "contract.terminated", {"person_id": person, "employer_id": employer, "on": on.isoformat()}, f"person/{person}", at(on, 13))


async def registered(h: Harness, person: str, on: date) -> Outcome:
    data = {"person_id": person, "city": "2101", "registered_on": on.isoformat(), "birth_date": "1990-01-01", "retirement_date": "2050-01-01"}
    return await send(h, "unemployment.registered", data, f"person/{person}", at(on), source="ru/2101")


__all__ = ["send", "declared", "lifted", "enterprise", "contract", "contribution", "application", "terminated", "registered"]
