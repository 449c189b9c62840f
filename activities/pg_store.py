"""The store in PostgreSQL (asyncpg). Every write that must not happen twice is one statement
keyed by the natural key, so retries, replays and concurrent workers are harmless."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from activities import contribution_facts, headcount_facts
from activities.contribution_facts import AGGREGATED_TYPES, CONTRIBUTION
from activities.disbursement_events import batch_closed_event
from activities.store import (
    BatchRow,
    BudgetRow,
    ClaimState,
    DisbursementWrite,
    FundMonth,
    InstructionRow,
    Origin,
    PayeeAccountRow,
    SharedFact,
    TaskNotOpen,
    account_ref,
    fact_on_date,
)
from contracts.case_index import OpenCase
from contracts.cases import AlertRecord, CaseRecord, Fact, PastCase, PaymentRequest, RefusalRecord, ScheduleRecord, TaskRecord
from contracts.events import CloudEvent
from contracts.topics import ALERTS, PAYMENT_INSTRUCTIONS
from observability import tracing
from policy.disbursement import Disbursement, Due, Netting, OpenDeduction
from policy.headcount_drop import Arrival, Comparison


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(database_url: str, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections speak jsonb as Python objects."""
    return await asyncpg.create_pool(database_url, min_size=1, max_size=max_size, init=_init_connection)


