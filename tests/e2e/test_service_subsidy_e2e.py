"""End to end on the real stack for K18 employment_service_subsidy: an agency's services on
`employment.service` and the placed persons' contracts on `labor.contracts` and registrations on
`employment.registrations` — other topics, not ordered with the services — meet in the agency's
case, which settles the quarter from the store's facts: a placement confirmed by a contract
within `service_subsidy.confirm_days` counts, one confirmed later does not.

The services lie in a quarter whose settlement day has passed, so the case settles as soon as it
has gathered them (the contracts are emitted first, as in production they precede the settlement
by months)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from contracts import kinds
from policy import service_subsidy
from policy.calendar import quarter_of, quarter_start
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2101"


async def test_k18_placements_confirmed_by_contracts_are_paid_at_the_quarter_settlement(system: System) -> None:
    params = system.pack.parameters(CITY)
    tag = system.tag
    agency = f"AG{tag}"
    # A quarter settled at least a few days ago.
    quarter = quarter_of(business_today() - timedelta(days=200))
    start = quarter_start(quarter)
    assert service_subsidy.settlement_day(quarter, params) < business_today()
    confirm = int(params.get("service_subsidy.confirm_days", start))
    placed, late, guided = f"SP{tag}", f"SL{tag}", f"SG{tag}"
    n = 0

    def event(type_: str, subject: str, on: date, data: dict[str, Any]) -> bytes:
        nonlocal n
        n += 1
        return line(cloud_event(source=f"es/{CITY}-e2e", id=f"K18{tag}-{n}", type=type_, subject=subject, on=on, data=data))

    served = start + timedelta(days=3)
    await system.emit([
        event("contract.signed", f"person/{placed}", served + timedelta(days=20), {
            "person_id": placed, "employer_id": f"EK18{tag}", "signed_on": (served + timedelta(days=20)).isoformat(),
            "starts_on": (served + timedelta(days=20)).isoformat(), "term_months": 6}),
        event("employment.registered", f"person/{late}", served + timedelta(days=confirm + 1), {
            "person_id": late, "city": CITY, "on": (served + timedelta(days=confirm + 1)).isoformat(), "kind": "employee"}),
    ], name="employments.jsonl")
    await system.settled()
    await system.emit([
        event("service.delivered", f"agency/{agency}", served, {"agency_id": agency, "city": CITY, "on": served.isoformat(),
                                                                "service": "job_placement", "person_id": placed}),
        event("service.delivered", f"agency/{agency}", served, {"agency_id": agency, "city": CITY, "on": served.isoformat(),
                                                                "service": "job_placement", "person_id": late}),
        event("service.delivered", f"agency/{agency}", served, {"agency_id": agency, "city": CITY, "on": served.isoformat(),
                                                                "service": "career_guidance", "person_id": guided}),
    ], name="services.jsonl")
    case_id = kinds.service_subsidy_case_id(agency, start.year)
    expected = int(params.get("service_subsidy.per_placement", start)) + int(params.get("service_subsidy.per_guidance", start))

    async def settled() -> None:
        rows = await system.pool.fetch(
            "SELECT period, entry, amount_fen, payee, due_on FROM ledger WHERE case_id = $1 ORDER BY due_on", case_id)
        assert [tuple(r) for r in rows] == [(quarter, "payment", expected, service_subsidy.payee(agency), service_subsidy.settlement_day(quarter, params))]

    await assert_eventually(settled, timeout=120)
