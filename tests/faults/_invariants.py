"""The one checker every fault test ends with: given what was sent (`Load`), the dead letters
(PostgreSQL and the `events.dlq` topic), the inbox, the ledger, the read model and Temporal, it
asserts the five promises of docs/RELIABILITY.md and returns the figures of the run:

1. no event lost: every valid event id has exactly one inbox row in a final state (applied,
   ignored — incl. rejected by routing, with the reason — or late), and every poison record is
   in the `dead_letters` table and on `events.dlq` with a reason;
2. no payment twice: every ledger key (case, program, period, entry, seq) appears once, the
   ledger holds exactly the payments and corrections the policy expects for the load and no
   other (original + corrections = what the facts give, where the load says), and the outbox
   carries one `case.payment` event per ledger row;
3. the read model agrees with the ledger: each case closed with the expected status, and its
   `months_paid` (where the kind keeps one) and the workflow's result `paid_fen` equal the ledger
   (payments and arrears less deductions);
4. no workflow failed or stuck: every case workflow completed, none failed, was terminated or
   still retries an activity or workflow task;
5. the intake caught up: the consumer group's lag on the input topics is zero, no inbox row is
   still `received`, and every outbox row was published;
6. disbursement is sound (POLICY.md part 2): every ledger key is settled at most once (a second
   settlement of a key is a recovery item, and a key is `settled` exactly when one of its
   instructions is); every instruction has exactly one final state — settled, returned, or in
   flight (its key's current instruction, unanswered) — and was published exactly once; and the
   money instructed (the `payment.instructed` events, and the batches' totals) = settled +
   returned + in flight.

All checks poll (`assert_eventually`) because recovery is asynchronous; the last failure is
raised with what was still missing.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from contracts.cases import CaseOutcome, CaseView
from contracts.topics import DEAD_LETTERS, INPUT_TOPICS
from policy.corrections import WORTH_SIGN
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually
from tests.faults._load import Load

FIGURES = Path(__file__).resolve().parents[2] / "test-artifacts" / "faults.json"


@dataclass
class Figures:
    """What one fault run did, for the table in docs/RELIABILITY.md."""

    fault: str
    records_sent: int = 0  # records produced to Kafka (duplicates and poison included)
    events: int = 0  # distinct valid event ids
    applied: int = 0  # inbox rows applied (incl. ignored/late: handled, with an outcome)
    dead_lettered: int = 0  # dead-letter rows (poison and routing rejections)
    duplicates_absorbed: int = 0  # deliveries that found their id already handled
    payments: int = 0  # ledger rows
    paid_fen: int = 0
    cases: int = 0
    lost: int = 0
    double: int = 0
    settled_twice: int = 0  # ledger keys settled more than once (less their recovery items)
    not_one_final_state: int = 0  # instructions not exactly one of settled / returned / in flight
    money_off: int = 0  # fen by which instructed ≠ settled + returned + in flight (or ≠ the batches)
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


async def check_invariants(system: System, load: Load, fault: str, *, started: float,
                           duplicates_absorbed: int = 0, records_sent: int | None = None,
                           timeout: float = 180.0) -> Figures:
    """Assert the five invariants for `load` (polling up to `timeout` s each) and return the figures."""
    await _caught_up(system, timeout)
    inbox = await _nothing_lost(system, load, timeout)
    ledger, received, rows = await _paid_once(system, load, timeout)
    await _read_model_agrees(system, load, ledger, timeout)
    outcomes = await _workflows_done(system, load, timeout)
    money = await _disbursement_sound(system, timeout)
    for case_id, outcome in outcomes.items():
        assert outcome.paid_fen == received.get(case_id, 0), f"{case_id}: result {outcome.paid_fen} ≠ ledger"
    dead = await system.pool.fetchval("SELECT count(*) FROM dead_letters")
    letters = await system.pool.fetch("SELECT reason, raw, topic, partition, kafka_offset FROM dead_letters")
    reasons = Counter(r["reason"][:120] for r in letters)
    poison = set(load.poison.values())
    # A dead letter that is none of the load's poison (seen once in fault 2's first runs): kept
    # in the figures with its reason and origin, so it can be explained.
    unexpected = [{"reason": r["reason"][:300], "raw": bytes(r["raw"])[:300].decode(errors="replace"),
                   "origin": f"{r['topic']}/{r['partition']}@{r['kafka_offset']}"}
                  for r in letters if bytes(r["raw"]) not in poison]
    rejected = Counter((r["outcome"] or "")[:120] for r in await system.pool.fetch(
        "SELECT outcome FROM inbox WHERE outcome LIKE 'dead letter:%'"))
    figures = Figures(
        fault=fault,
        records_sent=records_sent if records_sent is not None else len(load.lines),
        events=len(load.good),
        applied=sum(1 for state in inbox.values() if state in ("applied", "ignored", "late")),
        dead_lettered=int(dead),
        duplicates_absorbed=duplicates_absorbed,
        payments=rows,
        paid_fen=sum(received.values()),
        cases=len(load.statuses),
        lost=0,
        double=0,
        settled_twice=0,
        not_one_final_state=0,
        money_off=0,
        seconds=round(time.monotonic() - started, 1),
        notes={"dead_letter_reasons": dict(reasons), "routing_rejections": dict(rejected), "disbursement_fen": money,
               **({"unexpected_dead_letters": unexpected} if unexpected else {})},
    )
    record_figures(figures)
    return figures


async def _caught_up(system: System, timeout: float) -> None:
    async def caught_up() -> None:
        lag = await system.kafka.lag(system.settings.consumer_group, await system.kafka.ends(INPUT_TOPICS))
        assert lag == 0, f"consumer lag {lag}"
        received = await system.pool.fetchval("SELECT count(*) FROM inbox WHERE state = 'received'")
        assert received == 0, f"{received} inbox rows claimed but never finished"

    await assert_eventually(caught_up, timeout=timeout, interval=0.5)


async def _nothing_lost(system: System, load: Load, timeout: float) -> dict[tuple[str, str], str]:
    async def accounted() -> dict[tuple[str, str], str]:
        rows = await system.pool.fetch("SELECT source, event_id, state, outcome FROM inbox")
        inbox = {(r["source"], r["event_id"]): r["state"] for r in rows}
        missing = [k for k in load.good if k not in inbox]
        assert not missing, f"{len(missing)} events never reached the inbox, e.g. {missing[:3]}"
        unfinished = [k for k in load.good if inbox[k] not in ("applied", "ignored", "late")]
        assert not unfinished, f"{len(unfinished)} events not finished, e.g. {unfinished[:3]}"
        rejected = [r for r in rows if (r["outcome"] or "").startswith("dead letter:")]
        assert all(len(r["outcome"]) > len("dead letter: ") for r in rejected), "a routing rejection without a reason"
        stored = await system.pool.fetch("SELECT raw, reason FROM dead_letters")
        reasons = {bytes(r["raw"]): r["reason"] for r in stored}
        not_stored = [label for label, raw in load.poison.items() if not reasons.get(raw)]
        assert not not_stored, f"poison not in dead_letters with a reason: {not_stored}"
        on_topic = {r.value: dict(r.headers).get("dlq.reason") for r in system.tail.of(DEAD_LETTERS)}
        not_published = [label for label, raw in load.poison.items() if not on_topic.get(raw)]
        assert not not_published, f"poison not on {DEAD_LETTERS} with a reason: {not_published}"
        return inbox

    return await assert_eventually(accounted, timeout=timeout, interval=0.5)


# What each entry does to what the payee receives (the case's `paid_fen`): an overpayment is a
# receivable, a deduction is withheld from a payment.
RECEIVED_SIGN = {"payment": 1, "arrears": 1, "overpayment": 0, "deduction": -1}


async def _paid_once(system: System, load: Load, timeout: float) -> tuple[dict[str, list[tuple[str, int]]], dict[str, int], int]:
    """The original payments per case as (period, amount), what each case's payee receives, and
    the number of ledger rows; asserts the payments and the corrections against the load, each
    ledger key once, and one outbox event per ledger row."""
    async def exact() -> tuple[dict[str, list[tuple[str, int]]], dict[str, int], int]:
        rows = await system.pool.fetch(
            "SELECT case_id, program, period, entry, seq, amount_fen FROM ledger WHERE case_id LIKE $1", load.scope + "%")
        keys = Counter((r["case_id"], r["program"], r["period"], r["entry"], r["seq"]) for r in rows)
        assert all(n == 1 for n in keys.values()), "a ledger key appears twice"  # the primary key
        ledger: dict[str, list[tuple[str, int]]] = {}
        corrections: dict[str, list[tuple[str, str, int]]] = {}
        worth: dict[str, dict[str, int]] = {}
        for r in rows:
            if r["entry"] == "payment":
                ledger.setdefault(r["case_id"], []).append((r["period"], r["amount_fen"]))
            else:
                corrections.setdefault(r["case_id"], []).append((r["period"], r["entry"], r["amount_fen"]))
            periods = worth.setdefault(r["case_id"], {})
            periods[r["period"]] = periods.get(r["period"], 0) + WORTH_SIGN[r["entry"]] * r["amount_fen"]
        unexpected = (set(ledger) | set(corrections)) - set(load.payments)
        assert not unexpected, f"payments for cases the load does not open: {sorted(unexpected)[:3]}"
        wrong = {c: (sorted(ledger.get(c, [])), sorted(p)) for c, p in load.payments.items() if sorted(ledger.get(c, [])) != sorted(p)}
        assert not wrong, f"{len(wrong)} cases paid otherwise than expected, e.g. {next(iter(wrong.items()))}"
        miscorrected = {c: (sorted(corrections.get(c, [])), sorted(load.corrections.get(c, []))) for c in load.payments
                        if sorted(corrections.get(c, [])) != sorted(load.corrections.get(c, []))}
        assert not miscorrected, f"{len(miscorrected)} cases corrected otherwise than expected, e.g. {next(iter(miscorrected.items()))}"
        # Original + corrections = what the facts give (a period corrected to nothing is worth 0).
        misworth = {c: ({p: v for p, v in worth.get(c, {}).items() if v}, w) for c, w in load.worth.items()
                    if {p: v for p, v in worth.get(c, {}).items() if v} != w}
        assert not misworth, f"{len(misworth)} cases worth otherwise than the facts give, e.g. {next(iter(misworth.items()))}"
        events = await system.pool.fetch(
            "SELECT key, count(*) AS n FROM outbox WHERE value->>'type' = 'case.payment' AND key LIKE $1 GROUP BY key",
            load.scope + "%")
        told = {r["key"]: r["n"] for r in events}
        assert told == dict(Counter(r["case_id"] for r in rows)), "outbox payment events differ from the ledger"
        received = Counter({r["case_id"]: 0 for r in rows})
        for r in rows:
            received[r["case_id"]] += RECEIVED_SIGN[r["entry"]] * r["amount_fen"]
        return ledger, dict(received), len(rows)

    return await assert_eventually(exact, timeout=timeout, interval=0.5)


async def _read_model_agrees(system: System, load: Load, ledger: dict[str, list[tuple[str, int]]], timeout: float) -> None:
    async def agrees() -> None:
        rows = await system.pool.fetch("SELECT case_id, status, closed_on, summary FROM cases WHERE case_id LIKE $1",
                                       load.scope + "%")
        cases = {r["case_id"]: r for r in rows}
        assert set(cases) == set(load.statuses), f"read model cases differ: {set(cases) ^ set(load.statuses)}"
        wrong = {c: cases[c]["status"] for c, s in load.statuses.items() if cases[c]["status"] != s or cases[c]["closed_on"] is None}
        assert not wrong, f"{len(wrong)} cases not closed as expected, e.g. {list(wrong.items())[:3]}"
        for c, r in cases.items():
            summary = r["summary"] or {}
            if "months_paid" in summary:
                assert summary["months_paid"] == len(ledger.get(c, [])), f"{c}: read model {summary['months_paid']} months ≠ ledger"
        unpublished = await system.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert unpublished == 0, f"{unpublished} outbox rows not published yet"

    await assert_eventually(agrees, timeout=timeout, interval=0.5)


async def _workflows_done(system: System, load: Load, timeout: float) -> dict[str, CaseOutcome]:
    async def done() -> dict[str, CaseOutcome]:
        outcomes: dict[str, CaseOutcome] = {}
        for case_id in load.statuses:
            handle = system.client.get_workflow_handle(case_id, result_type=CaseOutcome)
            described = await handle.describe()
            assert described.status not in (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED,
                                             WorkflowExecutionStatus.TIMED_OUT, WorkflowExecutionStatus.CANCELED), \
                f"{case_id} {described.status.name}"
            raw = described.raw_description
            stuck = [a.activity_type.name for a in raw.pending_activities if a.attempt > 1]
            if described.status == WorkflowExecutionStatus.COMPLETED:
                outcomes[case_id] = await handle.result()
                continue
            # A case that paid keeps its workflow running for ledger.correction_days after it
            # closed (listening for late facts): closed, healthy, nothing retrying.
            assert described.status == WorkflowExecutionStatus.RUNNING and not stuck, \
                f"{case_id} still {described.status.name} (retrying: {stuck})"
            view = await handle.query("state", result_type=CaseView)
            assert view.closed_on is not None, f"{case_id} still {view.status} (not closed)"
            outcomes[case_id] = CaseOutcome(case_id=case_id, status=view.status, paid_fen=view.paid_fen)
        # Cases of other kinds the same events opened (outside the load's scope) may still run,
        # but none may have failed or be retrying.
        others = await system.pool.fetch("SELECT case_id FROM cases WHERE NOT (case_id LIKE $1)", load.scope + "%")
        for row in others:
            described = await system.client.get_workflow_handle(row["case_id"]).describe()
            assert described.status in (WorkflowExecutionStatus.COMPLETED, WorkflowExecutionStatus.RUNNING), \
                f"{row['case_id']} {described.status.name}"
            retrying = [a.activity_type.name for a in described.raw_description.pending_activities if a.attempt > 1]
            assert not retrying, f"{row['case_id']} retrying {retrying}"
        return outcomes

    return await assert_eventually(done, timeout=timeout, interval=1.0)


async def _disbursement_sound(system: System, timeout: float) -> dict[str, int]:
    """Invariant 6; the fen instructed, settled, returned and in flight."""
    async def sound() -> dict[str, int]:
        keys = await system.pool.fetch(
            """SELECT d.ledger_key, d.status,
                      (SELECT count(*) FROM payment_instructions i WHERE i.ledger_key = d.ledger_key AND i.result = 'settled') AS settled,
                      (SELECT count(*) FROM disbursement_recoveries r WHERE r.ledger_key = d.ledger_key) AS recovered
                 FROM disbursements d""")
        twice = [k["ledger_key"] for k in keys if k["settled"] - k["recovered"] > 1]
        assert not twice, f"{len(twice)} ledger keys settled more than once, e.g. {twice[:3]}"
        mismatched = [k["ledger_key"] for k in keys if (k["status"] == "settled") != (k["settled"] > 0)]
        assert not mismatched, f"{len(mismatched)} keys whose status disagrees with their settled instructions, e.g. {mismatched[:3]}"
        rows = await system.pool.fetch(
            """SELECT i.instruction_id, i.amount_fen, i.result,
                      (i.result IS NULL AND d.status = 'instructed' AND d.instruction_id = i.instruction_id) AS in_flight
                 FROM payment_instructions i JOIN disbursements d USING (ledger_key)""")
        states = {r["instruction_id"]: [r["result"] == "settled", r["result"] == "returned", r["in_flight"]] for r in rows}
        off = [i for i, s in states.items() if sum(s) != 1]
        assert not off, f"{len(off)} instructions not in exactly one final state, e.g. {off[:3]}"
        published = Counter(r["id"] for r in await system.pool.fetch(
            """SELECT value->>'id' AS id FROM outbox WHERE topic = 'payments.instructions'
                 AND value->>'type' = 'payment.instructed' AND published_at IS NOT NULL"""))
        not_once = [i for i in states if published.get(i) != 1] + [i for i in published if i not in states]
        assert not not_once, f"{len(not_once)} instructions not published exactly once, e.g. {not_once[:3]}"
        instructed = int(await system.pool.fetchval(
            """SELECT coalesce(sum((value->'data'->>'amount')::bigint), 0) FROM outbox
                WHERE topic = 'payments.instructions' AND value->>'type' = 'payment.instructed'"""))
        money = {
            "instructed": instructed,
            "settled": sum(r["amount_fen"] for r in rows if r["result"] == "settled"),
            "returned": sum(r["amount_fen"] for r in rows if r["result"] == "returned"),
            "in_flight": sum(r["amount_fen"] for r in rows if r["in_flight"]),
            "batches": int(await system.pool.fetchval("SELECT coalesce(sum(total_fen), 0) FROM payment_batches")),
        }
        assert money["instructed"] == money["settled"] + money["returned"] + money["in_flight"] == money["batches"], \
            f"money instructed ≠ settled + returned + in flight (or ≠ the batches' totals): {money}"
        return money

    return await assert_eventually(sound, timeout=timeout, interval=0.5)


def record_figures(figures: Figures) -> None:
    """Merge this run's figures into test-artifacts/faults.json (one entry per fault)."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    doc = json.loads(FIGURES.read_text(encoding="utf-8")) if FIGURES.exists() else {}
    doc[figures.fault] = {**asdict(figures), "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    FIGURES.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
