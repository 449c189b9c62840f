"""A K15 fee exemption reaching a hire that closed but still listens (POLICY.md part 2: facts
still correct a case up to ledger.correction_days after it closed), on a real PostgreSQL and on
the real stack: the event names only the enterprise, the hires are keyed by their persons, and
the intake finds them by employer (PgStore.employer_cases, migration 0013's partial index).

Dates are real: the hire started six months ago and the person left after its second month, so
the case pays both months and closes as soon as it opens; the exemption of the second month
arrives today, well within the window, and overpays it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from activities.pg_store import PgStore, create_pool
from contracts import kinds
from contracts.case_index import OpenCase
from contracts.cases import CaseRecord
from deploy.migrate import migrate
from policy import enterprise_si
from policy.calendar import add_months, month_of
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today
from tests.e2e.test_enterprise_e2e import CITY, Events, closed_case
from tests.e2e.test_ledger_corrections_store import empty_database, lifecycle  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

K15 = kinds.ENTERPRISE_SI_SUBSIDY


def record(case_id: str, closed_on: date | None, listening_until: date | None) -> CaseRecord:
    return CaseRecord(case_id=case_id, kind=K15, subject="person/P", city=CITY, status="ended" if closed_on else "active",
                      change="closed" if closed_on else "opened", version=2 if closed_on else 1,
                      opened_on=date(2020, 3, 5), closed_on=closed_on, listening_until=listening_until)


async def test_the_store_finds_an_employers_open_and_listening_hires_by_the_partial_index(empty_database: str) -> None:  # noqa: F811
    await migrate(empty_database)
    pool = await create_pool(empty_database, max_size=2)
    try:
        store = PgStore(pool)
        for case_id, person, employer in (("h-open", "P1", "E1"), ("h-closed", "P2", "E1"), ("h-done", "P3", "E1"), ("h-other", "P4", "E2")):
            await store.register_case(case_id, K15, [f"person/{person}"], {"employer_id": employer})
        await store.register_case("no-employer", kinds.PUBLIC_WELFARE_POST, ["person/P5"], {"post_id": "E1"})
        await store.record_case(record("h-closed", date(2020, 6, 1), date(2021, 6, 1)), lifecycle("c"))
        await store.record_case(record("h-done", date(2020, 6, 1), None), lifecycle("d"))
        assert await store.employer_cases([K15], ["E1", "E9"]) == [
            OpenCase("h-closed", K15, "person/P2", {"employer_id": "E1"}, listening=True),
            OpenCase("h-open", K15, "person/P1", {"employer_id": "E1"}, listening=False),
        ]
        await store.end_listening("h-closed")
        assert [c.case_id for c in await store.employer_cases([K15], ["E1", "E2"])] == ["h-open", "h-other"]
        async with pool.acquire() as conn:
            await conn.execute("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in await conn.fetch(
                """EXPLAIN SELECT case_id FROM case_keys WHERE match ? 'employer_id' AND (match->>'employer_id') = ANY($1::text[])
                   AND (open OR listening_until IS NOT NULL) AND kind = ANY($2::text[])""", ["E1"], [K15]))
        assert "case_keys_by_employer" in plan, plan
    finally:
        await pool.close()


async def corrections(system: System, case_id: str) -> list[tuple[Any, ...]]:
    rows = await system.pool.fetch(
        """SELECT period, entry, amount_fen, due_on, corrects, cause FROM ledger
            WHERE case_id = $1 AND entry <> 'payment' ORDER BY period, entry, seq""", case_id)
    return [tuple(r.values()) for r in rows]


async def test_a_fee_exemption_reaching_a_closed_hire_through_kafka_overpays_the_exempted_month(system: System) -> None:
    ev = Events(system, "K15X")
    employer, person = f"{ev.tag}E", f"{ev.tag}P"
    today = business_today()
    starts = add_months(today.replace(day=1), -6)
    months = [month_of(add_months(starts, i)) for i in range(2)]
    signed = add_months(starts, -1)
    left_on = add_months(starts, 2) - timedelta(days=1)  # the second month's last day
    facts = [
        ev.event("unemployment.registered", f"person/{person}", add_months(starts, -3), {
            "person_id": person, "city": CITY, "registered_on": add_months(starts, -3).isoformat(),
            "birth_date": "1980-01-01", "retirement_date": "2045-01-01", "categories": ["disabled"]},
            source=f"ru/{CITY}-e2e"),
        ev.contribution(employer, person, months[0], add_months(starts, 0).replace(day=20), 51000, 20000, ["pension"]),
        ev.contribution(employer, person, months[1], add_months(starts, 1).replace(day=20), 52000, 20000, ["pension"]),
        ev.event("insured.left", f"person/{person}", left_on,
                 {"person_id": person, "employer_id": employer, "on": left_on.isoformat(), "reason": "resignation"}),
    ]
    await system.emit(facts, name="facts.jsonl")
    await system.settled()
    contract = ev.event("contract.signed", f"person/{person}", signed, {
        "person_id": person, "employer_id": employer, "signed_on": signed.isoformat(), "starts_on": starts.isoformat(),
        "term_months": None}, source=f"lc/{CITY}-e2e")
    await system.emit([contract])
    case_id = kinds.enterprise_si_case_id(employer, person, signed)
    closed = await assert_eventually(lambda: closed_case(system, case_id), timeout=120)
    assert closed == {"status": "ended", "closed_on": enterprise_si.closing_day(months[1], system.pack.parameters(CITY))}
    keys = await system.pool.fetch("SELECT open, listening_until FROM case_keys WHERE case_id = $1", case_id)
    assert [(r["open"], r["listening_until"] is not None) for r in keys] == [(False, True)]
    paid = await system.pool.fetch(
        "SELECT period, amount_fen FROM ledger WHERE case_id = $1 AND entry = 'payment' ORDER BY period", case_id)
    assert [tuple(r.values()) for r in paid] == [(months[0], 51000), (months[1], 52000)]

    # Today, on si.enrollment: the employer's fees were exempted in the second month.
    exemption = ev.event("si.fee_exemption", f"enterprise/{employer}", today,
                         {"enterprise_id": employer, "from_month": months[1], "to_month": months[1]})
    await system.emit([exemption], name="exemption.jsonl")
    cause = f"si/{CITY}-e2e#{ev.tag}-{ev.n}"

    async def corrected() -> list[tuple[Any, ...]]:
        rows = await corrections(system, case_id)
        assert rows, "no correction yet"
        return rows

    assert await assert_eventually(corrected, timeout=120) == [(months[1], "overpayment", 52000, business_today(), months[1], cause)]
    assert (await closed_case(system, case_id))["status"] == "ended"
