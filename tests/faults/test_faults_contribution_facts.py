"""Issue 16 item 2 on the real stack (Kafka, Temporal, PostgreSQL, a real `jiuye streams`): the
contribution facts kept at their grain (migration 0014) stay exact when the firehose is
delivered again. Ignored contributions have no inbox row, so nothing but the upsert's own key
(the event id inside the row) stands between a redelivered record and a double count.

The load: a bounded internship load (whose invariants `check_invariants` asserts as every fault
test does) and a month of contributions of people without a case — each record produced twice,
some with a replacing report for the same (person, month, employer). Then the consumer group is
rewound to before all of it and everything is consumed twice more.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import pytest

from activities.pg_store import PgStore
from contracts.topics import INPUT_TOPICS
from policy import enterprise_profile
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.faults._invariants import check_invariants
from tests.faults._load import internships
from tests.faults._runtime import CountingRuntime
from tests.faults.test_faults_delivery import rewind

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

PERSONS = 20
CONTRIBUTORS = 600  # × 2 employers' months; every tenth month has a replacing report too
EMPLOYERS = 7


def contributions(tag: str) -> tuple[list[bytes], set[tuple[str, str, str]], dict[str, int]]:
    """The records, their distinct (person, month, employer) and per employer the number of
    distinct records (each report counts for K7: a premium actually paid)."""
    lines: list[bytes] = []
    grains: set[tuple[str, str, str]] = set()
    per_employer = Counter[str]()
    for n in range(CONTRIBUTORS):
        person, employer = f"C{tag}{n}", f"E{tag}{n % EMPLOYERS}"
        for month in ("2019-05", "2019-06"):
            reports = 2 if n % 10 == 0 else 1
            for r in range(reports):
                data = {"person_id": person, "month": month, "employer_id": employer, "base": 300000,
                        "employer_amount": 48000 + r, "employee_amount": 24000, "insurances": ["pension", "unemployment"]}
                lines.append(line(cloud_event(source="si/2101", id=f"c-{person}-{month}-{r}", type="contribution.paid",
                                              subject=f"person/{person}", on=date(2019, int(month[5:]), 20), data=data)))
                per_employer[employer] += 1
            grains.add((person, month, employer))
    return lines, grains, dict(per_employer)


async def test_contribution_facts_exact_after_redelivery_and_replay(bare_system: System) -> None:
    system, started, outcomes = bare_system, time.monotonic(), Counter[str]()
    load = internships(system.tag, PERSONS, system.pack)
    paid, grains, per_employer = contributions(system.tag)
    before = await system.kafka.ends(INPUT_TOPICS)
    app = await system.start_intake(CountingRuntime(system.settings, outcomes))
    await system.emit(load.lines, name="load.jsonl")
    await system.emit(paid, name="contributions.jsonl")
    await system.emit(paid, name="again.jsonl")  # every contribution delivered twice
    await system.settled(timeout=240)
    await system.stop_intake(app)
    await rewind(system, before)  # and replayed from before all of it: twice more
    await system.start_intake(CountingRuntime(system.settings, outcomes))
    await system.settled(timeout=240)

    await check_invariants(system, load, "contributions redelivered and replayed", started=started,
                           duplicates_absorbed=outcomes["duplicate"], records_sent=2 * len(load.lines) + 4 * len(paid))
    tag = f"C{system.tag}%"
    rows = await system.pool.fetch("SELECT person_id, month, employer_id, reports FROM contribution_facts "
                                   "WHERE person_id LIKE $1", tag)
    assert {(r["person_id"], r["month"], r["employer_id"]) for r in rows} == grains
    assert len(rows) == len(grains)  # one row per (person, month, employer)
    assert sum(len(r["reports"]) for r in rows) == len(paid)  # each record once, four deliveries each
    assert await system.pool.fetchval("SELECT count(*) FROM inbox WHERE type = 'contribution.paid'") == 0
    # K7's prior-year sum over the aggregates counts each record once.
    params = system.pack.parameters("2101")
    for employer, records in per_employer.items():
        facts = await PgStore(system.pool).subject_facts([f"enterprise/{employer}"], ["contribution.paid"])
        assert len(facts) == records
        one = enterprise_profile.ui_part(facts[0], params)
        assert enterprise_profile.prior_year_ui_contributions(employer, facts, 2020, params) == one * records