class PgStore:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    # -- intake ------------------------------------------------------------------------------
    async def claim_many(self, items: Sequence[tuple[CloudEvent, Origin]]) -> list[ClaimState]:
        if not items:
            return []
        # The main query sees the inbox as it was before the insert: a row it finds existed
        # already (retry or duplicate); a row only `ins` returns is new.
        rows = await self.pool.fetch(
            f"""
            WITH batch AS (SELECT * FROM {_INBOX_UNNEST} WITH ORDINALITY
                           AS b(source, event_id, type, subject, event_time, topic, partition, kafka_offset, n)),
            ins AS (
                INSERT INTO inbox (source, event_id, type, subject, event_time, topic, partition, kafka_offset)
                SELECT source, event_id, type, subject, event_time, topic, partition, kafka_offset FROM batch
                ON CONFLICT (source, event_id) DO NOTHING
                RETURNING source, event_id)
            SELECT CASE WHEN ins.event_id IS NOT NULL THEN 'new'
                        WHEN inbox.state = 'received' THEN 'retry' ELSE 'duplicate' END AS claim
              FROM batch
              LEFT JOIN ins ON ins.source = batch.source AND ins.event_id = batch.event_id
              LEFT JOIN inbox ON inbox.source = batch.source AND inbox.event_id = batch.event_id
             ORDER BY batch.n
            """,
            *_inbox_columns(items),
        )
        return [r["claim"] for r in rows]

    async def finish_many(self, items: Sequence[tuple[CloudEvent, str, str]]) -> None:
        if not items:
            return
        await self.pool.execute(
            """UPDATE inbox SET state = u.state, outcome = u.outcome, applied_at = now()
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(source, event_id, state, outcome)
                WHERE inbox.source = u.source AND inbox.event_id = u.event_id""",
            [e.source for e, _, _ in items], [e.id for e, _, _ in items],
            [state for _, state, _ in items], [outcome[:1000] for _, _, outcome in items],
        )

    async def record_ignored(self, items: Sequence[tuple[CloudEvent, Origin, str]]) -> list[bool]:
        if not items:
            return []
        rows = await self.pool.fetch(
            f"""
            INSERT INTO inbox (source, event_id, type, subject, event_time, topic, partition, kafka_offset,
                               state, outcome, applied_at)
            SELECT b.source, b.event_id, b.type, b.subject, b.event_time, b.topic, b.partition, b.kafka_offset,
                   'ignored', o.outcome, now()
              FROM {_INBOX_UNNEST} WITH ORDINALITY AS b(source, event_id, type, subject, event_time, topic, partition, kafka_offset, n)
              JOIN unnest($9::text[]) WITH ORDINALITY AS o(outcome, n) USING (n)
            ON CONFLICT (source, event_id) DO UPDATE SET state = 'ignored', outcome = EXCLUDED.outcome, applied_at = now()
             WHERE inbox.state = 'received'
            RETURNING source, event_id
            """,
            *_inbox_columns([(e, o) for e, o, _ in items]),
            [reason[:1000] for _, _, reason in items],
        )
        written = {(r["source"], r["event_id"]) for r in rows}
        return [(e.source, e.id) in written for e, _, _ in items]

    async def store_subject_facts(self, items: Sequence[tuple[CloudEvent, list[str]]]) -> None:
        await self._store_contributions([e for e, _ in items if e.type in AGGREGATED_TYPES])
        rows = [(key, e) for e, keys in items if e.type not in AGGREGATED_TYPES for key in keys]
        if not rows:
            return
        payloads = {id(e): json.dumps(e.data) for e, _ in items}
        dates = {id(e): fact_on_date(e) for e, _ in items}
        await self.pool.execute(
            """INSERT INTO subject_facts (key, source, event_id, type, on_date, payload, event_time)
               SELECT key, source, event_id, type, on_date, payload::jsonb, event_time
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::timestamptz[])
                   AS f(key, source, event_id, type, on_date, payload, event_time)
               ON CONFLICT DO NOTHING""",
            [k for k, _ in rows], [e.source for _, e in rows], [e.id for _, e in rows], [e.type for _, e in rows],
            [dates[id(e)] for _, e in rows], [payloads[id(e)] for _, e in rows], [e.time for _, e in rows],
        )

    async def _store_contributions(self, events: Sequence[CloudEvent]) -> None:
        """One upsert per batch into contribution_facts (activities/contribution_facts.py): a
        report already stored stays as it was, and a row holding every report of the batch
        already (a redelivery) is not written at all.

        The reports are built by PostgreSQL from one array per field (`contribution_facts.
        report_columns`), grouped per grain there, the first report of an event key in batch
        order kept (`ORDER BY n DESC`: the object aggregate keeps the last value of a key), and
        proposed in grain order (concurrent upserts lock rows in one order); building the nested
        documents in Python and serialising them was most of this write's CPU (issue 16)."""
        if not events:
            return
        await self.pool.execute(
            """INSERT INTO contribution_facts AS c (person_id, month, employer_id, reports)
               SELECT person_id, month, employer_id,
                      jsonb_object_agg(source || '#' || id, jsonb_build_object(
                          'source', source, 'id', id, 'time', time, 'on', on_date, 'payload', payload::jsonb) ORDER BY n DESC)
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                        WITH ORDINALITY AS r(person_id, month, employer_id, source, id, time, on_date, payload, n)
                GROUP BY person_id, month, employer_id
                ORDER BY person_id, month, employer_id
               ON CONFLICT (person_id, month, employer_id)
               DO UPDATE SET reports = EXCLUDED.reports || c.reports WHERE NOT c.reports @> EXCLUDED.reports""",
            *contribution_facts.report_columns(events),
        )

    async def open_cases(self, keys: list[str]) -> list[OpenCase]:
        rows = await self.pool.fetch(
            """SELECT case_id, kind, key, match, NOT open AS listening FROM case_keys
                WHERE key = ANY($1::text[]) AND (open OR listening_until IS NOT NULL)""",
            keys,
        )
        return [OpenCase(case_id=r["case_id"], kind=r["kind"], key=r["key"], match=r["match"], listening=r["listening"]) for r in rows]

    async def employer_cases(self, kinds: list[str], employer_ids: list[str]) -> list[OpenCase]:
        # `match ? 'employer_id'` and the routed predicate select the partial index of 0013.
        rows = await self.pool.fetch(
            """SELECT case_id, kind, key, match, NOT open AS listening FROM case_keys
                WHERE match ? 'employer_id' AND (match->>'employer_id') = ANY($2::text[])
                  AND (open OR listening_until IS NOT NULL) AND kind = ANY($1::text[])
                ORDER BY case_id, key""",
            kinds, employer_ids,
        )
        return [OpenCase(case_id=r["case_id"], kind=r["kind"], key=r["key"], match=r["match"], listening=r["listening"]) for r in rows]

    async def open_cases_of_kinds(self, kinds: list[str], city: str | None) -> list[str]:
        rows = await self.pool.fetch(
            """SELECT case_id FROM cases WHERE kind = ANY($1::text[]) AND closed_on IS NULL
               AND ($2::text IS NULL OR city = $2) ORDER BY case_id""",
            kinds, city,
        )
        return [r["case_id"] for r in rows]

    async def listening_cases_of_kinds(self, kinds: list[str], city: str | None) -> list[str]:
        rows = await self.pool.fetch(
            """SELECT DISTINCT k.case_id FROM case_keys k JOIN cases c ON c.case_id = k.case_id
                WHERE k.listening_until IS NOT NULL AND k.kind = ANY($1::text[]) AND ($2::text IS NULL OR c.city = $2)
                ORDER BY k.case_id""",
            kinds, city,
        )
        return [r["case_id"] for r in rows]

    async def register_case(self, case_id: str, kind: str, keys: list[str], match: dict[str, Any]) -> None:
        await self.pool.executemany(
            """INSERT INTO case_keys (key, case_id, kind, match) VALUES ($1, $2, $3, $4)
               ON CONFLICT (key, case_id) DO NOTHING""",
            [(key, case_id, kind, match) for key in keys],
        )

    async def store_shared_fact(self, event: CloudEvent, fact: SharedFact) -> None:
        await self.pool.execute(
            """INSERT INTO shared_facts (source, event_id, type, scope, on_date, payload, event_time)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
            event.source, event.id, fact.type, fact.scope, fact.on_date, fact.payload, fact.event_time,
        )

    async def dead_letter(self, origin: Origin, reason: str, raw: bytes) -> None:
        await self.pool.execute(
            """INSERT INTO dead_letters (topic, partition, kafka_offset, reason, raw, header_names, header_values)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (topic, partition, kafka_offset) DO NOTHING""",
            origin.topic, origin.partition, origin.offset, reason, raw,
            [name for name, _ in origin.headers], [value for _, value in origin.headers],
        )

    async def quarantine(self, case_id: str, event: CloudEvent, reason: str, raw: bytes, origin: Origin) -> None:
        await self.pool.execute(
            """INSERT INTO quarantined_events (case_id, source, event_id, type, subject, event_time, reason, topic,
                                               partition, kafka_offset, raw, header_names, header_values)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
               ON CONFLICT (case_id, source, event_id)
               DO UPDATE SET reason = EXCLUDED.reason, status = 'quarantined'""",
            case_id, event.source, event.id, event.type, event.subject, event.time, reason[:1000], origin.topic,
            origin.partition, origin.offset, raw, [name for name, _ in origin.headers], [value for _, value in origin.headers],
        )

    async def quarantine_refused(self, refusal: RefusalRecord) -> None:
        ev = refusal.event
        await self.pool.execute(
            """INSERT INTO quarantined_events (case_id, source, event_id, type, subject, event_time, reason, raw, origin, rule)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'workflow', $9)
               ON CONFLICT (case_id, source, event_id)
               DO UPDATE SET reason = EXCLUDED.reason, rule = EXCLUDED.rule, origin = 'workflow', status = 'quarantined'""",
            refusal.case_id, ev.source, ev.id, ev.type, ev.subject, ev.time, refusal.reason[:1000],
            ev.model_dump_json().encode(), refusal.rule,
        )

    # -- cases -------------------------------------------------------------------------------
    async def subject_facts(self, keys: list[str], types: list[str]) -> list[Fact]:
        # Contributions come from their own table (migration 0014), as the facts they used to be.
        persons, enterprises = contribution_facts.ids_by_key_kind(keys) if CONTRIBUTION in types else ([], [])
        rows = await self.pool.fetch(
            """SELECT key, type, on_date, payload, event_time, source || '#' || event_id AS event_key FROM (
                 SELECT key, type, on_date, payload, event_time, source, event_id
                   FROM subject_facts WHERE key = ANY($1::text[]) AND type = ANY($2::text[])
                 UNION ALL
                 SELECT k.key, $5, (r.value->>'on')::date, r.value->'payload', (r.value->>'time')::timestamptz,
                        r.value->>'source', r.value->>'id'
                   FROM contribution_facts c
                   CROSS JOIN LATERAL (VALUES ('person/' || c.person_id)) AS k(key)
                   CROSS JOIN LATERAL jsonb_each(c.reports) AS r
                  WHERE c.person_id = ANY($3::text[])
                 UNION ALL
                 SELECT k.key, $5, (r.value->>'on')::date, r.value->'payload', (r.value->>'time')::timestamptz,
                        r.value->>'source', r.value->>'id'
                   FROM contribution_facts c
                   CROSS JOIN LATERAL (VALUES ('enterprise/' || c.employer_id)) AS k(key)
                   CROSS JOIN LATERAL jsonb_each(c.reports) AS r
                  WHERE c.employer_id = ANY($4::text[]) AND c.employer_id <> ''
               ) f
               ORDER BY event_time, source, event_id""",
            keys, types, persons, enterprises, CONTRIBUTION,
        )
        return [Fact(**dict(r)) for r in rows]

    async def past_cases(self, subject: str, kinds: list[str], exclude_case_id: str | None) -> list[PastCase]:
        rows = await self.pool.fetch(
            """SELECT case_id, kind, status, opened_on, closed_on, summary FROM cases
                WHERE subject = $1 AND kind = ANY($2::text[]) AND case_id IS DISTINCT FROM $3
                ORDER BY opened_on, case_id""",
            subject, kinds, exclude_case_id,
        )
        return [PastCase(**dict(r)) for r in rows]

    async def shared_facts(self, types: list[str], city: str | None) -> list[SharedFact]:
        rows = await self.pool.fetch(
            """SELECT type, scope, on_date, payload, event_time FROM shared_facts
               WHERE type = ANY($1::text[]) AND (scope = 'province' OR scope = $2) ORDER BY event_time""",
            types, city,
        )
        return [SharedFact(type=r["type"], scope=r["scope"], on_date=r["on_date"], payload=r["payload"], event_time=r["event_time"]) for r in rows]

    async def record_case(self, record: CaseRecord, lifecycle: dict[str, Any]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """
                INSERT INTO cases (case_id, kind, subject, city, status, opened_on, closed_on, next_deadline, summary, version, hold)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (case_id) DO UPDATE SET
                    status = EXCLUDED.status, subject = EXCLUDED.subject, city = EXCLUDED.city,
                    opened_on = EXCLUDED.opened_on, closed_on = EXCLUDED.closed_on,
                    next_deadline = EXCLUDED.next_deadline, summary = EXCLUDED.summary,
                    version = EXCLUDED.version, hold = EXCLUDED.hold, updated_at = now()
                WHERE cases.version < EXCLUDED.version
                """,
                record.case_id, record.kind, record.subject, record.city, record.status,
                record.opened_on, record.closed_on, record.next_deadline, record.summary, record.version,
                record.hold.model_dump(mode="json") if record.hold else None,
            )
            if record.change == "opened" and record.keys:
                # Cases opened by other cases (K2 → K3) are not registered by intake.
                await conn.executemany(
                    """INSERT INTO case_keys (key, case_id, kind) VALUES ($1, $2, $3)
                       ON CONFLICT (key, case_id) DO NOTHING""",
                    [(key, record.case_id, record.kind) for key in record.keys],
                )
            if record.closed_on is not None:
                await conn.execute(
                    """UPDATE case_keys SET open = false, listening_until = $2
                        WHERE case_id = $1 AND (open OR listening_until IS DISTINCT FROM $2)""",
                    record.case_id, record.listening_until,
                )
            elif record.change == "reopened":
                await conn.execute(
                    "UPDATE case_keys SET open = true, listening_until = NULL WHERE case_id = $1", record.case_id
                )
            await _outbox(conn, "cases.lifecycle", record.case_id, lifecycle)

    async def end_listening(self, case_id: str) -> None:
        await self.pool.execute(
            "UPDATE case_keys SET listening_until = NULL WHERE case_id = $1 AND NOT open AND listening_until IS NOT NULL",
            case_id,
        )

    async def pay(self, payment: PaymentRequest, lifecycle: dict[str, Any]) -> bool:
        with tracing.span("ledger write", **_ledger_attributes(payment)) as span:
            inserted = await self._pay(payment, lifecycle)
            if span is not None:
                span.set_attribute("jiuye.inserted", inserted)
            return inserted

    async def _pay(self, payment: PaymentRequest, lifecycle: dict[str, Any]) -> bool:
        async with self.pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                """
                INSERT INTO ledger (case_id, program, period, kind, payee, amount_fen, fund, due_on, city, rule,
                                    entry, seq, corrects, cause)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                ON CONFLICT (case_id, program, period, entry, seq) DO NOTHING
                RETURNING true
                """,
                payment.case_id, payment.program, payment.period, payment.kind, payment.payee,
                payment.amount, payment.fund, payment.due_on, payment.city, payment.rule,
                payment.entry, payment.seq, payment.corrects, payment.cause,
            )
            if inserted:
                await _outbox(conn, "cases.lifecycle", payment.case_id, lifecycle)
            return bool(inserted)

    async def take_slots(self, holder: str, limits: Sequence[tuple[str, int]]) -> tuple[bool, list[int]]:
        """The takers of a scope queue on a transaction-scoped advisory lock per scope (migration
        0007), taken in scope order so that two takers of the same scopes cannot deadlock; the
        counts and the inserts then see every slot committed before, and all or none is taken."""
        async with self.pool.acquire() as conn, conn.transaction():
            for scope in sorted({scope for scope, _ in limits}):
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", scope)
            held: list[int] = []
            missing: list[str] = []
            free = True
            for scope, limit in limits:
                count = int(await conn.fetchval("SELECT count(*) FROM case_slots WHERE scope = $1", scope))
                mine = await conn.fetchval("SELECT true FROM case_slots WHERE scope = $1 AND holder = $2", scope, holder)
                held.append(count)
                if not mine:
                    missing.append(scope)
                    free = free and count < limit
            if not free:
                return False, held
            await conn.executemany("INSERT INTO case_slots (scope, holder) VALUES ($1, $2)", [(s, holder) for s in missing])
            return True, [count + (scope in missing) for count, (scope, _) in zip(held, limits, strict=True)]

    async def pay_capped(self, payment: PaymentRequest, cap: int, lifecycle: dict[str, Any]) -> tuple[bool, int]:
        """One statement inserts the ledger row and adds it to the payee's total in payee_caps;
        the total's CHECK aborts both when the cap would be passed. Then what is left (if any)
        is tried again, again in one statement, until it fits or nothing is left."""
        with tracing.span("ledger write", **_ledger_attributes(payment), **{"jiuye.cap_fen": cap}) as span:
            inserted, amount = await self._pay_capped(payment, cap, lifecycle)
            if span is not None:
                span.set_attributes({"jiuye.inserted": inserted, "jiuye.paid_fen": amount})
            return inserted, amount

    async def _pay_capped(self, payment: PaymentRequest, cap: int, lifecycle: dict[str, Any]) -> tuple[bool, int]:
        amount = payment.amount
        while amount > 0:
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    total = await conn.fetchval(
                        _PAY_CAPPED,
                        payment.case_id, payment.program, payment.period, payment.kind, payment.payee,
                        amount, payment.fund, payment.due_on, payment.city, payment.rule, cap,
                    )
                    if total is None:  # this key was paid before: nothing inserted, nothing added
                        paid = await conn.fetchval(
                            "SELECT amount_fen FROM ledger WHERE case_id = $1 AND program = $2 AND period = $3 AND entry = 'payment'",
                            payment.case_id, payment.program, payment.period,
                        )
                        return False, int(paid)
                    await _outbox(conn, "cases.lifecycle", payment.case_id, {**lifecycle, "data": {**lifecycle["data"], "amount": amount}})
                    return True, amount
            except asyncpg.CheckViolationError as exc:
                if exc.constraint_name != CAP_CONSTRAINT:
                    raise
            left = await self.pool.fetchval(
                "SELECT $1::bigint - used_fen FROM payee_caps WHERE payee = $2 AND program = $3",
                cap, payment.payee, payment.program,
            )
            amount = min(payment.amount, cap if left is None else max(int(left), 0))
        paid = await self.pool.fetchval(
            "SELECT amount_fen FROM ledger WHERE case_id = $1 AND program = $2 AND period = $3 AND entry = 'payment'",
            payment.case_id, payment.program, payment.period,
        )
        return False, int(paid or 0)

    async def record_task(self, task: TaskRecord, lifecycle: dict[str, Any]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """
                INSERT INTO tasks (task_id, case_id, kind, city, due_on, state, details, decided_by, decision)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (task_id) DO UPDATE SET
                    state = EXCLUDED.state, due_on = EXCLUDED.due_on, details = EXCLUDED.details,
                    decided_by = EXCLUDED.decided_by, decision = EXCLUDED.decision,
                    decided_at = CASE WHEN EXCLUDED.state <> 'open' THEN now() END
                """,
                task.task_id, task.case_id, task.kind, task.city, task.due_on, task.state,
                task.details, task.decided_by, task.decision,
            )
            await _outbox(conn, "cases.lifecycle", task.case_id, lifecycle)


    async def headcount_comparisons(self, arrivals: Sequence[Arrival]) -> list[Comparison]:
        return await headcount_facts.pg_comparisons(self.pool, arrivals)

    async def mark_headcount_judged(self, judged: Sequence[tuple[str, str]]) -> None:
        await headcount_facts.pg_mark_judged(self.pool, judged)

    async def raise_alert(self, alert: AlertRecord, message: dict[str, Any]) -> bool:
        """The alert row and its outbox row (topic `alerts`) in one transaction, once per id."""
        async with self.pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                """
                INSERT INTO alerts (alert_id, kind, city, on_date, details) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (alert_id) DO NOTHING
                RETURNING true
                """,
                alert.alert_id, alert.kind, alert.city, alert.on_date, alert.details,
            )
            if inserted:
                await _outbox(conn, ALERTS, message["subject"], message)
            return bool(inserted)

    # -- funds, budgets and forecasts --------------------------------------------------------
    async def record_schedule(self, record: ScheduleRecord) -> None:
        """The case's rows replaced in one transaction, under its own advisory lock so that two
        writes of one case (a retried activity) never interleave."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 15))", record.case_id)
            await conn.execute("DELETE FROM case_schedules WHERE case_id = $1", record.case_id)
            if record.lines:
                await conn.executemany(
                    """INSERT INTO case_schedules (case_id, program, period, kind, city, fund, due_on, amount_fen, on_date)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                    [(record.case_id, line.program, line.period, record.kind, record.city, line.fund, line.due_on,
                      line.amount, record.on) for line in record.lines],
                )

    async def set_budget(self, budget: BudgetRow) -> bool:
        """One statement: the row is replaced only by an event later in business time (a tie goes
        to the larger event key, as `corrections.replaces` says)."""
        stands = await self.pool.fetchval(
            """
            INSERT INTO fund_budgets (city, fund, year, amount_fen, event_key, event_time) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (city, fund, year) DO UPDATE SET
                amount_fen = EXCLUDED.amount_fen, event_key = EXCLUDED.event_key, event_time = EXCLUDED.event_time,
                set_at = now()
            WHERE (fund_budgets.event_time, fund_budgets.event_key) < (EXCLUDED.event_time, EXCLUDED.event_key)
            RETURNING true
            """,
            budget.city, budget.fund, budget.year, budget.amount, budget.event_key, budget.event_time,
        )
        if stands:
            return True
        current = await self.pool.fetchval(
            "SELECT event_key FROM fund_budgets WHERE (city, fund, year) = ($1, $2, $3)", budget.city, budget.fund, budget.year)
        return bool(current == budget.event_key)

    async def budgets(self, city: str | None, fund: str | None, year: int) -> list[BudgetRow]:
        rows = await self.pool.fetch(
            """SELECT city, fund, year, amount_fen, event_key, event_time FROM fund_budgets
                WHERE year = $1 AND ($2::text IS NULL OR city = $2) AND ($3::text IS NULL OR fund = $3)
                ORDER BY city, fund""",
            year, city, fund,
        )
        return [BudgetRow(r["city"], r["fund"], r["year"], r["amount_fen"], r["event_key"], r["event_time"]) for r in rows]

    async def scheduled_by_month(self, city: str | None, fund: str | None, year: int, since: date) -> list[FundMonth]:
        rows = await self.pool.fetch(
            """SELECT city, fund, to_char(due_on, 'YYYY-MM') AS month, sum(amount_fen)::bigint AS amount
                 FROM case_schedules
                WHERE city IS NOT NULL AND due_on >= greatest($1::date, make_date($2, 1, 1)) AND due_on < make_date($2 + 1, 1, 1)
                  AND ($3::text IS NULL OR city = $3) AND ($4::text IS NULL OR fund = $4)
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
            since, year, city, fund,
        )
        return [FundMonth(r["city"], r["fund"], r["month"], r["amount"]) for r in rows]

    async def spend_by_month(self, city: str | None, fund: str | None, year: int) -> list[FundMonth]:
        rows = await self.pool.fetch(
            """SELECT city, fund, to_char(instructed_on, 'YYYY-MM') AS month, sum(amount_fen)::bigint AS amount
                 FROM disbursements
                WHERE status IN ('instructed', 'settled') AND city IS NOT NULL
                  AND instructed_on >= make_date($1, 1, 1) AND instructed_on < make_date($1 + 1, 1, 1)
                  AND ($2::text IS NULL OR city = $2) AND ($3::text IS NULL OR fund = $3)
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
            year, city, fund,
        )
        return [FundMonth(r["city"], r["fund"], r["month"], r["amount"]) for r in rows]

    # -- disbursement ------------------------------------------------------------------------
    async def register_account(self, account: PayeeAccountRow) -> str:
        """Versions are numbered under a per-payee advisory lock, so two events of one payee at
        once get two versions; the event key makes a redelivery return its first version."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 9))", account.payee)
            version = await conn.fetchval("SELECT version FROM payee_accounts WHERE event_key = $1", account.event_key)
            if version is None:
                version = await conn.fetchval(
                    """INSERT INTO payee_accounts (payee, version, bank, key_id, number_sealed, holder_sealed,
                                                   last4, on_date, event_key)
                       SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8
                         FROM payee_accounts WHERE payee = $1
                       RETURNING version""",
                    account.payee, account.bank, account.key_id, account.number_sealed, account.holder_sealed,
                    account.last4, account.on_date, account.event_key,
                )
            return account_ref(account.payee, int(version))

    async def current_accounts(self, payees: list[str]) -> dict[str, str]:
        rows = await self.pool.fetch(
            "SELECT payee, max(version) AS version FROM payee_accounts WHERE payee = ANY($1::text[]) GROUP BY payee",
            payees,
        )
        return {r["payee"]: account_ref(r["payee"], r["version"]) for r in rows}

    async def account_versions(self, payee: str) -> list[PayeeAccountRow]:
        rows = await self.pool.fetch(
            """SELECT payee, bank, key_id, number_sealed, holder_sealed, last4, on_date, event_key
                 FROM payee_accounts WHERE payee = $1 ORDER BY version""",
            payee,
        )
        return [PayeeAccountRow(**dict(r)) for r in rows]

    async def due_for_disbursement(self, today: date, limit: int) -> list[Due]:
        rows = await self.pool.fetch(_DUE_FOR_DISBURSEMENT, today, limit)
        due = []
        for r in rows:
            fields = dict(r)
            keys, amounts = fields.pop("deduction_keys") or [], fields.pop("deduction_amounts") or []
            due.append(Due(**fields, deducted=tuple(Netting(k, a) for k, a in zip(keys, amounts, strict=True))))
        return due

    async def late_deductions(self, payees: list[str]) -> list[OpenDeduction]:
        rows = await self.pool.fetch(_LATE_DEDUCTIONS, payees)
        return [OpenDeduction(**dict(r)) for r in rows]

    async def disbursement(self, ledger_key: str) -> Disbursement | None:
        row = await self.pool.fetchrow("SELECT * FROM disbursements WHERE ledger_key = $1", ledger_key)
        return _disbursement(row) if row else None

    async def disbursement_of_instruction(self, instruction_id: str) -> Disbursement | None:
        row = await self.pool.fetchrow(
            """SELECT d.* FROM disbursements d JOIN payment_instructions i USING (ledger_key)
                WHERE i.instruction_id = $1""",
            instruction_id,
        )
        return _disbursement(row) if row else None

    async def disbursements(self, *, payee: str | None = None, open_only: bool = False) -> list[Disbursement]:
        rows = await self.pool.fetch(
            """SELECT * FROM disbursements WHERE ($1::text IS NULL OR payee = $1)
                  AND (NOT $2 OR status NOT IN ('settled', 'stopped')) ORDER BY due_on, ledger_key""",
            payee, open_only,
        )
        return [_disbursement(r) for r in rows]

    async def write_disbursement(self, write: DisbursementWrite) -> bool:
        try:
            return await self._write_disbursement(write)
        except _NettedElsewhere:  # rolled back: the desk nets again from what is left
            return False

    async def _write_disbursement(self, write: DisbursementWrite) -> bool:
        state, due = write.state, write.state.due
        async with self.pool.acquire() as conn, conn.transaction():
            columns = (
                due.ledger_key, due.case_id, due.payee, due.fund, due.city, due.amount, due.due_on,
                state.status, state.since, state.attempt, state.instruction_id, state.account_ref,
                state.instructed_on, state.reason, state.settled_by, list(state.raised), state.version,
            )
            if write.expected_version == 0:
                written = await conn.fetchval(
                    f"""INSERT INTO disbursements ({_DISBURSEMENT_COLUMNS}) VALUES
                        ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
                        ON CONFLICT (ledger_key) DO NOTHING RETURNING true""",
                    *columns,
                )
            else:
                written = await conn.fetchval(
                    """UPDATE disbursements SET status = $2, since = $3, attempt = $4, instruction_id = $5,
                              account_ref = $6, instructed_on = $7, reason = $8, settled_by = $9,
                              raised = $10, version = $11, updated_at = now()
                        WHERE ledger_key = $1 AND version = $12 RETURNING true""",
                    due.ledger_key, *columns[7:], write.expected_version,
                )
            if not written:
                return False
            if write.expected_version == 0 and due.deducted and not await _net(conn, due):
                raise _NettedElsewhere
            for task, lifecycle in write.decided:
                taken = await conn.fetchval(
                    """UPDATE tasks SET state = $2, decided_by = $3, decision = $4, decided_at = now()
                        WHERE task_id = $1 AND state = 'open' RETURNING true""",
                    task.task_id, task.state, task.decided_by, task.decision,
                )
                if not taken:  # rolls the whole transition back
                    raise TaskNotOpen(f"task {task.task_id} is no longer open")
                await _outbox(conn, "cases.lifecycle", task.case_id, lifecycle)
            for row in write.instructions:
                await conn.execute(
                    """INSERT INTO payment_batches AS b (batch_id, city, fund, on_date, count, total_fen)
                       VALUES ($1, $2, $3, $4, 1, $5)
                       ON CONFLICT (batch_id) DO UPDATE SET count = b.count + 1, total_fen = b.total_fen + EXCLUDED.total_fen""",
                    row.batch_id, row.city, row.fund, row.on, row.amount,
                )
                await conn.execute(
                    """INSERT INTO payment_instructions (instruction_id, ledger_key, attempt, account_ref, amount_fen,
                                                         batch_id, instructed_on) VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                    row.instruction_id, row.ledger_key, row.attempt, row.account_ref, row.amount, row.batch_id, row.on,
                )
            for result in write.results:
                await conn.execute(
                    # A settlement stands: a return arriving after it (out of order) does not undo it.
                    """UPDATE payment_instructions SET result = $2, result_on = $3, reason = $4
                        WHERE instruction_id = $1 AND result IS DISTINCT FROM 'settled'""",
                    result.instruction_id, result.result, result.on, result.reason,
                )
            for task, lifecycle in write.tasks:
                await conn.execute(
                    """INSERT INTO tasks (task_id, case_id, kind, city, due_on, state, details)
                       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (task_id) DO NOTHING""",
                    task.task_id, task.case_id, task.kind, task.city, task.due_on, task.state, task.details,
                )
                await _outbox(conn, "cases.lifecycle", task.case_id, lifecycle)
            for alert, message in write.alerts:
                inserted = await conn.fetchval(
                    """INSERT INTO alerts (alert_id, kind, city, on_date, details) VALUES ($1, $2, $3, $4, $5)
                       ON CONFLICT (alert_id) DO NOTHING RETURNING true""",
                    alert.alert_id, alert.kind, alert.city, alert.on_date, alert.details,
                )
                if inserted:
                    await _outbox(conn, ALERTS, message["subject"], message)
            for recovery in write.recoveries:
                await conn.execute(
                    """INSERT INTO disbursement_recoveries (alert_id, ledger_key, instruction_id, amount_fen, on_date)
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (alert_id) DO NOTHING""",
                    recovery.alert_id, recovery.ledger_key, recovery.instruction_id, recovery.amount, recovery.on,
                )
            for topic, key, value in write.outbox:
                await _outbox(conn, topic, key, value)
            return True

    async def close_batches(self, before: date) -> list[BatchRow]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """UPDATE payment_batches SET closed_at = now() WHERE closed_at IS NULL AND on_date < $1
                   RETURNING batch_id, city, fund, on_date, count, total_fen AS total, true AS closed""",
                before,
            )
            closed = sorted((BatchRow(**dict(r)) for r in rows), key=lambda b: b.batch_id)
            for batch in closed:
                await _outbox(conn, PAYMENT_INSTRUCTIONS, batch.batch_id, batch_closed_event(batch))
            return closed

    async def batches(self) -> list[BatchRow]:
        rows = await self.pool.fetch(
            """SELECT batch_id, city, fund, on_date, count, total_fen AS total, closed_at IS NOT NULL AS closed
                 FROM payment_batches ORDER BY on_date, batch_id"""
        )
        return [BatchRow(**dict(r)) for r in rows]

    async def batch_instructions(self, batch_id: str) -> list[InstructionRow]:
        rows = await self.pool.fetch(
            """SELECT i.instruction_id, i.ledger_key, i.attempt, i.account_ref, i.amount_fen AS amount, i.batch_id,
                      b.city, b.fund, i.instructed_on AS on
                 FROM payment_instructions i JOIN payment_batches b USING (batch_id)
                WHERE i.batch_id = $1 ORDER BY i.instruction_id""",
            batch_id,
        )
        return [InstructionRow(**dict(r)) for r in rows]


_DISBURSEMENT_COLUMNS = (
    "ledger_key, case_id, payee, fund, city, amount_fen, due_on, status, since, attempt, instruction_id, "
    "account_ref, instructed_on, reason, settled_by, raised, version"
)

# A payment less the deductions taken from it (same case, program and period: policy/corrections),
# or an arrears row; overpayments are receivables, not instructions.
_DUE_FOR_DISBURSEMENT = """
SELECT * FROM (
SELECT l.case_id || '|' || l.program || '|' || l.period || '|' || l.entry || '|' || l.seq AS ledger_key,
       l.case_id, l.payee, l.fund, l.city, l.due_on,
       (l.amount_fen - CASE WHEN l.entry = 'payment' THEN coalesce((
           SELECT sum(x.amount_fen) FROM ledger x
            WHERE x.case_id = l.case_id AND x.program = l.program AND x.period = l.period AND x.entry = 'deduction'), 0)
       ELSE 0 END)::bigint AS amount,
       CASE WHEN l.entry = 'payment' THEN (
           SELECT array_agg(x.case_id || '|' || x.program || '|' || x.period || '|deduction|' || x.seq ORDER BY x.seq)
             FROM ledger x
            WHERE x.case_id = l.case_id AND x.program = l.program AND x.period = l.period AND x.entry = 'deduction')
       END AS deduction_keys,
       CASE WHEN l.entry = 'payment' THEN (
           SELECT array_agg(x.amount_fen ORDER BY x.seq) FROM ledger x
            WHERE x.case_id = l.case_id AND x.program = l.program AND x.period = l.period AND x.entry = 'deduction')
       END AS deduction_amounts
  FROM ledger l
 WHERE l.entry IN ('payment', 'arrears') AND l.due_on <= $1
   AND NOT EXISTS (SELECT 1 FROM disbursements d
                    WHERE d.ledger_key = l.case_id || '|' || l.program || '|' || l.period || '|' || l.entry || '|' || l.seq)
) due WHERE amount > 0
 ORDER BY due_on, ledger_key
 LIMIT $2
"""


# The deductions whose payment already has its disbursement, less what instructions netted of them.
_LATE_DEDUCTIONS = """
SELECT * FROM (
SELECT x.case_id || '|' || x.program || '|' || x.period || '|deduction|' || x.seq AS deduction_key,
       x.payee, x.fund,
       (x.amount_fen - coalesce((SELECT sum(n.amount_fen) FROM disbursement_nettings n
                                  WHERE n.deduction_key = x.case_id || '|' || x.program || '|' || x.period
                                                          || '|deduction|' || x.seq), 0))::bigint AS remaining
  FROM ledger x
 WHERE x.entry = 'deduction' AND x.payee = ANY($1::text[])
   AND EXISTS (SELECT 1 FROM disbursements d
                WHERE d.ledger_key = x.case_id || '|' || x.program || '|' || x.period || '|payment|0')
) late WHERE remaining > 0
 ORDER BY deduction_key
"""


class _NettedElsewhere(Exception):
    """A new key's netting would take more of a deduction than it has left: the write rolls back."""


async def _net(conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], due: Due) -> bool:
    """Record `due`'s nettings, each under its deduction row's lock (two keys netting one
    deduction at once take turns); False if one would exceed what the deduction has left."""
    for netting in due.deducted:
        case_id, program, period, entry, seq = netting.deduction_key.split("|")
        amount = await conn.fetchval(
            """SELECT amount_fen FROM ledger WHERE case_id = $1 AND program = $2 AND period = $3 AND entry = $4
                  AND seq = $5 FOR UPDATE""",
            case_id, program, period, entry, int(seq),
        )
        netted = await conn.fetchval(
            "SELECT coalesce(sum(amount_fen), 0) FROM disbursement_nettings WHERE deduction_key = $1",
            netting.deduction_key,
        )
        if amount is None or amount - netted < netting.amount:
            return False
        await conn.execute(
            "INSERT INTO disbursement_nettings (deduction_key, ledger_key, amount_fen) VALUES ($1, $2, $3)",
            netting.deduction_key, due.ledger_key, netting.amount,
        )
    return True


