"""M2's headcounts read from the contribution facts (issue 16 item 2; migrations 0014, 0020):
the one statement per batch that finds the months to compare, with their headcounts, and the
record of the months compared. PgStore and MemoryStore delegate here, so both answer alike.

An enterprise's headcount of a month is the number of its `contribution_facts` rows for that
month (a row is one (person, month, employer)): a COUNT over contribution_facts_by_employer.
Which months are compared is policy/headcount_drop.py's (`Arrival`); the store only answers for
the arrivals whose month M has no `headcount_judged` row and whose enterprise has no stored
month newer than M+1 other than the months the same batch brings (a batch holding M+1 and M+2
of one enterprise compares both, as the stream did in order).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from policy.headcount_drop import Arrival, Comparison

Grain = tuple[str, str, str]  # (person_id, month, employer_id): activities.contribution_facts.Grain

# Every test is a probe per arrival (scalar subqueries stay nested loops over the indexes): as
# NOT EXISTS, the planner turned them into hash anti-joins that read all of contribution_facts
# and headcount_judged for each batch. `batch_months`: the months the batch brings for the
# arrival's enterprise, comma-separated (those may be newer than M+1: the batch compares them too).
_COMPARISONS = """
SELECT a.employer_id, a.month, a.before,
       (SELECT count(*) FROM contribution_facts c
         WHERE c.employer_id = a.employer_id AND c.month = a.before AND c.employer_id <> '') AS previous_headcount,
       (SELECT count(*) FROM contribution_facts c
         WHERE c.employer_id = a.employer_id AND c.month = a.month AND c.employer_id <> '') AS headcount
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS a(employer_id, next_month, month, before, batch_months)
 WHERE (SELECT true FROM headcount_judged j WHERE j.employer_id = a.employer_id AND j.month = a.month) IS NULL
   AND (SELECT true FROM contribution_facts c
         WHERE c.employer_id = a.employer_id AND c.month > a.next_month AND c.employer_id <> ''
           AND c.month <> ALL (string_to_array(a.batch_months, ','))
         LIMIT 1) IS NULL
 ORDER BY a.employer_id, a.month
"""


def comparison_arguments(arrivals: Sequence[Arrival]) -> list[list[str]]:
    """`_COMPARISONS`' parameters for `arrivals`. The months before each arrival's month are
    worked out once per distinct month: a firehose batch brings a few months over hundreds of
    enterprises, and the date arithmetic per arrival was 8 % of a `jiuye streams` process
    filtering contributions (py-spy over `bench.intake_profile`, docs/BENCHMARKS.md)."""
    months: dict[str, list[str]] = {}
    before: dict[str, tuple[str, str]] = {}
    for a in arrivals:
        months.setdefault(a.enterprise_id, []).append(a.next_month)
        if a.next_month not in before:
            before[a.next_month] = (a.month, a.previous_month)
    return [[a.enterprise_id for a in arrivals], [a.next_month for a in arrivals],
            [before[a.next_month][0] for a in arrivals], [before[a.next_month][1] for a in arrivals],
            [",".join(months[a.enterprise_id]) for a in arrivals]]


async def pg_comparisons(pool: Any, arrivals: Sequence[Arrival]) -> list[Comparison]:
    if not arrivals:
        return []
    # Estimated at ~13 per arrival (the probes), so a batch of `intake_batch_max` (1,000) stays
    # far below jit_above_cost: the hash anti-join form of this statement was estimated above it,
    # and compiling took 60-150 ms, far more than the statement.
    rows = await pool.fetch(_COMPARISONS, *comparison_arguments(arrivals))
    return [Comparison(r["employer_id"], r["before"], r["previous_headcount"], r["month"], r["headcount"]) for r in rows]


async def pg_mark_judged(pool: Any, judged: Sequence[tuple[str, str]]) -> None:
    if judged:
        await pool.execute(
            """INSERT INTO headcount_judged (employer_id, month)
               SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING""",
            [e for e, _ in judged], [m for _, m in judged])


def memory_comparisons(rows_of: Mapping[str, Collection[Grain]], judged: Collection[tuple[str, str]],
                       arrivals: Sequence[Arrival]) -> list[Comparison]:
    """The same answer over MemoryStore's rows by enterprise key (`enterprise/<id>` → grains)."""
    found = []
    for a in sorted(arrivals, key=lambda a: (a.enterprise_id, a.month)):
        if (a.enterprise_id, a.month) in judged:
            continue
        grains = rows_of.get(f"enterprise/{a.enterprise_id}", ())
        batch_months = {b.next_month for b in arrivals if b.enterprise_id == a.enterprise_id}
        if any(month > a.next_month and month not in batch_months for _, month, _ in grains):
            continue
        found.append(Comparison(a.enterprise_id, a.previous_month, sum(1 for _, m, _ in grains if m == a.previous_month),
                                a.month, sum(1 for _, m, _ in grains if m == a.month)))
    return found