def _disbursement(row: asyncpg.Record) -> Disbursement:
    due = Due(ledger_key=row["ledger_key"], case_id=row["case_id"], payee=row["payee"], fund=row["fund"],
              city=row["city"], amount=row["amount_fen"], due_on=row["due_on"])
    return Disbursement(
        due=due, status=row["status"], since=row["since"], attempt=row["attempt"],
        instruction_id=row["instruction_id"], account_ref=row["account_ref"], instructed_on=row["instructed_on"],
        reason=row["reason"], settled_by=row["settled_by"], raised=tuple(row["raised"]), version=row["version"],
    )


CAP_CONSTRAINT = "payee_caps_within_cap"

# The inbox columns of a batch, as parallel arrays ($1..$8 of `_inbox_columns`).
_INBOX_UNNEST = (
    "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::int[], $8::bigint[])"
)


def _inbox_columns(items: Sequence[tuple[CloudEvent, Origin]]) -> list[list[Any]]:
    return [
        [e.source for e, _ in items], [e.id for e, _ in items], [e.type for e, _ in items],
        [e.subject for e, _ in items], [e.time for e, _ in items], [o.topic for _, o in items],
        [o.partition for _, o in items], [o.offset for _, o in items],
    ]

# The ledger row and the payee's running total in one statement (migration 0003): the upsert
# locks the (payee, program) row and adds to its latest committed total; over the cap, the CHECK
# fails the statement and so the ledger insert too. A key already in the ledger inserts nothing
# and so adds nothing (no row reaches the second insert).
_PAY_CAPPED = """
WITH ins AS (
    INSERT INTO ledger (case_id, program, period, kind, payee, amount_fen, fund, due_on, city, rule)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (case_id, program, period) WHERE entry = 'payment' DO NOTHING
    RETURNING payee, program, amount_fen)
INSERT INTO payee_caps AS caps (payee, program, cap_fen, used_fen)
SELECT payee, program, $11, amount_fen FROM ins
ON CONFLICT (payee, program) DO UPDATE
   SET used_fen = caps.used_fen + EXCLUDED.used_fen, cap_fen = EXCLUDED.cap_fen, updated_at = now()
RETURNING used_fen
"""


def _ledger_attributes(payment: PaymentRequest) -> dict[str, Any]:
    return {"jiuye.case_id": payment.case_id, "jiuye.program": payment.program, "jiuye.period": payment.period,
            "jiuye.kind": payment.kind, "jiuye.fund": payment.fund, "jiuye.amount_fen": payment.amount}


async def _outbox(conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], topic: str, key: str, value: dict[str, Any]) -> None:
    # The span writing the row travels with the event (CloudEvents' traceparent), so the relay's
    # publish joins its trace.
    value = tracing.with_traceparent(value)
    await conn.execute(
        "INSERT INTO outbox (topic, key, dedupe_key, value) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING",
        topic, key, f"{topic}:{value['id']}", value,
    )
